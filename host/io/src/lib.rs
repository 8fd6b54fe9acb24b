//! hio's host-owned I/O: every socket and every TLS session belongs to the
//! host, and doers reach them only through handles. It owns the run's
//! network ([`Net`]: listeners, connections, HTTP servers and outgoing
//! requests), its servicing between ticks ([`NetService`]), the simulated
//! network that can stand in for the operating system's ([`SimConfig`]),
//! the sans-IO HTTP/1.1 codec ([`http`]), the TLS settings ([`tls`]) and
//! the wire log's format ([`wire`]). No Wasm is in it: hio-wasm turns a
//! doer's host calls into calls on a [`Net`].
//!
//! A [`Net`] holds the run's listeners and connections. Each connection has
//! bounded receive and send buffers: a doer reads what arrived and writes
//! what fits ([`Net::write`] says how many bytes it took), and a full buffer
//! is back pressure: a full receive buffer stops reading from the socket,
//! a full send buffer takes no more. The sockets are serviced only at fixed
//! points of each tick, through [`NetService`] (the scheduler's
//! [`Services`](hio_scheduler::Services) seam): before the doers' turn it
//! accepts, connects, receives and moves TLS handshakes on; after the turn
//! it flushes the send buffers; between ticks it waits in the poll. So what
//! a doer sees in tick N is exactly what arrived before tick N.
//!
//! How data flows through it:
//!
//! ```text
//!  doer: Net::write(conn, bytes) ──▶ send buffer (what fits; the rest is
//!        │                            back pressure: write says how much)
//!        ▼
//!  NetService::after (flush) ──▶ TLS records (rustls) ──▶ backend:
//!                                   a socket (mio) or a simulated link
//!  … the peer …
//!  backend ──▶ NetService::before (accept, connect, receive, TLS, HTTP
//!              decode) ──▶ receive buffer (or an HTTP request's body)
//!        ▼
//!  doer: Net::read(conn, max), Net::http_read(request, max), …
//! ```
//!
//! Where to start reading: `net.rs` lists the parts of a [`Net`]:
//! `net/api.rs` is what doers call, `net/service.rs` the passes between
//! ticks, `net/backend.rs` the operating system's or the simulated
//! network's side of each step, `conn.rs` one connection's buffers, socket
//! and TLS session, and `sim.rs` the simulated network. Handles are typed
//! ([`ConnId`], [`ListenerId`], [`ServerId`], [`RequestId`], [`OutgoingId`])
//! and refusals are enums of causes ([`NetError`], [`ConnFailure`],
//! [`HttpCallError`], [`ExchangeError`]) whose text is what doers see.
//!
//! Timeouts (connect, idle) and reconnect back-offs are measured in tyme.
//! Every listener and connection belongs to an [`Owner`] (one doer
//! instance); dropping the owner closes them all, so nothing outlives its
//! doer. TLS is rustls, sans-IO over the same buffers ([`tls`]).
//!
//! ```
//! use hio_io::{ConnLimits, ConnState, HostPort, Net};
//! use hio_scheduler::{Services, Tick};
//!
//! let net = Net::new().unwrap();
//! let owner = net.owner(ConnLimits::default());
//! let addr = HostPort::parse("127.0.0.1:0").unwrap();
//! let listener = net.listen(&owner, &addr, None).unwrap();
//! let bound = net.listener_address(listener).unwrap();
//! let mut peer = std::net::TcpStream::connect(bound).unwrap();
//! let mut service = net.service();
//! // The host accepts before a tick; the doer takes the connection.
//! let conn = loop {
//!     service.before(Tick { tyme: 0.0, early: false });
//!     if let Some(c) = net.accept(listener) { break c; }
//! };
//! assert_eq!(net.state(conn), ConnState::Open);
//! assert_eq!(net.write(conn, b"hi"), 2);
//! service.after(0.0); // flushed to the peer
//! let mut got = [0u8; 2];
//! std::io::Read::read_exact(&mut peer, &mut got).unwrap();
//! assert_eq!(&got, b"hi");
//! ```
//!
//! # The simulated network
//!
//! [`Net::simulated`] builds a `Net` whose listeners, connects and bytes
//! live in memory: the same API and the same [`NetService`] work on it,
//! plain or TLS, and so do the HTTP servers and requests, but nothing
//! touches the operating system and nothing moves except in the service's
//! passes. Time there counts ticks (service passes; the first `before` is
//! tick 0): what a doer writes in tick `t` is taken onto its link by the
//! `after` pass and delivered by the `before` pass of tick `t + 1` (plus
//! any delay), into the reader's socket, whence the connection reads it as
//! from a real one. Deadlines (connect, idle, header timeouts, reconnect
//! back-offs) stay in tyme. The wait between ticks never blocks on
//! anything; [`Net::next_due`] tells a harness that jumps time ahead
//! whether a pass is needed now, at a deadline, or not at all.
//!
//! Addresses are virtual: an IP literal is itself, `localhost` is
//! 127.0.0.1, any other name a fixed address in 10.0.0.0/8 drawn from the
//! name. Port 0 and clients' own ports count up from 40000. An address
//! listened on twice is in use; a connect to one no one listens on is
//! refused (`Failed("connect failed: connection refused")`, or retried
//! with `reconnect`). Each direction of a connection holds at most 256 KiB
//! between writer and reader; a writer past that is held back, as by a
//! kernel's buffers.
//!
//! Everything is ordered and drawn from [`SimConfig::seed`]: the same seed and
//! the same calls give the same bytes at the same ticks (a TLS session's
//! own randomness aside). [`Faults`] adds seeded trouble: delays, random
//! segmentation, stalls, resets, half-closes, refused and unanswered
//! connects, random and scripted partitions (see each field for exactly
//! what it does).
//!
//! ```
//! use hio_io::{ConnLimits, ConnState, Faults, HostPort, Net, SimConfig};
//! use hio_scheduler::{Services, Tick};
//!
//! let net = Net::simulated(SimConfig {
//!     seed: 1,
//!     faults: Faults { segment: true, ..Faults::default() },
//! });
//! let owner = net.owner(ConnLimits::default());
//! let addr = HostPort::parse("db.internal:5432").unwrap();
//! let listener = net.listen(&owner, &addr, None).unwrap();
//! let client = net.connect(&owner, &addr, None, false).unwrap();
//! let mut service = net.service();
//! let (mut server, mut got) = (None, Vec::new());
//! for tick in 0..100 {
//!     let tyme = tick as f64 * 0.01;
//!     service.before(Tick { tyme, early: false });
//!     server = server.or_else(|| net.accept(listener));
//!     if tick == 2 {
//!         assert_eq!(net.state(client), ConnState::Open);
//!         assert_eq!(net.write(client, b"hello, in pieces"), 16);
//!     }
//!     if let Some(s) = server {
//!         got.extend(net.read(s, 1024));
//!     }
//!     service.after(tyme);
//! }
//! assert_eq!(got, b"hello, in pieces");
//! ```

mod addr;
mod buf;
mod conn;
mod error;
pub mod http;
mod ids;
mod net;
mod sim;
mod state;
pub mod tls;
pub mod wire;

pub use addr::{AddrGrant, HostPort, granted};
pub use error::{ConnFailure, ExchangeError, HttpCallError, NetError, NetErrorKind};
pub use ids::{ConnId, ListenerId, OutgoingId, RequestId, ServerId};
pub use net::{Net, NetService, Owner};
pub use sim::{Faults, SimConfig};
pub use state::ConnState;

/// Per-doer network limits and timeouts (the manifest's `limits`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConnLimits {
    /// Listeners and connections a doer holds at once (accepted ones not yet
    /// taken count for the listener's owner).
    pub connections: u32,
    /// Accepted connections a listener holds until the doer takes them;
    /// beyond it the rest wait in the kernel's backlog.
    pub backlog: u32,
    /// Connections one peer address may hold at once on one listener
    /// (accepted, taken or not); more from it are closed as they are
    /// accepted (an HTTP server first answers them 503).
    pub peer_connections: u32,
    /// Receive buffer per connection, in bytes.
    pub recv_buffer: usize,
    /// Send buffer per connection, in bytes.
    pub send_buffer: usize,
    /// Tyme a connect (all its attempts, and a TLS handshake) may take; 0
    /// for none.
    pub connect_timeout: f64,
    /// Tyme a connection may go without a byte in either direction; 0 for
    /// none.
    pub idle_timeout: f64,
    /// Tyme an HTTP request head may take to arrive (408 and close after
    /// it); 0 for none.
    pub header_timeout: f64,
    /// First reconnect back-off, in tyme; it doubles on each failure.
    pub backoff: f64,
    /// Largest reconnect back-off.
    pub max_backoff: f64,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            connections: 256,
            backlog: 64,
            peer_connections: 192,
            recv_buffer: 64 << 10,
            send_buffer: 64 << 10,
            connect_timeout: 10.0,
            idle_timeout: 60.0,
            header_timeout: 10.0,
            backoff: 0.125,
            max_backoff: 4.0,
        }
    }
}
