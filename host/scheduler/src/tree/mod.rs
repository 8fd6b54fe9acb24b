//! The doer tree and the walk over it: where a tick happens.
//!
//! A tick is one `Scheduler::walk` of the root queue: each due deed's
//! turn runs, in queue order; a DoDoer's turn walks its own queue. The
//! files split one concept by concern:
//!
//! - `doer.rs`: the [`Doer`] trait a unit of work implements, and the
//!   [`Context`] each hook gets;
//! - `spec.rs`, `dodoer.rs`: what a node is built from ([`Spec`], [`DoDoer`]);
//! - `id.rs`, `arena.rs`: the nodes, addressed by generation-checked ids;
//! - `queue.rs`: hio's order with an index on due time;
//! - `walk.rs`: the scheduler's state and the pass over a queue;
//! - `lifecycle.rs`: enter, complete, close, fail, supervision;
//! - `edit.rs`: `extend` and `remove` at run time;
//! - `crew.rs` (and `crew/`): a DoDoer whose subtree runs in a scheduler of
//!   its own, on a thread of its own.
//!
//! The references among these files go both ways on purpose, and stay inside
//! this module: a hook's [`Context`] edits the tree that holds the hook's
//! doer (doer ↔ walk), a DoDoer is a spec made of specs (spec ↔ dodoer), a
//! crew is a node of the walk that runs a walk of its own (crew ↔ walk), and
//! `walk`, `lifecycle` and `edit` are one `impl Scheduler` split by concern.
//! Everything outside this module depends on it, never the other way round.

pub(crate) mod arena;
pub(crate) mod crew;
pub(crate) mod dodoer;
pub(crate) mod doer;
pub(crate) mod edit;
pub(crate) mod id;
pub(crate) mod lifecycle;
pub(crate) mod queue;
pub(crate) mod spec;
pub(crate) mod walk;

pub use crew::{AfterCall, Crew, CrewBuild, CrewParts, OnSplice};
pub use dodoer::DoDoer;
pub use doer::{Context, Doer, Failure, HookResult, TreeError};
pub use id::DoerId;
pub use spec::{Birth, Factory, Spec, valid_name};
pub use walk::Escalated;
