//! Figures of many doers of one plugin: instantiation, resident memory,
//! the bare `recur` call and the scheduled tick (see the `many` bench).

use std::hint::black_box;
use std::rc::Rc;
use std::time::{Duration, Instant};

use hio::Doist;
use hio::plugin::{InstanceConfig, Plugin, PluginDoer, Value};

/// The Doist's tock in these measurements.
pub const TOCK: f64 = 0.03125;

/// This process's resident set and its count of memory mappings.
pub fn rss_and_maps() -> (u64, usize) {
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

/// The best of five means of one `f()`, each over about `budget / 5`
/// (a shared machine's noise only ever adds time). The clock is read once
/// per `batch` runs, so it weighs nothing against a run of one call.
pub fn per_run(budget: Duration, batch: u32, mut f: impl FnMut()) -> Duration {
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
pub struct Figures {
    pub fresh_us: Option<f64>,
    /// `enter` and a first `recur` per doer, after instantiation.
    pub enter_us: Option<f64>,
    pub warm_us: Option<f64>,
    pub rss_kib: Option<f64>,
    pub maps: Option<f64>,
    pub bare_ns: Option<f64>,
    pub tick_ns: Option<f64>,
    pub due16_ns: Option<f64>,
}

pub struct Phases(Vec<String>);

impl Phases {
    /// The phases `$HIO_MANY_PHASES` names, else `default` (`inst,bare`).
    pub fn from_env(default: &str) -> Phases {
        let v = std::env::var("HIO_MANY_PHASES").unwrap_or_else(|_| default.into());
        Phases(v.split(',').map(|s| s.trim().to_owned()).collect())
    }

    pub fn has(&self, p: &str) -> bool {
        self.0.iter().any(|q| q == p)
    }
}

pub fn instances(
    plugin: &Plugin,
    n: usize,
    cfg: &InstanceConfig,
    options: &dyn Fn(usize) -> Vec<(String, Value)>,
) -> Vec<PluginDoer> {
    (0..n)
        .map(|i| {
            plugin
                .instantiate(&format!("d{i}"), 0, options(i), cfg)
                .expect("instantiates")
        })
        .collect()
}

/// The figures of `phases` for `n` doers of `plugin`, each made with
/// `cfg` (with its `share`, all of them in one instance): doer i gets
/// `options(i)`, and in the `16` phase `staggered(i)` (due 1 tick in 16).
/// `hio run`'s configuration of a doer, in share group `share` if given.
pub fn config(share: Option<&str>) -> InstanceConfig {
    InstanceConfig {
        share: share.map(str::to_owned),
        ..InstanceConfig::default()
    }
}

pub fn measure(
    plugin: &Rc<Plugin>,
    n: usize,
    phases: &Phases,
    options: &dyn Fn(usize) -> Vec<(String, Value)>,
    staggered: &dyn Fn(usize) -> Vec<(String, Value)>,
    cfg: &InstanceConfig,
) -> Figures {
    let mut f = Figures::default();
    let cfg = cfg.clone();
    let budget = Duration::from_secs(2);
    let batch = u32::try_from((10_000 / n).max(1)).unwrap_or(1);
    if phases.has("inst") {
        let (rss0, maps0) = rss_and_maps();
        // Fresh slots: the pool maps each memory's image on first use.
        let start = Instant::now();
        let doers = instances(plugin, n, &cfg, options);
        f.fresh_us = Some(start.elapsed().as_secs_f64() * 1e6 / n as f64);
        drop(doers);
        // Warm slots: as when doers are restarted or replaced.
        let start = Instant::now();
        let mut doers = instances(plugin, n, &cfg, options);
        f.warm_us = Some(start.elapsed().as_secs_f64() * 1e6 / n as f64);
        let start = Instant::now();
        for d in &mut doers {
            d.bare_enter().expect("enters");
            black_box(d.bare_recur(0.0).expect("recurs"));
        }
        f.enter_us = Some(start.elapsed().as_secs_f64() * 1e6 / n as f64);
        let (rss1, maps1) = rss_and_maps();
        f.rss_kib = Some(rss1.saturating_sub(rss0) as f64 / 1024.0 / n as f64);
        f.maps = Some(maps1.saturating_sub(maps0) as f64 / n as f64);
    }
    if phases.has("bare") {
        // The bare call refills no fuel: enough for the whole measurement.
        let cfg = InstanceConfig {
            fuel: u64::MAX / 2,
            ..cfg.clone()
        };
        let mut doers = instances(plugin, n, &cfg, options);
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
                .add(plugin.spec(&format!("d{i}"), 0.0, options(i), cfg.clone()))
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

pub fn cell(v: Option<f64>, prec: usize) -> String {
    v.map_or_else(|| "-".to_owned(), |v| format!("{v:.prec$}"))
}

pub fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
        _ => "-".to_owned(),
    }
}
