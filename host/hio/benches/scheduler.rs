//! Native scheduler benchmark (simulated time, trace off unless stated).
//!
//! `cargo bench -p hio --bench scheduler` measures, with criterion:
//! - ns per doer invocation (no-op recur, tock 0) for 1, 100, 1,000 and
//!   10,000 doers, flat and nested three DoDoers deep;
//! - a tick with 10,000 sleeping doers and 1 due, against a tick with 1 doer,
//!   and against the same tick walked in hio's plain manner;
//! - the trace's own cost (JSON lines to a sink that discards them);
//!
//! then prints a summary of ratios between figures of this same run, with
//! Python hio 0.7.20's figures measured right after (see bench/README.md).

use std::hint::black_box;
use std::time::Duration;

mod common;

use common::{Noop, mean_ns, python_hio};
use criterion::{BenchmarkId, Criterion, Throughput};
use hio::{DoDoer, Doist, JsonLines, Spec};

const SIZES: [usize; 4] = [1, 100, 1_000, 10_000];

fn leaves(n: usize, tock: f64) -> Vec<Spec> {
    (0..n)
        .map(|i| Spec::doer(format!("d{i}"), tock, Noop))
        .collect()
}

fn flat(n: usize) -> Doist {
    let mut doist = Doist::new(0.03125);
    for spec in leaves(n, 0.0) {
        doist.add(spec).expect("valid names");
    }
    doist
}

fn nested(n: usize) -> Doist {
    let mut doist = Doist::new(0.03125);
    let inner = DoDoer::new("c").doers(leaves(n, 0.0));
    let tree = DoDoer::new("a").doer(DoDoer::new("b").doer(inner));
    doist.add(tree).expect("valid names");
    doist
}

fn asleep(n: usize, plain: bool) -> Doist {
    let mut doist = Doist::new(0.03125).plain_walk(plain);
    for spec in leaves(n, 1e9) {
        doist.add(spec).expect("valid names");
    }
    doist.add(Spec::doer("due", 0.0, Noop)).expect("valid name");
    doist
}

/// Ticks `doist` once per iteration (after entering it and one warm tick,
/// so the sleepers are asleep).
fn tick(b: &mut criterion::Bencher<'_>, mut doist: Doist) {
    doist.recur().expect("no failure");
    b.iter(|| doist.recur().expect("no failure"));
    black_box(doist.tyme());
}

fn benches(c: &mut Criterion) {
    for (group, build) in [("flat", flat as fn(usize) -> Doist), ("nested3", nested)] {
        let mut g = c.benchmark_group(group);
        for n in SIZES {
            g.throughput(Throughput::Elements(n as u64));
            g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
                tick(b, build(n))
            });
        }
        g.finish();
    }
    let mut g = c.benchmark_group("tick");
    g.bench_function("one-doer", |b| tick(b, flat(1)));
    g.bench_function("10000-asleep-1-due", |b| tick(b, asleep(10_000, false)));
    g.bench_function("10000-asleep-1-due-plain-walk", |b| {
        tick(b, asleep(10_000, true))
    });
    g.finish();
    let mut g = c.benchmark_group("trace");
    g.throughput(Throughput::Elements(1_000));
    g.bench_function("off-1000", |b| tick(b, flat(1_000)));
    g.bench_function("jsonl-1000", |b| {
        let mut doist = flat(1_000);
        doist = doist.trace(JsonLines::new(std::io::sink()));
        tick(b, doist)
    });
    g.finish();
}

fn summary() {
    println!("\n== hio native scheduler: summary (ratios within this run) ==");
    let per = |group: &str, n: usize| mean_ns(&format!("{group}/{n}")).map(|t| t / n as f64);
    let py = python_hio(&SIZES);
    for n in SIZES {
        let flat = per("flat", n);
        let nested = per("nested3", n);
        let py_n = py
            .as_ref()
            .and_then(|p| p["flat_ns_per_invocation"][n.to_string()].as_f64());
        let mut line = format!("{n:>6} doers: ");
        if let Some(f) = flat {
            line += &format!("flat {f:7.2} ns/invocation");
        }
        if let Some(x) = nested {
            line += &format!(", nested3 {x:7.2} ns");
        }
        if let (Some(p), Some(f)) = (py_n, flat) {
            line += &format!(", Python hio {p:7.1} ns ({:.0}x ours)", p / f);
        }
        println!("{line}");
    }
    if let (Some(one), Some(sleepy), Some(plain)) = (
        mean_ns("tick/one-doer"),
        mean_ns("tick/10000-asleep-1-due"),
        mean_ns("tick/10000-asleep-1-due-plain-walk"),
    ) {
        println!(
            "tick, 10,000 asleep + 1 due: {sleepy:.1} ns = {:.2}x a tick with 1 doer ({one:.1} ns); \
             hio's plain walk of every deed: {plain:.1} ns ({:.0}x the index)",
            sleepy / one,
            plain / sleepy
        );
    }
    if let (Some(off), Some(on)) = (mean_ns("trace/off-1000"), mean_ns("trace/jsonl-1000")) {
        println!(
            "trace: off {:.2} ns/invocation, JSON lines {:.2} ns ({:.1}x; {:.1} ns per record)",
            off / 1000.0,
            on / 1000.0,
            on / off,
            (on - off) / 1000.0
        );
    }
    match py {
        Some(p) => println!(
            "Python hio {} on Python {}: 10,000 doers, 1 in 16 due: {:.0} us per tick",
            p["hio"].as_str().unwrap_or("?"),
            p["python"].as_str().unwrap_or("?"),
            p["mixed_10000_1_in_16_ns_per_tick"]
                .as_f64()
                .unwrap_or(f64::NAN)
                / 1000.0
        ),
        None => println!("Python hio: not measured (run bench/setup-python-hio.sh first)"),
    }
}

fn main() {
    let mut c = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    benches(&mut c);
    c.final_summary();
    summary();
}
