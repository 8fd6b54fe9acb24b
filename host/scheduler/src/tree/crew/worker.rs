//! The threads crews run on: each crew stays on the thread it was entered
//! on, crews are dealt to threads in the order they are entered, and a panic
//! in one crew's call fails that crew only.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread;

use super::state::{CrewState, Entry, Reply};
use crate::services::Tick;

enum Job {
    /// Enter the crew; its replies go to the sender (kept until it drops).
    Enter(Box<Entry>, Sender<Reply>),
    Recur(Tick),
    Close(f64),
}

struct Message {
    key: u64,
    /// `None`: the crew is dropped.
    job: Option<Job>,
}

/// The worker threads of a run, started as crews need them.
pub(crate) struct Pool {
    threads: usize,
    workers: RefCell<Vec<Sender<Message>>>,
    next: Cell<u64>,
}

impl Pool {
    pub fn new(threads: usize) -> Pool {
        Pool {
            threads: threads.max(1),
            workers: RefCell::new(Vec::new()),
            next: Cell::new(0),
        }
    }

    /// A link to a new crew on the next thread in turn: `None` when that is
    /// the Doist's own thread (slot 0).
    pub fn remote(&self) -> Option<Remote> {
        let key = self.next.get();
        self.next.set(key + 1);
        let slot = (key % self.threads as u64) as usize;
        let slot = slot.checked_sub(1)?;
        let mut workers = self.workers.borrow_mut();
        while workers.len() <= slot {
            let (tx, rx) = channel();
            let n = workers.len();
            // A thread that cannot start leaves its crews failing on their
            // first call ("the crew's thread is gone"), not the host.
            let _ = thread::Builder::new()
                .name(format!("hio-crew-{n}"))
                .spawn(move || serve(rx));
            workers.push(tx);
        }
        let (reply, replies) = channel();
        Some(Remote {
            key,
            jobs: workers[slot].clone(),
            reply,
            replies,
            started: false,
        })
    }
}

/// A crew on a worker thread.
pub(crate) struct Remote {
    key: u64,
    jobs: Sender<Message>,
    reply: Sender<Reply>,
    replies: Receiver<Reply>,
    started: bool,
}

impl Remote {
    fn send(&self, job: Option<Job>) -> bool {
        self.jobs.send(Message { key: self.key, job }).is_ok()
    }

    fn wait(&mut self) -> Reply {
        self.started = false;
        take(&self.replies).unwrap_or_else(|| Reply::failed("the crew's thread is gone"))
    }

    fn call(&mut self, job: Job) -> Reply {
        if self.started {
            // A turn was started and never taken: take it first.
            let _ = self.wait();
        }
        if !self.send(Some(job)) {
            return Reply::failed("the crew's thread is gone");
        }
        self.started = true;
        self.wait()
    }

    pub fn enter(&mut self, entry: Entry) -> Reply {
        self.call(Job::Enter(Box::new(entry), self.reply.clone()))
    }

    pub fn close(&mut self, tyme: f64) -> Reply {
        self.call(Job::Close(tyme))
    }

    pub fn start(&mut self, tick: Tick) {
        if !self.started {
            self.started = self.send(Some(Job::Recur(tick)));
        }
    }

    pub fn started(&self) -> bool {
        self.started
    }

    pub fn join(&mut self) -> Reply {
        if !self.started {
            return Reply::failed("the crew's thread is gone");
        }
        self.wait()
    }
}

impl Drop for Remote {
    fn drop(&mut self) {
        if self.started {
            let _ = self.wait();
        }
        // Drops the crew's state on its thread.
        let _ = self.send(None);
    }
}

/// Turns of a spin on a channel before blocking on it: a tick's turns
/// follow each other within microseconds while a run is busy, and a thread
/// put to sleep and woken costs tens of them; an idle run (real time,
/// waiting for its next tock) blocks after a few microseconds. Every
/// [`YIELD_EVERY`] turns the thread yields, so a spinning crew does not keep
/// its core from another runnable thread (a load generator on the same
/// machine, say).
const SPINS: u32 = 2_000;
const YIELD_EVERY: u32 = 64;

/// The next message, spinning a little before blocking; `None` once the
/// other side is gone.
fn take<T>(rx: &Receiver<T>) -> Option<T> {
    for i in 1..=SPINS {
        match rx.try_recv() {
            Ok(v) => return Some(v),
            Err(std::sync::mpsc::TryRecvError::Disconnected) => return None,
            Err(std::sync::mpsc::TryRecvError::Empty) if i % YIELD_EVERY == 0 => {
                thread::yield_now();
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => std::hint::spin_loop(),
        }
    }
    rx.recv().ok()
}

/// A crew's failure reason for a panic in one of its calls.
pub(crate) fn panicked(panic: &(dyn std::any::Any + Send)) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_owned());
    format!("the crew's thread panicked: {what}")
}

/// A worker thread's loop: each message is one call on one of its crews.
fn serve(jobs: Receiver<Message>) {
    let mut crews: BTreeMap<u64, CrewState> = BTreeMap::new();
    let mut replies: BTreeMap<u64, Sender<Reply>> = BTreeMap::new();
    while let Some(Message { key, job }) = take(&jobs) {
        let Some(job) = job else {
            replies.remove(&key);
            if let Some(state) = crews.remove(&key) {
                // A doer that panics while it is dropped takes only itself.
                let _ = catch_unwind(AssertUnwindSafe(move || drop(state)));
            }
            continue;
        };
        if let Job::Enter(_, reply) = &job {
            replies.insert(key, reply.clone());
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| match job {
            Job::Enter(entry, _) => {
                let (state, reply) = CrewState::enter(*entry);
                if let Some(state) = state {
                    crews.insert(key, state);
                }
                reply
            }
            Job::Recur(tick) => match crews.get_mut(&key) {
                Some(state) => state.recur(tick),
                None => Reply::failed("the crew was not entered"),
            },
            Job::Close(tyme) => match crews.get_mut(&key) {
                Some(state) => state.close(tyme),
                None => Reply::default(),
            },
        }));
        let reply_now = match outcome {
            Ok(r) => r,
            Err(panic) => {
                if let Some(state) = crews.remove(&key) {
                    let _ = catch_unwind(AssertUnwindSafe(move || drop(state)));
                }
                Reply::failed(&panicked(panic.as_ref()))
            }
        };
        if let Some(reply) = replies.get(&key) {
            let _ = reply.send(reply_now);
        }
    }
}
