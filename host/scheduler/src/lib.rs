//! hio's scheduler: deterministic, hierarchical, flow-based concurrency,
//! with no Wasm and no I/O in it, so native doers build without either.
//!
//! A [`Doist`] owns simulated time (`tyme`, advanced by its `tock`) and a
//! queue of *deeds*: doers with the tyme they are next due. Each tick it
//! walks the queue once, in a fixed order, and calls the due doers'
//! `recur`. A [`DoDoer`] is a doer that runs its own queue, at its own tock,
//! inside its parent's tick, so doers nest into a tree. Every doer goes
//! through the lifecycle enter, recur…, then clean (done), cease (closed
//! early) or abort (failed), and always exit; the Doist writes one [`trace`]
//! record per hook call. A failure stays with its doer; the parent's
//! [`Supervision`] isolates, restarts or escalates it.
//!
//! How data flows through a tick ([`Doist::step`]):
//!
//! ```text
//!  Services::before(tick) ──▶ walk of the root queue ──▶ Services::after
//!     (receive into buffers)    due deeds' hooks, in order      (flush)
//!                               │  Context: tyme, tock, extend, remove, log
//!                               ▼
//!                          TraceSink (JSON lines), Logger, Decks
//!  then the wait until the next tick (Services::wait; real mode only
//!  blocks), then the stop checks: no deed left, or tyme >= limit.
//! ```
//!
//! Nothing here reads the wall clock except real mode's pacing, and nothing
//! iterates an unordered collection, so two runs of the same tree give the
//! same trace. Hosts plug in at two seams: a [`Doer`] (the Wasm host's
//! plugin doer is one) and [`Services`] (the I/O host is one).
//!
//! ```
//! use hio_scheduler::{Doist, DoDoer, Recorder, TraceBuffer};
//! let trace = TraceBuffer::new();
//! let mut doist = Doist::new(1.0 / 32.0).limit(0.25).trace(trace.clone());
//! doist.add(DoDoer::new("A").doer(Recorder::spec("e0", 0.0, 3))).unwrap();
//! doist.run().unwrap();
//! let first: Vec<String> = trace.records().iter().take(3).map(|r| r.to_json()).collect();
//! assert_eq!(first, [
//!     r#"{"tyme":0.0,"doer":"A","event":"enter"}"#,
//!     r#"{"tyme":0.0,"doer":"A/e0","event":"enter"}"#,
//!     r#"{"tyme":0.0,"doer":"A","event":"recur"}"#,
//! ]);
//! ```
//!
//! The scheduling contract is `docs/contract.md`; the trace format
//! `docs/formats.md`.

mod clock;
mod decks;
mod doist;
mod driver;
mod log;
mod pacing;
mod recorder;
mod services;
mod supervision;
pub mod trace;
mod tree;
mod tyme;

pub use crate::clock::{SystemClock, WallClock};
pub use crate::decks::{DeckAccess, DeckError, DeckSpec, Decks, Grants, RemoteEnd};
pub use crate::doist::Doist;
pub use crate::driver::{DriveError, Driver};
pub use crate::log::{
    Escaped, Level, LogLine, Logger, cut, cut_owned, fmt_tyme, stderr_logger, write_text,
};
pub use crate::recorder::Recorder;
pub use crate::services::{Services, Tick, WaitEnd, Wake};
pub use crate::supervision::{Policy, Supervision};
pub use crate::trace::{JsonLines, TraceBuffer, TraceSink};
pub use crate::tree::{AfterCall, Crew, CrewBuild, CrewParts, OnSplice};
pub use crate::tree::{
    Birth, Context, DoDoer, Doer, DoerId, Escalated, Factory, Failure, HookResult, Spec, TreeError,
    valid_name,
};
pub use crate::tyme::{DEFAULT_TOCK, Tymer, Tymist, Tymth};
