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

/// A trace of `doers` doers that run one after the other, each entered,
/// recurring once, cleaned and exited (four records), and the run's end.
fn one_after_another(doers: usize) -> String {
    let mut text = String::with_capacity(doers * 200);
    for i in 0..doers {
        let (t0, t1) = (i as f64 / 64.0, (i + 1) as f64 / 64.0);
        let d = format!("pool/worker-{i:06}");
        for (t, event) in [(t0, "enter"), (t0, "recur"), (t1, "clean"), (t1, "exit")] {
            text += &format!("{{\"tyme\":{t:?},\"doer\":\"{d}\",\"event\":\"{event}\"}}\n");
        }
    }
    text += &format!(
        "{{\"tyme\":{:?},\"doer\":\"\",\"event\":\"done\",\"done\":true}}\n",
        doers as f64 / 64.0
    );
    text
}

/// What a timeline holds, counted as it is read (a large one is never held
/// whole).
#[derive(Debug, Default, PartialEq)]
struct Tally {
    events: usize,
    spans: usize,
    hooks: usize,
    tracks: usize,
    done: usize,
    /// The highest track number.
    top: u64,
    /// Whether track n is named `pool/worker-<n-1>`, for every track.
    named_in_order: bool,
}

impl<'de> serde::Deserialize<'de> for Tally {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Events;
        impl<'de> serde::de::Visitor<'de> for Events {
            type Value = Tally;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("trace events")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Tally, A::Error> {
                let mut t = Tally {
                    named_in_order: true,
                    ..Tally::default()
                };
                while let Some(e) = seq.next_element::<Value>()? {
                    t.events += 1;
                    t.top = t.top.max(e["tid"].as_u64().unwrap_or(0));
                    match (e["ph"].as_str(), e["name"].as_str()) {
                        (Some("X"), _) => t.spans += 1,
                        (Some("i"), Some("done")) => t.done += 1,
                        (Some("i"), _) if e["cat"] == "hook" => t.hooks += 1,
                        (Some("M"), Some("thread_name")) => {
                            t.tracks += 1;
                            let n = e["tid"].as_u64().unwrap_or(0);
                            let want = format!("pool/worker-{:06}", n.wrapping_sub(1));
                            t.named_in_order &= e["args"]["name"] == want.as_str();
                        }
                        _ => {}
                    }
                }
                Ok(t)
            }
        }
        d.deserialize_seq(Events)
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Timeline {
    #[serde(rename = "displayTimeUnit")]
    unit: String,
    #[serde(rename = "traceEvents")]
    events: Tally,
}

/// The peak resident memory of a process, in KiB: the largest VmHWM seen
/// while it runs (a lower bound of its true peak).
#[cfg(target_os = "linux")]
fn wait_for_peak(child: &mut std::process::Child) -> (std::process::ExitStatus, u64) {
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Some(kib) = std::fs::read_to_string(&status).ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        }) {
            peak = peak.max(kib);
        }
        if let Some(exit) = child.try_wait().expect("wait") {
            return (exit, peak);
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

#[test]
#[cfg(target_os = "linux")]
fn a_long_trace_streams_through_in_memory_that_does_not_grow_with_it() {
    // 100,000 doers, one after the other: a 20 MB trace. Held whole as
    // JSON values, its timeline took over 500 MB.
    const DOERS: usize = 100_000;
    let (dir, path) = trace_file(&one_after_another(DOERS));
    let size = std::fs::metadata(&path).expect("trace").len();
    assert!(size > 15_000_000, "{size}");
    let json = dir.path().join("run.json");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_hio"))
        .args(["trace", &path, "--perfetto", json.to_str().expect("utf-8")])
        .args(["--stats"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run hio");
    // The summary (a row a doer) is read as it comes, or a full pipe
    // would stop hio.
    let mut stdout = child.stdout.take().expect("stdout");
    let rows = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut text).expect("stdout");
        text
    });
    let (exit, peak_kib) = wait_for_peak(&mut child);
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err)
        .expect("stderr");
    assert!(exit.success(), "{err}");
    assert!(
        peak_kib < 64 * 1024,
        "hio trace of {size} bytes peaked at {peak_kib} KiB"
    );

    // Valid JSON with every event: the process name; per doer 4 hooks, a
    // span and the track's name and sort index; the run's end.
    let file = std::fs::File::open(&json).expect("timeline");
    let timeline: Timeline = serde_json::from_reader(std::io::BufReader::new(file)).expect("JSON");
    assert_eq!(timeline.unit, "ms");
    assert_eq!(
        timeline.events,
        Tally {
            events: 1 + 7 * DOERS + 1,
            spans: DOERS,
            hooks: 4 * DOERS,
            tracks: DOERS,
            done: 1,
            top: DOERS as u64,
            named_in_order: true,
        }
    );
    let rows = rows.join().expect("stdout");
    assert_eq!(rows.lines().count(), 1 + DOERS);
    assert_eq!(
        rows.lines()
            .last()
            .map(|l| l.split_whitespace().collect::<Vec<_>>()),
        Some(vec![
            "pool/worker-099999",
            "1",
            "0",
            "0",
            "1562.484375",
            "1562.5",
            "clean"
        ])
    );
}

#[test]
fn a_bad_line_deep_in_a_long_trace_leaves_no_half_timeline() {
    let mut text = one_after_another(2_000);
    text += "{\"tyme\":0.0,\"doer\":\"late\"}\n";
    let (dir, path) = trace_file(&text);
    let json = dir.path().join("run.json");
    let out = hio(&["trace", &path, "--perfetto", json.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("line 8002: not a trace record"),
        "{}",
        stderr(&out)
    );
    assert!(!json.exists(), "a half timeline was left");
    // On stdout, what was written before the bad line stays written; the
    // rest never comes.
    let out = hio(&["trace", &path, "--perfetto", "-"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(serde_json::from_slice::<Value>(&out.stdout).is_err());
    // The timeline is not written over the trace it reads.
    let out = hio(&["trace", &path, "--perfetto", &path]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is the trace being read"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(&path).expect("trace"), text);
}

#[test]
fn the_timeline_keeps_its_bytes() {
    // Keys in order, numbers as serde_json prints them; a restarted doer
    // stays on its track; a doer with no exit ends at the last tyme.
    let (_dir, path) = trace_file(
        r#"{"tyme":0.0,"doer":"w","event":"enter"}
{"tyme":0.5,"doer":"w","event":"abort","reason":"bo\"om"}
{"tyme":0.5,"doer":"w","event":"exit","reason":"bo\"om"}
{"tyme":0.5,"doer":"v","event":"enter","ran":false}
{"tyme":1.0,"doer":"w","event":"enter","attempt":1}
{"tyme":1.5,"doer":"w","event":"clean","attempt":1}
{"tyme":1.5,"doer":"w","event":"exit","attempt":1}
{"tyme":2.0,"doer":"","event":"done","done":false}
"#,
    );
    let out = hio(&["trace", &path, "--perfetto", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let want = concat!(
        r#"{"displayTimeUnit":"ms","traceEvents":["#,
        r#"{"args":{"name":"hio run"},"name":"process_name","ph":"M","pid":1,"tid":0},"#,
        r#"{"args":{},"cat":"hook","name":"enter","ph":"i","pid":1,"s":"t","tid":1,"ts":0.0},"#,
        r#"{"args":{"reason":"bo\"om"},"cat":"hook","name":"abort","ph":"i","pid":1,"s":"t","tid":1,"ts":500000.0},"#,
        r#"{"args":{"reason":"bo\"om"},"cat":"hook","name":"exit","ph":"i","pid":1,"s":"t","tid":1,"ts":500000.0},"#,
        r#"{"args":{"attempt":0},"cat":"doer","dur":500000.0,"name":"w","ph":"X","pid":1,"tid":1,"ts":0.0},"#,
        r#"{"args":{"ran":false},"cat":"hook","name":"enter","ph":"i","pid":1,"s":"t","tid":2,"ts":500000.0},"#,
        r#"{"args":{"attempt":1},"cat":"hook","name":"enter","ph":"i","pid":1,"s":"t","tid":1,"ts":1000000.0},"#,
        r#"{"args":{"attempt":1},"cat":"hook","name":"clean","ph":"i","pid":1,"s":"t","tid":1,"ts":1500000.0},"#,
        r#"{"args":{"attempt":1},"cat":"hook","name":"exit","ph":"i","pid":1,"s":"t","tid":1,"ts":1500000.0},"#,
        r#"{"args":{"attempt":1},"cat":"doer","dur":500000.0,"name":"w","ph":"X","pid":1,"tid":1,"ts":1000000.0},"#,
        r#"{"args":{"done":false},"cat":"run","name":"done","ph":"i","pid":1,"s":"g","tid":0,"ts":2000000.0},"#,
        r#"{"args":{"attempt":0},"cat":"doer","dur":1500000.0,"name":"v","ph":"X","pid":1,"tid":2,"ts":500000.0},"#,
        r#"{"args":{"name":"w"},"name":"thread_name","ph":"M","pid":1,"tid":1},"#,
        r#"{"args":{"sort_index":1},"name":"thread_sort_index","ph":"M","pid":1,"tid":1},"#,
        r#"{"args":{"name":"v"},"name":"thread_name","ph":"M","pid":1,"tid":2},"#,
        r#"{"args":{"sort_index":2},"name":"thread_sort_index","ph":"M","pid":1,"tid":2}"#,
        "]}\n"
    );
    assert_eq!(stdout(&out), want);
}
