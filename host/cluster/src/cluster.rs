//! The cluster's runtime thread: one current-thread tokio runtime owning
//! the async-nats client, fed by the run's thread through a channel.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use tokio::sync::Notify;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::deck::{Cmd, RemoteDeck, Shared, lock};
use crate::lockstep::{Barrier, Lockstep, Messages};
use crate::tasks::{ACK_WAIT, Fetch, counter, fetcher, publisher};

/// How this host reaches the cluster (`[cluster]` in a manifest).
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// Server URLs (`nats://host:port`, `tls://host:port`).
    pub urls: Vec<String>,
    /// This host's name: part of every message id it publishes and of its
    /// durable consumers' names.
    pub host: String,
    /// A NATS credentials file.
    pub creds: Option<PathBuf>,
    /// Root certificates (PEM) to trust for TLS to the server.
    pub roots: Vec<PathBuf>,
    /// How long the server remembers message ids (a retry within it is
    /// never a second item).
    pub duplicate_window: Duration,
    /// Items fetched ahead per pulled deck.
    pub prefetch: usize,
    /// How long to wait for the first connection.
    pub connect_timeout: Duration,
    /// Tick together with the other hosts (`[cluster] lockstep = true`).
    pub lockstep: Option<Lockstep>,
}

impl ClusterConfig {
    /// A config for `urls` as host `host`, with the defaults.
    pub fn new(urls: Vec<String>, host: impl Into<String>) -> ClusterConfig {
        ClusterConfig {
            urls,
            host: host.into(),
            creds: None,
            roots: Vec::new(),
            duplicate_window: Duration::from_secs(120),
            prefetch: 64,
            connect_timeout: Duration::from_secs(10),
            lockstep: None,
        }
    }
}

/// This host's link to the cluster.
pub struct Cluster {
    host: String,
    /// This start of the host, unique among its starts: wall time and
    /// process id, in hex.
    start: String,
    cmds: Option<UnboundedSender<Cmd>>,
    thread: Option<JoinHandle<()>>,
    rooms: Mutex<BTreeMap<String, Arc<Notify>>>,
}

/// A stream's name for deck `deck`, and its subject.
fn names(deck: &str) -> (String, String) {
    (format!("hio_deck_{deck}"), format!("hio.deck.{deck}"))
}

/// A name for this start of the host: the wall clock's nanoseconds and the
/// process id, in hex (two starts of one host never share both).
fn start_id() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{nanos:x}{:x}", std::process::id())
}

impl Cluster {
    /// Connects (waiting at most `connect_timeout` for the first
    /// connection) and starts the runtime thread.
    pub fn connect(cfg: ClusterConfig) -> Result<Cluster, String> {
        let (cmds, rx) = unbounded_channel();
        let (ready, connected) = std::sync::mpsc::channel();
        let host = cfg.host.clone();
        let timeout = cfg.connect_timeout;
        let thread = std::thread::Builder::new()
            .name("hio-cluster".into())
            .spawn(move || run(cfg, rx, ready))
            .map_err(|e| format!("cannot start the cluster's thread: {e}"))?;
        match connected.recv_timeout(timeout + Duration::from_secs(1)) {
            Ok(Ok(())) => Ok(Cluster {
                host,
                start: start_id(),
                cmds: Some(cmds),
                thread: Some(thread),
                rooms: Mutex::default(),
            }),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(format!("no answer from the cluster within {timeout:?}")),
        }
    }

    /// Declares remote deck `deck` (its stream, and with `pull` this host's
    /// durable consumer of it).
    pub fn deck(
        &self,
        deck: &str,
        capacity: u64,
        max_item: usize,
        pull: bool,
    ) -> Result<RemoteDeck, String> {
        let cmds = self.cmds.clone().ok_or("the cluster has stopped")?;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let room = Arc::new(Notify::new());
        let recount = Arc::new(Notify::new());
        let (reply, answer) = std::sync::mpsc::channel();
        cmds.send(Cmd::Declare {
            deck: deck.to_owned(),
            capacity,
            max_item,
            pull,
            shared: Arc::clone(&shared),
            room: Arc::clone(&room),
            recount: Arc::clone(&recount),
            reply,
        })
        .map_err(|_| "the cluster has stopped".to_owned())?;
        answer
            .recv_timeout(Duration::from_secs(30))
            .map_err(|_| format!("deck {deck:?}: no answer from the cluster"))??;
        self.rooms
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(deck.to_owned(), room.clone());
        Ok(RemoteDeck {
            name: deck.to_owned(),
            host: self.host.clone(),
            start: self.start.clone(),
            capacity,
            max_item,
            shared,
            cmds,
            room,
            recount,
        })
    }
}

impl Cluster {
    /// The lockstep barrier of tick `tick`: publishes `payload` and waits
    /// for every host's message of the same tick; all of them, in the
    /// run's host order. An error names the hosts that did not answer in
    /// time.
    pub fn barrier(&self, tick: u64, payload: Vec<u8>) -> Result<Messages, String> {
        let cmds = self.cmds.as_ref().ok_or("the cluster has stopped")?;
        let (reply, answer) = std::sync::mpsc::channel();
        cmds.send(Cmd::Barrier {
            tick,
            payload,
            reply,
        })
        .map_err(|_| "the cluster has stopped".to_owned())?;
        answer
            .recv()
            .map_err(|_| "the cluster has stopped".to_owned())?
    }
}

impl Cluster {
    /// Lockstep: this host's run is over; the others stop waiting for it
    /// from barrier `tick` on.
    pub fn leave(&self, tick: u64) {
        let Some(cmds) = self.cmds.as_ref() else {
            return;
        };
        let (reply, answer) = std::sync::mpsc::channel();
        if cmds.send(Cmd::Leave { tick, reply }).is_ok() {
            let _ = answer.recv_timeout(Duration::from_secs(5));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // The runtime thread ends once every sender is gone and what was
        // pushed is confirmed (or it gives up after a while).
        self.cmds.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The runtime thread's body.
fn run(
    cfg: ClusterConfig,
    mut rx: UnboundedReceiver<Cmd>,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
) {
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(format!("cannot start the cluster's runtime: {e}")));
            return;
        }
    };
    rt.block_on(async move {
        let host = cfg.host.clone();
        // Every deck's state, for the connection's events to mark.
        let all_decks: Arc<Mutex<Vec<Arc<Mutex<Shared>>>>> = Arc::default();
        let mut opts = async_nats::ConnectOptions::new()
            .connection_timeout(cfg.connect_timeout)
            .retry_on_initial_connect()
            // What happens to the link is the host's news, on stderr like
            // the host's other messages.
            // Each change of state once, and a run of the same error once.
            .event_callback({
                let (decks, last) = (Arc::clone(&all_decks), Arc::new(Mutex::new(String::new())));
                move |event| {
                    let (host, decks, last) = (host.clone(), Arc::clone(&decks), Arc::clone(&last));
                    async move {
                        let text = event.to_string();
                        let down = match event {
                            async_nats::Event::Disconnected => Some(Some(text.clone())),
                            async_nats::Event::Connected => Some(None),
                            _ => None,
                        };
                        if let Some(down) = down {
                            let decks = decks.lock().unwrap_or_else(PoisonError::into_inner);
                            for d in decks.iter() {
                                lock(d).down =
                                    down.as_ref().map(|why| format!("{why} from the server"));
                            }
                        }
                        let mut last = last.lock().unwrap_or_else(PoisonError::into_inner);
                        if *last != text {
                            eprintln!("hio: cluster ({host}): {text}");
                            *last = text;
                        }
                    }
                }
            });
        if let Some(creds) = &cfg.creds {
            opts = match opts.credentials_file(creds).await {
                Ok(o) => o,
                Err(e) => {
                    let _ = ready.send(Err(format!("{}: {e}", creds.display())));
                    return;
                }
            };
        }
        for root in &cfg.roots {
            opts = opts.add_root_certificates(root.clone()).require_tls(true);
        }
        let client =
            match tokio::time::timeout(cfg.connect_timeout, opts.connect(cfg.urls.join(","))).await
            {
                Ok(Ok(c)) => c,
                Ok(Err(e)) => {
                    let _ = ready.send(Err(format!(
                        "cannot connect to {}: {e}",
                        cfg.urls.join(", ")
                    )));
                    return;
                }
                Err(_) => {
                    let _ = ready.send(Err(format!(
                        "cannot connect to {} within {:?}",
                        cfg.urls.join(", "),
                        cfg.connect_timeout
                    )));
                    return;
                }
            };
        let barrier = match cfg.lockstep.clone() {
            Some(l) => match Barrier::start(client.clone(), cfg.host.clone(), l).await {
                Ok(b) => Some(b),
                Err(e) => {
                    let _ = ready.send(Err(e));
                    return;
                }
            },
            None => None,
        };
        let _ = ready.send(Ok(()));
        let js = jetstream::new(client.clone());
        let mut publishers: BTreeMap<String, UnboundedSender<(String, Vec<u8>)>> = BTreeMap::new();
        let mut publishing = Vec::new();
        while let Some(cmd) = rx.recv().await {
            match cmd {
                Cmd::Declare {
                    deck,
                    capacity,
                    max_item,
                    pull,
                    shared,
                    room,
                    recount,
                    reply,
                } => {
                    let (name, subject) = names(&deck);
                    let config = stream::Config {
                        name: name.clone(),
                        subjects: vec![subject.clone()],
                        retention: stream::RetentionPolicy::WorkQueue,
                        discard: stream::DiscardPolicy::New,
                        max_messages: i64::try_from(capacity).unwrap_or(i64::MAX),
                        max_message_size: i32::try_from(max_item.saturating_add(1024))
                            .unwrap_or(i32::MAX),
                        duplicate_window: cfg.duplicate_window,
                        ..Default::default()
                    };
                    let made = js.get_or_create_stream(config).await;
                    let stream = match made {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = reply.send(Err(format!("deck {deck:?}: stream {name}: {e}")));
                            continue;
                        }
                    };
                    all_decks
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(Arc::clone(&shared));
                    let (ptx, prx) = unbounded_channel();
                    publishers.insert(deck.clone(), ptx);
                    publishing.push(tokio::spawn(publisher(
                        js.clone(),
                        subject,
                        prx,
                        Arc::clone(&shared),
                    )));
                    tokio::spawn(counter(
                        stream.clone(),
                        Arc::clone(&shared),
                        Arc::clone(&recount),
                    ));
                    if pull {
                        // One durable consumer per deck, shared by every host that
                        // pulls from it: each item goes to one of them.
                        let durable = format!("hio-{deck}");
                        let c = stream
                            .get_or_create_consumer(
                                &durable,
                                consumer::pull::Config {
                                    durable_name: Some(durable.clone()),
                                    ack_policy: consumer::AckPolicy::Explicit,
                                    // An item fetched by a host that died is
                                    // given to another after this long; one
                                    // still waiting here is kept in progress.
                                    ack_wait: ACK_WAIT,
                                    ..Default::default()
                                },
                            )
                            .await;
                        match c {
                            Ok(c) => {
                                let fetch = Fetch {
                                    prefetch: cfg.prefetch.max(1),
                                    max_item,
                                    deck: deck.clone(),
                                };
                                tokio::spawn(fetcher(c, Arc::clone(&shared), room, fetch));
                            }
                            Err(e) => {
                                let _ = reply
                                    .send(Err(format!("deck {deck:?}: consumer {durable}: {e}")));
                                continue;
                            }
                        }
                    }
                    let _ = reply.send(Ok(()));
                }
                Cmd::Publish { deck, id, item } => {
                    if let Some(p) = publishers.get(&deck) {
                        let _ = p.send((id, item));
                    }
                }
                Cmd::Ack(m) => {
                    tokio::spawn(async move {
                        let _ = m.ack().await;
                    });
                }
                Cmd::Leave { tick, reply } => {
                    if let Some(b) = &barrier {
                        b.leave(tick).await;
                    }
                    let _ = reply.send(());
                }
                Cmd::Barrier {
                    tick,
                    payload,
                    reply,
                } => {
                    let r = match &barrier {
                        Some(b) => b.wait(tick, payload).await,
                        None => Err("not a lockstep run".to_owned()),
                    };
                    let _ = reply.send(r);
                }
            }
        }
        // The run is over: let the publishers confirm what they hold.
        drop(publishers);
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            for t in publishing {
                let _ = t.await;
            }
        })
        .await;
        // And send what is still buffered: a lockstep host's message of
        // its last barrier may be, and the others wait for it.
        let _ = tokio::time::timeout(Duration::from_secs(2), client.flush()).await;
    });
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}
