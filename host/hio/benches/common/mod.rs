//! What the benchmarks share: criterion's figures of this run, and the
//! Python hio peer measured in the same run.

use std::path::PathBuf;
use std::process::Command;

use hio::{Context, Doer, HookResult};

/// A native doer that does nothing and is never done.
#[derive(Clone)]
pub struct Noop;

impl Doer for Noop {
    fn recur(&mut self, _cx: &mut Context<'_>, _tyme: f64) -> HookResult<bool> {
        Ok(false)
    }
}

fn criterion_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir).join("criterion"),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/criterion"),
    }
}

/// Mean ns per iteration of benchmark `id` in this run, from criterion's files.
pub fn mean_ns(id: &str) -> Option<f64> {
    let path = criterion_dir().join(id).join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

/// Runs bench/python_hio.py with bench/.venv's python (or $HIO_PYTHON), if
/// it is set up (bench/setup-python-hio.sh).
pub fn python_hio() -> Option<serde_json::Value> {
    let bench = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench");
    let python = std::env::var_os("HIO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| bench.join(".venv/bin/python"));
    let out = Command::new(python)
        .arg(bench.join("python_hio.py"))
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}
