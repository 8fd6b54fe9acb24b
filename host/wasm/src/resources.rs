//! The resource types the host hands doers as handles (the `bindgen!`
//! `with` entries point here): each holds the network's id for what it
//! names, and nothing else. A leaf: the interface files implement the
//! generated traits on them, and the bindings name them.

use hio_io::wire::Wire;
use hio_io::{ConnId, ListenerId, OutgoingId, RequestId, ServerId};

/// A handle's id on the run's network, as a call's checksum and the
/// network's calls take it.
pub(crate) trait Handle: Send + 'static {
    /// The network's id for what the handle names.
    type Id: Wire + Copy;

    /// The id.
    fn id(&self) -> Self::Id;
}

/// A listener handle in a doer's resource table.
pub struct ListenerRes(pub(crate) ListenerId);

/// A connection handle in a doer's resource table, and the listener that
/// accepted it for this doer, if one did.
pub struct ConnRes(pub(crate) ConnId, pub(crate) Option<ListenerId>);

/// An HTTP server handle in a doer's resource table.
pub struct ServerRes(pub(crate) ServerId);

/// An HTTP request handle (a request a server received) in a doer's
/// resource table.
pub struct RequestRes(pub(crate) RequestId);

/// An outgoing HTTP request handle in a doer's resource table.
pub struct OutgoingRes(pub(crate) OutgoingId);

impl Handle for ListenerRes {
    type Id = ListenerId;
    fn id(&self) -> ListenerId {
        self.0
    }
}

impl Handle for ConnRes {
    type Id = ConnId;
    fn id(&self) -> ConnId {
        self.0
    }
}

impl Handle for ServerRes {
    type Id = ServerId;
    fn id(&self) -> ServerId {
        self.0
    }
}

impl Handle for RequestRes {
    type Id = RequestId;
    fn id(&self) -> RequestId {
        self.0
    }
}

impl Handle for OutgoingRes {
    type Id = OutgoingId;
    fn id(&self) -> OutgoingId {
        self.0
    }
}
