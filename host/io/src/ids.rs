//! The handles a [`Net`](crate::Net) gives out: one type per kind, each a
//! number the wire log keeps as is, so a replay gives the same handles back.

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub(crate) u64);

        impl $name {
            /// The number behind it (as a wire log keeps it).
            pub fn raw(self) -> u64 {
                self.0
            }

            /// The handle numbered `n` (as a replay gives it back).
            pub fn from_raw(n: u64) -> $name {
                $name(n)
            }
        }
    };
}

handle!(
    /// A connection of a [`Net`](crate::Net).
    ConnId
);
handle!(
    /// A listener of a [`Net`](crate::Net).
    ListenerId
);
handle!(
    /// An HTTP server of a [`Net`](crate::Net) (its listener and its
    /// connections).
    ServerId
);
handle!(
    /// A request an HTTP server received, and its response.
    RequestId
);
handle!(
    /// A request a doer sends ([`Net::http_send`](crate::Net::http_send)),
    /// and its response.
    OutgoingId
);
