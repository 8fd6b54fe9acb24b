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
mod parse;

use std::fmt;
use std::path::PathBuf;

pub use self::build::{BuildError, Built, build};
use hio_scheduler::Supervision;
/// `wake`: when a real-mode tick starts (the scheduler's own type).
pub use hio_scheduler::Wake;
use hio_scheduler::{DeckSpec, Grants};
use hio_wasm::{EngineLimits, Value};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
}

/// Default fuel per hook call.
pub const DEFAULT_FUEL: u64 = 10_000_000;
/// Default largest message (deck item) per doer.
pub const DEFAULT_MESSAGE: u64 = 64 << 10;
/// Default host-side handles per doer.
pub const DEFAULT_HANDLES: u32 = 1024;

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
}
