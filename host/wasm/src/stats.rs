//! Per-doer statistics of plugin calls, for `--stats` and the harness.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
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

/// The part of a run's figures that crosses threads: a crew's doers keep
/// their own, and hand them over when the crew closes.
#[derive(Debug, Clone, Default)]
pub struct StatsSeed(Arc<Mutex<BTreeMap<String, DoerStats>>>);

impl StatsSeed {
    /// A handle for a crew's doers, on the crew's thread: its figures join
    /// the run's at [`StatsHandle::hand_over`].
    pub fn handle(&self) -> StatsHandle {
        StatsHandle(Rc::default(), Arc::clone(&self.0))
    }
}

/// Shared statistics of a run, by doer path.
#[derive(Debug, Clone, Default)]
pub struct StatsHandle(
    Rc<RefCell<BTreeMap<String, DoerStatsCell>>>,
    /// Figures crews handed over (from their threads) as they closed.
    Arc<Mutex<BTreeMap<String, DoerStats>>>,
);

impl DoerStats {
    /// Adds another instance's figures for the same doer (a crew's next
    /// incarnation).
    fn add(&mut self, o: &DoerStats) {
        self.calls += o.calls;
        self.guest_time += o.guest_time;
        self.failures += o.failures;
        self.fuel_used += o.fuel_used;
        self.peak_memory = self.peak_memory.max(o.peak_memory);
        self.restarts = self.restarts.max(o.restarts);
        self.instance.clone_from(&o.instance);
    }
}

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

    /// A copy of the figures, by path (crews' included).
    pub fn snapshot(&self) -> BTreeMap<String, DoerStats> {
        let mut all: BTreeMap<String, DoerStats> = self
            .0
            .borrow()
            .iter()
            .map(|(k, v)| (k.clone(), v.0.borrow().clone()))
            .collect();
        let crews = self.1.lock().unwrap_or_else(PoisonError::into_inner);
        for (path, s) in crews.iter() {
            all.entry(path.clone()).or_default().add(s);
        }
        all
    }

    /// What a crew's thread makes its own handle from (see
    /// [`StatsSeed::handle`]).
    pub fn seed(&self) -> StatsSeed {
        StatsSeed(Arc::clone(&self.1))
    }

    /// Hands this crew's figures so far to the run's (and starts afresh).
    pub fn hand_over(&self) {
        let mine = std::mem::take(&mut *self.0.borrow_mut());
        let mut crews = self.1.lock().unwrap_or_else(PoisonError::into_inner);
        for (path, cell) in mine {
            crews.entry(path).or_default().add(&cell.0.borrow());
        }
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
