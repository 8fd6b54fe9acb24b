//! A connection's state as a doer sees it ([`ConnState`]), and why the
//! host ended one ([`End`]).

use crate::ConnFailure;

/// A connection's state, as a doer sees it (mirrors the WIT `state`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    /// A connect or a TLS handshake is under way, or a reconnect waits out
    /// its back-off.
    Connecting,
    /// Bytes flow both ways.
    Open,
    /// The peer half-closed; what arrived stays readable, writing works.
    PeerClosed,
    /// The peer reset it.
    Reset,
    /// The connect or idle timeout passed.
    TimedOut,
    /// Both directions finished, or the host closed it.
    Closed,
    /// The connect, the TLS handshake or the socket failed.
    Failed(ConnFailure),
}

/// Why a connection ended (its socket is gone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum End {
    Reset,
    TimedOut,
    Failed(ConnFailure),
    Closed,
}
