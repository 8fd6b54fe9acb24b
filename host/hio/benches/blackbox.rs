//! `hio run` as a user runs it, against Python hio in the same run:
//! `plugins/build.sh && cargo bench -p hio --bench blackbox`.
//!
//! For N recorder doers (the `recorder` plugin, done after a million
//! recurs) under one DoDoer, it times the whole `hio run` process for 20
//! and for 220 ticks in simulated time (trace off) and prints the
//! difference per doer-tick: startup, compilation and instantiation fall
//! out. Each doer in its own instance (`own`), and all in one (`shared`:
//! the DoDoer's `share`); every doer due each tick, and 1 in 16 due
//! (`1/16`: doer i runs every tick until its recur i % 16 + 1, then every
//! 16 ticks; still per doer per tick). Python hio 0.7.20 runs the same
//! tree of Python recorders (bench/blackbox_hio.py, with
//! bench/setup-python-hio.sh's interpreter), timed the same way, and the
//! last columns are its figure over ours.
//!
//! `HIO_BLACKBOX=1,1000` picks the sizes (default 1, 1,000, 10,000 and
//! 100,000); `HIO_BLACKBOX_TICKS=2020` the long run's ticks (default 220:
//! more ticks, less of the machine's noise in a small tree's figure); `HIO_BIN` and `HIO_PLUGINS` run another `hio` binary and
//! plugins folder (for a before/after pair in one run). Each time is the
//! best of `HIO_BLACKBOX_ROUNDS` (default 3) runs. Not a test: it prints
//! figures, and the machine's noise is in them; read the ratios.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

const TOCK: f64 = 0.03125;
const SIZES: [usize; 4] = [1, 1_000, 10_000, 100_000];
const SHORT: u32 = 20;
const LONG: u32 = 220;

/// The long run's ticks: `$HIO_BLACKBOX_TICKS`, else [`LONG`].
fn long() -> u32 {
    std::env::var("HIO_BLACKBOX_TICKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&t| t > SHORT)
        .unwrap_or(LONG)
}

/// The manifest of `n` recorders under DoDoer `G` for `ticks` ticks.
fn manifest(recorder: &str, n: usize, ticks: u32, shared: bool, stagger: bool) -> String {
    let mut text = format!(
        "tock = {TOCK}\nlimit = {}\n[[doers]]\nname = \"G\"\n",
        f64::from(ticks) * TOCK
    );
    if shared {
        text += "share = \"all\"\n";
    }
    text += "doers = [\n";
    for i in 0..n {
        let retock = if stagger {
            format!(", retock_at = {}, retock = {}", i % 16 + 1, 16.0 * TOCK)
        } else {
            String::new()
        };
        text += &format!(
            "  {{ name = \"d{i}\", plugin = \"{recorder}\", options = {{ stop = 1000000{retock} }} }},\n"
        );
    }
    text + "]\n"
}

/// The best wall time of `rounds` runs of `cmd`, in seconds; `None` if it
/// failed (its error printed).
fn best(rounds: usize, mut cmd: impl FnMut() -> Command) -> Option<f64> {
    let mut times = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        let out = cmd().output().ok()?;
        let t = start.elapsed().as_secs_f64();
        if !out.status.success() {
            eprintln!("{}", String::from_utf8_lossy(&out.stderr));
            return None;
        }
        times.push(t);
    }
    times.into_iter().reduce(f64::min)
}

/// ns per doer-tick: (long - short) over the ticks between, per doer.
fn per_doer_tick(short: Option<f64>, long: Option<f64>, n: usize) -> Option<f64> {
    Some((long? - short?).max(0.0) * 1e9 / f64::from(self::long() - SHORT) / n as f64)
}

fn cell(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1}"))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "-".to_owned(),
    }
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let sizes: Vec<usize> = std::env::var("HIO_BLACKBOX")
        .ok()
        .map(|s| s.split(',').filter_map(|v| v.trim().parse().ok()).collect())
        .unwrap_or_else(|| SIZES.to_vec());
    let rounds: usize = std::env::var("HIO_BLACKBOX_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let bin = std::env::var_os("HIO_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_hio")));
    let plugins = std::env::var_os("HIO_PLUGINS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("plugins/dist"));
    let recorder = plugins.join("recorder.wasm");
    assert!(
        recorder.is_file(),
        "{} missing: run plugins/build.sh",
        recorder.display()
    );
    let recorder = recorder.display().to_string();
    let python = std::env::var_os("HIO_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("bench/.venv/bin/python"));
    let script = root.join("bench/blackbox_hio.py");
    let dir = tempfile::tempdir().expect("temp dir");
    // Compiled code is cached here, once, before any timing.
    let cache = dir.path().join("cache");

    let long = long();
    println!(
        "hio run ({}) against Python hio 0.7.20: ns per doer-tick, (wall of {long} ticks - wall of {SHORT}) / {} / doers, best of {rounds}",
        bin.display(),
        long - SHORT
    );
    println!(
        "{:>7} {:>5} {:>9} {:>9} {:>9} {:>9} {:>11} {:>11}",
        "doers", "due", "own ns", "shared ns", "py ns", "own/shared", "py/own", "py/shared"
    );
    for &n in &sizes {
        for stagger in [false, true] {
            if stagger && n < 16 {
                continue;
            }
            let hio = |shared: bool, ticks: u32| {
                let path = dir
                    .path()
                    .join(format!("m-{n}-{shared}-{stagger}-{ticks}.toml"));
                std::fs::write(&path, manifest(&recorder, n, ticks, shared, stagger))
                    .expect("write manifest");
                best(rounds, || {
                    let mut c = Command::new(&bin);
                    c.arg("run")
                        .arg(&path)
                        .env("HIO_CACHE_DIR", &cache)
                        .env("XDG_CACHE_HOME", &cache);
                    c
                })
            };
            let own = per_doer_tick(hio(false, SHORT), hio(false, long), n);
            let shared = per_doer_tick(hio(true, SHORT), hio(true, long), n);
            let py = |ticks: u32| {
                best(rounds, || {
                    let mut c = Command::new(&python);
                    c.arg(&script).arg(n.to_string()).arg(ticks.to_string());
                    if stagger {
                        c.arg("stagger");
                    }
                    c
                })
            };
            let py = per_doer_tick(py(SHORT), py(long), n);
            println!(
                "{n:>7} {:>5} {:>9} {:>9} {:>9} {:>9} {:>11} {:>11}",
                if stagger { "1/16" } else { "all" },
                cell(own),
                cell(shared),
                cell(py),
                ratio(own, shared),
                ratio(py, own),
                ratio(py, shared)
            );
        }
    }
}
