//! [`Net`]: the run's listeners and connections, their owners, and the
//! service that moves their bytes between ticks.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use hio_scheduler::{Services, Tick, WaitEnd, WallClock};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ServerConfig};

use crate::conn::{Conn, ConnState, End, Sock};
use crate::sim::{Sim, World};
use crate::web::Web;

mod client;
pub(crate) use client::WebClient;
mod sim;
mod web;
use crate::{ConnLimits, HostPort, NetError};

/// A connection of a [`Net`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(u64);

/// A listener of a [`Net`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ListenerId(u64);

impl ConnId {
    /// The number behind it (as a wire log keeps it).
    pub fn raw(self) -> u64 {
        self.0
    }

    /// The connection numbered `n` (as a replay gives it back).
    pub fn from_raw(n: u64) -> ConnId {
        ConnId(n)
    }
}

impl ListenerId {
    /// The number behind it (as a wire log keeps it).
    pub fn raw(self) -> u64 {
        self.0
    }

    /// The listener numbered `n` (as a replay gives it back).
    pub fn from_raw(n: u64) -> ListenerId {
        ListenerId(n)
    }
}

/// A listener's socket: a real one, or an address bound in the simulated
/// network.
enum ListenSock {
    Tcp(TcpListener),
    Sim,
}

struct Listener {
    owner: u64,
    sock: ListenSock,
    local: SocketAddr,
    tls: Option<Arc<ServerConfig>>,
    pending: VecDeque<u64>,
    readable: bool,
}

struct OwnerInfo {
    limits: ConnLimits,
    /// Listeners, connections and accepted-not-taken connections it holds.
    held: u32,
}

struct Inner {
    /// The poll of real sockets (none in a simulated network).
    poll: Option<Poll>,
    events: Events,
    /// The simulated network, in place of real sockets.
    sim: Option<World>,
    next: u64,
    tyme: f64,
    owners: BTreeMap<u64, OwnerInfo>,
    listeners: BTreeMap<u64, Listener>,
    conns: BTreeMap<u64, Conn>,
    web: Web,
    /// What tyme 0 stands for on the wall clock (for HTTP's `Date`).
    wall_start: Duration,
    /// Connections each peer address holds on each listener.
    peers: BTreeMap<(u64, IpAddr), u32>,
    /// The wait since the last pass already reported the readiness the
    /// host knew of (sockets left unread for want of room): the next waits
    /// block on news alone.
    known_reported: bool,
    /// The last flush made room for a doer that had none (its send buffer
    /// was full): the doer can go on at once.
    flushed_for_doer: bool,
    /// A doer read this tick from a connection with more input waiting (in
    /// the socket, or in the buffer behind an HTTP request's body): the
    /// next pass moves it.
    doer_made_room: bool,
}

/// The run's host-owned network: cheap to clone, shared by the doers'
/// handles and the [`NetService`].
#[derive(Clone)]
pub struct Net(Arc<Mutex<Inner>>);

impl std::fmt::Debug for Net {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        f.debug_struct("Net")
            .field("listeners", &inner.listeners.len())
            .field("conns", &inner.conns.len())
            .finish()
    }
}

/// One doer instance's claim on the network: what it opens belongs to it,
/// and dropping the `Owner` closes all of it (connections flush first).
#[derive(Debug)]
pub struct Owner {
    net: Net,
    id: u64,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.net.release(self.id);
    }
}

fn io_error(e: &io::Error) -> NetError {
    NetError::Io(e.to_string())
}

impl Inner {
    fn id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Takes one more of `owner`'s connections, if its limit allows.
    fn claim(&mut self, owner: u64) -> Result<(), NetError> {
        let info = self
            .owners
            .get_mut(&owner)
            .ok_or_else(|| NetError::Io("the doer's network access has ended".into()))?;
        if info.held >= info.limits.connections {
            return Err(NetError::Limit(format!(
                "connections: this doer holds {} (its limit)",
                info.limits.connections
            )));
        }
        info.held += 1;
        Ok(())
    }

    fn unclaim(&mut self, owner: u64) {
        if let Some(info) = self.owners.get_mut(&owner) {
            info.held = info.held.saturating_sub(1);
        }
    }

    fn limits(&self, owner: u64) -> ConnLimits {
        self.owners
            .get(&owner)
            .map_or_else(ConnLimits::default, |o| o.limits)
    }

    fn register(&mut self, id: u64, sock: &mut Sock) -> io::Result<()> {
        match (sock, &self.poll) {
            (Sock::Tcp(sock), Some(poll)) => poll.registry().register(
                sock,
                Token(id as usize),
                Interest::READABLE | Interest::WRITABLE,
            ),
            _ => Ok(()),
        }
    }

    /// Takes a socket out of the poll (a simulated one is in none).
    fn deregister(&self, sock: &mut Sock) {
        if let (Sock::Tcp(sock), Some(poll)) = (sock, &self.poll) {
            let _ = poll.registry().deregister(sock);
        }
    }

    /// Ends connection `id` and lets its socket go.
    fn end(&mut self, id: u64, end: End) {
        if let Some(mut sock) = self.conns.get_mut(&id).and_then(|c| c.sock.take()) {
            self.deregister(&mut sock);
        }
        if let Some(c) = self.conns.get_mut(&id) {
            c.finish(end);
        }
    }

    /// Drops connection `id` from the registry, closing its socket.
    fn remove(&mut self, id: u64) {
        if let Some(mut c) = self.conns.remove(&id) {
            if let Some(mut sock) = c.sock.take() {
                self.deregister(&mut sock);
            }
            if let (Some(lid), Some(peer)) = (c.listener, c.peer) {
                let key = (lid, peer.ip());
                if let Some(n) = self.peers.get_mut(&key) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        self.peers.remove(&key);
                    }
                }
            }
            // A let-go connection still flushing counted against its
            // owner until now: a doer cannot pile up closing connections.
            self.unclaim(c.owner);
        }
    }

    /// Starts (or restarts) a client connect to the next target.
    fn dial(&mut self, id: u64) {
        let tyme = self.tyme;
        let Some(c) = self.conns.get_mut(&id) else {
            return;
        };
        c.retry_at = None;
        let Some(&target) = c.targets.first() else {
            c.finish(End::Failed("no address to connect to".into()));
            return;
        };
        // Several addresses: rotate, so a retry tries the next one.
        c.targets.rotate_left(1);
        if let Some(world) = &mut self.sim {
            c.connecting = true;
            c.writable = false;
            c.readable = false;
            c.sock = Some(Sock::Sim(world.dial(target)));
            return;
        }
        match TcpStream::connect(target) {
            Ok(sock) => {
                c.connecting = true;
                c.writable = false;
                c.readable = false;
                let mut sock = Sock::Tcp(sock);
                sock.no_delay();
                let registered = self.register(id, &mut sock);
                let c = self.conns.get_mut(&id).expect("present above");
                match registered {
                    Ok(()) => c.sock = Some(sock),
                    Err(e) => c.connect_failed(tyme, e.to_string()),
                }
            }
            Err(e) => c.connect_failed(tyme, e.to_string()),
        }
    }

    /// Collects readiness into the listeners' and connections' flags.
    fn poll(&mut self, timeout: Duration) -> usize {
        let Some(poll) = &mut self.poll else {
            return 0;
        };
        if let Err(e) = poll.poll(&mut self.events, Some(timeout))
            && e.kind() != io::ErrorKind::Interrupted
        {
            return 0;
        }
        // Counts only what is news: a socket already known ready (say, one
        // left unread because its buffer is full) wakes no tick.
        let mut n = 0;
        for event in self.events.iter() {
            let id = event.token().0 as u64;
            if let Some(l) = self.listeners.get_mut(&id) {
                n += usize::from(!l.readable);
                l.readable = true;
            } else if let Some(c) = self.conns.get_mut(&id) {
                if event.is_readable() || event.is_read_closed() || event.is_error() {
                    n += usize::from(!c.readable);
                    c.readable = true;
                }
                if event.is_writable() || event.is_write_closed() || event.is_error() {
                    n += usize::from(!c.writable);
                    c.writable = true;
                }
            }
        }
        n
    }

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
                let l = self.listeners.get_mut(&lid).expect("present above");
                let accepted = match &l.sock {
                    ListenSock::Tcp(sock) => sock.accept().map(|(s, peer)| (Sock::Tcp(s), peer)),
                    ListenSock::Sim => match self.sim.as_mut().and_then(|w| w.accept(lid)) {
                        Some((s, peer)) => Ok((Sock::Sim(s), peer)),
                        None => Err(io::ErrorKind::WouldBlock.into()),
                    },
                };
                let (mut sock, peer) = match accepted {
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
                    let web = self.web.servers.values().any(|s| s.listener == lid);
                    if let (true, None, Sock::Tcp(s)) = (web, &tls, &mut sock) {
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
                if self.register(id, &mut sock).is_err() {
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

    fn claim_unchecked(&mut self, owner: u64) {
        if let Some(info) = self.owners.get_mut(&owner) {
            info.held += 1;
        }
    }

    /// Before the doers' turn.
    fn before(&mut self, tyme: f64) {
        self.tyme = tyme;
        self.known_reported = false;
        self.doer_made_room = false;
        if self.sim.is_some() {
            self.sim_before();
        } else {
            self.poll(Duration::ZERO);
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
        self.serve_web(tyme);
        self.serve_clients();
        self.sweep();
        if let Some(world) = &self.sim {
            world.refresh();
        }
    }

    /// After the doers' turn.
    fn after(&mut self, tyme: f64) {
        self.tyme = tyme;
        if self.sim.is_some() {
            self.sim_ready();
        }
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
        if let Some(world) = &mut self.sim {
            world.after();
        }
    }

    /// Forgets connections their doers let go of once they are done.
    fn sweep(&mut self) {
        let done: Vec<u64> = self
            .conns
            .iter()
            .filter(|(_, c)| c.finished())
            .map(|(&id, _)| id)
            .collect();
        for id in done {
            self.remove(id);
        }
    }
}

impl Net {
    /// A network with nothing open.
    pub fn new() -> io::Result<Net> {
        Ok(Net::build(Some(Poll::new()?), None))
    }

    /// A simulated network with nothing open: listeners, connects and
    /// bytes in memory, moved on only by its [`NetService`], with the
    /// faults of `sim` drawn from its seed (see the crate's docs).
    pub fn simulated(sim: Sim) -> Net {
        Net::build(None, Some(World::new(sim)))
    }

    /// Whether it is a simulated network.
    pub fn is_simulated(&self) -> bool {
        self.lock().sim.is_some()
    }

    fn build(poll: Option<Poll>, sim: Option<World>) -> Net {
        Net(Arc::new(Mutex::new(Inner {
            poll,
            events: Events::with_capacity(if sim.is_some() { 0 } else { 1024 }),
            sim,
            next: 0,
            tyme: 0.0,
            owners: BTreeMap::new(),
            listeners: BTreeMap::new(),
            conns: BTreeMap::new(),
            web: Web::default(),
            wall_start: Duration::ZERO,
            peers: BTreeMap::new(),
            known_reported: false,
            flushed_for_doer: false,
            doer_made_room: false,
        })))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new owner (one doer instance) with these limits.
    pub fn owner(&self, limits: ConnLimits) -> Owner {
        let mut inner = self.lock();
        let id = inner.id();
        inner.owners.insert(id, OwnerInfo { limits, held: 0 });
        Owner {
            net: self.clone(),
            id,
        }
    }

    /// Closes everything owner `id` holds: listeners (and the connections
    /// they accepted that no doer took) at once, connections once flushed.
    fn release(&self, id: u64) {
        let mut inner = self.lock();
        inner.owners.remove(&id);
        Net::release_web(&mut inner, id);
        let lids: Vec<u64> = inner
            .listeners
            .iter()
            .filter(|(_, l)| l.owner == id)
            .map(|(&k, _)| k)
            .collect();
        for lid in lids {
            close_listener(&mut inner, lid);
        }
        let tyme = inner.tyme;
        for c in inner.conns.values_mut().filter(|c| c.owner == id) {
            let_go(c, tyme);
        }
        inner.sweep();
    }

    /// Listens on `addr` for `owner`; with `tls`, every accepted connection
    /// is a TLS server session.
    pub fn listen(
        &self,
        owner: &Owner,
        addr: &HostPort,
        tls: Option<Arc<ServerConfig>>,
    ) -> Result<ListenerId, NetError> {
        if self.is_simulated() {
            return self.listen_sim(owner, addr, tls);
        }
        let target = *addr
            .resolve()?
            .first()
            .ok_or_else(|| NetError::BadAddress(format!("{addr}: no address")))?;
        let mut inner = self.lock();
        inner.claim(owner.id)?;
        let mut sock = match TcpListener::bind(target) {
            Ok(s) => s,
            Err(e) => {
                inner.unclaim(owner.id);
                return Err(NetError::Io(format!("cannot listen on {addr}: {e}")));
            }
        };
        let id = inner.id();
        let local = sock.local_addr().unwrap_or(target);
        let registered = match &inner.poll {
            Some(poll) => {
                poll.registry()
                    .register(&mut sock, Token(id as usize), Interest::READABLE)
            }
            None => Ok(()),
        };
        if let Err(e) = registered {
            inner.unclaim(owner.id);
            return Err(io_error(&e));
        }
        inner.listeners.insert(
            id,
            Listener {
                owner: owner.id,
                sock: ListenSock::Tcp(sock),
                local,
                tls,
                pending: VecDeque::new(),
                // Connections may be waiting already.
                readable: true,
            },
        );
        Ok(ListenerId(id))
    }

    /// The address a listener is bound to.
    pub fn listener_address(&self, lid: ListenerId) -> Option<SocketAddr> {
        self.lock().listeners.get(&lid.0).map(|l| l.local)
    }

    /// The oldest connection accepted for the listener before this tick.
    pub fn accept(&self, lid: ListenerId) -> Option<ConnId> {
        self.lock()
            .listeners
            .get_mut(&lid.0)
            .and_then(|l| l.pending.pop_front())
            .map(ConnId)
    }

    /// Puts a connection its doer took back at the front of the queue of
    /// the listener that accepted it, to be taken again by the next
    /// [`accept`](Self::accept): a doer that cannot deal with it yet (say,
    /// it is at its children limit) leaves it waiting instead of closing
    /// it. Returns false (and does nothing) when the connection did not
    /// come from a listener its owner still holds, or was let go.
    pub fn requeue(&self, cid: ConnId) -> bool {
        let mut inner = self.lock();
        let Some(c) = inner.conns.get(&cid.0) else {
            return false;
        };
        let (owner, dropped) = (c.owner, c.dropped);
        let Some(l) = c.listener.and_then(|lid| inner.listeners.get_mut(&lid)) else {
            return false;
        };
        if dropped || l.owner != owner {
            return false;
        }
        l.pending.push_front(cid.0);
        true
    }

    /// Closes a listener and the connections it accepted that no doer took.
    pub fn close_listener(&self, lid: ListenerId) {
        let mut inner = self.lock();
        close_listener(&mut inner, lid.0);
    }

    /// Starts a client connection for `owner` to `addr`: plain, or TLS
    /// verifying the server as `server_name`. With `reconnect` a failed
    /// attempt is retried after a back-off, until the connect timeout.
    pub fn connect(
        &self,
        owner: &Owner,
        addr: &HostPort,
        tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
        reconnect: bool,
    ) -> Result<ConnId, NetError> {
        let targets = if self.is_simulated() {
            vec![addr.resolve_sim()]
        } else {
            addr.resolve()?
        };
        let tls = match tls {
            Some((cfg, name)) => Some(rustls::Connection::from(
                rustls::ClientConnection::new(cfg, name)
                    .map_err(|e| NetError::Io(format!("TLS: {e}")))?,
            )),
            None => None,
        };
        let mut inner = self.lock();
        inner.claim(owner.id)?;
        let limits = inner.limits(owner.id);
        let id = inner.id();
        let mut c = Conn::new(owner.id, limits, tls);
        if let Some(t) = &mut c.tls {
            t.set_buffer_limit(Some(limits.send_buffer));
        }
        c.targets = targets;
        c.reconnect = reconnect;
        c.connecting = true;
        if limits.connect_timeout > 0.0 {
            c.connect_deadline = Some(inner.tyme + limits.connect_timeout);
        }
        inner.conns.insert(id, c);
        inner.dial(id);
        Ok(ConnId(id))
    }

    fn with<T>(&self, cid: ConnId, default: T, f: impl FnOnce(&mut Conn, f64) -> T) -> T {
        let mut inner = self.lock();
        let tyme = inner.tyme;
        match inner.conns.get_mut(&cid.0) {
            Some(c) => f(c, tyme),
            None => default,
        }
    }

    /// Its state as of this tick.
    pub fn state(&self, cid: ConnId) -> ConnState {
        self.with(cid, ConnState::Closed, |c, _| c.state())
    }

    /// Takes up to `max` bytes of what arrived.
    pub fn read(&self, cid: ConnId, max: usize) -> Vec<u8> {
        let mut inner = self.lock();
        let Some(c) = inner.conns.get_mut(&cid.0) else {
            return Vec::new();
        };
        let bytes = c.recv.take(max);
        if !bytes.is_empty() && c.can_take_more() {
            inner.doer_made_room = true;
        }
        bytes
    }

    /// Bytes waiting to be read.
    pub fn available(&self, cid: ConnId) -> usize {
        self.with(cid, 0, |c, _| c.recv.len())
    }

    /// Queues what fits of `bytes`; returns how many it took.
    pub fn write(&self, cid: ConnId, bytes: &[u8]) -> usize {
        self.with(cid, 0, |c, tyme| {
            let n = c.room().min(bytes.len());
            c.send.push(&bytes[..n]);
            if n > 0 {
                c.touch(tyme);
            }
            n
        })
    }

    /// Bytes the send buffer can take now.
    pub fn room(&self, cid: ConnId) -> usize {
        self.with(cid, 0, |c, _| c.room())
    }

    /// Half-close: no more writes; the end of stream follows the flush.
    pub fn shutdown(&self, cid: ConnId) {
        self.with(cid, (), |c, _| c.shut = true);
    }

    /// Lets the connection go: what was written is flushed (within the idle
    /// timeout), then it closes. Until then it counts against its owner's
    /// `connections`.
    pub fn close(&self, cid: ConnId) {
        let mut inner = self.lock();
        let tyme = inner.tyme;
        if let Some(c) = inner.conns.get_mut(&cid.0)
            && !c.dropped
        {
            let_go(c, tyme);
        }
        inner.sweep();
    }

    /// This side's and the peer's addresses.
    pub fn addresses(&self, cid: ConnId) -> (Option<SocketAddr>, Option<SocketAddr>) {
        self.with(cid, (None, None), |c, _| (c.local, c.peer))
    }

    /// The ALPN protocol a TLS handshake agreed on.
    pub fn alpn(&self, cid: ConnId) -> Option<Vec<u8>> {
        self.with(cid, None, |c, _| c.alpn.clone())
    }

    /// Hands a connection to another owner (a child doer). It counts against
    /// the new owner's limit from now on, even past it: the connection
    /// exists already.
    pub fn give(&self, cid: ConnId, to: &Owner) {
        let mut inner = self.lock();
        let Some(c) = inner.conns.get_mut(&cid.0) else {
            return;
        };
        if c.dropped {
            return;
        }
        let from = std::mem::replace(&mut c.owner, to.id);
        inner.unclaim(from);
        inner.claim_unchecked(to.id);
    }

    /// How many connections are open (let go ones still flushing included).
    pub fn connections(&self) -> usize {
        self.lock().conns.len()
    }

    /// Memory held by all receive and send buffers, in bytes (the host's
    /// own; a TLS session holds at most a few records more).
    pub fn buffered(&self) -> usize {
        self.lock()
            .conns
            .values()
            .map(|c| c.recv.capacity() + c.send.capacity())
            .sum()
    }

    /// The service to plug into the Doist.
    pub fn service(&self) -> NetService {
        NetService { net: self.clone() }
    }
}

fn let_go(c: &mut Conn, tyme: f64) {
    if (c.connecting || c.retry_at.is_some()) && c.send.is_empty() {
        // Not connected and nothing to send: no dialing on.
        c.finish(End::Closed);
    }
    c.dropped = true;
    c.shut = true;
    c.touch(tyme);
}

fn close_listener(inner: &mut Inner, lid: u64) {
    let Some(mut l) = inner.listeners.remove(&lid) else {
        return;
    };
    match (&mut l.sock, &inner.poll, &mut inner.sim) {
        (ListenSock::Tcp(sock), Some(poll), _) => {
            let _ = poll.registry().deregister(sock);
        }
        (ListenSock::Sim, _, Some(world)) => world.unbind(lid),
        _ => {}
    }
    inner.unclaim(l.owner);
    for id in l.pending {
        inner.end(id, End::Closed);
        inner.remove(id);
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
            close_listener(&mut inner, lid);
        }
        let ids: Vec<u64> = inner.conns.keys().copied().collect();
        for id in ids {
            inner.end(id, End::Closed);
        }
    }

    /// Real sockets: the wait is spent in the poll. A simulated network
    /// never blocks on it: with a zero timeout (simulated time) it returns
    /// at once, `Ready` when a pass would move something; with a timeout
    /// (real time) it sleeps on the clock, at most 1 ms when something is
    /// ready.
    fn wait(&mut self, clock: &dyn WallClock, timeout: Duration) -> WaitEnd {
        if self.net.is_simulated() {
            return self.net.wait_sim(clock, timeout);
        }
        let mut inner = self.net.lock();
        // A socket left unread for want of room, whose doer has made room
        // since (by reading): the readiness is known (no event will come
        // again), and a pass now moves its bytes. Or the flush made room
        // for a doer whose send buffer was full: it can go on now. Said once
        // per wait, so a run that keeps to the grid does not spin on it.
        if !inner.known_reported && (inner.flushed_for_doer || inner.doer_made_room) {
            inner.known_reported = true;
            inner.poll(Duration::ZERO);
            return WaitEnd::Ready;
        }
        if inner.poll(timeout) > 0 {
            WaitEnd::Ready
        } else {
            WaitEnd::Elapsed
        }
    }
}
