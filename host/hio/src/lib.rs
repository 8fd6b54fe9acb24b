//! hio: deterministic, hierarchical, flow-based concurrency whose doers are
//! sandboxed WebAssembly components.
//!
//! This crate is what users depend on and what the `hio` command is built
//! from. It puts the three layers together, re-exporting each, and owns
//! what sits on top of them:
//!
//! - the scheduler (crate `hio-scheduler`, re-exported at the root:
//!   [`Doist`], [`DoDoer`], the [`Doer`] trait, [`trace`], [`Supervision`],
//!   decks), the Wasm host (crate `hio-wasm`, as [`plugin`]) and the
//!   host-owned network (crate `hio-io`, as [`io`]);
//! - [`manifest`]: a TOML manifest parsed, checked and built into a Doist of
//!   plugin doers;
//! - [`recording`]: a run's wire log written (`--record`) and read back
//!   (`hio replay`): its header, the services that frame each tick on the
//!   tape, the trace sink that digests the lifecycle trace;
//! - [`timeline`]: a trace file read back, drawn for Perfetto or summed up
//!   per doer;
//! - [`harness`]: plugin doers driven from `cargo test`, in simulated time;
//! - [`cache`]: where compiled plugin code is kept;
//! - the `hio` command (`src/main.rs`, one file per command under
//!   `src/commands/`): `run`, `replay`, `sim`, `check`, `inspect`, `trace`
//!   and `demo`.
//!
//! How a run flows (`hio run m.toml`; `replay` and `sim` take the same road):
//!
//! ```text
//!  m.toml ──Manifest::load──▶ Manifest ──manifest::build_with──▶ Doist
//!    (errors name file,          │   each plugin loaded once by hio-wasm's
//!     line and key; the          │   PluginHost and its options validated;
//!     command line's             │   doers that use the network get hio-io's
//!     overrides applied)         │   Net, its service between ticks
//!                                ▼
//!  Doist::step, one tick at a time: each due PluginDoer's hook called
//!  through the hio:doer world, its network calls through hio-io (and onto
//!  the wire log's tape when recording, or fed back from it when replaying)
//!                                │
//!                                ▼
//!  lifecycle trace (--trace), log and guest output (stderr), --stats,
//!  the wire log (--record: recording::header, Taped, TapeSink)
//! ```
//!
//! `hio replay` reads a wire log, rebuilds the recorded manifest
//! ([`recording::recorded_manifest`]) and runs it with the tape feeding the
//! recorded results; `hio sim` runs the manifest on the simulated network
//! for each seed. `check` stops after the build, `inspect` only loads a
//! component, `trace` reads a trace file ([`timeline`]) and `demo` runs a
//! native tree.
//!
//! Where to start: the tour below and `README.md`; then [`manifest`] (what a
//! run is made of) and `src/commands/session.rs` (how the command runs it);
//! [`harness`] to test a doer. A native tree needs no Wasm at all:
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
//! manifest, wire log, WIT world, command) are `docs/formats.md`; how the
//! pieces work, `docs/design.md`.

pub mod cache;
pub mod harness;
pub mod manifest;
pub mod recording;
pub mod timeline;

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
