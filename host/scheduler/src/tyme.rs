//! Simulated time: the [`Tymist`] that owns `tyme`, the read-only [`Tymth`]
//! handle doers keep, and the [`Tymer`] that measures durations in tyme.
//!
//! `tyme` is f64 seconds starting at 0.0. It advances only when the tymist
//! ticks, by its `tock`; nothing here reads the wall clock.

use std::cell::Cell;
use std::rc::Rc;

/// The default tock of a [`Tymist`] and of a [`Doist`](crate::Doist): 1/32 s.
pub const DEFAULT_TOCK: f64 = 0.03125;

/// Owner of simulated time.
///
/// ```
/// use hio_scheduler::Tymist;
/// let mut tymist = Tymist::new(0.25);
/// tymist.tick();
/// tymist.tick();
/// assert_eq!(tymist.tyme(), 0.5);
/// ```
#[derive(Debug)]
pub struct Tymist {
    tyme: Rc<Cell<f64>>,
    tock: f64,
}

impl Tymist {
    /// A tymist at tyme 0.0 that advances by `tock` on each [`tick`](Self::tick).
    pub fn new(tock: f64) -> Self {
        Tymist {
            tyme: Rc::new(Cell::new(0.0)),
            tock,
        }
    }

    /// The current tyme.
    pub fn tyme(&self) -> f64 {
        self.tyme.get()
    }

    /// Sets the tyme (used to rewind for a fresh run, as hio allows).
    pub fn set_tyme(&mut self, tyme: f64) {
        self.tyme.set(tyme);
    }

    /// The amount one tick adds.
    pub fn tock(&self) -> f64 {
        self.tock
    }

    /// Changes the amount one tick adds.
    pub fn set_tock(&mut self, tock: f64) {
        self.tock = tock;
    }

    /// Advances tyme by one tock.
    pub fn tick(&mut self) {
        self.tyme.set(self.tyme.get() + self.tock);
    }

    /// A read-only handle on this tymist's tyme (hio's `tymth`).
    pub fn tymth(&self) -> Tymth {
        Tymth(Rc::clone(&self.tyme))
    }
}

impl Default for Tymist {
    fn default() -> Self {
        Tymist::new(DEFAULT_TOCK)
    }
}

/// A read-only view of a tymist's tyme, cheap to clone.
#[derive(Debug, Clone)]
pub struct Tymth(Rc<Cell<f64>>);

impl Tymth {
    /// The tymist's current tyme.
    pub fn tyme(&self) -> f64 {
        self.0.get()
    }
}

/// A timer in tyme: it expires once `duration` has passed since its start.
///
/// `restart` is lossless, as hio's: the new period starts where the old one
/// ended, not at the current tyme, so a late check does not drift the cadence.
///
/// ```
/// use hio_scheduler::{Tymer, Tymist};
/// let mut tymist = Tymist::new(0.5);
/// let mut tymer = Tymer::new(tymist.tymth(), 1.0);
/// tymist.tick();
/// assert!(!tymer.expired());
/// assert_eq!(tymer.remaining(), 0.5);
/// tymist.tick();
/// tymist.tick();
/// assert!(tymer.expired());
/// tymer.restart();
/// assert_eq!(tymer.elapsed(), 0.5);
/// ```
#[derive(Debug, Clone)]
pub struct Tymer {
    tymth: Tymth,
    duration: f64,
    start: f64,
}

impl Tymer {
    /// A timer of `duration` starting at the current tyme.
    pub fn new(tymth: Tymth, duration: f64) -> Self {
        let start = tymth.tyme();
        Tymer {
            tymth,
            duration,
            start,
        }
    }

    /// The tyme the timer reads.
    pub fn tyme(&self) -> f64 {
        self.tymth.tyme()
    }

    /// The length of one period.
    pub fn duration(&self) -> f64 {
        self.duration
    }

    /// The tyme the current period started.
    pub fn start_tyme(&self) -> f64 {
        self.start
    }

    /// Tyme passed since the period started.
    pub fn elapsed(&self) -> f64 {
        self.tyme() - self.start
    }

    /// Tyme left until expiry (negative once expired).
    pub fn remaining(&self) -> f64 {
        self.start + self.duration - self.tyme()
    }

    /// Whether the period has passed.
    pub fn expired(&self) -> bool {
        self.tyme() >= self.start + self.duration
    }

    /// Starts a new period of `duration` at the current tyme.
    pub fn start(&mut self, duration: f64) {
        self.duration = duration;
        self.start = self.tyme();
    }

    /// Starts the next period where the current one ends (lossless).
    pub fn restart(&mut self) {
        self.start += self.duration;
    }
}
