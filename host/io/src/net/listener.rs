//! A listener of a [`Net`](crate::Net): its socket, its owner and the
//! connections it accepted that no doer took yet.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

use mio::net::TcpListener;
use rustls::ServerConfig;

/// A listener's socket: a real one, or an address bound in the simulated
/// network.
pub(crate) enum ListenSock {
    Tcp(TcpListener),
    Sim,
}

impl ListenSock {
    /// Whether connections may be waiting as soon as it is bound (a real
    /// socket's backlog; the simulated network says so at its next pass).
    pub fn starts_readable(&self) -> bool {
        matches!(self, ListenSock::Tcp(_))
    }
}

pub(crate) struct Listener {
    pub owner: u64,
    pub sock: ListenSock,
    pub local: SocketAddr,
    pub tls: Option<Arc<ServerConfig>>,
    /// Accepted connections no doer took yet, oldest first.
    pub pending: VecDeque<u64>,
    /// Connections may be waiting to be accepted.
    pub readable: bool,
}
