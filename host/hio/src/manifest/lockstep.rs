//! Lockstep hosts (`[cluster] lockstep = true`): every host of the run
//! ticks together, and a remote deck is a deck between crews whose barrier
//! is carried by NATS. Host i of `hosts` is crew i+1: its pushes wait in
//! its outbox; at the end of each tick every host sends its outboxes (and
//! the length of each deck it pulls from) in its barrier message, and every
//! host then delivers all hosts' items in host order and shares out the
//! room left among the hosts that push to the deck, as one process with
//! crews does at its tick barrier.
//!
//! Each barrier's answer (every host's message) is an input of the run: a
//! recording keeps it as a `lockstep barrier` call (op 36) of the host, and
//! a replay takes it from there, without a server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hio_cluster::{Cluster, Lockstep};
use hio_io::wire::{Dec, Enc, Op};
use hio_scheduler::{Decks, Services, Tick, WaitEnd, WallClock};
use hio_wasm::Tape;

use super::cluster::ClusterSettings;
use super::root::Manifest;
use super::tree::Node;

/// One remote deck, as this host sees it.
struct Remote {
    name: String,
    /// The host that pulls from it, if one does.
    puller: Option<String>,
    pulled_here: bool,
}

/// The services of a lockstep host: the run's own, then the barrier.
pub struct LockstepService {
    inner: Option<Box<dyn Services>>,
    /// The link to the other hosts (none in a replay).
    cluster: Option<Arc<Cluster>>,
    /// The run's wire log, recording or replaying the barriers' answers.
    tape: Option<Tape>,
    decks: Decks,
    me: usize,
    /// This host's name.
    host: String,
    /// The first barrier's message (the decks this host pushes to and
    /// pulls from), and its answer once a live run has it.
    hello: (Vec<u8>, Option<Answer>),
    /// The manifest's remote decks.
    names: Vec<String>,
    /// The remote decks, known from the first barrier on.
    remote: Option<Vec<Remote>>,
    tick: u64,
    halted: Arc<AtomicBool>,
}

/// Every host's message at one barrier, in host order.
type Answer = Vec<(String, Vec<u8>)>;

/// The remote decks `nodes` push to and pull from.
fn grants(nodes: &[Node], push: &mut Vec<String>, pull: &mut Vec<String>) {
    for n in nodes {
        let (g, kids) = match n {
            Node::Leaf(l) => (&l.grants, None),
            Node::Group(g) => (&g.grants, Some(&g.doers)),
        };
        push.extend(g.push.iter().cloned());
        pull.extend(g.pull.iter().cloned());
        if let Some(k) = kids {
            grants(k, push, pull);
        }
    }
}

fn names(list: &[String]) -> Vec<u8> {
    let mut e = Enc::default();
    e.uint(list.len() as u64);
    for n in list {
        e.str(n);
    }
    e.into_bytes()
}

fn read_names(d: &mut Dec<'_>) -> Result<Vec<String>, String> {
    let n = d.uint()?;
    (0..n).map(|_| d.string()).collect()
}

/// This host's index in `hosts`, and its crew number (index + 1).
pub(super) fn crew_of(c: &ClusterSettings) -> Option<u32> {
    let l = c.lockstep.as_ref()?;
    l.hosts
        .iter()
        .position(|h| *h == c.host)
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// Connects (not in a replay) and waits at the first barrier for the
/// other hosts; the decks between hosts are settled at the first tick
/// ([`LockstepService::settle`]). `halted` is set when a barrier fails.
pub(super) fn start(
    manifest: &Manifest,
    c: &ClusterSettings,
    decks: &Decks,
    inner: Option<Box<dyn Services>>,
    halted: Arc<AtomicBool>,
    tape: Option<Tape>,
) -> Result<LockstepService, String> {
    let l = c.lockstep.as_ref().ok_or("not a lockstep run")?;
    let me = l
        .hosts
        .iter()
        .position(|h| *h == c.host)
        .ok_or("this host is not in `hosts`")?;
    let (mut push, mut pull) = (Vec::new(), Vec::new());
    grants(&manifest.doers, &mut push, &mut pull);
    push.retain(|d| manifest.remote_decks.contains(d));
    pull.retain(|d| manifest.remote_decks.contains(d));
    push.sort();
    push.dedup();
    pull.sort();
    pull.dedup();
    let mut hello = names(&push);
    hello.extend(names(&pull));
    let replaying = tape.as_ref().is_some_and(Tape::replaying);
    let (cluster, answer) = if replaying {
        (None, None)
    } else {
        let cluster = Arc::new(Cluster::connect(c.link(Some(Lockstep {
            run: l.run.clone(),
            hosts: l.hosts.clone(),
            timeout: l.barrier_timeout.max(c.connect_timeout),
        })))?);
        let answer = cluster.barrier(0, hello.clone())?;
        (Some(cluster), Some(answer))
    };
    let mut service = LockstepService {
        inner,
        cluster,
        tape,
        decks: decks.clone(),
        me,
        host: c.host.clone(),
        hello: (hello, answer),
        names: manifest.remote_decks.iter().cloned().collect(),
        remote: None,
        tick: 1,
        halted,
    };
    if service.tape.is_none() {
        // Without a wire log, settle now (a bad answer fails the build).
        let all = service.hello.1.take().unwrap_or_default();
        service.settle(&all)?;
    }
    Ok(service)
}

impl LockstepService {
    /// Agrees with the other hosts on who pushes to and pulls from each
    /// remote deck, from the first barrier's answer `all`, and makes the
    /// remote decks decks between crews.
    fn settle(&mut self, all: &Answer) -> Result<(), String> {
        let mut remote = Vec::new();
        for deck in &self.names {
            let (mut senders, mut pullers) = (Vec::new(), Vec::new());
            for (i, (host, msg)) in all.iter().enumerate() {
                let mut d = Dec::new(msg);
                let (p, q) = read_names(&mut d)
                    .and_then(|p| read_names(&mut d).map(|q| (p, q)))
                    .map_err(|e| format!("lockstep: {host}'s first message: {e}"))?;
                if p.contains(deck) {
                    senders.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
                }
                if q.contains(deck) {
                    pullers.push(i);
                }
            }
            if pullers.len() > 1 {
                let who: Vec<&str> = pullers.iter().map(|&i| all[i].0.as_str()).collect();
                return Err(format!(
                    "lockstep: deck {deck:?} is pulled from by {}: a remote deck is pulled from on one host",
                    who.join(" and ")
                ));
            }
            self.decks.cross(deck, senders);
            let puller = pullers.first().map(|&i| all[i].0.clone());
            remote.push(Remote {
                name: deck.clone(),
                pulled_here: puller.as_deref() == Some(self.host.as_str()),
                puller,
            });
        }
        self.remote = Some(remote);
        Ok(())
    }

    /// The answer of barrier `tick` to `msg`: from the other hosts, or
    /// from the wire log in a replay; recorded when there is a log.
    fn barrier(&mut self, tick: u64, msg: Vec<u8>) -> Result<Answer, String> {
        let cached = if tick == 0 { self.hello.1.take() } else { None };
        let cluster = self.cluster.clone();
        let args = (tick, msg.clone());
        let live = move || match (cached, cluster) {
            (Some(answer), _) => Ok(answer),
            (None, Some(c)) => c.barrier(tick, msg),
            (None, None) => Err("no link to the other hosts".to_owned()),
        };
        match &self.tape {
            Some(tape) => tape.host_call(Op::LockstepBarrier, &args, live),
            None => live(),
        }
    }

    /// This host's barrier message: per remote deck, its outbox and, where
    /// it pulls from the deck, the deck's length.
    fn message(&self, remote: &[Remote]) -> Vec<u8> {
        let crew = u32::try_from(self.me + 1).unwrap_or(u32::MAX);
        let mut e = Enc::default();
        for r in remote {
            let items = self.decks.take_outbox(&r.name, crew);
            e.uint(items.len() as u64);
            for i in &items {
                e.bytes(i);
            }
            e.uint(if r.pulled_here {
                self.decks.len(&r.name).unwrap_or(0) as u64
            } else {
                0
            });
        }
        e.into_bytes()
    }

    /// Delivers every host's items in host order, then shares the room.
    fn deliver(&self, remote: &[Remote], all: &[(String, Vec<u8>)]) -> Result<(), String> {
        let mut parsed = Vec::with_capacity(all.len());
        for (host, msg) in all {
            let read = || -> Result<_, String> {
                let mut d = Dec::new(msg);
                let mut per = Vec::with_capacity(remote.len());
                for _ in remote {
                    let n = d.uint()?;
                    let items = (0..n).map(|_| d.bytes()).collect::<Result<Vec<_>, _>>()?;
                    let len = d.uint()?;
                    per.push((items, len));
                }
                d.finish()?;
                Ok(per)
            };
            parsed.push(read().map_err(|e| format!("{host}: a malformed barrier message: {e}"))?);
        }
        for (k, r) in remote.iter().enumerate() {
            // The puller's count; a puller whose run is over takes nothing
            // more, so its deck has no room.
            let held = match &r.puller {
                None => 0,
                Some(p) => all
                    .iter()
                    .position(|(h, _)| h == p)
                    .map_or(usize::MAX, |i| parsed[i][k].1 as usize),
            };
            let mut delivered = 0;
            for ((host, _), per) in all.iter().zip(&mut parsed) {
                let items = std::mem::take(&mut per[k].0);
                delivered += items.len();
                if r.pulled_here {
                    let refused = self.decks.append(&r.name, items);
                    if refused > 0 {
                        eprintln!(
                            "hio: lockstep: {refused} items from {host} on deck {:?} broke \
                             its bounds (max_item, capacity) and were refused",
                            r.name
                        );
                    }
                }
            }
            self.decks
                .share_room_at(&r.name, held.saturating_add(delivered));
        }
        Ok(())
    }

    /// Stops this host with `why`.
    fn halt(&self, why: &str) {
        eprintln!("hio: {why}; this host stops");
        self.halted.store(true, Ordering::Relaxed);
    }
}

impl Services for LockstepService {
    fn before(&mut self, tick: Tick) {
        if self.remote.is_none() && !self.halted.load(Ordering::Relaxed) {
            // With a wire log the first barrier's answer is recorded (or
            // replayed) here, inside the first tick.
            let hello = self.hello.0.clone();
            if let Err(e) = self.barrier(0, hello).and_then(|all| self.settle(&all)) {
                self.halt(&e);
            }
        }
        if let Some(s) = self.inner.as_mut() {
            s.before(tick);
        }
    }

    fn after(&mut self, tyme: f64) {
        if let Some(s) = self.inner.as_mut() {
            s.after(tyme);
        }
        if self.halted.load(Ordering::Relaxed) {
            return;
        }
        let Some(remote) = self.remote.take() else {
            return;
        };
        let msg = self.message(&remote);
        let done = self
            .barrier(self.tick, msg)
            .and_then(|all| self.deliver(&remote, &all));
        self.remote = Some(remote);
        if let Err(e) = done {
            self.halt(&e);
        }
        self.tick += 1;
    }

    fn end(&mut self, last: Tick) {
        if let Some(s) = self.inner.as_mut() {
            s.end(last);
        }
        // The others go on without this host.
        if let Some(c) = &self.cluster {
            c.leave(self.tick);
        }
    }

    fn wait(&mut self, clock: &dyn WallClock, timeout: Duration) -> WaitEnd {
        match self.inner.as_mut() {
            Some(s) => s.wait(clock, timeout),
            None => {
                if !timeout.is_zero() {
                    clock.sleep(timeout);
                }
                WaitEnd::Elapsed
            }
        }
    }
}
