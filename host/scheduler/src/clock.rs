//! The wall clock: the one place the scheduler reads it. Real mode's
//! pacing measures ticks on a [`WallClock`], and a service's wait between
//! ticks is bounded on it; tests give a fake one.

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
