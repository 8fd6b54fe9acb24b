//! Manifest text to [`Manifest`], with every check that needs no plugin.
//!
//! Values come from `toml::Table` (key order kept); lines come from a second,
//! span-keeping parse of the same text, looked up by key path on error.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::{Spanned, Table, Value as Toml};

use std::time::Duration;

use super::grants::grants;
use super::{
    DEFAULT_BACKLOG, DEFAULT_CHILDREN, DEFAULT_CONNECT_TIMEOUT, DEFAULT_CONNECTIONS, DEFAULT_FUEL,
    DEFAULT_HANDLES, DEFAULT_HEADER_TIMEOUT, DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_BACKOFF,
    DEFAULT_MESSAGE, DEFAULT_PEER_CONNECTIONS, DEFAULT_RECONNECT_BACKOFF, DEFAULT_RECV_BUFFER,
    DEFAULT_SEND_BUFFER, Group, Leaf, Limits, Manifest, ManifestError, Node, RunSettings, Wake,
};
use hio_scheduler::DEFAULT_TOCK;
use hio_scheduler::DeckSpec;
use hio_scheduler::valid_name;
use hio_scheduler::{Policy, Supervision};
use hio_wasm::{EngineLimits, Scalar, Value};

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
    "doers",
];
const LEAF_KEYS: &[&str] = &["name", "plugin", "tock", "options", "limits", "grants"];
const GROUP_KEYS: &[&str] = &[
    "name",
    "tock",
    "always",
    "supervision",
    "limits",
    "grants",
    "doers",
];

/// One step of a key path.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Idx(usize),
}

/// A key path into the document, e.g. `doers[1].tock`.
#[derive(Debug, Clone, Default)]
pub(super) struct KeyPath(Vec<Seg>);

impl KeyPath {
    pub(super) fn key(&self, k: &str) -> KeyPath {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_owned()));
        p
    }

    pub(super) fn idx(&self, i: usize) -> KeyPath {
        let mut p = self.clone();
        p.0.push(Seg::Idx(i));
        p
    }

    pub(super) fn text(&self) -> String {
        let mut s = String::new();
        for seg in &self.0 {
            match seg {
                Seg::Key(k) if s.is_empty() => s.push_str(k),
                Seg::Key(k) => {
                    s.push('.');
                    s.push_str(k);
                }
                Seg::Idx(i) => s.push_str(&format!("[{i}]")),
            }
        }
        s
    }
}

pub(super) struct Ctx<'a> {
    file: PathBuf,
    dir: PathBuf,
    text: &'a str,
    spans: Option<Spanned<DeTable<'a>>>,
}

pub(super) type Res<T> = Result<T, ManifestError>;

impl Ctx<'_> {
    /// The line of the deepest part of `path` found in the document.
    pub(super) fn line(&self, path: &KeyPath) -> usize {
        let Some(root) = &self.spans else {
            return 0;
        };
        let mut span = root.span();
        let mut table: Option<&DeTable<'_>> = Some(root.get_ref());
        let mut value: Option<&DeValue<'_>> = None;
        for seg in &path.0 {
            let next = match (seg, table, value) {
                (Seg::Key(k), Some(t), _) => t.get(k.as_str()),
                (Seg::Key(k), None, Some(v)) => v.get(k.as_str()),
                (Seg::Idx(i), _, Some(v)) => v.get(*i),
                _ => None,
            };
            let Some(next) = next else {
                break;
            };
            span = next.span();
            table = None;
            value = Some(next.get_ref());
        }
        self.text[..span.start.min(self.text.len())]
            .bytes()
            .filter(|&b| b == b'\n')
            .count()
            + 1
    }

    pub(super) fn err(&self, path: &KeyPath, message: impl Into<String>) -> ManifestError {
        ManifestError {
            file: self.file.clone(),
            line: self.line(path),
            key: path.text(),
            message: message.into(),
        }
    }

    pub(super) fn table<'v>(&self, v: &'v Toml, path: &KeyPath) -> Res<&'v Table> {
        v.as_table()
            .ok_or_else(|| self.err(path, format!("expected a table, got {}", v.type_str())))
    }

    /// A file named in the manifest, resolved against its folder; it must
    /// exist.
    pub(super) fn file(&self, rel: &str, path: &KeyPath) -> Res<PathBuf> {
        let file = self.dir.join(rel);
        if !file.is_file() {
            return Err(self.err(path, format!("no such file: {}", file.display())));
        }
        Ok(file)
    }

    pub(super) fn known(&self, t: &Table, allowed: &[&str], path: &KeyPath) -> Res<()> {
        match t.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(self.err(
                &path.key(k),
                format!("unknown key; expected one of {}", allowed.join(", ")),
            )),
            None => Ok(()),
        }
    }

    pub(super) fn number(&self, t: &Table, key: &str, path: &KeyPath) -> Res<Option<f64>> {
        let p = path.key(key);
        match t.get(key) {
            None => Ok(None),
            Some(Toml::Integer(i)) => Ok(Some(*i as f64)),
            Some(Toml::Float(f)) if f.is_finite() => Ok(Some(*f)),
            Some(Toml::Float(_)) => Err(self.err(&p, "must be a finite number (not NaN or inf)")),
            Some(v) => Err(self.err(&p, format!("expected a number, got {}", v.type_str()))),
        }
    }

    /// A tock-like number: finite and >= 0 (or > 0 when `positive`).
    fn tock(&self, t: &Table, key: &str, path: &KeyPath, positive: bool) -> Res<Option<f64>> {
        let v = self.number(t, key, path)?;
        match v {
            Some(x) if positive && x <= 0.0 => {
                Err(self.err(&path.key(key), format!("must be > 0, got {x}")))
            }
            Some(x) if x < 0.0 => Err(self.err(&path.key(key), format!("must be >= 0, got {x}"))),
            v => Ok(v),
        }
    }

    fn integer(&self, t: &Table, key: &str, path: &KeyPath, min: i64) -> Res<Option<i64>> {
        let p = path.key(key);
        match t.get(key) {
            None => Ok(None),
            Some(Toml::Integer(i)) if *i >= min => Ok(Some(*i)),
            Some(Toml::Integer(i)) => Err(self.err(&p, format!("must be >= {min}, got {i}"))),
            Some(v) => Err(self.err(&p, format!("expected an integer, got {}", v.type_str()))),
        }
    }

    pub(super) fn boolean(&self, t: &Table, key: &str, path: &KeyPath) -> Res<Option<bool>> {
        match t.get(key) {
            None => Ok(None),
            Some(Toml::Boolean(b)) => Ok(Some(*b)),
            Some(v) => Err(self.err(
                &path.key(key),
                format!("expected true or false, got {}", v.type_str()),
            )),
        }
    }

    pub(super) fn string<'v>(
        &self,
        t: &'v Table,
        key: &str,
        path: &KeyPath,
    ) -> Res<Option<&'v str>> {
        match t.get(key) {
            None => Ok(None),
            Some(Toml::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.err(
                &path.key(key),
                format!("expected a string, got {}", v.type_str()),
            )),
        }
    }

    /// A size: integer bytes, or a string like "64KiB", "16MiB", "1GiB".
    fn size(&self, t: &Table, key: &str, path: &KeyPath) -> Res<Option<u64>> {
        let p = path.key(key);
        let bad = |what: &str| {
            self.err(&p, format!("{what}: a size is an integer of bytes or a string like \"64KiB\", \"16MiB\", \"1GiB\""))
        };
        match t.get(key) {
            None => Ok(None),
            Some(Toml::Integer(i)) => u64::try_from(*i).map(Some).map_err(|_| bad("negative")),
            Some(Toml::String(s)) => {
                let s = s.trim();
                let (digits, unit) = match s.find(|c: char| !c.is_ascii_digit() && c != '_') {
                    Some(at) => s.split_at(at),
                    None => (s, ""),
                };
                let n: u64 = digits
                    .replace('_', "")
                    .parse()
                    .map_err(|_| bad(&format!("bad size {s:?}")))?;
                let mult: u64 = match unit.trim() {
                    "" | "B" => 1,
                    "KiB" => 1 << 10,
                    "MiB" => 1 << 20,
                    "GiB" => 1 << 30,
                    u => return Err(bad(&format!("unknown unit {u:?}"))),
                };
                n.checked_mul(mult)
                    .map(Some)
                    .ok_or_else(|| bad("too large"))
            }
            Some(v) => Err(bad(&format!("got {}", v.type_str()))),
        }
    }
}

pub(super) fn parse(text: &str, file: PathBuf) -> Res<Manifest> {
    let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut cx = Ctx {
        file: file.clone(),
        dir,
        text,
        spans: None,
    };
    let root: Table = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |s| {
            text[..s.start.min(text.len())].matches('\n').count() + 1
        });
        ManifestError {
            file: file.clone(),
            line,
            key: String::new(),
            message: format!("not valid TOML: {}", e.message()),
        }
    })?;
    cx.spans = DeTable::parse(text).ok();
    let top = KeyPath::default();
    cx.known(&root, ROOT_KEYS, &top)?;
    let RunSettings {
        tock,
        limit,
        real,
        wake,
    } = run_settings(&cx, &root, &top)?;
    let seed = cx
        .integer(&root, "seed", &top, 0)?
        .unwrap_or(0)
        .unsigned_abs();
    let supervision = supervision(&cx, &root, &top)?;
    let sim = super::network::net(&cx, &root, &top, seed)?;
    let engine = engine(&cx, &root, &top)?;
    let limits = limits(&cx, &root, &top, default_limits(&engine), &engine)?;
    let decks = decks(&cx, &root, &top)?;
    let deck_names: BTreeSet<&str> = decks.iter().map(|d| d.name.as_str()).collect();
    let doers = match root.get("doers") {
        None => return Err(cx.err(&top, "missing key `doers` (the list of doers to run)")),
        Some(v) => nodes(&cx, v, &top.key("doers"), limits, &engine, &deck_names)?,
    };
    Ok(Manifest {
        path: file,
        text: text.to_owned(),
        tock,
        limit,
        real,
        wake,
        seed,
        supervision,
        engine,
        decks,
        sim,
        doers,
    })
}

/// The run's settings at the root of `t` (`tock`, `limit`, `real`,
/// `wake`), read and checked: a manifest's, and the ones a wire log's
/// header keeps.
fn run_settings(cx: &Ctx<'_>, t: &Table, top: &KeyPath) -> Res<RunSettings> {
    let tock = cx.tock(t, "tock", top, true)?.unwrap_or(DEFAULT_TOCK);
    let limit = cx.tock(t, "limit", top, true)?;
    let real = cx.boolean(t, "real", top)?.unwrap_or(false);
    let wake = match cx.string(t, "wake", top)? {
        None | Some("grid") => Wake::Grid,
        Some("io") if real => Wake::Io,
        Some("io") => return Err(cx.err(&top.key("wake"), "\"io\" needs real = true")),
        Some(other) => {
            return Err(cx.err(
                &top.key("wake"),
                format!("expected \"grid\" or \"io\", got {other:?}"),
            ));
        }
    };
    Ok(RunSettings {
        tock,
        limit,
        real,
        wake,
    })
}

/// [`run_settings`] of a table that is no manifest (a wire log's header's
/// settings): errors name `file` and the key, with no line.
pub(super) fn settings_of(t: &Table, file: PathBuf) -> Res<RunSettings> {
    let cx = Ctx {
        file,
        dir: PathBuf::new(),
        text: "",
        spans: None,
    };
    run_settings(&cx, t, &KeyPath::default())
}

fn supervision(cx: &Ctx<'_>, t: &Table, path: &KeyPath) -> Res<Supervision> {
    let Some(v) = t.get("supervision") else {
        return Ok(Supervision::default());
    };
    let p = path.key("supervision");
    let s = cx.table(v, &p)?;
    cx.known(
        s,
        &["policy", "max_restarts", "backoff", "max_backoff", "window"],
        &p,
    )?;
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
        backoff: cx.tock(s, "backoff", &p, false)?,
        max_backoff: cx.tock(s, "max_backoff", &p, false)?,
        window: cx.tock(s, "window", &p, true)?,
    })
}

fn engine(cx: &Ctx<'_>, t: &Table, path: &KeyPath) -> Res<EngineLimits> {
    let mut e = EngineLimits::default();
    let Some(v) = t.get("engine") else {
        return Ok(e);
    };
    let p = path.key("engine");
    let s = cx.table(v, &p)?;
    cx.known(
        s,
        &[
            "max_memory",
            "max_wasm_stack",
            "max_table_elements",
            "watchdog",
        ],
        &p,
    )?;
    if let Some(m) = cx.size(s, "max_memory", &p)? {
        if m < 64 << 10 {
            return Err(cx.err(
                &p.key("max_memory"),
                "must be at least 64KiB (one Wasm page)",
            ));
        }
        e.max_memory = m;
    }
    if let Some(m) = cx.size(s, "max_wasm_stack", &p)? {
        if m < 4 << 10 {
            return Err(cx.err(&p.key("max_wasm_stack"), "must be at least 4KiB"));
        }
        e.max_wasm_stack = usize::try_from(m).unwrap_or(usize::MAX);
    }
    if let Some(n) = cx.integer(s, "max_table_elements", &p, 1)? {
        e.max_table_elements = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(secs) = cx.tock(s, "watchdog", &p, false)? {
        // Kept as given (0 = off); it applies in real mode only.
        e.watchdog = Some(
            Duration::try_from_secs_f64(secs)
                .map_err(|_| cx.err(&p.key("watchdog"), format!("{secs} s is not a duration")))?,
        );
    }
    Ok(e)
}

const LIMIT_KEYS: &[&str] = &[
    "memory",
    "fuel",
    "message",
    "handles",
    "host_bytes",
    "connections",
    "backlog",
    "peer_connections",
    "recv_buffer",
    "send_buffer",
    "connect_timeout",
    "idle_timeout",
    "header_timeout",
    "reconnect_backoff",
    "max_backoff",
    "children",
];

/// The limits every doer starts from, before the root's `limits`.
fn default_limits(engine: &EngineLimits) -> Limits {
    Limits {
        memory: engine.max_memory,
        fuel: DEFAULT_FUEL,
        message: DEFAULT_MESSAGE,
        handles: DEFAULT_HANDLES,
        host_bytes: hio_wasm::DEFAULT_HOST_BYTES,
        connections: DEFAULT_CONNECTIONS,
        backlog: DEFAULT_BACKLOG,
        peer_connections: DEFAULT_PEER_CONNECTIONS,
        recv_buffer: DEFAULT_RECV_BUFFER,
        send_buffer: DEFAULT_SEND_BUFFER,
        connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        idle_timeout: DEFAULT_IDLE_TIMEOUT,
        header_timeout: DEFAULT_HEADER_TIMEOUT,
        reconnect_backoff: DEFAULT_RECONNECT_BACKOFF,
        max_backoff: DEFAULT_MAX_BACKOFF,
        children: DEFAULT_CHILDREN,
    }
}

fn limits(
    cx: &Ctx<'_>,
    t: &Table,
    path: &KeyPath,
    base: Limits,
    engine: &EngineLimits,
) -> Res<Limits> {
    let Some(v) = t.get("limits") else {
        return Ok(base);
    };
    let p = path.key("limits");
    let s = cx.table(v, &p)?;
    cx.known(s, LIMIT_KEYS, &p)?;
    let mut l = base;
    if let Some(m) = cx.size(s, "memory", &p)? {
        if m > engine.max_memory {
            return Err(cx.err(
                &p.key("memory"),
                format!(
                    "{m} bytes is above the engine's max_memory ({} bytes)",
                    engine.max_memory
                ),
            ));
        }
        l.memory = m;
    }
    if let Some(f) = cx.integer(s, "fuel", &p, 1)? {
        l.fuel = f.unsigned_abs();
    }
    if let Some(m) = cx.size(s, "message", &p)? {
        l.message = m;
    }
    if let Some(b) = cx.size(s, "host_bytes", &p)? {
        l.host_bytes = b;
    }
    let count = |key: &str, min: i64| -> Res<Option<u32>> {
        cx.integer(s, key, &p, min)?
            .map(|n| {
                u32::try_from(n).map_err(|_| {
                    cx.err(
                        &p.key(key),
                        format!("must be at most {}, got {n}", u32::MAX),
                    )
                })
            })
            .transpose()
    };
    for (key, field, min) in [
        ("handles", &mut l.handles, 1),
        ("connections", &mut l.connections, 1),
        ("backlog", &mut l.backlog, 1),
        ("peer_connections", &mut l.peer_connections, 1),
        ("children", &mut l.children, 0),
    ] {
        if let Some(n) = count(key, min)? {
            *field = n;
        }
    }
    for (key, field) in [
        ("recv_buffer", &mut l.recv_buffer),
        ("send_buffer", &mut l.send_buffer),
    ] {
        match cx.size(s, key, &p)? {
            Some(0) => return Err(cx.err(&p.key(key), "must be at least 1 byte")),
            Some(n) => *field = n,
            None => {}
        }
    }
    for (key, field, positive) in [
        ("connect_timeout", &mut l.connect_timeout, false),
        ("idle_timeout", &mut l.idle_timeout, false),
        ("header_timeout", &mut l.header_timeout, false),
        ("reconnect_backoff", &mut l.reconnect_backoff, true),
        ("max_backoff", &mut l.max_backoff, false),
    ] {
        if let Some(x) = cx.tock(s, key, &p, positive)? {
            *field = x;
        }
    }
    if l.max_backoff < l.reconnect_backoff {
        // Blame the key this table sets (max_backoff, else reconnect_backoff).
        let key = if s.contains_key("max_backoff") {
            "max_backoff"
        } else {
            "reconnect_backoff"
        };
        return Err(cx.err(
            &p.key(key),
            format!(
                "max_backoff ({}) must be >= reconnect_backoff ({})",
                l.max_backoff, l.reconnect_backoff
            ),
        ));
    }
    Ok(l)
}

fn decks(cx: &Ctx<'_>, t: &Table, path: &KeyPath) -> Res<Vec<DeckSpec>> {
    let Some(v) = t.get("decks") else {
        return Ok(Vec::new());
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
        cx.known(d, &["name", "capacity", "max_item"], &ip)?;
        let name = cx
            .string(d, "name", &ip)?
            .ok_or_else(|| cx.err(&ip, "missing key `name`"))?;
        if !valid_name(name) {
            return Err(cx.err(
                &ip.key("name"),
                format!("bad name {name:?}: names match [A-Za-z0-9_.-]{{1,64}}"),
            ));
        }
        if out.iter().any(|o| o.name == name) {
            return Err(cx.err(&ip.key("name"), format!("duplicate deck name {name:?}")));
        }
        let capacity = cx.integer(d, "capacity", &ip, 1)?.unwrap_or(64);
        let max_item = cx.size(d, "max_item", &ip)?.unwrap_or(64 << 10);
        out.push(DeckSpec {
            name: name.to_owned(),
            capacity: usize::try_from(capacity).unwrap_or(usize::MAX),
            max_item: usize::try_from(max_item).unwrap_or(usize::MAX),
        });
    }
    Ok(out)
}

fn nodes(
    cx: &Ctx<'_>,
    v: &Toml,
    path: &KeyPath,
    limits: Limits,
    engine: &EngineLimits,
    decks: &BTreeSet<&str>,
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
        let node = node(cx, item, &ip, limits, engine, decks)?;
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
    engine: &EngineLimits,
    decks: &BTreeSet<&str>,
) -> Res<Node> {
    let t = cx.table(v, path)?;
    let name = cx
        .string(t, "name", path)?
        .ok_or_else(|| cx.err(path, "missing key `name`"))?;
    if !valid_name(name) {
        return Err(cx.err(
            &path.key("name"),
            format!("bad name {name:?}: names match [A-Za-z0-9_.-]{{1,64}}"),
        ));
    }
    let tock = cx.tock(t, "tock", path, false)?.unwrap_or(0.0);
    let limits = limits(cx, t, path, inherited, engine)?;
    let leaf = t.contains_key("plugin") && !t.contains_key("doers");
    let (grants, net) = grants(cx, t, path, decks, leaf)?;
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
                supervision: supervision(cx, t, path)?,
                grants,
                doers: nodes(cx, children, &path.key("doers"), limits, engine, decks)?,
            }))
        }
    }
}

/// Why an option's value was refused: the list index at fault, if any.
type OptionError = (Option<usize>, String);

fn scalar(v: &Toml) -> Result<Scalar, String> {
    match v {
        Toml::Boolean(b) => Ok(Scalar::Boolean(*b)),
        Toml::Integer(i) => Ok(Scalar::Integer(*i)),
        Toml::Float(f) if f.is_finite() => Ok(Scalar::Float(*f)),
        Toml::Float(_) => Err("must be a finite number (not NaN or inf)".to_owned()),
        Toml::String(s) => Ok(Scalar::Text(s.clone())),
        other => Err(format!(
            "an option is a boolean, integer, float, string or a list of those, not {}",
            other.type_str()
        )),
    }
}

/// An option's TOML value as the plugin sees it: a scalar or a list of
/// scalars.
fn option_value(v: &Toml) -> Result<Value, OptionError> {
    match v {
        Toml::Array(items) => items
            .iter()
            .enumerate()
            .map(|(i, item)| scalar(item).map_err(|e| (Some(i), e)))
            .collect::<Result<_, _>>()
            .map(Value::List),
        other => scalar(other).map(Value::Scalar).map_err(|e| (None, e)),
    }
}

/// An option's value written on the command line: a TOML value (`3`,
/// `true`, `"x"`, `[1, 2]`), else the text itself as a string.
pub(super) fn option_text(text: &str) -> Result<Value, String> {
    let toml = text
        .parse::<Toml>()
        .unwrap_or_else(|_| Toml::String(text.to_owned()));
    option_value(&toml).map_err(|(at, e)| match at {
        Some(i) => format!("item {i}: {e}"),
        None => e,
    })
}

fn options(cx: &Ctx<'_>, t: &Table, path: &KeyPath) -> Res<Vec<(String, Value)>> {
    let Some(v) = t.get("options") else {
        return Ok(Vec::new());
    };
    let p = path.key("options");
    let table = cx.table(v, &p)?;
    let mut out = Vec::with_capacity(table.len());
    for (k, v) in table {
        let kp = p.key(k);
        let value = option_value(v).map_err(|(at, e)| match at {
            Some(i) => cx.err(&kp.idx(i), e),
            None => cx.err(&kp, e),
        })?;
        out.push((k.clone(), value));
    }
    Ok(out)
}
