//! Containment: a doer that misbehaves on purpose (the `hostile` plugin)
//! fails alone, with the reason the contract gives, or is contained without
//! failing; its siblings' traces are those of a run without it.

use hio::harness::{DoerArgs, Harness};
use hio::trace::OwnedLine;
use hio::{DoDoer, Grants, Supervision};

use crate::util::{Outcome, between_recorders, int, of, plugin, text};

/// Runs recorders `before` and `after` around an optional hostile doer `h`
/// in `mode`, misbehaving in `hook`, granted to push to `jobs`.
fn run(hostile: Option<(&str, &str)>) -> Outcome {
    let grants = Grants {
        push: ["jobs".to_owned()].into(),
        pull: Default::default(),
    };
    between_recorders(
        64,
        hostile.map(|(mode, hook)| {
            let options = vec![text("mode", mode), text("hook", hook)];
            ("hostile", options, grants)
        }),
    )
}

fn siblings_untouched(o: &Outcome) {
    let alone = run(None);
    for doer in ["before", "after"] {
        assert_eq!(of(&o.trace, doer), of(&alone.trace, doer), "{doer}");
    }
}

fn abort_reason(o: &Outcome) -> Option<(String, bool)> {
    o.trace
        .iter()
        .find(|r| r.doer == "h" && r.event.as_str() == "abort")
        .map(|r| (r.reason.clone().unwrap_or_default(), r.ran))
}

#[test]
fn failures_are_contained_with_the_reason_named() {
    let cases = [
        ("loop", "out of fuel (limit 10000000 per hook call)"),
        ("busy-wait", "out of fuel (limit 10000000 per hook call)"),
        ("grow", "memory limit exceeded (limit 67108864 bytes)"),
        ("recurse", "wasm stack overflow"),
        // WASI 0.2's exit carries only success or failure: exit(3) arrives as 1.
        ("exit", "exit(1)"),
        ("random", "random request over 64 KiB"),
    ];
    for (mode, reason) in cases {
        let o = run(Some((mode, "recur")));
        assert_eq!(abort_reason(&o), Some((reason.to_owned(), false)), "{mode}");
        siblings_untouched(&o);
    }
}

#[test]
fn a_panic_or_abort_traps_and_the_panic_message_reaches_the_log() {
    for mode in ["panic", "trap"] {
        let o = run(Some((mode, "recur")));
        let (reason, ran) = abort_reason(&o).unwrap();
        assert!(reason.starts_with("wasm trap: "), "{mode}: {reason}");
        assert!(!ran);
        siblings_untouched(&o);
    }
    let o = run(Some(("panic", "recur")));
    let report = o
        .logs
        .iter()
        .find(|l| l.contains(" h error trap in recur at tyme 0.0 (fuel used "))
        .unwrap();
    assert!(
        report.contains("::Hostile>::act"),
        "a backtrace with function names: {report}"
    );
    assert!(
        o.logs
            .iter()
            .any(|l| l.contains("h info stderr:") && l.contains("hostile doer panics on purpose")),
        "{:#?}",
        o.logs
    );
}

#[test]
fn a_trap_in_any_hook_poisons_only_that_doer() {
    for hook in ["enter", "recur", "clean", "cease", "abort", "exit"] {
        let o = run(Some(("trap", hook)));
        let h: Vec<&OwnedLine> = o.trace.iter().filter(|r| r.doer == "h").collect();
        let trapped = h
            .iter()
            .position(|r| r.event.as_str() == hook)
            .unwrap_or_else(|| panic!("{hook}: {h:#?}"));
        assert!(h[trapped].ran, "{hook}: the trapping call itself ran");
        assert!(h[trapped + 1..].iter().all(|r| !r.ran), "{hook}: {h:#?}");
        assert_eq!(h.last().unwrap().event.as_str(), "exit", "{hook}");
        siblings_untouched(&o);
    }
}

#[test]
fn what_is_not_a_failure_stays_contained() {
    for mode in ["sleep", "log-spam", "stdout-spam", "flood", "forged-deck"] {
        let o = run(Some((mode, "recur")));
        assert_eq!(abort_reason(&o), None, "{mode}");
        siblings_untouched(&o);
    }
    let spam = run(Some(("log-spam", "recur")));
    let lines = spam
        .logs
        .iter()
        .filter(|l| l.contains(" h info spam "))
        .count();
    assert_eq!(lines, 4 * 256, "256 lines kept per call, four calls");
    assert!(spam.logs.iter().all(|l| l.len() < 4200));
    let out = run(Some(("stdout-spam", "recur")));
    assert!(
        out.logs
            .iter()
            .any(|l| l.contains("h warn stdout: ") && l.contains("bytes dropped"))
    );
    let flood = run(Some(("flood", "recur")));
    assert_eq!(
        flood.harness.pull("jobs").unwrap().map(|b| b.len()),
        Some(32)
    );
    let forged = run(Some(("forged-deck", "recur")));
    let refused: Vec<&String> = forged
        .logs
        .iter()
        .filter(|l| l.contains("refused: no such deck (logged once)"))
        .collect();
    assert_eq!(refused.len(), 1, "logged once per kind: {:#?}", forged.logs);
}

#[test]
fn a_grant_violation_is_an_error_to_the_guest_logged_once() {
    let o = run(Some(("grant", "recur")));
    assert_eq!(abort_reason(&o), None);
    let said = o
        .logs
        .iter()
        .filter(|l| l.contains("h warn pull refused: not-granted"))
        .count();
    assert_eq!(said, 4, "the guest sees the error each time");
    let logged = o
        .logs
        .iter()
        .filter(|l| l.contains("pull on deck \"jobs\" refused: not granted (logged once)"))
        .count();
    assert_eq!(logged, 1);
    siblings_untouched(&o);
}

#[test]
fn a_doer_failing_after_every_restart_escalates_after_the_bound() {
    let mut h = Harness::new(0.25);
    h.doist().set_limit(Some(10.0));
    let bad = h.load(plugin("hostile")).unwrap();
    let recorder = h.load(plugin("recorder")).unwrap();
    let spec = h
        .spec(DoerArgs::new("h", &bad).options(vec![text("mode", "fail-always")]))
        .unwrap();
    let sup = Supervision::restart().max_restarts(2).backoff(0.25);
    h.add_spec(DoDoer::new("g").supervision(sup).doer(spec))
        .unwrap();
    h.add(DoerArgs::new("sib", &recorder).options(vec![int("stop", 100)]))
        .unwrap();
    h.run().unwrap();
    let trace = h.trace();
    let attempts: Vec<Option<u32>> = trace
        .iter()
        .filter(|r| r.doer == "g/h" && r.event.as_str() == "abort")
        .map(|r| r.attempt)
        .collect();
    assert_eq!(attempts, [None, Some(1), Some(2)]);
    let g_abort = trace
        .iter()
        .find(|r| r.doer == "g" && r.event.as_str() == "abort")
        .unwrap();
    assert_eq!(
        g_abort.reason.as_deref(),
        Some("child g/h: fails on purpose")
    );
    assert_eq!(
        trace
            .iter()
            .filter(|r| r.doer == "sib" && r.event.as_str() == "recur")
            .count(),
        40
    );
}

#[test]
fn holding_too_many_handles_fails_the_doer_with_the_limit_named() {
    let o = run(Some(("leak-handles", "recur")));
    assert_eq!(
        abort_reason(&o),
        Some((
            "handle limit exceeded (limit 1024 handles)".to_owned(),
            false
        ))
    );
    siblings_untouched(&o);
}

#[test]
fn a_message_over_the_doers_limit_fails_the_call_and_the_guest_sees_too_large() {
    let o = run(Some(("big-message", "recur")));
    let reason = "push on deck \"jobs\": message of 102400 bytes over the doer's limit \
                  (limits.message = 65536 bytes)";
    // A returned failure: the instance stays usable, its abort runs.
    assert_eq!(abort_reason(&o), Some((reason.to_owned(), true)));
    assert!(
        o.logs
            .iter()
            .any(|l| l.contains("h warn big message refused: too-large")),
        "{:#?}",
        o.logs
    );
    assert_eq!(o.harness.pull("jobs").unwrap(), None, "nothing was queued");
    siblings_untouched(&o);
}

#[test]
fn a_forged_or_stale_resource_handle_traps_that_doer_only() {
    for mode in ["forged-handle", "stale-handle"] {
        let o = run(Some((mode, "recur")));
        let (reason, ran) = abort_reason(&o).unwrap();
        assert!(reason.contains("unknown handle index"), "{mode}: {reason}");
        assert!(!ran, "{mode}");
        siblings_untouched(&o);
    }
}

#[test]
fn why_a_call_failed_is_a_typed_value() {
    use hio::plugin::{CallFailure, EngineLimits, InstanceConfig, Limit, PluginHost};
    let host = PluginHost::new(EngineLimits::default(), None).unwrap();
    let bad = host.load(&plugin("hostile")).unwrap();
    let cfg = InstanceConfig::default();
    let cases = [
        ("loop", CallFailure::Limit(Limit::Fuel(10_000_000))),
        ("grow", CallFailure::Limit(Limit::Memory(64 << 20))),
        ("recurse", CallFailure::Limit(Limit::Stack)),
        ("exit", CallFailure::Exit(1)),
        ("random", CallFailure::Limit(Limit::Random(64 << 10))),
        ("leak-handles", CallFailure::Limit(Limit::Handles(1024))),
        ("fail-always", CallFailure::Guest("fails on purpose".into())),
    ];
    for (mode, want) in cases {
        let options = vec![text("mode", mode), text("hook", "enter")];
        let mut doer = bad.instantiate("h", 0, options, &cfg).unwrap();
        assert_eq!(doer.bare_enter(), Err(want), "{mode}");
    }
    let options = vec![text("mode", "trap"), text("hook", "enter")];
    let mut doer = bad.instantiate("h", 0, options, &cfg).unwrap();
    assert!(
        matches!(doer.bare_enter(), Err(CallFailure::Trap(_))),
        "an abort is a trap"
    );
}

/// The log lines about doer `h`.
fn lines_of_h(o: &Outcome) -> Vec<&String> {
    o.logs.iter().filter(|l| l.contains(" h ")).collect()
}

/// The reason the host gives for a call over `limits.host_bytes` (default).
const OVER_HOST_BYTES: &str =
    "host calls over the doer's limit of bytes per hook call (limits.host_bytes = 4194304 bytes)";

#[test]
fn refused_deck_names_are_neither_kept_nor_printed_whole() {
    // Pushes to 3,000 decks named with 1 MiB each: the fourth name takes
    // the call past the 4 MiB the host takes per hook call.
    let o = run(Some(("deck-names", "recur")));
    assert_eq!(abort_reason(&o), Some((OVER_HOST_BYTES.to_owned(), false)));
    siblings_untouched(&o);
    let lines = lines_of_h(&o);
    let refused: Vec<_> = lines.iter().filter(|l| l.contains("refused")).collect();
    assert_eq!(refused.len(), 1, "logged once: {refused:?}");
    assert!(refused[0].contains("breaks the rule"), "{}", refused[0]);
    assert!(refused[0].contains("(1048576 bytes)"), "{}", refused[0]);
    assert!(refused[0].len() < 200, "the name is not printed");
    assert!(
        lines.iter().all(|l| l.len() < 20_000),
        "no line holds a name"
    );
}

#[test]
fn logging_more_than_the_host_takes_per_call_fails_the_call() {
    // An 8 MiB message, 2,000 times: the first is over the 4 MiB per call.
    let o = run(Some(("log-huge", "recur")));
    assert_eq!(abort_reason(&o), Some((OVER_HOST_BYTES.to_owned(), false)));
    siblings_untouched(&o);
    assert!(lines_of_h(&o).iter().all(|l| !l.contains("yyyy")));
}

#[test]
fn refusals_logged_once_each_are_capped() {
    // 100 distinct undeclared decks, every recur: 32 logged, then one line.
    let o = run(Some(("many-decks", "recur")));
    assert_eq!(abort_reason(&o), None);
    siblings_untouched(&o);
    let lines = lines_of_h(&o);
    assert_eq!(lines.len(), 33, "{lines:#?}");
    assert!(
        lines[32].contains("no more are logged (limit 32)"),
        "{}",
        lines[32]
    );
}

#[test]
fn a_long_failure_reason_is_cut_everywhere_it_appears() {
    let o = run(Some(("long-reason", "recur")));
    siblings_untouched(&o);
    let (reason, ran) = abort_reason(&o).expect("aborted");
    assert!(ran);
    assert!(reason.starts_with("zzzz"), "{}", &reason[..8]);
    assert!(
        reason.ends_with(&format!(" [… {} bytes cut]", (8 << 20) - 1024)),
        "{reason}"
    );
    assert!(reason.len() < 1100);
    let longest = o.trace.iter().map(|r| r.to_json().len()).max().unwrap_or(0);
    assert!(longest < 1200, "every trace line stays short: {longest}");
    assert!(lines_of_h(&o).iter().all(|l| l.len() < 1200));
}

#[test]
fn guest_text_cannot_forge_a_log_line_or_drive_a_terminal() {
    let o = run(Some(("escapes", "recur")));
    siblings_untouched(&o);
    for line in &o.logs {
        assert!(
            !line.contains('\u{1b}') && !line.contains('\u{7}'),
            "{line:?}"
        );
        for (i, part) in line.split('\n').enumerate() {
            // Every line printed starts with a tyme, or is a continuation.
            assert!(i == 0 || part.starts_with("    "), "{line:?}");
        }
    }
    assert!(
        o.logs
            .iter()
            .any(|l| l.contains("looks innocent\n    0.5 before info forged line\\u{1b}[2J"))
    );
    // In the trace the reason is one JSON string on one line.
    let (reason, _) = abort_reason(&o).expect("aborted");
    assert!(reason.starts_with("reason\n0.5 before info forged"));
    for r in &o.trace {
        let json = r.to_json();
        assert!(!json.contains('\n') && !json.contains('\u{1b}'), "{json}");
    }
}

#[test]
fn validate_runs_with_no_deck_access() {
    let mut h = Harness::new(0.25);
    h.deck("jobs", 4, 64);
    let bad = h.load(plugin("hostile")).unwrap();
    let grants = Grants {
        push: ["jobs".to_owned()].into(),
        pull: ["jobs".to_owned()].into(),
    };
    let spec = h
        .spec(
            DoerArgs::new("h", &bad)
                .options(vec![text("mode", "validate-push")])
                .grants(grants),
        )
        .unwrap();
    assert_eq!(h.pull("jobs").unwrap(), None, "validate pushed nothing");
    h.add_spec(spec).unwrap();
}
