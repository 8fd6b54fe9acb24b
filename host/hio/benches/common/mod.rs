//! What the benchmarks share: criterion's figures of this run, the Python
//! hio peer and the floor program measured in the same run, an engine with
//! `hio run`'s settings, and the median of repeated rounds.

// Each benchmark uses a part of these.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

pub mod scale;

use hio::{Context, Doer, HookResult};

/// The median of `xs`: the middle value of an odd count, the mean of the
/// two middle values of an even one (every benchmark reports this one).
/// `xs` must not be empty.
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// A native doer that does nothing and is never done.
#[derive(Clone)]
pub struct Noop;

impl Doer for Noop {
    fn recur(&mut self, _cx: &mut Context<'_>, _tyme: f64) -> HookResult<bool> {
        Ok(false)
    }
}

/// Where criterion writes its figures: `criterion/` in the target folder,
/// found as criterion finds it (`CARGO_TARGET_DIR`, else what `cargo
/// metadata` says, so a target folder set in cargo's configuration counts).
fn criterion_dir() -> Option<PathBuf> {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => {
            let out = Command::new(std::env::var_os("CARGO")?)
                .args(["metadata", "--format-version", "1", "--no-deps"])
                .output()
                .ok()?;
            let metadata: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
            PathBuf::from(metadata["target_directory"].as_str()?)
        }
    };
    Some(target.join("criterion"))
}

/// Mean ns per iteration of benchmark `id` in this run, from criterion's files.
pub fn mean_ns(id: &str) -> Option<f64> {
    let path = criterion_dir()?.join(id).join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["mean"]["point_estimate"].as_f64()
}

/// Runs bench/python_hio.py for `sizes` with bench/.venv's python (or
/// $HIO_PYTHON), if it is set up (bench/setup-python-hio.sh).
pub fn python_hio(sizes: &[usize]) -> Option<serde_json::Value> {
    let bench = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../bench");
    let python = std::env::var_os("HIO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| bench.join(".venv/bin/python"));
    let out = Command::new(python)
        .arg(bench.join("python_hio.py"))
        .arg(
            sizes
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(","),
        )
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

/// A built plugin, `plugins/dist/<name>.wasm` (`plugins/build.sh` builds
/// them).
pub fn plugin_path(name: &str) -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../plugins/dist")
        .join(format!("{name}.wasm"));
    assert!(p.is_file(), "{} missing: run plugins/build.sh", p.display());
    p
}

/// The `noop` plugin the Wasm benchmarks load.
pub fn noop_path() -> PathBuf {
    plugin_path("noop")
}

/// A plugin engine with `hio run`'s settings for a tree of `doers` leaves
/// in simulated time. Where the kernel's `vm.max_map_count` is too low for
/// them it raises it (as root); otherwise it returns the host's advice,
/// for the benchmark to print instead of failing.
pub fn run_engine(doers: usize) -> Result<hio::plugin::PluginHost, String> {
    use hio::plugin::{EngineLimits, MAPS_PER_DOER, PluginHost, check_map_count};
    let limits = EngineLimits::default().for_run(doers, false);
    if check_map_count(limits.slots).is_err() {
        let needed = (u64::from(limits.slots) * MAPS_PER_DOER + 8192).next_power_of_two();
        match std::fs::write("/proc/sys/vm/max_map_count", needed.to_string()) {
            Ok(()) => println!("raised vm.max_map_count to {needed}"),
            Err(e) => println!("cannot raise vm.max_map_count ({e})"),
        }
    }
    check_map_count(limits.slots)?;
    PluginHost::new(limits, None).map_err(|e| e.to_string())
}

/// The floor program's figures (`run.sh`'s output, saved to the file named
/// by `$HIO_FLOOR`), when given: ns per component call by instance count
/// (the pooled variant, as `hio run` pools), and ns per pooled instantiation.
#[derive(Debug, Default)]
pub struct Floor {
    /// (instances, ns per call) of `component/bindgen+pooling`.
    pub call: Vec<(usize, f64)>,
    /// (instances, ns per call) of `core-module/TypedFunc`.
    pub core: Vec<(usize, f64)>,
    /// ns per instantiation from the pool.
    pub instantiate: Option<f64>,
}

impl Floor {
    /// Reads `$HIO_FLOOR`; `None` when it is not set or not readable.
    pub fn from_env() -> Option<Floor> {
        let path = std::env::var_os("HIO_FLOOR")?;
        let text = std::fs::read_to_string(&path).ok()?;
        let mut floor = Floor::default();
        for line in text.lines() {
            let n = || {
                line.split_once(" N=")
                    .and_then(|(_, r)| r.split(':').next())
                    .and_then(|v| v.trim().parse::<usize>().ok())
            };
            let ns = |after: &str| {
                line.split_once(after)
                    .and_then(|(_, r)| r.split_whitespace().next())
                    .and_then(|v| v.parse::<f64>().ok())
            };
            if line.starts_with("component/bindgen+pooling ") {
                if let (Some(n), Some(v)) = (n(), ns("best ")) {
                    floor.call.push((n, v));
                }
            } else if line.starts_with("core-module/TypedFunc ") {
                if let (Some(n), Some(v)) = (n(), ns("best ")) {
                    floor.core.push((n, v));
                }
            } else if line.starts_with("inst/pool ") && line.contains("best instantiate") {
                floor.instantiate = ns("best instantiate ");
            }
        }
        Some(floor)
    }

    /// The figure for `n` instances in `rows`, if measured.
    pub fn at(rows: &[(usize, f64)], n: usize) -> Option<f64> {
        rows.iter().find(|(m, _)| *m == n).map(|(_, v)| *v)
    }
}
