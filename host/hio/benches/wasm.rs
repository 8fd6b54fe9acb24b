//! Wasm doer benchmark (simulated time, trace off).
//!
//! `plugins/build.sh && cargo bench -p hio --bench wasm` measures, with
//! criterion, ns per Wasm doer invocation (the `noop` plugin's recur) for 1,
//! 100, 1,000 and 10,000 doers: scheduled by a Doist; as a bare wasmtime
//! call of the same export on the same instances (no scheduler); and native
//! no-op doers. Then 10,000 Wasm doers of which 1 in 16 is due per tick.
//! It prints a summary of ratios within this run, with Python hio 0.7.20
//! measured right after (bench/setup-python-hio.sh installs it). The engine
//! is `hio run`'s for 20,000 doers; where `vm.max_map_count` is too low for
//! it the bench raises it (as root) or prints what to do and stops.

use std::hint::black_box;
use std::rc::Rc;
use std::time::Duration;

mod common;

use common::{Noop, mean_ns, noop_path, python_hio, run_engine};
use criterion::{BenchmarkId, Criterion, Throughput};
use hio::plugin::{InstanceConfig, Plugin, PluginDoer, Scalar, Value};
use hio::{Doist, Spec};

const SIZES: [usize; 4] = [1, 100, 1_000, 10_000];
const TOCK: f64 = 0.03125;

fn cfg(fuel: u64) -> InstanceConfig {
    InstanceConfig {
        fuel,
        ..InstanceConfig::default()
    }
}

fn wasm_doist(plugin: &Rc<Plugin>, n: usize, stagger: bool) -> Doist {
    let mut doist = Doist::new(TOCK).logger(Box::new(|_| {}));
    for i in 0..n {
        let options = if stagger {
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
        } else {
            Vec::new()
        };
        let tock = if stagger { TOCK } else { 0.0 };
        doist
            .add(plugin.spec(&format!("d{i}"), tock, options, cfg(10_000_000)))
            .expect("valid name");
    }
    doist
}

fn native_doist(n: usize) -> Doist {
    let mut doist = Doist::new(TOCK);
    for i in 0..n {
        doist
            .add(Spec::doer(format!("d{i}"), 0.0, Noop))
            .expect("valid name");
    }
    doist
}

fn tick(b: &mut criterion::Bencher<'_>, mut doist: Doist, warm: usize) {
    for _ in 0..warm {
        doist.recur().expect("no failure");
    }
    b.iter(|| doist.recur().expect("no failure"));
    black_box(doist.tyme());
}

fn benches(c: &mut Criterion, plugin: &Rc<Plugin>) {
    let mut g = c.benchmark_group("wasm");
    for n in SIZES {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            tick(b, wasm_doist(plugin, n, false), 1)
        });
    }
    g.finish();
    let mut g = c.benchmark_group("bare");
    for n in SIZES {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            // Fuel enough for the whole measurement: no refill in the loop.
            let mut doers: Vec<PluginDoer> = (0..n)
                .map(|i| {
                    let mut d = plugin
                        .instantiate(&format!("d{i}"), 0, Vec::new(), &cfg(u64::MAX / 2))
                        .expect("instantiate");
                    d.bare_enter().expect("enter");
                    d
                })
                .collect();
            b.iter(|| {
                for d in &mut doers {
                    black_box(d.bare_recur(0.0).expect("recur"));
                }
            });
        });
    }
    g.finish();
    let mut g = c.benchmark_group("native");
    for n in SIZES {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, &n| {
            tick(b, native_doist(n), 1)
        });
    }
    g.finish();
    let mut g = c.benchmark_group("mixed");
    g.bench_function("wasm-10000-1-in-16", |b| {
        tick(b, wasm_doist(plugin, 10_000, true), 32)
    });
    g.finish();
}

fn summary() {
    println!("\n== hio Wasm doers: summary (ratios within this run) ==");
    let py = python_hio(&SIZES);
    for n in SIZES {
        let per = |g: &str| mean_ns(&format!("{g}/{n}")).map(|t| t / n as f64);
        let (Some(wasm), Some(bare), Some(native)) = (per("wasm"), per("bare"), per("native"))
        else {
            continue;
        };
        let mut line = format!(
            "{n:>6} doers: scheduled Wasm {wasm:7.1} ns/invocation = {:.2}x a bare call ({bare:.1} ns), \
             {:.1}x a native doer ({native:.1} ns)",
            wasm / bare,
            wasm / native
        );
        if let Some(p) = py
            .as_ref()
            .and_then(|p| p["flat_ns_per_invocation"][n.to_string()].as_f64())
        {
            line += &format!("; Python hio {p:.0} ns ({:.1}x ours)", p / wasm);
        }
        println!("{line}");
    }
    if let Some(mixed) = mean_ns("mixed/wasm-10000-1-in-16") {
        let mut line = format!(
            "10,000 Wasm doers, 1 in 16 due: {:.1} us per tick",
            mixed / 1000.0
        );
        if let Some(p) = py
            .as_ref()
            .and_then(|p| p["mixed_10000_1_in_16_ns_per_tick"].as_f64())
        {
            line += &format!("; Python hio {:.0} us ({:.1}x ours)", p / 1000.0, p / mixed);
        }
        println!("{line}");
    }
    if py.is_none() {
        println!("Python hio: not measured (run bench/setup-python-hio.sh first)");
    }
}

fn main() {
    // `hio run`'s engine for a tree as large as the most this bench keeps
    // alive at once (two sets of 10,000 while criterion swaps them).
    let host = match run_engine(20_000) {
        Ok(host) => host,
        Err(advice) => {
            println!("wasm bench skipped: {advice}");
            return;
        }
    };
    let plugin = Rc::new(host.load(&noop_path()).expect("noop plugin"));
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .configure_from_args();
    benches(&mut c, &plugin);
    c.final_summary();
    summary();
}
