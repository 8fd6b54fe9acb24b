//! Crews: what a second thread buys, and what the tick barrier costs.
//!
//! ```sh
//! plugins/build.sh
//! cargo bench -p hio --bench crews
//! HTTP_BENCH_CREWS=1 bench/http/run.sh     # the hello server in crews, beside nginx
//! ```
//!
//! 1. A CPU-bound tree: two crews of 8 `hostile` doers in mode `spin`
//!    (100,000 turns of a loop per recur), run for `HIO_CREWS_TICKS` ticks
//!    (default 400) on 1 and on 2 threads, rounds alternating; the median
//!    wall time of each, their ratio, and whether the traces are the same;
//!    beside it the machine's own ceiling: two independent runs of the tree
//!    on one thread each, at once (on a shared 2-core machine two busy
//!    threads rarely get two whole cores).
//! 2. The barrier: two crews of one `noop` doer each against the same tree
//!    with plain DoDoers, `HIO_CREWS_BARRIER_TICKS` ticks (default 20,000);
//!    the time per tick of each and the difference, which is the cost of
//!    the crews' barrier per tick (splicing their output, and on 2 threads
//!    handing each turn to the other thread and back).
//!
//! Figures are medians of `HIO_CREWS_ROUNDS` rounds (default 5). Each run is
//! built with `hio run`'s engine; building and entering are not timed.

mod common;

use std::path::PathBuf;
use std::time::Instant;

use common::{median, plugin_path};
use hio::TraceBuffer;
use hio::cache::Cache;
use hio::manifest::{BuildSettings, Manifest, build_with};
use hio::plugin::PluginHost;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Two groups of `n` doers of `plugin` with `options`, crews or not.
fn tree(plugin: &std::path::Path, options: &str, n: usize, crew: bool, ticks: u64) -> String {
    let mut text = format!("tock = 1.0\nlimit = {ticks}.0\n");
    for g in ["a", "b"] {
        text.push_str(&format!(
            "\n[[doers]]\nname = \"{g}\"\ncrew = {crew}\ndoers = [\n"
        ));
        for i in 0..n {
            text.push_str(&format!(
                "  {{ name = \"w{i}\", plugin = \"{}\", options = {{ {options} }} }},\n",
                plugin.display()
            ));
        }
        text.push_str("]\n");
    }
    text
}

fn host_for(m: &Manifest) -> PluginHost {
    Cache::choose(None, false)
        .host(m.engine_for_run(), |_| {})
        .expect("plugin host")
}

/// Runs `text` on `threads` threads: the seconds its ticks took, and its trace.
fn run(text: &str, threads: usize) -> (f64, String) {
    let m = Manifest::parse(text, PathBuf::from("crews-bench.toml")).expect("manifest");
    let host = host_for(&m);
    let settings = BuildSettings {
        threads,
        ..BuildSettings::default()
    };
    let trace = TraceBuffer::new();
    let built = build_with(&m, &host, &settings).expect("build");
    let mut doist = built.doist.logger(Box::new(|_| {})).trace(trace.clone());
    doist.enter().expect("enter");
    let start = Instant::now();
    doist.run().expect("run");
    (start.elapsed().as_secs_f64(), trace.to_json_lines())
}

fn main() {
    let rounds = env("HIO_CREWS_ROUNDS", 5).max(1);
    let ticks = env("HIO_CREWS_TICKS", 400);
    let cpu = tree(&plugin_path("hostile"), "mode = \"spin\"", 8, true, ticks);
    let (mut one, mut two, mut pair) = (Vec::new(), Vec::new(), Vec::new());
    let mut same = true;
    for _ in 0..rounds {
        let (t1, trace1) = run(&cpu, 1);
        let (t2, trace2) = run(&cpu, 2);
        same &= trace1 == trace2;
        one.push(t1);
        two.push(t2);
        // The machine's own ceiling: two independent runs at once, each on
        // one thread, against one after the other.
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let cpu = cpu.clone();
                std::thread::spawn(move || run(&cpu, 1).0)
            })
            .collect();
        let both: Vec<f64> = runs.into_iter().map(|t| t.join().expect("run")).collect();
        pair.push(both[0].max(both[1]));
    }
    let (one, two, pair) = (median(one), median(two), median(pair));
    println!("CPU-bound tree: 2 crews x 8 doers (hostile spin), {ticks} ticks, median of {rounds}");
    println!("  1 thread   {:>9.1} ms", one * 1e3);
    println!("  2 threads  {:>9.1} ms", two * 1e3);
    println!(
        "  2 threads are {:.2}x as fast as 1; traces {}",
        one / two,
        if same { "identical" } else { "DIFFER" }
    );
    println!(
        "  the machine's ceiling: two such runs on 1 thread each, at once, {:.1} ms, {:.2}x as fast as one after the other",
        pair * 1e3,
        2.0 * one / pair
    );

    let bticks = env("HIO_CREWS_BARRIER_TICKS", 20_000);
    let noop = plugin_path("noop");
    let plain = tree(&noop, "", 1, false, bticks);
    let crews = tree(&noop, "", 1, true, bticks);
    let (mut p, mut c1, mut c2) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        p.push(run(&plain, 1).0);
        c1.push(run(&crews, 1).0);
        c2.push(run(&crews, 2).0);
    }
    let per = |v: Vec<f64>| median(v) / bticks as f64 * 1e9;
    let (p, c1, c2) = (per(p), per(c1), per(c2));
    println!("Barrier: 2 groups of 1 noop doer, {bticks} ticks, ns per tick, median of {rounds}");
    println!("  DoDoers                {p:>9.0}");
    println!(
        "  crews, 1 thread        {c1:>9.0}   barrier {:>7.0} ns a tick",
        c1 - p
    );
    println!(
        "  crews, 2 threads       {c2:>9.0}   barrier {:>7.0} ns a tick",
        c2 - p
    );
    if !same {
        std::process::exit(1);
    }
}
