//! Supervision: what a DoDoer does when one of its children fails.

use std::collections::VecDeque;

/// The policy a DoDoer (or the Doist, for its top-level doers) applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// Drop the failed doer; its siblings go on.
    #[default]
    Isolate,
    /// Enter a fresh instance after a back-off, a bounded number of times.
    Restart,
    /// Fail the parent in turn.
    Escalate,
}

/// A policy with its restart bounds.
///
/// ```
/// use hio_scheduler::{Policy, Supervision};
/// let s = Supervision::restart().max_restarts(2).backoff(0.125);
/// assert_eq!(s.policy, Policy::Restart);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Supervision {
    /// What to do with a failed child.
    pub policy: Policy,
    /// Restarts allowed within `window` before the failure escalates (default 3).
    pub max_restarts: u32,
    /// First back-off in tyme; `None` means the parent's tock (the Doist's
    /// tock when that is 0).
    pub backoff: Option<f64>,
    /// Cap on the doubling back-off; `None` means no cap.
    pub max_backoff: Option<f64>,
    /// Tyme over which restarts are counted; `None` means the whole run.
    pub window: Option<f64>,
}

impl Default for Supervision {
    fn default() -> Self {
        Supervision {
            policy: Policy::Isolate,
            max_restarts: 3,
            backoff: None,
            max_backoff: None,
            window: None,
        }
    }
}

impl Supervision {
    /// `isolate`: drop the failed doer.
    pub fn isolate() -> Self {
        Supervision::default()
    }

    /// `restart` with the default bounds.
    pub fn restart() -> Self {
        Supervision {
            policy: Policy::Restart,
            ..Supervision::default()
        }
    }

    /// `escalate`: the parent fails in turn.
    pub fn escalate() -> Self {
        Supervision {
            policy: Policy::Escalate,
            ..Supervision::default()
        }
    }

    /// Sets the restart bound.
    pub fn max_restarts(mut self, n: u32) -> Self {
        self.max_restarts = n;
        self
    }

    /// Sets the first back-off.
    pub fn backoff(mut self, tyme: f64) -> Self {
        self.backoff = Some(tyme);
        self
    }

    /// Caps the back-off.
    pub fn max_backoff(mut self, tyme: f64) -> Self {
        self.max_backoff = Some(tyme);
        self
    }

    /// Sets the counting window.
    pub fn window(mut self, tyme: f64) -> Self {
        self.window = Some(tyme);
        self
    }

    /// The back-off before the next restart, or `None` when the bound is
    /// reached (the failure escalates). `restarts` holds the tymes of earlier
    /// restarts and is updated.
    pub(crate) fn next_restart(
        &self,
        restarts: &mut VecDeque<f64>,
        tyme: f64,
        default_backoff: f64,
    ) -> Option<f64> {
        if let Some(window) = self.window {
            while restarts.front().is_some_and(|&t| t < tyme - window) {
                restarts.pop_front();
            }
        }
        let n = restarts.len();
        if n >= self.max_restarts as usize {
            return None;
        }
        let first = self.backoff.unwrap_or(default_backoff);
        let exp = i32::try_from(n).unwrap_or(i32::MAX);
        let mut backoff = first * 2f64.powi(exp);
        if let Some(cap) = self.max_backoff {
            backoff = backoff.min(cap);
        }
        restarts.push_back(tyme);
        Some(backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_then_escalates() {
        let s = Supervision::restart()
            .backoff(0.25)
            .max_backoff(0.75)
            .max_restarts(3);
        let mut log = VecDeque::new();
        assert_eq!(s.next_restart(&mut log, 1.0, 9.0), Some(0.25));
        assert_eq!(s.next_restart(&mut log, 2.0, 9.0), Some(0.5));
        assert_eq!(s.next_restart(&mut log, 3.0, 9.0), Some(0.75));
        assert_eq!(s.next_restart(&mut log, 4.0, 9.0), None);
    }

    #[test]
    fn window_forgets_old_restarts() {
        let s = Supervision::restart().max_restarts(1).window(2.0);
        let mut log = VecDeque::new();
        assert_eq!(s.next_restart(&mut log, 1.0, 0.5), Some(0.5));
        assert_eq!(s.next_restart(&mut log, 2.0, 0.5), None);
        assert_eq!(s.next_restart(&mut log, 3.5, 0.5), Some(0.5));
    }
}
