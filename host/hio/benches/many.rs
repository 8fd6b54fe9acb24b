//! Many doers in one host: `plugins/build.sh && cargo bench -p hio --bench many`.
//!
//! For 10,000 and 100,000 minimal Rust doers (the `noop` plugin) it prints:
//! instantiation time per doer (a new `Store` from the plugin's
//! `InstancePre`, through the pooling allocator; in slots never used before,
//! and again in slots freed by the first round), resident memory per idle
//! doer (the process's RSS growth over the doers' lifetime, divided by their
//! number), kernel memory mappings per doer, ns per tick with every doer due
//! and with 1 in 16 due, and the bare wasmtime call of `recur` on the same
//! instances (the floor the scheduler is measured against). Sizes can be set
//! with `HIO_MANY=10000,100000`. Not a test: it prints figures, and the
//! machine's noise is in them; the ratios within one run are what to read.
//!
//! It needs `vm.max_map_count` above the host's estimate for 100,000 doers;
//! when it is lower it raises it (as root), or skips the size with the
//! host's own advice.

use std::hint::black_box;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::{Duration, Instant};

use hio::Doist;
use hio::plugin::{
    EngineLimits, InstanceConfig, MAPS_PER_DOER, PluginDoer, PluginHost, Scalar, Value,
    check_map_count,
};

const TOCK: f64 = 0.03125;

fn noop_path() -> PathBuf {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../plugins/dist/noop.wasm");
    assert!(p.is_file(), "{} missing: run plugins/build.sh", p.display());
    p
}

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

/// Mean time of one `f()` over enough runs to fill about `budget`.
fn per_run(budget: Duration, mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    let mut runs = 0u32;
    while runs == 0 || start.elapsed() < budget {
        f();
        runs += 1;
    }
    start.elapsed() / runs
}

struct Figures {
    fresh_us: f64,
    inst_us: f64,
    rss_per_doer: f64,
    maps_per_doer: f64,
    bare_ns: f64,
    tick_all_ns: f64,
    tick_16_ns: f64,
}

fn measure(n: usize) -> Figures {
    let limits = EngineLimits {
        slots: u32::try_from(n + 16).expect("fits"),
        ..EngineLimits::default()
    };
    let host = PluginHost::new(limits, None).expect("engine");
    let plugin = Rc::new(host.load(&noop_path()).expect("noop loads"));
    let cfg = InstanceConfig::default();
    // The bare call refills no fuel: enough for the whole measurement.
    let bare_cfg = InstanceConfig {
        fuel: u64::MAX / 2,
        ..InstanceConfig::default()
    };

    // Instantiation, memory and the bare call, on instances held directly.
    let make = || -> (Duration, Vec<PluginDoer>) {
        let start = Instant::now();
        let doers = (0..n)
            .map(|i| {
                plugin
                    .instantiate(&format!("d{i}"), 0, Vec::new(), &bare_cfg)
                    .expect("instantiates")
            })
            .collect();
        (start.elapsed(), doers)
    };
    let (rss0, maps0) = rss_and_maps();
    // Fresh slots: the pool maps each memory's image on first use.
    let (inst_fresh, doers) = make();
    drop(doers);
    // Warm slots: as when doers are restarted or replaced.
    let (inst, mut doers) = make();
    for d in &mut doers {
        d.bare_enter().expect("enters");
    }
    let mut tyme = 0.0;
    for d in &mut doers {
        black_box(d.bare_recur(tyme).expect("recurs"));
    }
    let (rss1, maps1) = rss_and_maps();
    let bare = per_run(Duration::from_secs(2), || {
        tyme += TOCK;
        for d in &mut doers {
            black_box(d.bare_recur(tyme).expect("recurs"));
        }
    });
    drop(doers);

    // Scheduled by a Doist: every doer due each tick.
    let tick_all = {
        let mut doist = Doist::new(TOCK).logger(Box::new(|_| {}));
        for i in 0..n {
            doist
                .add(plugin.spec(&format!("d{i}"), 0.0, Vec::new(), cfg.clone()))
                .expect("valid name");
        }
        doist.enter().expect("enters");
        per_run(Duration::from_secs(2), || {
            doist.recur().expect("no failure")
        })
    };
    // 1 in 16 due per tick.
    let tick_16 = {
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
        per_run(Duration::from_secs(2), || {
            doist.recur().expect("no failure")
        })
    };
    Figures {
        fresh_us: inst_fresh.as_secs_f64() * 1e6 / n as f64,
        inst_us: inst.as_secs_f64() * 1e6 / n as f64,
        rss_per_doer: rss1.saturating_sub(rss0) as f64 / n as f64,
        maps_per_doer: maps1.saturating_sub(maps0) as f64 / n as f64,
        bare_ns: bare.as_secs_f64() * 1e9,
        tick_all_ns: tick_all.as_secs_f64() * 1e9,
        tick_16_ns: tick_16.as_secs_f64() * 1e9,
    }
}

/// Raises `vm.max_map_count` to what `slots` doers need, where this process
/// may (as root); otherwise leaves it to the advice printed.
fn raise_map_count(slots: u32) {
    let needed = (u64::from(slots) * MAPS_PER_DOER + 8192).next_power_of_two();
    match std::fs::write("/proc/sys/vm/max_map_count", needed.to_string()) {
        Ok(()) => println!("raised vm.max_map_count to {needed}"),
        Err(e) => println!("cannot raise vm.max_map_count ({e})"),
    }
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not used here.
    let sizes: Vec<usize> = std::env::var("HIO_MANY")
        .ok()
        .map(|s| s.split(',').filter_map(|v| v.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000]);
    println!("many doers (noop plugin, default engine limits, trace off)");
    for n in sizes {
        let slots = u32::try_from(n + 16).unwrap_or(u32::MAX);
        if check_map_count(slots).is_err() {
            raise_map_count(slots);
        }
        if let Err(advice) = check_map_count(slots) {
            println!("{n:>7} doers: skipped: {advice}");
            continue;
        }
        let f = measure(n);
        println!(
            "{n:>7} doers: instantiate {:.1} us/doer (fresh slot), {:.1} us/doer (warm slot); \
             RSS {:.1} KiB/idle doer; {:.2} maps/doer",
            f.fresh_us,
            f.inst_us,
            f.rss_per_doer / 1024.0,
            f.maps_per_doer
        );
        println!(
            "{:>7}        bare recur {:.0} ns/doer; tick, all due: {:.2} ms ({:.0} ns/doer, {:.2}x bare); \
             tick, 1 in 16 due: {:.3} ms ({:.0} ns/due doer)",
            "",
            f.bare_ns / n as f64,
            f.tick_all_ns / 1e6,
            f.tick_all_ns / n as f64,
            f.tick_all_ns / f.bare_ns,
            f.tick_16_ns / 1e6,
            f.tick_16_ns / (n as f64 / 16.0)
        );
    }
}
