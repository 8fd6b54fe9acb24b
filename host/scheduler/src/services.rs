//! The seam between ticks: host services the Doist runs at fixed points of
//! every tick, and the wait between ticks that they may end early.
//!
//! Each tick of [`Doist::step`](crate::Doist::step) goes:
//!
//! 1. [`Services::before`] with the tick's [`Tick`] (its tyme, and whether a
//!    service ended the previous wait early): accept, connect, receive into
//!    buffers, so what a doer sees in tick N is what arrived before tick N;
//! 2. the doers' turn (the walk of the root queue);
//! 3. [`Services::after`]: flush what the doers wrote;
//! 4. the wait until the next tick, through [`Services::wait`]. In real mode
//!    it lasts until the next tock of wall time and a service may spend it
//!    blocked in a poll; in simulated time it is a zero-length call that must
//!    not block.
//!
//! With [`Wake::Io`] a wait that a service ends early ([`WaitEnd::Ready`])
//! starts the next tick at once; with [`Wake::Grid`] the Doist keeps waiting
//! for the tock. Either way the tick's start goes to `before`, which is how
//! a recorder keeps the run's tick times; [`Services::end`] gives the tyme
//! the run ends at, and [`Doist::replay`](crate::Doist::replay) feeds them
//! all back.
//!
//! ```
//! use std::time::Duration;
//! use hio_scheduler::{Doist, Recorder, Services, Tick, WaitEnd, WallClock};
//!
//! /// Counts what the Doist asked of it.
//! #[derive(Default)]
//! struct Count { before: u32, after: u32, waits: u32 }
//! impl Services for Count {
//!     fn before(&mut self, _tick: Tick) { self.before += 1 }
//!     fn after(&mut self, _tyme: f64) { self.after += 1 }
//!     fn wait(&mut self, _clock: &dyn WallClock, _timeout: Duration) -> WaitEnd {
//!         self.waits += 1;
//!         WaitEnd::Elapsed
//!     }
//! }
//! let mut doist = Doist::new(0.25).limit(1.0).services(Count::default());
//! doist.add(Recorder::spec("r", 0.0, 10)).unwrap();
//! doist.run().unwrap();
//! let count: &Count = doist.services_ref().unwrap();
//! assert_eq!((count.before, count.after, count.waits), (4, 4, 4));
//! ```

use std::any::Any;
use std::time::Duration;

use crate::clock::WallClock;

/// When the next tick may start in real mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Wake {
    /// One tick per tock of wall time; I/O that arrives meanwhile waits for
    /// the next tock (hio's real mode).
    #[default]
    Grid,
    /// As `Grid`, and a service that has I/O ready starts the next tick at
    /// once. Each tick's tyme is then the wall time since the run started
    /// (at least 1 ns past the previous tick's), and a deed with tock 0 is due
    /// again at the next tick, whenever it comes.
    Io,
}

impl Wake {
    /// The manifest's word for it: `grid` or `io`.
    pub fn as_str(self) -> &'static str {
        match self {
            Wake::Grid => "grid",
            Wake::Io => "io",
        }
    }
}

/// How one tick began: what [`Services::before`] sees, and what a replay
/// feeds back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tick {
    /// The tick's tyme.
    pub tyme: f64,
    /// Whether a service ended the wait before it early (`Wake::Io` only).
    pub early: bool,
}

/// How a [`Services::wait`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitEnd {
    /// The timeout passed (or the call did not block).
    Elapsed,
    /// A service has work ready (I/O arrived) before the timeout.
    Ready,
}

/// Host services run at fixed points of every tick. Every method has a
/// default that does nothing (or, for `wait`, sleeps on the clock).
pub trait Services: Any {
    /// Before the doers' turn, at the tick's tyme.
    fn before(&mut self, tick: Tick) {
        let _ = tick;
    }

    /// After the doers' turn, at the same tyme.
    fn after(&mut self, tyme: f64) {
        let _ = tyme;
    }

    /// When the run ends, after the remaining doers are closed: `last` is the
    /// tyme the run ends at (the end of the last wait) and whether that wait
    /// ended early. A recorder keeps it after the ticks: a replay needs it to
    /// end at the same tyme.
    fn end(&mut self, last: Tick) {
        let _ = last;
    }

    /// The wait between ticks: block at most `timeout`, measured on `clock`
    /// (a zero timeout, as in simulated time, must not block). Return
    /// [`WaitEnd::Ready`] when work arrived before the timeout.
    fn wait(&mut self, clock: &dyn WallClock, timeout: Duration) -> WaitEnd {
        if !timeout.is_zero() {
            clock.sleep(timeout);
        }
        WaitEnd::Elapsed
    }
}
