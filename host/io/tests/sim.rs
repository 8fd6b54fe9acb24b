//! The simulated network through the public API: TCP, TLS and HTTP over it
//! as over real sockets, each fault it can inject, and runs that repeat
//! exactly under the same seed.

#[path = "sim/util.rs"]
mod util;

#[path = "sim/faults.rs"]
mod faults;

use hio_io::{ConnLimits, ConnState, Faults, Net, NetErrorKind, SimConfig};
use util::{Rig, echo, hp, localhost, message, pair, tls_configs};

#[test]
fn tcp_echoes_over_the_sim() {
    let mut rig = Rig::new(SimConfig::default());
    assert!(rig.net.is_simulated());
    assert!(!Net::new().expect("poll").is_simulated());
    let server_owner = rig.net.owner(ConnLimits::default());
    let client_owner = rig.net.owner(ConnLimits::default());
    let listener = rig
        .net
        .listen(&server_owner, &hp("127.0.0.1:0"), None)
        .expect("listen");
    let bound = rig.net.listener_address(listener).expect("bound");
    assert_eq!(
        bound.to_string(),
        "127.0.0.1:40000",
        "the first ephemeral port"
    );
    // The address is taken, as a real one would be.
    match rig.net.listen(&server_owner, &hp(&bound.to_string()), None) {
        Err(e) if e.kind() == NetErrorKind::Io => {
            let why = e.reason();
            assert!(why.contains("address in use"), "{why}")
        }
        other => panic!("listened twice: {other:?}"),
    }
    let client = rig
        .net
        .connect(&client_owner, &hp(&bound.to_string()), None, false)
        .expect("connect");
    assert_eq!(rig.net.state(client), ConnState::Connecting);
    let mut server = None;
    rig.until(5, |net| {
        server = server.or_else(|| net.accept(listener));
        server.is_some()
    });
    let server = server.expect("accepted");
    assert_eq!(rig.net.state(client), ConnState::Open);
    let (local, peer) = rig.net.addresses(client);
    assert_eq!(peer, Some(bound));
    let local = local.expect("local");
    assert_eq!(local.to_string(), "127.0.0.1:40001");
    assert_eq!(rig.net.addresses(server), (Some(bound), Some(local)));

    let msg = b"hello, simulated world";
    let reads = echo(&mut rig, client, server, msg, 10);
    // Written in tick t, read in tick t + 1; echoed, read back at t + 2.
    let ticks: Vec<(u64, char)> = reads.iter().map(|r| (r.0, r.1)).collect();
    let t = ticks[0].0;
    assert_eq!(ticks, vec![(t, 's'), (t + 1, 'c')]);

    // Both half-close: each sees the other's end, then both are closed.
    rig.turn(|net, _| net.shutdown(client));
    rig.turn(|net, _| assert_eq!(net.state(server), ConnState::PeerClosed));
    rig.turn(|net, _| net.shutdown(server));
    rig.idle(2);
    assert_eq!(rig.net.state(client), ConnState::Closed);
    assert_eq!(rig.net.state(server), ConnState::Closed);
    rig.net.close(client);
    rig.net.close(server);
    rig.idle(1);
    assert_eq!(rig.net.connections(), 0);
    // The listener closed, its port may be bound again.
    rig.net.close_listener(listener);
    rig.net
        .listen(&server_owner, &hp(&bound.to_string()), None)
        .expect("listen again");
}

#[test]
fn a_connect_no_one_listens_for_is_refused() {
    let mut rig = Rig::new(SimConfig::default());
    let owner = rig.net.owner(ConnLimits::default());
    let conn = rig
        .net
        .connect(&owner, &hp("localhost:9"), None, false)
        .expect("connect");
    rig.until(5, |net| net.state(conn) != ConnState::Connecting);
    match rig.net.state(conn) {
        ConnState::Failed(why) => {
            let why = why.to_string();
            assert!(why.contains("connection refused"), "{why}")
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_reconnecting_client_gets_through_once_the_server_listens() {
    let mut rig = Rig::new(SimConfig::default());
    let limits = ConnLimits {
        backoff: 0.05,
        max_backoff: 0.1,
        ..ConnLimits::default()
    };
    let owner = rig.net.owner(limits);
    let conn = rig
        .net
        .connect(&owner, &hp("db.sim:5432"), None, true)
        .expect("connect");
    // Refused again and again, it keeps trying, and reads `Connecting`
    // all along, between attempts too: only a failure or the connect
    // timeout ends it.
    for _ in 0..40 {
        rig.idle(1);
        assert_eq!(rig.net.state(conn), ConnState::Connecting);
    }
    assert_eq!(rig.net.addresses(conn).1, None, "not connected");
    let server_owner = rig.net.owner(limits);
    let listener = rig
        .net
        .listen(&server_owner, &hp("db.sim:5432"), None)
        .expect("listen");
    let bound = rig.net.listener_address(listener).expect("bound");
    assert!(bound.ip().to_string().starts_with("10."), "{bound}");
    assert_eq!(bound.port(), 5432);
    let mut server = None;
    rig.until(20, |net| {
        server = server.or_else(|| net.accept(listener));
        server.is_some()
    });
    assert_eq!(rig.net.addresses(conn).1, Some(bound));
    echo(&mut rig, conn, server.expect("accepted"), b"at last", 10);
}

#[test]
fn tls_echoes_over_the_sim() {
    let (server_cfg, client_cfg) = tls_configs();
    for sim in [
        SimConfig::default(),
        SimConfig {
            seed: 3,
            faults: Faults {
                segment: true,
                delay: (0, 2),
                ..Faults::default()
            },
        },
    ] {
        let mut rig = Rig::new(sim.clone());
        let server_owner = rig.net.owner(ConnLimits::default());
        let client_owner = rig.net.owner(ConnLimits::default());
        let listener = rig
            .net
            .listen(
                &server_owner,
                &hp("localhost:443"),
                Some(server_cfg.clone()),
            )
            .expect("listen");
        let client = rig
            .net
            .connect(
                &client_owner,
                &hp("localhost:443"),
                Some((client_cfg.clone(), localhost())),
                false,
            )
            .expect("connect");
        let mut server = None;
        rig.until(500, |net| {
            server = server.or_else(|| net.accept(listener));
            server.is_some_and(|s| net.state(s) == ConnState::Open)
                && net.state(client) == ConnState::Open
        });
        let server = server.expect("accepted");
        // More than the buffers and the link's window hold at once.
        let msg = message(700_000);
        echo(&mut rig, client, server, &msg, 20_000);
        rig.turn(|net, _| net.shutdown(client));
        rig.until(500, |net| net.state(server) == ConnState::PeerClosed);
        assert_eq!(rig.net.state(client), ConnState::Open, "{sim:?}");
    }
}

/// One HTTP exchange through the host's server and client; returns the
/// response's status and body.
fn http_exchange(rig: &mut Rig, tls: bool) -> (u16, Vec<u8>) {
    let (server_cfg, client_cfg) = tls_configs();
    let server_owner = rig.net.owner(ConnLimits::default());
    let client_owner = rig.net.owner(ConnLimits::default());
    let addr = hp("localhost:8080");
    let sid = rig
        .net
        .http_listen(&server_owner, &addr, tls.then_some(server_cfg))
        .expect("serve");
    assert_eq!(
        rig.net.http_address(sid).map(|a| a.to_string()),
        Some("127.0.0.1:8080".to_owned())
    );
    let body = message(50_000);
    let id = rig
        .net
        .http_send(
            &client_owner,
            &addr,
            tls.then(|| (client_cfg, localhost())),
            "POST",
            "/echo",
            &vec![("x-test".to_owned(), b"1".to_vec())],
            Some(body.len() as u64),
        )
        .expect("send");
    let mut sent = 0;
    let mut finished = false;
    let mut request = None;
    let mut received = Vec::new();
    let mut answered = false;
    let mut response = Vec::new();
    rig.until(5_000, |net| {
        sent += net.http_send_body(id, &body[sent..]);
        if sent == body.len() && !finished {
            net.http_send_finish(id, &Vec::new()).expect("finish");
            finished = true;
        }
        request = request.or_else(|| net.http_next(sid));
        if let Some(rid) = request {
            received.extend(net.http_read(rid, usize::MAX));
            if !answered && net.http_body_done(rid) {
                let target = net.http_head(rid, |h| h.target.clone());
                assert_eq!(target.as_deref(), Some("/echo"));
                net.http_respond(rid, 201, &Vec::new(), Some(received.len() as u64))
                    .expect("respond");
                answered = true;
            }
            if answered {
                let n = net.http_write(rid, &received);
                received.drain(..n);
                if received.is_empty() {
                    net.http_finish(rid, &Vec::new()).expect("finish");
                    net.http_drop(rid);
                    request = None;
                }
            }
        }
        response.extend(net.http_response_read(id, usize::MAX));
        net.http_response_done(id).is_some()
    });
    assert_eq!(rig.net.http_response_done(id), Some(Ok(())));
    let status = rig.net.http_response(id).expect("a response").0;
    assert_eq!(response, body, "the body comes back whole");
    rig.net.http_send_drop(id);
    (status, response)
}

#[test]
fn http_over_the_sim() {
    for (sim, tls) in [
        (SimConfig::default(), false),
        (SimConfig::default(), true),
        (
            SimConfig {
                seed: 11,
                faults: Faults {
                    segment: true,
                    delay: (0, 3),
                    stall: 0.05,
                    ..Faults::default()
                },
            },
            true,
        ),
    ] {
        let mut rig = Rig::new(sim);
        let (status, _) = http_exchange(&mut rig, tls);
        assert_eq!(status, 201);
    }
}

#[test]
fn pairs_hold_their_addresses_apart() {
    let mut rig = Rig::new(SimConfig::default());
    let a = pair(&mut rig, ConnLimits::default());
    let b = pair(&mut rig, ConnLimits::default());
    let (a_local, a_peer) = rig.net.addresses(a.client);
    let (b_local, b_peer) = rig.net.addresses(b.client);
    assert_ne!(a_local, b_local);
    assert_ne!(a_peer, b_peer);
    echo(&mut rig, a.client, a.server, b"to a", 10);
    echo(&mut rig, b.client, b.server, b"to b", 10);
}

#[test]
fn closing_ends_the_peer_as_real_sockets_do() {
    let mut rig = Rig::new(SimConfig::default());
    // When a listener closes, a connection the host accepted for it (and
    // no doer took) is closed, one still in the "kernel's" backlog (the
    // listener's owner takes none: backlog 0) is reset.
    for (backlog, end) in [(1, ConnState::PeerClosed), (0, ConnState::Reset)] {
        let owner = rig.net.owner(ConnLimits {
            backlog,
            ..ConnLimits::default()
        });
        let listener = rig
            .net
            .listen(&owner, &hp("127.0.0.1:7100"), None)
            .expect("listen");
        let orphan = rig
            .net
            .connect(&owner, &hp("127.0.0.1:7100"), None, false)
            .expect("connect");
        rig.idle(2);
        assert_eq!(rig.net.state(orphan), ConnState::Open);
        rig.net.close_listener(listener);
        rig.idle(2);
        assert_eq!(rig.net.state(orphan), end, "backlog {backlog}");
    }
    // A connection let go is flushed and ends its stream; once the peer
    // ends too, it is gone.
    let p = pair(&mut rig, ConnLimits::default());
    rig.turn(|net, _| {
        assert_eq!(net.write(p.client, b"last words"), 10);
        net.close(p.client);
    });
    rig.idle(1);
    assert_eq!(rig.net.read(p.server, 100), b"last words");
    assert_eq!(rig.net.state(p.server), ConnState::PeerClosed);
    let before = rig.net.connections();
    rig.turn(|net, _| net.shutdown(p.server));
    rig.idle(2);
    assert_eq!(rig.net.state(p.server), ConnState::Closed);
    assert_eq!(rig.net.connections(), before - 1, "the let-go one is gone");
    // One whose socket closes with bytes unread (a full receive buffer,
    // then the idle timeout) resets its peer.
    let server_owner = rig.net.owner(ConnLimits {
        recv_buffer: 4,
        idle_timeout: 0.05,
        ..ConnLimits::default()
    });
    let listener = rig
        .net
        .listen(&server_owner, &hp("127.0.0.1:7101"), None)
        .expect("listen");
    let client_owner = rig.net.owner(ConnLimits::default());
    let client = rig
        .net
        .connect(&client_owner, &hp("127.0.0.1:7101"), None, false)
        .expect("connect");
    let mut server = None;
    rig.until(5, |net| {
        server = server.or_else(|| net.accept(listener));
        server.is_some()
    });
    rig.turn(|net, _| net.write(client, b"0123456789"));
    let ended = rig.until(20, |net| net.state(client) != ConnState::Open);
    assert_eq!(
        rig.net.state(server.expect("accepted")),
        ConnState::TimedOut
    );
    assert_eq!(rig.net.state(client), ConnState::Reset, "tick {ended}");
}
