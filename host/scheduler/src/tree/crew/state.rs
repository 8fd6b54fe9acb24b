//! A crew's own scheduler, on the crew's thread, and what each of its turns
//! sends back: the trace records and log lines it wrote, and its outcome.

use std::cell::RefCell;
use std::rc::Rc;

use super::{CrewBuild, Settings};
use crate::log::{Level, LogLine};
use crate::services::{Services, Tick};
use crate::supervision::Supervision;
use crate::trace::{Line, OwnedLine, TraceSink};
use crate::tree::edit::check_spec;
use crate::tree::spec::Birth;
use crate::tree::walk::Scheduler;

/// A log line a crew wrote, kept until its turn is spliced.
#[derive(Debug, Clone)]
pub(crate) struct OwnedLog {
    pub tyme: f64,
    pub path: String,
    pub level: Level,
    pub message: String,
}

/// What a crew wrote during one call.
#[derive(Debug, Default)]
pub(crate) struct Out {
    pub records: Vec<OwnedLine>,
    pub logs: Vec<OwnedLog>,
}

/// One call's outcome: for a turn, `Ok(true)` when the crew is done; an
/// error is the crew's failure (a child's escalation, or its thread's).
#[derive(Debug)]
pub(crate) struct Reply {
    pub out: Out,
    pub result: Result<bool, String>,
    pub failures: u64,
    /// What the crew's `after_call` returned.
    pub extra: Option<Box<dyn std::any::Any + Send>>,
}

impl Default for Reply {
    fn default() -> Self {
        Reply {
            out: Out::default(),
            result: Ok(false),
            failures: 0,
            extra: None,
        }
    }
}

impl Reply {
    pub fn failed(reason: &str) -> Reply {
        Reply {
            result: Err(reason.to_owned()),
            ..Reply::default()
        }
    }
}

/// What entering a crew needs (sent to its thread).
pub(crate) struct Entry {
    pub build: CrewBuild,
    pub path: String,
    pub attempt: u32,
    pub tock: f64,
    pub always: bool,
    pub supervision: Supervision,
    pub tick: Tick,
    pub settings: Settings,
}

struct Sink(Rc<RefCell<Out>>);

impl TraceSink for Sink {
    fn record(&mut self, record: &Line<'_>) {
        self.0.borrow_mut().records.push(record.to_owned());
    }
}

/// A crew's scheduler: its root is the crew's DoDoer (which writes no
/// records here: its parent's walk does).
pub(crate) struct CrewState {
    sched: Scheduler,
    out: Rc<RefCell<Out>>,
    services: Option<Box<dyn Services>>,
    on_close: Option<Box<dyn FnOnce()>>,
    after_call: Option<super::AfterCall>,
    always: bool,
}

impl CrewState {
    /// Builds the crew's children and enters them, in order.
    pub fn enter(job: Entry) -> (Option<CrewState>, Reply) {
        let parts = match (job.build)(&Birth {
            path: &job.path,
            attempt: job.attempt,
        }) {
            Ok(parts) => parts,
            Err(reason) => return (None, Reply::failed(&reason)),
        };
        for spec in &parts.doers {
            if let Err(e) = check_spec(spec) {
                return (None, Reply::failed(&e.to_string()));
            }
        }
        let out = Rc::new(RefCell::new(Out::default()));
        let mut sched = Scheduler::new(job.settings.tock, job.supervision);
        sched.set_crew_root(&job.path, job.tock);
        sched.plain = job.settings.plain;
        sched.wake_io = job.settings.wake_io;
        if job.settings.trace {
            sched.trace = Some(Box::new(Sink(Rc::clone(&out))));
        }
        let logs = Rc::clone(&out);
        sched.logger = Box::new(move |l: &LogLine<'_>| {
            logs.borrow_mut().logs.push(OwnedLog {
                tyme: l.tyme,
                path: l.path.to_owned(),
                level: l.level,
                message: l.message.to_owned(),
            });
        });
        sched.tymist.set_tyme(job.tick.tyme);
        sched.tick_early = job.tick.early;
        let root = sched.root;
        let mut names = std::collections::BTreeSet::new();
        for spec in &parts.doers {
            if !names.insert(spec.name().to_owned()) {
                let e = crate::TreeError::Duplicate {
                    parent: job.path.clone(),
                    name: spec.name().to_owned(),
                };
                return (None, Reply::failed(&e.to_string()));
            }
            sched.insert(root, spec, None);
        }
        sched.entered = true;
        sched.enter_all(root);
        let mut state = CrewState {
            sched,
            out,
            services: parts.services,
            on_close: parts.on_close,
            after_call: parts.after_call,
            always: job.always,
        };
        let reply = state.reply(Ok(false));
        (Some(state), reply)
    }

    /// The crew's turn at `tick`: its services' `before`, the walk of its
    /// queue, its services' `after`.
    pub fn recur(&mut self, tick: Tick) -> Reply {
        self.sched.tymist.set_tyme(tick.tyme);
        self.sched.tick_early = tick.early;
        self.sched.doom_pending = false;
        if let Some(s) = self.services.as_mut() {
            s.before(tick);
        }
        let root = self.sched.root;
        self.sched.walk(root);
        if let Some(s) = self.services.as_mut() {
            s.after(tick.tyme);
        }
        let done = !self.always && self.sched.queue(root).is_none_or(|q| q.is_empty());
        self.reply(Ok(done))
    }

    /// Closes the crew's children, back to front (its clean, cease or abort).
    pub fn close(&mut self, tyme: f64) -> Reply {
        self.sched.tymist.set_tyme(tyme);
        let root = self.sched.root;
        self.sched.close_all(root);
        if let Some(s) = self.services.as_mut() {
            s.end(Tick { tyme, early: false });
        }
        if let Some(f) = self.on_close.take() {
            f();
        }
        let mut reply = self.reply(Ok(false));
        // Closing cannot fail the crew: it is already on its way out.
        reply.result = Ok(false);
        reply
    }

    /// What was written since the last reply; an escalation to the crew's
    /// root is the crew's failure, as a DoDoer's child's would be.
    fn reply(&mut self, result: Result<bool, String>) -> Reply {
        let result = match self.sched.escalated.take() {
            Some(e) => {
                let root = self.sched.root;
                if let Some(r) = self.sched.node_mut(root) {
                    r.doom = None;
                }
                Err(format!("child {}: {}", e.doer, e.reason))
            }
            None => result,
        };
        Reply {
            out: std::mem::take(&mut *self.out.borrow_mut()),
            result,
            failures: std::mem::take(&mut self.sched.failures),
            extra: self.after_call.as_mut().and_then(|f| f()),
        }
    }
}
