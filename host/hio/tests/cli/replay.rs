//! `hio run --record FILE` with real sockets, then `hio replay FILE` with
//! none: the same lifecycle trace and the same bytes written; a changed
//! plugin reported (and, forced, caught at the tick it first differs); a
//! damaged or cut log a clear error.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use hio::io::wire::{Log, Op, Record};

use crate::common::{hio, plugin, quoted, stderr, stdout, test_cache};

/// A real-mode manifest serving `plugin` as doer `name` on a port the
/// system picks, for `limit` seconds.
fn serving(plugin_path: &Path, name: &str, limit: f64) -> String {
    format!(
        r#"
tock = 0.01
real = true
wake = "io"
limit = {limit}
[[doers]]
name = "{name}"
plugin = {}
options = {{ addr = "127.0.0.1:0" }}
grants = {{ listen = ["127.0.0.1:*"] }}
"#,
        quoted(plugin_path)
    )
}

/// `hio run` of `manifest` recording to `wire` and tracing to `trace`,
/// and the address its server reports.
fn record(manifest: &Path, wire: &Path, trace: &Path) -> (Child, SocketAddr) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hio"))
        .args(["run", "--log-level", "debug", "--record"])
        .arg(wire)
        .arg("--trace")
        .arg(trace)
        .arg(manifest)
        .env_remove("HIO_CACHE_DIR")
        .env("XDG_CACHE_HOME", test_cache())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hio");
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let addr = loop {
        let line = lines
            .next()
            .expect("hio ended before listening")
            .expect("stderr");
        if let Some(at) = line.split("listening on ").nth(1) {
            break at.trim().parse().expect("address");
        }
    };
    // Keep draining the log so the run never blocks on it.
    std::thread::spawn(move || lines.for_each(drop));
    (child, addr)
}

fn replay(wire: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["replay", wire.to_str().expect("utf-8")];
    args.extend_from_slice(extra);
    hio(&args)
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8")
}

#[test]
fn a_tcp_session_recorded_with_real_sockets_replays_identically() {
    let dir = tempfile::tempdir().expect("temp dir");
    let m = dir.path().join("m.toml");
    std::fs::write(&m, serving(&plugin("echo"), "echo", 1.0)).expect("write");
    let (wire, run_trace) = (dir.path().join("echo.wire"), dir.path().join("run.jsonl"));
    let (mut child, addr) = record(&m, &wire, &run_trace);
    let mut sent = 0;
    for round in 0..2 {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        for i in 0..4 {
            let msg = format!("round {round} line {i}\n");
            s.write_all(msg.as_bytes()).expect("send");
            let mut back = vec![0; msg.len()];
            s.read_exact(&mut back).expect("echo");
            assert_eq!(back, msg.as_bytes());
            sent += msg.len();
        }
    }
    assert!(child.wait().expect("wait").success());
    let replay_trace = dir.path().join("replay.jsonl");
    let out = replay(&wire, &["--trace", path_str(&replay_trace)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = stdout(&out);
    assert!(summary.contains("reproduced: every tick"), "{summary}");
    assert!(summary.contains(&format!("({sent} bytes)")), "{summary}");
    let recorded = std::fs::read_to_string(&run_trace).expect("run trace");
    let replayed = std::fs::read_to_string(&replay_trace).expect("replay trace");
    assert!(recorded.contains("\"recur\""), "{recorded}");
    assert_eq!(recorded, replayed);
    // No socket: the address the recording served on is free or taken by
    // someone else, and the replay does not care.
    let again = replay(&wire, &[]);
    assert_eq!(stdout(&again), summary);
}

/// Sends one HTTP/1.1 request and reads the whole response.
fn get(addr: SocketAddr, target: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut text = String::new();
    s.read_to_string(&mut text).expect("response");
    text
}

/// Records a run of the Rust `hello` server (copied to `web.wasm` beside
/// the manifest) answering two requests.
fn recorded_hello(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let web = dir.join("web.wasm");
    std::fs::copy(plugin("hello"), &web).expect("copy");
    let m = dir.join("m.toml");
    std::fs::write(&m, serving(&web, "web", 1.0)).expect("write");
    let (wire, trace) = (dir.join("web.wire"), dir.join("run.jsonl"));
    let (mut child, addr) = record(&m, &wire, &trace);
    // Some ticks first, so the first request is not in the first tick.
    std::thread::sleep(Duration::from_millis(100));
    let ok = get(addr, "/");
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.ends_with("hello\n"), "{ok}");
    let missing = get(addr, "/nope");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    assert!(child.wait().expect("wait").success());
    (web, wire, trace)
}

#[test]
fn an_http_session_recorded_with_real_sockets_replays_identically() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, wire, run_trace) = recorded_hello(dir.path());
    let replay_trace = dir.path().join("replay.jsonl");
    let out = replay(&wire, &["--trace", path_str(&replay_trace)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("reproduced"), "{}", stdout(&out));
    assert_eq!(
        std::fs::read_to_string(&run_trace).expect("run trace"),
        std::fs::read_to_string(&replay_trace).expect("replay trace")
    );
    // The log holds what the doer saw: the two requests' heads.
    let log = Log::parse(&std::fs::read(&wire).expect("log"), false).expect("parse");
    let nexts = log
        .records
        .iter()
        .filter(|(_, r)| matches!(r, Record::Call { op, result, .. } if *op == Op::HttpNext as u64 && result.first() == Some(&1)))
        .count();
    assert_eq!(nexts, 2);
}

/// The tick (counted from 1) in which the recorded doer first got a
/// request.
fn first_request_tick(wire: &Path) -> u64 {
    let log = Log::parse(&std::fs::read(wire).expect("log"), false).expect("parse");
    let mut tick = 0;
    for (_, r) in &log.records {
        match r {
            Record::Tick { .. } => tick += 1,
            Record::Call { op, result, .. }
                if *op == Op::HttpNext as u64 && result.first() == Some(&1) =>
            {
                return tick;
            }
            _ => {}
        }
    }
    panic!("no request in the log");
}

#[test]
fn a_changed_plugin_is_reported_before_replay_and_forced_diverges_at_its_first_request() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (web, wire, _) = recorded_hello(dir.path());
    // Same options, same calls until a request comes: then it streams
    // events where hello answered.
    std::fs::copy(plugin("ticker"), &web).expect("swap the plugin");
    let out = replay(&wire, &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(3), "{err}\n{}", stdout(&out));
    assert!(
        err.contains(&format!(
            "plugin {} changed since the recording",
            web.display()
        )),
        "{err}"
    );
    assert!(err.contains("--force"), "{err}");
    assert!(stdout(&out).is_empty());

    let out = replay(&wire, &["--force"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    let tick = first_request_tick(&wire);
    assert!(tick > 1, "the request came in tick {tick}");
    assert!(err.contains(&format!("diverged at tick {tick} ")), "{err}");
    assert!(err.contains("doer web"), "{err}");
    assert!(err.contains("http respond"), "{err}");

    // A plugin that is gone is named too.
    std::fs::remove_file(&web).expect("remove");
    let out = replay(&wire, &[]);
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("cannot be read"), "{}", stderr(&out));
}

/// A short simulated run with a network doer, recorded.
fn recorded_sim(dir: &Path) -> PathBuf {
    let text = format!(
        r#"
tock = 0.01
limit = 0.5
[net]
mode = "sim"
[[doers]]
name = "echo"
plugin = {}
options = {{ addr = "127.0.0.1:7000" }}
grants = {{ listen = ["127.0.0.1:*"] }}
[[doers]]
name = "client"
plugin = {}
options = {{ addr = "127.0.0.1:7000", size = 3000, reconnect = true }}
grants = {{ connect = ["127.0.0.1:7000"] }}
"#,
        quoted(&plugin("echo")),
        quoted(&plugin("client"))
    );
    let m = dir.join("m.toml");
    std::fs::write(&m, text).expect("write");
    let wire = dir.join("sim.wire");
    let out = hio(&["run", path_str(&m), "--record", path_str(&wire)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("echoed 3000 bytes"),
        "{}",
        stderr(&out)
    );
    wire
}

#[test]
fn a_damaged_or_cut_log_is_a_clear_error_and_partial_replays_its_complete_ticks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let wire = recorded_sim(dir.path());
    let good = std::fs::read(&wire).expect("log");
    let out = replay(&wire, &[]);
    assert!(out.status.success(), "{}", stderr(&out));

    let bad = dir.path().join("bad.wire");
    // A flipped byte in the middle: its record's checksum fails.
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    std::fs::write(&bad, &flipped).expect("write");
    let out = replay(&bad, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&bad.display().to_string()), "{err}");
    assert!(err.contains("record ") && err.contains("at byte "), "{err}");

    // Cut short anywhere: truncated, and --partial replays what is whole.
    for cut in [good.len() - 1, good.len() * 2 / 3, 20] {
        std::fs::write(&bad, &good[..cut]).expect("write");
        let out = replay(&bad, &[]);
        assert_eq!(out.status.code(), Some(2), "cut at {cut}: {}", stderr(&out));
        assert!(stderr(&out).contains("truncated"), "{}", stderr(&out));
        let out_partial = replay(&bad, &["--partial"]);
        if cut > 100 {
            assert!(stderr(&out).contains("--partial"), "{}", stderr(&out));
            let out = out_partial;
            assert!(out.status.success(), "cut at {cut}: {}", stderr(&out));
            assert!(
                stdout(&out).contains("reproduced up to tick"),
                "{}",
                stdout(&out)
            );
        } else {
            // Not even a header: nothing to replay.
            assert!(
                stderr(&out).contains("the header is cut short"),
                "{}",
                stderr(&out)
            );
            assert_eq!(
                out_partial.status.code(),
                Some(2),
                "{}",
                stderr(&out_partial)
            );
        }
    }

    for (text, why) in [
        (&b""[..], "not a hio wire log"),
        (&b"hello, world"[..], "not a hio wire log"),
    ] {
        std::fs::write(&bad, text).expect("write");
        let out = replay(&bad, &[]);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr(&out).contains(why), "{}", stderr(&out));
    }
    let out = replay(&dir.path().join("missing.wire"), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
}

#[test]
fn a_recording_is_compact_and_replays_without_the_run_folder() {
    let dir = tempfile::tempdir().expect("temp dir");
    let wire = recorded_sim(dir.path());
    // The manifest goes; the log holds its text.
    std::fs::remove_file(dir.path().join("m.toml")).expect("remove");
    let out = replay(&wire, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let size = std::fs::metadata(&wire).expect("log").len();
    // 50 ticks and 3000 bytes each way: the log is a few kilobytes.
    assert!(size < 32 << 10, "{size} bytes");
}

#[test]
fn a_watchdog_interrupt_is_replayed_where_it_struck() {
    let text = format!(
        r#"
tock = 0.01
real = true
limit = 0.1
[engine]
watchdog = 0.05
[[doers]]
name = "spin"
plugin = {}
options = {{ mode = "loop" }}
limits = {{ fuel = 100_000_000_000 }}
[[doers]]
name = "r"
plugin = {}
options = {{ stop = 4 }}
"#,
        quoted(&plugin("hostile")),
        quoted(&plugin("recorder"))
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let m = dir.path().join("m.toml");
    std::fs::write(&m, text).expect("write");
    let (wire, run_trace) = (dir.path().join("spin.wire"), dir.path().join("run.jsonl"));
    let out = hio(&[
        "run",
        path_str(&m),
        "--record",
        path_str(&wire),
        "--trace",
        path_str(&run_trace),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let recorded = std::fs::read_to_string(&run_trace).expect("trace");
    assert!(recorded.contains("wall-time budget exceeded"), "{recorded}");
    let log = Log::parse(&std::fs::read(&wire).expect("log"), false).expect("parse");
    assert!(
        log.records.iter().any(|(_, r)| matches!(r, Record::Interrupt { path, hook, calls: 0 } if path == "spin" && hook == "recur")),
        "no interrupt record"
    );
    let replay_trace = dir.path().join("replay.jsonl");
    let out = replay(&wire, &["--trace", path_str(&replay_trace)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("reproduced"), "{}", stdout(&out));
    assert_eq!(
        recorded,
        std::fs::read_to_string(&replay_trace).expect("replay trace")
    );
}

#[test]
fn a_bare_component_run_is_recorded_with_the_manifest_the_command_built() {
    let dir = tempfile::tempdir().expect("temp dir");
    let wire = dir.path().join("bare.wire");
    let rec = plugin("recorder");
    let out = hio(&[
        "run",
        path_str(&rec),
        "--option",
        "recorder.stop=2",
        "--seed",
        "9",
        "--record",
        path_str(&wire),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = Log::parse(&std::fs::read(&wire).expect("log"), false).expect("parse");
    assert!(
        log.header.manifest.contains("[[doers]]"),
        "{}",
        log.header.manifest
    );
    assert_eq!(log.header.seed, 9);
    assert!(
        log.header.settings.contains("recorder.stop=2"),
        "{}",
        log.header.settings
    );
    let out = replay(&wire, &["--trace", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // recurs at 0, 1/32, 2/32; done at the third: the option was applied.
    let recurs = stdout(&out).matches("\"recur\"").count();
    assert_eq!(recurs, 3, "{}", stdout(&out));
    assert!(stderr(&out).contains("reproduced"), "{}", stderr(&out));
}

#[test]
fn a_run_stopped_by_a_signal_replays_to_where_it_stopped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let m = dir.path().join("m.toml");
    // No limit: it runs until the signal, as `hio run examples/echo.toml`.
    let text = serving(&plugin("echo"), "echo", 1.0).replace("limit = 1\n", "");
    assert!(!text.contains("limit"), "{text}");
    std::fs::write(&m, text).expect("write");
    let (wire, run_trace) = (dir.path().join("echo.wire"), dir.path().join("run.jsonl"));
    let (child, addr) = record(&m, &wire, &run_trace);
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s.write_all(b"before the signal\n").expect("send");
    let mut back = [0u8; 18];
    s.read_exact(&mut back).expect("echo");
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(130));
    let replay_trace = dir.path().join("replay.jsonl");
    let out = replay(&wire, &["--trace", path_str(&replay_trace)]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("reproduced: every tick"),
        "{}",
        stdout(&out)
    );
    let recorded = std::fs::read_to_string(&run_trace).expect("run trace");
    assert!(recorded.contains("\"cease\""), "{recorded}");
    assert_eq!(
        recorded,
        std::fs::read_to_string(&replay_trace).expect("replay trace")
    );
}
