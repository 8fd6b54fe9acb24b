//! The state behind a [`Net`](crate::Net): its owners, listeners and
//! connections, the HTTP tables, the backend, and the steps every part
//! shares (ids, claims against an owner's limit, ending and forgetting a
//! connection, closing a listener).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use super::backend::Backend;
use super::http_tables::HttpTables;
use super::listener::Listener;
use crate::conn::Conn;
use crate::http::http_date;
use crate::state::End;
use crate::{ConnLimits, NetError};

pub(crate) struct OwnerInfo {
    pub limits: ConnLimits,
    /// Listeners, connections and accepted-not-taken connections it holds.
    pub held: u32,
}

pub(crate) struct Inner {
    pub backend: Backend,
    /// The last id given out (owners, listeners, connections, servers,
    /// requests share the count).
    pub next: u64,
    pub tyme: f64,
    pub owners: BTreeMap<u64, OwnerInfo>,
    pub listeners: BTreeMap<u64, Listener>,
    pub conns: BTreeMap<u64, Conn>,
    pub http: HttpTables,
    /// What tyme 0 stands for on the wall clock (for HTTP's `Date`).
    pub wall_start: Duration,
    /// Connections each peer address holds on each listener.
    pub peers: BTreeMap<(u64, IpAddr), u32>,
    /// The wait since the last pass already reported the readiness the
    /// host knew of (sockets left unread for want of room): the next waits
    /// block on news alone.
    pub known_reported: bool,
    /// The last flush made room for a doer that had none (its send buffer
    /// was full): the doer can go on at once.
    pub flushed_for_doer: bool,
    /// A doer read this tick from a connection with more input waiting (in
    /// the socket, or in the buffer behind an HTTP request's body): the
    /// next pass moves it.
    pub doer_made_room: bool,
}

impl Inner {
    pub fn new(backend: Backend) -> Inner {
        Inner {
            backend,
            next: 0,
            tyme: 0.0,
            owners: BTreeMap::new(),
            listeners: BTreeMap::new(),
            conns: BTreeMap::new(),
            http: HttpTables::default(),
            wall_start: Duration::ZERO,
            peers: BTreeMap::new(),
            known_reported: false,
            flushed_for_doer: false,
            doer_made_room: false,
        }
    }

    pub fn id(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Takes one more of `owner`'s connections, if its limit allows.
    pub fn claim(&mut self, owner: u64) -> Result<(), NetError> {
        let info = self.owners.get_mut(&owner).ok_or(NetError::AccessEnded)?;
        if info.held >= info.limits.connections {
            return Err(NetError::Connections(info.limits.connections));
        }
        info.held += 1;
        Ok(())
    }

    /// Takes one more of `owner`'s connections, past its limit if need be
    /// (the connection exists already).
    pub fn claim_unchecked(&mut self, owner: u64) {
        if let Some(info) = self.owners.get_mut(&owner) {
            info.held += 1;
        }
    }

    pub fn unclaim(&mut self, owner: u64) {
        if let Some(info) = self.owners.get_mut(&owner) {
            info.held = info.held.saturating_sub(1);
        }
    }

    pub fn limits(&self, owner: u64) -> ConnLimits {
        self.owners
            .get(&owner)
            .map_or_else(ConnLimits::default, |o| o.limits)
    }

    /// Ends connection `id` and lets its socket go.
    pub fn end(&mut self, id: u64, end: End) {
        if let Some(mut sock) = self.conns.get_mut(&id).and_then(|c| c.sock.take()) {
            self.backend.deregister(&mut sock);
        }
        if let Some(c) = self.conns.get_mut(&id) {
            c.finish(end);
        }
    }

    /// Drops connection `id` from the registry, closing its socket.
    pub fn remove(&mut self, id: u64) {
        if let Some(mut c) = self.conns.remove(&id) {
            if let Some(mut sock) = c.sock.take() {
                self.backend.deregister(&mut sock);
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

    /// Forgets connections their doers let go of once they are done.
    pub fn sweep(&mut self) {
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

    /// Closes listener `lid` and the connections it accepted that no doer
    /// took.
    pub fn close_listener(&mut self, lid: u64) {
        let Some(mut l) = self.listeners.remove(&lid) else {
            return;
        };
        self.backend.unbind(lid, &mut l.sock);
        self.unclaim(l.owner);
        for id in l.pending {
            self.end(id, End::Closed);
            self.remove(id);
        }
    }

    /// Lets connection `id` go (if its doer has not already): see
    /// [`let_go`].
    pub fn let_go(&mut self, id: u64) {
        let tyme = self.tyme;
        if let Some(c) = self.conns.get_mut(&id)
            && !c.dropped
        {
            let_go(c, tyme);
        }
    }

    /// The `Date` of responses this tick: the run's wall start plus tyme.
    pub fn date(&self) -> String {
        let at = self
            .wall_start
            .saturating_add(Duration::try_from_secs_f64(self.tyme).unwrap_or(Duration::ZERO));
        http_date(at)
    }
}

/// Lets a connection go: what was written is flushed (within the idle
/// timeout, or a linger time), then it closes.
pub(crate) fn let_go(c: &mut Conn, tyme: f64) {
    if (c.connecting || c.retry_at.is_some()) && c.send.is_empty() {
        // Not connected and nothing to send: no dialing on.
        c.finish(End::Closed);
    }
    c.dropped = true;
    c.shut = true;
    c.touch(tyme);
}
