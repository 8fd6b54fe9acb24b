//! Doers sharing an instance (the manifest's `share`), through `hio run`
//! and `hio check`: a trap poisons exactly its group, each of whose doers
//! fails naming the doer that broke it, and the group's restarts share one
//! fresh instance; the host acts for the calling doer with its grants;
//! fuel and memory limits hold per call and per instance; `hio check` and
//! `--stats` say who shares which instance.

mod common;

use common::{hio, manifest, plugin, quoted, stderr, stdout};

fn hostile() -> String {
    quoted(&plugin("hostile"))
}

/// Runs `text` (with `--stats`): (exit code, log lines, stats table).
fn run(text: &str) -> (Option<i32>, Vec<String>, String) {
    let (_dir, path) = manifest(text);
    let out = hio(&["run", path.to_str().expect("utf-8"), "--stats"]);
    let err = stderr(&out);
    let (logs, stats) = match err.find("doer  ") {
        Some(at) => (&err[..at], err[at..].to_owned()),
        None => (err.as_str(), String::new()),
    };
    // Backtrace lines of a trap report are indented; the log lines are not.
    let logs = logs
        .lines()
        .filter(|l| !l.starts_with(' '))
        .map(str::to_owned)
        .collect();
    (out.status.code(), logs, stats)
}

/// The `instance` column of `doer`'s row of a `--stats` table.
fn instance_of<'a>(stats: &'a str, doer: &str) -> &'a str {
    stats
        .lines()
        .find(|l| l.split_whitespace().next() == Some(doer))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("no row for {doer} in {stats}"))
}

/// The census numbers `doer` logged, with the tyme of each.
fn census(logs: &[String], doer: &str) -> Vec<(String, u64)> {
    let tag = format!(" {doer} info census ");
    logs.iter()
        .filter_map(|l| {
            let at = l.find(&tag)?;
            Some((l[..at].to_owned(), l[at + tag.len()..].parse().ok()?))
        })
        .collect()
}

#[test]
fn a_trap_fails_exactly_its_share_group_and_the_restarts_share_a_fresh_instance() {
    let h = hostile();
    let (code, logs, stats) = run(&format!(
        r#"
tock = 1.0
limit = 5.0
[[doers]]
name = "G"
share = "g"
supervision = {{ policy = "restart", max_restarts = 1 }}
doers = [
  {{ name = "a", plugin = {h}, options = {{ mode = "census" }} }},
  {{ name = "b", plugin = {h}, options = {{ mode = "trap", at = 3 }} }},
  {{ name = "c", plugin = {h}, options = {{ mode = "census" }} }},
]
[[doers]]
name = "out"
plugin = {h}
options = {{ mode = "census" }}
[[doers]]
name = "other"
plugin = {h}
share = "h"
options = {{ mode = "census" }}
"#
    ));
    assert_eq!(code, Some(0), "{logs:?}");
    let all = logs.join("\n");
    let reason = "its instance is poisoned: trap in G/b during recur: wasm trap";
    // b breaks the instance in its third recur, at tyme 2; c, after it in
    // the same tick, fails at once; a, before it, at its next call.
    assert!(all.contains("2.0 G/b error failed: wasm trap"), "{all}");
    assert!(
        all.contains(&format!("2.0 G/c error failed: {reason}")),
        "{all}"
    );
    assert!(
        all.contains(&format!("3.0 G/a error failed: {reason}")),
        "{all}"
    );
    // One instance until the trap: one count for a and c (a runs before
    // b, c after). The restarts (c and b at 3, a at 4) share one fresh
    // instance: its count starts again at 1 and runs on across both.
    let n = |t: &str, n: u64| (t.to_owned(), n);
    assert_eq!(
        census(&logs, "G/a"),
        [n("0.0", 1), n("1.0", 3), n("2.0", 5), n("4.0", 2)],
        "{all}"
    );
    assert_eq!(
        census(&logs, "G/c"),
        [n("0.0", 2), n("1.0", 4), n("3.0", 1), n("4.0", 3)],
        "{all}"
    );
    // Outside the group nothing failed, and each instance counts alone.
    for doer in ["out", "other"] {
        let n: Vec<u64> = census(&logs, doer).into_iter().map(|(_, n)| n).collect();
        assert_eq!(n, vec![1, 2, 3, 4, 5], "{doer}: {all}");
        assert!(!all.contains(&format!("{doer} error")), "{all}");
    }
    for doer in ["G/a", "G/b", "G/c"] {
        assert_eq!(instance_of(&stats, doer), "g#1", "{stats}");
    }
    assert_eq!(instance_of(&stats, "out"), "own", "{stats}");
    assert_eq!(instance_of(&stats, "other"), "h#0", "{stats}");
}

#[test]
fn in_a_shared_instance_the_host_acts_for_the_caller_with_its_grants() {
    let h = hostile();
    let (code, logs, _) = run(&format!(
        r#"
tock = 1.0
limit = 1.0
[[decks]]
name = "jobs"
capacity = 4
[[doers]]
name = "G"
share = "g"
doers = [
  {{ name = "a", plugin = {h}, options = {{ mode = "flood" }}, grants = {{ push = ["jobs"], pull = ["jobs"] }} }},
  {{ name = "b", plugin = {h}, options = {{ mode = "flood" }} }},
  {{ name = "c", plugin = {h}, options = {{ mode = "grant" }} }},
]
"#
    ));
    assert_eq!(code, Some(0), "{logs:?}");
    let all = logs.join("\n");
    // a's pushes are granted (and fill the deck); b, in the same instance
    // and running the same code, is refused; so is c's pull, though a may
    // pull (the mode traps if its pull is granted).
    assert!(
        all.contains(r#"G/b warn push on deck "jobs" refused: not granted"#),
        "{all}"
    );
    assert!(!all.contains("G/a warn"), "{all}");
    assert!(
        all.contains(r#"G/c warn pull on deck "jobs" refused: not granted"#),
        "{all}"
    );
    assert!(!all.contains("error"), "{all}");
}

#[test]
fn fuel_and_memory_limits_hold_per_call_and_break_only_their_group() {
    let h = hostile();
    for (mode, why) in [("loop", "out of fuel"), ("grow", "memory")] {
        let (code, logs, stats) = run(&format!(
            r#"
tock = 1.0
limit = 2.0
[engine]
max_memory = "16MiB"
[[doers]]
name = "G"
share = "g"
limits = {{ fuel = 2_000_000, memory = "8MiB" }}
doers = [
  {{ name = "bad", plugin = {h}, options = {{ mode = "{mode}", at = 2 }} }},
  {{ name = "good", plugin = {h}, options = {{ mode = "census" }} }},
]
[[doers]]
name = "alone"
plugin = {h}
options = {{ mode = "census" }}
"#
        ));
        assert_eq!(code, Some(0), "{mode}: {logs:?}");
        let all = logs.join("\n");
        let broke = logs
            .iter()
            .find(|l| l.starts_with("1.0 G/good error failed: its instance is poisoned: "))
            .unwrap_or_else(|| panic!("{mode}: good did not fail: {all}"));
        assert!(broke.contains("trap in G/bad during recur"), "{broke}");
        assert!(broke.contains(why), "{mode}: {broke}");
        // Before the trap, fuel was per call: both ran their first recur.
        assert_eq!(census(&logs, "G/good"), [("0.0".into(), 1)], "{all}");
        assert_eq!(census(&logs, "alone").len(), 2, "{all}");
        assert_eq!(instance_of(&stats, "G/bad"), "g#0", "{stats}");
        assert_eq!(instance_of(&stats, "G/good"), "g#0", "{stats}");
    }
}

#[test]
fn check_names_each_shared_instance_and_who_shares_it() {
    let h = hostile();
    let r = quoted(&plugin("recorder"));
    let (_dir, path) = manifest(&format!(
        r#"
[[doers]]
name = "G"
share = "g"
doers = [
  {{ name = "a", plugin = {h}, options = {{ mode = "census" }} }},
  {{ name = "r", plugin = {r} }},
  {{ name = "H", doers = [
    {{ name = "b", plugin = {h}, options = {{ mode = "census" }} }},
    {{ name = "own", plugin = {h}, share = "o", options = {{ mode = "census" }} }},
  ] }},
]
[[doers]]
name = "c"
plugin = {h}
options = {{ mode = "census" }}
"#
    ));
    let out = hio(&["check", path.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    // Inherited from G by a, r and H/b; H/own names its own group; c has
    // none. One plugin's group is not another's.
    assert!(
        text.contains("instances: 4 for 5 doers, 3 shared\n"),
        "{text}"
    );
    assert!(
        text.contains("  share \"g\" of hostile.wasm: G/a, G/H/b\n"),
        "{text}"
    );
    assert!(
        text.contains("  share \"g\" of recorder.wasm: G/r\n"),
        "{text}"
    );
    assert!(
        text.contains("  share \"o\" of hostile.wasm: G/H/own\n"),
        "{text}"
    );
}

#[test]
fn a_bad_share_value_is_refused_naming_its_key() {
    let h = hostile();
    for (value, want) in [
        ("\"has space\"", "bad share group \"has space\""),
        ("\"\"", "bad share group \"\""),
        ("3", "share"),
    ] {
        let (_dir, path) = manifest(&format!(
            "[[doers]]\nname = \"a\"\nplugin = {h}\nshare = {value}\noptions = {{ mode = \"census\" }}\n"
        ));
        let out = hio(&["check", path.to_str().expect("utf-8")]);
        assert_eq!(out.status.code(), Some(2), "{value}");
        let err = stderr(&out);
        assert!(err.contains("m.toml:4: doers[0].share"), "{value}: {err}");
        assert!(err.contains(want), "{value}: {err}");
    }
}

#[test]
fn a_share_group_with_two_memory_limits_is_refused_naming_the_doer() {
    let h = hostile();
    let (_dir, path) = manifest(&format!(
        r#"
[[doers]]
name = "G"
share = "g"
doers = [
  {{ name = "a", plugin = {h}, options = {{ mode = "census" }} }},
  {{ name = "b", plugin = {h}, options = {{ mode = "census" }}, limits = {{ memory = "32MiB" }} }},
]
"#
    ));
    let out = hio(&["check", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("m.toml:7: doers[0].doers[1].limits.memory"),
        "{err}"
    );
    assert!(err.contains("G/b shares an instance with G/a"), "{err}");
}
