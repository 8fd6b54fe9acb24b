//! The manifest (TOML): the tree of doers a run builds, its decks, limits and
//! settings (the schema is in docs/formats.md).
//!
//! Parsing checks everything it can without loading plugins: every key is
//! known, every value has the right type and range, names are valid and
//! unique among siblings, plugin files exist, and per-doer limits stay within
//! the engine's. Each error names the file, the line and the key.
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
mod grants;
mod network;
mod parse;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;

pub use self::build::{BuildError, Built, Options, WallClock, build, build_with};
use hio_scheduler::Supervision;
/// `wake`: when a real-mode tick starts (the scheduler's own type).
pub use hio_scheduler::Wake;
use hio_scheduler::{DeckSpec, Grants};
use hio_wasm::{EngineLimits, Value};

/// An address grant (`host:port`, `host:*` or `*:*`; the `hio-io` crate's).
pub use hio_io::AddrGrant;

/// A manifest error: file, line and key at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// The manifest file.
    pub file: PathBuf,
    /// 1-based line (0 when the whole file is at fault).
    pub line: usize,
    /// The key path, e.g. `doers[1].tock`.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}", self.line)?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ManifestError {}

/// Per-doer limits (effective values: nearest ancestor wins, then the root's,
/// then the defaults).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Linear memory cap in bytes.
    pub memory: u64,
    /// Fuel per hook call.
    pub fuel: u64,
    /// Largest deck item the doer may push or pull, in bytes.
    pub message: u64,
    /// Host-side handles (WASI resources) the doer may hold at once.
    pub handles: u32,
    /// Bytes one hook call may hand the host (log messages, deck names and
    /// items, guest output).
    pub host_bytes: u64,
    /// Connections and listeners the doer may hold at once, counting
    /// connections accepted for it but not yet taken.
    pub connections: u32,
    /// Accepted connections waiting per listener.
    pub backlog: u32,
    /// Connections one peer address may hold at once on one of the doer's
    /// listeners; more from it are closed as they are accepted.
    pub peer_connections: u32,
    /// Receive buffer per connection, in bytes.
    pub recv_buffer: u64,
    /// Send buffer per connection, in bytes.
    pub send_buffer: u64,
    /// Seconds of tyme a connect (with its TLS handshake) may take; 0 = no
    /// timeout.
    pub connect_timeout: f64,
    /// Seconds of tyme a connection may stay idle; 0 = no timeout.
    pub idle_timeout: f64,
    /// Seconds of tyme an HTTP request head may take to arrive (408 and
    /// close after it); 0 = no timeout.
    pub header_timeout: f64,
    /// First back-off before a reconnect, in seconds of tyme (doubles on
    /// each retry).
    pub reconnect_backoff: f64,
    /// Longest back-off between reconnects, in seconds of tyme.
    pub max_backoff: f64,
    /// Child doers the doer may have spawned and alive at once.
    pub children: u32,
}

/// Default fuel per hook call.
pub const DEFAULT_FUEL: u64 = 10_000_000;
/// Default largest message (deck item) per doer.
pub const DEFAULT_MESSAGE: u64 = 64 << 10;
/// Default host-side handles per doer.
pub const DEFAULT_HANDLES: u32 = 1024;
/// Default connections (and listeners) per doer.
pub const DEFAULT_CONNECTIONS: u32 = 256;
/// Default accepted connections waiting per listener.
pub const DEFAULT_BACKLOG: u32 = 64;
/// Default connections per peer address and listener: three quarters of
/// the default `connections`, so one client cannot take them all (64 stay
/// for everyone else), and a benchmark of up to 192 connections from one
/// address still works.
pub const DEFAULT_PEER_CONNECTIONS: u32 = 192;
/// Default receive buffer per connection, in bytes.
pub const DEFAULT_RECV_BUFFER: u64 = 64 << 10;
/// Default send buffer per connection, in bytes.
pub const DEFAULT_SEND_BUFFER: u64 = 64 << 10;
/// Default connect timeout, in seconds of tyme.
pub const DEFAULT_CONNECT_TIMEOUT: f64 = 10.0;
/// Default idle timeout, in seconds of tyme.
pub const DEFAULT_IDLE_TIMEOUT: f64 = 60.0;
/// Default time an HTTP request head may take to arrive.
pub const DEFAULT_HEADER_TIMEOUT: f64 = 10.0;
/// Default first back-off before a reconnect, in seconds of tyme.
pub const DEFAULT_RECONNECT_BACKOFF: f64 = 0.125;
/// Default longest back-off between reconnects, in seconds of tyme.
pub const DEFAULT_MAX_BACKOFF: f64 = 4.0;
/// Default child doers alive at once per doer.
pub const DEFAULT_CHILDREN: u32 = 64;

/// A leaf's network and child grants (`grants.listen`, `connect`, `spawn`,
/// `tls`); never inherited. Empty grants grant nothing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NetGrants {
    /// Addresses the doer may listen on.
    pub listen: Vec<AddrGrant>,
    /// Addresses the doer may connect to.
    pub connect: Vec<AddrGrant>,
    /// Plugins the doer may spawn as children: the name as the manifest
    /// writes it (the guest names the plugin by it) and the file it
    /// resolves to (against the manifest's folder).
    pub spawn: Vec<(String, PathBuf)>,
    /// TLS files and settings.
    pub tls: TlsGrant,
}

/// A leaf's TLS grant (`grants.tls`); file paths are resolved against the
/// manifest's folder and exist.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TlsGrant {
    /// The certificate chain (PEM) a TLS listener presents; set with `key`.
    pub cert: Option<PathBuf>,
    /// The private key (PEM) of `cert`; set with `cert`.
    pub key: Option<PathBuf>,
    /// Extra root certificates (PEM) a TLS connect trusts.
    pub roots: Vec<PathBuf>,
    /// Trust the bundled Mozilla roots (webpki-roots) on connect.
    pub webpki_roots: bool,
    /// Trust the operating system's roots on connect.
    pub platform_roots: bool,
    /// The names a TLS connect may verify a server as.
    pub server_names: Vec<String>,
}

impl NetGrants {
    /// Whether it grants any listen or connect address.
    pub fn uses_network(&self) -> bool {
        !self.listen.is_empty() || !self.connect.is_empty()
    }
}

/// A leaf doer: a plugin instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Leaf {
    /// Its name.
    pub name: String,
    /// The component file (resolved against the manifest's folder).
    pub plugin: PathBuf,
    /// Its tock.
    pub tock: f64,
    /// Options passed to `validate` and `enter`, in the manifest's order.
    pub options: Vec<(String, Value)>,
    /// Effective limits.
    pub limits: Limits,
    /// Deck grants.
    pub grants: Grants,
    /// Network and child grants.
    pub net: NetGrants,
    /// Line of its `name` key.
    pub line: usize,
    /// Its key path, e.g. `doers[0].doers[2]`.
    pub key: String,
}

/// A DoDoer.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// Its name.
    pub name: String,
    /// Its tock.
    pub tock: f64,
    /// Keep running when empty.
    pub always: bool,
    /// Policy for its children.
    pub supervision: Supervision,
    /// Deck grants (not inherited by children).
    pub grants: Grants,
    /// Its children.
    pub doers: Vec<Node>,
}

/// A node of the tree.
#[derive(Debug, Clone, PartialEq)]
// A manifest is parsed once and holds few nodes; boxing leaves would only
// make every match on a node noisier.
#[allow(clippy::large_enum_variant)]
pub enum Node {
    /// A plugin doer.
    Leaf(Leaf),
    /// A DoDoer.
    Group(Group),
}

impl Node {
    /// The node's name.
    pub fn name(&self) -> &str {
        match self {
            Node::Leaf(l) => &l.name,
            Node::Group(g) => &g.name,
        }
    }

    /// Every leaf below (and including) this node, depth-first.
    pub fn leaves(&self) -> Vec<&Leaf> {
        match self {
            Node::Leaf(l) => vec![l],
            Node::Group(g) => g.doers.iter().flat_map(Node::leaves).collect(),
        }
    }
}

/// The run's settings a manifest's root sets (`tock`, `limit`, `real`,
/// `wake`), checked by the manifest's rules: a tock finite and > 0, a limit
/// finite and > 0 (or none), `wake = "io"` only with `real = true`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunSettings {
    /// Doist tock.
    pub tock: f64,
    /// Stop at this tyme, if set.
    pub limit: Option<f64>,
    /// Real mode.
    pub real: bool,
    /// Real-mode wake.
    pub wake: Wake,
}

impl RunSettings {
    /// Reads and checks these keys of `table` as a manifest's root keys
    /// are (absent ones get a manifest's defaults; other keys are not
    /// looked at): a wire log's header keeps them so, and a replay holds
    /// them to the same rules. `file` names the table in errors.
    pub fn from_table(
        table: &toml::Table,
        file: impl Into<PathBuf>,
    ) -> Result<RunSettings, ManifestError> {
        parse::settings_of(table, file.into())
    }
}

/// A parsed, checked manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The file it came from.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// Doist tock.
    pub tock: f64,
    /// Stop at this tyme, if set.
    pub limit: Option<f64>,
    /// Real mode.
    pub real: bool,
    /// Real-mode wake.
    pub wake: Wake,
    /// Run seed.
    pub seed: u64,
    /// Policy for the top-level doers.
    pub supervision: Supervision,
    /// Engine-wide limits.
    pub engine: EngineLimits,
    /// Declared decks.
    pub decks: Vec<DeckSpec>,
    /// The simulated network (`[net] mode = "sim"`), seeded with the run's
    /// seed; `None`: real sockets.
    pub sim: Option<hio_io::SimConfig>,
    /// The top-level doers.
    pub doers: Vec<Node>,
}

impl Manifest {
    /// Reads and parses a manifest file.
    pub fn load(path: impl Into<PathBuf>) -> Result<Manifest, ManifestError> {
        let path = path.into();
        let text = std::fs::read_to_string(&path).map_err(|e| ManifestError {
            file: path.clone(),
            line: 0,
            key: String::new(),
            message: format!("cannot read: {e}"),
        })?;
        Manifest::parse(&text, path)
    }

    /// Parses manifest text; `path` names it in errors and anchors relative
    /// plugin paths.
    pub fn parse(text: &str, path: impl Into<PathBuf>) -> Result<Manifest, ManifestError> {
        parse::parse(text, path.into())
    }

    /// Every leaf of the tree, depth-first in order.
    pub fn leaves(&self) -> Vec<&Leaf> {
        self.doers.iter().flat_map(Node::leaves).collect()
    }

    /// Every plugin a run of it loads: each leaf's, and each one a leaf
    /// may spawn (`grants.spawn`), once each, sorted (as `Built::plugins`
    /// lists them).
    pub fn plugins(&self) -> Vec<PathBuf> {
        let mut all = std::collections::BTreeSet::new();
        for leaf in self.leaves() {
            all.insert(leaf.plugin.clone());
            all.extend(leaf.net.spawn.iter().map(|(_, p)| p.clone()));
        }
        all.into_iter().collect()
    }

    /// Applies one `--option PATH.KEY=VALUE`: PATH is split from KEY at the
    /// last `.` before the `=` (doer names may hold dots; an option whose
    /// name holds one cannot be set this way). See [`Manifest::set_option`].
    pub fn apply_option(&mut self, flag: &str) -> Result<(), String> {
        let Some((target, value)) = flag.split_once('=') else {
            return Err("missing `=`: write PATH.KEY=VALUE (e.g. group/worker.stop=5)".into());
        };
        let Some((path, key)) = target.rsplit_once('.') else {
            return Err(
                "missing `.` between the doer's path and the option: write PATH.KEY=VALUE".into(),
            );
        };
        if path.is_empty() {
            return Err("the doer's path is empty".into());
        }
        self.set_option(path, key, value)
    }

    /// Its engine limits as `hio run` uses them: a pool slot per doer and
    /// per child every doer granted `spawn` may have alive
    /// (`limits.children`), and the watchdog in real mode (see
    /// `EngineLimits::for_run`).
    pub fn engine_for_run(&self) -> EngineLimits {
        self.engine.clone().for_run(self.instances(), self.real)
    }

    /// The most doer instances the tree can have alive at once: its leaves,
    /// and the children of those granted `spawn` (children spawn none).
    pub fn instances(&self) -> usize {
        self.leaves()
            .iter()
            .map(|l| {
                let children = if l.net.spawn.is_empty() {
                    0
                } else {
                    l.limits.children as usize
                };
                1 + children
            })
            .sum()
    }

    /// Sets the run's seed, which seeds the simulated network too.
    pub fn set_seed(&mut self, seed: u64) {
        self.seed = seed;
        if let Some(sim) = &mut self.sim {
            sim.seed = seed;
        }
    }

    /// Whether any doer is granted an address to listen on or connect to
    /// (the run then uses real sockets).
    pub fn uses_network(&self) -> bool {
        self.leaves().iter().any(|l| l.net.uses_network())
    }

    /// The plugin doer at `path`: names from a top-level doer down, joined
    /// by `/` (`echo`, `group/worker`). The error says what the path names
    /// instead.
    pub fn leaf_mut(&mut self, path: &str) -> Result<&mut Leaf, String> {
        let mut nodes = &mut self.doers;
        let mut walked = String::new();
        let mut names = path.split('/').peekable();
        while let Some(name) = names.next() {
            let here = if walked.is_empty() {
                "at the top level".to_owned()
            } else {
                format!("in {walked}")
            };
            let Some(node) = nodes.iter_mut().find(|n| n.name() == name) else {
                return Err(format!("no doer named {name:?} {here}"));
            };
            if !walked.is_empty() {
                walked.push('/');
            }
            walked.push_str(name);
            match node {
                Node::Leaf(leaf) if names.peek().is_none() => return Ok(leaf),
                Node::Leaf(_) => {
                    return Err(format!("{walked} is a plugin doer, not a DoDoer"));
                }
                Node::Group(_) if names.peek().is_none() => {
                    return Err(format!("{walked} is a DoDoer, not a plugin doer"));
                }
                Node::Group(g) => nodes = &mut g.doers,
            }
        }
        Err("the path is empty".to_owned())
    }

    /// Sets option `key` of the plugin doer at `path` (as
    /// [`Manifest::leaf_mut`] reads it) to `value`, written as a TOML value
    /// (`3`, `true`, `"x"`, `[1, 2]`); text that is no TOML value is taken
    /// as a string (`127.0.0.1:9000`). The option is replaced where the
    /// doer has it, else appended. The value goes through the same checks
    /// as the manifest's options (a scalar or a list of scalars); the
    /// plugin's `validate` sees it when the manifest is built.
    pub fn set_option(&mut self, path: &str, key: &str, value: &str) -> Result<(), String> {
        if key.is_empty() {
            return Err("the option name is empty".to_owned());
        }
        let value = parse::option_text(value)?;
        let leaf = self.leaf_mut(path)?;
        match leaf.options.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value,
            None => leaf.options.push((key.to_owned(), value)),
        }
        Ok(())
    }
}
