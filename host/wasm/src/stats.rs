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
    /// The instance its latest attempt lives in: `own`, or its share
    /// group's name and the group's instance count (`g#0`, then `g#1`
    /// after a trap).
    pub instance: String,
}

/// One doer's figures, shared by its instances and the run's table, so a
/// call records without a lookup.
#[derive(Debug, Clone, Default)]
pub(crate) struct DoerStatsCell(Rc<RefCell<DoerStats>>);

impl DoerStatsCell {
    pub(crate) fn record_call(&self, time: Duration, fuel: u64, memory: u64) {
        let mut s = self.0.borrow_mut();
        s.calls += 1;
        s.guest_time += time;
        s.fuel_used += fuel;
        s.peak_memory = s.peak_memory.max(memory);
    }

    pub(crate) fn record_failure(&self) {
        self.0.borrow_mut().failures += 1;
    }
}

/// Shared statistics of a run, by doer path.
#[derive(Debug, Clone, Default)]
pub struct StatsHandle(Rc<RefCell<BTreeMap<String, DoerStatsCell>>>);

impl StatsHandle {
    /// The cell of `path`, living in `instance`; a restart (`attempt` > 0)
    /// is counted.
    pub(crate) fn cell(&self, path: &str, attempt: u32, instance: &str) -> DoerStatsCell {
        let cell = self
            .0
            .borrow_mut()
            .entry(path.to_owned())
            .or_default()
            .clone();
        let mut s = cell.0.borrow_mut();
        s.restarts = s.restarts.max(attempt);
        instance.clone_into(&mut s.instance);
        drop(s);
        cell
    }

    /// A copy of the figures, by path.
    pub fn snapshot(&self) -> BTreeMap<String, DoerStats> {
        self.0
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.0.borrow().clone()))
            .collect()
    }

    /// The figures as a table, one doer a line.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{:<32} {:>9} {:>12} {:>14} {:>11} {:>8} {:>8}  {}\n",
            "doer",
            "calls",
            "guest time",
            "fuel used",
            "peak mem",
            "restarts",
            "failures",
            "instance"
        );
        for (path, s) in self.snapshot() {
            out.push_str(&format!(
                "{:<32} {:>9} {:>12} {:>14} {:>11} {:>8} {:>8}  {}\n",
                path,
                s.calls,
                format!("{:.3?}", s.guest_time),
                s.fuel_used,
                format!("{} KiB", s.peak_memory / 1024),
                s.restarts,
                s.failures,
                s.instance
            ));
        }
        out
    }
}
