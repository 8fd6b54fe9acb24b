//! A simulated connection between two ends: what is in flight each way,
//! when it is due, and the faults that befall it.

use std::collections::VecDeque;

use rand::RngExt;
use rand::rngs::ChaCha12Rng as StdRng;

use super::Faults;
use super::end::Shared;

/// Bytes a direction holds at most: not yet taken from the writer, in
/// flight, and delivered but not yet read (the kernel buffers of a real
/// connection). A writer beyond it gets `WouldBlock`.
pub(crate) const WINDOW: usize = 256 << 10;

/// Whether an event of probability `p` happens (never for `p` not above 0,
/// NaN included; always from 1 up).
pub(crate) fn roll(rng: &mut StdRng, p: f64) -> bool {
    p > 0.0 && rng.random_bool(p.min(1.0))
}

/// A count of ticks between the two bounds (either order).
pub(crate) fn span(rng: &mut StdRng, (a, b): (u32, u32)) -> u64 {
    let (lo, hi) = (a.min(b), a.max(b));
    if lo == hi {
        return u64::from(lo);
    }
    u64::from(rng.random_range(lo..=hi))
}

/// What travels on a direction.
enum Item {
    Data(Vec<u8>),
    Fin,
}

/// One direction of a link.
#[derive(Default)]
struct Dir {
    /// In order, each with the tick it is due at (never before the one
    /// ahead of it: a stream does not reorder).
    queue: VecDeque<(u64, Item)>,
    /// Data bytes in `queue`.
    flight: usize,
    /// No delivery before this tick.
    stall_until: u64,
    /// Closed early by a fault: nothing more goes through.
    cut: bool,
    /// The writer's end of stream is queued.
    fin_queued: bool,
    last_due: u64,
}

/// A connection in the simulated network: end 0 is the client's, end 1
/// the server's; direction `d` carries what end `d` writes.
pub(crate) struct Link {
    pub ends: [Shared; 2],
    dirs: [Dir; 2],
    /// The server's end was accepted by the host.
    pub accepted: bool,
    reset: bool,
    rng: StdRng,
}

impl Link {
    pub fn new(client: Shared, server: Shared, rng: StdRng) -> Link {
        Link {
            ends: [client, server],
            dirs: [Dir::default(), Dir::default()],
            accepted: false,
            reset: false,
            rng,
        }
    }

    /// Up and in use both ways, nothing finished: where faults strike.
    fn open(&self) -> bool {
        self.accepted
            && !self.reset
            && self.dirs.iter().all(|d| !d.cut && !d.fin_queued)
            && self.ends.iter().all(|e| {
                let e = e.lock();
                !e.closed && !e.eof
            })
    }

    /// Resets it: both ends fail their reads and writes, and nothing in
    /// flight arrives.
    pub fn reset(&mut self) {
        self.reset = true;
        for d in &mut self.dirs {
            d.queue.clear();
            d.flight = 0;
        }
        for e in &self.ends {
            let mut e = e.lock();
            e.reset = true;
            e.inbox.clear();
            e.outbox.clear();
        }
    }

    /// Closes direction `d` early: its reader sees the end of the stream
    /// after what it was delivered; what is in flight and what its writer
    /// writes later are lost.
    fn cut(&mut self, d: usize) {
        let dir = &mut self.dirs[d];
        dir.cut = true;
        dir.queue.clear();
        dir.flight = 0;
        self.ends[1 - d].lock().eof = true;
    }

    /// This tick's faults (before the delivery).
    pub fn strike(&mut self, tick: u64, f: &Faults) {
        if self.open() {
            if roll(&mut self.rng, f.reset) {
                self.reset();
                return;
            }
            if roll(&mut self.rng, f.half_close) {
                let d = usize::from(self.rng.random_bool(0.5));
                self.cut(d);
            }
        }
        if self.reset {
            return;
        }
        for dir in &mut self.dirs {
            if !dir.cut && tick >= dir.stall_until && roll(&mut self.rng, f.stall) {
                dir.stall_until = tick + span(&mut self.rng, f.stall_ticks);
            }
        }
    }

    /// Delivers what is due at `tick`: with `segment`, one piece of random
    /// size per direction and tick.
    pub fn deliver(&mut self, tick: u64, segment: bool) {
        for d in 0..2 {
            if self.reset {
                return;
            }
            if self.deliver_dir(d, tick, segment) {
                // Data reached an end that is gone: its peer is reset.
                self.reset();
            }
        }
    }

    /// Returns whether data reached a closed end.
    fn deliver_dir(&mut self, d: usize, tick: u64, segment: bool) -> bool {
        let Link {
            ends, dirs, rng, ..
        } = self;
        let dir = &mut dirs[d];
        if tick < dir.stall_until {
            return false;
        }
        while dir.queue.front().is_some_and(|(due, _)| *due <= tick) {
            let Some((due, item)) = dir.queue.pop_front() else {
                break;
            };
            let mut to = ends[1 - d].lock();
            match item {
                Item::Fin => to.eof = true,
                Item::Data(mut bytes) => {
                    if to.closed {
                        return true;
                    }
                    let k = if segment && bytes.len() > 1 {
                        rng.random_range(1..=bytes.len())
                    } else {
                        bytes.len()
                    };
                    to.inbox.extend(&bytes[..k]);
                    dir.flight = dir.flight.saturating_sub(k);
                    if k < bytes.len() {
                        bytes.drain(..k);
                        dir.queue.push_front((due, Item::Data(bytes)));
                    }
                    if segment {
                        break;
                    }
                }
            }
        }
        false
    }

    /// Takes what the ends wrote onto the link, due from tick `next` (the
    /// next delivery) plus the delay; then the end of stream of an end
    /// that shut or closed.
    pub fn collect(&mut self, next: u64, delay: (u32, u32)) {
        for d in 0..2 {
            let (bytes, fin, unread) = {
                let mut e = self.ends[d].lock();
                let bytes = std::mem::take(&mut e.outbox);
                (bytes, e.shut || e.closed, e.closed && !e.inbox.is_empty())
            };
            if self.reset {
                continue;
            }
            if unread {
                // Closing a socket with bytes unread resets the connection.
                self.reset();
                continue;
            }
            let dir = &mut self.dirs[d];
            if dir.cut {
                continue;
            }
            if !bytes.is_empty() {
                let due = (next + span(&mut self.rng, delay)).max(dir.last_due);
                dir.last_due = due;
                dir.flight += bytes.len();
                dir.queue.push_back((due, Item::Data(bytes)));
            }
            if fin && !dir.fin_queued {
                dir.fin_queued = true;
                let due = next.max(dir.last_due);
                dir.queue.push_back((due, Item::Fin));
            }
        }
    }

    /// Sets how much each end's writes may take now.
    pub fn refresh(&self) {
        for d in 0..2 {
            let unread = self.ends[1 - d].lock().inbox.len();
            let dir = &self.dirs[d];
            let mut e = self.ends[d].lock();
            let held = if dir.cut { 0 } else { dir.flight + unread };
            e.credit = WINDOW.saturating_sub(e.outbox.len() + held);
        }
    }

    /// Bytes or an end of stream in flight, or written and not yet taken.
    pub fn busy(&self) -> bool {
        !self.reset
            && (self.dirs.iter().any(|d| !d.queue.is_empty())
                || self.ends.iter().any(|e| !e.lock().outbox.is_empty()))
    }

    /// Both ends are gone: nothing more can happen on it.
    pub fn done(&self) -> bool {
        self.ends.iter().all(|e| e.lock().closed)
    }
}
