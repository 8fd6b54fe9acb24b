//! Each fault of the simulated network, observed through the public API,
//! and runs that repeat exactly under the same seed.

use hio_io::{ConnFailure, ConnId, ConnLimits, ConnState, Faults, SimConfig};
use hio_scheduler::WaitEnd;

use crate::util::{Reads, Rig, echo, hp, message, pair};

fn faulty(seed: u64, faults: Faults) -> Rig {
    Rig::new(SimConfig { seed, faults })
}

/// The client writes one byte a tick, from tick `from` to tick `to`
/// (excluded), each holding its tick's number (mod 256); ticks on until
/// tick `end`. Returns (tick written, tick read) of each byte the server
/// read, in order.
fn byte_a_tick(
    rig: &mut Rig,
    p: (ConnId, ConnId),
    from: u64,
    to: u64,
    end: u64,
) -> Vec<(u64, u64)> {
    let (client, server) = p;
    let mut arrivals = Vec::new();
    while rig.tick < end {
        rig.turn(|net, tick| {
            if (from..to).contains(&tick) {
                assert_eq!(net.write(client, &[tick as u8]), 1);
            }
            for b in net.read(server, usize::MAX) {
                // The tick it was written: the latest one with this byte.
                let written = (from..=tick).rev().find(|t| *t as u8 == b);
                arrivals.push((written.expect("a byte written"), tick));
            }
        });
    }
    assert_eq!(arrivals.len() as u64, to - from, "every byte arrives");
    assert!(arrivals.windows(2).all(|w| w[0].0 < w[1].0), "in order");
    arrivals
}

#[test]
fn delay_holds_each_chunk_for_its_ticks() {
    let mut rig = faulty(
        1,
        Faults {
            delay: (3, 5),
            ..Faults::default()
        },
    );
    let p = pair(&mut rig, ConnLimits::default());
    let from = rig.tick;
    let arrivals = byte_a_tick(&mut rig, (p.client, p.server), from, from + 40, from + 60);
    // Written in tick t, due in tick t + 1 plus the delay.
    let lags: Vec<u64> = arrivals.iter().map(|(w, r)| r - w - 1).collect();
    assert!(lags.iter().all(|l| (3..=5).contains(l)), "{lags:?}");
    assert!(lags.iter().any(|&l| l != lags[0]), "all the same: {lags:?}");
}

#[test]
fn segments_arrive_in_pieces_that_make_the_whole() {
    let msg = message(10_000);
    for segment in [false, true] {
        let mut rig = faulty(
            5,
            Faults {
                segment,
                ..Faults::default()
            },
        );
        let p = pair(&mut rig, ConnLimits::default());
        rig.turn(|net, _| assert_eq!(net.write(p.client, &msg), msg.len()));
        let mut pieces = Vec::new();
        rig.until(200, |net| {
            let piece = net.read(p.server, usize::MAX);
            if !piece.is_empty() {
                pieces.push(piece);
            }
            pieces.iter().map(Vec::len).sum::<usize>() == msg.len()
        });
        assert_eq!(pieces.concat(), msg);
        if segment {
            assert!(pieces.len() >= 3, "{} pieces", pieces.len());
        } else {
            assert_eq!(pieces.len(), 1);
        }
    }
}

#[test]
fn a_stall_holds_a_direction_back() {
    let mut rig = faulty(
        2,
        Faults {
            stall: 0.1,
            stall_ticks: (6, 6),
            ..Faults::default()
        },
    );
    let p = pair(&mut rig, ConnLimits::default());
    let from = rig.tick;
    let arrivals = byte_a_tick(&mut rig, (p.client, p.server), from, from + 100, from + 200);
    let lags: Vec<u64> = arrivals.iter().map(|(w, r)| r - w - 1).collect();
    assert!(lags.contains(&0), "{lags:?}");
    assert!(lags.iter().any(|&l| l >= 5), "never stalled: {lags:?}");
}

#[test]
fn a_reset_ends_both_sides() {
    let mut rig = faulty(
        3,
        Faults {
            reset: 1.0,
            ..Faults::default()
        },
    );
    let p = pair(&mut rig, ConnLimits::default());
    rig.idle(1);
    assert_eq!(rig.net.state(p.client), ConnState::Reset);
    assert_eq!(rig.net.state(p.server), ConnState::Reset);
    assert_eq!(rig.net.write(p.client, b"x"), 0);
}

#[test]
fn a_half_close_ends_one_direction_only() {
    for seed in 0..6 {
        let mut rig = faulty(
            seed,
            Faults {
                half_close: 1.0,
                ..Faults::default()
            },
        );
        let p = pair(&mut rig, ConnLimits::default());
        rig.idle(1);
        let (c, s) = (rig.net.state(p.client), rig.net.state(p.server));
        // Exactly one side sees the end of the stream: that direction is
        // closed; the other goes on.
        let (reader, writer) = match (c, s) {
            (ConnState::Open, ConnState::PeerClosed) => (p.server, p.client),
            (ConnState::PeerClosed, ConnState::Open) => (p.client, p.server),
            other => panic!("seed {seed}: {other:?}"),
        };
        rig.turn(|net, _| {
            // The cut direction takes bytes and loses them.
            assert_eq!(net.write(writer, b"lost"), 4);
            assert_eq!(net.write(reader, b"kept"), 4);
        });
        rig.idle(3);
        assert_eq!(rig.net.read(reader, 100), b"");
        assert_eq!(rig.net.read(writer, 100), b"kept");
        assert_eq!(rig.net.state(writer), ConnState::Open);
        assert_eq!(rig.net.state(reader), ConnState::PeerClosed);
    }
}

#[test]
fn a_refused_connect_fails_or_is_retried() {
    let mut rig = faulty(
        4,
        Faults {
            refuse: 1.0,
            ..Faults::default()
        },
    );
    let limits = ConnLimits {
        connect_timeout: 0.3,
        backoff: 0.02,
        max_backoff: 0.05,
        ..ConnLimits::default()
    };
    let server = rig.net.owner(limits);
    let client = rig.net.owner(limits);
    let listener = rig
        .net
        .listen(&server, &hp("127.0.0.1:7000"), None)
        .expect("listen");
    let once = rig
        .net
        .connect(&client, &hp("127.0.0.1:7000"), None, false)
        .expect("connect");
    let again = rig
        .net
        .connect(&client, &hp("127.0.0.1:7000"), None, true)
        .expect("connect");
    rig.until(5, |net| net.state(once) != ConnState::Connecting);
    assert_eq!(
        rig.net.state(once),
        ConnState::Failed(ConnFailure::Connect("connection refused".into()))
    );
    // The one that reconnects keeps trying (reading `Connecting` between
    // attempts too), until the next back-off would end past its connect
    // timeout.
    let ended = rig.until(100, |net| {
        let state = net.state(again);
        assert!(
            matches!(state, ConnState::Connecting | ConnState::Failed(_)),
            "{state:?}"
        );
        matches!(state, ConnState::Failed(_))
    });
    assert_eq!(
        rig.net.state(again),
        ConnState::Failed(ConnFailure::Connect("connection refused".into()))
    );
    assert!((25..30).contains(&ended), "failed at tick {ended}");
    assert_eq!(rig.net.accept(listener), None);
}

#[test]
fn an_unanswered_connect_times_out() {
    let mut rig = faulty(
        5,
        Faults {
            connect_timeout: 1.0,
            ..Faults::default()
        },
    );
    let limits = ConnLimits {
        connect_timeout: 0.2,
        ..ConnLimits::default()
    };
    let owner = rig.net.owner(limits);
    let patient = rig.net.owner(ConnLimits {
        connect_timeout: 0.0,
        ..limits
    });
    let listener = rig
        .net
        .listen(&owner, &hp("127.0.0.1:7001"), None)
        .expect("listen");
    let conn = rig
        .net
        .connect(&owner, &hp("127.0.0.1:7001"), None, false)
        .expect("connect");
    let forever = rig
        .net
        .connect(&patient, &hp("127.0.0.1:7001"), None, false)
        .expect("connect");
    rig.idle(15);
    assert_eq!(rig.net.state(conn), ConnState::Connecting);
    let ended = rig.until(20, |net| net.state(conn) == ConnState::TimedOut);
    // 0.2 of tyme at 0.01 a tick.
    assert!((19..=21).contains(&ended), "timed out at tick {ended}");
    // Without a connect timeout, it waits as long as its doer does.
    rig.idle(500);
    assert_eq!(rig.net.state(forever), ConnState::Connecting);
    assert_eq!(rig.net.accept(listener), None);
}

#[test]
fn a_partition_holds_everything_until_it_heals() {
    let mut rig = faulty(
        6,
        Faults {
            partitions: vec![(20, 30)],
            ..Faults::default()
        },
    );
    let p = pair(&mut rig, ConnLimits::default());
    assert!(rig.tick < 10);
    rig.idle(10 - rig.tick);
    let arrivals = byte_a_tick(&mut rig, (p.client, p.server), 10, 40, 45);
    for (written, read) in arrivals {
        let due = written + 1;
        let expected = if (20..30).contains(&due) { 30 } else { due };
        assert_eq!(read, expected, "written in tick {written}");
    }
    // A connect during a partition is answered once it heals.
    let mut rig = faulty(
        6,
        Faults {
            partitions: vec![(2, 12)],
            ..Faults::default()
        },
    );
    let owner = rig.net.owner(ConnLimits::default());
    rig.net
        .listen(&owner, &hp("127.0.0.1:7002"), None)
        .expect("listen");
    rig.idle(3);
    let conn = rig
        .net
        .connect(&owner, &hp("127.0.0.1:7002"), None, false)
        .expect("connect");
    let open = rig.until(20, |net| net.state(conn) == ConnState::Open);
    assert_eq!(open, 12);
}

#[test]
fn random_partitions_come_and_go() {
    let mut rig = faulty(
        7,
        Faults {
            partition: 0.05,
            partition_ticks: (8, 8),
            ..Faults::default()
        },
    );
    let p = pair(&mut rig, ConnLimits::default());
    let from = rig.tick;
    let arrivals = byte_a_tick(&mut rig, (p.client, p.server), from, from + 150, from + 200);
    let lags: Vec<u64> = arrivals.iter().map(|(w, r)| r - w - 1).collect();
    assert!(lags.contains(&0), "{lags:?}");
    assert!(lags.iter().any(|&l| l >= 7), "never partitioned: {lags:?}");
}

/// An echo of 20 kB through a network with segmentation, delays and
/// stalls: every read, with its tick.
fn run(seed: u64) -> Reads {
    let mut rig = faulty(
        seed,
        Faults {
            segment: true,
            delay: (0, 4),
            stall: 0.1,
            ..Faults::default()
        },
    );
    let p = pair(&mut rig, ConnLimits::default());
    echo(&mut rig, p.client, p.server, &message(20_000), 5_000)
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let a = run(42);
    assert!(a.len() > 10, "{} reads", a.len());
    assert_eq!(a, run(42));
    assert_ne!(a, run(43));
}

#[test]
fn next_due_says_when_the_net_needs_a_pass() {
    let mut rig = faulty(
        8,
        Faults {
            delay: (4, 4),
            ..Faults::default()
        },
    );
    assert_eq!(rig.net.next_due(), None, "nothing in it");
    assert_eq!(rig.wait(), WaitEnd::Elapsed);
    let p = pair(&mut rig, ConnLimits::default());
    // Only the idle timeouts are ahead.
    let idle = rig.net.next_due().expect("a deadline");
    assert!(idle > rig.tyme + 50.0, "{idle}");
    rig.turn(|net, _| net.write(p.client, b"hi"));
    // In flight for four more ticks: due now.
    for _ in 0..4 {
        assert_eq!(rig.net.next_due(), Some(rig.last));
        assert_eq!(rig.wait(), WaitEnd::Ready);
        rig.idle(1);
    }
    rig.idle(1);
    assert_eq!(rig.wait(), WaitEnd::Elapsed);
    assert_eq!(rig.net.read(p.server, 10), b"hi");
    let later = rig.net.next_due().expect("a deadline");
    assert!(later > idle, "the idle deadline moved on: {later} {idle}");
}
