//! `hio run m.toml --trace out.jsonl` on a manifest of recorder plugins
//! writes the trace the native scheduler writes for the same tree of native
//! recorders: on the trees of T1–T3, T6 and T7, and on random trees; with
//! the recorder in Rust, Python, JavaScript or C, and with the four mixed
//! in one tree; and with recorders sharing instances (`share`, on doers
//! and inherited from DoDoers), shared and unshared in one tree.

mod common;

use std::sync::OnceLock;

use hio::{DoDoer, Doist, Recorder, Spec, TraceBuffer};
use proptest::prelude::*;

use common::{hio, manifest, plugin, quoted, stderr};

#[derive(Debug, Clone)]
enum Tree {
    Leaf {
        name: String,
        tock: f64,
        stop: u64,
        fail_at: Option<u64>,
        retock: Option<(u64, f64)>,
        share: Option<&'static str>,
    },
    Group {
        name: String,
        tock: f64,
        always: bool,
        share: Option<&'static str>,
        doers: Vec<Tree>,
    },
}

fn leaf(name: &str, tock: f64, stop: u64) -> Tree {
    Tree::Leaf {
        name: name.into(),
        tock,
        stop,
        fail_at: None,
        retock: None,
        share: None,
    }
}

fn group(name: &str, tock: f64, doers: Vec<Tree>) -> Tree {
    Tree::Group {
        name: name.into(),
        tock,
        always: false,
        share: None,
        doers,
    }
}

/// `t` with every leaf below it in share group `g` (set on each node, so
/// DoDoers pass it down as well).
fn shared(t: Tree, g: &'static str) -> Tree {
    match t {
        Tree::Leaf {
            name,
            tock,
            stop,
            fail_at,
            retock,
            ..
        } => Tree::Leaf {
            name,
            tock,
            stop,
            fail_at,
            retock,
            share: Some(g),
        },
        Tree::Group {
            name,
            tock,
            always,
            doers,
            ..
        } => Tree::Group {
            name,
            tock,
            always,
            share: Some(g),
            doers,
        },
    }
}

/// The TOML of a `share` key, or nothing.
fn share_key(share: Option<&str>) -> String {
    share.map_or(String::new(), |g| format!(", share = \"{g}\""))
}

/// The recorder in each language: drop-in replacements for one another.
const RECORDERS: [&str; 4] = ["recorder", "recorder-py", "recorder-js", "recorder-c"];

/// Which recorder each leaf of a tree is.
#[derive(Debug, Clone, Copy)]
enum Langs {
    /// `RECORDERS[i]` for every leaf.
    One(usize),
    /// Leaf n (in manifest order) is `RECORDERS[n % 4]`.
    Mixed,
}

impl Langs {
    /// Every choice: each language alone, then the four mixed.
    const ALL: [Langs; 5] = [
        Langs::One(0),
        Langs::One(1),
        Langs::One(2),
        Langs::One(3),
        Langs::Mixed,
    ];

    /// The plugin, as a TOML string, of the leaf after `*leaves` others.
    fn next(self, leaves: &mut usize) -> String {
        let i = match self {
            Langs::One(i) => i,
            Langs::Mixed => *leaves % RECORDERS.len(),
        };
        *leaves += 1;
        quoted(&plugin(RECORDERS[i]))
    }
}

fn toml_node(t: &Tree, langs: Langs, leaves: &mut usize) -> String {
    match t {
        Tree::Leaf {
            name,
            tock,
            stop,
            fail_at,
            retock,
            share,
        } => {
            let mut opts = format!("stop = {stop}");
            if let Some(f) = fail_at {
                opts += &format!(", fail_at = {f}");
            }
            if let Some((at, to)) = retock {
                opts += &format!(", retock_at = {at}, retock = {to:?}");
            }
            let rec = langs.next(leaves);
            let share = share_key(*share);
            format!(
                "{{ name = \"{name}\", plugin = {rec}, tock = {tock:?}, options = {{ {opts} }}{share} }}"
            )
        }
        Tree::Group {
            name,
            tock,
            always,
            share,
            doers,
        } => {
            let kids: Vec<String> = doers.iter().map(|d| toml_node(d, langs, leaves)).collect();
            let share = share_key(*share);
            format!(
                "{{ name = \"{name}\", tock = {tock:?}, always = {always}{share}, doers = [ {} ] }}",
                kids.join(", ")
            )
        }
    }
}

fn native_spec(t: &Tree) -> Spec {
    match t {
        Tree::Leaf {
            name,
            tock,
            stop,
            fail_at,
            retock,
            ..
        } => {
            let mut r = Recorder::new(*stop);
            r.fail_at = *fail_at;
            r.retock = *retock;
            Spec::doer(name.clone(), *tock, r)
        }
        Tree::Group {
            name,
            tock,
            always,
            doers,
            ..
        } => DoDoer::new(name.clone())
            .tock(*tock)
            .always(*always)
            .doers(doers.iter().map(native_spec))
            .into(),
    }
}

/// Compiles every recorder into the cache once, before any test runs one
/// (a Python or JavaScript component takes seconds to compile; tests that
/// each compiled it would compete for the same cores).
fn warm() {
    static WARM: OnceLock<()> = OnceLock::new();
    WARM.get_or_init(|| {
        let mut text = String::new();
        for r in RECORDERS {
            let p = quoted(&plugin(r));
            text += &format!("[[doers]]\nname = \"{r}\"\nplugin = {p}\n");
        }
        let (_dir, path) = manifest(&text);
        let out = hio(&["check", path.to_str().expect("utf-8")]);
        assert!(out.status.success(), "{}", stderr(&out));
    });
}

/// Runs the tree both ways; returns (wasm trace, native trace).
fn both(tock: f64, limit: Option<f64>, trees: &[Tree], langs: Langs) -> (String, String) {
    warm();
    let mut leaves = 0;
    let mut text = format!("tock = {tock:?}\n");
    if let Some(l) = limit {
        text += &format!("limit = {l:?}\n");
    }
    text += "doers = [\n";
    for t in trees {
        text += &format!("  {},\n", toml_node(t, langs, &mut leaves));
    }
    text += "]\n";
    let (dir, path) = manifest(&text);
    let out_path = dir.path().join("out.jsonl");
    // Compiled code is cached in the tests' cache folder (see `hio`).
    let out = hio(&[
        "run",
        path.to_str().expect("utf-8"),
        "--trace",
        out_path.to_str().expect("utf-8"),
    ]);
    assert!(out.status.success(), "{text}\n{}", stderr(&out));
    let wasm = std::fs::read_to_string(&out_path).expect("trace file");

    let trace = TraceBuffer::new();
    let mut doist = Doist::new(tock)
        .trace(trace.clone())
        .logger(Box::new(|_| {}));
    doist.set_limit(limit);
    for t in trees {
        doist.add(native_spec(t)).expect("valid tree");
    }
    doist.run().expect("no escalation");
    (wasm, trace.to_json_lines())
}

/// The native trace, from the recorder in each language and from the four
/// mixed.
fn assert_same(tock: f64, limit: Option<f64>, trees: &[Tree]) {
    for langs in Langs::ALL {
        let (wasm, native) = both(tock, limit, trees, langs);
        assert_eq!(wasm, native, "{langs:?}");
    }
}

#[test]
fn t1_tree_gives_the_native_trace() {
    assert_same(0.25, None, &[leaf("d0", 0.25, 3), leaf("d1", 0.5, 3)]);
}

#[test]
fn t2_tree_gives_the_native_trace() {
    assert_same(
        0.03125,
        Some(0.125),
        &[leaf("d0", 0.03125, 3), leaf("d1", 0.0625, 3)],
    );
}

#[test]
fn t3_tree_gives_the_native_trace() {
    let a = group("A", 0.0, vec![leaf("e0", 0.0, 3), leaf("e1", 0.0625, 3)]);
    let b = group("B", 0.0625, vec![leaf("e2", 0.0, 3), leaf("e3", 0.125, 3)]);
    assert_same(0.03125, Some(0.25), &[a, b]);
}

#[test]
fn t6_trees_give_the_native_trace() {
    for tock in [0.0, 0.25, 1.5, 2.0] {
        assert_same(1.0, Some(7.0), &[leaf("d", tock, 100)]);
    }
    let retock = |tock: f64, to: f64| Tree::Leaf {
        name: "d".into(),
        tock,
        stop: 100,
        fail_at: None,
        retock: Some((3, to)),
        share: None,
    };
    assert_same(1.0, Some(12.0), &[retock(0.0, 3.0)]);
    assert_same(1.0, Some(12.0), &[retock(0.25, 2.0)]);
    assert_same(
        1.0,
        Some(9.0),
        &[group("G", 2.0, vec![leaf("c", 0.5, 100)])],
    );
    assert_same(
        1.0,
        Some(9.0),
        &[group("G", 1.5, vec![leaf("c", 0.0, 100)])],
    );
}

#[test]
fn t7_trees_give_the_native_trace() {
    assert_same(
        1.0,
        Some(2.0),
        &[
            leaf("A", 0.0, 100),
            leaf("B", 0.0, 100),
            leaf("C", 0.0, 100),
        ],
    );
    assert_same(
        1.0,
        Some(3.0),
        &[leaf("A", 0.0, 100), leaf("B", 0.0, 1), leaf("C", 0.0, 100)],
    );
    let x = group("X", 0.0, vec![leaf("a", 0.0, 100), leaf("b", 0.0, 100)]);
    assert_same(1.0, Some(1.0), &[x, leaf("c", 0.0, 100)]);
}

#[test]
fn a_failing_recorder_gives_the_native_trace() {
    let failing = Tree::Leaf {
        name: "f".into(),
        tock: 0.0,
        stop: 10,
        fail_at: Some(2),
        retock: None,
        share: None,
    };
    assert_same(0.25, Some(2.0), &[failing.clone(), leaf("ok", 0.0, 3)]);
    // A recur that returns failure fails its doer alone, shared or not.
    assert_same(
        0.25,
        Some(2.0),
        &[shared(failing, "g"), shared(leaf("ok", 0.0, 3), "g")],
    );
}

#[test]
fn shared_recorders_give_the_native_trace() {
    // T3's tree with every recorder of a language in one instance (set on
    // the DoDoers, inherited by their doers), then with one DoDoer's
    // doers shared and the other's each in its own.
    let a = || group("A", 0.0, vec![leaf("e0", 0.0, 3), leaf("e1", 0.0625, 3)]);
    let b = || group("B", 0.0625, vec![leaf("e2", 0.0, 3), leaf("e3", 0.125, 3)]);
    assert_same(0.03125, Some(0.25), &[shared(a(), "g"), shared(b(), "g")]);
    assert_same(0.03125, Some(0.25), &[shared(a(), "g"), b()]);
}

const TOCKS: [f64; 6] = [0.0, 0.03125, 0.0625, 0.09375, 0.125, 0.25];

/// A node's `share`: mostly none (its own instance, or its DoDoer's
/// group), else one of two groups.
const SHARES: [Option<&str>; 4] = [None, None, Some("a"), Some("b")];

fn tree() -> impl Strategy<Value = Vec<Tree>> {
    let leaf = (
        0..TOCKS.len(),
        0u64..6,
        proptest::option::weighted(0.15, 1u64..5),
        proptest::option::weighted(0.15, (1u64..5, 0..TOCKS.len())),
        prop::sample::select(SHARES.to_vec()),
    )
        .prop_map(|(t, stop, fail_at, retock, share)| Tree::Leaf {
            name: String::new(),
            tock: TOCKS[t],
            stop,
            fail_at,
            retock: retock.map(|(at, i)| (at, TOCKS[i])),
            share,
        });
    let node = leaf.prop_recursive(2, 12, 4, |inner| {
        (
            0..TOCKS.len(),
            proptest::bool::weighted(0.1),
            prop::sample::select(SHARES.to_vec()),
            prop::collection::vec(inner, 0..4),
        )
            .prop_map(|(t, always, share, doers)| Tree::Group {
                name: String::new(),
                tock: TOCKS[t],
                always,
                share,
                doers,
            })
    });
    prop::collection::vec(node, 1..4).prop_map(|mut v| {
        name_all(&mut v);
        v
    })
}

fn name_all(trees: &mut [Tree]) {
    for (i, t) in trees.iter_mut().enumerate() {
        match t {
            Tree::Leaf { name, .. } => *name = format!("n{i}"),
            Tree::Group { name, doers, .. } => {
                *name = format!("n{i}");
                name_all(doers);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn random_trees_give_the_native_trace(
        trees in tree(),
        limit in prop::sample::select(vec![0.25, 0.5]),
        langs in prop::sample::select(Langs::ALL.to_vec()),
    ) {
        let (wasm, native) = both(0.03125, Some(limit), &trees, langs);
        prop_assert_eq!(wasm, native, "{:?}", langs);
    }
}
