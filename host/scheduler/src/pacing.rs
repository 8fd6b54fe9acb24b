//! Real mode's pacing: the [`Pacer`] makes each tick last one tock of wall
//! time, measured on a [`WallClock`] and waited through the [`Services`]. It
//! is lossless: deadlines advance by exactly one tock per tick from the
//! run's start, so after an overrun the next ticks do not sleep until the
//! run has caught up.

use std::time::Duration;

use crate::clock::WallClock;
use crate::services::{Services, WaitEnd};

/// Lossless tick pacing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pacer {
    start: Duration,
    deadline: Duration,
    /// The last wait ended early: the grid deadline it was waiting for
    /// still stands.
    early: bool,
}

impl Pacer {
    /// Starts pacing now.
    pub fn start(clock: &dyn WallClock) -> Pacer {
        let now = clock.now();
        Pacer {
            start: now,
            deadline: now,
            early: false,
        }
    }

    /// Waits until one more tock has passed since the previous deadline,
    /// through `services`. With `wake_io` a wait the services end early
    /// returns at once; the result says whether it did.
    pub fn wait(
        &mut self,
        clock: &dyn WallClock,
        tock: f64,
        services: &mut dyn Services,
        wake_io: bool,
    ) -> bool {
        if !self.early {
            self.deadline += Duration::try_from_secs_f64(tock).unwrap_or(Duration::ZERO);
        }
        loop {
            let now = clock.now();
            if now >= self.deadline {
                self.early = false;
                return false;
            }
            match services.wait(clock, self.deadline - now) {
                WaitEnd::Ready if wake_io => {
                    self.early = true;
                    return true;
                }
                // Work arrived but ticks keep to the grid: wait on.
                WaitEnd::Ready => {}
                WaitEnd::Elapsed => {
                    self.early = false;
                    return false;
                }
            }
        }
    }

    /// Wall time since pacing started, in seconds.
    pub fn elapsed(&self, clock: &dyn WallClock) -> f64 {
        clock.now().saturating_sub(self.start).as_secs_f64()
    }
}

/// The services of a Doist that has none: waits sleep on the clock.
pub(crate) struct Sleep;

impl Services for Sleep {}
