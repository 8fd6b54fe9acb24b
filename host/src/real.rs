//! Real mode: the one place the scheduler reads the wall clock.
//!
//! The [`Pacer`] makes each tick last one tock of wall time. It is lossless:
//! deadlines advance by exactly one tock per tick from the run's start, so
//! after an overrun the next ticks do not sleep until the run has caught up.

use std::time::{Duration, Instant};

/// A wall clock the Doist can pace itself against (tests give a fake one).
pub trait WallClock {
    /// Time since an arbitrary fixed start.
    fn now(&self) -> Duration;
    /// Blocks for `d`.
    fn sleep(&self, d: Duration);
}

/// The operating system's monotonic clock.
#[derive(Debug, Clone, Copy)]
pub struct SystemClock {
    start: Instant,
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock {
            start: Instant::now(),
        }
    }
}

impl WallClock for SystemClock {
    fn now(&self) -> Duration {
        self.start.elapsed()
    }

    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// Lossless tick pacing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pacer {
    deadline: Duration,
}

impl Pacer {
    /// Starts pacing now.
    pub fn start(clock: &dyn WallClock) -> Pacer {
        Pacer {
            deadline: clock.now(),
        }
    }

    /// Waits until one more tock has passed since the previous deadline.
    pub fn wait(&mut self, clock: &dyn WallClock, tock: f64) {
        self.deadline += Duration::try_from_secs_f64(tock).unwrap_or(Duration::ZERO);
        let now = clock.now();
        if now < self.deadline {
            clock.sleep(self.deadline - now);
        }
    }
}
