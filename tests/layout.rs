//! The README's Layout checked against the tree, both ways: every path the
//! ```` ```text ```` block under `## Layout` names exists, and every folder
//! and file at the places it covers is named. It covers the repository's
//! top level (as tracked by git), each workspace crate's top level, every
//! file under each crate's `src/`, every file of `wit/`, `examples/` and
//! `docs/`, and the folders of `plugins/` and `tests/`. A failure lists
//! what is missing and what is stale, by path from the repository root.
//!
//! How the block is read:
//!
//! - A line names paths in its first column, up to two spaces, then says
//!   what they are: `src/doist.rs          Doist: …`. A line indented more
//!   than two spaces past the line before it that names paths goes on
//!   that line's description.
//! - Paths are relative to the folder named by the nearest line above with
//!   less indent (`host/`, then `  scheduler/`, then `    src/tyme.rs` is
//!   `host/scheduler/src/tyme.rs`). A column may name several, split by
//!   `, `: a bare file name after the first is in the first one's folder
//!   (`src/main.rs, cli.rs`); one with a `/` is relative to the parent
//!   (`src/web.rs, src/net/`).
//! - A description names a file or folder by writing it: a word ending in
//!   a known extension (`doer.rs`) or in `/` (`net/`), looked for in the
//!   folders of its line, then in each folder above (so `tests/sim.rs` in
//!   the description of `host/io/src/sim/` is `host/io/tests/sim.rs`).
//!   This is how a folder lists its files inline (`src/tree/`): each file
//!   it does not name is missing.
//! - A folder's `mod.rs` is named by the folder; a crate folder's
//!   `Cargo.toml` by `crate <package name>` in its description, checked
//!   against the package's name.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Extensions a word of a description must end in to name a file.
const EXTENSIONS: [&str; 14] = [
    "rs", "toml", "md", "wit", "sh", "py", "js", "mjs", "c", "h", "json", "jsonl", "txt", "lock",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap()
}

/// One line of the block that names paths, with its continuation lines.
struct Entry {
    /// The line in README.md, for messages.
    line: usize,
    /// The paths its first column names, from the root; folders end in `/`.
    paths: Vec<String>,
    /// The folders above it, innermost first, ending with the root (``).
    above: Vec<String>,
    description: String,
}

/// The ```text block under `## Layout`, with the README line of each line.
fn layout_block(readme: &str) -> Vec<(usize, &str)> {
    let mut lines = readme.lines().enumerate().map(|(i, l)| (i + 1, l));
    lines
        .by_ref()
        .find(|(_, l)| l.trim_end() == "## Layout")
        .expect("README.md has no `## Layout` section");
    lines
        .by_ref()
        .find(|(_, l)| l.trim_end() == "```text")
        .expect("no ```text block under `## Layout` in README.md");
    lines.take_while(|(_, l)| l.trim_end() != "```").collect()
}

/// Whether `name` can be a path as the Layout writes one.
fn path_like(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
}

/// The entries of the block; a line that cannot be read is an error.
fn entries(block: &[(usize, &str)]) -> Result<Vec<Entry>, String> {
    let mut entries: Vec<Entry> = Vec::new();
    // The folders a line may be under: (indent of its line, path).
    let mut stack: Vec<(usize, String)> = Vec::new();
    let mut last_indent: Option<usize> = None;
    for &(line, text) in block {
        if text.trim().is_empty() {
            continue;
        }
        let indent = text.len() - text.trim_start().len();
        if let (Some(last), Some(entry)) = (last_indent, entries.last_mut())
            && indent > last + 2
        {
            entry.description.push(' ');
            entry.description.push_str(text.trim());
            continue;
        }
        let body = text.trim();
        let (column, description) = body.split_once("  ").unwrap_or((body, ""));
        while stack.last().is_some_and(|(i, _)| *i >= indent) {
            stack.pop();
        }
        let parent = stack.last().map(|(_, p)| p.clone()).unwrap_or_default();
        let mut paths = Vec::new();
        let mut first_folder = String::new();
        for (k, name) in column.split(", ").enumerate() {
            if !path_like(name) {
                return Err(format!(
                    "line {line}: `{name}` in `{column}` is not a path (a line names paths, \
                     split by `, `, then two spaces and what they are)"
                ));
            }
            let path = if k == 0 || name.trim_end_matches('/').contains('/') {
                format!("{parent}{name}")
            } else {
                format!("{parent}{first_folder}{name}")
            };
            if k == 0 {
                first_folder = match name.trim_end_matches('/').rsplit_once('/') {
                    Some((folder, _)) => format!("{folder}/"),
                    None => String::new(),
                };
            }
            paths.push(path);
        }
        let mut above: Vec<String> = stack.iter().rev().map(|(_, p)| p.clone()).collect();
        above.push(String::new());
        if let Some(folder) = paths.iter().find(|p| p.ends_with('/')) {
            stack.push((indent, folder.clone()));
        }
        entries.push(Entry {
            line,
            paths,
            above,
            description: description.trim().to_owned(),
        });
        last_indent = Some(indent);
    }
    Ok(entries)
}

/// The words of `description` that name a file or folder.
fn mentions(description: &str) -> Vec<&str> {
    description
        .split_whitespace()
        .map(|w| w.trim_start_matches(['(', '`', '"']))
        .map(|w| w.trim_end_matches([')', ',', ';', ':', '.', '`', '"']))
        .filter(|w| path_like(w) && w.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| {
            (w.ends_with('/') && w.len() > 1)
                || w.rsplit_once('.')
                    .is_some_and(|(stem, ext)| !stem.is_empty() && EXTENSIONS.contains(&ext))
        })
        .collect()
}

/// Whether `path` (from the root; a folder ends in `/`) is there.
fn exists(root: &Path, path: &str) -> bool {
    match path.strip_suffix('/') {
        Some(folder) => root.join(folder).is_dir(),
        None => root.join(path).is_file(),
    }
}

/// The package name in `folder`'s Cargo.toml.
fn package_name(root: &Path, folder: &str) -> Option<String> {
    let text = std::fs::read_to_string(root.join(folder).join("Cargo.toml")).ok()?;
    let table: toml::Table = text.parse().ok()?;
    Some(table.get("package")?.get("name")?.as_str()?.to_owned())
}

/// The workspace's crate folders, from the root Cargo.toml, each ending in `/`.
fn crate_folders(root: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    let table: toml::Table = text.parse().unwrap();
    table["workspace"]["members"]
        .as_array()
        .expect("[workspace] members")
        .iter()
        .map(|m| format!("{}/", m.as_str().unwrap().trim_end_matches('/')))
        .collect()
}

/// The files git tracks that are there, from the root.
fn tracked_files(root: &Path) -> Vec<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z"])
        .output()
        .unwrap_or_else(|e| panic!("the Layout test runs `git ls-files`: {e}"));
    assert!(
        out.status.success(),
        "git ls-files in {}: {}",
        root.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .split('\0')
        .filter(|f| !f.is_empty() && root.join(f).is_file())
        .map(str::to_owned)
        .collect()
}

/// What the Layout must name: see the module's header.
fn covered_places(root: &Path, files: &[String]) -> BTreeSet<String> {
    // `file` under `folder`, cut to `depth` more parts (a folder ends in
    // `/`); None when it is not under `folder` or has fewer parts.
    let cut = |file: &str, folder: &str, depth: usize| -> Option<String> {
        let rest = file.strip_prefix(folder)?;
        let parts: Vec<&str> = rest.split('/').collect();
        if parts.len() < depth {
            return None;
        }
        let mut path = format!("{folder}{}", parts[..depth].join("/"));
        if parts.len() > depth {
            path.push('/');
        }
        Some(path)
    };
    let mut places = BTreeSet::new();
    let crates = crate_folders(root);
    for file in files {
        places.extend(cut(file, "", 1));
        for folder in &crates {
            places.extend(cut(file, folder, 1));
            if file.starts_with(&format!("{folder}src/")) {
                places.insert(file.clone());
            }
        }
        for folder in ["wit/", "examples/", "docs/"] {
            if file.starts_with(folder) {
                places.insert(file.clone());
            }
        }
        for folder in ["plugins/", "tests/"] {
            places.extend(cut(file, folder, 1).filter(|p| p.ends_with('/')));
        }
    }
    places
}

#[test]
fn the_readmes_layout_names_every_file_and_folder_there_and_nothing_else() {
    let root = root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let entries = entries(&layout_block(&readme)).unwrap_or_else(|e| panic!("README.md {e}"));
    let crates = crate_folders(&root);

    let mut named = BTreeSet::new();
    let mut stale = Vec::new();
    for entry in &entries {
        for path in &entry.paths {
            if exists(&root, path) {
                named.insert(path.clone());
            } else {
                stale.push(format!("line {}: {path}", entry.line));
            }
        }
        // A description's words look in the line's folders, then above.
        let bases: Vec<&String> = entry
            .paths
            .iter()
            .filter(|p| p.ends_with('/'))
            .chain(&entry.above)
            .collect();
        for word in mentions(&entry.description) {
            match bases
                .iter()
                .map(|base| format!("{base}{word}"))
                .find(|p| exists(&root, p))
            {
                Some(path) => {
                    named.insert(path);
                }
                None => stale.push(format!(
                    "line {}: {word} (in none of {})",
                    entry.line,
                    bases
                        .iter()
                        .map(|b| if b.is_empty() { "the root" } else { b.as_str() })
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            }
        }
        for folder in entry.paths.iter().filter(|p| crates.contains(p)) {
            let Some((_, said)) = entry.description.split_once("crate ") else {
                continue;
            };
            let said: String = said
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "-_".contains(*c))
                .collect();
            match package_name(&root, folder) {
                Some(name) if name == said => {
                    named.insert(format!("{folder}Cargo.toml"));
                }
                found => stale.push(format!(
                    "line {}: crate {said} ({folder}Cargo.toml names {})",
                    entry.line,
                    found.as_deref().unwrap_or("no package")
                )),
            }
        }
    }
    // A folder names its mod.rs.
    let modules: Vec<String> = named
        .iter()
        .filter(|p| p.ends_with('/') && exists(&root, &format!("{p}mod.rs")))
        .map(|p| format!("{p}mod.rs"))
        .collect();
    named.extend(modules);

    let covered = |place: &String| {
        named.contains(place)
            || (place.ends_with('/') && named.iter().any(|n| n.starts_with(place)))
    };
    let unnamed: Vec<String> = covered_places(&root, &tracked_files(&root))
        .into_iter()
        .filter(|p| !covered(p))
        .collect();
    // A folder goes without saying when what is in it is listed.
    let missing: Vec<&String> = unnamed
        .iter()
        .filter(|p| !(p.ends_with('/') && unnamed.iter().any(|q| q != *p && q.starts_with(*p))))
        .collect();

    let mut report = String::new();
    if !missing.is_empty() {
        report += "missing (they are there; name each in the Layout):\n";
        for path in &missing {
            report += &format!("  {path}\n");
        }
    }
    if !stale.is_empty() {
        report += "stale (the Layout names them; they are not there):\n";
        for path in &stale {
            report += &format!("  {path}\n");
        }
    }
    assert!(
        report.is_empty(),
        "README.md's Layout (the ```text block under `## Layout`) does not match the tree \
         (paths from the repository root; lines of README.md):\n{report}"
    );
}
