//! hio's hosts: remote decks carried by NATS JetStream, serviced by a
//! runtime thread of their own so the scheduler stays free of async (see
//! `docs/hosts.md`).

mod cluster;
mod deck;
mod lockstep;
pub mod server;
mod tasks;

pub use cluster::{Cluster, ClusterConfig};
pub use deck::{RemoteDeck, RemoteError};
pub use lockstep::{Lockstep, Messages};
