//! Where a [`Net`](crate::Net)'s bytes go: the operating system's sockets,
//! watched by a mio poll, or the simulated network in memory. Every place
//! the two differ is a method here.

use std::collections::BTreeMap;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use hio_scheduler::{WaitEnd, WallClock};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

use super::listener::{ListenSock, Listener};
use crate::conn::{Conn, Sock};
use crate::sim::SimNet;
use crate::{HostPort, NetError};

/// A network's backend: exactly one of the two.
pub(crate) enum Backend {
    /// Real sockets, registered with the poll under their ids. With
    /// `reuse_port`, listeners bind with `SO_REUSEPORT`, so the same doer in
    /// several crews shares one port and the kernel spreads connections.
    Os {
        poll: Poll,
        events: Events,
        reuse_port: bool,
    },
    /// The simulated network.
    Sim(Box<SimNet>),
}

impl Backend {
    /// Real sockets and a new poll.
    pub fn os() -> io::Result<Backend> {
        Ok(Backend::Os {
            poll: Poll::new()?,
            events: Events::with_capacity(1024),
            reuse_port: false,
        })
    }

    pub fn is_simulated(&self) -> bool {
        matches!(self, Backend::Sim(_))
    }

    /// The simulated network, if it is one.
    pub fn sim(&self) -> Option<&SimNet> {
        match self {
            Backend::Sim(world) => Some(world),
            Backend::Os { .. } => None,
        }
    }

    /// The socket addresses `addr` names: through the resolver, or the
    /// simulated network's virtual address.
    pub fn resolve(&self, addr: &HostPort) -> Result<Vec<SocketAddr>, NetError> {
        match self {
            Backend::Os { .. } => addr.resolve(),
            Backend::Sim(_) => Ok(vec![addr.resolve_sim()]),
        }
    }

    /// Binds a listener to `target` (`addr` as the doer named it); `id`
    /// gives its id (a real socket takes one once bound, a simulated one
    /// before). Returns the id, the socket and the address bound.
    pub fn bind(
        &mut self,
        addr: &HostPort,
        target: SocketAddr,
        id: impl FnOnce() -> u64,
    ) -> Result<(u64, ListenSock, SocketAddr), NetError> {
        let cannot = |e: io::Error| NetError::Listen {
            addr: addr.to_string(),
            why: e.to_string(),
        };
        match self {
            Backend::Os {
                poll, reuse_port, ..
            } => {
                let mut sock = match reuse_port {
                    true => bind_shared(target),
                    false => TcpListener::bind(target),
                }
                .map_err(cannot)?;
                let id = id();
                let local = sock.local_addr().unwrap_or(target);
                poll.registry()
                    .register(&mut sock, Token(id as usize), Interest::READABLE)
                    .map_err(|e| NetError::Poll(e.to_string()))?;
                Ok((id, ListenSock::Tcp(sock), local))
            }
            Backend::Sim(world) => {
                let id = id();
                let local = world.bind(target, id).map_err(cannot)?;
                Ok((id, ListenSock::Sim, local))
            }
        }
    }

    /// Lets listener `lid`'s socket go.
    pub fn unbind(&mut self, lid: u64, sock: &mut ListenSock) {
        match (sock, self) {
            (ListenSock::Tcp(sock), Backend::Os { poll, .. }) => {
                let _ = poll.registry().deregister(sock);
            }
            (ListenSock::Sim, Backend::Sim(world)) => world.unbind(lid),
            _ => {}
        }
    }

    /// The oldest connection waiting on a listener, and its peer.
    pub fn accept(&mut self, lid: u64, sock: &ListenSock) -> io::Result<(Sock, SocketAddr)> {
        match (sock, self) {
            (ListenSock::Tcp(sock), _) => sock.accept().map(|(s, peer)| (Sock::Tcp(s), peer)),
            (ListenSock::Sim, Backend::Sim(world)) => match world.accept(lid) {
                Some((s, peer)) => Ok((Sock::Sim(s), peer)),
                None => Err(io::ErrorKind::WouldBlock.into()),
            },
            (ListenSock::Sim, Backend::Os { .. }) => Err(io::ErrorKind::WouldBlock.into()),
        }
    }

    /// Starts a connect to `target` for connection `id`.
    pub fn dial(&mut self, id: u64, target: SocketAddr) -> io::Result<Sock> {
        match self {
            Backend::Sim(world) => Ok(Sock::Sim(world.dial(target))),
            Backend::Os { .. } => {
                let mut sock = Sock::Tcp(TcpStream::connect(target)?);
                sock.no_delay();
                self.register(id, &mut sock)?;
                Ok(sock)
            }
        }
    }

    /// Watches connection `id`'s socket (a simulated one needs no poll).
    pub fn register(&self, id: u64, sock: &mut Sock) -> io::Result<()> {
        match (sock, self) {
            (Sock::Tcp(sock), Backend::Os { poll, .. }) => poll.registry().register(
                sock,
                Token(id as usize),
                Interest::READABLE | Interest::WRITABLE,
            ),
            _ => Ok(()),
        }
    }

    /// Takes a socket out of the poll (a simulated one is in none).
    pub fn deregister(&self, sock: &mut Sock) {
        if let (Sock::Tcp(sock), Backend::Os { poll, .. }) = (sock, self) {
            let _ = poll.registry().deregister(sock);
        }
    }

    /// The start of the `before` pass: what arrived, in the listeners' and
    /// connections' flags. Returns the connections the simulated network
    /// reset (the caller ends them).
    pub fn before(
        &mut self,
        listeners: &mut BTreeMap<u64, Listener>,
        conns: &mut BTreeMap<u64, Conn>,
    ) -> Vec<u64> {
        let world = match self {
            Backend::Os { .. } => {
                self.collect(Duration::ZERO, listeners, conns);
                return Vec::new();
            }
            Backend::Sim(world) => world,
        };
        world.before();
        for (lid, l) in listeners.iter_mut() {
            if matches!(l.sock, ListenSock::Sim) {
                l.readable = world.backlogged(*lid);
            }
        }
        let mut reset = Vec::new();
        for (&id, c) in conns.iter_mut() {
            let Some(Sock::Sim(sock)) = &c.sock else {
                continue;
            };
            if sock.state().reset {
                reset.push(id);
            } else {
                c.readable = true;
                c.writable = true;
            }
        }
        reset
    }

    /// Sets how much each simulated socket's writes may take now (the end
    /// of the `before` pass).
    pub fn refresh(&self) {
        if let Backend::Sim(world) = self {
            world.refresh();
        }
    }

    /// Before the flush of the `after` pass: every simulated socket may
    /// take what its link's window has room for.
    pub fn ready_to_flush(&self, conns: &mut BTreeMap<u64, Conn>) {
        let Backend::Sim(world) = self else {
            return;
        };
        world.refresh();
        for c in conns.values_mut() {
            if matches!(c.sock, Some(Sock::Sim(_))) {
                c.writable = true;
            }
        }
    }

    /// The end of the `after` pass: what was written goes onto the
    /// simulated links.
    pub fn after(&mut self) {
        if let Backend::Sim(world) = self {
            world.after();
        }
    }

    /// The wait between ticks. Real sockets: with `news` (a pass now would
    /// move something the host knows of) a look at the poll and `Ready`;
    /// else the poll, up to `timeout`. A simulated network never blocks:
    /// with a zero timeout (simulated time) it returns at once, `Ready`
    /// when `busy()`; with a timeout (real time) it sleeps on the clock, at
    /// most 1 ms when busy.
    #[allow(clippy::too_many_arguments)]
    pub fn wait(
        &mut self,
        clock: &dyn WallClock,
        timeout: Duration,
        news: bool,
        busy: bool,
        listeners: &mut BTreeMap<u64, Listener>,
        conns: &mut BTreeMap<u64, Conn>,
    ) -> WaitEnd {
        if self.is_simulated() {
            if !timeout.is_zero() {
                clock.sleep(if busy {
                    timeout.min(Duration::from_millis(1))
                } else {
                    timeout
                });
            }
            return if busy {
                WaitEnd::Ready
            } else {
                WaitEnd::Elapsed
            };
        }
        if news {
            self.collect(Duration::ZERO, listeners, conns);
            return WaitEnd::Ready;
        }
        if self.collect(timeout, listeners, conns) > 0 {
            WaitEnd::Ready
        } else {
            WaitEnd::Elapsed
        }
    }

    /// Collects the poll's readiness into the listeners' and connections'
    /// flags; returns how much of it is news (a socket already known ready,
    /// say one left unread because its buffer is full, wakes no tick).
    fn collect(
        &mut self,
        timeout: Duration,
        listeners: &mut BTreeMap<u64, Listener>,
        conns: &mut BTreeMap<u64, Conn>,
    ) -> usize {
        let Backend::Os { poll, events, .. } = self else {
            return 0;
        };
        if let Err(e) = poll.poll(events, Some(timeout))
            && e.kind() != io::ErrorKind::Interrupted
        {
            return 0;
        }
        let mut n = 0;
        for event in events.iter() {
            let id = event.token().0 as u64;
            if event.token().0 >= WAKE {
                // Another network (a crew's) has I/O ready: it takes it in
                // its own turn; here it only starts the tick.
                n += 1;
            } else if let Some(l) = listeners.get_mut(&id) {
                n += usize::from(!l.readable);
                l.readable = true;
            } else if let Some(c) = conns.get_mut(&id) {
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
}

/// Tokens from here up are other networks' polls (see [`Backend::wake_on`]).
const WAKE: usize = 1 << 62;

impl Backend {
    /// Ends this network's waits when `other` has I/O ready too: `other`'s
    /// poll joins this one's (an epoll watches an epoll). Simulated
    /// networks do not block, and need nothing.
    pub fn wake_on(&mut self, other: &Backend) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        let (Backend::Os { poll, .. }, Backend::Os { poll: theirs, .. }) = (self, other) else {
            return Ok(());
        };
        let fd = theirs.as_raw_fd();
        let token = Token(WAKE + usize::try_from(fd).unwrap_or(0));
        poll.registry()
            .register(&mut mio::unix::SourceFd(&fd), token, Interest::READABLE)
    }
}

/// A listener on `target` that others with `SO_REUSEPORT` (the same doer in
/// other crews of this run) may bind too; as mio binds, with `SO_REUSEADDR`
/// and a backlog of 1024.
fn bind_shared(target: SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Socket, Type};
    let sock = Socket::new(Domain::for_address(target), Type::STREAM, None)?;
    sock.set_reuse_address(true)?;
    sock.set_reuse_port(true)?;
    sock.set_nonblocking(true)?;
    sock.bind(&target.into())?;
    sock.listen(1024)?;
    Ok(TcpListener::from_std(sock.into()))
}
