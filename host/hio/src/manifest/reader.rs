//! The manifest's reader: the toolkit every section of the grammar reads
//! its keys with. It knows TOML, key paths and lines, and nothing of which
//! keys a manifest has.
//!
//! - [`Ctx`] holds the text being read: its values come from a
//!   `toml::Table` (key order kept), its lines from a second, span-keeping
//!   parse of the same text, looked up by key path only when an error is
//!   made.
//! - [`KeyPath`] is where a value sits (`doers[1].limits.fuel`).
//! - The typed readers ([`Ctx::section`], [`Ctx::number`],
//!   [`Ctx::seconds`], [`Ctx::size`], [`Ctx::strings`], …) take a table, a
//!   key and the table's path, and return `Ok(None)` for an absent key, the
//!   value when it has the right type and range, else a [`ManifestError`]
//!   naming file, line and key.

use std::fmt;
use std::path::{Path, PathBuf};

use hio_scheduler::valid_name;
use toml::de::{DeTable, DeValue};
use toml::{Spanned, Table, Value as Toml};

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

/// What a reader returns: the value, or the error naming file, line and key.
pub(super) type Res<T> = Result<T, ManifestError>;

/// One step of a key path.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Idx(usize),
}

/// A key path into the document, e.g. `doers[1].tock`; the empty path is
/// the root.
#[derive(Debug, Clone, Default)]
pub(super) struct KeyPath(Vec<Seg>);

impl KeyPath {
    /// The path of `k` in the table at this path.
    pub(super) fn key(&self, k: &str) -> KeyPath {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.to_owned()));
        p
    }

    /// The path of item `i` of the array at this path.
    pub(super) fn idx(&self, i: usize) -> KeyPath {
        let mut p = self.clone();
        p.0.push(Seg::Idx(i));
        p
    }

    /// As errors show it: `doers[1].tock`.
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

/// The document being read: its file (named in errors), its folder (which
/// files it names are resolved against) and its text (for lines).
pub(super) struct Ctx<'a> {
    file: PathBuf,
    dir: PathBuf,
    text: &'a str,
    spans: Option<Spanned<DeTable<'a>>>,
}

impl<'a> Ctx<'a> {
    /// Reads `text`, the manifest `file`: the reader and the root table, or
    /// the error of text that is no TOML.
    pub(super) fn read(text: &'a str, file: PathBuf) -> Res<(Ctx<'a>, Table)> {
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
        let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        let cx = Ctx {
            file,
            dir,
            text,
            spans: DeTable::parse(text).ok(),
        };
        Ok((cx, root))
    }
}

impl Ctx<'_> {
    /// A reader of a table that is no manifest text (a wire log's header's
    /// settings): errors name `file` and the key, with no line.
    pub(super) fn without_text(file: PathBuf) -> Ctx<'static> {
        Ctx {
            file,
            dir: PathBuf::new(),
            text: "",
            spans: None,
        }
    }

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

    /// The error at `path`: file, its line, the key and `message`.
    pub(super) fn err(&self, path: &KeyPath, message: impl Into<String>) -> ManifestError {
        ManifestError {
            file: self.file.clone(),
            line: self.line(path),
            key: path.text(),
            message: message.into(),
        }
    }

    /// `v` (at `path`) as a table.
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

    /// Every key of `t` (at `path`) is one of `allowed`.
    pub(super) fn known(&self, t: &Table, allowed: &[&str], path: &KeyPath) -> Res<()> {
        match t.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(self.err(
                &path.key(k),
                format!("unknown key; expected one of {}", allowed.join(", ")),
            )),
            None => Ok(()),
        }
    }

    /// The table at `key` of `t` (`None` when absent), every key of it one
    /// of `allowed`, with its path.
    pub(super) fn section<'v>(
        &self,
        t: &'v Table,
        key: &str,
        path: &KeyPath,
        allowed: &[&str],
    ) -> Res<Option<(&'v Table, KeyPath)>> {
        let Some(v) = t.get(key) else {
            return Ok(None);
        };
        let p = path.key(key);
        let s = self.table(v, &p)?;
        self.known(s, allowed, &p)?;
        Ok(Some((s, p)))
    }

    /// A finite number (an integer or a float).
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

    /// Seconds of tyme (a tock, a limit, a timeout): a finite number >= 0,
    /// or > 0 when `positive`.
    pub(super) fn seconds(
        &self,
        t: &Table,
        key: &str,
        path: &KeyPath,
        positive: bool,
    ) -> Res<Option<f64>> {
        let v = self.number(t, key, path)?;
        match v {
            Some(x) if positive && x <= 0.0 => {
                Err(self.err(&path.key(key), format!("must be > 0, got {x}")))
            }
            Some(x) if x < 0.0 => Err(self.err(&path.key(key), format!("must be >= 0, got {x}"))),
            v => Ok(v),
        }
    }

    /// An integer >= `min`.
    pub(super) fn integer(
        &self,
        t: &Table,
        key: &str,
        path: &KeyPath,
        min: i64,
    ) -> Res<Option<i64>> {
        let p = path.key(key);
        match t.get(key) {
            None => Ok(None),
            Some(Toml::Integer(i)) if *i >= min => Ok(Some(*i)),
            Some(Toml::Integer(i)) => Err(self.err(&p, format!("must be >= {min}, got {i}"))),
            Some(v) => Err(self.err(&p, format!("expected an integer, got {}", v.type_str()))),
        }
    }

    /// A count: an integer >= `min` that fits 32 bits.
    pub(super) fn count(&self, t: &Table, key: &str, path: &KeyPath, min: i64) -> Res<Option<u32>> {
        self.integer(t, key, path, min)?
            .map(|n| {
                u32::try_from(n).map_err(|_| {
                    self.err(
                        &path.key(key),
                        format!("must be at most {}, got {n}", u32::MAX),
                    )
                })
            })
            .transpose()
    }

    /// `true` or `false`.
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

    /// A string.
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

    /// The list of strings at `key`, with their indexes (empty when
    /// absent); `what` names the items in errors.
    pub(super) fn strings<'v>(
        &self,
        t: &'v Table,
        key: &str,
        path: &KeyPath,
        what: &str,
    ) -> Res<Vec<(usize, &'v str)>> {
        let Some(list) = t.get(key) else {
            return Ok(Vec::new());
        };
        let p = path.key(key);
        let list = list.as_array().ok_or_else(|| {
            self.err(
                &p,
                format!("expected a list of {what}, got {}", list.type_str()),
            )
        })?;
        list.iter()
            .enumerate()
            .map(|(i, item)| match item {
                Toml::String(s) => Ok((i, s.as_str())),
                other => Err(self.err(
                    &p.idx(i),
                    format!("expected a string, got {}", other.type_str()),
                )),
            })
            .collect()
    }

    /// The required key `name`: a name the scheduler accepts
    /// (`[A-Za-z0-9_.-]{1,64}`).
    pub(super) fn name<'v>(&self, t: &'v Table, path: &KeyPath) -> Res<&'v str> {
        let name = self
            .string(t, "name", path)?
            .ok_or_else(|| self.err(path, "missing key `name`"))?;
        if !valid_name(name) {
            return Err(self.err(
                &path.key("name"),
                format!("bad name {name:?}: names match [A-Za-z0-9_.-]{{1,64}}"),
            ));
        }
        Ok(name)
    }

    /// A size: integer bytes, or a string like "64KiB", "16MiB", "1GiB".
    pub(super) fn size(&self, t: &Table, key: &str, path: &KeyPath) -> Res<Option<u64>> {
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
