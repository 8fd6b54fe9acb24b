//! `hio run`, `check`, `inspect`, `demo` and `--help`: what they print, the
//! flags and their checks, and the exit status of each kind of error.

use crate::common::{hio, manifest, plugin, quoted, stderr, stdout};

#[test]
fn demo_prints_the_nested_trace_on_stdout() {
    let out = hio(&["demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let golden =
        std::fs::read_to_string(crate::common::root().join("host/scheduler/tests/golden/t3.jsonl"))
            .expect("golden T3 trace");
    assert_eq!(stdout(&out), golden);
    assert!(out.stderr.is_empty());
}

#[test]
fn demo_refuses_a_bad_limit_with_status_2() {
    for bad in ["nan", "-1", "0", "inf"] {
        let out = hio(&["demo", "--limit", bad]);
        assert_eq!(out.status.code(), Some(2), "--limit {bad}");
        assert!(stderr(&out).contains("--limit"));
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn help_explains_each_command_with_an_example() {
    for (cmd, example) in [
        ("demo", "Example: hio demo --limit 0.25"),
        ("run", "hio run examples/pipeline.toml --trace -"),
        ("check", "Example: hio check examples/pipeline.toml"),
        ("inspect", "Example: hio inspect plugins/dist/recorder.wasm"),
        ("replay", "hio replay echo.wire"),
        ("sim", "hio sim examples/sim.toml --seeds 0..100"),
    ] {
        let out = hio(&[cmd, "--help"]);
        assert!(out.status.success());
        assert!(stdout(&out).contains(example), "{cmd}: {}", stdout(&out));
    }
}

#[test]
fn run_of_a_manifest_writes_the_trace_to_stdout_and_logs_to_stderr() {
    let out = hio(&["run", "examples/pipeline.toml", "--trace", "-", "--stats"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let trace = stdout(&out);
    assert!(
        trace.starts_with("{\"tyme\":0.0,\"doer\":\"producer\",\"event\":\"enter\"}\n"),
        "{trace}"
    );
    assert!(
        trace.ends_with("\"event\":\"done\",\"done\":true}\n"),
        "{trace}"
    );
    let log = stderr(&out);
    assert!(log.contains(" consumer info got job 12"), "{log}");
    assert!(
        !log.contains(" producer debug"),
        "debug is below the default level"
    );
    assert!(log.contains("calls"), "--stats prints a table: {log}");
    let rows: Vec<&str> = log
        .lines()
        .skip_while(|l| !l.starts_with("doer "))
        .skip(1)
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        rows,
        ["consumer", "producer", "std", "host"],
        "a row per doer (validate's throwaway instances are not doers), then the host's peak: {log}"
    );
}

#[test]
fn bare_wasm_runs_name_doers_by_stem_with_suffixes_for_repeats() {
    let rec = plugin("recorder");
    let rec = rec.to_str().expect("utf-8 path");
    let out = hio(&["run", rec, rec, "--trace", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let trace = stdout(&out);
    assert!(trace.contains("\"doer\":\"recorder\",\"event\":\"enter\""));
    assert!(trace.contains("\"doer\":\"recorder-2\",\"event\":\"enter\""));
    // Tock 0 under the default Doist tock 1/32; stop 3: four recurs.
    assert!(trace.contains("{\"tyme\":0.09375,\"doer\":\"recorder-2\",\"event\":\"clean\"}"));
}

#[test]
fn load_errors_name_the_file_and_exit_3() {
    let dir = tempfile::tempdir().expect("temp dir");
    let not_wasm = dir.path().join("text.wasm");
    std::fs::write(&not_wasm, "hello").expect("write");
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").expect("write");
    let cases = [
        (dir.path().join("missing.wasm"), "no such file"),
        (not_wasm, "not a WebAssembly file"),
        (
            core,
            "a core WebAssembly module, not a component; build it for the wasm32-wasip2 target",
        ),
        (
            plugin("command"),
            "does not export the hio:doer@0.4.1 world",
        ),
        (plugin("misfit"), "test:misfit/nope"),
    ];
    for (path, want) in cases {
        let p = path.to_str().expect("utf-8 path");
        let out = hio(&["run", p]);
        assert_eq!(out.status.code(), Some(3), "{p}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains(want), "{p}: {err}");
        assert!(
            err.contains(path.file_name().and_then(|f| f.to_str()).unwrap_or("?")),
            "{err}"
        );
        assert!(out.stdout.is_empty());
    }
}

/// Plugin `name` as a build against another version of the package would
/// name its interfaces (`@0.4.1` replaced by `old`, of the same length, so
/// the binary stays well formed), written as `old-<name>.wasm` in a new
/// temporary folder.
fn as_built_for(name: &str, old: &[u8; 6]) -> (tempfile::TempDir, std::path::PathBuf) {
    let new = b"@0.4.1";
    let mut patched = std::fs::read(plugin(name)).expect("plugin built");
    let mut count = 0;
    for i in 0..patched.len().saturating_sub(new.len()) {
        if &patched[i..i + new.len()] == new {
            patched[i..i + new.len()].copy_from_slice(old);
            count += 1;
        }
    }
    assert!(count > 0, "{name} names its interfaces at @0.4.1");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join(format!("old-{name}.wasm"));
    std::fs::write(&path, patched).expect("write");
    (dir, path)
}

#[test]
fn a_plugin_built_for_0_4_0_runs_unchanged_on_this_host() {
    // 0.4.1 only added `decks.refusal`: the producer as a build against
    // hio:doer@0.4.0 would name it (same length, so well formed) runs and
    // pushes every item.
    let (dir, path) = as_built_for("producer", b"@0.4.0");
    let m = dir.path().join("m.toml");
    std::fs::write(
        &m,
        format!(
            "tock = 1.0\nlimit = 10.0\n[[decks]]\nname = \"jobs\"\ncapacity = 8\n\
             [[doers]]\nname = \"p\"\nplugin = {}\noptions = {{ count = 3 }}\n\
             grants = {{ push = [\"jobs\"] }}\n",
            quoted(&path)
        ),
    )
    .expect("write");
    let out = hio(&["run", m.to_str().expect("utf-8 path"), "--trace", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("\"done\":true"), "{}", stdout(&out));
}

#[test]
fn a_plugin_built_for_an_older_world_is_refused_naming_both_versions() {
    // The recorder as a build against hio:doer@0.3.0 would name it: the
    // same component, its interface names at the old version (the strings
    // have the same length, so the binary stays well formed).
    let (_dir, path) = as_built_for("recorder", b"@0.3.0");
    let out = hio(&["run", path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("old-recorder.wasm"), "{err}");
    assert!(
        err.contains("built for hio:doer@0.3.0 and this host speaks hio:doer@0.4.1"),
        "{err}"
    );
}

#[test]
fn manifest_errors_name_file_line_and_key_and_exit_2() {
    let rec = quoted(&plugin("recorder"));
    let cases: Vec<(String, &str)> = vec![
        ("tock = 0.25\nbogus = 1\n[[doers]]\nname = \"a\"\nplugin = R\n".into(), "m.toml:2: bogus: unknown key"),
        ("tock = -1.0\n[[doers]]\nname = \"a\"\nplugin = R\n".into(), "m.toml:1: tock: must be > 0"),
        ("tock = nan\n[[doers]]\nname = \"a\"\nplugin = R\n".into(), "m.toml:1: tock: must be a finite number"),
        ("[[doers]]\nname = \"a\"\nplugin = R\n[[doers]]\nname = \"a\"\nplugin = R\n".into(), "m.toml:5: doers[1].name: duplicate name \"a\""),
        ("[[doers]]\nname = \"a b\"\nplugin = R\n".into(), "m.toml:2: doers[0].name: bad name \"a b\""),
        ("[[doers]]\nname = \"a\"\nplugin = \"nope.wasm\"\n".into(), "m.toml:3: doers[0].plugin: no such file"),
        ("[[doers]]\nname = \"a\"\ntock = \"fast\"\nplugin = R\n".into(), "m.toml:3: doers[0].tock: expected a number, got string"),
        ("[engine]\nmax_memory = \"1MiB\"\n[[doers]]\nname = \"a\"\nplugin = R\nlimits = { memory = \"2MiB\" }\n".into(), "m.toml:6: doers[0].limits.memory: 2097152 bytes is above the engine's max_memory"),
        ("[[doers]]\nname = \"g\"\ndoers = [ { name = \"x\", plugin = R, tock = -2 } ]\n".into(), "m.toml:3: doers[0].doers[0].tock: must be >= 0"),
        ("[[doers]]\nname = \"a\"\nplugin = R\ngrants = { push = [\"jobs\"] }\n".into(), "m.toml:4: doers[0].grants.push[0]: unknown deck \"jobs\""),
        ("[[doers]]\nname = \"a\"\nplugin = R\noptions = { stop = 2, color = \"red\" }\n".into(), "m.toml:2: doers[0].options: rejected by"),
        ("[[doers]]\nname = \"a\"\nplugin = R\noptions = { retock_at = 2 }\n".into(), "option `retock_at` needs `retock`"),
        ("wake = \"io\"\n[[doers]]\nname = \"a\"\nplugin = R\n".into(), "m.toml:1: wake: \"io\" needs real = true"),
        ("tock = 0.25\n".into(), "m.toml:1: missing key `doers`"),
        ("tock = [\n".into(), "m.toml:1: not valid TOML"),
    ];
    for (text, want) in cases {
        let text = text
            .replace("= R", &format!("= {rec}"))
            .replace("plugin = R", &format!("plugin = {rec}"));
        let (_dir, path) = manifest(&text);
        let p = path.to_str().expect("utf-8 path");
        for cmd in ["run", "check"] {
            let out = hio(&[cmd, p]);
            assert_eq!(out.status.code(), Some(2), "{cmd} {text}\n{}", stderr(&out));
            let err = stderr(&out);
            assert!(err.contains(want), "{cmd}: want {want:?} in {err}");
            assert!(out.stdout.is_empty(), "nothing runs: {}", stdout(&out));
        }
    }
}

#[test]
fn check_reports_what_it_checked() {
    let out = hio(&["check", "examples/pipeline.toml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("ok: 3 doers, 3 plugins, 1 decks"), "{text}");
    assert!(
        text.contains(
            "enforced: fuel per hook call, linear memory, message size, handles, connections"
        ),
        "{text}"
    );
}

#[test]
fn inspect_shows_imports_exports_and_fit() {
    let rec = plugin("recorder");
    let out = hio(&["inspect", rec.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for want in [
        "hio:doer/tyme@0.4.1",
        "recur",
        "validate",
        "fits hio:doer@0.4.1: yes",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    let cmd = plugin("command");
    let out = hio(&["inspect", cmd.to_str().expect("utf-8")]);
    assert!(
        stdout(&out).contains("fits hio:doer@0.4.1: no"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn an_escalated_failure_exits_1_naming_the_doer() {
    let rec = quoted(&plugin("recorder"));
    let (_dir, path) = manifest(&format!(
        "supervision = {{ policy = \"escalate\" }}\n[[doers]]\nname = \"a\"\nplugin = {rec}\noptions = {{ fail_at = 2 }}\n"
    ));
    let out = hio(&["run", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("doer a failed: fail_at 2"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn wake_io_ticks_at_the_wall_time_since_the_start() {
    let rec = plugin("recorder");
    let out = hio(&[
        "run",
        rec.to_str().expect("utf-8"),
        "--real",
        "--wake",
        "io",
        "--limit",
        "0.1",
        "--trace",
        "-",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let tymes: Vec<f64> = stdout(&out)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("json");
            v["tyme"].as_f64().expect("tyme")
        })
        .collect();
    let recurs: Vec<f64> = stdout(&out)
        .lines()
        .zip(&tymes)
        .filter(|(l, _)| l.contains("\"recur\""))
        .map(|(_, t)| *t)
        .collect();
    // The recorder is done at its 4th recur; its tymes are wall times,
    // strictly increasing, each at or past its grid tock (no service ends a
    // wait early yet).
    assert_eq!(recurs.len(), 4, "{}", stdout(&out));
    assert!(recurs.windows(2).all(|w| w[1] > w[0]), "{recurs:?}");
    for (k, t) in recurs.iter().enumerate() {
        assert!(*t >= k as f64 * 0.03125, "{recurs:?}");
    }
}

#[test]
fn log_level_debug_shows_debug_lines() {
    let out = hio(&["run", "examples/pipeline.toml", "--log-level", "debug"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(" producer debug jobs full"),
        "{}",
        stderr(&out)
    );
    let quiet = hio(&["run", "examples/pipeline.toml", "--log-level", "error"]);
    assert!(!stderr(&quiet).contains(" info "), "{}", stderr(&quiet));
}

#[test]
fn command_line_overrides_are_checked() {
    let rec = plugin("recorder");
    let rec = rec.to_str().expect("utf-8");
    for (args, want) in [
        (
            vec!["--limit", "abc"],
            "--limit takes a finite tyme > 0 or \"none\"",
        ),
        (vec!["--tock", "-1"], "--tock must be finite and > 0"),
        (vec!["--wake", "io"], "needs real mode"),
        (vec!["--wake", "soon"], "--wake takes grid or io"),
    ] {
        let mut all = vec!["run", rec];
        all.extend(&args);
        let out = hio(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(want), "{args:?}: {}", stderr(&out));
    }
    let out = hio(&["run", rec, "--tock", "0.5", "--limit", "1", "--trace", "-"]);
    assert!(out.status.success());
    assert!(
        stdout(&out).ends_with("{\"tyme\":1.0,\"doer\":\"\",\"event\":\"done\",\"done\":false}\n"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn a_malformed_component_is_invalid_not_too_big() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.wasm");
    // A component's header, then bytes that are no section at all.
    std::fs::write(&bad, [0, b'a', b's', b'm', 0x0d, 0, 1, 0, 0xff, 0xff, 0xff]).expect("write");
    let out = hio(&["run", bad.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("bad.wasm: invalid component: "),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_component_needing_more_than_the_engine_allows_is_refused_at_load() {
    let rec = quoted(&plugin("recorder"));
    let (_dir, path) = manifest(&format!(
        "[engine]\nmax_memory = \"64KiB\"\n[[doers]]\nname = \"a\"\nplugin = {rec}\n"
    ));
    let out = hio(&["run", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("recorder.wasm: refused: "), "{err}");
    assert!(err.contains("memory has a minimum byte size of"), "{err}");
}

#[test]
fn a_manifest_with_more_doers_than_the_default_pool_runs() {
    // The pool gets a slot per doer; 1,100 is over the harness's 1,024.
    let noop = quoted(&plugin("noop"));
    let mut text = String::from("tock = 1.0\nlimit = 2.0\n");
    for i in 0..1100 {
        text.push_str(&format!("[[doers]]\nname = \"d{i}\"\nplugin = {noop}\n"));
    }
    let (_dir, path) = manifest(&text);
    let out = hio(&["run", path.to_str().expect("utf-8"), "--trace", "-"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let recurs = stdout(&out)
        .lines()
        .filter(|l| l.contains("\"event\":\"recur\""))
        .count();
    assert_eq!(recurs, 1100 * 2, "two ticks (tyme 0 and 1) of every doer");
}

#[test]
fn the_map_count_check_says_how_to_raise_it() {
    use hio::plugin::{MAPS_PER_DOER, map_count_fits};
    assert!(map_count_fits(10_000, 65_530).is_ok());
    let err = map_count_fits(100_000, 65_530).expect_err("too many for the default");
    let needed = 100_000 * MAPS_PER_DOER + 4096;
    assert!(
        err.contains(&format!(
            "100000 doer slots need about {needed} kernel memory mappings"
        )),
        "{err}"
    );
    assert!(err.contains("vm.max_map_count is 65530"), "{err}");
    assert!(
        err.contains("sudo sysctl -w vm.max_map_count=524288"),
        "{err}"
    );
    assert!(map_count_fits(100_000, 524_288).is_ok());
}

#[test]
fn a_real_run_dates_its_http_answers_by_the_wall_clock() {
    // The HTTP `Date` of a real-mode run is the run's start plus tyme: now,
    // give or take the test's own time, not 1970 plus tyme.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let hello = quoted(&plugin("hello"));
    let (_dir, path) = manifest(&format!(
        "tock = 0.03125\nreal = true\nwake = \"io\"\n[[doers]]\nname = \"hello\"\n\
         plugin = {hello}\noptions = {{ addr = \"127.0.0.1:{port}\" }}\n\
         grants = {{ listen = [\"127.0.0.1:*\"] }}\n"
    ));
    let mut child = crate::ending::spawn_hio(&["run", path.to_str().expect("utf-8")]);
    let url = format!("http://127.0.0.1:{port}/");
    let head = std::process::Command::new("curl")
        .args(["-s", "-D", "-", "-o", "/dev/null", "--retry", "20"])
        .args(["--retry-connrefused", "--retry-delay", "1", &url])
        .output()
        .expect("curl");
    let _ = child.kill();
    let _ = child.wait();
    let head = String::from_utf8_lossy(&head.stdout).into_owned();
    let date = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("date: "))
        .map(|l| &l["date: ".len()..])
        .unwrap_or_else(|| panic!("no Date header: {head}"))
        .trim()
        .to_owned();
    let check = std::process::Command::new("python3")
        .args([
            "-c",
            "import email.utils, sys, time\n\
             d = email.utils.parsedate_to_datetime(sys.argv[1]).timestamp()\n\
             print(abs(d - time.time()) < 300)",
            &date,
        ])
        .output()
        .expect("python3");
    assert_eq!(
        String::from_utf8_lossy(&check.stdout).trim(),
        "True",
        "Date {date:?} is not now"
    );
}
