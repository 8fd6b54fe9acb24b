//! Doers written in Python, JavaScript and C beside Rust ones: the same
//! options and messages, a mixed tree linked by decks that runs the same
//! every time, HTTP servers that answer curl, and each language's doers
//! driven by the test harness. (The recorders' traces in every language
//! are checked against the native scheduler's in `recorders.rs`.)

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{hio, manifest, plugin, quoted, root, stderr};
use hio::Grants;
use hio::harness::{DoerArgs, Harness};
use hio::plugin::{Scalar, Value};

const LANGS: [&str; 3] = ["py", "js", "c"];

/// The error `hio check` gives for `plugin` with `options`, with the
/// plugin's path taken out so languages can be compared.
fn refusal(plugin_name: &str, options: &str) -> String {
    let path = plugin(plugin_name);
    let (_dir, m) = manifest(&format!(
        "[[doers]]\nname = \"r\"\nplugin = {}\noptions = {{ {options} }}\n",
        quoted(&path)
    ));
    let out = hio(&["check", m.to_str().expect("utf-8")]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{plugin_name} {options}: {}",
        stderr(&out)
    );
    let err = stderr(&out);
    let path = path.to_str().expect("utf-8");
    let (_, reason) = err
        .split_once(&format!("rejected by {path}: "))
        .unwrap_or_else(|| panic!("{plugin_name} {options}: {err}"));
    reason.trim_end().to_owned()
}

#[test]
fn every_recorder_refuses_bad_options_with_the_rust_recorders_words() {
    let cases = [
        "tock = -1",
        "tock = -1.5",
        "tock = -0.0000001",
        "tock = -1e300",
        "tock = -5e-324",
        "tock = -1.7976931348623157e308",
        "tock = \"fast\"",
        "stop = true",
        "stop = -1",
        "stop = 1.5",
        "fail_at = 0",
        "retock_at = 2",
        "retock = 0.5",
        "nope = 1",
        "stop = [1, 2]",
    ];
    for options in cases {
        let rust = refusal("recorder", options);
        for lang in LANGS {
            let other = refusal(&format!("recorder-{lang}"), options);
            assert_eq!(other, rust, "recorder-{lang} with {options}");
        }
    }
    // The words themselves, for one case.
    assert_eq!(
        refusal("recorder-py", "tock = -0.0000001"),
        "option `tock` must be a finite number >= 0, got -0.0000001"
    );
}

/// `hio run examples/languages.toml`: its trace, and its log lines.
fn run_languages(seed: &str) -> (String, Vec<String>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let trace = dir.path().join("trace.jsonl");
    let example = root().join("examples/languages.toml");
    let out = hio(&[
        "run",
        example.to_str().expect("utf-8"),
        "--seed",
        seed,
        "--trace",
        trace.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let logs = stderr(&out).lines().map(str::to_owned).collect();
    (std::fs::read_to_string(trace).expect("trace"), logs)
}

#[test]
fn a_tree_of_four_languages_linked_by_decks_runs_the_same_every_time() {
    let (trace, logs) = run_languages("7");
    // Every job crossed the Python, JavaScript and C relays, in order.
    let got: Vec<&str> = logs
        .iter()
        .filter_map(|l| l.split_once(" consumer info got ").map(|(_, item)| item))
        .collect();
    let want: Vec<String> = (1..=6).map(|n| format!("job {n} py js c")).collect();
    assert_eq!(got, want, "{logs:#?}");
    // Every doer of the tree finished: the relays and recorders of each
    // language are done, none failed.
    for doer in [
        "python",
        "javascript",
        "c",
        "consumer",
        "recorders/rust",
        "recorders/python",
        "recorders/javascript",
        "recorders/c",
    ] {
        let clean = format!("\"doer\":\"{doer}\",\"event\":\"clean\"");
        assert!(trace.contains(&clean), "{doer} did not finish:\n{trace}");
    }
    assert!(!trace.contains("\"abort\""), "{trace}");
    // The same run again, and with another seed: the same trace and log.
    for seed in ["7", "8"] {
        let (again, again_logs) = run_languages(seed);
        assert_eq!(again, trace, "seed {seed}");
        assert_eq!(again_logs, logs, "seed {seed}");
    }
}

/// `curl -s -i URL` (or with `-I`, a HEAD request): the whole answer.
fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-s", "-i", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl is needed for this test (Debian: apt-get install curl)");
    assert!(out.status.success(), "curl {args:?}: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).replace("\r\n", "\n")
}

#[test]
fn the_hello_server_in_each_language_answers_curl() {
    let mut text = String::from("tock = 0.03125\nreal = true\nwake = \"io\"\nlimit = 120.0\n");
    for lang in ["", "-py", "-js", "-c"] {
        let p = quoted(&plugin(&format!("hello{lang}")));
        text += &format!(
            "[[doers]]\nname = \"hello{lang}\"\nplugin = {p}\n\
             options = {{ addr = \"127.0.0.1:0\" }}\ngrants = {{ listen = [\"127.0.0.1:*\"] }}\n"
        );
    }
    let (_dir, m) = manifest(&text);
    let mut child = Command::new(env!("CARGO_BIN_EXE_hio"))
        .args(["run", m.to_str().expect("utf-8"), "--log-level", "debug"])
        .env("XDG_CACHE_HOME", common::test_cache())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hio");
    // Each server logs the address the system gave it.
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut servers = Vec::new();
    while servers.len() < 4 {
        let Some(Ok(line)) = lines.next() else {
            let _ = child.kill();
            panic!("hio ended before every server listened: {servers:?}");
        };
        if let Some((head, addr)) = line.split_once(" debug listening on ") {
            let name = head.rsplit(' ').next().unwrap_or("").to_owned();
            servers.push((name, addr.trim().to_owned()));
        }
    }
    // Drain the rest of the log so hio never blocks on it.
    let drain = std::thread::spawn(move || lines.count());
    for (name, addr) in &servers {
        let ok = curl(&[&format!("http://{addr}/")]);
        assert!(ok.starts_with("HTTP/1.1 200 OK\n"), "{name}: {ok}");
        assert!(ok.contains("\ncontent-type: text/plain\n"), "{name}: {ok}");
        assert!(ok.ends_with("\n\nhello\n"), "{name}: {ok}");
        let missing = curl(&[&format!("http://{addr}/nowhere")]);
        assert!(
            missing.starts_with("HTTP/1.1 404 Not Found\n"),
            "{name}: {missing}"
        );
        assert!(missing.ends_with("\n\nnot found\n"), "{name}: {missing}");
        let head = curl(&["-I", &format!("http://{addr}/")]);
        assert!(head.starts_with("HTTP/1.1 200 OK\n"), "{name}: {head}");
        assert!(head.contains("\nContent-Length: 6\n"), "{name}: {head}");
        assert!(head.ends_with("\n\n"), "{name}: {head}");
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = drain.join();
    let names: Vec<&str> = servers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names.len(), 4, "{names:?}");
}

fn text(v: &str) -> Value {
    Value::Scalar(Scalar::Text(v.to_owned()))
}

#[test]
fn the_harness_drives_a_deck_doer_in_each_language() {
    for lang in LANGS {
        let mut h = Harness::new(0.25);
        h.deck("in", 4, 1024).deck("out", 1, 1024);
        let relay = h.load(plugin(&format!("relay-{lang}"))).expect("load");
        let grants = Grants {
            push: ["out".to_owned()].into(),
            pull: ["in".to_owned()].into(),
        };
        let options = vec![
            ("count".to_owned(), Value::Scalar(Scalar::Integer(2))),
            ("tag".to_owned(), text(lang)),
        ];
        let spec = h
            .spec(
                DoerArgs::new("relay", &relay)
                    .options(options)
                    .grants(grants),
            )
            .expect("spec");
        h.add_spec(spec).expect("add");
        h.push("in", b"a").expect("push");
        h.push("in", b"b").expect("push");
        h.enter().expect("enter");
        h.tick().expect("tick");
        // "out" holds one item: the second waits in the relay's hand.
        assert_eq!(
            h.pull("out").expect("pull"),
            Some(format!("a {lang}").into_bytes())
        );
        assert_eq!(h.pull("out").expect("pull"), None);
        h.tick().expect("tick");
        assert_eq!(
            h.pull("out").expect("pull"),
            Some(format!("b {lang}").into_bytes())
        );
        let events: Vec<String> = h
            .trace()
            .iter()
            .filter(|r| r.doer == "relay")
            .map(|r| r.event.as_str().to_owned())
            .collect();
        assert_eq!(
            events,
            ["enter", "recur", "recur", "clean", "exit"],
            "{lang}"
        );
        let logs = h.logs().join("\n");
        assert!(
            logs.contains(&format!("relay info passed b {lang}")),
            "{lang}: {logs}"
        );
    }
}

#[test]
fn the_counter_template_runs_alike_in_each_language() {
    let run = |lang: &str, stop: &str| {
        let name = format!("counter-{lang}");
        let p = plugin(&name);
        let out = hio(&[
            "run",
            p.to_str().expect("utf-8"),
            "--tock",
            "0.25",
            "--option",
            &format!("{name}.stop={stop}"),
        ]);
        let text = stderr(&out).replace(p.to_str().expect("utf-8"), "counter.wasm");
        let text = text.replace(&name, "counter");
        (out.status.code(), text)
    };
    let (status, logs) = run("py", "2");
    assert_eq!(status, Some(0), "{logs}");
    assert_eq!(
        logs,
        "0.0 counter info count 1 at tyme 0 (tock 0)\n0.25 counter info count 2 at tyme 0.25 (tock 0)\n"
    );
    let (_, refused) = run("py", "-1");
    assert!(
        refused.ends_with("rejected by counter.wasm: option `stop` must be >= 0, got -1\n"),
        "{refused}"
    );
    for lang in ["js", "c"] {
        assert_eq!(run(lang, "2"), (status, logs.clone()), "{lang}");
        assert_eq!(run(lang, "-1").1, refused, "{lang}");
    }
}

#[test]
fn the_harness_runs_the_counter_template_as_the_guide_shows() {
    for lang in LANGS {
        let mut h = Harness::new(0.25);
        let counter = h.load(plugin(&format!("counter-{lang}"))).expect("load");
        h.add(DoerArgs::new("counter", &counter)).expect("add");
        h.run().expect("run");
        assert!(
            h.logs()[0].starts_with("0.0 counter info count 1 at tyme 0"),
            "{lang}: {:?}",
            h.logs()
        );
        assert!(
            h.trace()
                .iter()
                .any(|r| r.doer == "counter" && r.event.as_str() == "clean"),
            "{lang}"
        );
        assert_eq!(h.tyme(), 0.75, "{lang}");
    }
}

#[test]
fn a_relay_refused_by_a_deck_fails_alone_with_the_same_reason_in_each_language() {
    for lang in LANGS {
        let mut h = Harness::new(0.25);
        h.deck("in", 4, 1024);
        let relay = h.load(plugin(&format!("relay-{lang}"))).expect("load");
        let options = vec![
            ("from".to_owned(), text("in")),
            ("to".to_owned(), text("gone")),
        ];
        let grants = Grants {
            push: Default::default(),
            pull: ["in".to_owned()].into(),
        };
        let spec = h
            .spec(
                DoerArgs::new("relay", &relay)
                    .options(options)
                    .grants(grants),
            )
            .expect("spec");
        h.add_spec(spec).expect("add");
        let counter = h.load(plugin(&format!("counter-{lang}"))).expect("load");
        h.add(DoerArgs::new("counter", &counter)).expect("add");
        h.push("in", b"a").expect("push");
        h.doist().set_limit(Some(1.0));
        h.run().expect("a failed doer is isolated");
        let reasons: Vec<String> = h
            .trace()
            .iter()
            .filter(|r| r.doer == "relay" && r.event.as_str() == "abort")
            .filter_map(|r| r.reason.clone())
            .collect();
        assert_eq!(reasons, ["gone: unknown-deck"], "{lang}");
        // Its neighbour ran on to the end.
        assert!(
            h.trace()
                .iter()
                .any(|r| r.doer == "counter" && r.event.as_str() == "clean"),
            "{lang}"
        );
    }
}

#[test]
fn a_hello_server_without_a_grant_fails_with_the_rust_hellos_reason() {
    let reason = |name: &str| {
        let p = quoted(&plugin(name));
        let (_dir, m) = manifest(&format!(
            "tock = 0.25\nlimit = 0.5\n[[doers]]\nname = \"h\"\nplugin = {p}\n\
             options = {{ addr = \"127.0.0.1:0\" }}\n"
        ));
        let out = hio(&["run", m.to_str().expect("utf-8"), "--trace", "-"]);
        let trace = common::stdout(&out);
        trace
            .lines()
            .find(|l| l.contains("\"abort\""))
            .unwrap_or_else(|| panic!("{name} did not fail: {trace}"))
            .to_owned()
    };
    let rust = reason("hello");
    assert!(
        rust.contains("cannot serve on 127.0.0.1:0: not granted: "),
        "{rust}"
    );
    for lang in LANGS {
        assert_eq!(reason(&format!("hello-{lang}")), rust, "{lang}");
    }
}

/// Runs `cmd`, failing the test with its output when it fails.
fn succeeds(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e} (run plugins/build.sh --all first)"));
    assert!(
        out.status.success(),
        "{what}:\n{}\n{}",
        common::stdout(&out),
        stderr(&out)
    );
}

#[test]
fn the_python_sdk_layer_passes_its_unit_tests() {
    // CPython runs the layer against componentize-py's generated bindings,
    // with the host's imports faked by the tests.
    let plugins = root().join("plugins");
    let bin = plugins.join(".tools/py/bin");
    let bindings = tempfile::tempdir().expect("temp dir");
    succeeds(
        Command::new(bin.join("componentize-py"))
            .args(["-d", "wit", "-w", "doer", "bindings"])
            .arg(bindings.path())
            .current_dir(root()),
        "componentize-py bindings",
    );
    let path = std::env::join_paths([bindings.path(), &plugins.join("py")]).expect("path");
    succeeds(
        Command::new(bin.join("python"))
            .args(["-m", "unittest", "-v", "test_hio_doer"])
            .env("PYTHONPATH", path)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .current_dir(plugins.join("py")),
        "python -m unittest test_hio_doer",
    );
}

#[test]
fn the_javascript_sdk_layer_passes_its_unit_tests() {
    // Node.js runs the layer with the host's interfaces faked by a loader.
    succeeds(
        Command::new("node")
            .args([
                "--import",
                "./test/loader.mjs",
                "--test",
                "test/hio_doer.test.mjs",
            ])
            .current_dir(root().join("plugins/js")),
        "node --test test/hio_doer.test.mjs",
    );
}
