//! The reference traces T1–T7 of `docs/reference-traces.md`, reproduced
//! exactly (tymes compared with `==`); golden files in `tests/golden`.

use hio_scheduler::{DoDoer, Doist, Driver, Recorder, TraceBuffer};

use crate::util::{Scripted, at, completed, de, doist, events, final_done, golden, recurs};

fn ex(name: &str, tock: f64) -> hio_scheduler::Spec {
    Recorder::spec(name, tock, 3)
}

fn try_doer(name: &str, tock: f64, stop: u64) -> hio_scheduler::Spec {
    Recorder::spec(name, tock, stop)
}

fn retymes(doist: &Doist) -> Vec<f64> {
    doist
        .deeds(doist.root())
        .into_iter()
        .map(|(_, t)| t)
        .collect()
}

#[test]
fn t1_two_doers_manual_ticks() {
    let (mut doist, trace) = doist(0.25);
    doist.add(ex("d0", 0.25)).unwrap();
    doist.add(ex("d1", 0.5)).unwrap();
    doist.enter().unwrap();
    assert_eq!(retymes(&doist), [0.0, 0.0]);
    let after: [(f64, &[f64]); 7] = [
        (0.25, &[0.25, 0.5]),
        (0.5, &[0.5, 0.5]),
        (0.75, &[0.75, 1.0]),
        (1.0, &[1.0]),
        (1.25, &[1.5]),
        (1.5, &[1.5]),
        (1.75, &[]),
    ];
    for (tyme, due) in after {
        doist.recur().unwrap();
        assert_eq!(doist.tyme(), tyme);
        assert_eq!(retymes(&doist), due, "due times after the tick to {tyme}");
    }
    let recs = trace.records();
    assert_eq!(
        events(&recs, "d0"),
        [
            (0.0, "enter"),
            (0.0, "recur"),
            (0.25, "recur"),
            (0.5, "recur"),
            (0.75, "recur"),
            (0.75, "clean"),
            (0.75, "exit")
        ]
    );
    assert_eq!(
        events(&recs, "d1"),
        [
            (0.0, "enter"),
            (0.0, "recur"),
            (0.5, "recur"),
            (1.0, "recur"),
            (1.5, "recur"),
            (1.5, "clean"),
            (1.5, "exit")
        ]
    );
    doist.close();
    assert!(doist.done());
    golden("t1", &trace);
}

fn t2_tree(real: bool) -> (Doist, TraceBuffer) {
    let (doist, trace) = doist(1.0 / 32.0);
    let mut doist = doist.limit(0.125).real(real);
    doist.add(ex("d0", 1.0 / 32.0)).unwrap();
    doist.add(ex("d1", 1.0 / 16.0)).unwrap();
    (doist, trace)
}

#[test]
fn t2_limit_reached() {
    let (mut doist, trace) = t2_tree(false);
    doist.run().unwrap();
    assert_eq!(doist.tyme(), 0.125);
    assert!(!doist.done());
    let recs = trace.records();
    assert!(completed(&recs, "d0"));
    assert!(!completed(&recs, "d1"));
    assert_eq!(
        events(&recs, "d0"),
        [
            (0.0, "enter"),
            (0.0, "recur"),
            (0.03125, "recur"),
            (0.0625, "recur"),
            (0.09375, "recur"),
            (0.09375, "clean"),
            (0.09375, "exit")
        ]
    );
    assert_eq!(
        events(&recs, "d1"),
        [
            (0.0, "enter"),
            (0.0, "recur"),
            (0.0625, "recur"),
            (0.125, "cease"),
            (0.125, "exit")
        ]
    );
    assert_eq!(final_done(&recs), Some(false));
    golden("t2", &trace);
}

#[test]
fn t2_stop_checks_no_deed_left_before_limit() {
    let (doist, trace) = doist(1.0 / 32.0);
    let mut doist = doist.limit(0.125);
    doist.add(ex("d0", 1.0 / 32.0)).unwrap();
    doist.run().unwrap();
    assert_eq!(doist.tyme(), 0.125);
    assert!(doist.done());
    assert_eq!(
        recurs(&trace.records(), "d0"),
        [0.0, 0.03125, 0.0625, 0.09375]
    );
    assert_eq!(final_done(&trace.records()), Some(true));
}

#[test]
fn t2_real_mode_gives_identical_records() {
    let (mut simulated, sim_trace) = t2_tree(false);
    simulated.run().unwrap();
    let (mut real, real_trace) = t2_tree(true);
    let start = std::time::Instant::now();
    real.run().unwrap();
    // Four ticks of 31.25 ms of wall time each.
    assert!(start.elapsed() >= std::time::Duration::from_millis(120));
    assert_eq!(real_trace.records(), sim_trace.records());
}

#[test]
fn t2_tock_zero_doers_at_limit() {
    let (doist, trace) = doist(1.0 / 32.0);
    let mut doist = doist.limit(0.0625);
    doist.add(ex("d0", 0.0)).unwrap();
    doist.add(ex("d1", 0.0)).unwrap();
    doist.run().unwrap();
    let recs = trace.records();
    for d in ["d0", "d1"] {
        assert_eq!(
            events(&recs, d),
            [
                (0.0, "enter"),
                (0.0, "recur"),
                (0.03125, "recur"),
                (0.0625, "cease"),
                (0.0625, "exit")
            ]
        );
    }
    assert!(!doist.done());
}

#[test]
fn t3_nested_dodoers() {
    let (doist, trace) = doist(1.0 / 32.0);
    let mut doist = doist.limit(0.25);
    doist
        .add(
            DoDoer::new("A")
                .doer(ex("e0", 0.0))
                .doer(ex("e1", 1.0 / 16.0)),
        )
        .unwrap();
    doist
        .add(
            DoDoer::new("B")
                .tock(1.0 / 16.0)
                .doer(ex("e2", 0.0))
                .doer(ex("e3", 1.0 / 8.0)),
        )
        .unwrap();
    doist.run().unwrap();
    assert_eq!(doist.tyme(), 0.25);
    let recs = trace.records();
    assert_eq!(recurs(&recs, "A/e0"), [0.0, 0.03125, 0.0625, 0.09375]);
    assert_eq!(recurs(&recs, "A/e1"), [0.0, 0.0625, 0.125, 0.1875]);
    assert_eq!(recurs(&recs, "B/e2"), [0.0, 0.0625, 0.125, 0.1875]);
    assert_eq!(recurs(&recs, "B/e3"), [0.0, 0.125]);
    assert_eq!(
        &events(&recs, "A/e0")[5..],
        [(0.09375, "clean"), (0.09375, "exit")]
    );
    assert_eq!(
        &events(&recs, "A")[8..],
        [(0.1875, "clean"), (0.1875, "exit")]
    );
    assert_eq!(
        &events(&recs, "B/e3")[3..],
        [(0.25, "cease"), (0.25, "exit")]
    );
    for (doer, done) in [("A", true), ("B", false), ("A/e0", true), ("A/e1", true)] {
        assert_eq!(completed(&recs, doer), done, "{doer}");
    }
    assert!(completed(&recs, "B/e2"));
    assert!(!completed(&recs, "B/e3"));
    // e1 completes, then A (now empty) completes in that same recur.
    let end_a: Vec<_> = at(&recs, 0.1875).into_iter().take(5).collect();
    assert_eq!(
        end_a,
        de(&[
            ("A", "recur"),
            ("A/e1", "recur"),
            ("A/e1", "clean"),
            ("A/e1", "exit"),
            ("A", "clean")
        ])
    );
    assert_eq!(
        at(&recs, 0.25),
        de(&[
            ("B", "cease"),
            ("B/e3", "cease"),
            ("B/e3", "exit"),
            ("B", "exit")
        ])
    );
    golden("t3", &trace);
}

fn t4_driver() -> (Driver, TraceBuffer) {
    let trace = TraceBuffer::new();
    let mut d = Driver::new(0.125, try_doer("try", 0.25, 3))
        .unwrap()
        .trace(trace.clone());
    d.enter().unwrap();
    assert_eq!(d.recur(), Ok(false));
    d.tick();
    assert_eq!(d.recur(), Ok(false));
    d.tick();
    assert_eq!(d.tyme(), 0.25);
    (d, trace)
}

#[test]
fn t4_lifecycle_driven_by_hand_forced_close() {
    let (mut d, trace) = t4_driver();
    d.close();
    assert_eq!(
        events(&trace.records(), "try"),
        [
            (0.0, "enter"),
            (0.0, "recur"),
            (0.125, "recur"),
            (0.25, "cease"),
            (0.25, "exit")
        ]
    );
    assert!(!completed(&trace.records(), "try"));
    assert_eq!(d.recur(), Err(hio_scheduler::DriveError::Refused));
    assert_eq!(trace.records().len(), 5, "a refused recur writes nothing");
    golden("t4_close", &trace);
}

#[test]
fn t4_lifecycle_driven_by_hand_failure() {
    let (mut d, trace) = t4_driver();
    d.abort("Bad");
    let recs = trace.records();
    assert_eq!(
        events(&recs, "try"),
        [
            (0.0, "enter"),
            (0.0, "recur"),
            (0.125, "recur"),
            (0.25, "abort"),
            (0.25, "exit")
        ]
    );
    assert_eq!(recs[3].reason.as_deref(), Some("Bad"));
    assert_eq!(recs[4].reason, None);
    assert_eq!(d.recur(), Err(hio_scheduler::DriveError::Refused));
    golden("t4_abort", &trace);
}

#[test]
fn t5_extend_at_run_time() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(5.0);
    for (name, stop) in [("d0", 1), ("d1", 2), ("d2", 3)] {
        doist.add(try_doer(name, 0.0, stop)).unwrap();
    }
    doist.set_limit(Some(2.0));
    doist.run().unwrap();
    assert_eq!(doist.tyme(), 2.0);
    assert!(!doist.done());
    let first = trace.take();
    let dones: Vec<bool> = ["d0", "d1", "d2"]
        .iter()
        .map(|d| completed(&first, d))
        .collect();
    assert_eq!(dones, [true, false, false]);
    assert!(doist.is_empty());

    // By hand: rewind, enter, two ticks, extend, two more ticks, close.
    doist.set_tyme(0.0);
    doist.enter().unwrap();
    doist.recur().unwrap();
    doist.recur().unwrap();
    let root = doist.root();
    doist
        .extend(root, vec![try_doer("d3", 0.0, 1), try_doer("d4", 0.0, 2)])
        .unwrap();
    let names: Vec<(String, f64)> = doist.deeds(root);
    assert_eq!(
        names,
        [("d1", 2.0), ("d2", 2.0), ("d3", 2.0), ("d4", 2.0)].map(|(n, t)| (n.to_owned(), t))
    );
    doist.recur().unwrap();
    doist.recur().unwrap();
    assert_eq!(doist.tyme(), 4.0);
    let recs = trace.records();
    let dones: Vec<bool> = ["d0", "d1", "d2", "d3", "d4"]
        .iter()
        .map(|d| completed(&recs, d))
        .collect();
    assert_eq!(dones, [true, true, true, true, false]);
    assert_eq!(doist.deeds(root), [("d4".to_owned(), 4.0)]);
    doist.close();
    assert!(!doist.done());
    let recs = trace.records();
    assert_eq!(
        events(&recs, "d3"),
        [
            (2.0, "enter"),
            (2.0, "recur"),
            (3.0, "recur"),
            (3.0, "clean"),
            (3.0, "exit")
        ]
    );
    assert_eq!(
        events(&recs, "d4"),
        [
            (2.0, "enter"),
            (2.0, "recur"),
            (3.0, "recur"),
            (4.0, "cease"),
            (4.0, "exit")
        ]
    );
}

/// A doer that extends its own queue with `N` during its second recur.
fn extender(name: &str) -> hio_scheduler::Spec {
    Scripted::new(100)
        .on(2, |cx| {
            let parent = cx.parent();
            cx.extend(parent, vec![try_doer("N", 0.0, 100)]).unwrap();
        })
        .spec(name, 0.0)
}

#[test]
fn t5_extend_from_inside_lands_before_the_caller() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(3.0);
    doist.add(extender("A")).unwrap();
    doist.add(try_doer("B", 0.0, 100)).unwrap();
    doist.run().unwrap();
    let recs = trace.records();
    assert_eq!(
        at(&recs, 1.0),
        de(&[("A", "recur"), ("N", "enter"), ("B", "recur")])
    );
    assert_eq!(
        at(&recs, 2.0),
        de(&[("N", "recur"), ("A", "recur"), ("B", "recur")])
    );
    golden("t5_extend_inside", &trace);
}

#[test]
fn t5_extend_from_inside_lands_just_before_the_caller_not_at_the_end() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(3.0);
    doist.add(try_doer("X", 0.0, 100)).unwrap();
    doist.add(extender("A")).unwrap();
    doist.add(try_doer("B", 0.0, 100)).unwrap();
    doist.run().unwrap();
    let recs = trace.records();
    assert_eq!(
        at(&recs, 2.0),
        de(&[
            ("X", "recur"),
            ("N", "recur"),
            ("A", "recur"),
            ("B", "recur")
        ])
    );
}

#[test]
fn t5_extend_into_a_queue_not_yet_walked_runs_this_tick() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(3.0);
    let a = Scripted::new(100).on(2, |cx| {
        let b = cx.find("B").unwrap();
        cx.extend(b, vec![try_doer("N", 0.0, 100)]).unwrap();
    });
    doist.add(DoDoer::new("A").doer(a.spec("a", 0.0))).unwrap();
    doist
        .add(DoDoer::new("B").doer(try_doer("b", 0.0, 100)))
        .unwrap();
    doist.run().unwrap();
    let recs = trace.records();
    assert_eq!(
        at(&recs, 1.0),
        de(&[
            ("A", "recur"),
            ("A/a", "recur"),
            ("B/N", "enter"),
            ("B", "recur"),
            ("B/b", "recur"),
            ("B/N", "recur")
        ])
    );
    assert_eq!(
        at(&recs, 2.0),
        de(&[
            ("A", "recur"),
            ("A/a", "recur"),
            ("B", "recur"),
            ("B/b", "recur"),
            ("B/N", "recur")
        ])
    );
}

/// Runs one doer (or DoDoer) for `ticks` ticks of tock 1.0 and compares the
/// whole trace with the golden file `tests/golden/<name>.jsonl`.
fn t6_run(
    name: &str,
    spec: impl Into<hio_scheduler::Spec>,
    ticks: u32,
) -> Vec<hio_scheduler::trace::OwnedLine> {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(f64::from(ticks));
    doist.add(spec).unwrap();
    doist.run().unwrap();
    golden(name, &trace);
    trace.records()
}

#[test]
fn t6_tock_arithmetic() {
    let rows: [(&str, f64, u32, &[f64]); 4] = [
        ("t6_tock_0", 0.0, 7, &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        (
            "t6_tock_0_25",
            0.25,
            7,
            &[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        ),
        ("t6_tock_1_5", 1.5, 7, &[0.0, 2.0, 3.0, 5.0, 6.0]),
        ("t6_tock_2", 2.0, 7, &[0.0, 2.0, 4.0, 6.0]),
    ];
    for (name, tock, ticks, want) in rows {
        let recs = t6_run(name, try_doer("d", tock, 100), ticks);
        assert_eq!(recurs(&recs, "d"), want, "tock {tock}");
    }
}

#[test]
fn t6_tock_raised_at_run_time_from_zero() {
    let spec = hio_scheduler::Spec::doer("d", 0.0, Recorder::new(100).retock(3, 3.0));
    let recs = t6_run("t6_retock_0_to_3", spec, 12);
    assert_eq!(recurs(&recs, "d"), [0.0, 1.0, 2.0, 5.0, 8.0, 11.0]);
}

#[test]
fn t6_tock_raised_at_run_time_with_lagging_retyme() {
    let spec = hio_scheduler::Spec::doer("d", 0.25, Recorder::new(100).retock(3, 2.0));
    let recs = t6_run("t6_retock_0_25_to_2", spec, 12);
    assert_eq!(
        recurs(&recs, "d"),
        [0.0, 1.0, 2.0, 3.0, 5.0, 7.0, 9.0, 11.0]
    );
}

#[test]
fn t6_child_inside_dodoer_runs_at_its_cadence() {
    for (name, child_tock) in [("t6_dodoer_2_child_0", 0.0), ("t6_dodoer_2_child_0_5", 0.5)] {
        let group = DoDoer::new("G")
            .tock(2.0)
            .doer(try_doer("c", child_tock, 100));
        let recs = t6_run(name, group, 9);
        assert_eq!(
            recurs(&recs, "G/c"),
            [0.0, 2.0, 4.0, 6.0, 8.0],
            "child tock {child_tock}"
        );
    }
    let group = DoDoer::new("G").tock(1.5).doer(try_doer("c", 0.0, 100));
    let recs = t6_run("t6_dodoer_1_5_child_0", group, 9);
    assert_eq!(recurs(&recs, "G"), [0.0, 2.0, 3.0, 5.0, 6.0, 8.0]);
    assert_eq!(recurs(&recs, "G/c"), [0.0, 2.0, 5.0, 8.0]);
}

#[test]
fn t7_close_order_at_limit() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(2.0);
    for name in ["A", "B", "C"] {
        doist.add(try_doer(name, 0.0, 100)).unwrap();
    }
    doist.run().unwrap();
    let recs = trace.records();
    assert_eq!(
        at(&recs, 1.0),
        de(&[("A", "recur"), ("B", "recur"), ("C", "recur")])
    );
    assert_eq!(
        at(&recs, 2.0),
        de(&[
            ("C", "cease"),
            ("C", "exit"),
            ("B", "cease"),
            ("B", "exit"),
            ("A", "cease"),
            ("A", "exit")
        ])
    );
    golden("t7_limit", &trace);
}

#[test]
fn t7_completion_closes_at_once() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(3.0);
    doist.add(try_doer("A", 0.0, 100)).unwrap();
    doist.add(try_doer("B", 0.0, 1)).unwrap();
    doist.add(try_doer("C", 0.0, 100)).unwrap();
    doist.run().unwrap();
    let recs = trace.records();
    assert_eq!(
        at(&recs, 1.0),
        de(&[
            ("A", "recur"),
            ("B", "recur"),
            ("B", "clean"),
            ("B", "exit"),
            ("C", "recur")
        ])
    );
    assert_eq!(
        at(&recs, 3.0),
        de(&[("C", "cease"), ("C", "exit"), ("A", "cease"), ("A", "exit")])
    );
}

#[test]
fn t7_nested_close_order() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(1.0);
    doist
        .add(
            DoDoer::new("X")
                .doer(try_doer("a", 0.0, 100))
                .doer(try_doer("b", 0.0, 100)),
        )
        .unwrap();
    doist.add(try_doer("c", 0.0, 100)).unwrap();
    doist.run().unwrap();
    assert_eq!(
        at(&trace.records(), 1.0),
        de(&[
            ("c", "cease"),
            ("c", "exit"),
            ("X", "cease"),
            ("X/b", "cease"),
            ("X/b", "exit"),
            ("X/a", "cease"),
            ("X/a", "exit"),
            ("X", "exit")
        ])
    );
    golden("t7_nested", &trace);
}
