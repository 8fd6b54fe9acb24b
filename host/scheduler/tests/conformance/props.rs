//! Property tests over random trees: runs are reproducible, and the due-time
//! index gives the same trace as hio's plain walk of every deed.

use hio_scheduler::{Context, DoDoer, Doer, Doist, HookResult, Spec, Supervision, TraceBuffer};
use proptest::prelude::*;

pub(crate) const TOCKS: [f64; 8] = [0.0, 0.03125, 0.0625, 0.09375, 0.125, 0.1875, 0.25, 0.5];

#[derive(Debug, Clone)]
enum Tree {
    Leaf(Leaf),
    Group {
        tock: usize,
        always: bool,
        policy: u8,
        children: Vec<Tree>,
    },
}

/// A doer with scripted behaviour: it may change its tock, fail, spawn a
/// sibling, or remove itself.
#[derive(Debug, Clone, Default)]
pub(crate) struct Leaf {
    pub tock: usize,
    stop: u64,
    fail_at: Option<u64>,
    retock: Option<(u64, usize)>,
    spawn_at: Option<u64>,
    remove_at: Option<u64>,
    count: u64,
}

impl Doer for Leaf {
    fn recur(&mut self, cx: &mut Context<'_>, _tyme: f64) -> HookResult<bool> {
        self.count += 1;
        if let Some((at, tock)) = self.retock
            && at == self.count
        {
            cx.set_tock(TOCKS[tock]).map_err(|e| e.to_string())?;
        }
        if self.spawn_at == Some(self.count) {
            let name = format!("{}-kid", cx.path().replace('/', "."));
            let parent = cx.parent();
            let kid = Leaf {
                stop: 2,
                ..Leaf::default()
            };
            // A second spawn after a restart clashes by name: that is fine.
            let _ = cx.extend(parent, vec![Spec::doer(name, 0.0, kid)]);
        }
        if self.remove_at == Some(self.count) {
            let me = cx.id();
            cx.remove(&[me]);
        }
        if self.fail_at == Some(self.count) {
            return Err(format!("fail_at {}", self.count).into());
        }
        Ok(self.count > self.stop)
    }
}

pub(crate) fn supervision(policy: u8) -> Supervision {
    match policy % 3 {
        0 => Supervision::isolate(),
        1 => Supervision::restart().backoff(0.0625).max_restarts(2),
        _ => Supervision::escalate(),
    }
}

fn spec(tree: &Tree, name: String) -> Spec {
    match tree {
        Tree::Leaf(leaf) => Spec::doer(name, TOCKS[leaf.tock], leaf.clone()),
        Tree::Group {
            tock,
            always,
            policy,
            children,
        } => DoDoer::new(name)
            .tock(TOCKS[*tock])
            .always(*always)
            .supervision(supervision(*policy))
            .doers(
                children
                    .iter()
                    .enumerate()
                    .map(|(i, c)| spec(c, format!("n{i}"))),
            )
            .into(),
    }
}

pub(crate) fn leaf() -> impl Strategy<Value = Leaf> {
    (
        0..TOCKS.len(),
        0u64..8,
        proptest::option::weighted(0.2, 1u64..6),
        proptest::option::weighted(0.2, (1u64..6, 0..TOCKS.len())),
        proptest::option::weighted(0.15, 1u64..6),
        proptest::option::weighted(0.1, 1u64..8),
    )
        .prop_map(|(tock, stop, fail_at, retock, spawn_at, remove_at)| Leaf {
            tock,
            stop,
            fail_at,
            retock,
            spawn_at,
            remove_at,
            count: 0,
        })
}

fn tree() -> impl Strategy<Value = Vec<Tree>> {
    let node = leaf()
        .prop_map(Tree::Leaf)
        .prop_recursive(3, 40, 5, |inner| {
            (
                0..TOCKS.len(),
                proptest::bool::weighted(0.1),
                0u8..3,
                prop::collection::vec(inner, 0..5),
            )
                .prop_map(|(tock, always, policy, children)| Tree::Group {
                    tock,
                    always,
                    policy,
                    children,
                })
        });
    prop::collection::vec(node, 1..6)
}

/// Runs a tree; returns the JSON-lines trace and the outcome.
fn run(trees: &[Tree], root_policy: u8, limit: f64, plain: bool) -> (String, String) {
    let trace = TraceBuffer::new();
    let mut doist = Doist::new(0.03125)
        .limit(limit)
        .supervision(supervision(root_policy))
        .plain_walk(plain)
        .logger(Box::new(|_| {}))
        .trace(trace.clone());
    for (i, t) in trees.iter().enumerate() {
        doist.add(spec(t, format!("t{i}"))).unwrap();
    }
    let outcome = format!(
        "{:?} done={} tyme={}",
        doist.run(),
        doist.done(),
        doist.tyme()
    );
    (trace.to_json_lines(), outcome)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 192, ..ProptestConfig::default() })]

    #[test]
    fn two_runs_of_a_random_tree_give_identical_traces(
        trees in tree(), policy in 0u8..3, limit in prop::sample::select(vec![0.25, 0.5, 1.0]),
    ) {
        let first = run(&trees, policy, limit, false);
        let second = run(&trees, policy, limit, false);
        prop_assert_eq!(first, second);
    }

    #[test]
    fn due_index_gives_the_trace_of_a_plain_walk(
        trees in tree(), policy in 0u8..3, limit in prop::sample::select(vec![0.25, 0.5, 1.0]),
    ) {
        let indexed = run(&trees, policy, limit, false);
        let plain = run(&trees, policy, limit, true);
        prop_assert_eq!(indexed, plain);
    }
}
