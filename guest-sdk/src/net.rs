//! TCP and TLS owned by the host.
//!
//! The host owns every socket and every buffer. Nothing blocks: a doer
//! reads what arrived before its tick ([`Connection::read`]) and writes what
//! fits in the connection's bounded send buffer ([`Connection::write`] says
//! how many bytes it took); the host flushes after the doers' turn. A full
//! send buffer is back pressure: keep the rest and try again next tick.
//!
//! Listeners and connections belong to the doer that opened, accepted or
//! was handed them ([`crate::children::handed`]) and are closed when it
//! exits; dropping a [`Connection`] closes it once what was written is
//! flushed. Which addresses a doer may listen on or connect to, and its TLS
//! certificates, keys and roots, are the ones its manifest grants.
//!
//! ```no_run
//! use hio_guest::net::{Connection, Listener, State};
//!
//! # fn main() -> Result<(), hio_guest::net::NetError> {
//! let listener = Listener::listen("127.0.0.1:7700")?;
//! while let Some(conn) = listener.accept() {
//!     if conn.state() == State::Open {
//!         let bytes = conn.read(4096);
//!         let taken = conn.write(&bytes);
//!         // bytes[taken..] did not fit: keep them for the next tick.
//!         # let _ = taken;
//!     }
//! }
//! let client = Connection::connect("127.0.0.1:7701", true)?;
//! # let _ = client;
//! # Ok(())
//! # }
//! ```

use std::fmt;

use crate::bindings::hio::doer::tcp::{self, ConnectOptions};
use crate::bindings::hio::doer::tls;

pub use crate::bindings::hio::doer::tcp::State;

/// Why the host refused to listen or connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetError {
    /// The manifest does not grant this address (or TLS setting) to this
    /// doer; the text says what was asked.
    NotGranted(String),
    /// The address does not parse or does not resolve.
    BadAddress(String),
    /// A limit was reached (connections per doer); the text names it.
    Limit(String),
    /// The operating system refused (address in use, …).
    Io(String),
}

impl From<tcp::NetError> for NetError {
    fn from(e: tcp::NetError) -> Self {
        match e {
            tcp::NetError::NotGranted(s) => NetError::NotGranted(s),
            tcp::NetError::BadAddress(s) => NetError::BadAddress(s),
            tcp::NetError::Limit(s) => NetError::Limit(s),
            tcp::NetError::Io(s) => NetError::Io(s),
        }
    }
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetError::NotGranted(s) => write!(f, "not granted: {s}"),
            NetError::BadAddress(s) => write!(f, "bad address: {s}"),
            NetError::Limit(s) => write!(f, "limit reached: {s}"),
            NetError::Io(s) => write!(f, "i/o error: {s}"),
        }
    }
}

impl std::error::Error for NetError {}

impl PartialEq for State {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (State::Failed(a), State::Failed(b)) => a == b,
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }
}

impl Eq for State {}

impl State {
    /// Whether the connection is finished: [`State::Reset`],
    /// [`State::TimedOut`], [`State::Closed`] or [`State::Failed`]. Nothing
    /// can be written any more (what arrived before may still be readable).
    pub fn is_finished(&self) -> bool {
        matches!(
            self,
            State::Reset | State::TimedOut | State::Closed | State::Failed(_)
        )
    }

    /// The state's WIT name (`peer-closed`, `failed`, …), without the
    /// failure's reason.
    pub fn name(&self) -> &'static str {
        match self {
            State::Connecting => "connecting",
            State::Open => "open",
            State::PeerClosed => "peer-closed",
            State::Reset => "reset",
            State::TimedOut => "timed-out",
            State::Closed => "closed",
            State::Failed(_) => "failed",
        }
    }
}

/// The WIT name, and for [`State::Failed`] the reason: `failed: …`.
impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::Failed(reason) => write!(f, "failed: {reason}"),
            other => f.write_str(other.name()),
        }
    }
}

fn owned<S: AsRef<str>>(list: &[S]) -> Vec<String> {
    list.iter().map(|s| s.as_ref().to_owned()).collect()
}

/// A socket listening on a granted address.
#[derive(Debug)]
pub struct Listener(tcp::Listener);

impl Listener {
    /// Listens on `addr` (`host:port`; port 0 lets the system pick, as the
    /// grant allows), plain TCP.
    pub fn listen(addr: &str) -> Result<Listener, NetError> {
        Ok(Listener(tcp::Listener::listen(addr)?))
    }

    /// Listens on `addr` with TLS, with the certificate and key the
    /// manifest grants this doer, offering the `alpn` protocols in order of
    /// preference (empty for none).
    pub fn tls_listen<S: AsRef<str>>(addr: &str, alpn: &[S]) -> Result<Listener, NetError> {
        Ok(Listener(tls::listen(addr, &owned(alpn))?))
    }

    /// The address it is bound to, with the port the system picked.
    pub fn address(&self) -> String {
        self.0.address()
    }

    /// The oldest connection the host accepted for it before this tick;
    /// `None` when there is none. Call it until `None` to take them all.
    pub fn accept(&self) -> Option<Connection> {
        self.0.accept().map(Connection)
    }
}

/// One connection, plain or TLS. Dropping it closes it: what was written
/// is still flushed (within the idle timeout), then the socket closes.
#[derive(Debug)]
pub struct Connection(pub(crate) tcp::Connection);

impl Connection {
    /// Connects to `addr` (`host:port`), plain TCP. With `reconnect`, a
    /// refused or failed connect is retried after a back-off in tyme that
    /// doubles up to the doer's `max_backoff`, until the connect timeout.
    /// The connection starts in [`State::Connecting`].
    pub fn connect(addr: &str, reconnect: bool) -> Result<Connection, NetError> {
        let options = ConnectOptions { reconnect };
        Ok(Connection(tcp::Connection::connect(addr, options)?))
    }

    /// Connects to `addr` with TLS, verifying the server as `server_name`
    /// against the roots the manifest grants, offering the `alpn`
    /// protocols; `reconnect` as for [`Connection::connect`].
    pub fn tls_connect<S: AsRef<str>>(
        addr: &str,
        server_name: &str,
        alpn: &[S],
        reconnect: bool,
    ) -> Result<Connection, NetError> {
        let options = ConnectOptions { reconnect };
        Ok(Connection(tls::connect(
            addr,
            server_name,
            &owned(alpn),
            options,
        )?))
    }

    /// The state as of the start of this tick (and of this tick's calls).
    pub fn state(&self) -> State {
        self.0.state()
    }

    /// Takes up to `max` bytes of what arrived; empty when none did.
    pub fn read(&self, max: u32) -> Vec<u8> {
        self.0.read(max)
    }

    /// Bytes waiting to be read.
    pub fn available(&self) -> u32 {
        self.0.available()
    }

    /// Queues what fits of `bytes` in the send buffer and says how many
    /// bytes it took, from the front: 0 when the buffer is full or the
    /// connection cannot send. Keep `bytes[taken..]` for a later tick.
    pub fn write(&self, bytes: &[u8]) -> u32 {
        self.0.write(bytes)
    }

    /// Bytes the send buffer can take now.
    pub fn room(&self) -> u32 {
        self.0.room()
    }

    /// Half-closes: no more writes; once what was written is flushed the
    /// peer sees the end of the stream. Reading goes on.
    pub fn shutdown(&self) {
        self.0.shutdown();
    }

    /// This side's address.
    pub fn local_address(&self) -> String {
        self.0.local_address()
    }

    /// The peer's address.
    pub fn peer_address(&self) -> String {
        self.0.peer_address()
    }

    /// The ALPN protocol a TLS handshake agreed on; `None` for plain TCP,
    /// before the handshake ends, or when none was agreed.
    pub fn alpn(&self) -> Option<String> {
        self.0.alpn()
    }

    /// The WIT resource, for the interfaces that take it.
    pub(crate) fn into_wit(self) -> tcp::Connection {
        self.0
    }
}
