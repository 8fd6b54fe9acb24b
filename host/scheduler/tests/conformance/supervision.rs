//! Failure and supervision: isolate, restart, escalate, and the records a
//! failed hook leaves (`docs/contract.md` section 8).

use hio_scheduler::{DoDoer, Doist, Escalated, Recorder, Spec, Supervision};

use crate::util::{Scripted, at, de, doist, events, final_done, golden, logged};

fn failing(name: &str, at: u64) -> Spec {
    Spec::doer(name, 0.0, Recorder::new(100).fail_at(at))
}

fn steady(name: &str) -> Spec {
    Recorder::spec(name, 0.0, 100)
}

#[test]
fn isolate_drops_the_failed_doer_and_siblings_go_on() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(3.0);
    doist.add(failing("a", 2)).unwrap();
    doist.add(steady("b")).unwrap();
    doist.run().unwrap();
    let recs = trace.records();
    assert_eq!(
        at(&recs, 1.0),
        de(&[
            ("a", "recur"),
            ("a", "abort"),
            ("a", "exit"),
            ("b", "recur")
        ])
    );
    let abort = recs.iter().find(|r| r.event.as_str() == "abort").unwrap();
    assert_eq!(abort.reason.as_deref(), Some("fail_at 2"));
    assert_eq!(at(&recs, 2.0), de(&[("b", "recur")]));
    golden("isolate", &trace);
}

#[test]
fn isolate_leaves_an_empty_dodoer_that_completes_in_the_same_recur() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(3.0);
    doist.add(DoDoer::new("G").doer(failing("a", 2))).unwrap();
    doist.run().unwrap();
    assert!(doist.done());
    assert_eq!(
        at(&trace.records(), 1.0),
        de(&[
            ("G", "recur"),
            ("G/a", "recur"),
            ("G/a", "abort"),
            ("G/a", "exit"),
            ("G", "clean"),
            ("G", "exit")
        ])
    );
}

#[test]
fn restart_backs_off_doubling_then_escalates() {
    let (doist, trace) = doist(0.25);
    let mut doist = doist.limit(10.0);
    let sup = Supervision::restart().backoff(0.5).max_restarts(2);
    doist
        .add(DoDoer::new("G").supervision(sup).doer(failing("a", 1)))
        .unwrap();
    doist.run().unwrap();
    let recs = trace.records();
    let a: Vec<(f64, &str, Option<u32>)> = recs
        .iter()
        .filter(|r| r.doer == "G/a")
        .map(|r| (r.tyme, r.event.as_str(), r.attempt))
        .collect();
    assert_eq!(
        a,
        [
            (0.0, "enter", None),
            (0.0, "recur", None),
            (0.0, "abort", None),
            (0.0, "exit", None),
            (0.5, "enter", Some(1)),
            (0.5, "recur", Some(1)),
            (0.5, "abort", Some(1)),
            (0.5, "exit", Some(1)),
            (1.5, "enter", Some(2)),
            (1.5, "recur", Some(2)),
            (1.5, "abort", Some(2)),
            (1.5, "exit", Some(2)),
        ]
    );
    let g_abort = recs
        .iter()
        .find(|r| r.doer == "G" && r.event.as_str() == "abort")
        .unwrap();
    assert_eq!(g_abort.tyme, 1.5);
    assert_eq!(g_abort.reason.as_deref(), Some("child G/a: fail_at 1"));
    assert!(doist.done(), "the root isolates G, leaving nothing");
    golden("restart", &trace);
}

#[test]
fn restart_gives_a_fresh_instance_that_can_recover() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(10.0).supervision(Supervision::restart());
    let flaky = Spec::with_factory("flaky", 0.0, |birth| {
        let r = if birth.attempt == 0 {
            Recorder::new(100).fail_at(2)
        } else {
            Recorder::new(1)
        };
        Ok(Box::new(r))
    });
    doist.add(flaky).unwrap();
    doist.run().unwrap();
    assert!(doist.done());
    assert_eq!(
        events(&trace.records(), "flaky"),
        [
            (0.0, "enter"),
            (0.0, "recur"),
            (1.0, "recur"),
            (1.0, "abort"),
            (1.0, "exit"),
            // Back-off defaults to the parent's tock.
            (2.0, "enter"),
            (2.0, "recur"),
            (3.0, "recur"),
            (3.0, "clean"),
            (3.0, "exit")
        ]
    );
}

#[test]
fn escalate_at_the_root_ends_the_run_naming_the_doer() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(5.0).supervision(Supervision::escalate());
    doist.add(failing("a", 2)).unwrap();
    doist.add(steady("b")).unwrap();
    doist.add(steady("c")).unwrap();
    let err = doist.run().unwrap_err();
    assert_eq!(
        err,
        Escalated {
            doer: "a".into(),
            reason: "fail_at 2".into()
        }
    );
    assert_eq!(err.to_string(), "doer a failed: fail_at 2");
    let recs = trace.records();
    assert_eq!(
        at(&recs, 1.0),
        de(&[
            ("a", "recur"),
            ("a", "abort"),
            ("a", "exit"),
            ("c", "cease"),
            ("c", "exit"),
            ("b", "cease"),
            ("b", "exit")
        ])
    );
    assert_eq!(final_done(&recs), Some(false));
    assert!(!doist.done());
    golden("escalate_root", &trace);
}

#[test]
fn escalate_fails_the_parent_which_closes_its_other_children() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(3.0);
    doist
        .add(
            DoDoer::new("G")
                .supervision(Supervision::escalate())
                .doer(failing("a", 2))
                .doer(steady("b")),
        )
        .unwrap();
    doist.add(DoDoer::new("H").doer(steady("h"))).unwrap();
    doist.run().unwrap();
    let recs = trace.records();
    assert_eq!(
        at(&recs, 1.0),
        de(&[
            ("G", "recur"),
            ("G/a", "recur"),
            ("G/a", "abort"),
            ("G/a", "exit"),
            ("G", "abort"),
            ("G/b", "cease"),
            ("G/b", "exit"),
            ("G", "exit"),
            ("H", "recur"),
            ("H/h", "recur")
        ])
    );
    let g_abort = recs
        .iter()
        .find(|r| r.doer == "G" && r.event.as_str() == "abort")
        .unwrap();
    assert_eq!(g_abort.reason.as_deref(), Some("child G/a: fail_at 2"));
    golden("escalate_nested", &trace);
}

#[test]
fn nested_escalation_to_the_root_names_the_top_level_doer() {
    let (doist, _trace) = doist(1.0);
    let mut doist = doist.limit(3.0).supervision(Supervision::escalate());
    doist
        .add(
            DoDoer::new("G")
                .supervision(Supervision::escalate())
                .doer(failing("a", 1)),
        )
        .unwrap();
    let err = doist.run().unwrap_err();
    assert_eq!(err.doer, "G");
    assert_eq!(err.reason, "child G/a: fail_at 1");
}

#[test]
fn failure_in_enter_aborts_at_once() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(2.0);
    doist
        .add(Scripted::new(5).fail_in("enter").spec("a", 0.0))
        .unwrap();
    doist.add(steady("b")).unwrap();
    doist.run().unwrap();
    let recs = trace.records();
    assert_eq!(
        at(&recs, 0.0),
        de(&[
            ("a", "enter"),
            ("a", "abort"),
            ("a", "exit"),
            ("b", "enter"),
            ("b", "recur")
        ])
    );
    assert_eq!(recs[1].reason.as_deref(), Some("enter failed"));
}

#[test]
fn failed_clean_cease_or_abort_puts_the_reason_on_exit() {
    let cases: [(Scripted, &str, &[&str]); 3] = [
        (
            Scripted::new(0).fail_in("clean"),
            "clean failed",
            &["clean", "exit"],
        ),
        (
            Scripted::new(100).fail_in("cease"),
            "cease failed",
            &["cease", "exit"],
        ),
        (
            Scripted::new(100).fail_at(1).fail_in("abort"),
            "abort failed",
            &["abort", "exit"],
        ),
    ];
    for (doer, reason, tail) in cases {
        let (doist, trace) = doist(1.0);
        let mut doist = doist.limit(1.0);
        doist.add(doer.spec("a", 0.0)).unwrap();
        doist.run().unwrap();
        let recs: Vec<_> = trace
            .records()
            .into_iter()
            .filter(|r| r.doer == "a")
            .collect();
        let last: Vec<&str> = recs[recs.len() - 2..]
            .iter()
            .map(|r| r.event.as_str())
            .collect();
        assert_eq!(last, tail, "{reason}");
        assert_eq!(recs.last().unwrap().reason.as_deref(), Some(reason));
        assert!(
            !recs
                .iter()
                .any(|r| r.event.as_str() == "abort" && tail[0] != "abort")
        );
    }
}

#[test]
fn failed_exit_writes_no_further_record_and_is_logged() {
    let (doist, trace) = doist(1.0);
    let (mut doist, log) = logged(doist.limit(1.0));
    doist
        .add(Scripted::new(0).fail_in("exit").spec("a", 0.0))
        .unwrap();
    doist.run().unwrap();
    let recs = trace.records();
    assert_eq!(
        events(&recs, "a"),
        [
            (0.0, "enter"),
            (0.0, "recur"),
            (0.0, "clean"),
            (0.0, "exit")
        ]
    );
    assert_eq!(recs[3].reason, None);
    assert_eq!(*log.borrow(), ["0 a error exit failed: exit failed"]);
}

#[test]
fn a_trap_poisons_the_instance_and_later_records_say_ran_false() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(3.0);
    doist
        .add(Scripted::new(100).trap_at(2).spec("a", 0.0))
        .unwrap();
    doist.run().unwrap();
    let lines: Vec<String> = trace
        .records()
        .iter()
        .filter(|r| r.tyme == 1.0)
        .map(|r| r.to_json())
        .collect();
    assert_eq!(
        lines,
        [
            r#"{"tyme":1.0,"doer":"a","event":"recur"}"#,
            r#"{"tyme":1.0,"doer":"a","event":"abort","reason":"wasm trap: unreachable","ran":false}"#,
            r#"{"tyme":1.0,"doer":"a","event":"exit","ran":false}"#,
        ]
    );
}

#[test]
fn an_instance_that_cannot_be_made_fails_its_enter_without_running() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(1.0);
    doist
        .add(Spec::with_factory("a", 0.0, |_| {
            Err("cannot instantiate".into())
        }))
        .unwrap();
    doist.run().unwrap();
    let lines: Vec<String> = trace.records().iter().map(|r| r.to_json()).collect();
    assert_eq!(
        lines,
        [
            r#"{"tyme":0.0,"doer":"a","event":"enter","ran":false}"#,
            r#"{"tyme":0.0,"doer":"a","event":"abort","reason":"cannot instantiate","ran":false}"#,
            r#"{"tyme":0.0,"doer":"a","event":"exit","ran":false}"#,
            r#"{"tyme":1.0,"doer":"","event":"done","done":true}"#,
        ]
    );
}

#[test]
fn an_empty_tree_ends_done_after_one_tick() {
    let (mut doist, trace) = doist(0.5);
    doist.run().unwrap();
    assert!(doist.done());
    assert_eq!(
        trace.to_json_lines(),
        "{\"tyme\":0.5,\"doer\":\"\",\"event\":\"done\",\"done\":true}\n"
    );
    let (mut doist2, _) = crate::util::doist(0.5);
    doist2.add(DoDoer::new("E")).unwrap();
    doist2.run().unwrap();
    assert!(
        doist2.done(),
        "an empty DoDoer completes at its first recur"
    );
    let _ = Doist::default();
}
