//! [`Driver`]: one doer driven by hand, hook by hook, outside any schedule.
//!
//! This is how a doer is tested in isolation (hio drives a doer's generator
//! the same way): enter it, call recur whenever you like, tick the tyme, then
//! close or abort it. The trace is written exactly as under a Doist.

use crate::core::Core;
use crate::doer::TreeError;
use crate::edit::check_spec;
use crate::spec::Spec;
use crate::supervision::Supervision;
use crate::trace::TraceSink;
use crate::tree::{DoerId, State};

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
/// use hio::{Driver, Recorder, TraceBuffer};
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
    core: Core,
    id: DoerId,
}

impl Driver {
    /// A driver for `spec` with a tymist of this tock.
    pub fn new(tock: f64, spec: Spec) -> Result<Driver, TreeError> {
        check_spec(&spec)?;
        let mut core = Core::new(tock, Supervision::isolate());
        let id = core.insert(core.root, &spec, None);
        Ok(Driver { core, id })
    }

    /// Sends the trace to `sink`.
    pub fn trace(mut self, sink: impl TraceSink + 'static) -> Driver {
        self.core.trace = Some(Box::new(sink));
        self
    }

    /// Runs `enter`.
    pub fn enter(&mut self) -> Result<(), DriveError> {
        self.core.entered = true;
        self.core.enter_node(self.id);
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
        let tyme = self.core.tyme();
        let tock = self.core.parent_tock(self.core.root);
        let failures = self.core.failures;
        self.core.run_deed(self.id, tyme, tock);
        match self.core.node(self.id) {
            _ if self.core.failures > failures => Err(DriveError::Failed),
            Some(_) => Ok(false),
            None => Ok(true),
        }
    }

    /// Advances tyme by one tock.
    pub fn tick(&mut self) {
        self.core.tymist.tick();
    }

    /// The current tyme.
    pub fn tyme(&self) -> f64 {
        self.core.tyme()
    }

    /// Closes the doer: `cease`, `exit`.
    pub fn close(&mut self) {
        self.core.close(self.id);
    }

    /// Fails the doer from outside: `abort` with `reason`, `exit`.
    pub fn abort(&mut self, reason: &str) {
        if self.live() {
            self.core.fail(self.id, reason.to_owned());
        }
    }

    /// Whether the doer is entered and still running.
    pub fn live(&self) -> bool {
        self.core
            .node(self.id)
            .is_some_and(|n| n.state == State::Live)
    }
}
