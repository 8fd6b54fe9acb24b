//! [`Doist`]: the root scheduler. It owns tyme and runs the tree, one tick
//! at a time.

use std::collections::BTreeSet;
use std::io;

use crate::core::{Core, Escalated, Logger};
use crate::doer::TreeError;
use crate::edit::check_spec;
use crate::real::{Pacer, SystemClock, WallClock};
use crate::spec::Spec;
use crate::supervision::Supervision;
use crate::trace::{Event, Record, TraceSink};
use crate::tree::{DoerId, State};
use crate::tyme::{DEFAULT_TOCK, Tymth};

/// The root of a doer tree: a queue of deeds walked once per tick.
///
/// [`run`](Self::run) is a loop over [`step`](Self::step): enter the tree if
/// needed, run one tick ([`recur`](Self::recur)), then stop when no deed is
/// left (done) or the limit is reached (not done). On stop the remaining
/// deeds are closed from the back of the queue to the front.
///
/// ```
/// use hio::{Doist, Recorder, TraceBuffer};
/// let trace = TraceBuffer::new();
/// let mut doist = Doist::new(1.0 / 32.0).limit(0.125).trace(trace.clone());
/// doist.add(Recorder::spec("d0", 1.0 / 32.0, 3));
/// doist.add(Recorder::spec("d1", 1.0 / 16.0, 3));
/// doist.run().unwrap();
/// assert_eq!(doist.tyme(), 0.125);
/// assert!(!doist.done());
/// let last = trace.records().pop().unwrap();
/// assert_eq!(last.to_json(), r#"{"tyme":0.125,"doer":"","event":"done","done":false}"#);
/// ```
pub struct Doist {
    core: Core,
    specs: Vec<Spec>,
    names: BTreeSet<String>,
    limit: Option<f64>,
    real: bool,
    done: bool,
    clock: Box<dyn WallClock>,
    pacer: Option<Pacer>,
}

impl Doist {
    /// A Doist with this tock, no limit, simulated time, trace off.
    pub fn new(tock: f64) -> Doist {
        Doist {
            core: Core::new(tock, Supervision::default()),
            specs: Vec::new(),
            names: BTreeSet::new(),
            limit: None,
            real: false,
            done: false,
            clock: Box::new(SystemClock::default()),
            pacer: None,
        }
    }

    /// Stops the run once tyme reaches `limit` (checked after each tick).
    pub fn limit(mut self, limit: f64) -> Doist {
        self.limit = Some(limit);
        self
    }

    /// Sets or clears the limit.
    pub fn set_limit(&mut self, limit: Option<f64>) {
        self.limit = limit;
    }

    /// In real mode each tick lasts one tock of wall time.
    pub fn real(mut self, real: bool) -> Doist {
        self.real = real;
        self
    }

    /// Paces real mode against this clock instead of the system's.
    pub fn clock(mut self, clock: Box<dyn WallClock>) -> Doist {
        self.clock = clock;
        self
    }

    /// Sends the lifecycle trace to `sink`.
    pub fn trace(mut self, sink: impl TraceSink + 'static) -> Doist {
        self.core.trace = Some(Box::new(sink));
        self
    }

    /// Sends log lines to `logger` instead of stderr.
    pub fn logger(mut self, logger: Logger) -> Doist {
        self.core.logger = logger;
        self
    }

    /// The policy for top-level doers' failures.
    pub fn supervision(mut self, supervision: Supervision) -> Doist {
        if let Some(g) = self
            .core
            .node_mut(self.core.root)
            .and_then(|n| n.group_mut())
        {
            g.supervision = supervision;
        }
        self
    }

    /// Walks every deed each tick, as hio does, instead of using the index
    /// on due time. Same trace, more work; kept to check the index against.
    pub fn plain_walk(mut self, plain: bool) -> Doist {
        self.core.plain = plain;
        self
    }

    /// Adds a top-level doer to the tree that [`enter`](Self::enter) builds;
    /// every later run enters it again. During a run it is also entered at
    /// once. Names are checked here, before anything runs.
    pub fn add(&mut self, spec: impl Into<Spec>) -> Result<(), TreeError> {
        let spec = spec.into();
        check_spec(&spec)?;
        if self.names.contains(&spec.name) {
            return Err(TreeError::Duplicate {
                parent: String::new(),
                name: spec.name,
            });
        }
        if self.core.entered {
            self.core.extend(self.core.root, vec![spec.clone()], true)?;
        }
        self.names.insert(spec.name.clone());
        self.specs.push(spec);
        // An escalation surfaces from the next step.
        Ok(())
    }

    /// Adds doers to DoDoer `group` (or the root) of the running tree and
    /// enters them at once. Not remembered for later runs. A failure that
    /// escalates to the root while entering them ends the run at the next
    /// [`recur`](Self::recur).
    pub fn extend(&mut self, group: DoerId, specs: Vec<Spec>) -> Result<Vec<DoerId>, TreeError> {
        self.core.extend(group, specs, true)
    }

    /// Closes doers of the running tree (`cease`, `exit`), back first.
    pub fn remove(&mut self, ids: &[DoerId]) {
        self.core.remove(ids);
    }

    /// Enters the whole tree, depth-first in order, at the current tyme.
    pub fn enter(&mut self) -> Result<(), Escalated> {
        if self.core.entered {
            return Ok(());
        }
        self.done = false;
        let root = self.core.root;
        for spec in &self.specs {
            self.core.insert(root, spec, None);
        }
        self.core.entered = true;
        for id in self.core.queue(root).map(|q| q.ids()).unwrap_or_default() {
            if self.core.escalated.is_some() {
                break;
            }
            self.core.enter_node(id);
        }
        self.pacer = self.real.then(|| Pacer::start(self.clock.as_ref()));
        self.settle()
    }

    /// One tick: walks the root queue once, then advances tyme by one tock.
    /// Enters the tree first if needed. No stop checks.
    pub fn recur(&mut self) -> Result<(), Escalated> {
        self.enter()?;
        self.settle()?;
        self.core.doom_pending = false;
        self.core.walk(self.core.root);
        // A failure that reached the root ends the run at its own tyme.
        self.settle()?;
        self.core.tymist.tick();
        Ok(())
    }

    /// One tick with real-mode pacing and the stop checks. `Ok(true)` means
    /// the run has ended and the tree is closed.
    pub fn step(&mut self) -> Result<bool, Escalated> {
        self.recur()?;
        if let Some(pacer) = self.pacer.as_mut() {
            pacer.wait(self.clock.as_ref(), self.core.tymist.tock());
        }
        if self.is_empty() {
            self.close();
            return Ok(true);
        }
        if self.limit.is_some_and(|limit| self.tyme() >= limit) {
            self.close();
            return Ok(true);
        }
        Ok(false)
    }

    /// Runs until no deed is left or the limit is reached.
    pub fn run(&mut self) -> Result<(), Escalated> {
        while !self.step()? {}
        Ok(())
    }

    /// Ends the run: closes the remaining deeds from the back of the queue to
    /// the front and writes the final `done` record. Done is true when no
    /// deed was left.
    pub fn close(&mut self) {
        self.done = self.is_empty();
        let root = self.core.root;
        for id in self
            .core
            .queue(root)
            .map(|q| q.ids())
            .unwrap_or_default()
            .into_iter()
            .rev()
        {
            self.core.close(id);
        }
        if let Some(root) = self.core.node_mut(root) {
            root.doom = None;
        }
        if let Some(sink) = self.core.trace.as_mut() {
            sink.record(&Record {
                tyme: self.core.tymist.tyme(),
                doer: "",
                event: Event::Done,
                reason: None,
                ran: true,
                attempt: None,
                done: Some(self.done),
            });
        }
        self.core.entered = false;
        self.pacer = None;
    }

    /// After an operation: a failure that escalated to the root ends the run.
    fn settle(&mut self) -> Result<(), Escalated> {
        match self.core.escalated.take() {
            Some(e) => {
                self.close();
                self.done = false;
                Err(e)
            }
            None => Ok(()),
        }
    }

    /// Flushes the trace sink.
    pub fn flush_trace(&mut self) -> io::Result<()> {
        self.core.trace.as_mut().map_or(Ok(()), |t| t.flush())
    }

    /// Whether the last run ended with no deed left.
    pub fn done(&self) -> bool {
        self.done
    }

    /// The current tyme.
    pub fn tyme(&self) -> f64 {
        self.core.tyme()
    }

    /// Rewinds or sets the tyme (between runs).
    pub fn set_tyme(&mut self, tyme: f64) {
        self.core.tymist.set_tyme(tyme);
    }

    /// A read-only handle on the tyme.
    pub fn tymth(&self) -> Tymth {
        self.core.tymist.tymth()
    }

    /// The Doist's tock.
    pub fn tock(&self) -> f64 {
        self.core.tymist.tock()
    }

    /// Changes the Doist's tock.
    pub fn set_tock(&mut self, tock: f64) {
        self.core.tymist.set_tock(tock);
    }

    /// The root queue's id (to extend the top level).
    pub fn root(&self) -> DoerId {
        self.core.root
    }

    /// Finds a live doer by path.
    pub fn find(&self, path: &str) -> Option<DoerId> {
        self.core.find(path)
    }

    /// Whether no deed is left at the top level.
    pub fn is_empty(&self) -> bool {
        self.core.queue(self.core.root).is_none_or(|q| q.is_empty())
    }

    /// The deeds of `group` in queue order: path and due time.
    pub fn deeds(&self, group: DoerId) -> Vec<(String, f64)> {
        let ids = self.core.queue(group).map(|q| q.ids()).unwrap_or_default();
        ids.into_iter()
            .filter_map(|id| self.core.node(id))
            .map(|n| (n.path.to_string(), n.retyme))
            .collect()
    }

    /// Whether doer `id` is in the tree and entered.
    pub fn is_live(&self, id: DoerId) -> bool {
        self.core.node(id).is_some_and(|n| n.state == State::Live)
    }
}

impl Default for Doist {
    fn default() -> Self {
        Doist::new(DEFAULT_TOCK)
    }
}
