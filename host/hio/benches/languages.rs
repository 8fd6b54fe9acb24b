//! The recorder in each language against the Rust one:
//! `plugins/build.sh && cargo bench -p hio --bench languages`.
//!
//! For `recorder.wasm` and its Python, JavaScript and C builds
//! (`recorder-py.wasm`, …), with the engine `hio run` sets up for that many
//! doers in simulated time, it prints:
//!
//! - compile: seconds to compile the component (no cache), and its size;
//! - `bare`: ns per call of `recur` on instances held in a vector;
//! - `tick`: ns per doer-tick with every doer due, scheduled by a Doist;
//! - instantiation per doer in fresh and in reused pool slots, and the
//!   resident memory each idle doer adds;
//!
//! then each figure as a ratio to the Rust recorder's in the same run.
//! `HIO_LANGS_DOERS` sets how many doers (default 100). Not a test: it
//! prints figures, and the machine's noise is in them; read the ratios.

use std::rc::Rc;
use std::time::Instant;

mod common;

use common::scale::{Figures, Phases, cell, config, measure, ratio};
use common::{plugin_path, run_engine};
use hio::plugin::{EngineLimits, PluginHost};
use hio::plugin::{Scalar, Value};

const RECORDERS: [(&str, &str); 4] = [
    ("Rust", "recorder"),
    ("Python", "recorder-py"),
    ("JavaScript", "recorder-js"),
    ("C", "recorder-c"),
];

/// A recorder that is never done within the measurement.
fn endless(_: usize) -> Vec<(String, Value)> {
    vec![("stop".to_owned(), Value::Scalar(Scalar::Integer(i64::MAX)))]
}

fn main() {
    let n: usize = std::env::var("HIO_LANGS_DOERS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(100);
    let phases = Phases::from_env("inst,bare,tick");
    println!(
        "The recorder in each language: {n} doers, hio run's engine, simulated time, trace off"
    );
    println!(
        "{:>10} {:>7} {:>9} {:>10} {:>9} {:>9} {:>10} {:>10} {:>10} {:>10}",
        "language",
        "",
        "size KiB",
        "compile s",
        "bare ns",
        "tick ns",
        "fresh us",
        "warm us",
        "RSS KiB",
        "all MiB"
    );
    let mut rows: Vec<(&str, Figures)> = Vec::new();
    let mut shared_rows: Vec<(&str, Figures)> = Vec::new();
    for (lang, name) in RECORDERS {
        for share in [None, Some("all")] {
            // A JavaScript share group needs room to collect its garbage
            // (docs/languages.md): 96 MiB and 100,000,000 fuel per call.
            let roomy = share.is_some() && lang == "JavaScript";
            let host = if roomy {
                let limits = EngineLimits {
                    max_memory: 96 << 20,
                    ..EngineLimits::default()
                };
                PluginHost::new(limits.for_run(2, false), None).expect("an engine")
            } else {
                run_engine(if share.is_some() { 2 } else { n }).expect("an engine for these doers")
            };
            let mut cfg = config(share);
            if roomy {
                cfg.memory = 96 << 20;
                cfg.fuel = 100_000_000;
            }
            let file = plugin_path(name);
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            let start = Instant::now();
            let plugin = Rc::new(host.load(&file).expect("the recorder loads"));
            let compile = start.elapsed().as_secs_f64();
            let f = measure(&plugin, n, &phases, &endless, &endless, &cfg);
            let mode = if share.is_some() { "shared" } else { "own" };
            println!(
                "{lang:>10} {mode:>7} {:>9} {:>10} {:>9} {:>9} {:>10} {:>10} {:>10} {:>10}",
                size / 1024,
                format!("{compile:.2}"),
                cell(f.bare_ns, 0),
                cell(f.tick_ns, 0),
                cell(f.fresh_us, 1),
                cell(f.warm_us, 1),
                cell(f.rss_kib, 1),
                cell(f.rss_kib.map(|k| k * n as f64 / 1024.0), 1)
            );
            if share.is_some() {
                shared_rows.push((lang, f));
            } else {
                rows.push((lang, f));
            }
        }
    }
    let rust = &rows[0].1;
    println!("\nratios to the Rust recorder in this run (x > 1: slower or larger)");
    println!(
        "{:>10} {:>9} {:>9} {:>10} {:>10} {:>10}",
        "language", "bare", "tick", "fresh", "warm", "RSS"
    );
    for (lang, f) in &rows[1..] {
        println!(
            "{lang:>10} {:>9} {:>9} {:>10} {:>10} {:>10}",
            ratio(f.bare_ns, rust.bare_ns),
            ratio(f.tick_ns, rust.tick_ns),
            ratio(f.fresh_us, rust.fresh_us),
            ratio(f.warm_us, rust.warm_us),
            ratio(f.rss_kib, rust.rss_kib)
        );
    }
    println!("\nshared over own, per language in this run (x < 1: sharing is cheaper)");
    println!(
        "{:>10} {:>9} {:>9} {:>10} {:>10} {:>10}",
        "language", "bare", "tick", "fresh", "warm", "RSS"
    );
    for ((lang, own), (_, shared)) in rows.iter().zip(&shared_rows) {
        println!(
            "{lang:>10} {:>9} {:>9} {:>10} {:>10} {:>10}",
            ratio(shared.bare_ns, own.bare_ns),
            ratio(shared.tick_ns, own.tick_ns),
            ratio(shared.fresh_us, own.fresh_us),
            ratio(shared.warm_us, own.warm_us),
            ratio(shared.rss_kib, own.rss_kib)
        );
    }
}
