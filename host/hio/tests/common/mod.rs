//! Helpers for the tests that run the `hio` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A built plugin; the test command builds them first (plugins/build.sh --all).
pub fn plugin(name: &str) -> PathBuf {
    let path = root().join("plugins/dist").join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} is missing: run plugins/build.sh --all first (the README's test command does)",
        path.display()
    );
    path.canonicalize().expect("plugin path")
}

/// The XDG cache folder the tests' runs of `hio` use.
pub fn test_cache() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("xdg-cache")
}

/// The `hio` binary as a command, with the tests' cache.
pub fn hio_command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hio"));
    c.env_remove("HIO_CACHE_DIR")
        // The default cache, kept out of the user's own.
        .env("XDG_CACHE_HOME", test_cache());
    c
}

/// Runs `hio` with `args` in `dir`.
pub fn hio_in(dir: &Path, args: &[&str]) -> Output {
    hio_command()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run hio")
}

/// Runs `hio` with `args`.
pub fn hio(args: &[&str]) -> Output {
    hio_in(&root(), args)
}

/// Writes `text` as `m.toml` in a fresh temporary folder.
pub fn manifest(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("m.toml");
    std::fs::write(&path, text).expect("write manifest");
    (dir, path)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A TOML string literal of a path.
pub fn quoted(p: &Path) -> String {
    format!("\"{}\"", p.display().to_string().replace('\\', "\\\\"))
}
