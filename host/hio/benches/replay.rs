//! Replay against the real-time run it replays, and the simulated network's
//! speed: `plugins/build.sh && cargo bench -p hio --bench replay`.
//!
//! 1. `hio run --record` in real mode (tock 0.01, `wake = "io"`) for
//!    `HIO_REPLAY_SECONDS` (default 3) seconds of wall time, of two runs on
//!    real sockets: the `hello` HTTP server answering a request every
//!    20 ms, and an echo server with a client doer echoing a 4 MiB burst
//!    (CPU-bound: the guests generate and check every byte). Each log is
//!    then replayed, in this process (the tick loop alone, median of 5) and
//!    as `hio replay FILE` (the whole command, median of 3); each replay's
//!    speed is a ratio to its recording's wall time, measured in this run.
//! 2. The same pair on the simulated network with no faults and with a
//!    mix of them, for 5,000 ticks: ticks per second and bytes per second,
//!    and the ratio to real time (100 ticks per second at tock 0.01).
//!
//! Not a test: it prints figures; the machine's noise is in them.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

mod common;

use common::{median, plugin_path};
use hio::cache::Cache;
use hio::io::SimConfig;
use hio::io::wire::Log;
use hio::manifest::{BuildSettings, Manifest, build_with};
use hio::plugin::Tape;
use hio::recording::{TapeSink, recorded_manifest};

fn pair(head: &str, port: u16, size: u64) -> String {
    format!(
        r#"{head}
[[doers]]
name = "echo"
plugin = "{echo}"
options = {{ addr = "127.0.0.1:{port}" }}
grants = {{ listen = ["127.0.0.1:*"] }}
[[doers]]
name = "client"
plugin = "{client}"
options = {{ addr = "127.0.0.1:{port}", size = {size}, reconnect = true }}
grants = {{ connect = ["127.0.0.1:{port}"] }}
"#,
        echo = plugin_path("echo").display(),
        client = plugin_path("client").display(),
    )
}

fn host_for(m: &Manifest, replay: bool) -> hio::plugin::PluginHost {
    let mut limits = m.engine_for_run();
    limits.replay = replay;
    Cache::choose(None, false)
        .host(limits, |_| {})
        .expect("plugin host")
}

/// The tick loop of a replay of `log`, timed.
fn replay_once(log: &Log) -> Duration {
    let m = recorded_manifest(log).expect("recorded manifest");
    let host = host_for(&m, true);
    let tape = Tape::replay(log.clone());
    let settings = BuildSettings {
        record_stats: false,
        tape: Some(tape.clone()),
        sim: Some(SimConfig::default()),
        threads: 1,
    };
    let built = build_with(&m, &host, &settings).expect("build");
    let mut doist = built
        .doist
        .replay(Tape::ticks(log))
        .trace(TapeSink::new(Some(tape.clone()), None));
    let start = Instant::now();
    doist.run().expect("replay");
    let took = start.elapsed();
    assert_eq!(tape.divergence(), None, "the replay diverged");
    took
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `hio run --record` of `text` (named `name`), with `drive` run against
/// the server's port meanwhile: the log and the run's wall time.
fn record(dir: &Path, name: &str, text: &str, drive: impl FnOnce()) -> (PathBuf, Duration) {
    let m = dir.join(format!("{name}.toml"));
    std::fs::write(&m, text).expect("write");
    let wire = dir.join(format!("{name}.wire"));
    let start = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_hio"))
        .args(["run", "--log-level", "error", "--record"])
        .arg(&wire)
        .arg(&m)
        .spawn()
        .expect("hio run");
    drive();
    let out = child.wait_with_output().expect("hio run");
    let took = start.elapsed();
    assert!(out.status.success(), "hio run failed");
    (wire, took)
}

/// `requests` GETs of `/`, one connection each, `gap` apart.
fn http_client(port: u16, requests: u32, gap: Duration) {
    // The server listens once its run has entered.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the server never listened");
        std::thread::sleep(Duration::from_millis(5));
    }
    for _ in 0..requests {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.write_all(b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
            .expect("send");
        let mut answer = String::new();
        s.read_to_string(&mut answer).expect("answer");
        assert!(answer.ends_with("hello\n"), "{answer}");
        std::thread::sleep(gap);
    }
}

/// Replays `wire` in this process (median of 5 tick loops) and with
/// `hio replay` (median of 3), and prints both against `recording`.
fn report(label: &str, wire: &Path, recording: Duration) {
    let bytes = std::fs::read(wire).expect("log");
    let log = Log::parse(&bytes, false).expect("a complete log");
    let ticks = Tape::ticks(&log).len();
    // Seconds.
    let in_process = median((0..5).map(|_| replay_once(&log).as_secs_f64()).collect());
    let command = median(
        (0..3)
            .map(|_| {
                let start = Instant::now();
                let out = Command::new(env!("CARGO_BIN_EXE_hio"))
                    .arg("replay")
                    .arg(wire)
                    .output()
                    .expect("hio replay");
                assert!(
                    out.status.success(),
                    "{}",
                    String::from_utf8_lossy(&out.stderr)
                );
                start.elapsed().as_secs_f64()
            })
            .collect(),
    );
    let ratio = |seconds: f64| recording.as_secs_f64() / seconds;
    println!(
        "{label}: recorded {:.2} s of wall time, {ticks} ticks, {} records, {} KiB of log",
        recording.as_secs_f64(),
        log.records.len(),
        bytes.len() / 1024
    );
    println!(
        "  replay, tick loop:  {:>9.3} ms  {:>7.0}x faster than the recording",
        in_process * 1e3,
        ratio(in_process)
    );
    println!(
        "  replay, hio replay: {:>9.3} ms  {:>7.0}x faster (the whole command: start, load, checks)",
        command * 1e3,
        ratio(command)
    );
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let seconds: f64 = std::env::var("HIO_REPLAY_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3.0);
    let real = format!("tock = 0.01\nreal = true\nwake = \"io\"\nlimit = {seconds}");

    // An HTTP server answering a request every 20 ms.
    let port = free_port();
    let text = format!(
        "{real}\n[[doers]]\nname = \"web\"\nplugin = \"{}\"\noptions = {{ addr = \"127.0.0.1:{port}\" }}\ngrants = {{ listen = [\"127.0.0.1:*\"] }}\n",
        plugin_path("hello").display()
    );
    let requests = (seconds * 40.0) as u32;
    let (wire, took) = record(dir.path(), "http", &text, || {
        http_client(port, requests, Duration::from_millis(20))
    });
    report(&format!("http: {requests} requests"), &wire, took);

    // A burst: 4 MiB echoed at once, then idle.
    let port = free_port();
    let (wire, took) = record(dir.path(), "echo", &pair(&real, port, 4 << 20), || {});
    report("echo: 4 MiB burst", &wire, took);

    for (label, faults) in [
        ("no faults", ""),
        (
            "delay 0-3, segment, stall 0.05",
            "[net.faults]\ndelay = [0, 3]\nsegment = true\nstall = 0.05",
        ),
    ] {
        const TICKS: u32 = 5_000;
        let head = format!(
            "tock = 0.01\nlimit = {}\n[net]\nmode = \"sim\"\n{faults}",
            f64::from(TICKS) * 0.01
        );
        // A client that never finishes: traffic on every tick.
        let m = Manifest::parse(&pair(&head, 7000, 1 << 40), dir.path().join("sim.toml"))
            .expect("manifest");
        let host = host_for(&m, false);
        let tape = Tape::digests_only();
        let settings = BuildSettings {
            record_stats: false,
            tape: Some(tape.clone()),
            sim: None,
            threads: 1,
        };
        let built = build_with(&m, &host, &settings).expect("build");
        let mut doist = built.doist;
        let start = Instant::now();
        doist.run().expect("sim run");
        let took = start.elapsed().as_secs_f64();
        let d = tape.digests();
        let rate = f64::from(TICKS) / took;
        println!(
            "sim, {label:<32} {rate:>10.0} ticks/s  {:>8.1} MB/s written  {:>6.0}x real time (tock 0.01)",
            d.bytes as f64 / took / 1e6,
            rate / 100.0
        );
    }
}
