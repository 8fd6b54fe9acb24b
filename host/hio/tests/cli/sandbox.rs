//! The sandbox from the command line: limits per doer and per subtree, the
//! watchdog, what the host charges for, decks between doers, and the
//! host's memory under spam.

use crate::common::{hio, manifest, plugin, quoted, stderr, stdout};

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
fn host_bytes_count_each_hook_call_afresh_and_every_line_is_delivered() {
    // The stdlib doer logs about 150 bytes on every recur, beside quiet
    // recorder doers (which hand the host nothing). 1 KiB per call holds
    // one call's lines but not eleven calls' worth: the run ends cleanly
    // only if each call's count starts at zero, and every line arrives.
    let std = quoted(&plugin("stdlib"));
    let rec = quoted(&plugin("recorder"));
    let (_dir, path) = manifest(&format!(
        "[[doers]]\nname = \"quiet1\"\nplugin = {rec}\noptions = {{ stop = 20 }}\n\
         [[doers]]\nname = \"chatty\"\nplugin = {std}\noptions = {{ stop = 10 }}\n\
         limits = {{ host_bytes = \"1KiB\" }}\n\
         [[doers]]\nname = \"quiet2\"\nplugin = {rec}\noptions = {{ stop = 20 }}\n"
    ));
    let out = hio(&["run", path.to_str().expect("utf-8"), "--trace", "-"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let trace = stdout(&out);
    assert!(!trace.contains("\"event\":\"abort\""), "{trace}");
    assert!(
        trace.contains("\"doer\":\"chatty\",\"event\":\"clean\""),
        "{trace}"
    );
    let err = stderr(&out);
    let lines = err
        .lines()
        .filter(|l| l.contains(" chatty info tyme="))
        .count();
    assert_eq!(lines, 11, "a line per recur: {err}");
    assert!(
        err.contains("chatty info stdout: stdlib doer entered"),
        "{err}"
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
    // 20 MiB of text does not fit a doer's 16 MiB memory.
    let blob = "x".repeat(20 << 20);
    let (_d1, big) = manifest(&format!(
        "[[doers]]\nname = \"h\"\nplugin = {bad}\noptions = {{ mode = \"trap\", blob = \"{blob}\" }}\n[limits]\nmemory = \"16MiB\"\n"
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

/// The `wall=SECS.NANOS` the stdlib doer logged first, in seconds.
fn logged_wall(err: &str) -> f64 {
    let field = err
        .split_whitespace()
        .find_map(|w| w.strip_prefix("wall="))
        .unwrap_or_else(|| panic!("no wall= in {err}"));
    field.parse().expect("seconds")
}

#[test]
fn the_wall_clock_is_the_epoch_plus_tyme_in_simulated_time_and_the_start_plus_tyme_in_real_mode() {
    let std = quoted(&plugin("stdlib"));
    let doer = format!("[[doers]]\nname = \"clock\"\nplugin = {std}\noptions = {{ stop = 0 }}\n");
    let (_dir, path) = manifest(&format!("tock = 0.25\n{doer}"));
    let out = hio(&["run", path.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(logged_wall(&stderr(&out)), 0.0, "{}", stderr(&out));
    let (_dir, path) = manifest(&format!("tock = 0.25\nreal = true\n{doer}"));
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64();
    let out = hio(&["run", path.to_str().expect("utf-8")]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    // The start is logged, and the doer's clock reads it plus tyme (0 here).
    let start: f64 = err
        .lines()
        .find_map(|l| l.strip_prefix("hio: run start "))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no start logged: {err}"))
        .parse()
        .expect("seconds");
    assert!(
        start >= before - 1.0 && start < before + 60.0,
        "{start} vs {before}"
    );
    assert!((logged_wall(&err) - start).abs() < 1e-6, "{err}");
}
