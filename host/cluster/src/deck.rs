//! Remote decks: a deck carried by a JetStream stream, pushed to and pulled
//! from by the run's thread without waiting, serviced by the cluster's
//! runtime thread.
//!
//! A push is taken when the deck has room by the last count the server gave
//! (the stream's messages, with work-queue retention: the items no consumer
//! has acknowledged) plus what this host published since; it is published
//! with the message id `<host>.<deck>.<start>.<sequence>`, retried with the
//! same id until the server acknowledges it, so a retry is never a second
//! item. `<start>` names this start of the host: a host started again
//! numbers its pushes from 1 again, and its new items must not be taken for
//! retries of the old ones within the stream's duplicate window. A
//! pull takes from items fetched ahead from the durable consumer
//! `hio-<deck>` (shared by the hosts that pull from the deck); the item is
//! acknowledged once taken.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

use async_nats::jetstream::Message;
use tokio::sync::mpsc::UnboundedSender;

use tokio::sync::Notify;

use crate::lockstep::Messages;

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

/// Why a push or pull was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    /// The deck holds its capacity, by the server's last count and this
    /// host's pushes since.
    #[error("remote deck is full")]
    Full,
    /// The item is larger than the deck's `max_item`.
    #[error("item is larger than the deck's max_item")]
    TooLarge,
    /// The server cannot be reached (or refused the deck): the reason.
    #[error("remote deck unreachable: {0}")]
    Unreachable(String),
}

/// What the run's thread and the runtime thread share about one deck.
#[derive(Default)]
pub(crate) struct Shared {
    /// Items fetched from the durable consumer, oldest first.
    pub inbox: VecDeque<Message>,
    /// The stream's messages at the last count.
    pub depth: u64,
    /// Pushes since the last count.
    pub since_count: u64,
    /// Published and not yet acknowledged by the server.
    pub unconfirmed: u64,
    /// The last push's sequence number.
    pub sequence: u64,
    /// Set while the server cannot be reached.
    pub down: Option<String>,
    /// Items the server confirmed (for figures).
    pub confirmed: u64,
    /// Items refused on arrival (over the deck's `max_item`).
    pub refused: u64,
    /// Stream sequences of the items doers took: an item the server
    /// delivers again (its acknowledgement lost when the server went down)
    /// is acknowledged again and not handed over twice.
    pub taken: std::collections::BTreeSet<u64>,
}

/// The shared state of a deck, whoever held the lock last.
pub(crate) fn lock(s: &Mutex<Shared>) -> std::sync::MutexGuard<'_, Shared> {
    s.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Taken sequences kept; the oldest go first (a redelivery comes within
/// the consumer's ack wait, long before this many newer items).
const TAKEN_KEPT: usize = 1 << 20;

impl Shared {
    /// Whether the item with stream sequence `seq` was taken already.
    pub fn was_taken(&self, seq: u64) -> bool {
        self.taken.contains(&seq)
    }

    fn take(&mut self, seq: u64) {
        self.taken.insert(seq);
        if self.taken.len() > TAKEN_KEPT {
            self.taken.pop_first();
        }
    }
}

/// One remote deck of this host.
#[derive(Clone)]
pub struct RemoteDeck {
    pub(crate) name: String,
    pub(crate) host: String,
    /// This start of the host (part of every message id).
    pub(crate) start: String,
    pub(crate) capacity: u64,
    pub(crate) max_item: usize,
    pub(crate) shared: Arc<Mutex<Shared>>,
    pub(crate) cmds: UnboundedSender<Cmd>,
    /// Wakes the fetcher when a pull makes room.
    pub(crate) room: Arc<tokio::sync::Notify>,
    /// Asks for a fresh count when a push found the deck full.
    pub(crate) recount: Arc<tokio::sync::Notify>,
}

impl RemoteDeck {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Shared> {
        lock(&self.shared)
    }

    /// The deck's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Pushes `item`, published in the background.
    pub fn push(&self, item: Vec<u8>) -> Result<(), RemoteError> {
        if item.len() > self.max_item {
            return Err(RemoteError::TooLarge);
        }
        let mut s = self.lock();
        if let Some(why) = &s.down {
            return Err(RemoteError::Unreachable(why.clone()));
        }
        if s.depth + s.since_count >= self.capacity {
            drop(s);
            self.recount.notify_one();
            return Err(RemoteError::Full);
        }
        s.sequence += 1;
        s.since_count += 1;
        s.unconfirmed += 1;
        let id = format!("{}.{}.{}.{}", self.host, self.name, self.start, s.sequence);
        drop(s);
        self.cmds
            .send(Cmd::Publish {
                deck: self.name.clone(),
                id,
                item,
            })
            .map_err(|_| RemoteError::Unreachable("the cluster has stopped".into()))
    }

    /// Takes the oldest item fetched, and acknowledges it.
    pub fn pull(&self) -> Result<Option<Vec<u8>>, RemoteError> {
        let mut s = self.lock();
        let Some(m) = s.inbox.pop_front() else {
            return match &s.down {
                Some(why) => Err(RemoteError::Unreachable(why.clone())),
                None => Ok(None),
            };
        };
        if let Ok(info) = m.info() {
            s.take(info.stream_sequence);
        }
        drop(s);
        self.room.notify_one();
        let item = m.payload.to_vec();
        let _ = self.cmds.send(Cmd::Ack(Box::new(m)));
        Ok(Some(item))
    }

    /// Size of the oldest item fetched, if any.
    pub fn front_len(&self) -> Option<usize> {
        self.lock().inbox.front().map(|m| m.payload.len())
    }

    /// Why the server cannot be reached now, if it cannot.
    pub fn down(&self) -> Option<String> {
        self.lock().down.clone()
    }

    /// Items fetched and not yet taken.
    pub fn fetched(&self) -> usize {
        self.lock().inbox.len()
    }

    /// Pushes the server has not confirmed yet.
    pub fn unconfirmed(&self) -> u64 {
        self.lock().unconfirmed
    }

    /// Items refused on arrival (over the deck's `max_item`).
    pub fn refused(&self) -> u64 {
        self.lock().refused
    }

    /// Pushes the server confirmed.
    pub fn confirmed(&self) -> u64 {
        self.lock().confirmed
    }
}

impl std::fmt::Debug for RemoteDeck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteDeck")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}
