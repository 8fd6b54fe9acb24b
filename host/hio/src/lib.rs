//! hio: deterministic, hierarchical, flow-based concurrency whose doers are
//! sandboxed WebAssembly components.
//!
//! This crate is what users depend on. It puts the layers together and adds
//! what sits on top of them:
//!
//! - the scheduler (crate `hio-scheduler`, re-exported here: [`Doist`],
//!   [`DoDoer`], the [`Doer`] trait, [`trace`], [`Supervision`], decks);
//! - the Wasm host (crate `hio-wasm`, re-exported as [`plugin`]);
//! - [`manifest`]: a TOML manifest parsed, checked and built into a Doist of
//!   plugin doers;
//! - [`harness`]: run plugin doers from `cargo test`, in simulated time;
//! - the `hio` command (`run`, `check`, `inspect`).
//!
//! How data flows through `hio run m.toml`:
//!
//! ```text
//!  m.toml ──manifest::parse──▶ Manifest ──manifest::build──▶ Doist
//!        (errors name file, line, key)     (PluginHost loads each plugin,
//!                                           validate runs its options)
//!  Doist::run: one tick per step, each due PluginDoer's hook called through
//!  the hio:doer world ──▶ trace (--trace), log and guest output (stderr),
//!  --stats per doer
//! ```
//!
//! A native tree needs no Wasm at all:
//!
//! ```
//! use hio::{Doist, DoDoer, Recorder, TraceBuffer};
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
//! The scheduling contract is `docs/contract.md`; the formats (trace,
//! manifest, WIT world, command) are `docs/formats.md`.

pub mod cache;
pub mod harness;
pub mod manifest;
pub mod timeline;
pub mod wire;

/// The host-owned network (`hio-io`): TCP and TLS connections with bounded
/// buffers, serviced between ticks.
pub use hio_io as io;
/// The Wasm host (the `hio-wasm` crate): plugins, their engine and limits.
pub use hio_wasm as plugin;

/// The lifecycle trace (the scheduler's `trace` module).
pub use hio_scheduler::trace;
pub use hio_scheduler::{
    Birth, Context, DEFAULT_TOCK, DeckAccess, DeckError, DeckSpec, Decks, DoDoer, Doer, DoerId,
    Doist, DriveError, Driver, Escalated, Escaped, Factory, Failure, Grants, HookResult, JsonLines,
    Level, LogLine, Logger, Policy, Recorder, Services, Spec, Supervision, SystemClock, Tick,
    TraceBuffer, TraceSink, TreeError, Tymer, Tymist, Tymth, WaitEnd, Wake, WallClock, cut,
    fmt_tyme, stderr_logger, valid_name, write_text,
};

/// The README's tour, compiled and run as a doctest.
#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
