//! The `hio` binary, run as a user runs it.

mod common;

use common::{hio, manifest, plugin, quoted, stderr, stdout};

#[test]
fn demo_prints_the_nested_trace_on_stdout() {
    let out = hio(&["demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let golden =
        std::fs::read_to_string(common::root().join("host/scheduler/tests/golden/t3.jsonl"))
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
            "does not export the hio:doer@0.1.0 world",
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
            "enforced: fuel per hook call, linear memory, message size and handles per doer"
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
        "hio:doer/tyme@0.1.0",
        "recur",
        "validate",
        "fits hio:doer@0.1.0: yes",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    let cmd = plugin("command");
    let out = hio(&["inspect", cmd.to_str().expect("utf-8")]);
    assert!(
        stdout(&out).contains("fits hio:doer@0.1.0: no"),
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

/// Starts hio with `args` (stderr discarded) and gives it 700 ms to start.
fn spawn_hio(args: &[&str]) -> std::process::Child {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_hio"))
        .args(args)
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn hio");
    std::thread::sleep(std::time::Duration::from_millis(700));
    child
}

/// Sends SIGINT to `child`.
fn interrupt(child: &std::process::Child) {
    let kill = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(kill.success());
}

/// Runs hio with `args`, reads the first line of its stdout or stderr, then
/// closes that pipe as `| head -1` does; returns the exit status and what
/// it wrote to the other output.
fn close_after_one_line(args: &[&str], close_stderr: bool) -> (Option<i32>, String) {
    use std::io::{BufRead, Read};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_hio"))
        .args(args)
        .env("XDG_CACHE_HOME", common::test_cache())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hio");
    let (mut closing, mut other): (Box<dyn Read + Send>, Box<dyn Read + Send>) = if close_stderr {
        (
            Box::new(child.stderr.take().expect("stderr")),
            Box::new(child.stdout.take().expect("stdout")),
        )
    } else {
        (
            Box::new(child.stdout.take().expect("stdout")),
            Box::new(child.stderr.take().expect("stderr")),
        )
    };
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = other.read_to_string(&mut text);
        text
    });
    let mut first = String::new();
    std::io::BufReader::new(&mut closing)
        .read_line(&mut first)
        .expect("first line");
    assert!(!first.is_empty());
    drop(closing);
    let status = child.wait().expect("wait");
    (status.code(), reader.join().expect("reader"))
}

#[test]
fn a_closed_stdout_ends_the_run_with_141_not_a_panic() {
    let rec = quoted(&plugin("recorder"));
    let (_dir, path) = manifest(&format!(
        "[[doers]]\nname = \"a\"\nplugin = {rec}\noptions = {{ stop = 100000000 }}\n"
    ));
    let (code, err) = close_after_one_line(
        &["run", path.to_str().expect("utf-8"), "--trace", "-"],
        false,
    );
    assert_eq!(code, Some(141), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_closed_stderr_ends_the_run_with_141_not_a_panic() {
    let bad = quoted(&plugin("hostile"));
    let (dir, path) = manifest(&format!(
        "[[doers]]\nname = \"h\"\nplugin = {bad}\noptions = {{ mode = \"log-spam\", hook = \"recur\" }}\n"
    ));
    let trace = dir.path().join("t.jsonl");
    let args = [
        "run",
        path.to_str().expect("utf-8"),
        "--trace",
        trace.to_str().expect("utf-8"),
    ];
    let (code, out) = close_after_one_line(&args, true);
    assert_eq!(code, Some(141), "{out}");
    // The tree was closed and the trace flushed, as at the end of a run.
    let text = std::fs::read_to_string(&trace).expect("trace");
    let last = text.lines().last().expect("a trace");
    assert!(last.contains("\"event\":\"done\""), "{last}");
    assert!(text.contains("\"doer\":\"h\",\"event\":\"exit\""), "{text}");
}

#[test]
fn sigint_closes_the_tree_flushes_the_trace_and_exits_130() {
    let rec = quoted(&plugin("recorder"));
    let (dir, path) = manifest(&format!(
        "real = true\ntock = 0.01\n[[doers]]\nname = \"a\"\nplugin = {rec}\noptions = {{ stop = 1000000 }}\n"
    ));
    let trace = dir.path().join("t.jsonl");
    let mut child = spawn_hio(&[
        "run",
        path.to_str().expect("utf-8"),
        "--trace",
        trace.to_str().expect("utf-8"),
    ]);
    interrupt(&child);
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(130));
    let text = std::fs::read_to_string(&trace).expect("trace");
    let lines: Vec<&str> = text.lines().collect();
    let n = lines.len();
    assert!(n >= 4, "{text}");
    assert!(lines[n - 3].contains("\"event\":\"cease\""), "{text}");
    assert!(lines[n - 2].contains("\"event\":\"exit\""));
    assert!(lines[n - 1].contains("\"event\":\"done\",\"done\":false"));
}

#[test]
fn compiled_code_is_cached_in_a_private_folder() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = dir.path().join("deep/cache");
    let rec = plugin("recorder");
    let args = [
        "run",
        rec.to_str().expect("utf-8"),
        "--limit",
        "0.1",
        "--cache-dir",
        cache.to_str().expect("utf-8"),
    ];
    let out = hio(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let mode = std::fs::metadata(&cache)
        .expect("cache dir")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
    let files = walk(&cache);
    assert!(!files.is_empty(), "the compiled component is stored");
    // HIO_CACHE_DIR is the default location.
    let other = dir.path().join("env-cache");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hio"))
        .args(&args[..4])
        .env("HIO_CACHE_DIR", &other)
        .output()
        .expect("run hio");
    assert!(out.status.success());
    assert!(!walk(&other).is_empty());
}

#[test]
fn compiled_code_is_cached_in_the_users_cache_folder_by_default() {
    let rec = plugin("recorder");
    let args = ["run", rec.to_str().expect("utf-8"), "--limit", "0.1"];
    let run = |envs: &[(&str, &std::path::Path)], extra: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hio"));
        cmd.args(args).args(extra).env_remove("HIO_CACHE_DIR");
        cmd.env_remove("XDG_CACHE_HOME");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = cmd.output().expect("run hio");
        assert!(out.status.success(), "{}", stderr(&out));
        out
    };
    let dir = tempfile::tempdir().expect("temp dir");
    // $XDG_CACHE_HOME/hio when it is set (and absolute)...
    let xdg = dir.path().join("xdg");
    run(&[("XDG_CACHE_HOME", &xdg), ("HOME", dir.path())], &[]);
    assert!(!walk(&xdg.join("hio")).is_empty());
    assert!(!dir.path().join(".cache").exists());
    // ...else ~/.cache/hio.
    let home = dir.path().join("home");
    run(&[("HOME", &home)], &[]);
    assert!(!walk(&home.join(".cache/hio")).is_empty());
    // --no-cache keeps nothing.
    let bare = dir.path().join("bare");
    run(
        &[("HOME", &bare), ("XDG_CACHE_HOME", &bare)],
        &["--no-cache"],
    );
    assert!(!bare.exists());
    // A default folder that cannot be made is a warning, not a failure.
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").expect("write");
    let out = run(&[("XDG_CACHE_HOME", &file)], &[]);
    assert!(
        stderr(&out).contains("running without a compile cache"),
        "{}",
        stderr(&out)
    );
    // A folder the user named that cannot be made is an error.
    let named = file.join("cache");
    let out = hio(&[
        args[0],
        args[1],
        args[2],
        args[3],
        "--cache-dir",
        named.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
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

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
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
fn a_guest_sleeping_a_year_returns_at_once_in_tyme() {
    let std = quoted(&plugin("stdlib"));
    let (_dir, path) = manifest(&format!(
        "[[doers]]\nname = \"sleepy\"\nplugin = {std}\noptions = {{ stop = 1, sleep = 31536000 }}\n"
    ));
    let out = hio(&["run", path.to_str().expect("utf-8"), "--trace", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("\"doer\":\"sleepy\",\"event\":\"clean\""));
}

#[test]
fn a_random_request_over_64_kib_fails_the_doer() {
    let std = quoted(&plugin("stdlib"));
    let (_dir, path) = manifest(&format!(
        "[[doers]]\nname = \"small\"\nplugin = {std}\noptions = {{ stop = 0, random_bytes = 1024 }}\n\
         [[doers]]\nname = \"huge\"\nplugin = {std}\noptions = {{ stop = 0, random_bytes = 100000 }}\n"
    ));
    let out = hio(&["run", path.to_str().expect("utf-8"), "--trace", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(" small info got 1024 random bytes"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).contains(
            "{\"tyme\":0.0,\"doer\":\"huge\",\"event\":\"abort\",\"reason\":\"random request over 64 KiB\",\"ran\":false}"
        ),
        "{}",
        stdout(&out)
    );
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
fn host_work_is_paid_in_fuel_and_bounded_by_host_bytes() {
    // log-huge makes an 8 MiB message once (about 8.4 M units of the
    // guest's own fuel) and logs it 2,000 times: each log costs the host's
    // work, 8 Mi units, and 12 M units cover the guest's part but not one log.
    let bad = quoted(&plugin("hostile"));
    let run = |limits: &str| {
        let (dir, path) = manifest(&format!(
            "limit = 0.1\n[[doers]]\nname = \"h\"\nplugin = {bad}\n\
             options = {{ mode = \"log-huge\" }}\nlimits = {limits}\n"
        ));
        let trace = dir.path().join("t.jsonl");
        let out = hio(&[
            "run",
            path.to_str().expect("utf-8"),
            "--trace",
            trace.to_str().expect("utf-8"),
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = std::fs::read_to_string(&trace).expect("trace");
        let abort = text
            .lines()
            .find(|l| l.contains("\"event\":\"abort\""))
            .map(str::to_owned);
        (abort.unwrap_or_default(), stderr(&out))
    };
    let (abort, err) = run("{ fuel = 5000000, host_bytes = \"64MiB\" }");
    assert!(
        abort.contains("\"reason\":\"out of fuel (limit 5000000 per hook call)\""),
        "{abort}\n{err}"
    );
    let (abort, err) = run("{ fuel = 1000000000, host_bytes = \"20MiB\" }");
    assert!(
        abort.contains("(limits.host_bytes = 20971520 bytes)"),
        "the third 8 MiB message is over 20 MiB: {abort}\n{err}"
    );
    assert!(
        err.lines().all(|l| l.len() < 20_000),
        "no 8 MiB line in the log"
    );
}

#[test]
fn an_item_too_large_for_its_consumer_is_refused_at_push() {
    // The deck takes 1 MiB, the producer may send 1 MiB, but the consumer
    // may take 64 KiB: the 100 KiB item is refused at push, and the
    // consumer, never handed it, does not fail.
    let bad = quoted(&plugin("hostile"));
    let consumer = quoted(&plugin("consumer"));
    let (_dir, path) = manifest(&format!(
        "limit = 0.5\n[[decks]]\nname = \"jobs\"\nmax_item = \"1MiB\"\n\
         [[doers]]\nname = \"p\"\nplugin = {bad}\noptions = {{ mode = \"big-message\" }}\n\
         limits = {{ message = \"1MiB\" }}\ngrants = {{ push = [\"jobs\"] }}\n\
         [[doers]]\nname = \"c\"\nplugin = {consumer}\noptions = {{ count = 1000 }}\n\
         grants = {{ pull = [\"jobs\"] }}\n"
    ));
    let out = hio(&["run", path.to_str().expect("utf-8"), "--trace", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("p warn big message refused: too-large"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stdout(&out).contains("\"event\":\"abort\""),
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

/// The trace lines of `doer` in a JSON-lines trace.
fn lines_of(trace: &str, doer: &str) -> Vec<String> {
    let tag = format!("\"doer\":\"{doer}\"");
    trace
        .lines()
        .filter(|l| l.contains(&tag))
        .map(str::to_owned)
        .collect()
}

#[test]
fn in_real_mode_the_watchdog_stops_a_loop_that_fuel_would_not() {
    let rec = quoted(&plugin("recorder"));
    let bad = quoted(&plugin("hostile"));
    // Enough fuel for hours of spinning: only the watchdog can stop it.
    let text = |with_bad: bool| {
        let mut t = format!(
            "real = true\ntock = 0.02\nlimit = 0.1\n[engine]\nwatchdog = 0.05\n\
             [[doers]]\nname = \"before\"\nplugin = {rec}\noptions = {{ stop = 100 }}\n"
        );
        if with_bad {
            t.push_str(&format!(
                "[[doers]]\nname = \"h\"\nplugin = {bad}\noptions = {{ mode = \"loop\" }}\n\
                 limits = {{ fuel = 1000000000000000 }}\n"
            ));
        }
        t.push_str(&format!(
            "[[doers]]\nname = \"after\"\nplugin = {rec}\noptions = {{ stop = 100 }}\n"
        ));
        t
    };
    let (_d1, with) = manifest(&text(true));
    let (_d2, without) = manifest(&text(false));
    let out = hio(&["run", with.to_str().expect("utf-8"), "--trace", "-"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let reason = "wall-time budget exceeded (watchdog 50 ms per hook call, real mode)";
    assert!(
        err.contains("trap in recur at tyme 0.0 (fuel used not known after an interrupt, limit 1000000000000000): "),
        "{err}"
    );
    assert!(err.contains(reason), "{err}");
    let trace = stdout(&out);
    assert!(
        trace.contains(&format!(
            "{{\"tyme\":0.0,\"doer\":\"h\",\"event\":\"abort\",\"reason\":\"{reason}\",\"ran\":false}}"
        )),
        "{trace}"
    );
    let alone = hio(&["run", without.to_str().expect("utf-8"), "--trace", "-"]);
    assert_eq!(alone.status.code(), Some(0), "{}", stderr(&alone));
    for doer in ["before", "after"] {
        assert_eq!(
            lines_of(&trace, doer),
            lines_of(&stdout(&alone), doer),
            "{doer}"
        );
    }
}

#[test]
fn the_watchdog_setting_is_checked() {
    let rec = quoted(&plugin("recorder"));
    let (_dir, path) = manifest(&format!(
        "[engine]\nwatchdog = -1\n[[doers]]\nname = \"a\"\nplugin = {rec}\n"
    ));
    let out = hio(&["check", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(":2: engine.watchdog: must be >= 0, got -1"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_second_sigint_exits_even_while_a_guest_spins() {
    let bad = quoted(&plugin("hostile"));
    // Simulated time: no watchdog, and fuel for hours.
    let (_dir, path) = manifest(&format!(
        "[[doers]]\nname = \"h\"\nplugin = {bad}\noptions = {{ mode = \"loop\" }}\n\
         limits = {{ fuel = 1000000000000000 }}\n"
    ));
    let mut child = spawn_hio(&["run", path.to_str().expect("utf-8")]);
    for _ in 0..2 {
        interrupt(&child);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let mut status = None;
    for _ in 0..100 {
        status = child.try_wait().expect("wait");
        if status.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    if status.is_none() {
        let _ = child.kill();
    }
    assert_eq!(status.and_then(|s| s.code()), Some(130));
}

#[test]
fn message_and_handle_limits_are_set_per_subtree() {
    let bad = quoted(&plugin("hostile"));
    let (_dir, path) = manifest(&format!(
        "limit = 0.5\n[[decks]]\nname = \"jobs\"\nmax_item = \"1MiB\"\n\
         [[doers]]\nname = \"g\"\nlimits = {{ message = \"128KiB\", handles = 10 }}\n\
         [[doers.doers]]\nname = \"big\"\nplugin = {bad}\noptions = {{ mode = \"big-message\", stop = 1 }}\n\
         grants = {{ push = [\"jobs\"] }}\n\
         [[doers.doers]]\nname = \"leak\"\nplugin = {bad}\noptions = {{ mode = \"leak-handles\" }}\n\
         [[doers]]\nname = \"small\"\nplugin = {bad}\noptions = {{ mode = \"big-message\" }}\n\
         grants = {{ push = [\"jobs\"] }}\n"
    ));
    let out = hio(&["run", path.to_str().expect("utf-8"), "--trace", "-"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("g/big info big message pushed"), "{err}");
    assert!(
        err.contains("g/leak error failed: handle limit exceeded (limit 10 handles)"),
        "{err}"
    );
    assert!(
        err.contains(
            "small error failed: push on deck \"jobs\": message of 102400 bytes over the \
             doer's limit (limits.message = 65536 bytes)"
        ),
        "{err}"
    );
    let (_dir, path) =
        manifest("[[doers]]\nname = \"a\"\nplugin = \"x.wasm\"\nlimits = { handles = 0 }\n");
    let out = hio(&["check", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(":4: doers[0].limits.handles: must be >= 1, got 0"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_huge_options_table_is_refused_with_the_limit_it_hit() {
    let bad = quoted(&plugin("hostile"));
    // 20 MiB of text does not fit the doer's 16 MiB memory.
    let blob = "x".repeat(20 << 20);
    let (_d1, big) = manifest(&format!(
        "[[doers]]\nname = \"h\"\nplugin = {bad}\noptions = {{ mode = \"trap\", blob = \"{blob}\" }}\n"
    ));
    // 100,000 keys fit, but checking them costs more than a hook's fuel.
    let keys: Vec<String> = (0..100_000).map(|i| format!("k{i} = {i}")).collect();
    let (_d2, wide) = manifest(&format!(
        "[[doers]]\nname = \"h\"\nplugin = {bad}\noptions = {{ mode = \"trap\", {} }}\n",
        keys.join(", ")
    ));
    for (path, reason) in [
        (big, "memory limit exceeded (limit 16777216 bytes)"),
        (wide, "out of fuel (limit 10000000 per hook call)"),
    ] {
        for cmd in ["check", "run"] {
            let out = hio(&[cmd, path.to_str().expect("utf-8")]);
            assert_eq!(out.status.code(), Some(2), "{cmd}: {}", stderr(&out));
            let err = stderr(&out);
            assert!(
                err.contains(":2: doers[0].options: rejected by ")
                    && err.contains(&format!("hostile.wasm: {reason}")),
                "{cmd}: {}",
                &err[..err.len().min(400)]
            );
        }
    }
}

/// The host's peak resident memory, from `hio run --stats`.
fn peak_kib(err: &str) -> u64 {
    err.lines()
        .find_map(|l| l.strip_prefix("host peak resident memory: "))
        .and_then(|v| v.trim_end_matches(" KiB").parse().ok())
        .unwrap_or_else(|| panic!("no peak memory line in {err}"))
}

#[test]
fn spam_and_flooding_keep_host_memory_bounded() {
    let bad = quoted(&plugin("hostile"));
    let run_for = |limit: u32| {
        let mut text =
            format!("tock = 1.0\nlimit = {limit}.0\n[[decks]]\nname = \"jobs\"\ncapacity = 64\n");
        for mode in ["log-spam", "stdout-spam", "flood"] {
            text.push_str(&format!(
                "[[doers]]\nname = \"{mode}\"\nplugin = {bad}\n\
                 options = {{ mode = \"{mode}\", stop = 1000000 }}\ngrants = {{ push = [\"jobs\"] }}\n"
            ));
        }
        let (_dir, path) = manifest(&text);
        let out = hio(&[
            "run",
            path.to_str().expect("utf-8"),
            "--stats",
            "--log-level",
            "error",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        peak_kib(&stderr(&out))
    };
    let short = run_for(20);
    let long = run_for(400);
    // 20x the ticks: about 400 MiB of log lines and output made and let go.
    assert!(
        long < short + 16 * 1024,
        "peak {long} KiB after 400 ticks vs {short} KiB after 20"
    );
}

#[test]
fn a_folder_others_can_write_is_not_trusted_with_code_or_dumps() {
    use std::os::unix::fs::PermissionsExt;
    let rec = plugin("recorder");
    let rec = rec.to_str().expect("utf-8");
    let dir = tempfile::tempdir().expect("temp dir");
    let open = dir.path().join("open");
    std::fs::create_dir(&open).expect("mkdir");
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let open_s = open.to_str().expect("utf-8");
    for flag in ["--cache-dir", "--core-dumps"] {
        let out = hio(&["run", rec, "--limit", "0.1", flag, open_s]);
        assert_eq!(out.status.code(), Some(3), "{flag}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("can be written by others (mode 777)"), "{err}");
        assert!(err.contains(&format!("chmod go-w {open_s}")), "{err}");
    }
    // The default cache folder: a warning, and the run goes on uncached.
    let xdg = dir.path().join("xdg");
    std::fs::create_dir_all(xdg.join("hio")).expect("mkdir");
    std::fs::set_permissions(xdg.join("hio"), std::fs::Permissions::from_mode(0o777))
        .expect("chmod");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hio"))
        .args(["run", rec, "--limit", "0.1"])
        .env_remove("HIO_CACHE_DIR")
        .env("XDG_CACHE_HOME", &xdg)
        .output()
        .expect("run hio");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("running without a compile cache"),
        "{}",
        stderr(&out)
    );
    // Another user's folder, where this test may make one (as root).
    let theirs = dir.path().join("theirs");
    std::fs::create_dir(&theirs).expect("mkdir");
    let chown = std::process::Command::new("chown")
        .args(["12345", theirs.to_str().expect("utf-8")])
        .status();
    if chown.is_ok_and(|s| s.success()) {
        let out = hio(&[
            "run",
            rec,
            "--limit",
            "0.1",
            "--cache-dir",
            theirs.to_str().expect("utf-8"),
        ]);
        assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
        assert!(
            stderr(&out).contains("is owned by uid 12345"),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
fn core_dumps_never_follow_a_link_nor_share_a_name() {
    let bad = quoted(&plugin("hostile"));
    // Doer `a.b` and doer `b` inside DoDoer `a`: paths `a.b` and `a/b`.
    let (dir, path) = manifest(&format!(
        "[[doers]]\nname = \"a.b\"\nplugin = {bad}\noptions = {{ mode = \"trap\" }}\n\
         [[doers]]\nname = \"a\"\ndoers = [ {{ name = \"b\", plugin = {bad}, options = {{ mode = \"trap\" }} }} ]\n\
         [[doers]]\nname = \"c\"\nplugin = {bad}\noptions = {{ mode = \"trap\" }}\n"
    ));
    let dumps = dir.path().join("dumps");
    std::fs::create_dir(&dumps).expect("mkdir");
    // A link planted where c's dump goes must not be followed.
    let target = dir.path().join("precious");
    std::fs::write(&target, "keep me").expect("write");
    std::os::unix::fs::symlink(&target, dumps.join("c.0.coredump")).expect("symlink");
    let out = hio(&[
        "run",
        path.to_str().expect("utf-8"),
        "--core-dumps",
        dumps.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dumps.join("a.b.0.coredump").is_file());
    assert!(dumps.join("a+b.0.coredump").is_file());
    assert_eq!(std::fs::read_to_string(&target).expect("target"), "keep me");
    assert!(
        stderr(&out).contains("core dump not written to"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn core_dumps_of_trapped_instances_are_written_where_asked() {
    let bad = quoted(&plugin("hostile"));
    let (dir, path) = manifest(&format!(
        "supervision = {{ policy = \"restart\", max_restarts = 1 }}\n\
         [[doers]]\nname = \"h\"\nplugin = {bad}\noptions = {{ mode = \"trap\" }}\n"
    ));
    let dumps = dir.path().join("dumps");
    let out = hio(&[
        "run",
        path.to_str().expect("utf-8"),
        "--core-dumps",
        dumps.to_str().expect("utf-8"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    for attempt in [0, 1] {
        let file = dumps.join(format!("h.{attempt}.coredump"));
        assert!(
            err.contains(&format!("h error core dump written to {}", file.display())),
            "{err}"
        );
        let bytes = std::fs::read(&file).expect("core dump file");
        assert_eq!(&bytes[..4], b"\0asm", "a Wasm core dump is a Wasm file");
        let text = String::from_utf8_lossy(&bytes);
        assert!(text.contains("core"), "it has the core section");
    }
    let without = hio(&["run", path.to_str().expect("utf-8")]);
    assert!(!stderr(&without).contains("core dump"));
}
