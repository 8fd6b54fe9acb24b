//! The harness with the simulated network: a client doer and a server doer
//! from `cargo test`, no sockets, in simulated time that jumps over the
//! ticks in which nothing is due.

use std::rc::Rc;

use hio::harness::{DoerArgs, Harness};
use hio::io::{Faults, SimConfig};
use hio::plugin::{Plugin, Scalar, Value};

#[path = "common/mod.rs"]
mod common;

fn text(s: &str) -> Value {
    Value::Scalar(Scalar::Text(s.into()))
}

fn int(n: i64) -> Value {
    Value::Scalar(Scalar::Integer(n))
}

/// Echo (tock 0.05) and a client (tock 0.25) of 100,000 bytes on a network
/// whose writes take 2 to 4 ticks and arrive in random pieces, under a
/// Doist of tock 0.001 with a limit of 10.
fn pair(sim: SimConfig) -> (Harness, Rc<Plugin>) {
    let mut h = Harness::new(0.001);
    h.simulated_network(sim);
    let echo = h.load(common::plugin("echo")).expect("echo");
    let client = h.load(common::plugin("client")).expect("client");
    h.add(
        DoerArgs::new("echo", &echo)
            .tock(0.05)
            .options(vec![("addr".into(), text("10.1.1.1:80"))])
            .net(&["10.1.1.1:*"], &[]),
    )
    .expect("echo");
    h.add(
        DoerArgs::new("client", &client)
            .tock(0.25)
            .options(vec![
                ("addr".into(), text("10.1.1.1:80")),
                ("size".into(), int(100_000)),
                ("reconnect".into(), Value::Scalar(Scalar::Boolean(true))),
            ])
            .net(&[], &["10.1.1.1:80"]),
    )
    .expect("client");
    h.doist().set_limit(Some(10.0));
    (h, echo)
}

fn faults() -> SimConfig {
    SimConfig {
        seed: 5,
        faults: Faults {
            delay: (2, 4),
            segment: true,
            ..Faults::default()
        },
    }
}

#[test]
fn a_client_and_a_server_echo_over_the_simulated_network_skipping_idle_ticks() {
    let (mut h, _) = pair(faults());
    h.run().expect("run");
    let logs = h.logs().join("\n");
    assert!(logs.contains("client info echoed 100000 bytes"), "{logs}");
    let trace = h.trace();
    assert!(
        trace
            .iter()
            .any(|r| r.doer == "client" && r.event.as_str() == "exit"),
        "the client exits"
    );
    // The doers recur every 0.05 and 0.25: the ticks of 0.001 between,
    // in which the network is idle, are jumped over.
    let stepped = (h.tyme() / 0.001) as u64;
    assert!(
        h.ticked() * 4 < stepped,
        "{} ticks run for {stepped} ticks of tyme",
        h.ticked()
    );
    // The echo server is never done: the run ends at the limit.
    assert_eq!(h.tyme(), trace.last().expect("done").tyme);
    assert!(h.tyme() >= 10.0);
}

/// The pair on `sim()`, run once by `run` (jumping) and once ticked
/// through tick by tick to the limit.
fn jumped_and_ticked(sim: impl Fn() -> SimConfig) -> (Harness, Harness) {
    let (mut jumped, _) = pair(sim());
    jumped.run().expect("run");
    let (mut ticked, _) = pair(sim());
    ticked.enter().expect("enter");
    while ticked.tyme() < 10.0 {
        ticked.tick().expect("tick");
    }
    ticked.close();
    (jumped, ticked)
}

#[test]
fn jumping_gives_the_trace_of_ticking_through() {
    let (jumped, ticked) = jumped_and_ticked(faults);
    assert!(ticked.ticked() > jumped.ticked() * 4);
    assert_eq!(jumped.trace_json(), ticked.trace_json());
    assert_eq!(jumped.logs(), ticked.logs());
}

#[test]
fn a_doer_that_needs_a_network_says_so() {
    let mut h = Harness::new(0.25);
    let echo = h.load(common::plugin("echo")).expect("echo");
    let err = h
        .add(DoerArgs::new("echo", &echo).net(&["127.0.0.1:*"], &[]))
        .expect_err("no network yet");
    assert!(err.to_string().contains("simulated_network"), "{err}");
}

#[test]
fn faults_drawn_every_tick_are_ticked_through_and_give_the_same_trace() {
    let stalls = || SimConfig {
        seed: 5,
        faults: Faults {
            stall: 0.2,
            stall_ticks: (1, 3),
            ..Faults::default()
        },
    };
    let (jumped, ticked) = jumped_and_ticked(stalls);
    assert_eq!(jumped.trace_json(), ticked.trace_json());
    assert!(jumped.logs().join("\n").contains("echoed 100000 bytes"));
}

#[test]
fn more_doers_than_wasmtimes_default_handle_cap_share_one_instance() {
    // Each shared doer holds its own handle in the instance's store, past
    // wasmtime's default store-wide cap of 100,000 live handles.
    const N: usize = 100_100;
    let mut h = Harness::new(0.25);
    let noop = h.load(common::plugin("noop")).expect("noop");
    for i in 0..N {
        h.add(DoerArgs::new(&format!("d{i}"), &noop).share("all"))
            .expect("add");
    }
    h.ticks(2).expect("no failure");
    let stats = h.stats().snapshot();
    assert_eq!(stats.len(), N);
    assert!(
        stats
            .values()
            .all(|s| s.instance == "all#0" && s.failures == 0 && s.calls == 3)
    );
}
