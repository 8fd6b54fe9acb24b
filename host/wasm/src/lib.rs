//! hio's Wasm host: doers as sandboxed WebAssembly components of the
//! `hio:doer` world (`wit/doer.wit`).
//!
//! A [`PluginHost`] owns the engine (Cranelift, fuel, the pooling allocator
//! sized from the engine's memory cap, the optional real-mode watchdog) and
//! the linker: WASI without ambient authority, plus the host side of each
//! WIT interface, one file each (`tyme.rs`, `log.rs`, `decks.rs`). Loading
//! a plugin by path compiles it once (cached on disk) into a [`Plugin`]
//! holding its `InstancePre`; each doer instance is a fresh `Store` made from
//! it, a [`PluginDoer`], which is a [`hio_scheduler::Doer`].
//!
//! How data flows through one hook call ([`PluginDoer`]):
//!
//! ```text
//!  scheduler ──recur(tyme)──▶ PluginDoer::call
//!     refill fuel and epoch deadline (Budget), set tyme and tock in the store
//!     ──▶ guest export ──▶ host imports: tyme, log, decks, WASI (clocks read
//!         tyme; random seeded; stdout/stderr captured, bounded)
//!     ◀── result, or a trap / limit / exit
//!  deliver: set-tock, log lines and captured output go to the scheduler's log
//!  failure: a CallFailure (typed), its words become the trace's reason
//! ```
//!
//! The crate depends on the scheduler, never the other way round; it does
//! no network I/O.

mod bindings;
mod budget;
mod charge;
mod decks;
mod engine;
mod failure;
mod http;
mod instance;
mod log;
mod net;
mod plugin;
mod stats;
mod store;
pub mod tape;
mod tyme;
mod wasi;

pub use self::bindings::hio::doer::types::{Scalar, Value};
pub use self::bindings::{PACKAGE, VERSION};
pub use self::charge::{DEFAULT_HOST_BYTES, FUEL_PER_BYTE};
pub use self::engine::{
    DEFAULT_WATCHDOG, EngineLimits, LoadError, MAPS_PER_DOER, PluginHost, check_map_count,
    map_count_fits, max_map_count,
};
pub use self::failure::{CallFailure, Limit, MAX_REASON};
pub use self::http::{OutgoingRes, RequestRes, ServerRes};
pub use self::instance::PluginDoer;
pub use self::net::{ConnRes, ListenerRes, NetAccess, Spawns};
pub use self::plugin::{InstanceConfig, Plugin};
pub use self::stats::{DoerStats, StatsHandle};
pub use self::tape::{Digests, Divergence, Tape};
pub use self::wasi::{WallStart, seed};
