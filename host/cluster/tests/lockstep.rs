//! The lockstep barrier through a real nats-server: three hosts (three
//! `Cluster`s, each on a thread) pass 100 barriers together, each seeing
//! every host's message of the tick in the run's host order, whatever order
//! they started in; a host that stops answering is named after the timeout.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use hio_cluster::server::NatsServer;
use hio_cluster::{Cluster, ClusterConfig, Lockstep};

fn config(url: &str, host: &str, timeout: Duration) -> ClusterConfig {
    let mut c = ClusterConfig::new(vec![url.to_owned()], host);
    c.lockstep = Some(Lockstep {
        run: "t".into(),
        hosts: vec!["a".into(), "b".into(), "c".into()],
        timeout,
    });
    c
}

#[test]
fn three_hosts_pass_every_barrier_together_in_host_order() {
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(dir.path()).unwrap();
    let threads: Vec<_> = ["c", "a", "b"]
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let (url, h) = (server.url(), (*h).to_owned());
            std::thread::spawn(move || {
                // Started one after the other: the first waits for the rest.
                std::thread::sleep(Duration::from_millis(150 * i as u64));
                let cluster = Cluster::connect(config(&url, &h, Duration::from_secs(20))).unwrap();
                (0..100u64)
                    .map(|t| {
                        let got = cluster.barrier(t, format!("{h}{t}").into_bytes()).unwrap();
                        got.into_iter()
                            .map(|(host, p)| format!("{host}:{}", String::from_utf8(p).unwrap()))
                            .collect::<Vec<_>>()
                            .join(" ")
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let seen: Vec<Vec<String>> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    for s in &seen {
        assert_eq!(s.len(), 100);
        assert_eq!(s[7], "a:a7 b:b7 c:c7");
        assert_eq!(s, &seen[0]);
    }
}

#[test]
fn a_host_that_stops_answering_is_named_after_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let server = NatsServer::start(dir.path()).unwrap();
    let url = server.url();
    let quiet = {
        let url = url.clone();
        std::thread::spawn(move || {
            let c = Cluster::connect(config(&url, "c", Duration::from_secs(5))).unwrap();
            // c passes 3 barriers, then goes quiet (and keeps its link).
            for t in 0..3 {
                let _ = c.barrier(t, vec![]);
            }
            std::thread::sleep(Duration::from_secs(3));
        })
    };
    let b = std::thread::spawn({
        let url = url.clone();
        move || {
            let c = Cluster::connect(config(&url, "b", Duration::from_secs(1))).unwrap();
            (0..5)
                .map(|t| c.barrier(t, vec![]).map(|_| ()))
                .collect::<Vec<_>>()
        }
    });
    let a = Cluster::connect(config(&url, "a", Duration::from_secs(1))).unwrap();
    let mine: Vec<_> = (0..5).map(|t| a.barrier(t, vec![]).map(|_| ())).collect();
    let theirs = b.join().unwrap();
    quiet.join().unwrap();
    assert!(mine[..3].iter().all(Result::is_ok), "{mine:?}");
    assert_eq!(
        mine[3],
        Err("lockstep: no word from c at tick 3 within 1s".to_owned())
    );
    assert!(theirs[3].as_ref().unwrap_err().contains("no word from c"));
}
