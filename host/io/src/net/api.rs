//! What doers call (through hio-wasm) on a [`Net`]: owners, listeners and
//! connections. Every call works on the buffers and flags alone; the
//! sockets move only in the [`NetService`](crate::NetService)'s passes.
//! The HTTP calls are in `http_server.rs` and `outgoing.rs`.

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ServerConfig};

use super::backend::Backend;
use super::listener::Listener;
use super::registry::{Inner, OwnerInfo, let_go};
use crate::conn::Conn;
use crate::sim::{SimConfig, SimNet};
use crate::state::End;
use crate::{ConnFailure, ConnId, ConnLimits, ConnState, HostPort, ListenerId, NetError};

/// The run's host-owned network: cheap to clone, shared by the doers'
/// handles and the [`NetService`](crate::NetService).
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
    pub(super) id: u64,
}

impl Drop for Owner {
    fn drop(&mut self) {
        self.net.release(self.id);
    }
}

impl Inner {
    /// Starts (or restarts) a client connect to the next target.
    pub(super) fn dial(&mut self, id: u64) {
        let tyme = self.tyme;
        let Inner { backend, conns, .. } = self;
        let Some(c) = conns.get_mut(&id) else {
            return;
        };
        c.retry_at = None;
        let Some(&target) = c.targets.first() else {
            c.finish(End::Failed(ConnFailure::NoAddress));
            return;
        };
        // Several addresses: rotate, so a retry tries the next one.
        c.targets.rotate_left(1);
        c.connecting = true;
        c.writable = false;
        c.readable = false;
        match backend.dial(id, target) {
            Ok(sock) => c.sock = Some(sock),
            Err(e) => c.connect_failed(tyme, e.to_string()),
        }
    }
}

impl Net {
    /// A network with nothing open.
    pub fn new() -> io::Result<Net> {
        Ok(Net::build(Backend::os()?))
    }

    /// Real sockets whose listeners bind with `SO_REUSEPORT`: a crew's
    /// network, so the same listening doer in several crews shares its
    /// port (the kernel deals each connection to one of them).
    pub fn new_shared_port() -> io::Result<Net> {
        let mut backend = Backend::os()?;
        if let Backend::Os { reuse_port, .. } = &mut backend {
            *reuse_port = true;
        }
        Ok(Net::build(backend))
    }

    /// Ends this network's waits between ticks when `other` (a crew's
    /// network, serviced on its own thread) has I/O ready as well.
    pub fn wake_on(&self, other: &Net) -> io::Result<()> {
        if Arc::ptr_eq(&self.0, &other.0) {
            return Ok(());
        }
        let theirs = other.lock();
        self.lock().backend.wake_on(&theirs.backend)
    }

    /// A simulated network with nothing open: listeners, connects and
    /// bytes in memory, moved on only by its [`NetService`](crate::NetService),
    /// with the faults of `config` drawn from its seed (see the crate's
    /// docs).
    pub fn simulated(config: SimConfig) -> Net {
        Net::build(Backend::Sim(Box::new(SimNet::new(config))))
    }

    /// Whether it is a simulated network.
    pub fn is_simulated(&self) -> bool {
        self.lock().backend.is_simulated()
    }

    fn build(backend: Backend) -> Net {
        Net(Arc::new(Mutex::new(Inner::new(backend))))
    }

    pub(super) fn lock(&self) -> MutexGuard<'_, Inner> {
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

    /// Closes everything owner `id` holds: its HTTP servers, listeners (and
    /// the connections they accepted that no doer took) at once,
    /// connections once flushed.
    fn release(&self, id: u64) {
        let mut inner = self.lock();
        inner.owners.remove(&id);
        inner.release_http(id);
        let lids: Vec<u64> = inner
            .listeners
            .iter()
            .filter(|(_, l)| l.owner == id)
            .map(|(&k, _)| k)
            .collect();
        for lid in lids {
            inner.close_listener(lid);
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
        let mut inner = self.lock();
        let target = *inner
            .backend
            .resolve(addr)?
            .first()
            .ok_or_else(|| NetError::NoAddress(addr.to_string()))?;
        inner.claim(owner.id)?;
        let Inner { backend, next, .. } = &mut *inner;
        let bound = backend.bind(addr, target, || {
            *next += 1;
            *next
        });
        let (id, sock, local) = match bound {
            Ok(bound) => bound,
            Err(e) => {
                inner.unclaim(owner.id);
                return Err(e);
            }
        };
        let readable = sock.starts_readable();
        inner.listeners.insert(
            id,
            Listener {
                owner: owner.id,
                sock,
                local,
                tls,
                pending: VecDeque::new(),
                readable,
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
        self.lock().close_listener(lid.0);
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
        let mut inner = self.lock();
        let targets = inner.backend.resolve(addr)?;
        let tls = match tls {
            Some((cfg, name)) => Some(rustls::Connection::from(
                rustls::ClientConnection::new(cfg, name).map_err(NetError::Tls)?,
            )),
            None => None,
        };
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
        inner.let_go(cid.0);
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

    /// Sets what tyme 0 stands for on the wall clock (for HTTP's `Date`).
    pub fn set_wall_start(&self, since_epoch: Duration) {
        self.lock().wall_start = since_epoch;
    }
}
