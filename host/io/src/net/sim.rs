//! The glue between a [`Net`] and its simulated network: the passes'
//! extra steps, listening, the wait, and when the net is next due.

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use hio_scheduler::{WaitEnd, WallClock};
use rustls::ServerConfig;

use super::{Inner, ListenSock, Listener, ListenerId, Net, Owner};
use crate::conn::{Conn, End, Sock};
use crate::sim::Connect;
use crate::{HostPort, NetError};

/// Whether a pass would move something on connection `c` (a simulated
/// one), without a doer doing anything.
fn conn_busy(c: &Conn) -> bool {
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

impl Inner {
    /// The simulated network's `before` pass, then what it changed, in
    /// the flags and states the real poll would set.
    pub(super) fn sim_before(&mut self) {
        let Some(world) = &mut self.sim else {
            return;
        };
        world.before();
        for (lid, l) in &mut self.listeners {
            if matches!(l.sock, ListenSock::Sim) {
                l.readable = world.backlogged(*lid);
            }
        }
        let mut reset = Vec::new();
        for (&id, c) in &mut self.conns {
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
        for id in reset {
            self.end(id, End::Reset);
        }
    }

    /// Before the flush of the `after` pass: every simulated socket may
    /// take what its link's window has room for.
    pub(super) fn sim_ready(&mut self) {
        if let Some(world) = &self.sim {
            world.refresh();
        }
        for c in self.conns.values_mut() {
            if matches!(c.sock, Some(Sock::Sim(_))) {
                c.writable = true;
            }
        }
    }

    /// Whether a pass would move something in the simulated network.
    fn busy(&self) -> bool {
        let Some(world) = &self.sim else {
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
        accepts || self.conns.values().any(conn_busy)
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
        for (cid, w) in &self.web.conns {
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

impl Net {
    /// Listens on `addr` in the simulated network.
    pub(super) fn listen_sim(
        &self,
        owner: &Owner,
        addr: &HostPort,
        tls: Option<Arc<ServerConfig>>,
    ) -> Result<ListenerId, NetError> {
        let target = addr.resolve_sim();
        let mut inner = self.lock();
        inner.claim(owner.id)?;
        let id = inner.id();
        let bound = match inner.sim.as_mut() {
            Some(world) => world.bind(target, id),
            None => Err(io::ErrorKind::Unsupported.into()),
        };
        let local = match bound {
            Ok(local) => local,
            Err(e) => {
                inner.unclaim(owner.id);
                return Err(NetError::Io(format!("cannot listen on {addr}: {e}")));
            }
        };
        inner.listeners.insert(
            id,
            Listener {
                owner: owner.id,
                sock: ListenSock::Sim,
                local,
                tls,
                pending: VecDeque::new(),
                readable: false,
            },
        );
        Ok(ListenerId(id))
    }

    /// The wait between ticks of a simulated network: never blocked on.
    pub(super) fn wait_sim(&self, clock: &dyn WallClock, timeout: Duration) -> WaitEnd {
        let busy = self.lock().busy();
        if !timeout.is_zero() {
            clock.sleep(if busy {
                timeout.min(Duration::from_millis(1))
            } else {
                timeout
            });
        }
        if busy {
            WaitEnd::Ready
        } else {
            WaitEnd::Elapsed
        }
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
