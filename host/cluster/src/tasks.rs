//! The tasks the cluster's runtime thread keeps for each remote deck: its
//! publisher (items in order, a window in flight, retried with their ids),
//! its counter (the stream's stored items), and on a host that pulls, its
//! fetcher (items fetched ahead from the durable consumer).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, Message, consumer, stream};
use futures_util::StreamExt;
use tokio::sync::Notify;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::deck::{Shared, lock};

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
pub(crate) async fn publisher(
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
pub(crate) async fn counter(
    mut stream: stream::Stream,
    shared: Arc<Mutex<Shared>>,
    recount: Arc<Notify>,
) {
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
        // Every 20 ms, or sooner when a push found the deck full by the
        // last count (at most every 5 ms: each count is a JSON request the
        // server answers).
        tokio::select! {
            () = tokio::time::sleep(Duration::from_millis(20)) => {}
            () = recount.notified() => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

/// How long the server waits for a fetched item's acknowledgement before it
/// gives the item to another puller.
pub(crate) const ACK_WAIT: Duration = Duration::from_secs(5);

/// How a deck's items are fetched.
pub(crate) struct Fetch {
    pub prefetch: usize,
    pub max_item: usize,
    pub deck: String,
}

/// Keeps up to `prefetch` items fetched ahead from the durable consumer.
/// An item over the deck's `max_item` (published by something that is not
/// a host of this run) is refused for good and never handed over.
pub(crate) async fn fetcher(
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
