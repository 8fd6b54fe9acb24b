//! What went wrong, as enums of specific causes: a refused network call
//! ([`NetError`]), a connection's failure ([`ConnFailure`]), a refused
//! HTTP call ([`HttpCallError`]) and an outgoing request that failed
//! ([`ExchangeError`]).
//!
//! Each one's `Display` is the text doers, logs and traces see. A wire log
//! keeps only that text (and a [`NetError`]'s kind), so a replay gives back
//! a `Recorded` variant; two values are equal when they read the same.

use crate::http::HttpError;

/// The four kinds of refusal a doer tells apart (the WIT `net-error`'s
/// cases).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetErrorKind {
    /// The manifest does not grant it.
    NotGranted,
    /// The address does not parse or resolve.
    BadAddress,
    /// A limit was reached.
    Limit,
    /// The operating system (or the network's state) refused.
    Io,
}

impl NetErrorKind {
    /// What `Display` puts before the reason.
    fn prefix(self) -> &'static str {
        match self {
            NetErrorKind::NotGranted => "not granted: ",
            NetErrorKind::BadAddress => "bad address: ",
            NetErrorKind::Limit => "limit reached: ",
            NetErrorKind::Io => "",
        }
    }
}

/// Why a network call was refused (its [`kind`](Self::kind) and
/// [`reason`](Self::reason) are the WIT `net-error`).
#[derive(Debug, Clone)]
pub enum NetError {
    /// The manifest does not grant this (what, in words).
    NotGranted(String),
    /// The text is not `host:port`.
    NotHostPort(String),
    /// The resolver could not resolve the host.
    Unresolved {
        /// The host asked for.
        host: String,
        /// The resolver's error.
        why: String,
    },
    /// The name resolved to no address.
    NoAddress(String),
    /// The request's head cannot be sent (the codec's reason).
    BadRequest(HttpError),
    /// The doer holds as many listeners and connections as its limit.
    Connections(u32),
    /// The doer's owner was dropped: its network access has ended.
    AccessEnded,
    /// The address cannot be listened on.
    Listen {
        /// The address asked for.
        addr: String,
        /// The operating system's (or the simulated network's) error.
        why: String,
    },
    /// The operating system refused to watch the socket.
    Poll(String),
    /// A TLS session cannot be started.
    Tls(rustls::Error),
    /// As a wire log recorded it.
    Recorded {
        /// The kind.
        kind: NetErrorKind,
        /// The reason.
        reason: String,
    },
}

impl NetError {
    /// Which of the four kinds it is.
    pub fn kind(&self) -> NetErrorKind {
        match self {
            NetError::NotGranted(_) => NetErrorKind::NotGranted,
            NetError::NotHostPort(_)
            | NetError::Unresolved { .. }
            | NetError::NoAddress(_)
            | NetError::BadRequest(_) => NetErrorKind::BadAddress,
            NetError::Connections(_) => NetErrorKind::Limit,
            NetError::AccessEnded
            | NetError::Listen { .. }
            | NetError::Poll(_)
            | NetError::Tls(_) => NetErrorKind::Io,
            NetError::Recorded { kind, .. } => *kind,
        }
    }

    /// The reason, without the kind's words (what the WIT error carries).
    pub fn reason(&self) -> String {
        match self {
            NetError::NotGranted(what) => what.clone(),
            NetError::NotHostPort(text) => format!("{text:?} is not host:port"),
            NetError::Unresolved { host, why } => format!("{host}: {why}"),
            NetError::NoAddress(host) => format!("{host}: no address"),
            NetError::BadRequest(e) => e.reason.clone(),
            NetError::Connections(limit) => {
                format!("connections: this doer holds {limit} (its limit)")
            }
            NetError::AccessEnded => "the doer's network access has ended".into(),
            NetError::Listen { addr, why } => format!("cannot listen on {addr}: {why}"),
            NetError::Poll(why) => why.clone(),
            NetError::Tls(e) => format!("TLS: {e}"),
            NetError::Recorded { reason, .. } => reason.clone(),
        }
    }
}

impl std::fmt::Display for NetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.kind().prefix(), self.reason())
    }
}

impl std::error::Error for NetError {}

// Equality by what it reads as: an equivalence.
impl Eq for NetError {}

impl PartialEq for NetError {
    fn eq(&self, other: &NetError) -> bool {
        self.kind() == other.kind() && self.reason() == other.reason()
    }
}

/// Why a connection failed (its state [`Failed`](crate::ConnState::Failed)).
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnFailure {
    /// A client connection has no address to connect to.
    #[error("no address to connect to")]
    NoAddress,
    /// The connect failed (and no reconnect is left): the last attempt's
    /// error.
    #[error("connect failed: {0}")]
    Connect(String),
    /// The socket failed.
    #[error("{0}")]
    Socket(String),
    /// The peer closed before the TLS handshake finished.
    #[error("TLS: peer closed during the handshake")]
    HandshakeClosed,
    /// The TLS session failed (a bad record, a certificate refused, an
    /// alert).
    #[error("TLS: {0}")]
    Tls(rustls::Error),
    /// As a wire log recorded it.
    #[error("{0}")]
    Recorded(String),
}

// Equality by what it reads as: an equivalence.
impl Eq for ConnFailure {}

impl PartialEq for ConnFailure {
    fn eq(&self, other: &ConnFailure) -> bool {
        self.to_string() == other.to_string()
    }
}

/// Why a call on an HTTP server's request, or finishing an outgoing
/// request's body, was refused.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HttpCallError {
    /// The request is not (or no longer) there.
    #[error("no such request")]
    NoSuchRequest,
    /// The request's connection failed or closed under it.
    #[error("the connection failed or closed")]
    ConnectionDead,
    /// The connection ended before the response could start.
    #[error("the connection is gone")]
    ConnectionGone,
    /// `respond` was called twice.
    #[error("the response was started already")]
    AlreadyResponding,
    /// `finish` came before `respond`.
    #[error("no response was started")]
    NoResponse,
    /// A response's status must be final.
    #[error("status {0} is not a final status (200 to 999)")]
    NotFinalStatus(u16),
    /// The codec refused the head, body or trailers.
    #[error("{}", .0.reason)]
    Codec(HttpError),
    /// As a wire log recorded it.
    #[error("{0}")]
    Recorded(String),
}

// Equality by what it reads as: an equivalence.
impl Eq for HttpCallError {}

impl PartialEq for HttpCallError {
    fn eq(&self, other: &HttpCallError) -> bool {
        self.to_string() == other.to_string()
    }
}

/// Why an outgoing request failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExchangeError {
    /// The request is not (or no longer) there.
    #[error("no such request")]
    NoSuchRequest,
    /// Its connection is gone.
    #[error("the connection is gone")]
    ConnectionGone,
    /// Its connection was reset.
    #[error("the connection was reset")]
    Reset,
    /// Its connection timed out.
    #[error("the connection timed out")]
    TimedOut,
    /// Its connection failed.
    #[error("{0}")]
    Failed(ConnFailure),
    /// The response does not parse.
    #[error("bad response: {}", .0.reason)]
    BadResponse(HttpError),
    /// The connection ended in the middle of the response.
    #[error("cut off: {}", .0.reason)]
    CutOff(HttpError),
    /// As a wire log recorded it.
    #[error("{0}")]
    Recorded(String),
}

// Equality by what it reads as: an equivalence.
impl Eq for ExchangeError {}

impl PartialEq for ExchangeError {
    fn eq(&self, other: &ExchangeError) -> bool {
        self.to_string() == other.to_string()
    }
}
