//! Wasm doers through the host test harness: decks and back pressure,
//! grants, guest std inside the sandbox, and the log.

use hio::Grants;
use hio::harness::{DoerArgs, Harness};

use crate::util::{int, plugin, text};

fn grants(push: &[&str], pull: &[&str]) -> Grants {
    Grants {
        push: push.iter().map(|s| (*s).to_owned()).collect(),
        pull: pull.iter().map(|s| (*s).to_owned()).collect(),
    }
}

#[test]
fn a_full_deck_is_back_pressure_and_nothing_is_lost() {
    let mut h = Harness::new(1.0);
    h.deck("jobs", 2, 64);
    let producer = h.load(plugin("producer")).unwrap();
    let consumer = h.load(plugin("consumer")).unwrap();
    let p = h
        .spec(
            DoerArgs::new("producer", &producer)
                .options(vec![text("deck", "jobs"), int("count", 5), int("burst", 3)])
                .grants(grants(&["jobs"], &[])),
        )
        .unwrap();
    let c = h
        .spec(
            DoerArgs::new("consumer", &consumer)
                .options(vec![text("deck", "jobs"), int("count", 5)])
                .grants(grants(&[], &["jobs"])),
        )
        .unwrap();
    h.add_spec(p).unwrap();
    h.add_spec(c).unwrap();
    h.doist().set_limit(Some(20.0));
    h.run().unwrap();
    let logs = h.logs();
    let got: Vec<&String> = logs
        .iter()
        .filter(|l| l.contains(" consumer info got "))
        .collect();
    let want: Vec<String> = (1..=5)
        .map(|i| format!("consumer info got job {i}"))
        .collect();
    assert_eq!(got.len(), 5, "{logs:#?}");
    for (line, want) in got.iter().zip(&want) {
        assert!(line.ends_with(want.as_str()), "{line} vs {want}");
    }
    // Tick 0: two fit, the third waits.
    assert!(
        logs.contains(&"0.0 producer debug jobs full, job 3 waits".to_owned()),
        "{logs:#?}"
    );
    // The doer asked why (decks.refusal), and logged it once: the reason
    // stayed the same on later ticks.
    let why: Vec<&String> = logs.iter().filter(|l| l.contains(" refused ")).collect();
    assert_eq!(
        why,
        ["0.0 producer info jobs refused job 3: the deck holds its capacity (2 items)"],
        "{logs:#?}"
    );
    assert!(h.trace().last().unwrap().done == Some(true));
}

#[test]
fn the_test_pushes_and_pulls_decks_directly() {
    let mut h = Harness::new(1.0);
    h.deck("in", 8, 64);
    let consumer = h.load(plugin("consumer")).unwrap();
    let c = h
        .spec(
            DoerArgs::new("c", &consumer)
                .options(vec![text("deck", "in"), int("count", 2), int("rate", 2)])
                .grants(grants(&[], &["in"])),
        )
        .unwrap();
    h.add_spec(c).unwrap();
    h.enter().unwrap();
    h.push("in", b"one").unwrap();
    h.push("in", b"two").unwrap();
    h.tick().unwrap();
    assert_eq!(h.pull("in").unwrap(), None);
    assert!(h.logs().iter().any(|l| l == "0.0 c info got two"));
    assert_eq!(h.push("nope", b"x"), Err(hio::DeckError::UnknownDeck));
}

#[test]
fn a_deck_outside_the_grants_is_refused_to_the_guest() {
    let mut h = Harness::new(1.0);
    h.deck("jobs", 2, 64);
    let producer = h.load(plugin("producer")).unwrap();
    h.add(DoerArgs::new("p", &producer).options(vec![text("deck", "jobs")]))
        .unwrap();
    h.run().unwrap();
    let abort = h
        .trace()
        .into_iter()
        .find(|r| r.event.as_str() == "abort")
        .unwrap();
    assert_eq!(abort.reason.as_deref(), Some("push to jobs: not-granted"));
    assert!(
        abort.ran,
        "a refused call is an error to the guest, not a trap"
    );
    assert_eq!(h.pull("jobs").unwrap(), None);
}

fn stdlib_logs(seed: u64) -> Vec<String> {
    let mut h = Harness::new(0.5);
    h.seed(seed);
    let std = h.load(plugin("stdlib")).unwrap();
    h.add(DoerArgs::new("std", &std).options(vec![int("stop", 2)]))
        .unwrap();
    h.run().unwrap();
    h.logs()
}

#[test]
fn guest_std_works_in_the_sandbox_and_is_deterministic() {
    let a = stdlib_logs(7);
    let b = stdlib_logs(7);
    assert_eq!(a, b, "same seed, same lines");
    assert_eq!(a[0], "0.0 std info stdout: stdlib doer entered");
    // Clocks read tyme: at tyme 0.5 the monotonic clock has moved 0.5 s and
    // the wall clock is the Unix epoch plus 0.5 s.
    assert!(
        a[2].starts_with("0.5 std info tyme=0.5 elapsed=500ms wall=0.500000000 random="),
        "{}",
        a[2]
    );
    assert!(a[2].contains("words=8 seen=Some(\"tick-001\")"), "{}", a[2]);
    let c = stdlib_logs(8);
    assert_ne!(a[1], c[1], "another seed, other random numbers");
    let strip = |l: &str| l.split(" random=").next().unwrap_or("").to_owned();
    assert_eq!(strip(&a[1]), strip(&c[1]), "but the same tyme");
}
