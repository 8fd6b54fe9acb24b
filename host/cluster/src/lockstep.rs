//! The lockstep barrier: hosts tick together, each publishing what its tick
//! sends the others (`hio.lockstep.<run>`, core NATS) and waiting for every
//! other host's message of the same tick.
//!
//! Liveness without a handshake: while a host waits it publishes its
//! message again every 100 ms, and a host that receives a message for a
//! tick it has already passed answers with its own message of that tick,
//! so a host that subscribed late (or lost a message) catches up.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_nats::{Client, HeaderMap};
use futures_util::StreamExt;
use tokio::sync::Notify;

/// Every host's message of one barrier, in the run's host order.
pub type Messages = Vec<(String, Vec<u8>)>;

/// `[cluster] lockstep = true`: who ticks together, and how long to wait.
#[derive(Debug, Clone)]
pub struct Lockstep {
    /// The run's name (its subject: `hio.lockstep.<run>`).
    pub run: String,
    /// Every host of the run, in order (the order items are delivered in).
    pub hosts: Vec<String>,
    /// How long a barrier waits before it names the hosts missing.
    pub timeout: Duration,
}

/// Messages received, by tick and host; and this host's own, by tick.
#[derive(Default)]
pub(crate) struct Board {
    got: BTreeMap<u64, BTreeMap<String, Vec<u8>>>,
    mine: BTreeMap<u64, Vec<u8>>,
    /// The barrier this host is at (its ticks before this one are passed).
    at: u64,
    /// Hosts whose run is over, with the first tick they do not attend.
    left: BTreeMap<String, u64>,
}

pub(crate) struct Barrier {
    client: Client,
    subject: String,
    host: String,
    cfg: Lockstep,
    board: Arc<Mutex<Board>>,
    news: Arc<Notify>,
}

fn lock(b: &Mutex<Board>) -> std::sync::MutexGuard<'_, Board> {
    b.lock().unwrap_or_else(PoisonError::into_inner)
}

fn headers(host: &str, tick: u64) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("Hio-Host", host);
    h.insert("Hio-Tick", tick.to_string().as_str());
    h
}

impl Barrier {
    /// Subscribes (before any host can pass its first barrier).
    pub async fn start(client: Client, host: String, cfg: Lockstep) -> Result<Barrier, String> {
        let subject = format!("hio.lockstep.{}", cfg.run);
        let mut sub = client
            .subscribe(subject.clone())
            .await
            .map_err(|e| format!("lockstep: cannot subscribe to {subject}: {e}"))?;
        let board = Arc::new(Mutex::new(Board::default()));
        let news = Arc::new(Notify::new());
        let (b, n, c, s, me) = (
            Arc::clone(&board),
            Arc::clone(&news),
            client.clone(),
            subject.clone(),
            host.clone(),
        );
        let known: Vec<String> = cfg.hosts.clone();
        tokio::spawn(async move {
            while let Some(m) = sub.next().await {
                let Some(h) = m.headers.as_ref() else {
                    continue;
                };
                let (Some(from), Some(tick)) = (h.get("Hio-Host"), h.get("Hio-Tick")) else {
                    continue;
                };
                let (from, Ok(tick)) = (from.as_str().to_owned(), tick.as_str().parse::<u64>())
                else {
                    continue;
                };
                if from == me || !known.contains(&from) {
                    continue;
                }
                if h.get("Hio-Left").is_some() {
                    lock(&b).left.insert(from, tick);
                    n.notify_waiters();
                    continue;
                }
                let answer = {
                    let mut board = lock(&b);
                    if tick < board.at {
                        // A tick this host has passed: the sender missed
                        // this host's message for it.
                        board.mine.get(&tick).cloned()
                    } else {
                        board
                            .got
                            .entry(tick)
                            .or_default()
                            .insert(from, m.payload.to_vec());
                        None
                    }
                };
                match answer {
                    Some(payload) => {
                        let _ = c
                            .publish_with_headers(s.clone(), headers(&me, tick), payload.into())
                            .await;
                    }
                    None => n.notify_waiters(),
                }
            }
        });
        Ok(Barrier {
            client,
            subject,
            host,
            cfg,
            board,
            news,
        })
    }

    /// Tells the other hosts this one's run is over: from `tick` on they do
    /// not wait for it.
    pub async fn leave(&self, tick: u64) {
        let mut h = headers(&self.host, tick);
        h.insert("Hio-Left", "1");
        let _ = self
            .client
            .publish_with_headers(self.subject.clone(), h, Vec::new().into())
            .await;
        let _ = self.client.flush().await;
    }

    /// Publishes this host's message for `tick` and waits for every other
    /// host's; the messages of every host, in the run's host order.
    pub async fn wait(
        &self,
        tick: u64,
        payload: Vec<u8>,
    ) -> Result<Vec<(String, Vec<u8>)>, String> {
        {
            let mut board = lock(&self.board);
            board.mine.insert(tick, payload.clone());
            // Kept for a host that missed them: the previous tick's too.
            board.mine.retain(|t, _| *t + 2 > tick);
        }
        let deadline = tokio::time::Instant::now() + self.cfg.timeout;
        loop {
            let _ = self
                .client
                .publish_with_headers(
                    self.subject.clone(),
                    headers(&self.host, tick),
                    payload.clone().into(),
                )
                .await;
            let missing: Vec<String> = {
                let board = lock(&self.board);
                let got = board.got.get(&tick);
                self.cfg
                    .hosts
                    .iter()
                    .filter(|h| **h != self.host && !got.is_some_and(|g| g.contains_key(*h)))
                    .filter(|h| board.left.get(*h).is_none_or(|&t| t > tick))
                    .cloned()
                    .collect()
            };
            if missing.is_empty() {
                break;
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(format!(
                    "lockstep: no word from {} at tick {tick} within {:?}",
                    missing.join(", "),
                    self.cfg.timeout
                ));
            }
            let wait = (deadline - now).min(Duration::from_millis(100));
            let _ = tokio::time::timeout(wait, self.news.notified()).await;
        }
        let mut board = lock(&self.board);
        board.at = tick + 1;
        let mut got = board.got.remove(&tick).unwrap_or_default();
        got.insert(self.host.clone(), payload);
        Ok(self
            .cfg
            .hosts
            .iter()
            .filter_map(|h| got.remove(h).map(|p| (h.clone(), p)))
            .collect())
    }
}
