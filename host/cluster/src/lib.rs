//! hio's hosts: remote decks carried by NATS JetStream (work in progress on
//! the `hosts` branch; see `host/cluster/DESIGN.md`).

pub mod server;
