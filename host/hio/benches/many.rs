//! A Wasm doer's tick at every scale: `plugins/build.sh && cargo bench -p hio --bench many`.
//!
//! For 1, 1,000, 10,000 and 100,000 minimal Rust doers (the `noop` plugin),
//! with the engine `hio run` sets up for that many doers in simulated time
//! ([`EngineLimits::for_run`]), it prints one row per size:
//!
//! - `bare`: ns per call of the `recur` export on instances held in a vector
//!   (no scheduler, no per-call host work): the floor our call stands on;
//! - `tick`: ns per doer-tick with every doer due, scheduled by a Doist as
//!   `hio run` does (trace off);
//! - `1/16`: ns per due doer with 1 doer in 16 due each tick;
//! - instantiation per doer, in slots never used before and in slots freed
//!   by a first round (for shared doers: the making of a doer that joins
//!   the instance), then `enter` and a first `recur` per doer; resident memory per idle doer (the process's RSS
//!   growth over the doers' lifetime, divided by their number) and kernel
//!   memory mappings per doer.
//!
//! Each size is measured twice: every doer in its own instance (`own`),
//! and all in one (`shared`, one share group), each with the engine
//! `hio run` sets up for that tree.
//!
//! Then ratios within this run: against Python hio 0.7.20 measured right
//! after (bench/setup-python-hio.sh installs it), and against the floor
//! program (a minimal component called from wasmtime directly) when its
//! output is saved in the file named by `$HIO_FLOOR`.
//!
//! `HIO_MANY=1000,10000` picks the sizes, `HIO_MANY_PHASES=bare,tick` the
//! rows (`inst`, `bare`, `tick`, `16`). It needs `vm.max_map_count` above
//! the host's estimate for the largest size; when it is lower it raises it
//! (as root), or skips the size with the host's advice. Not a test: it
//! prints figures, and the machine's noise is in them; read the ratios.

use std::rc::Rc;

mod common;

use common::scale::{Phases, TOCK, cell, config, measure, ratio};
use common::{Floor, noop_path, python_hio, run_engine};
use hio::plugin::{Scalar, Value};

const SIZES: [usize; 4] = [1, 1_000, 10_000, 100_000];

/// Noop options: due once every 16 ticks, doer i in tick i % 16.
fn staggered(i: usize) -> Vec<(String, Value)> {
    vec![
        (
            "stagger".to_owned(),
            Value::Scalar(Scalar::Integer((i % 16) as i64)),
        ),
        (
            "period".to_owned(),
            Value::Scalar(Scalar::Float(16.0 * TOCK)),
        ),
    ]
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not used here.
    let sizes: Vec<usize> = std::env::var("HIO_MANY")
        .ok()
        .map(|s| s.split(',').filter_map(|v| v.trim().parse().ok()).collect())
        .unwrap_or_else(|| SIZES.to_vec());
    let phases = Phases::from_env("inst,bare,tick,16");
    println!(
        "Wasm doers at scale (noop plugin, hio run's engine settings, simulated time, trace off)"
    );
    println!(
        "{:>7} {:>7} {:>8} {:>8} {:>8} {:>10} {:>10} {:>10} {:>10} {:>6}",
        "doers",
        "",
        "bare ns",
        "tick ns",
        "1/16 ns",
        "fresh us",
        "warm us",
        "enter us",
        "RSS KiB",
        "maps"
    );
    let mut rows = Vec::new();
    for &n in &sizes {
        for share in [None, Some("all")] {
            // A share group is one instance (and one more for a restart).
            let host = match run_engine(if share.is_some() { 2 } else { n }) {
                Ok(host) => host,
                Err(advice) => {
                    println!("{n:>7} skipped: {advice}");
                    continue;
                }
            };
            let plugin = Rc::new(host.load(&noop_path()).expect("noop loads"));
            let f = measure(
                &plugin,
                n,
                &phases,
                &|_| Vec::new(),
                &staggered,
                &config(share),
            );
            let mode = if share.is_some() { "shared" } else { "own" };
            println!(
                "{n:>7} {mode:>7} {:>8} {:>8} {:>8} {:>10} {:>10} {:>10} {:>10} {:>6}",
                cell(f.bare_ns, 0),
                cell(f.tick_ns, 0),
                cell(f.due16_ns, 0),
                cell(f.fresh_us, 1),
                cell(f.warm_us, 1),
                cell(f.enter_us, 2),
                cell(f.rss_kib, 2),
                cell(f.maps, 2)
            );
            rows.push((n, mode, f));
        }
    }
    let py = python_hio(&sizes);
    let floor = Floor::from_env();
    println!("\nratios within this run (x > 1: the first is slower)");
    println!(
        "{:>7} {:>7} {:>10} {:>10} {:>12} {:>10} {:>12} {:>12} {:>12}",
        "doers",
        "",
        "tick/bare",
        "bare/floor",
        "floor ns",
        "py ns",
        "py/tick",
        "py 1/16 ns",
        "py/1/16"
    );
    for (n, mode, f) in &rows {
        let floor_call = floor.as_ref().and_then(|fl| Floor::at(&fl.call, *n));
        let py_flat = py
            .as_ref()
            .and_then(|p| p["flat_ns_per_invocation"][n.to_string()].as_f64());
        let py_16 = py
            .as_ref()
            .and_then(|p| p["mixed_1_in_16_ns_per_tick"][n.to_string()].as_f64())
            .map(|t| t / (*n as f64 / 16.0));
        println!(
            "{n:>7} {mode:>7} {:>10} {:>10} {:>12} {:>10} {:>12} {:>12} {:>12}",
            ratio(f.tick_ns, f.bare_ns),
            ratio(f.bare_ns, floor_call),
            cell(floor_call, 1),
            cell(py_flat, 0),
            ratio(py_flat, f.tick_ns),
            cell(py_16, 0),
            ratio(py_16, f.due16_ns)
        );
    }
    if let Some(inst) = floor.as_ref().and_then(|f| f.instantiate) {
        for (n, mode, f) in &rows {
            println!(
                "{n:>7} doers ({mode}): instantiation {} (fresh) and {} (warm) times the floor's {:.1} us",
                ratio(f.fresh_us, Some(inst / 1000.0)),
                ratio(f.warm_us, Some(inst / 1000.0)),
                inst / 1000.0
            );
        }
    }
    if py.is_none() {
        println!("Python hio: not measured (run bench/setup-python-hio.sh first)");
    }
    if floor.is_none() {
        println!("floor program: not read (save its output to a file and name it in $HIO_FLOOR)");
    }
}
