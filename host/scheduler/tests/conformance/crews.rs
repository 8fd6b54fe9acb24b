//! Crews: a tree whose DoDoers run on worker threads gives the same trace
//! and log for any number of threads, and the trace of the same tree without
//! crews where no crew's failure reaches its DoDoer; a panic fails only its
//! crew; edits stay inside a crew; decks between crews deliver at the tick
//! barrier in (crew, sequence) order, losing and doubling nothing.

use std::cell::RefCell;
use std::rc::Rc;

use hio_scheduler::{
    Context, Crew, CrewParts, DeckAccess, DeckSpec, Decks, DoDoer, Doer, Doist, Grants, HookResult,
    Spec, TraceBuffer, TreeError,
};
use proptest::prelude::*;

use super::props::{Leaf, TOCKS, leaf, supervision};

#[derive(Debug, Clone)]
enum Tree {
    Leaf(Leaf),
    Group {
        tock: usize,
        always: bool,
        policy: u8,
        crew: bool,
        children: Vec<Tree>,
    },
}

fn specs(children: &[Tree], crews: bool) -> Vec<Spec> {
    children
        .iter()
        .enumerate()
        .map(|(i, c)| spec(c, format!("n{i}"), crews))
        .collect()
}

fn spec(tree: &Tree, name: String, crews: bool) -> Spec {
    match tree {
        Tree::Leaf(leaf) => Spec::doer(name, TOCKS[leaf.tock], leaf.clone()),
        Tree::Group {
            tock,
            always,
            policy,
            crew,
            children,
        } => {
            if *crew && crews {
                let children = children.clone();
                DoDoer::new(name)
                    .tock(TOCKS[*tock])
                    .always(*always)
                    .supervision(supervision(*policy))
                    .crew(move |_| {
                        Ok(CrewParts {
                            doers: specs(&children, true),
                            services: None,
                            on_close: None,
                            after_call: None,
                        })
                    })
                    .into()
            } else {
                DoDoer::new(name)
                    .tock(TOCKS[*tock])
                    .always(*always)
                    .supervision(supervision(*policy))
                    .doers(specs(children, crews))
                    .into()
            }
        }
    }
}

fn tree() -> impl Strategy<Value = Vec<Tree>> {
    let node = leaf()
        .prop_map(Tree::Leaf)
        .prop_recursive(3, 40, 5, |inner| {
            (
                0..TOCKS.len(),
                proptest::bool::weighted(0.1),
                0u8..3,
                proptest::bool::weighted(0.5),
                prop::collection::vec(inner, 0..5),
            )
                .prop_map(|(tock, always, policy, crew, children)| Tree::Group {
                    tock,
                    always,
                    policy,
                    crew,
                    children,
                })
        });
    prop::collection::vec(node, 1..6)
}

/// The same tree where no crew's failure reaches its DoDoer: every DoDoer
/// with a crew among its children isolates failures.
fn isolating(trees: &mut [Tree]) -> bool {
    let mut any = false;
    for t in trees {
        if let Tree::Group {
            policy,
            children,
            crew,
            ..
        } = t
        {
            any |= *crew;
            if isolating(children) {
                *policy = 0;
            }
        }
    }
    any
}

/// Runs a tree: the JSON-lines trace, the log, and the outcome.
fn run(trees: &[Tree], root_policy: u8, limit: f64, threads: usize, crews: bool) -> String {
    let trace = TraceBuffer::new();
    let log = Rc::new(RefCell::new(String::new()));
    let sink = Rc::clone(&log);
    let mut doist = Doist::new(0.03125)
        .limit(limit)
        .threads(threads)
        .supervision(supervision(root_policy))
        .logger(Box::new(move |l| {
            sink.borrow_mut().push_str(&format!("{l}\n"));
        }))
        .trace(trace.clone());
    for (i, t) in trees.iter().enumerate() {
        doist.add(spec(t, format!("t{i}"), crews)).unwrap();
    }
    let outcome = format!(
        "{:?} done={} tyme={}",
        doist.run(),
        doist.done(),
        doist.tyme()
    );
    let log = log.borrow().clone();
    format!("{}{log}{outcome}", trace.to_json_lines())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn a_crewed_tree_gives_one_trace_for_1_2_and_8_threads(
        trees in tree(), policy in 0u8..3, limit in prop::sample::select(vec![0.25, 0.5, 1.0]),
    ) {
        let one = run(&trees, policy, limit, 1, true);
        prop_assert_eq!(&one, &run(&trees, policy, limit, 2, true));
        prop_assert_eq!(&one, &run(&trees, policy, limit, 8, true));
    }

    #[test]
    fn crews_give_the_trace_of_the_same_tree_without_them(
        mut trees in tree(), limit in prop::sample::select(vec![0.25, 0.5, 1.0]),
    ) {
        let root = if isolating(&mut trees) { 0 } else { 2 };
        let serial = run(&trees, root, limit, 1, false);
        prop_assert_eq!(&serial, &run(&trees, root, limit, 2, true));
        prop_assert_eq!(&serial, &run(&trees, root, limit, 1, true));
    }
}

/// Panics at its second recur.
#[derive(Clone)]
struct Panics;

impl Doer for Panics {
    fn recur(&mut self, cx: &mut Context<'_>, _tyme: f64) -> HookResult<bool> {
        if cx.tyme() >= 1.0 {
            panic!("boom in {}", cx.path());
        }
        Ok(false)
    }
}

fn panicky(threads: usize) -> (String, String) {
    let trace = TraceBuffer::new();
    let mut doist = Doist::new(1.0)
        .limit(4.0)
        .threads(threads)
        .logger(Box::new(|_| {}))
        .supervision(hio_scheduler::Supervision::isolate())
        .trace(trace.clone());
    doist
        .add(Crew::new("bad", |_| {
            Ok(CrewParts {
                doers: vec![Spec::doer("p", 0.0, Panics)],
                services: None,
                on_close: None,
                after_call: None,
            })
        }))
        .unwrap();
    doist
        .add(Crew::new("good", |_| {
            Ok(CrewParts {
                doers: vec![hio_scheduler::Recorder::spec("r", 0.0, 2)],
                services: None,
                on_close: None,
                after_call: None,
            })
        }))
        .unwrap();
    let outcome = format!("{:?}", doist.run());
    (trace.to_json_lines(), outcome)
}

#[test]
fn a_panic_in_a_crew_fails_that_crew_only_with_any_thread_count() {
    let (trace, outcome) = panicky(2);
    assert_eq!(outcome, "Ok(())");
    assert!(
        trace.contains(
            r#"{"tyme":1.0,"doer":"bad","event":"abort","reason":"the crew's thread panicked: boom in bad/p"}"#
        ),
        "{trace}"
    );
    assert!(
        trace.contains(r#"{"tyme":2.0,"doer":"good/r","event":"clean"}"#),
        "{trace}"
    );
    assert_eq!(panicky(1), (trace, outcome));
}

#[test]
fn a_crews_failure_escalates_to_its_dodoer() {
    let trace = TraceBuffer::new();
    let mut doist = Doist::new(1.0)
        .threads(2)
        .supervision(hio_scheduler::Supervision::escalate())
        .logger(Box::new(|_| {}))
        .trace(trace.clone());
    let crew = DoDoer::new("c")
        .supervision(hio_scheduler::Supervision::escalate())
        .crew(|_| {
            Ok(CrewParts {
                doers: vec![Spec::doer(
                    "f",
                    0.0,
                    hio_scheduler::Recorder::new(9).fail_at(2),
                )],
                services: None,
                on_close: None,
                after_call: None,
            })
        });
    doist
        .add(
            DoDoer::new("top")
                .supervision(hio_scheduler::Supervision::escalate())
                .doer(crew)
                .doer(hio_scheduler::Recorder::spec("after", 0.0, 9)),
        )
        .unwrap();
    let err = doist.run();
    let Err(err) = err else {
        panic!("the run did not fail:\n{}", trace.to_json_lines());
    };
    assert_eq!(err.doer, "top");
    assert_eq!(err.reason, "child top/c: child top/c/f: fail_at 2");
    let trace = trace.to_json_lines();
    for line in [
        r#"{"tyme":1.0,"doer":"top/c/f","event":"abort","reason":"fail_at 2"}"#,
        r#"{"tyme":1.0,"doer":"top/c","event":"abort","reason":"child top/c/f: fail_at 2"}"#,
        r#"{"tyme":1.0,"doer":"top/after","event":"cease"}"#,
    ] {
        assert!(trace.contains(line), "{line} not in\n{trace}");
    }
    // The failure stopped the pass: "after" did not recur at tyme 1.
    assert!(!trace.contains(r#"{"tyme":1.0,"doer":"top/after","event":"recur"}"#));
}

/// Tries to edit outside its crew at its first recur, and logs the error.
#[derive(Clone)]
struct Reacher;

impl Doer for Reacher {
    fn recur(&mut self, cx: &mut Context<'_>, _tyme: f64) -> HookResult<bool> {
        let root = cx.root();
        let err = cx
            .extend(root, vec![hio_scheduler::Recorder::spec("x", 0.0, 1)])
            .unwrap_err();
        assert_eq!(err, TreeError::OtherCrew(String::new()));
        assert_eq!(cx.find("outside"), None);
        assert_eq!(cx.find(""), None);
        assert_eq!(cx.find("c"), Some(cx.parent()));
        Ok(true)
    }
}

#[test]
fn edits_do_not_cross_a_crews_boundary() {
    let mut doist = Doist::new(1.0).threads(2).limit(3.0);
    doist
        .add(hio_scheduler::Recorder::spec("outside", 0.0, 5))
        .unwrap();
    doist
        .add(Crew::new("c", |_| {
            Ok(CrewParts {
                doers: vec![Spec::doer("reach", 0.0, Reacher)],
                services: None,
                on_close: None,
                after_call: None,
            })
        }))
        .unwrap();
    doist.enter().unwrap();
    assert_eq!(doist.find("c/reach"), None);
    let c = doist.find("c").unwrap();
    assert_eq!(
        doist.extend(c, vec![hio_scheduler::Recorder::spec("y", 0.0, 1)]),
        Err(TreeError::OtherCrew("c".into()))
    );
    doist.run().unwrap();
}

/// Pushes `n` numbered items, as fast as the deck takes them, then stops.
struct Pusher {
    decks: DeckAccess,
    tag: u8,
    next: u32,
    n: u32,
}

impl Doer for Pusher {
    fn recur(&mut self, _cx: &mut Context<'_>, _tyme: f64) -> HookResult<bool> {
        while self.next < self.n {
            let mut item = vec![self.tag];
            item.extend(self.next.to_be_bytes());
            match self.decks.push("d", item) {
                Ok(()) => self.next += 1,
                Err(hio_scheduler::DeckError::Full) => break,
                Err(e) => return Err(e.to_string().into()),
            }
        }
        Ok(self.next == self.n)
    }
}

/// Items taken, with the tyme they were taken at.
type Got = std::sync::Arc<std::sync::Mutex<Vec<(f64, Vec<u8>)>>>;

/// Pulls at most two items a tick and keeps them.
struct Puller {
    decks: DeckAccess,
    got: Got,
}

impl Doer for Puller {
    fn recur(&mut self, cx: &mut Context<'_>, tyme: f64) -> HookResult<bool> {
        for _ in 0..2 {
            if let Some(item) = self.decks.pull("d").map_err(|e| e.to_string())? {
                self.got.lock().unwrap().push((tyme, item));
            }
        }
        let _ = cx;
        Ok(false)
    }
}

fn pipeline(threads: usize) -> Vec<(f64, Vec<u8>)> {
    let decks = Decks::new([DeckSpec {
        name: "d".into(),
        capacity: 3,
        max_item: 16,
    }]);
    decks.cross("d", [1, 2]);
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let grants = |push: bool| {
        let mut g = Grants::default();
        let set = if push { &mut g.push } else { &mut g.pull };
        set.insert("d".to_owned());
        g
    };
    let mut doist = Doist::new(1.0)
        .limit(40.0)
        .threads(threads)
        .decks(decks.clone());
    for (crew, tag) in [(1u32, b'a'), (2, b'b')] {
        let access = DeckAccess::granted(&decks, grants(true), 16).in_crew(crew);
        doist
            .add(Crew::new(format!("p{crew}"), move |_| {
                let decks = access.clone();
                Ok(CrewParts {
                    doers: vec![Spec::with_factory("push", 0.0, move |_| {
                        Ok(Box::new(Pusher {
                            decks: decks.clone(),
                            tag,
                            next: 0,
                            n: 10,
                        }))
                    })],
                    services: None,
                    on_close: None,
                    after_call: None,
                })
            }))
            .unwrap();
    }
    let access = DeckAccess::granted(&decks, grants(false), 16).in_crew(3);
    let sink = std::sync::Arc::clone(&got);
    doist
        .add(DoDoer::new("sink").always(true).crew(move |_| {
            let (decks, got) = (access.clone(), std::sync::Arc::clone(&sink));
            Ok(CrewParts {
                doers: vec![Spec::with_factory("pull", 0.0, move |_| {
                    Ok(Box::new(Puller {
                        decks: decks.clone(),
                        got: std::sync::Arc::clone(&got),
                    }))
                })],
                services: None,
                on_close: None,
                after_call: None,
            })
        }))
        .unwrap();
    doist.run().unwrap();
    got.lock().unwrap().clone()
}

#[test]
fn a_deck_between_crews_under_back_pressure_loses_and_doubles_nothing() {
    let got = pipeline(2);
    assert_eq!(got, pipeline(1));
    assert_eq!(got, pipeline(8));
    for tag in *b"ab" {
        let numbers: Vec<u32> = got
            .iter()
            .filter(|(_, i)| i[0] == tag)
            .map(|(_, i)| u32::from_be_bytes(i[1..5].try_into().unwrap()))
            .collect();
        assert_eq!(numbers, (0..10).collect::<Vec<_>>(), "crew {}", tag as char);
    }
    // Nothing arrives in the tick it was pushed: the first items are pulled
    // at tyme 1, crew 1's ahead of crew 2's.
    assert_eq!(got[0].0, 1.0);
    assert_eq!(got[0].1[0], b'a');
    assert_eq!(got[1].1[0], b'a');
}
