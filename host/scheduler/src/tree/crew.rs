//! Crews: DoDoers whose subtree runs on a worker thread, with the same trace
//! for any number of threads.
//!
//! A [`Crew`] is a DoDoer whose children are made by a `build` function on
//! the crew's own thread (so what they own, Wasm instances and sockets, is
//! never shared between threads). In the tree the crew is one node of its
//! parent's queue, walked like any DoDoer: its `enter`, `recur`, `clean`,
//! `cease`, `abort` and `exit` records come from its place in the walk. Its
//! subtree runs in a scheduler of its own, whose records and log lines are
//! kept and spliced into the run's trace and log where the crew's turn is.
//!
//! The rules that make a run's trace the same whatever the thread count:
//!
//! - Consecutive crews due in one pass of a queue are started together, each
//!   on its thread, and their turns are then taken in queue order. (A crew
//!   started that way finishes its turn even when an earlier one's failure
//!   fails their DoDoer.) Everything else runs on the Doist's thread.
//! - A crew's doers edit the tree only inside their crew; a crew's subtree is
//!   not visible from outside it ([`TreeError::OtherCrew`]).
//! - A deck whose doers are in different crews delivers at the Doist's tick
//!   barrier, in (sending crew, sequence) order (see [`Decks::cross`]).
//!
//! With one thread the crews run on the Doist's thread, in the same order.
//!
//! [`Decks::cross`]: crate::Decks::cross

mod state;
mod worker;

use std::any::Any;
use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;

use crate::services::{Services, Tick};
use crate::tree::dodoer::DoDoer;
use crate::tree::doer::{Context, Doer, Failure, HookResult, TreeError};
use crate::tree::spec::{Birth, Spec, SpecKind};

pub(crate) use state::{Out, Reply};
pub(crate) use worker::Pool;

/// What a crew's `build` makes on the crew's thread: its children, and the
/// services (its network) that run before and after each of its turns.
pub struct CrewParts {
    /// The crew's children, in order.
    pub doers: Vec<Spec>,
    /// Serviced around each of the crew's turns, on its thread.
    pub services: Option<Box<dyn Services>>,
    /// Called on the crew's thread when the crew closes (its doers have
    /// exited): to hand over what it kept, figures say.
    pub on_close: Option<Box<dyn FnOnce()>>,
    /// Called on the crew's thread at the end of each call on the crew
    /// (entering, a turn, closing): what it returns is handed to the
    /// crew's [`Crew::on_splice`] on the Doist's thread, where the crew's
    /// records go, in walk order (a wire log's block, say).
    pub after_call: Option<AfterCall>,
}

/// See [`CrewParts::after_call`].
pub type AfterCall = Box<dyn FnMut() -> Option<Box<dyn Any + Send>>>;

/// See [`Crew::on_splice`].
pub type OnSplice = Rc<dyn Fn(Box<dyn Any + Send>)>;

/// Makes a crew's children, on the crew's thread, each time it is entered.
pub type CrewBuild = Arc<dyn Fn(&Birth<'_>) -> Result<CrewParts, String> + Send + Sync>;

/// A DoDoer whose subtree runs on a worker thread.
///
/// ```
/// use hio_scheduler::{Crew, CrewParts, Doist, Recorder, TraceBuffer};
/// let run = |threads| {
///     let trace = TraceBuffer::new();
///     let mut doist = Doist::new(1.0).threads(threads).trace(trace.clone());
///     for name in ["a", "b"] {
///         doist.add(Crew::new(name, |_| Ok(CrewParts {
///             doers: vec![Recorder::spec("r", 0.0, 2)],
///             services: None,
///             on_close: None,
///             after_call: None,
///         }))).unwrap();
///     }
///     doist.run().unwrap();
///     trace.to_json_lines()
/// };
/// assert_eq!(run(1), run(2));
/// assert!(run(2).contains(r#"{"tyme":2.0,"doer":"b/r","event":"recur"}"#));
/// ```
#[derive(Clone)]
pub struct Crew {
    /// Its name, tock, `always` and supervision, as a DoDoer's (its
    /// children are `build`'s, not the DoDoer's).
    pub(crate) group: DoDoer,
    pub(crate) build: CrewBuild,
    pub(crate) on_splice: Option<OnSplice>,
}

impl Crew {
    /// A crew with tock 0 whose children `build` makes (for other settings:
    /// [`DoDoer::crew`]).
    pub fn new<F>(name: impl Into<String>, build: F) -> Crew
    where
        F: Fn(&Birth<'_>) -> Result<CrewParts, String> + Send + Sync + 'static,
    {
        DoDoer::new(name).crew(build)
    }

    /// Takes, on the Doist's thread and in walk order, what the crew's
    /// [`CrewParts::after_call`] returned after each call on it.
    pub fn on_splice(mut self, f: impl Fn(Box<dyn Any + Send>) + 'static) -> Self {
        self.on_splice = Some(Rc::new(f));
        self
    }
}

impl DoDoer {
    /// This DoDoer as a crew (its tock, `always` and supervision kept):
    /// its children are what `build` makes, on the crew's thread, each
    /// time it is entered; those given with [`doer`](Self::doer) are not
    /// used.
    pub fn crew<F>(self, build: F) -> Crew
    where
        F: Fn(&Birth<'_>) -> Result<CrewParts, String> + Send + Sync + 'static,
    {
        Crew {
            group: DoDoer {
                doers: Vec::new(),
                ..self
            },
            build: Arc::new(build),
            on_splice: None,
        }
    }
}

impl std::fmt::Debug for Crew {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Crew")
            .field("group", &self.group)
            .finish_non_exhaustive()
    }
}

impl From<Crew> for Spec {
    fn from(c: Crew) -> Spec {
        Spec {
            name: c.group.name.clone(),
            tock: c.group.tock,
            kind: SpecKind::Crew(c),
        }
    }
}

/// How the crew's scheduler is set up, from the Doist's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Settings {
    /// Keep trace records (the Doist has a trace).
    pub trace: bool,
    pub plain: bool,
    pub wake_io: bool,
    /// The Doist's tock.
    pub tock: f64,
}

/// The crew's node in its parent's tree: its hooks run the crew's part on
/// the crew's thread (or here, with one thread) and splice what it wrote.
pub(crate) struct CrewDoer {
    pub link: Rc<RefCell<Link>>,
    pub splice: Option<OnSplice>,
}

/// Where a crew runs, and a turn started but not yet taken.
pub(crate) enum Link {
    /// On the Doist's thread: a started turn has already run.
    Here {
        state: Option<Box<state::CrewState>>,
        started: Option<Reply>,
    },
    /// On a worker thread.
    There(worker::Remote),
}

impl Link {
    /// A link for a new crew: crews are dealt to the threads in turn, the
    /// Doist's own thread first (it would only wait otherwise).
    pub fn new(pool: Option<&Pool>) -> Link {
        match pool.and_then(Pool::remote) {
            Some(remote) => Link::There(remote),
            None => Link::Here {
                state: None,
                started: None,
            },
        }
    }

    /// Whether the crew runs on another thread.
    pub fn is_remote(&self) -> bool {
        matches!(self, Link::There(_))
    }

    /// Starts the crew's turn at `tick` unless one is started already.
    pub fn start(&mut self, tick: Tick) {
        match self {
            Link::Here { state, started } => {
                if started.is_none() {
                    *started = Some(guarded(state, |s| s.recur(tick)));
                }
            }
            Link::There(r) => r.start(tick),
        }
    }

    /// Whether a turn was started and not taken yet.
    pub fn started(&self) -> bool {
        match self {
            Link::Here { started, .. } => started.is_some(),
            Link::There(r) => r.started(),
        }
    }

    /// The started turn's outcome (starting it first if needed).
    fn take(&mut self, tick: Tick) -> Reply {
        self.start(tick);
        match self {
            Link::Here { started, .. } => started.take().unwrap_or_default(),
            Link::There(r) => r.join(),
        }
    }

    fn enter(&mut self, crew: &Crew, birth: &Birth<'_>, tick: Tick, settings: Settings) -> Reply {
        let job = state::Entry {
            build: Arc::clone(&crew.build),
            path: birth.path.to_owned(),
            attempt: birth.attempt,
            tock: crew.group.tock,
            always: crew.group.always,
            supervision: crew.group.supervision.clone(),
            tick,
            settings,
        };
        match self {
            Link::Here { state, .. } => {
                let entered = catch_unwind(AssertUnwindSafe(|| state::CrewState::enter(job)));
                match entered {
                    Ok((made, reply)) => {
                        *state = made.map(Box::new);
                        reply
                    }
                    Err(panic) => Reply::failed(&worker::panicked(panic.as_ref())),
                }
            }
            Link::There(r) => r.enter(job),
        }
    }

    fn close(&mut self, tyme: f64) -> Reply {
        match self {
            Link::Here { state, .. } if state.is_some() => guarded(state, |s| s.close(tyme)),
            Link::Here { .. } => Reply::default(),
            Link::There(r) => r.close(tyme),
        }
    }
}

/// Runs `f` on a crew kept on this thread as its thread would: a panic
/// fails the crew (and drops it), not the host.
fn guarded(
    state: &mut Option<Box<state::CrewState>>,
    f: impl FnOnce(&mut state::CrewState) -> Reply,
) -> Reply {
    let Some(s) = state.as_mut() else {
        return Reply::failed("the crew was not entered");
    };
    match catch_unwind(AssertUnwindSafe(|| f(s))) {
        Ok(reply) => reply,
        Err(panic) => {
            if let Some(s) = state.take() {
                let _ = catch_unwind(AssertUnwindSafe(move || drop(s)));
            }
            Reply::failed(&worker::panicked(panic.as_ref()))
        }
    }
}

impl CrewDoer {
    fn tick(cx: &Context<'_>) -> Tick {
        Tick {
            tyme: cx.sched.tyme(),
            early: cx.sched.tick_early,
        }
    }

    fn settle(&self, cx: &mut Context<'_>, reply: Reply) -> HookResult<bool> {
        cx.sched.splice(reply.out, reply.failures);
        if let (Some(f), Some(extra)) = (&self.splice, reply.extra) {
            f(extra);
        }
        reply.result.map_err(Failure)
    }

    fn close(&mut self, cx: &mut Context<'_>) -> HookResult {
        let reply = self.link.borrow_mut().close(cx.sched.tyme());
        self.settle(cx, reply).map(|_| ())
    }
}

impl Doer for CrewDoer {
    fn enter(&mut self, cx: &mut Context<'_>) -> HookResult {
        let crew = match cx.sched.node(cx.me).and_then(|n| n.cold.spec.as_ref()) {
            Some(Spec {
                kind: SpecKind::Crew(c),
                ..
            }) => c.clone(),
            _ => return Err(Failure::from("no crew to enter")),
        };
        let (path, attempt) = (cx.path().to_owned(), cx.attempt());
        let birth = Birth {
            path: &path,
            attempt,
        };
        let settings = cx.sched.crew_settings();
        let tick = Self::tick(cx);
        let reply = self.link.borrow_mut().enter(&crew, &birth, tick, settings);
        self.settle(cx, reply).map(|_| ())
    }

    fn recur(&mut self, cx: &mut Context<'_>, _tyme: f64) -> HookResult<bool> {
        let tick = Self::tick(cx);
        let reply = self.link.borrow_mut().take(tick);
        self.settle(cx, reply)
    }

    fn clean(&mut self, cx: &mut Context<'_>) -> HookResult {
        self.close(cx)
    }

    fn cease(&mut self, cx: &mut Context<'_>) -> HookResult {
        self.close(cx)
    }

    fn abort(&mut self, cx: &mut Context<'_>, _reason: &str) -> HookResult {
        self.close(cx)
    }
}

impl TreeError {
    pub(crate) fn other_crew(path: &str) -> TreeError {
        TreeError::OtherCrew(path.to_owned())
    }
}
