//! The cluster's runtime thread: one current-thread tokio runtime owning
//! the async-nats client, fed by the run's thread through a channel.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use async_nats::jetstream::{self, Message, consumer, stream};
use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::deck::{RemoteDeck, Shared};
use crate::lockstep::{Barrier, Lockstep};

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

/// Every host's message of one barrier, in the run's host order.
pub type Messages = Vec<(String, Vec<u8>)>;

/// What the run's thread asks of the runtime thread.
pub(crate) enum Cmd {
    Declare {
        deck: String,
        capacity: u64,
        max_item: usize,
        pull: bool,
        shared: Arc<Mutex<Shared>>,
        room: Arc<Notify>,
        recount: Arc<Notify>,
        reply: std::sync::mpsc::Sender<Result<(), String>>,
    },
    Publish {
        deck: String,
        id: String,
        item: Vec<u8>,
    },
    Ack(Box<Message>),
    Barrier {
        tick: u64,
        payload: Vec<u8>,
        reply: std::sync::mpsc::Sender<Result<Messages, String>>,
    },
    Leave {
        tick: u64,
        reply: std::sync::mpsc::Sender<()>,
    },
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

fn lock(s: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    s.lock().unwrap_or_else(PoisonError::into_inner)
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
        let js = jetstream::new(client);
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
    });
}

/// A publish sent and not yet confirmed: its id, its item, and the
/// server's answer to come.
type InFlight = (
    String,
    Vec<u8>,
    std::pin::Pin<
        Box<
            dyn std::future::Future<
                    Output = Result<
                        jetstream::publish::PublishAck,
                        jetstream::context::PublishError,
                    >,
                > + Send,
        >,
    >,
);

/// What a publisher waited for.
enum Next {
    Answer(Result<(), String>),
    Item(Option<(String, Vec<u8>)>),
}

/// Sends one publish; the answer to come, or why it could not be sent.
async fn send(
    js: &jetstream::Context,
    subject: &str,
    id: String,
    item: Vec<u8>,
) -> Result<InFlight, (String, Vec<u8>, String)> {
    let msg = jetstream::message::PublishMessage::build()
        .message_id(id.as_str())
        .payload(item.clone().into());
    match js.send_publish(subject.to_owned(), msg).await {
        Ok(ack) => Ok((id, item, Box::pin(ack.into_future()))),
        Err(e) => Err((id, item, e.to_string())),
    }
}

/// Publishes one deck's items in order, each with its message id, keeping
/// up to `WINDOW` in flight; when the server fails one, every one still in
/// flight is sent again after a back-off (the ids make a second copy of
/// one that did arrive a duplicate the server drops).
async fn publisher(
    js: jetstream::Context,
    subject: String,
    mut rx: UnboundedReceiver<(String, Vec<u8>)>,
    shared: Arc<Mutex<Shared>>,
) {
    const WINDOW: usize = 256;
    let mut inflight: std::collections::VecDeque<InFlight> = Default::default();
    let mut retry: Vec<(String, Vec<u8>)> = Vec::new();
    let mut backoff = Duration::from_millis(50);
    let mut open = true;
    loop {
        // Send what waits: a retry first, then new items.
        let mut failed = None;
        for (id, item) in std::mem::take(&mut retry) {
            match send(&js, &subject, id, item).await {
                Ok(f) => inflight.push_back(f),
                Err((id, item, why)) => {
                    retry.push((id, item));
                    failed = Some(why);
                }
            }
        }
        while failed.is_none() && open && inflight.len() < WINDOW {
            match rx.try_recv() {
                Ok((id, item)) => match send(&js, &subject, id, item).await {
                    Ok(f) => inflight.push_back(f),
                    Err((id, item, why)) => {
                        retry.push((id, item));
                        failed = Some(why);
                    }
                },
                Err(tokio::sync::mpsc::error::TryRecvError::Empty) => break,
                Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => open = false,
            }
        }
        if failed.is_none() {
            if inflight.is_empty() {
                if !open && retry.is_empty() {
                    return;
                }
                match rx.recv().await {
                    Some(x) => retry.push(x),
                    None => open = false,
                }
                continue;
            }
            // The oldest answer, or a new item while there is room.
            let room = open && inflight.len() < WINDOW;
            let Some(oldest) = inflight.front_mut() else {
                continue;
            };
            let next = tokio::select! {
                answer = &mut oldest.2 => Next::Answer(answer.map(drop).map_err(|e| e.to_string())),
                x = rx.recv(), if room => Next::Item(x),
            };
            match next {
                Next::Answer(Ok(())) => {
                    inflight.pop_front();
                    let mut s = lock(&shared);
                    s.unconfirmed = s.unconfirmed.saturating_sub(1);
                    s.confirmed += 1;
                    backoff = Duration::from_millis(50);
                    continue;
                }
                Next::Answer(Err(why)) => failed = Some(why),
                Next::Item(Some(x)) => {
                    retry.push(x);
                    continue;
                }
                Next::Item(None) => {
                    open = false;
                    continue;
                }
            }
        }
        // Something failed: everything in flight goes again, in order.
        let why = failed.unwrap_or_default();
        let again: Vec<(String, Vec<u8>)> =
            inflight.drain(..).map(|(id, item, _)| (id, item)).collect();
        retry.splice(0..0, again);
        {
            let mut s = lock(&shared);
            // A full stream is back pressure, not an outage.
            if !why.contains("maximum messages") {
                s.down.get_or_insert(why);
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(2));
    }
}

/// Refreshes the deck's count of stored items (work-queue retention: the
/// items no consumer has acknowledged), every 20 ms.
async fn counter(mut stream: stream::Stream, shared: Arc<Mutex<Shared>>, recount: Arc<Notify>) {
    loop {
        match stream.info().await {
            Ok(info) => {
                let mut s = lock(&shared);
                s.depth = info.state.messages;
                s.since_count = s.unconfirmed;
                if s.unconfirmed == 0 {
                    s.down = None;
                }
            }
            Err(e) => {
                let mut s = lock(&shared);
                s.down.get_or_insert_with(|| e.to_string());
            }
        }
        // Every 20 ms, or sooner (at most every millisecond) when a push
        // found the deck full by the last count.
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(20)) => {}
            () = recount.notified() => tokio::time::sleep(Duration::from_millis(1)).await,
        }
    }
}

/// How long the server waits for a fetched item's acknowledgement before it
/// gives the item to another puller.
const ACK_WAIT: Duration = Duration::from_secs(5);

/// How a deck's items are fetched.
struct Fetch {
    prefetch: usize,
    max_item: usize,
    deck: String,
}

/// Keeps up to `prefetch` items fetched ahead from the durable consumer.
/// An item over the deck's `max_item` (published by something that is not
/// a host of this run) is refused for good and never handed over.
async fn fetcher(
    consumer: consumer::Consumer<consumer::pull::Config>,
    shared: Arc<Mutex<Shared>>,
    room: Arc<Notify>,
    fetch: Fetch,
) {
    let Fetch {
        prefetch,
        max_item,
        deck,
    } = fetch;
    let mut told = tokio::time::Instant::now();
    // Pulls kept outstanding by async-nats, a batch of `prefetch` at a
    // time; read only while the inbox has room.
    let mut stream = None;
    loop {
        if told.elapsed() >= ACK_WAIT / 2 {
            // Fetched and not yet taken: tell the server they are in
            // progress, so it does not give them to another host.
            let waiting: Vec<Message> = lock(&shared).inbox.iter().cloned().collect();
            for m in waiting {
                let _ = m.ack_with(jetstream::AckKind::Progress).await;
            }
            told = tokio::time::Instant::now();
        }
        let want = prefetch.saturating_sub(lock(&shared).inbox.len());
        if want == 0 {
            tokio::select! {
                () = room.notified() => {}
                () = tokio::time::sleep(ACK_WAIT / 2) => {}
            }
            continue;
        }
        if stream.is_none() {
            match consumer
                .stream()
                .max_messages_per_batch(prefetch)
                .messages()
                .await
            {
                Ok(s) => stream = Some(s),
                Err(e) => {
                    lock(&shared).down.get_or_insert_with(|| e.to_string());
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            }
        }
        let Some(messages) = stream.as_mut() else {
            continue;
        };
        let next = tokio::select! {
            m = messages.next() => m,
            () = tokio::time::sleep(ACK_WAIT / 2) => continue,
        };
        match next {
            None => stream = None,
            Some(Err(e)) => {
                lock(&shared).down.get_or_insert_with(|| e.to_string());
                stream = None;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Some(Ok(m)) => {
                {
                    if m.payload.len() > max_item {
                        eprintln!(
                            "hio: cluster: deck {deck:?}: an item of {} bytes, over its max_item ({max_item}), refused",
                            m.payload.len()
                        );
                        lock(&shared).refused += 1;
                        tokio::spawn(async move {
                            let _ = m.ack_with(jetstream::AckKind::Term).await;
                        });
                        continue;
                    }
                    let again = m.info().is_ok_and(|i| {
                        let s = lock(&shared);
                        let seq = i.stream_sequence;
                        s.was_taken(seq)
                            || s.inbox
                                .iter()
                                .any(|h| h.info().is_ok_and(|hi| hi.stream_sequence == seq))
                    });
                    if again {
                        // Taken before the server lost its acknowledgement.
                        tokio::spawn(async move {
                            let _ = m.ack().await;
                        });
                    } else {
                        lock(&shared).inbox.push_back(m);
                    }
                }
            }
        }
    }
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}
