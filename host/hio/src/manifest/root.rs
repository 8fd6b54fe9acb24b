//! The manifest's root: [`Manifest`], read from its root table (the run's
//! settings, `seed`, `supervision`, `[engine]`, root `limits`, `[[decks]]`,
//! `[net]`, `[[doers]]`), and what a parsed manifest answers or lets the
//! command line change (`--option`, `--seed`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use toml::Table;

use super::limits::{default_limits, engine, limits};
use super::network::net;
use super::options::option_text;
use super::reader::{Ctx, KeyPath, ManifestError, Res};
use super::settings::{RunSettings, run_settings};
use super::tree::{Leaf, Node, Scope, nodes, supervision};
use hio_scheduler::{DeckSpec, Supervision, Wake};
use hio_wasm::EngineLimits;

const ROOT_KEYS: &[&str] = &[
    "tock",
    "limit",
    "real",
    "wake",
    "seed",
    "supervision",
    "limits",
    "engine",
    "decks",
    "net",
    "cluster",
    "doers",
];
const DECK_KEYS: &[&str] = &["name", "capacity", "max_item", "remote"];

/// A parsed, checked manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// The file it came from.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// Doist tock.
    pub tock: f64,
    /// The tyme the run ends at (the key `limit`, `--limit`); `None`: it
    /// runs until its doers are done. Not the doers' resource caps, which
    /// are each leaf's [`Leaf::limits`] (the key `limits`).
    pub end: Option<f64>,
    /// Real mode.
    pub real: bool,
    /// Real-mode wake.
    pub wake: Wake,
    /// Run seed.
    pub seed: u64,
    /// Policy for the top-level doers.
    pub supervision: Supervision,
    /// Engine-wide caps (`[engine]`).
    pub engine: EngineLimits,
    /// Declared decks.
    pub decks: Vec<DeckSpec>,
    /// The simulated network (`[net] mode = "sim"`), seeded with the run's
    /// seed; `None`: real sockets.
    pub sim: Option<hio_io::SimConfig>,
    /// The top-level doers.
    pub doers: Vec<Node>,
    /// `[cluster]`: this host's link to the others.
    pub cluster: Option<super::cluster::ClusterSettings>,
    /// The decks declared `remote = true` (carried by the cluster).
    pub remote_decks: BTreeSet<String>,
}

/// One instance a run starts with: its plugin, its share group (none for a
/// doer's own), and the paths of the doers it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct InstancePlan {
    /// The component file.
    pub plugin: PathBuf,
    /// Its share group, if its doers share it.
    pub share: Option<String>,
    /// The doers it holds, by path, in manifest order.
    pub doers: Vec<String>,
    /// The crew it lives in (0: none): a share group's doers in different
    /// crews get an instance per crew, each on its crew's thread.
    pub crew: u32,
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
        root(text, path.into())
    }

    /// Every leaf of the tree, depth-first in order.
    pub fn leaves(&self) -> Vec<&Leaf> {
        self.doers.iter().flat_map(Node::leaves).collect()
    }

    /// The instances a run of it starts with, in the order of their first
    /// doer: one per doer without `share`, one per plugin and share group.
    pub fn instance_plan(&self) -> Vec<InstancePlan> {
        let mut plans: Vec<InstancePlan> = Vec::new();
        let mut paths = Vec::new();
        for node in &self.doers {
            node.leaf_paths("", &mut paths);
        }
        let crews = self.leaf_crews();
        for (path, leaf) in paths {
            let crew = crews.get(&path).copied().unwrap_or(0);
            let joined = leaf.share.as_ref().and_then(|share| {
                plans.iter_mut().find(|p| {
                    p.share.as_ref() == Some(share) && p.plugin == leaf.plugin && p.crew == crew
                })
            });
            match joined {
                Some(plan) => plan.doers.push(path),
                None => plans.push(InstancePlan {
                    plugin: leaf.plugin.clone(),
                    share: leaf.share.clone(),
                    doers: vec![path],
                    crew,
                }),
            }
        }
        plans
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

    /// The most instances the tree can have alive at once: one per doer
    /// without `share`; two per share group (a fresh one after a trap,
    /// while doers still hold the old); the children of the doers granted
    /// `spawn` (children spawn none); and one per plugin, which runs
    /// `validate`.
    pub fn instances(&self) -> usize {
        let doers: usize = self
            .instance_plan()
            .iter()
            .map(|plan| if plan.share.is_some() { 2 } else { 1 })
            .sum();
        let children: usize = self
            .leaves()
            .iter()
            .filter(|l| !l.net.spawn.is_empty())
            .map(|l| l.limits.children as usize)
            .sum();
        doers + children + self.plugins().len()
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
        let value = option_text(value)?;
        let leaf = self.leaf_mut(path)?;
        match leaf.options.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value,
            None => leaf.options.push((key.to_owned(), value)),
        }
        Ok(())
    }
}

/// Refuses a share group whose doers ask for different instance-wide
/// limits (`memory`, `handles`): the instance has one of each, and a
/// doer's would be silently the first doer's.
fn one_limit_per_instance(file: &std::path::Path, doers: &[Node]) -> Res<()> {
    let mut paths = Vec::new();
    for node in doers {
        node.leaf_paths("", &mut paths);
    }
    let mut first: BTreeMap<(&PathBuf, &str), (&str, &Leaf)> = BTreeMap::new();
    for (path, leaf) in &paths {
        let Some(share) = leaf.share.as_deref() else {
            continue;
        };
        let Some((by, other)) = first.get(&(&leaf.plugin, share)) else {
            first.insert((&leaf.plugin, share), (path, leaf));
            continue;
        };
        let differs = [
            ("memory", leaf.limits.memory != other.limits.memory),
            ("handles", leaf.limits.handles != other.limits.handles),
        ];
        if let Some((key, _)) = differs.iter().find(|(_, d)| *d) {
            return Err(ManifestError {
                file: file.to_owned(),
                line: leaf.line,
                key: format!("{}.limits.{key}", leaf.key),
                message: format!(
                    "{path} shares an instance with {by} (share {share:?}) but sets another \
                     `{key}` limit: an instance has one; give the doers of a share group the same"
                ),
            });
        }
    }
    Ok(())
}

/// Manifest text to a [`Manifest`], with every check that needs no plugin.
fn root(text: &str, file: PathBuf) -> Res<Manifest> {
    let (cx, root) = Ctx::read(text, file.clone())?;
    let top = KeyPath::default();
    cx.known(&root, ROOT_KEYS, &top)?;
    let RunSettings {
        tock,
        end,
        real,
        wake,
    } = run_settings(&cx, &root, &top)?;
    let seed = cx
        .integer(&root, "seed", &top, 0)?
        .unwrap_or(0)
        .unsigned_abs();
    let supervision = supervision(&cx, &root, &top)?;
    let sim = net(&cx, &root, &top, seed)?;
    let engine = engine(&cx, &root, &top)?;
    let limits = limits(&cx, &root, &top, default_limits(&engine), &engine)?;
    let cluster = super::cluster::cluster(&cx, &root, &top)?;
    let (decks, remote_decks) = decks(&cx, &root, &top)?;
    if let Some(remote) = remote_decks.iter().next()
        && cluster.is_none()
    {
        let i = decks.iter().position(|d| &d.name == remote).unwrap_or(0);
        return Err(cx.err(
            &top.key("decks").idx(i).key("remote"),
            format!("deck {remote:?} is remote but the manifest has no [cluster] to carry it"),
        ));
    }
    let deck_names: BTreeSet<&str> = decks.iter().map(|d| d.name.as_str()).collect();
    let scope = Scope {
        engine: &engine,
        decks: &deck_names,
    };
    let doers = match root.get("doers") {
        None => return Err(cx.err(&top, "missing key `doers` (the list of doers to run)")),
        Some(v) => nodes(&cx, v, &top.key("doers"), limits, None, &scope)?,
    };
    one_limit_per_instance(&file, &doers)?;
    Ok(Manifest {
        path: file,
        text: text.to_owned(),
        tock,
        end,
        real,
        wake,
        seed,
        supervision,
        engine,
        decks,
        sim,
        doers,
        cluster,
        remote_decks,
    })
}

/// The root's `[[decks]]` (names valid and unique), and the remote ones.
fn decks(cx: &Ctx<'_>, t: &Table, path: &KeyPath) -> Res<(Vec<DeckSpec>, BTreeSet<String>)> {
    let mut remote = BTreeSet::new();
    let Some(v) = t.get("decks") else {
        return Ok((Vec::new(), remote));
    };
    let p = path.key("decks");
    let items = v.as_array().ok_or_else(|| {
        cx.err(
            &p,
            format!("expected an array of tables, got {}", v.type_str()),
        )
    })?;
    let mut out: Vec<DeckSpec> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let ip = p.idx(i);
        let d = cx.table(item, &ip)?;
        cx.known(d, DECK_KEYS, &ip)?;
        let name = cx.name(d, &ip)?;
        if out.iter().any(|o| o.name == name) {
            return Err(cx.err(&ip.key("name"), format!("duplicate deck name {name:?}")));
        }
        let capacity = cx.integer(d, "capacity", &ip, 1)?.unwrap_or(64);
        let max_item = cx.size(d, "max_item", &ip)?.unwrap_or(64 << 10);
        if cx.boolean(d, "remote", &ip)?.unwrap_or(false) {
            remote.insert(name.to_owned());
        }
        out.push(DeckSpec {
            name: name.to_owned(),
            capacity: usize::try_from(capacity).unwrap_or(usize::MAX),
            max_item: usize::try_from(max_item).unwrap_or(usize::MAX),
        });
    }
    Ok((out, remote))
}
