//! Per-doer statistics of plugin calls, for `--stats` and the harness.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

/// Figures for one doer path.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DoerStats {
    /// Hook calls into the guest.
    pub calls: u64,
    /// Wall time spent in the guest.
    pub guest_time: Duration,
    /// Failures (hook errors and traps).
    pub failures: u64,
    /// Fuel burnt in all hook calls.
    pub fuel_used: u64,
    /// Largest linear memory any instance reached, in bytes.
    pub peak_memory: u64,
    /// Restarts (fresh instances after a failure).
    pub restarts: u32,
}

/// Shared statistics of a run, by doer path.
#[derive(Debug, Clone, Default)]
pub struct StatsHandle(Rc<RefCell<BTreeMap<String, DoerStats>>>);

impl StatsHandle {
    pub(crate) fn record_call(&self, path: &str, time: Duration, fuel: u64, memory: u64) {
        let mut map = self.0.borrow_mut();
        let s = map.entry(path.to_owned()).or_default();
        s.calls += 1;
        s.guest_time += time;
        s.fuel_used += fuel;
        s.peak_memory = s.peak_memory.max(memory);
    }

    pub(crate) fn record_instance(&self, path: &str, attempt: u32) {
        let mut map = self.0.borrow_mut();
        let s = map.entry(path.to_owned()).or_default();
        s.restarts = s.restarts.max(attempt);
    }

    /// Counts a failure of `path`.
    pub fn record_failure(&self, path: &str) {
        self.0
            .borrow_mut()
            .entry(path.to_owned())
            .or_default()
            .failures += 1;
    }

    /// A copy of the figures, by path.
    pub fn snapshot(&self) -> BTreeMap<String, DoerStats> {
        self.0.borrow().clone()
    }

    /// The figures as a table, one doer a line.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<32} {:>10} {:>14} {:>9}\n",
            "doer", "calls", "guest time", "failures"
        );
        for (path, s) in self.0.borrow().iter() {
            out.push_str(&format!(
                "{:<32} {:>10} {:>14} {:>9}\n",
                path,
                s.calls,
                format!("{:.3?}", s.guest_time),
                s.failures
            ));
        }
        out
    }
}
