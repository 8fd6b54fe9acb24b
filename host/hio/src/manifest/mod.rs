//! The manifest (TOML): the tree of doers a run builds, its decks, resource
//! caps and settings (the schema is `docs/formats.md`), read, checked and
//! built into a ready [`Doist`](hio_scheduler::Doist).
//!
//! This module owns the manifest's grammar (which keys a manifest has and
//! what each may hold), the errors that name what is wrong in one
//! (file, line and key), the parsed [`Manifest`] and what the command line
//! changes in it (`--option`, `--seed`, `--limit`), and [`build`]ing it into
//! a run. Parsing checks everything it can without loading plugins: every
//! key is known, every value has the right type and range, names are valid
//! and unique among siblings, plugin files exist, and per-doer limits stay
//! within the engine's. Building loads the plugins and runs their
//! `validate`.
//!
//! How a manifest flows:
//!
//! ```text
//!  text ──reader──▶ tables, key paths ──grammar──▶ Manifest ──build──▶ Built { doist, … }
//!       (reader.rs: Ctx, typed     (root.rs and the   (build.rs: plugins loaded once,
//!        values, ManifestError)     sections below)    options validated, specs added)
//! ```
//!
//! - `reader.rs`: the reading toolkit: [`ManifestError`], key paths, the
//!   text's lines, and typed values (numbers, seconds, sizes, names, lists
//!   of strings). It knows nothing of the grammar.
//! - The grammar, each file one part of the schema, reading with the
//!   reader: `root.rs` ([`Manifest`], its root keys and `[[decks]]`),
//!   `settings.rs` ([`RunSettings`]: `tock`, `limit`, `real`, `wake`),
//!   `limits.rs` ([`Limits`], per-doer `limits`, and `[engine]`),
//!   `tree.rs` (the doers: [`Node`], [`Leaf`], [`Group`], `supervision`),
//!   `options.rs` (a doer's `options`), `grants.rs` ([`NetGrants`]: decks,
//!   addresses, spawns, TLS) and `network.rs` (`[net]`, the simulated
//!   network).
//! - `build.rs`: a checked [`Manifest`] to [`Built`], with
//!   [`BuildSettings`] for a wire log or a simulated network.
//!
//! Two keys of the root differ by one letter: `limit` is when the run ends
//! ([`Manifest::end`]); `limits` are the doers' resource caps
//! ([`Leaf::limits`], [`Limits`]).
//!
//! A newcomer starts at [`Manifest::parse`] (`root.rs`), which reads the
//! root and calls one function per section; a new key goes in the section's
//! file, its key list and `docs/formats.md`. The tests are `tests.rs` and
//! the `hio` command's (`tests/cli/`), which check many messages to the byte.
//!
//! ```
//! let text = r#"
//! tock = 0.25
//! [[doers]]
//! name = "a"
//! plugin = "Cargo.toml"   # any existing file passes parsing
//! "#;
//! let m = hio::manifest::Manifest::parse(text, std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("m.toml")).unwrap();
//! assert_eq!(m.tock, 0.25);
//! assert_eq!(m.doers[0].name(), "a");
//! ```

mod build;
mod cluster;
mod crews;
mod grants;
mod limits;
mod lockstep;
mod network;
mod options;
mod reader;
mod remote;
mod root;
mod settings;
#[cfg(test)]
mod tests;
mod tree;

pub use self::build::{BuildError, BuildSettings, Built, RunWallStart, build, build_with};
pub use self::cluster::ClusterSettings;
pub use self::grants::{NetGrants, TlsGrant};
pub use self::limits::{
    DEFAULT_BACKLOG, DEFAULT_CHILDREN, DEFAULT_CONNECT_TIMEOUT, DEFAULT_CONNECTIONS, DEFAULT_FUEL,
    DEFAULT_HANDLES, DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_BACKOFF,
    DEFAULT_MESSAGE, DEFAULT_PEER_CONNECTIONS, DEFAULT_RECONNECT_BACKOFF, DEFAULT_RECV_BUFFER,
    DEFAULT_SEND_BUFFER, Limits,
};
pub use self::reader::ManifestError;
pub use self::root::{InstancePlan, Manifest};
pub use self::settings::RunSettings;
pub use self::tree::{Group, Leaf, Node};
/// An address grant (`host:port`, `host:*` or `*:*`; the `hio-io` crate's).
pub use hio_io::AddrGrant;
/// `wake`: when a real-mode tick starts (the scheduler's own type).
pub use hio_scheduler::Wake;
