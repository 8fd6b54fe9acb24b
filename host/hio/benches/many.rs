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
//!   by a first round; resident memory per idle doer (the process's RSS
//!   growth over the doers' lifetime, divided by their number) and kernel
//!   memory mappings per doer.
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

use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

mod common;

use common::{Floor, noop_path, python_hio, run_engine};
use hio::Doist;
use hio::plugin::{InstanceConfig, Plugin, PluginDoer, Scalar, Value};

const TOCK: f64 = 0.03125;
const SIZES: [usize; 4] = [1, 1_000, 10_000, 100_000];

/// This process's resident set and its count of memory mappings.
fn rss_and_maps() -> (u64, usize) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .unwrap_or(0)
        * 1024;
    let maps = std::fs::read_to_string("/proc/self/maps")
        .map(|m| m.lines().count())
        .unwrap_or(0);
    (rss, maps)
}

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

/// The best of five means of one `f()`, each over about `budget / 5`
/// (a shared machine's noise only ever adds time). The clock is read once
/// per `batch` runs, so it weighs nothing against a run of one call.
fn per_run(budget: Duration, batch: u32, mut f: impl FnMut()) -> Duration {
    f();
    (0..5)
        .map(|_| {
            let start = Instant::now();
            let mut runs = 0u32;
            while runs == 0 || start.elapsed() < budget / 5 {
                for _ in 0..batch {
                    f();
                }
                runs += batch;
            }
            start.elapsed() / runs
        })
        .min()
        .expect("five runs")
}

#[derive(Default)]
struct Figures {
    fresh_us: Option<f64>,
    warm_us: Option<f64>,
    rss_kib: Option<f64>,
    maps: Option<f64>,
    bare_ns: Option<f64>,
    tick_ns: Option<f64>,
    due16_ns: Option<f64>,
}

struct Phases(Vec<String>);

impl Phases {
    fn from_env() -> Phases {
        let v = std::env::var("HIO_MANY_PHASES").unwrap_or_else(|_| "inst,bare,tick,16".into());
        Phases(v.split(',').map(|s| s.trim().to_owned()).collect())
    }

    fn has(&self, p: &str) -> bool {
        self.0.iter().any(|q| q == p)
    }
}

fn instances(plugin: &Plugin, n: usize, cfg: &InstanceConfig) -> Vec<PluginDoer> {
    (0..n)
        .map(|i| {
            plugin
                .instantiate(&format!("d{i}"), 0, Vec::new(), cfg)
                .expect("instantiates")
        })
        .collect()
}

fn measure(plugin: &Rc<Plugin>, n: usize, phases: &Phases) -> Figures {
    let mut f = Figures::default();
    let cfg = InstanceConfig::default();
    let budget = Duration::from_secs(2);
    let batch = u32::try_from((10_000 / n).max(1)).unwrap_or(1);
    if phases.has("inst") {
        let (rss0, maps0) = rss_and_maps();
        // Fresh slots: the pool maps each memory's image on first use.
        let start = Instant::now();
        let doers = instances(plugin, n, &cfg);
        f.fresh_us = Some(start.elapsed().as_secs_f64() * 1e6 / n as f64);
        drop(doers);
        // Warm slots: as when doers are restarted or replaced.
        let start = Instant::now();
        let mut doers = instances(plugin, n, &cfg);
        f.warm_us = Some(start.elapsed().as_secs_f64() * 1e6 / n as f64);
        for d in &mut doers {
            d.bare_enter().expect("enters");
            black_box(d.bare_recur(0.0).expect("recurs"));
        }
        let (rss1, maps1) = rss_and_maps();
        f.rss_kib = Some(rss1.saturating_sub(rss0) as f64 / 1024.0 / n as f64);
        f.maps = Some(maps1.saturating_sub(maps0) as f64 / n as f64);
    }
    if phases.has("bare") {
        // The bare call refills no fuel: enough for the whole measurement.
        let cfg = InstanceConfig {
            fuel: u64::MAX / 2,
            ..InstanceConfig::default()
        };
        let mut doers = instances(plugin, n, &cfg);
        for d in &mut doers {
            d.bare_enter().expect("enters");
        }
        let mut tyme = 0.0;
        let t = per_run(budget, batch, || {
            tyme += TOCK;
            for d in &mut doers {
                black_box(d.bare_recur(tyme).expect("recurs"));
            }
        });
        f.bare_ns = Some(t.as_secs_f64() * 1e9 / n as f64);
    }
    if phases.has("tick") {
        let mut doist = Doist::new(TOCK).logger(Box::new(|_| {}));
        for i in 0..n {
            doist
                .add(plugin.spec(&format!("d{i}"), 0.0, Vec::new(), cfg.clone()))
                .expect("valid name");
        }
        doist.enter().expect("enters");
        let t = per_run(budget, batch, || doist.recur().expect("no failure"));
        f.tick_ns = Some(t.as_secs_f64() * 1e9 / n as f64);
    }
    if phases.has("16") && n >= 16 {
        let mut doist = Doist::new(TOCK).logger(Box::new(|_| {}));
        for i in 0..n {
            doist
                .add(plugin.spec(&format!("d{i}"), TOCK, staggered(i), cfg.clone()))
                .expect("valid name");
        }
        doist.enter().expect("enters");
        // Until recur number stagger + 1 every doer runs each tick.
        for _ in 0..17 {
            doist.recur().expect("no failure");
        }
        let t = per_run(budget, batch, || doist.recur().expect("no failure"));
        f.due16_ns = Some(t.as_secs_f64() * 1e9 / (n as f64 / 16.0));
    }
    f
}

fn cell(v: Option<f64>, prec: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.prec$}"))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "-".to_owned(),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not used here.
    let sizes: Vec<usize> = std::env::var("HIO_MANY")
        .ok()
        .map(|s| s.split(',').filter_map(|v| v.trim().parse().ok()).collect())
        .unwrap_or_else(|| SIZES.to_vec());
    let phases = Phases::from_env();
    println!(
        "Wasm doers at scale (noop plugin, hio run's engine settings, simulated time, trace off)"
    );
    println!(
        "{:>7} {:>8} {:>8} {:>8} {:>10} {:>10} {:>10} {:>6}",
        "doers", "bare ns", "tick ns", "1/16 ns", "fresh us", "warm us", "RSS KiB", "maps"
    );
    let mut rows = Vec::new();
    for &n in &sizes {
        let host = match run_engine(n) {
            Ok(host) => host,
            Err(advice) => {
                println!("{n:>7} skipped: {advice}");
                continue;
            }
        };
        let plugin = Rc::new(host.load(&noop_path()).expect("noop loads"));
        let f = measure(&plugin, n, &phases);
        println!(
            "{n:>7} {:>8} {:>8} {:>8} {:>10} {:>10} {:>10} {:>6}",
            cell(f.bare_ns, 0),
            cell(f.tick_ns, 0),
            cell(f.due16_ns, 0),
            cell(f.fresh_us, 1),
            cell(f.warm_us, 1),
            cell(f.rss_kib, 1),
            cell(f.maps, 2)
        );
        rows.push((n, f));
    }
    let py = python_hio(&sizes);
    let floor = Floor::from_env();
    println!("\nratios within this run (x > 1: the first is slower)");
    println!(
        "{:>7} {:>10} {:>10} {:>12} {:>10} {:>12} {:>12} {:>12}",
        "doers", "tick/bare", "bare/floor", "floor ns", "py ns", "py/tick", "py 1/16 ns", "py/1/16"
    );
    for (n, f) in &rows {
        let floor_call = floor.as_ref().and_then(|fl| Floor::at(&fl.call, *n));
        let py_flat = py
            .as_ref()
            .and_then(|p| p["flat_ns_per_invocation"][n.to_string()].as_f64());
        let py_16 = py
            .as_ref()
            .and_then(|p| p["mixed_1_in_16_ns_per_tick"][n.to_string()].as_f64())
            .map(|t| t / (*n as f64 / 16.0));
        println!(
            "{n:>7} {:>10} {:>10} {:>12} {:>10} {:>12} {:>12} {:>12}",
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
        for (n, f) in &rows {
            println!(
                "{n:>7} doers: instantiation {} (fresh) and {} (warm) times the floor's {:.1} us",
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
