//! The tree of doers (`[[doers]]`, nested `doers`): each node a plugin
//! doer ([`Leaf`]) or a DoDoer ([`Group`]), its names unique among
//! siblings, its `limits` and `share` inherited down the tree and its
//! grants not.

use std::collections::BTreeSet;
use std::path::PathBuf;

use toml::{Table, Value as Toml};

use super::grants::{NetGrants, grants};
use super::limits::{Limits, limits};
use super::options::options;
use super::reader::{Ctx, KeyPath, Res};
use hio_scheduler::{Grants, Policy, Supervision};
use hio_wasm::{EngineLimits, Value};

const LEAF_KEYS: &[&str] = &[
    "name", "plugin", "tock", "options", "limits", "grants", "share",
];
const GROUP_KEYS: &[&str] = &[
    "name",
    "tock",
    "share",
    "crew",
    "always",
    "supervision",
    "limits",
    "grants",
    "doers",
];
const SUPERVISION_KEYS: &[&str] = &["policy", "max_restarts", "backoff", "max_backoff", "window"];

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
    /// Effective resource caps (the key `limits`).
    pub limits: Limits,
    /// Deck grants.
    pub grants: Grants,
    /// Network and child grants.
    pub net: NetGrants,
    /// Its share group (its own `share`, or the nearest DoDoer's above
    /// it): doers of one plugin with the same value live in one instance.
    pub share: Option<String>,
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
    /// The share group the doers under it inherit.
    pub share: Option<String>,
    /// A crew: its subtree runs on a worker thread (the key `crew`).
    pub crew: bool,
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

    /// Every leaf below (and including) this node, depth-first, with its
    /// path (`prefix` is its parent's, empty at the top).
    pub fn leaf_paths<'a>(&'a self, prefix: &str, out: &mut Vec<(String, &'a Leaf)>) {
        let path = if prefix.is_empty() {
            self.name().to_owned()
        } else {
            format!("{prefix}/{}", self.name())
        };
        match self {
            Node::Leaf(l) => out.push((path, l)),
            Node::Group(g) => {
                for c in &g.doers {
                    c.leaf_paths(&path, out);
                }
            }
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

/// What every node of the tree is read against: the engine's caps and the
/// declared decks' names.
pub(super) struct Scope<'a> {
    /// The engine-wide caps (a doer's `memory` stays within them).
    pub(super) engine: &'a EngineLimits,
    /// The decks grants may name.
    pub(super) decks: &'a BTreeSet<&'a str>,
}

/// The array of doer tables `v` (at `path`), each node's limits laid over
/// `inherited`, its share group `share` unless it names its own.
pub(super) fn nodes(
    cx: &Ctx<'_>,
    v: &Toml,
    path: &KeyPath,
    inherited: Limits,
    share: Option<&str>,
    scope: &Scope<'_>,
) -> Res<Vec<Node>> {
    let items = v.as_array().ok_or_else(|| {
        cx.err(
            path,
            format!("expected an array of doer tables, got {}", v.type_str()),
        )
    })?;
    let mut names = BTreeSet::new();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let ip = path.idx(i);
        let node = node(cx, item, &ip, inherited, share, scope)?;
        if !names.insert(node.name().to_owned()) {
            return Err(cx.err(
                &ip.key("name"),
                format!("duplicate name {:?} among siblings", node.name()),
            ));
        }
        out.push(node);
    }
    Ok(out)
}

fn node(
    cx: &Ctx<'_>,
    v: &Toml,
    path: &KeyPath,
    inherited: Limits,
    share: Option<&str>,
    scope: &Scope<'_>,
) -> Res<Node> {
    let t = cx.table(v, path)?;
    let name = cx.name(t, path)?;
    let share = match cx.string(t, "share", path)? {
        Some(s) if !hio_scheduler::valid_name(s) => {
            return Err(cx.err(
                &path.key("share"),
                format!("bad share group {s:?}: a group's name matches [A-Za-z0-9_.-]{{1,64}}"),
            ));
        }
        Some(s) => Some(s),
        None => share,
    };
    let tock = cx.seconds(t, "tock", path, false)?.unwrap_or(0.0);
    let limits = limits(cx, t, path, inherited, scope.engine)?;
    let leaf = t.contains_key("plugin") && !t.contains_key("doers");
    let (grants, net) = grants(cx, t, path, scope.decks, leaf)?;
    match (t.get("plugin"), t.get("doers")) {
        (Some(_), Some(_)) => Err(cx.err(
            path,
            "has both `plugin` and `doers`: a doer is one or the other",
        )),
        (None, None) => Err(cx.err(path, "needs `plugin` (a doer) or `doers` (a DoDoer)")),
        (Some(_), None) => {
            cx.known(t, LEAF_KEYS, path)?;
            let rel = cx
                .string(t, "plugin", path)?
                .ok_or_else(|| cx.err(&path.key("plugin"), "expected a path"))?;
            let plugin = cx.file(rel, &path.key("plugin"))?;
            Ok(Node::Leaf(Leaf {
                name: name.to_owned(),
                plugin,
                tock,
                options: options(cx, t, path)?,
                limits,
                grants,
                net,
                share: share.map(str::to_owned),
                line: cx.line(&path.key("name")),
                key: path.text(),
            }))
        }
        (None, Some(children)) => {
            cx.known(t, GROUP_KEYS, path)?;
            Ok(Node::Group(Group {
                name: name.to_owned(),
                tock,
                always: cx.boolean(t, "always", path)?.unwrap_or(false),
                crew: cx.boolean(t, "crew", path)?.unwrap_or(false),
                supervision: supervision(cx, t, path)?,
                grants,
                share: share.map(str::to_owned),
                doers: nodes(cx, children, &path.key("doers"), limits, share, scope)?,
            }))
        }
    }
}

/// The `supervision` of the table `t`: a DoDoer's policy for its children,
/// or the root's for the top-level doers.
pub(super) fn supervision(cx: &Ctx<'_>, t: &Table, path: &KeyPath) -> Res<Supervision> {
    let Some((s, p)) = cx.section(t, "supervision", path, SUPERVISION_KEYS)? else {
        return Ok(Supervision::default());
    };
    let policy = match cx.string(s, "policy", &p)? {
        None | Some("isolate") => Policy::Isolate,
        Some("restart") => Policy::Restart,
        Some("escalate") => Policy::Escalate,
        Some(other) => {
            return Err(cx.err(
                &p.key("policy"),
                format!("expected \"isolate\", \"restart\" or \"escalate\", got {other:?}"),
            ));
        }
    };
    let max_restarts = cx.integer(s, "max_restarts", &p, 0)?.unwrap_or(3);
    Ok(Supervision {
        policy,
        max_restarts: u32::try_from(max_restarts).unwrap_or(u32::MAX),
        backoff: cx.seconds(s, "backoff", &p, false)?,
        max_backoff: cx.seconds(s, "max_backoff", &p, false)?,
        window: cx.seconds(s, "window", &p, true)?,
    })
}
