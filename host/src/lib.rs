//! hio: deterministic, hierarchical, flow-based concurrency.
//!
//! A [`Doist`] owns simulated time (`tyme`, advanced by its `tock`) and a
//! queue of *deeds*: doers with the tyme they are next due. Each tick it
//! walks the queue once, in a fixed order, and calls the due doers'
//! `recur`. A [`DoDoer`] is a doer that runs its own queue, at its own tock,
//! inside its parent's tick, so doers nest into a tree. Nothing in the
//! scheduler reads the wall clock (except real mode's pacing) or iterates an
//! unordered collection, so two runs of the same tree give the same trace.
//!
//! Every doer goes through the lifecycle enter, recur…, then clean (done),
//! cease (closed early) or abort (failed), and always exit. The host writes
//! one [`trace`] record per hook call. A failure stays with its doer; the
//! parent's [`Supervision`] isolates, restarts or escalates it.
//!
//! ```
//! use hio::{Doist, DoDoer, Recorder, TraceBuffer};
//! let trace = TraceBuffer::new();
//! let mut doist = Doist::new(1.0 / 32.0).limit(0.25).trace(trace.clone());
//! doist.add(DoDoer::new("A").doer(Recorder::spec("e0", 0.0, 3)));
//! doist.run().unwrap();
//! let first: Vec<String> = trace.records().iter().take(3).map(|r| r.to_json()).collect();
//! assert_eq!(first, [
//!     r#"{"tyme":0.0,"doer":"A","event":"enter"}"#,
//!     r#"{"tyme":0.0,"doer":"A/e0","event":"enter"}"#,
//!     r#"{"tyme":0.0,"doer":"A","event":"recur"}"#,
//! ]);
//! ```
//!
//! The full scheduling contract is in `docs/design.md`.

mod core;
mod decks;
mod dodoer;
mod doer;
mod doist;
mod driver;
mod edit;
pub mod harness;
mod lifecycle;
pub mod manifest;
pub mod plugin;
mod queue;
mod real;
mod recorder;
mod spec;
mod supervision;
pub mod trace;
mod tree;
mod tyme;

pub use crate::core::{Escalated, LogLine, Logger, fmt_tyme, stderr_logger};
pub use crate::decks::{DeckAccess, DeckError, DeckSpec, Decks, Grants};
pub use crate::dodoer::DoDoer;
pub use crate::doer::{Context, Doer, Failure, HookResult, Level, TreeError};
pub use crate::doist::Doist;
pub use crate::driver::{DriveError, Driver};
pub use crate::real::{SystemClock, WallClock};
pub use crate::recorder::Recorder;
pub use crate::spec::{Birth, Factory, Spec, valid_name};
pub use crate::supervision::{Policy, Supervision};
pub use crate::trace::{JsonLines, TraceBuffer, TraceSink};
pub use crate::tree::DoerId;
pub use crate::tyme::{DEFAULT_TOCK, Tymer, Tymist, Tymth};

/// The README's tour, compiled and run as a doctest.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
