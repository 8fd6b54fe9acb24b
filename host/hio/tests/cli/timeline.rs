//! `hio trace FILE`: a run's trace as a Perfetto timeline and a summary per
//! doer; a file that is not a trace is an error naming its line.

use serde_json::Value;

use crate::common::{hio, plugin, stderr, stdout};

/// Writes `text` as a trace file in a fresh folder.
fn trace_file(text: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("run.jsonl");
    std::fs::write(&path, text).expect("write");
    let path = path.to_str().expect("utf-8").to_owned();
    (dir, path)
}

fn events(timeline: &Value) -> &[Value] {
    timeline["traceEvents"].as_array().expect("traceEvents")
}

#[test]
fn a_runs_trace_becomes_a_timeline_of_its_doers_with_the_failure_reason() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = dir.path().join("run.jsonl");
    let rec = plugin("recorder");
    let out = hio(&[
        "run",
        rec.to_str().expect("utf-8"),
        rec.to_str().expect("utf-8"),
        "--option",
        "recorder.fail_at=2",
        "--limit",
        "1",
        "--trace",
        run.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json = dir.path().join("run.json");
    let out = hio(&[
        "trace",
        run.to_str().expect("utf-8"),
        "--perfetto",
        json.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    let timeline: Value =
        serde_json::from_str(&std::fs::read_to_string(&json).expect("timeline")).expect("JSON");
    let ev = events(&timeline);
    // One track per doer, named by its path, in order of appearance.
    let tracks: Vec<(u64, &str)> = ev
        .iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| {
            (
                e["tid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(tracks, [(1, "recorder"), (2, "recorder-2")]);
    // The failing one: a span from enter (0) to its exit at 1/32 s, and an
    // abort instant with the reason.
    let span = ev
        .iter()
        .find(|e| e["ph"] == "X" && e["name"] == "recorder")
        .expect("span");
    assert_eq!(
        (span["ts"].as_f64(), span["dur"].as_f64()),
        (Some(0.0), Some(31_250.0))
    );
    let abort = ev
        .iter()
        .find(|e| e["name"] == "abort")
        .expect("abort instant");
    assert_eq!(abort["tid"], 1);
    assert_eq!(abort["args"]["reason"], "fail_at 2");
    assert_eq!(abort["ts"].as_f64(), Some(31_250.0));
    // The other recurred 4 times and was cleaned; the run's end is marked.
    let recurs = ev
        .iter()
        .filter(|e| e["tid"] == 2 && e["name"] == "recur")
        .count();
    assert_eq!(recurs, 4);
    assert!(ev.iter().any(|e| e["name"] == "done" && e["s"] == "g"));

    // The summary, and the same timeline on stdout with "-".
    let out = hio(&["trace", run.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let table = stdout(&out);
    let rows: Vec<Vec<&str>> = table
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        ["recorder", "2", "1", "0", "0", "0.03125", "abort"],
        "{table}"
    );
    assert_eq!(
        rows[1],
        ["recorder-2", "4", "0", "0", "0", "0.09375", "clean"],
        "{table}"
    );
    let out = hio(&[
        "trace",
        run.to_str().expect("utf-8"),
        "--perfetto",
        "-",
        "--stats",
    ]);
    assert!(out.status.success());
    let piped: Value = serde_json::from_str(&stdout(&out)).expect("JSON on stdout");
    assert_eq!(piped, timeline);
    assert!(stderr(&out).contains("recorder-2"), "{}", stderr(&out));
}

#[test]
fn each_attempt_of_a_restarted_doer_is_its_own_span() {
    let (_dir, path) = trace_file(
        r#"{"tyme":0.0,"doer":"w","event":"enter"}
{"tyme":0.0,"doer":"w","event":"recur"}
{"tyme":0.5,"doer":"w","event":"abort","reason":"boom"}
{"tyme":0.5,"doer":"w","event":"exit"}
{"tyme":1.0,"doer":"w","event":"enter","attempt":1}
{"tyme":1.0,"doer":"w","event":"recur","attempt":1}
{"tyme":1.5,"doer":"w","event":"clean","attempt":1}
{"tyme":1.5,"doer":"w","event":"exit","attempt":1}
{"tyme":2.0,"doer":"","event":"done","done":true}
"#,
    );
    let out = hio(&["trace", &path, "--perfetto", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let timeline: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let spans: Vec<(f64, f64, u64)> = events(&timeline)
        .iter()
        .filter(|e| e["ph"] == "X")
        .map(|e| {
            (
                e["ts"].as_f64().unwrap(),
                e["dur"].as_f64().unwrap(),
                e["args"]["attempt"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(spans, [(0.0, 500_000.0, 0), (1_000_000.0, 500_000.0, 1)]);
    let out = hio(&["trace", &path, "--stats"]);
    let row: Vec<String> = stdout(&out)
        .lines()
        .nth(1)
        .expect("a row")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    assert_eq!(row, ["w", "2", "1", "1", "0", "1.5", "clean"]);
}

#[test]
fn a_file_that_is_not_a_trace_is_refused_naming_the_line() {
    let good = r#"{"tyme":0.0,"doer":"d","event":"enter"}"#;
    let cases = [
        (
            format!("{good}\n{{\"tyme\":0.0,\"doer\":\"d\"\n"),
            "line 2: not a trace record",
        ),
        (
            format!("{good}\n{{\"tyme\":0.0,\"doer\":\"d\",\"event\":\"dance\"}}\n"),
            "line 2",
        ),
        (
            "\n\n{\"tyme\":-1.0,\"doer\":\"d\",\"event\":\"enter\"}\n".to_owned(),
            "line 3: not a trace record: tyme -1",
        ),
        (
            format!("{good}\n{{\"tyme\":1e999,\"doer\":\"d\",\"event\":\"enter\"}}\n"),
            "line 2",
        ),
        ("\u{0}\u{1}garbage\u{ff}".to_owned(), "line 1"),
        (
            format!("{good}\n{{\"tyme\":0.0,\"doer\":\"d\",\"event\":\"exit\",\"extra\":1}}\n"),
            "line 2",
        ),
    ];
    for (text, want) in cases {
        let (_dir, path) = trace_file(&text);
        let out = hio(&["trace", &path, "--perfetto", "-"]);
        assert_eq!(out.status.code(), Some(2), "{text:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(&path) && err.contains(want), "{text:?}: {err}");
        assert!(stdout(&out).is_empty(), "{text:?}");
    }
    // Bytes that are not UTF-8, and a missing file.
    let dir = tempfile::tempdir().expect("temp dir");
    let binary = dir.path().join("bin.jsonl");
    std::fs::write(&binary, [0xff, 0xfe, 0x00, 0x7b]).expect("write");
    let missing = dir.path().join("missing.jsonl");
    for p in [&binary, &missing] {
        let out = hio(&["trace", p.to_str().expect("utf-8")]);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(stderr(&out).contains("cannot read"), "{}", stderr(&out));
    }
    // An empty trace is a trace of nothing.
    let (_dir, empty) = trace_file("");
    let out = hio(&["trace", &empty, "--perfetto", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let timeline: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(events(&timeline).len(), 1, "only the process name");
}

#[test]
fn a_wire_log_adds_the_runs_io_to_the_timeline() {
    let dir = tempfile::tempdir().expect("temp dir");
    let m = dir.path().join("m.toml");
    std::fs::write(
        &m,
        format!(
            r#"
tock = 0.01
limit = 0.3
[net]
mode = "sim"
[[doers]]
name = "echo"
plugin = {}
options = {{ addr = "10.0.0.1:7" }}
grants = {{ listen = ["10.0.0.1:*"] }}
[[doers]]
name = "client"
plugin = {}
options = {{ addr = "10.0.0.1:7", size = 5000 }}
grants = {{ connect = ["10.0.0.1:7"] }}
"#,
            crate::common::quoted(&plugin("echo")),
            crate::common::quoted(&plugin("client"))
        ),
    )
    .expect("write");
    let (trace, wire) = (dir.path().join("run.jsonl"), dir.path().join("run.wire"));
    let s = |p: &std::path::Path| p.to_str().expect("utf-8").to_owned();
    let out = hio(&["run", &s(&m), "--trace", &s(&trace), "--record", &s(&wire)]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = hio(&["trace", &s(&trace), "--wire", &s(&wire), "--perfetto", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let timeline: Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let ev = events(&timeline);
    let track = |name: &str| {
        ev.iter()
            .find(|e| e["name"] == "thread_name" && e["args"]["name"] == name)
            .and_then(|e| e["tid"].as_u64())
            .expect("a track")
    };
    let io_on = |tid: u64| -> Vec<String> {
        ev.iter()
            .filter(|e| e["cat"] == "io" && e["tid"].as_u64() == Some(tid))
            .map(|e| e["name"].as_str().expect("name").to_owned())
            .collect()
    };
    let client = io_on(track("client"));
    assert_eq!(
        client.first().map(String::as_str),
        Some("tcp connect"),
        "{client:?}"
    );
    assert!(client.iter().any(|n| n == "write 5000 B"), "{client:?}");
    let read: usize = client
        .iter()
        .filter_map(|n| {
            n.strip_prefix("read ")?
                .strip_suffix(" B")?
                .parse::<usize>()
                .ok()
        })
        .sum();
    assert_eq!(read, 5000, "{client:?}");
    let echo = io_on(track("echo"));
    assert!(echo.contains(&"tcp listen".to_owned()), "{echo:?}");
    assert!(echo.contains(&"accept".to_owned()), "{echo:?}");
    // The hooks are there too, and every tick.
    assert!(
        ev.iter()
            .any(|e| e["cat"] == "hook" && e["name"] == "recur")
    );
    let ticks: Vec<&Value> = ev.iter().filter(|e| e["cat"] == "tick").collect();
    assert_eq!(ticks.len(), 30, "0.3 of tyme at tock 0.01");
    assert_eq!(ticks[29]["args"]["n"], 30);

    // The log given as the trace is named for what it is.
    let out = hio(&["trace", &s(&wire)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is a wire log"), "{}", stderr(&out));
    // --wire needs a timeline to go into.
    let out = hio(&["trace", &s(&trace), "--wire", &s(&wire)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--perfetto"), "{}", stderr(&out));
}
