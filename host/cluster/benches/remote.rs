//! Remote decks against the floor: items per second and latency (p50, p99)
//! from one host to another through a local nats-server, beside the same
//! traffic published and consumed by a minimal async-nats program (the
//! floor: JetStream publishes awaited in windows of 256, a pull consumer
//! fetching in batches), in one run.
//!
//! ```sh
//! cargo bench -p hio-cluster --bench remote   # HIO_REMOTE_ITEMS (default 20,000)
//! ```
//!
//! `HIO_REMOTE_CAPACITY` sets the remote deck's capacity (default 1,024):
//! a deck that seldom fills shows what back pressure costs;
//! `HIO_REMOTE_PREFETCH` the items fetched ahead (default 64, `[cluster]
//! prefetch`).

// A benchmark that unwraps fails loudly, which is what it should do.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;
use hio_cluster::server::NatsServer;
use hio_cluster::{Cluster, ClusterConfig, RemoteError};

const SIZE: usize = 128;

fn items() -> u64 {
    std::env::var("HIO_REMOTE_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000)
}

fn capacity() -> u64 {
    std::env::var("HIO_REMOTE_CAPACITY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024)
}

/// The median and 99th percentile of `xs` (microseconds).
fn pcts(mut xs: Vec<f64>) -> (f64, f64) {
    xs.sort_by(f64::total_cmp);
    let at = |p: f64| xs[((xs.len() as f64 - 1.0) * p) as usize];
    (at(0.5), at(0.99))
}

/// Items a second and latencies through two hosts' remote decks.
fn hosts(url: &str, n: u64, round: u32) -> (f64, f64, f64) {
    let deck = format!("bench{round}");
    let cfg = |h: &str| {
        let mut c = ClusterConfig::new(vec![url.to_owned()], h);
        if let Some(n) = std::env::var("HIO_REMOTE_PREFETCH")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            c.prefetch = n;
        }
        c
    };
    let (p, c) = (
        Cluster::connect(cfg("p")).unwrap(),
        Cluster::connect(cfg("c")).unwrap(),
    );
    let push = p.deck(&deck, capacity(), SIZE, false).unwrap();
    let pull = c.deck(&deck, capacity(), SIZE, true).unwrap();
    let start = Instant::now();
    let (mut sent, mut got) = (0u64, 0u64);
    let mut lat = Vec::with_capacity(n as usize);
    while got < n {
        while sent < n {
            let mut item = vec![0u8; SIZE];
            let at = start.elapsed().as_nanos() as u64;
            item[..8].copy_from_slice(&at.to_le_bytes());
            match push.push(item) {
                Ok(()) => sent += 1,
                Err(RemoteError::Full) => break,
                Err(e) => panic!("{e}"),
            }
        }
        match pull.pull().unwrap() {
            Some(item) => {
                let at = u64::from_le_bytes(item[..8].try_into().unwrap());
                lat.push((start.elapsed().as_nanos() as u64 - at) as f64 / 1e3);
                got += 1;
            }
            None => std::thread::sleep(Duration::from_micros(20)),
        }
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    let (p50, p99) = pcts(lat);
    (rate, p50, p99)
}

/// The floor: the same traffic with async-nats alone; with `ids`, each
/// publish carries a message id as a remote deck's does (what the server's
/// de-duplication costs).
fn floor(url: &str, n: u64, ids: bool, round: u32) -> (f64, f64, f64) {
    let name: &'static str = format!("floor{}{round}", if ids { "_ids" } else { "" }).leak();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let js = jetstream::new(async_nats::connect(url).await.unwrap());
        let s = js
            .get_or_create_stream(stream::Config {
                name: name.into(),
                subjects: vec![name.into()],
                retention: stream::RetentionPolicy::WorkQueue,
                ..Default::default()
            })
            .await
            .unwrap();
        let c = s
            .get_or_create_consumer(
                name,
                consumer::pull::Config {
                    durable_name: Some(name.into()),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ..Default::default()
                },
            )
            .await
            .unwrap();
        let start = Instant::now();
        let consume = async {
            let mut lat = Vec::with_capacity(n as usize);
            let mut msgs = c.messages().await.unwrap();
            while (lat.len() as u64) < n {
                let m = msgs.next().await.unwrap().unwrap();
                let at = u64::from_le_bytes(m.payload[..8].try_into().unwrap());
                lat.push((start.elapsed().as_nanos() as u64 - at) as f64 / 1e3);
                m.ack().await.unwrap();
            }
            lat
        };
        let publish = async {
            let mut sent = 0;
            while sent < n {
                let mut acks = Vec::new();
                for _ in 0..256.min(n - sent) {
                    let mut item = vec![0u8; SIZE];
                    let at = start.elapsed().as_nanos() as u64;
                    item[..8].copy_from_slice(&at.to_le_bytes());
                    let msg = jetstream::message::PublishMessage::build().payload(item.into());
                    let msg = if ids {
                        msg.message_id(format!("floor.{sent}").as_str())
                    } else {
                        msg
                    };
                    acks.push(js.send_publish(name, msg).await.unwrap());
                    sent += 1;
                }
                for a in acks {
                    a.await.unwrap();
                }
            }
        };
        let (lat, ()) = tokio::join!(consume, publish);
        let rate = n as f64 / start.elapsed().as_secs_f64();
        let (p50, p99) = pcts(lat);
        (rate, p50, p99)
    })
}

/// Microseconds a lockstep barrier takes, two hosts, `n` ticks.
fn barrier(url: &str, n: u64) -> f64 {
    let cfg = |h: &str| {
        let mut c = ClusterConfig::new(vec![url.to_owned()], h);
        c.lockstep = Some(hio_cluster::Lockstep {
            run: "bench".into(),
            hosts: vec!["a".into(), "b".into()],
            timeout: Duration::from_secs(20),
        });
        c
    };
    let b = {
        let cfg = cfg("b");
        std::thread::spawn(move || {
            let c = Cluster::connect(cfg).unwrap();
            for t in 0..n {
                c.barrier(t, vec![0; 16]).unwrap();
            }
        })
    };
    let a = Cluster::connect(cfg("a")).unwrap();
    a.barrier(0, vec![0; 16]).unwrap();
    let start = Instant::now();
    for t in 1..n {
        a.barrier(t, vec![0; 16]).unwrap();
    }
    let per = start.elapsed().as_secs_f64() / (n - 1) as f64 * 1e6;
    b.join().unwrap();
    per
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn main() {
    let n = items();
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(dir.path()).expect("nats-server");
    let url = server.url();
    println!(
        "{n} items of {SIZE} bytes, one host to another through nats-server on loopback \
         (remote deck capacity {}), three rounds in turn",
        capacity()
    );
    println!(
        "{:<28} {:>12} {:>10} {:>10}",
        "", "items/s", "p50 us", "p99 us"
    );
    let row = |what: &str, r: (f64, f64, f64)| {
        println!("{what:<28} {:>12.0} {:>10.0} {:>10.0}", r.0, r.1, r.2);
    };
    let (mut vs, mut vs_ids) = (Vec::new(), Vec::new());
    for round in 0..3 {
        // Each round on streams of its own, so no round finds another's.
        let f = floor(&url, n, false, round);
        let fi = floor(&url, n, true, round);
        let h = hosts(&url, n, round);
        row("async-nats alone (floor)", f);
        row("floor with message ids", fi);
        row("remote decks", h);
        vs.push(h.0 / f.0);
        vs_ids.push(h.0 / fi.0);
    }
    println!(
        "remote decks vs the floor, median of the rounds: {:.2}x items/s ({}); \
         vs the floor with message ids: {:.2}x",
        median(vs.clone()),
        vs.iter()
            .map(|r| format!("{r:.2}"))
            .collect::<Vec<_>>()
            .join(", "),
        median(vs_ids)
    );
    let ticks = 2_000;
    println!(
        "lockstep barrier, two hosts, {ticks} ticks: {:.0} us a tick",
        barrier(&url, ticks)
    );
}
