//! The native [`Doer`] trait, its lifecycle, and the [`Context`] a hook sees.
//!
//! A doer is entered once, then recurs once per tick it is due until it
//! reports done (then `clean`, `exit`), is closed (`cease`, `exit`) or fails
//! (`abort`, `exit`). Wasm doers implement this same trait in the plugin host.

use std::fmt;

use crate::log::Level;
use crate::tree::id::DoerId;
use crate::tree::spec::Spec;
use crate::tree::walk::Scheduler;
use crate::tyme::Tymth;

/// Why a hook failed. Its text becomes the trace's `reason`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure(pub String);

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for Failure {
    fn from(s: String) -> Self {
        Failure(s)
    }
}

impl From<&str> for Failure {
    fn from(s: &str) -> Self {
        Failure(s.to_owned())
    }
}

/// What a hook returns.
pub type HookResult<T = ()> = Result<T, Failure>;

/// A unit of work the scheduler calls once per due tick.
///
/// Only `recur` is required; it returns `Ok(true)` when the doer is done.
///
/// ```
/// use hio_scheduler::{Context, Doer, Doist, HookResult, Spec};
/// #[derive(Clone, Default)]
/// struct Counter { n: u32 }
/// impl Doer for Counter {
///     fn recur(&mut self, _cx: &mut Context<'_>, _tyme: f64) -> HookResult<bool> {
///         self.n += 1;
///         Ok(self.n == 3)
///     }
/// }
/// let mut doist = Doist::new(1.0);
/// doist.add(Spec::doer("counter", 0.0, Counter::default()));
/// doist.run().unwrap();
/// assert!(doist.done());
/// assert_eq!(doist.tyme(), 3.0);
/// ```
pub trait Doer {
    /// Runs once, before the first recur.
    fn enter(&mut self, cx: &mut Context<'_>) -> HookResult {
        let _ = cx;
        Ok(())
    }

    /// Runs once per due tick; `Ok(true)` means done.
    fn recur(&mut self, cx: &mut Context<'_>, tyme: f64) -> HookResult<bool>;

    /// Runs after the doer reports done.
    fn clean(&mut self, cx: &mut Context<'_>) -> HookResult {
        let _ = cx;
        Ok(())
    }

    /// Runs when the doer is closed before it is done.
    fn cease(&mut self, cx: &mut Context<'_>) -> HookResult {
        let _ = cx;
        Ok(())
    }

    /// Runs when `enter` or `recur` failed, with the reason.
    fn abort(&mut self, cx: &mut Context<'_>, reason: &str) -> HookResult {
        let _ = (cx, reason);
        Ok(())
    }

    /// Always the last hook.
    fn exit(&mut self, cx: &mut Context<'_>) -> HookResult {
        let _ = cx;
        Ok(())
    }

    /// True once the instance can run no more code (a Wasm trap). The host
    /// then calls no hook and writes each later record with `"ran":false`.
    fn poisoned(&self) -> bool {
        false
    }
}

/// Errors of tree operations from a hook or from the Doist.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TreeError {
    /// The target is gone or is not a DoDoer.
    #[error("no DoDoer {0} to extend")]
    NoGroup(String),
    /// A name does not match `[A-Za-z0-9_.-]{1,64}`.
    #[error("bad doer name {0:?}: names match [A-Za-z0-9_.-]{{1,64}}")]
    BadName(String),
    /// A sibling already has this name.
    #[error("duplicate doer name {name:?} in {parent:?}")]
    Duplicate {
        /// The parent's path.
        parent: String,
        /// The clashing name.
        name: String,
    },
    /// A tock is negative or not finite.
    #[error("bad tock {0}: a tock is finite and >= 0")]
    BadTock(f64),
    /// The edit would reach into (or out of) a crew: a crew's subtree is
    /// edited only by its own doers, and they edit nothing outside it.
    #[error("doer {0:?} is in another crew: a crew's doers edit only their crew's tree")]
    OtherCrew(String),
}

/// What a hook can see and do: tyme, its own tock, the tree.
pub struct Context<'a> {
    pub(crate) sched: &'a mut Scheduler,
    pub(crate) me: DoerId,
}

impl Context<'_> {
    /// The current tyme.
    pub fn tyme(&self) -> f64 {
        self.sched.tyme()
    }

    /// A handle on the tyme, for [`Tymer`](crate::Tymer)s.
    pub fn tymth(&self) -> Tymth {
        self.sched.tymist.tymth()
    }

    /// This doer's id.
    pub fn id(&self) -> DoerId {
        self.me
    }

    /// This doer's path.
    pub fn path(&self) -> &str {
        self.sched.path(self.me)
    }

    /// The DoDoer (or root) this doer runs in.
    pub fn parent(&self) -> DoerId {
        self.sched.parent(self.me)
    }

    /// The Doist's root queue, for extending the top level. (In a crew the
    /// top level is outside the crew: edits of it are refused.)
    pub fn root(&self) -> DoerId {
        if self.sched.in_crew() {
            DoerId::OUTSIDE
        } else {
            self.sched.root
        }
    }

    /// This doer's restart number (0 on the first instance).
    pub fn attempt(&self) -> u32 {
        self.sched.node(self.me).map_or(0, |n| n.attempt)
    }

    /// This doer's tock.
    pub fn tock(&self) -> f64 {
        self.sched.node(self.me).map_or(0.0, |n| n.tock)
    }

    /// Sets this doer's tock; the tock that counts is the one after recur returns.
    pub fn set_tock(&mut self, tock: f64) -> Result<(), TreeError> {
        if !(tock.is_finite() && tock >= 0.0) {
            return Err(TreeError::BadTock(tock));
        }
        if let Some(n) = self.sched.node_mut(self.me) {
            n.tock = tock;
        }
        Ok(())
    }

    /// Finds a doer by path (`""` is the root).
    pub fn find(&self, path: &str) -> Option<DoerId> {
        self.sched.find(path)
    }

    /// Enters `specs` at once and adds them to DoDoer `group`'s queue: just
    /// before its running deed if it is mid-pass, else at its end.
    pub fn extend(&mut self, group: DoerId, specs: Vec<Spec>) -> Result<Vec<DoerId>, TreeError> {
        self.sched.extend(group, specs, true)
    }

    /// Closes doers (`cease`, `exit`), back of the queue first. A running
    /// doer (this one, or a DoDoer it runs in) closes when its recur returns.
    pub fn remove(&mut self, ids: &[DoerId]) {
        self.sched.remove(ids);
    }

    /// Writes a line to the host log, tagged with this doer's path.
    pub fn log(&mut self, level: Level, message: &str) {
        self.sched.log(self.me, level, message);
    }
}
