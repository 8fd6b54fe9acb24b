//! Crews through the `hio` binary: `crew = true` and `--threads N` give one
//! trace and one log for any thread count, the trace of the same tree
//! without crews where no deck crosses a crew, decks between crews that
//! lose nothing, a trapping crew that is contained, an HTTP server in two
//! crews on one port, a recorded run that replays with any thread count,
//! `hio sim` over crews, and the refusals a user meets.

#![allow(clippy::unwrap_used)]

#[path = "common/mod.rs"]
mod common;

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{hio, hio_command, manifest, plugin, quoted, stderr, stdout};

/// A producer and a consumer per crew (and a std doer in crew a); with
/// `cross`, each crew's producer feeds the other crew's consumer.
fn pipeline(crew: bool, cross: bool) -> String {
    let (producer, consumer, std) = (
        quoted(&plugin("producer")),
        quoted(&plugin("consumer")),
        quoted(&plugin("stdlib")),
    );
    let (deck_a, deck_b) = if cross { ("jb", "ja") } else { ("ja", "jb") };
    format!(
        r#"
tock = 0.03125
limit = 2.0
seed = 7

[[decks]]
name = "ja"
capacity = 4
max_item = "1KiB"

[[decks]]
name = "jb"
capacity = 4
max_item = "1KiB"

[[doers]]
name = "a"
crew = {crew}
doers = [
  {{ name = "producer", plugin = {producer}, options = {{ deck = "ja", count = 12, burst = 3 }}, grants = {{ push = ["ja"] }} }},
  {{ name = "consumer", plugin = {consumer}, tock = 0.0625, options = {{ deck = "{deck_a}", count = 12, rate = 2 }}, grants = {{ pull = ["{deck_a}"] }} }},
  {{ name = "std", plugin = {std}, options = {{ stop = 3 }} }},
]

[[doers]]
name = "b"
crew = {crew}
doers = [
  {{ name = "producer", plugin = {producer}, options = {{ deck = "jb", count = 12, burst = 2 }}, grants = {{ push = ["jb"] }} }},
  {{ name = "consumer", plugin = {consumer}, tock = 0.0625, options = {{ deck = "{deck_b}", count = 12, rate = 2 }}, grants = {{ pull = ["{deck_b}"] }} }},
]
"#
    )
}

/// The trace (stdout) and log (stderr) of `hio run` with `threads`.
fn run(text: &str, threads: &str) -> (String, String) {
    let (_dir, m) = manifest(text);
    let out = hio(&[
        "run",
        m.to_str().unwrap(),
        "--threads",
        threads,
        "--trace",
        "-",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    (stdout(&out), stderr(&out))
}

#[test]
fn crews_give_one_trace_and_log_for_1_2_and_8_threads() {
    let text = pipeline(true, true);
    let one = run(&text, "1");
    assert_eq!(one, run(&text, "2"));
    assert_eq!(one, run(&text, "8"));
    // Every job crosses between the crews, none lost or doubled.
    for n in 1..=12 {
        for c in ["a", "b"] {
            let line = format!("{c}/consumer info got job {n}\n");
            assert_eq!(one.1.matches(&line).count(), 1, "{line}:\n{}", one.1);
        }
    }
}

#[test]
fn crews_give_the_trace_of_the_same_tree_without_them_when_no_deck_crosses() {
    let serial = run(&pipeline(false, false), "1");
    assert!(
        serial.1.contains("b/consumer info got job 6\n"),
        "{}",
        serial.1
    );
    assert_eq!(serial, run(&pipeline(true, false), "2"));
}

#[test]
fn a_deck_pulled_from_in_two_crews_is_refused_naming_it() {
    let text = pipeline(true, false).replace(
        r#"options = { deck = "jb", count = 12, rate = 2 }, grants = { pull = ["jb"] }"#,
        r#"options = { deck = "ja", count = 12, rate = 2 }, grants = { pull = ["ja"] }"#,
    );
    let (_dir, m) = manifest(&text);
    let out = hio(&["run", m.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            r#"decks.ja: deck "ja" is pulled from in crew 1 and crew 2: a deck between crews is pulled from in one crew only"#
        ),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_trap_in_a_crew_fails_that_crew_and_the_others_run_on() {
    let text = format!(
        r#"
tock = 1.0
limit = 6.0

[[doers]]
name = "bad"
crew = true
supervision = {{ policy = "escalate" }}
doers = [ {{ name = "h", plugin = {hostile}, options = {{ mode = "trap" }} }} ]

[[doers]]
name = "good"
crew = true
doers = [ {{ name = "r", plugin = {recorder}, options = {{ stop = 3 }} }} ]
"#,
        hostile = quoted(&plugin("hostile")),
        recorder = quoted(&plugin("recorder")),
    );
    let (trace, _) = run(&text, "2");
    assert!(
        trace.contains(r#"{"tyme":0.0,"doer":"bad","event":"abort","reason":"child bad/h: "#),
        "{trace}"
    );
    assert!(
        trace.contains(r#"{"tyme":3.0,"doer":"good/r","event":"clean"}"#),
        "{trace}"
    );
    assert!(trace.contains(r#""event":"done","done":true"#), "{trace}");
}

/// Waits (60 s at most) until `port` accepts connections from `child`'s
/// run; `log` says why when the run ended first.
fn wait_serving(port: u16, child: &mut Child, log: impl Fn() -> String) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(child.try_wait().unwrap().is_none(), "{}", log());
        assert!(start.elapsed() < Duration::from_secs(60), "not serving");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn hello_in_crews(port: u16) -> String {
    let hello = quoted(&plugin("hello"));
    let crew = |name: &str| {
        format!(
            r#"
[[doers]]
name = "{name}"
crew = true
doers = [ {{ name = "hello", plugin = {hello}, options = {{ addr = "127.0.0.1:{port}" }}, grants = {{ listen = ["127.0.0.1:*"] }} }} ]
"#
        )
    };
    format!(
        "tock = 0.03125\nreal = true\nwake = \"io\"\n{}{}",
        crew("a"),
        crew("b")
    )
}

#[test]
fn an_http_server_in_two_crews_answers_curl_and_python_on_one_port() {
    let port = free_port();
    let (dir, m) = manifest(&hello_in_crews(port));
    let log = dir.path().join("stderr.log");
    let mut child = hio_command()
        .args(["run", m.to_str().unwrap(), "--threads", "2", "--stats"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    wait_serving(port, &mut child, || std::fs::read_to_string(&log).unwrap());
    let url = format!("http://127.0.0.1:{port}/");
    let mut answers = String::new();
    for _ in 0..16 {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "10", &url])
            .output()
            .expect("curl is needed for this test");
        answers.push_str(&String::from_utf8_lossy(&out.stdout));
    }
    let script = format!(
        "import http.client\nfor i in range(16):\n    c = http.client.HTTPConnection('127.0.0.1', {port}, timeout=10)\n    c.request('GET', '/')\n    print(c.getresponse().read().decode().strip(), end=' ')\n"
    );
    let py = Command::new("python3")
        .args(["-c", &script])
        .output()
        .expect("python3");
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    let log = std::fs::read_to_string(&log).unwrap();
    assert_eq!(answers, "hello\n".repeat(16), "{log}");
    assert_eq!(
        String::from_utf8_lossy(&py.stdout),
        "hello ".repeat(16),
        "{log}"
    );
    assert_eq!(status.code(), Some(130), "{log}");
    // Both crews' doers ran and handed their figures to the run's table.
    assert!(log.contains("\na/hello "), "{log}");
    assert!(log.contains("\nb/hello "), "{log}");
}

/// Two echo servers, one per crew, on ports the system picks.
fn echoes_in_crews() -> String {
    let echo = quoted(&plugin("echo"));
    let crew = |name: &str| {
        format!(
            r#"
[[doers]]
name = "{name}"
crew = true
doers = [ {{ name = "echo", plugin = {echo}, options = {{ addr = "127.0.0.1:0" }}, grants = {{ listen = ["127.0.0.1:*"] }} }} ]
"#
        )
    };
    format!(
        "tock = 0.01\nreal = true\nwake = \"io\"\nlimit = 1.0\n{}{}",
        crew("a"),
        crew("b")
    )
}

#[test]
fn a_run_of_crews_on_the_network_recorded_on_2_threads_replays_on_1_2_and_8() {
    use std::io::{BufRead, BufReader, Read, Write};
    let (dir, m) = manifest(&echoes_in_crews());
    let (wire, trace) = (dir.path().join("w.log"), dir.path().join("run.jsonl"));
    let mut child = hio_command()
        .args(["run", "--threads", "2", "--log-level", "debug", "--record"])
        .arg(&wire)
        .arg("--trace")
        .arg(&trace)
        .arg(&m)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut addrs = Vec::new();
    while addrs.len() < 2 {
        let line = lines.next().expect("hio ended before listening").unwrap();
        if let Some(at) = line.split("listening on ").nth(1) {
            addrs.push(at.trim().to_owned());
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    let mut sent = 0;
    for addr in &addrs {
        let mut s = TcpStream::connect(addr.as_str()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        for i in 0..3 {
            let msg = format!("{addr} line {i}\n");
            s.write_all(msg.as_bytes()).unwrap();
            let mut back = vec![0; msg.len()];
            s.read_exact(&mut back).unwrap();
            assert_eq!(back, msg.as_bytes());
            sent += msg.len();
        }
    }
    assert!(child.wait().unwrap().success());
    let recorded = std::fs::read_to_string(&trace).unwrap();
    for threads in ["1", "2", "8"] {
        let again = dir.path().join(format!("replay{threads}.jsonl"));
        let out = hio(&[
            "replay",
            wire.to_str().unwrap(),
            "--threads",
            threads,
            "--trace",
            again.to_str().unwrap(),
        ]);
        let summary = stdout(&out);
        assert!(out.status.success(), "{}{summary}", stderr(&out));
        assert!(summary.contains("reproduced: every tick"), "{summary}");
        assert!(summary.contains(&format!("({sent} bytes)")), "{summary}");
        assert_eq!(recorded, std::fs::read_to_string(&again).unwrap());
    }
    // The timeline puts each crew's I/O on its own doer's track.
    let timeline = dir.path().join("p.json");
    let out = hio(&[
        "trace",
        trace.to_str().unwrap(),
        "--perfetto",
        timeline.to_str().unwrap(),
        "--wire",
        wire.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&timeline).unwrap()).unwrap();
    let events = json["traceEvents"].as_array().unwrap();
    let track = |doer: &str| {
        events
            .iter()
            .find(|e| e["name"] == "thread_name" && e["args"]["name"] == doer)
            .map(|e| e["tid"].clone())
            .unwrap()
    };
    for doer in ["a/echo", "b/echo"] {
        let tid = track(doer);
        let io = events
            .iter()
            .filter(|e| e["cat"] == "io" && e["tid"] == tid)
            .count();
        assert!(io >= 6, "{doer}: {io} I/O events");
    }
}

#[test]
fn hio_sim_gives_crews_the_same_results_per_seed_for_any_thread_count() {
    let (echo, client) = (quoted(&plugin("echo")), quoted(&plugin("client")));
    let crew = |name: &str, port: u16| {
        format!(
            r#"
[[doers]]
name = "{name}"
crew = true
doers = [
  {{ name = "echo", plugin = {echo}, options = {{ addr = "10.0.0.1:{port}" }}, grants = {{ listen = ["10.0.0.1:*"] }} }},
  {{ name = "client", plugin = {client}, options = {{ addr = "10.0.0.1:{port}", size = 65536 }}, grants = {{ connect = ["10.0.0.1:{port}"] }} }},
]
"#
        )
    };
    let text = format!(
        "tock = 0.01\nlimit = 3.0\n[net]\nmode = \"sim\"\n[net.faults]\ndelay = [0, 3]\nsegment = true\nreset = 0.002\n{}{}",
        crew("a", 7000),
        crew("b", 7001)
    );
    let (_dir, m) = manifest(&text);
    let sim = |threads: &str| {
        let out = hio(&[
            "sim",
            m.to_str().unwrap(),
            "--seeds",
            "0..6",
            "--threads",
            threads,
        ]);
        format!("{}{}", stdout(&out), stderr(&out))
    };
    let one = sim("1");
    assert!(one.contains("6 seeds"), "{one}");
    assert_eq!(one, sim("2"));
    assert_eq!(one, sim("8"));
}

#[test]
fn threads_must_be_at_least_one() {
    let (_dir, m) = manifest(&pipeline(true, false));
    let out = hio(&["run", m.to_str().unwrap(), "--threads", "0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--threads"), "{}", stderr(&out));
}

#[test]
fn with_wake_io_a_request_to_a_crew_on_another_thread_starts_the_next_tick() {
    let port = free_port();
    let text = format!(
        r#"
tock = 30.0
real = true
wake = "io"

[[doers]]
name = "idle"
crew = true
doers = [ {{ name = "r", plugin = {recorder}, options = {{ stop = 1000 }} }} ]

[[doers]]
name = "web"
crew = true
doers = [ {{ name = "hello", plugin = {hello}, options = {{ addr = "127.0.0.1:{port}" }}, grants = {{ listen = ["127.0.0.1:*"] }} }} ]
"#,
        recorder = quoted(&plugin("recorder")),
        hello = quoted(&plugin("hello")),
    );
    let (dir, m) = manifest(&text);
    let trace = dir.path().join("trace.jsonl");
    let mut child = hio_command()
        .args(["run", m.to_str().unwrap(), "--threads", "2", "--trace"])
        .arg(&trace)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_serving(port, &mut child, String::new);
    let out = Command::new("curl")
        .args([
            "-sS",
            "--max-time",
            "20",
            &format!("http://127.0.0.1:{port}/"),
        ])
        .output()
        .expect("curl is needed for this test");
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    child.wait().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hello\n");
    // The answer came from a tick between the 30 s tocks: the connection
    // woke the run, though the crew's poll is on another thread.
    let trace = std::fs::read_to_string(&trace).unwrap();
    let woken = trace.lines().any(|l| {
        l.contains(r#""doer":"web/hello","event":"recur""#)
            && !l.contains(r#""tyme":0.0,"#)
            && !l.contains(r#""tyme":30.0,"#)
    });
    assert!(woken, "{trace}");
}

#[test]
fn check_names_the_crews_the_decks_between_them_and_an_instance_per_crew_of_a_share_group() {
    let recorder = quoted(&plugin("recorder"));
    let text = pipeline(true, true)
        + &format!(
            r#"
[[doers]]
name = "c"
crew = true
share = "g"
doers = [ {{ name = "r", plugin = {recorder} }} ]

[[doers]]
name = "d"
crew = true
share = "g"
doers = [ {{ name = "r", plugin = {recorder} }} ]
"#
        );
    let (_dir, m) = manifest(&text);
    let out = hio(&["check", m.to_str().unwrap()]);
    let said = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        said.contains("\ncrews: 4 (a, b, c, d), on the threads --threads gives\n"),
        "{said}"
    );
    assert!(
        said.contains("\n  decks between crews, delivered at each tick's end: ja, jb\n"),
        "{said}"
    );
    // One instance of group g in each crew that has its doers.
    assert!(
        said.contains("instances: 7 for 7 doers, 2 shared\n"),
        "{said}"
    );
    assert!(said.contains(": c/r\n"), "{said}");
    assert!(said.contains(": d/r\n"), "{said}");
}
