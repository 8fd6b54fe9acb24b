//! Remote decks between hosts (here, two `Cluster`s in one process) through
//! a real nats-server: under back pressure every item arrives once and in
//! order, and a server killed and started again mid-stream loses and
//! doubles nothing.

#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use hio_cluster::server::NatsServer;
use hio_cluster::{Cluster, ClusterConfig, RemoteError};

fn host(server: &NatsServer, name: &str) -> Cluster {
    Cluster::connect(ClusterConfig::new(vec![server.url()], name)).unwrap()
}

/// Pushes `n` numbered items as the deck takes them while pulling, until
/// all arrived or `wall` passed; the numbers pulled. `between` runs once,
/// after `at` items were pushed.
fn flow(
    server: &mut NatsServer,
    n: u32,
    at: u32,
    between: impl FnOnce(&mut NatsServer),
) -> (Vec<u32>, u64) {
    let (p, c) = (host(server, "h1"), host(server, "h2"));
    let push = p.deck("jobs", 16, 64, false).unwrap();
    let pull = c.deck("jobs", 16, 64, true).unwrap();
    let mut between = Some(between);
    let (mut next, mut got, mut fulls) = (0u32, Vec::new(), 0u64);
    let start = Instant::now();
    while got.len() < n as usize && start.elapsed() < Duration::from_secs(60) {
        if next == at
            && let Some(f) = between.take()
        {
            f(server);
        }
        // Up to four pushes to one pull: the deck of 16 must push back.
        for _ in 0..4 {
            if next == n || next == at && between.is_some() {
                break;
            }
            match push.push(next.to_be_bytes().to_vec()) {
                Ok(()) => next += 1,
                Err(RemoteError::Full) => {
                    fulls += 1;
                    break;
                }
                Err(RemoteError::Unreachable(_)) => {
                    std::thread::sleep(Duration::from_millis(5));
                    break;
                }
                Err(e) => panic!("{e}"),
            }
        }
        match pull.pull() {
            Ok(Some(item)) => got.push(u32::from_be_bytes(item.try_into().unwrap())),
            Ok(None) | Err(RemoteError::Unreachable(_)) => {
                std::thread::sleep(Duration::from_micros(200))
            }
            Err(e) => panic!("{e}"),
        }
    }
    (got, fulls)
}

#[test]
fn every_item_arrives_once_and_in_order_under_back_pressure() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = NatsServer::start(dir.path()).unwrap();
    let (got, fulls) = flow(&mut server, 500, u32::MAX, |_| {});
    assert_eq!(got, (0..500).collect::<Vec<_>>());
    assert!(fulls > 0, "the deck of 16 never pushed back");
}

#[test]
fn a_server_killed_and_started_again_mid_stream_loses_and_doubles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = NatsServer::start(dir.path()).unwrap();
    let (got, _) = flow(&mut server, 300, 150, |s| {
        let (store, port) = (s.store().to_owned(), s.port());
        s.stop();
        std::thread::sleep(Duration::from_millis(300));
        *s = NatsServer::start_on(&store, port).unwrap();
    });
    let mut sorted = got.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), got.len(), "an item arrived twice");
    assert_eq!(sorted, (0..300).collect::<Vec<_>>(), "an item was lost");
}

#[test]
fn an_oversized_item_from_the_stream_is_refused_not_handed_over() {
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(dir.path()).unwrap();
    let c = host(&server, "h2");
    let pull = c.deck("jobs", 16, 64, true).unwrap();
    // Something that is not a host publishes straight to the deck's subject.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = async_nats::connect(server.url()).await.unwrap();
        let js = async_nats::jetstream::new(client);
        for body in [vec![7u8; 500], b"ok".to_vec()] {
            js.publish("hio.deck.jobs", body.into())
                .await
                .unwrap()
                .await
                .unwrap();
        }
    });
    let start = Instant::now();
    let mut got = Vec::new();
    while got.is_empty() && start.elapsed() < Duration::from_secs(10) {
        if let Some(item) = pull.pull().unwrap() {
            got.push(item);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(got, [b"ok".to_vec()]);
    assert_eq!(pull.refused(), 1);
}
