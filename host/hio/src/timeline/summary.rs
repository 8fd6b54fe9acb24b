//! `hio trace --stats`: a trace summed up per doer, a line at a time.

use std::collections::HashMap;

use hio_scheduler::trace::{Event, OwnedLine};

/// What one doer did over a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DoerSummary {
    /// The doer's path.
    pub doer: String,
    /// Its `recur` calls.
    pub recurs: u64,
    /// Its failures (`abort` records).
    pub failures: u64,
    /// Its restarts (the highest attempt number).
    pub restarts: u32,
    /// Tyme of its first and last record.
    pub first: f64,
    /// Tyme of its last record.
    pub last: f64,
    /// How its last attempt ended: `clean`, `cease`, `abort`, or `running`
    /// when the trace has no `exit` for it.
    pub ended: &'static str,
}

/// [`summary`] added up a record at a time.
#[derive(Debug, Default)]
pub struct Summary {
    /// A row per doer, in the order doers first appear.
    rows: Vec<Row>,
    /// Each doer's row.
    index: HashMap<Box<str>, usize>,
}

/// A [`DoerSummary`] without its path; `ended` is `Enter` while running.
#[derive(Debug, Clone, Copy)]
struct Row {
    recurs: u64,
    failures: u64,
    first: f64,
    last: f64,
    restarts: u32,
    ended: Event,
}

impl Summary {
    /// Nothing summed yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts the next record.
    pub fn record(&mut self, r: &OwnedLine) {
        if r.event == Event::Done {
            return;
        }
        let i = match self.index.get(r.doer.as_str()) {
            Some(&i) => i,
            None => {
                self.rows.push(Row {
                    recurs: 0,
                    failures: 0,
                    first: r.tyme,
                    last: r.tyme,
                    restarts: 0,
                    ended: Event::Enter,
                });
                self.index
                    .insert(r.doer.as_str().into(), self.rows.len() - 1);
                self.rows.len() - 1
            }
        };
        let s = &mut self.rows[i];
        s.last = r.tyme;
        s.restarts = s.restarts.max(r.attempt.unwrap_or(0));
        match r.event {
            Event::Recur => s.recurs += 1,
            Event::Abort => {
                s.failures += 1;
                s.ended = Event::Abort;
            }
            Event::Enter | Event::Clean | Event::Cease => s.ended = r.event,
            Event::Exit | Event::Done => {}
        }
    }

    /// A row per doer, in the order doers first appear.
    pub fn finish(self) -> impl Iterator<Item = DoerSummary> {
        let mut paths: Vec<Box<str>> = vec![Box::default(); self.rows.len()];
        for (doer, i) in self.index {
            paths[i] = doer;
        }
        self.rows
            .into_iter()
            .zip(paths)
            .map(|(r, doer)| DoerSummary {
                doer: doer.into(),
                recurs: r.recurs,
                failures: r.failures,
                restarts: r.restarts,
                first: r.first,
                last: r.last,
                ended: match r.ended {
                    Event::Abort => "abort",
                    Event::Clean => "clean",
                    Event::Cease => "cease",
                    _ => "running",
                },
            })
    }
}

/// A summary per doer, in the order doers first appear.
pub fn summary(records: &[OwnedLine]) -> Vec<DoerSummary> {
    let mut s = Summary::new();
    for r in records {
        s.record(r);
    }
    s.finish().collect()
}
