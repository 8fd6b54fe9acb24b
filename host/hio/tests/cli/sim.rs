//! `hio sim`: a client doer and a server doer over the simulated network,
//! under each fault kind; the same seed twice gives the same run; failing
//! seeds are reported with the command that reproduces them.

use std::path::Path;

use crate::common::{hio, manifest, plugin, quoted, stderr, stdout};

/// An echo server and a client of 20,000 bytes on the simulated network
/// with `faults` (the body of `[net.faults]`), `client_extra` appended to
/// the client's options and `client_limits` as its limits.
fn pair(faults: &str, client_extra: &str, client_limits: &str) -> String {
    sized(20_000, faults, client_extra, client_limits)
}

/// [`pair`] with a client of `size` bytes.
fn sized(size: u64, faults: &str, client_extra: &str, client_limits: &str) -> String {
    format!(
        r#"
tock = 0.01
limit = 5.0
[net]
mode = "sim"
[net.faults]
{faults}
[[doers]]
name = "echo"
plugin = {}
options = {{ addr = "10.0.0.1:7000" }}
grants = {{ listen = ["10.0.0.1:*"] }}
[[doers]]
name = "client"
plugin = {}
options = {{ addr = "10.0.0.1:7000", size = {size}{client_extra} }}
grants = {{ connect = ["10.0.0.1:7000"] }}
limits = {{ {client_limits} }}
"#,
        quoted(&plugin("echo")),
        quoted(&plugin("client"))
    )
}

fn sim(m: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec!["sim", m.to_str().expect("utf-8")];
    all.extend_from_slice(args);
    hio(&all)
}

/// The tyme at which the client ended (its `exit` record).
fn client_end(trace: &str) -> f64 {
    trace
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|r| r["doer"] == "client" && r["event"] == "exit")
        .and_then(|r| r["tyme"].as_f64())
        .expect("the client exits")
}

/// Runs seed 1 of `text`: whether it passed, its trace, and its log.
fn one(text: &str) -> (bool, String, String) {
    let (_dir, m) = manifest(text);
    let out = sim(&m, &["--seed", "1", "--trace", "-", "--log-level", "info"]);
    let err = stderr(&out);
    match out.status.code() {
        Some(0) => assert!(err.contains("seed 1: ok"), "{err}"),
        Some(1) => assert!(err.contains("seed 1: FAILED"), "{err}"),
        other => panic!("exit {other:?}: {err}"),
    }
    (out.status.success(), stdout(&out), err)
}

#[test]
fn faults_that_only_slow_the_network_leave_the_echo_whole_but_later() {
    let (ok, trace, log) = one(&pair("", "", ""));
    assert!(ok, "{log}");
    assert!(log.contains("echoed 20000 bytes"), "{log}");
    let clean = client_end(&trace);
    for faults in [
        "delay = [3, 6]",
        "segment = true",
        "stall = 0.3\nstall_ticks = [2, 5]",
        "partitions = [[2, 40]]",
        "delay = [0, 2]\nsegment = true\nstall = 0.1\npartition = 0.02\npartition_ticks = [3, 9]",
    ] {
        let (ok, trace, log) = one(&pair(faults, "", ""));
        assert!(ok, "{faults}: {log}");
        assert!(log.contains("echoed 20000 bytes"), "{faults}: {log}");
        let end = client_end(&trace);
        assert!(
            end > clean,
            "{faults}: ended at {end}, without faults at {clean}"
        );
    }
    // A partition holds everything until it heals at tick 40.
    let (_, trace, _) = one(&pair("partitions = [[2, 40]]", "", ""));
    assert!(client_end(&trace) >= 0.4, "{trace}");
}

#[test]
fn faults_that_break_the_connection_fail_the_client_naming_them() {
    for (faults, extra, limits, why) in [
        ("reset = 1.0", "", "", "reset"),
        ("half_close = 1.0", "", "", "came back"),
        ("refuse = 1.0", "", "", "refused"),
        ("unanswered = 1.0", "", "connect_timeout = 0.2", "timed"),
    ] {
        // A megabyte takes dozens of ticks: time for a fault to strike.
        let (ok, _, log) = one(&sized(1 << 20, faults, extra, limits));
        assert!(!ok, "{faults}: {log}");
        let verdict = log
            .lines()
            .find(|l| l.starts_with("seed 1: FAILED"))
            .expect("verdict");
        assert!(verdict.contains("client at tyme"), "{faults}: {verdict}");
        assert!(verdict.contains(why), "{faults}: {verdict}");
    }
    // A refused connect that retries gets through once the refusals are
    // only some of the answers.
    let (ok, _, log) = one(&pair("refuse = 0.5", ", reconnect = true", ""));
    assert!(ok, "{log}");
}

#[test]
fn the_same_seed_gives_the_same_run_and_seeds_differ() {
    let faults = "delay = [0, 3]\nsegment = true\nstall = 0.1";
    let (_dir, m) = manifest(&pair(faults, "", ""));
    let a = sim(&m, &["--seed", "7", "--trace", "-"]);
    let b = sim(&m, &["--seed", "7", "--trace", "-"]);
    assert!(a.status.success(), "{}", stderr(&a));
    assert_eq!(stdout(&a), stdout(&b), "the traces");
    assert_eq!(stderr(&a), stderr(&b), "the verdicts and digests");
    let many = sim(&m, &["--seeds", "0..6"]);
    assert!(many.status.success(), "{}", stderr(&many));
    let lines = stdout(&many);
    assert!(lines.ends_with("6 seeds, all passed\n"), "{lines}");
    let traces: std::collections::BTreeSet<&str> = lines
        .lines()
        .filter_map(|l| l.split("trace ").nth(1))
        .collect();
    assert!(traces.len() > 1, "every seed ran the same:\n{lines}");
    // Seed 7 in a range is seed 7 alone.
    let range = sim(&m, &["--seeds", "7..=8"]);
    let seven = stdout(&range).lines().next().expect("a line").to_owned();
    assert!(stderr(&a).contains(&seven), "{seven}\n{}", stderr(&a));
}

#[test]
fn failing_seeds_are_listed_with_the_command_that_reproduces_them() {
    // Resets are rare: some seeds fail, some pass.
    let (_dir, m) = manifest(&sized(1 << 20, "reset = 0.2", "", ""));
    let out = sim(&m, &["--seeds", "0..12"]);
    let text = stdout(&out);
    let failed: Vec<u64> = text
        .lines()
        .filter_map(|l| l.strip_prefix("seed "))
        .filter(|l| l.contains("FAILED"))
        .filter_map(|l| l.split(':').next()?.parse().ok())
        .collect();
    assert!(!failed.is_empty() && failed.len() < 12, "{text}");
    assert_eq!(out.status.code(), Some(1), "{text}");
    let list: Vec<String> = failed.iter().map(u64::to_string).collect();
    assert!(
        text.ends_with(&format!(
            "12 seeds, {} failed: {}\n",
            failed.len(),
            list.join(", ")
        )),
        "{text}"
    );
    let first = failed[0];
    let hint = format!(
        "reproduce: hio sim {} --seed {first} --trace -",
        m.display()
    );
    assert!(text.contains(&hint), "{text}");
    // The command does reproduce it.
    let again = sim(&m, &["--seed", &first.to_string()]);
    let line = stdout(&again).lines().next().expect("verdict").to_owned();
    assert!(text.contains(&line), "{line}\n{text}");
}

#[test]
fn usage_errors_name_the_flag() {
    let (_dir, m) = manifest(&pair("", "", ""));
    for (args, why) in [
        (&["--seeds", "5..5"][..], "--seeds"),
        (&["--seeds", "x..3"][..], "--seeds"),
        (&["--seed", "1", "--limit", "-1"][..], "--limit"),
    ] {
        let out = sim(&m, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(why), "{args:?}: {}", stderr(&out));
    }
    let (_dir, bad) = manifest(&pair("reset = 2.0", "", ""));
    let out = sim(&bad, &["--seed", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("net.faults.reset"),
        "{}",
        stderr(&out)
    );
}
