//! Editing the running tree: remove (of others, of itself, of an ancestor),
//! and extend errors.

use hio_scheduler::{DoDoer, Recorder, Spec, TreeError};

use crate::util::{Scripted, at, de, doist, events};

fn steady(name: &str) -> Spec {
    Recorder::spec(name, 0.0, 100)
}

#[test]
fn remove_from_inside_closes_a_sibling_at_once_back_first() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(3.0);
    let a = Scripted::new(100).on(2, |cx| {
        let b = cx.find("b").unwrap();
        let c = cx.find("c").unwrap();
        cx.remove(&[b, c]);
    });
    doist.add(a.spec("a", 0.0)).unwrap();
    doist.add(steady("b")).unwrap();
    doist.add(steady("c")).unwrap();
    doist.run().unwrap();
    assert_eq!(
        at(&trace.records(), 1.0),
        de(&[
            ("a", "recur"),
            ("c", "cease"),
            ("c", "exit"),
            ("b", "cease"),
            ("b", "exit")
        ])
    );
}

#[test]
fn self_removal_closes_right_after_that_recur() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(4.0);
    let a = Scripted::new(100).on(2, |cx| {
        let me = cx.id();
        cx.remove(&[me]);
    });
    doist.add(a.spec("a", 0.0)).unwrap();
    doist.add(steady("b")).unwrap();
    doist.run().unwrap();
    let recs = trace.records();
    assert_eq!(
        at(&recs, 1.0),
        de(&[
            ("a", "recur"),
            ("a", "cease"),
            ("a", "exit"),
            ("b", "recur")
        ])
    );
    assert_eq!(events(&recs, "a").len(), 5);
}

#[test]
fn self_removal_on_the_completing_recur_completes_instead() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(4.0);
    let a = Scripted::new(1).on(2, |cx| {
        let me = cx.id();
        cx.remove(&[me]);
    });
    doist.add(a.spec("a", 0.0)).unwrap();
    doist.run().unwrap();
    assert_eq!(
        at(&trace.records(), 1.0),
        de(&[("a", "recur"), ("a", "clean"), ("a", "exit")])
    );
}

#[test]
fn removing_a_running_dodoer_closes_it_when_its_recur_returns() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(4.0);
    let a = Scripted::new(100).on(2, |cx| {
        let group = cx.parent();
        cx.remove(&[group]);
    });
    doist
        .add(DoDoer::new("G").doer(a.spec("a", 0.0)).doer(steady("b")))
        .unwrap();
    doist.add(steady("z")).unwrap();
    doist.run().unwrap();
    assert_eq!(
        at(&trace.records(), 1.0),
        de(&[
            ("G", "recur"),
            ("G/a", "recur"),
            ("G", "cease"),
            ("G/b", "cease"),
            ("G/b", "exit"),
            ("G/a", "cease"),
            ("G/a", "exit"),
            ("G", "exit"),
            ("z", "recur")
        ])
    );
}

#[test]
fn removing_a_doer_that_is_gone_does_nothing() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(5.0);
    doist.add(Recorder::spec("short", 0.0, 0)).unwrap();
    doist.add(steady("b")).unwrap();
    doist.enter().unwrap();
    let short = doist.find("short").unwrap();
    doist.recur().unwrap(); // short completes
    assert!(doist.find("short").is_none());
    let before = trace.records().len();
    doist.remove(&[short]);
    doist.remove(&[short]);
    assert_eq!(trace.records().len(), before);
    // Its id stays dead even after a new doer takes its slot.
    let root = doist.root();
    doist.extend(root, vec![steady("c")]).unwrap();
    doist.remove(&[short]);
    assert!(doist.find("c").is_some());
}

#[test]
fn remove_from_outside_between_ticks() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(5.0);
    doist.add(steady("a")).unwrap();
    doist.add(steady("b")).unwrap();
    doist.enter().unwrap();
    doist.recur().unwrap();
    let a = doist.find("a").unwrap();
    doist.remove(&[a]);
    assert_eq!(
        at(&trace.records(), 1.0),
        de(&[("a", "cease"), ("a", "exit")])
    );
    doist.recur().unwrap();
    assert_eq!(
        at(&trace.records(), 1.0),
        de(&[("a", "cease"), ("a", "exit"), ("b", "recur")])
    );
}

#[test]
fn extend_refuses_bad_names_duplicates_and_bad_tocks_adding_nothing() {
    let (mut doist, _trace) = doist(1.0);
    doist.add(steady("a")).unwrap();
    assert!(matches!(
        doist.add(steady("a")),
        Err(TreeError::Duplicate { .. })
    ));
    assert!(matches!(
        doist.add(steady("a/b")),
        Err(TreeError::BadName(_))
    ));
    assert!(matches!(
        doist.add(Recorder::spec("t", -1.0, 1)),
        Err(TreeError::BadTock(_))
    ));
    assert!(matches!(
        doist.add(DoDoer::new("G").doer(steady("x")).doer(steady("x"))),
        Err(TreeError::Duplicate { .. })
    ));
    doist.enter().unwrap();
    let root = doist.root();
    let err = doist
        .extend(root, vec![steady("n"), steady("a")])
        .unwrap_err();
    assert_eq!(
        err,
        TreeError::Duplicate {
            parent: String::new(),
            name: "a".into()
        }
    );
    assert!(doist.find("n").is_none(), "all or nothing");
    let a = doist.find("a").unwrap();
    assert!(matches!(
        doist.extend(a, vec![steady("m")]),
        Err(TreeError::NoGroup(_))
    ));
}

#[test]
fn set_tock_refuses_bad_values() {
    let (doist, trace) = doist(1.0);
    let mut doist = doist.limit(3.0);
    let a = Scripted::new(100).on(1, |cx| {
        assert!(cx.set_tock(f64::NAN).is_err());
        assert!(cx.set_tock(-0.5).is_err());
        assert!(cx.set_tock(f64::INFINITY).is_err());
        assert_eq!(cx.tock(), 0.0);
    });
    doist.add(a.spec("a", 0.0)).unwrap();
    doist.run().unwrap();
    assert_eq!(crate::util::recurs(&trace.records(), "a"), [0.0, 1.0, 2.0]);
}
