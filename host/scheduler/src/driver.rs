//! [`Driver`]: one doer driven by hand, hook by hook, outside any schedule.
//!
//! This is how a doer is tested in isolation (hio drives a doer's generator
//! the same way): enter it, call recur whenever you like, tick the tyme, then
//! close or abort it. The trace is written exactly as under a Doist.

use crate::supervision::Supervision;
use crate::trace::TraceSink;
use crate::tree::arena::Phase;
use crate::tree::doer::TreeError;
use crate::tree::edit::check_spec;
use crate::tree::id::DoerId;
use crate::tree::spec::Spec;
use crate::tree::walk::Scheduler;

/// Why the driver refused a call.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DriveError {
    /// The doer has completed, been closed or failed.
    #[error("the doer is no longer running")]
    Refused,
    /// The doer failed in the hook; it has been aborted and exited.
    #[error("the doer failed")]
    Failed,
}

/// Drives one doer by hand in simulated time.
///
/// ```
/// use hio_scheduler::{Driver, Recorder, TraceBuffer};
/// let trace = TraceBuffer::new();
/// let mut d = Driver::new(0.125, Recorder::spec("t", 0.25, 3)).unwrap().trace(trace.clone());
/// d.enter().unwrap();
/// assert_eq!(d.recur(), Ok(false));
/// d.tick();
/// d.close();
/// assert!(d.recur().is_err());
/// let events: Vec<_> = trace.records().iter().map(|r| r.event.as_str()).collect();
/// assert_eq!(events, ["enter", "recur", "cease", "exit"]);
/// ```
pub struct Driver {
    sched: Scheduler,
    id: DoerId,
}

impl Driver {
    /// A driver for `spec` with a tymist of this tock.
    pub fn new(tock: f64, spec: Spec) -> Result<Driver, TreeError> {
        check_spec(&spec)?;
        let mut core = Scheduler::new(tock, Supervision::isolate());
        let id = core.insert(core.root, &spec, None);
        Ok(Driver { sched: core, id })
    }

    /// Sends the trace to `sink`.
    pub fn trace(mut self, sink: impl TraceSink + 'static) -> Driver {
        self.sched.trace = Some(Box::new(sink));
        self
    }

    /// Runs `enter`.
    pub fn enter(&mut self) -> Result<(), DriveError> {
        self.sched.entered = true;
        self.sched.enter_node(self.id);
        if self.live() {
            Ok(())
        } else {
            Err(DriveError::Failed)
        }
    }

    /// Runs `recur` now, due or not. `Ok(true)`: done (clean and exit ran).
    pub fn recur(&mut self) -> Result<bool, DriveError> {
        if !self.live() {
            return Err(DriveError::Refused);
        }
        let tyme = self.sched.tyme();
        let tock = self.sched.parent_tock(self.sched.root);
        let failures = self.sched.failures;
        self.sched.run_deed(self.id, tyme, tock);
        match self.sched.node(self.id) {
            _ if self.sched.failures > failures => Err(DriveError::Failed),
            Some(_) => Ok(false),
            None => Ok(true),
        }
    }

    /// Advances tyme by one tock.
    pub fn tick(&mut self) {
        self.sched.tymist.tick();
    }

    /// The current tyme.
    pub fn tyme(&self) -> f64 {
        self.sched.tyme()
    }

    /// Closes the doer: `cease`, `exit`.
    pub fn close(&mut self) {
        self.sched.close(self.id);
    }

    /// Fails the doer from outside: `abort` with `reason`, `exit`.
    pub fn abort(&mut self, reason: &str) {
        if self.live() {
            self.sched.fail(self.id, reason.to_owned());
        }
    }

    /// Whether the doer is entered and still running.
    pub fn live(&self) -> bool {
        self.sched
            .node(self.id)
            .is_some_and(|n| n.state == Phase::Live)
    }
}
