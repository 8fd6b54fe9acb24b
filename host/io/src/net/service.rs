//! The servicing of a [`Net`] between ticks: the [`NetService`] the Doist
//! calls before the doers' turn (accept, connect, receive, TLS, HTTP),
//! after it (flush) and between ticks (the wait), and when a network is
//! next due.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use hio_scheduler::{Services, Tick, WaitEnd, WallClock};

use super::api::Net;
use super::registry::Inner;
use crate::conn::{Conn, Sock};
use crate::sim::Connect;
use crate::state::End;

impl Inner {
    /// Takes what each listener has waiting, while its backlog and its
    /// owner's limit allow.
    fn accept_all(&mut self) {
        let ids: Vec<u64> = self.listeners.keys().copied().collect();
        for lid in ids {
            while let Some(l) = self.listeners.get(&lid) {
                let owner = l.owner;
                let limits = self.limits(owner);
                if !l.readable || l.pending.len() >= limits.backlog as usize {
                    break;
                }
                if self
                    .owners
                    .get(&owner)
                    .is_none_or(|o| o.held >= limits.connections)
                {
                    break;
                }
                let Inner {
                    backend, listeners, ..
                } = self;
                let l = listeners.get_mut(&lid).expect("present above");
                let (mut sock, peer) = match backend.accept(lid, &l.sock) {
                    Ok(pair) => pair,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        l.readable = false;
                        break;
                    }
                    // A client that reset before its accept, or a
                    // transient error: the listener goes on.
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::ConnectionAborted
                                | io::ErrorKind::ConnectionReset
                                | io::ErrorKind::Interrupted
                        ) =>
                    {
                        continue;
                    }
                    // Out of descriptors or the like: try again next tick.
                    Err(_) => break,
                };
                let tls = match &l.tls {
                    Some(cfg) => match rustls::ServerConnection::new(Arc::clone(cfg)) {
                        Ok(s) => Some(rustls::Connection::from(s)),
                        Err(_) => continue,
                    },
                    None => None,
                };
                let peer_key = (lid, peer.ip());
                let from_peer = self.peers.get(&peer_key).copied().unwrap_or(0);
                if from_peer >= limits.peer_connections {
                    // One peer holds its share of this listener already:
                    // this one closes at once (an HTTP client first reads
                    // why), and counts against no one.
                    let http = self.http.servers.values().any(|s| s.listener == lid);
                    if let (true, None, Sock::Tcp(s)) = (http, &tls, &mut sock) {
                        // What the client sent already is read first (a
                        // socket closed with bytes unread resets, and the
                        // reset can destroy the answer).
                        let mut scrap = [0u8; 4096];
                        for _ in 0..4 {
                            if !matches!(io::Read::read(s, &mut scrap), Ok(n) if n > 0) {
                                break;
                            }
                        }
                        let date = self.date();
                        let answer = crate::http::ResponseEncoder::simple(
                            503,
                            "too many connections from your address",
                            &date,
                        );
                        let _ = io::Write::write(s, &answer);
                        let _ = s.shutdown(std::net::Shutdown::Write);
                    }
                    continue;
                }
                let id = self.id();
                sock.no_delay();
                if self.backend.register(id, &mut sock).is_err() {
                    continue;
                }
                let mut c = Conn::new(owner, limits, tls);
                c.local = sock.local_addr().ok();
                c.peer = Some(peer);
                c.listener = Some(lid);
                *self.peers.entry(peer_key).or_insert(0) += 1;
                c.sock = Some(sock);
                c.readable = true;
                c.writable = true;
                if let Some(t) = &mut c.tls {
                    t.set_buffer_limit(Some(limits.send_buffer));
                }
                if c.tls.is_some() && limits.connect_timeout > 0.0 {
                    c.connect_deadline = Some(self.tyme + limits.connect_timeout);
                }
                c.touch(self.tyme);
                self.conns.insert(id, c);
                self.claim_unchecked(owner);
                self.listeners
                    .get_mut(&lid)
                    .expect("present above")
                    .pending
                    .push_back(id);
            }
        }
    }

    /// Before the doers' turn.
    fn before(&mut self, tyme: f64) {
        self.tyme = tyme;
        self.known_reported = false;
        self.doer_made_room = false;
        let Inner {
            backend,
            listeners,
            conns,
            ..
        } = self;
        for id in backend.before(listeners, conns) {
            self.end(id, End::Reset);
        }
        self.accept_all();
        let ids: Vec<u64> = self.conns.keys().copied().collect();
        for id in ids {
            let Some(c) = self.conns.get_mut(&id) else {
                continue;
            };
            if c.check_timeouts(tyme) {
                self.end(id, End::TimedOut);
                continue;
            }
            if c.retry_at.is_some_and(|t| tyme >= t) {
                self.dial(id);
                continue;
            }
            let Some(c) = self.conns.get_mut(&id) else {
                continue;
            };
            if c.connecting {
                c.check_connected(tyme);
            }
            // A connection that ends here drops its socket, which takes it
            // out of the poll.
            c.receive(tyme);
            c.push_tls();
        }
        self.serve_http(tyme);
        self.serve_outgoing();
        self.sweep();
        self.backend.refresh();
    }

    /// After the doers' turn.
    fn after(&mut self, tyme: f64) {
        self.tyme = tyme;
        self.backend.ready_to_flush(&mut self.conns);
        let ids: Vec<u64> = self.conns.keys().copied().collect();
        let mut for_doer = false;
        for id in ids {
            if let Some(c) = self.conns.get_mut(&id) {
                let blocked = c.can_send() && c.room() == 0;
                let moved = c.flush(tyme);
                for_doer |= moved && blocked && !c.dropped;
            }
        }
        self.flushed_for_doer = for_doer;
        self.sweep();
        self.backend.after();
    }

    /// Whether a pass would move something in the simulated network.
    fn busy(&self) -> bool {
        let Some(world) = self.backend.sim() else {
            return false;
        };
        if world.busy() {
            return true;
        }
        let accepts = self.listeners.iter().any(|(&lid, l)| {
            let limits = self.limits(l.owner);
            world.backlogged(lid)
                && l.pending.len() < limits.backlog as usize
                && self
                    .owners
                    .get(&l.owner)
                    .is_some_and(|o| o.held < limits.connections)
        });
        accepts || self.conns.values().any(sim_conn_busy)
    }

    /// The earliest tyme a connection's deadline passes (connect, idle,
    /// reconnect, HTTP head), not before now.
    fn deadline(&self) -> Option<f64> {
        let mut due: Option<f64> = None;
        let mut at = |t: f64| due = Some(due.map_or(t, |d: f64| d.min(t)));
        for c in self.conns.values().filter(|c| c.end.is_none()) {
            if let Some(t) = c.retry_at {
                at(t);
            }
            let handshaking = c.tls.as_ref().is_some_and(|t| t.is_handshaking());
            let deadline = if c.connecting || c.retry_at.is_some() || handshaking {
                c.connect_deadline
            } else {
                c.idle_deadline
            };
            if let Some(d) = deadline {
                at(d);
            }
        }
        for (cid, w) in &self.http.conns {
            if let (Some(since), Some(c)) = (w.head_since, self.conns.get(cid))
                && c.end.is_none()
                && c.limits.header_timeout > 0.0
            {
                at(since + c.limits.header_timeout);
            }
        }
        due.map(|d| d.max(self.tyme))
    }
}

/// Whether a pass would move something on connection `c` (a simulated
/// one), without a doer doing anything.
fn sim_conn_busy(c: &Conn) -> bool {
    if c.end.is_some() {
        return false;
    }
    let Some(Sock::Sim(sock)) = &c.sock else {
        return false;
    };
    let e = sock.state();
    if c.connecting {
        return e.connect != Connect::Pending;
    }
    if e.reset {
        return true;
    }
    let room = c.recv.len() < c.limits.recv_buffer;
    if room && (!e.inbox.is_empty() || (e.eof && !c.tcp_eof && !c.peer_eof)) {
        return true;
    }
    if c.fin_sent || e.credit == 0 {
        return false;
    }
    let handshaking = c.tls.as_ref().is_some_and(|t| t.is_handshaking());
    let records = c.tls.as_ref().is_some_and(|t| t.wants_write());
    records || (!handshaking && (!c.send.is_empty() || c.shut))
}

impl Net {
    /// The service to plug into the Doist.
    pub fn service(&self) -> NetService {
        NetService { net: self.clone() }
    }

    /// When the network next needs a service pass, for a harness that
    /// jumps simulated time ahead while every doer sleeps: `None` when
    /// nothing is pending; the tyme of the last pass ("now") when a pass
    /// would move something of a simulated network (bytes in flight,
    /// delayed, stalled or held by a partition, written and not yet
    /// flushed, connects to answer or accept); otherwise the earliest
    /// deadline of a connection (connect, idle, reconnect back-off, HTTP
    /// head), not before now. Of a real network it knows only the
    /// deadlines.
    pub fn next_due(&self) -> Option<f64> {
        let inner = self.lock();
        if inner.busy() {
            return Some(inner.tyme);
        }
        inner.deadline()
    }
}

/// The [`Services`] that moves a [`Net`]'s bytes at the fixed points of
/// each tick and spends the wait between ticks in the poll.
pub struct NetService {
    net: Net,
}

impl Services for NetService {
    fn before(&mut self, tick: Tick) {
        self.net.lock().before(tick.tyme);
    }

    fn after(&mut self, tyme: f64) {
        self.net.lock().after(tyme);
    }

    /// The run is over and its doers have exited: one last flush of what
    /// they wrote, then every socket closes.
    fn end(&mut self, last: Tick) {
        let mut inner = self.net.lock();
        inner.after(last.tyme);
        let lids: Vec<u64> = inner.listeners.keys().copied().collect();
        for lid in lids {
            inner.close_listener(lid);
        }
        let ids: Vec<u64> = inner.conns.keys().copied().collect();
        for id in ids {
            inner.end(id, End::Closed);
        }
    }

    /// Real sockets: the wait is spent in the poll. A simulated network
    /// never blocks on it (see [`Net::simulated`]).
    fn wait(&mut self, clock: &dyn WallClock, timeout: Duration) -> WaitEnd {
        let mut inner = self.net.lock();
        // A socket left unread for want of room, whose doer has made room
        // since (by reading): the readiness is known (no event will come
        // again), and a pass now moves its bytes. Or the flush made room
        // for a doer whose send buffer was full: it can go on now. Said once
        // per wait, so a run that keeps to the grid does not spin on it.
        let news = !inner.known_reported && (inner.flushed_for_doer || inner.doer_made_room);
        inner.known_reported |= news;
        let busy = inner.busy();
        let Inner {
            backend,
            listeners,
            conns,
            ..
        } = &mut *inner;
        backend.wait(clock, timeout, news, busy, listeners, conns)
    }
}
