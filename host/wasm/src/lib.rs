//! hio's Wasm host: doers as sandboxed WebAssembly components of the
//! `hio:doer` world (`wit/*.wit`), and the host side of every interface
//! they import.
//!
//! What it owns:
//!
//! - the engine ([`PluginHost`], `engine.rs`): Cranelift, fuel, the pooling
//!   allocator sized from the engine's memory cap, the optional real-mode
//!   watchdog, the on-disk compile cache, and the linker;
//! - plugins and their instances: loading a component by path gives a
//!   [`Plugin`] holding its `InstancePre` (`plugin.rs`, where an
//!   [`InstanceConfig`] of limits and grants becomes a `Store`); an
//!   instance (`instance.rs`) holds one doer or a share group's many, each
//!   a [`PluginDoer`] (`doer.rs`), a [`hio_scheduler::Doer`] that makes the
//!   children it spawns;
//! - the host side of every WIT interface, one file each in `iface/`
//!   (`tyme`, `log`, `decks`, `tcp`, `tls`, `children`, `http`,
//!   `http_client`), each on the narrowest view of the store it needs; the
//!   handles doers hold are `resources.rs`'s types;
//! - WASI without ambient authority (`wasi.rs`): no preopens, environment
//!   or sockets; clocks read tyme, randomness is seeded per doer,
//!   stdout/stderr are captured, bounded;
//! - the [`Tape`] (`tape/`): every network call a doer makes goes through
//!   it, which records it to the run's wire log or feeds the recorded
//!   result back, and reports a replay that differs ([`Divergence`]);
//! - the limits and charges: what one hook call may spend (`budget.rs`),
//!   what the host's work costs it (`charge.rs`), the resource limiter
//!   (`store.rs`), and the typed failure a limit or trap becomes
//!   ([`CallFailure`], `failure.rs`).
//!
//! How data flows through one hook call ([`PluginDoer`]):
//!
//! ```text
//!  scheduler ──recur(tyme)──▶ PluginDoer::call
//!     refill fuel and epoch deadline (Budget), set tyme and tock
//!     ──▶ guest export ──▶ host imports, each on its view of the store:
//!         tyme, log, decks (charged per byte), WASI (clocks read tyme;
//!         random seeded; stdout/stderr captured, bounded), the network
//!     ◀── result, or a trap / limit / exit
//!  a quiet call (nothing handed over) returns at once; otherwise deliver:
//!  set-tock, log lines, captured output go to the scheduler's log, and
//!  the children asked for are added to the tree or removed
//!  failure: a CallFailure (typed), its words become the trace's reason
//! ```
//!
//! And through one network call (`iface/handles.rs`):
//!
//! ```text
//!  guest ──tcp.write(conn, bytes)──▶ Handles::write
//!     look the handle up in the doer's resource table (a stale one: 0)
//!     ──▶ Tape::call(doer path, Op::Write, CRC-32 of the arguments)
//!           recording: run it on hio_io::Net, write a `call` record
//!           replaying: no network; the recorded result, or a Divergence
//!     ◀── the result; a new handle is pushed (or what made it undone)
//! ```
//!
//! The network itself (sockets, TLS, HTTP, the simulated world) and the
//! wire log's format, op catalogue included, are hio-io's; this crate
//! holds handles onto them. It depends on the scheduler and hio-io, never
//! the other way round.
//!
//! Where to start reading: `doer.rs` (`PluginDoer::call`, one hook
//! call), then `iface/mod.rs` (how the interfaces are linked, each on its
//! view) and `iface/handles.rs` (what every network call shares), then
//! `tape/mod.rs`.

mod bindings;
mod budget;
mod charge;
mod doer;
mod engine;
mod failure;
mod iface;
mod instance;
mod plugin;
mod resources;
mod stats;
mod store;
mod tape;
mod wasi;

pub use self::bindings::hio::doer::types::{Scalar, Value};
pub use self::bindings::{PACKAGE, VERSION};
pub use self::charge::{DEFAULT_HOST_BYTES, FUEL_PER_BYTE};
pub use self::doer::PluginDoer;
pub use self::engine::{
    DEFAULT_WATCHDOG, EngineLimits, LoadError, MAPS_PER_DOER, PluginHost, check_map_count,
    map_count_fits, max_map_count,
};
pub use self::failure::{CallFailure, Limit, MAX_REASON};
pub use self::iface::NetAccess;
pub use self::plugin::{InstanceConfig, Plugin, PluginSeed, Spawns};
pub use self::resources::{ConnRes, ListenerRes, OutgoingRes, RequestRes, ServerRes};
pub use self::stats::{DoerStats, StatsHandle, StatsSeed};
pub use self::tape::{Block, Digests, Divergence, Tape};
pub use self::wasi::{WallStart, seed};
