//! [`Net`]: the run's listeners and connections, their owners, and the
//! service that moves their bytes between ticks. One concern a file:
//!
//! - `api.rs`: what doers call (owners, listen, connect, read, write,
//!   close); `http_server.rs` and `outgoing.rs` add the HTTP calls, with
//!   what they share in `exchange.rs`;
//! - `service.rs`: the [`NetService`] passes before and after the doers'
//!   turn (accept, connect, receive, flush) and the wait between ticks;
//! - `backend.rs`: the operating system's sockets or the simulated
//!   network, one [`Backend`](backend::Backend) and every difference
//!   between the two;
//! - `registry.rs`: the state all of them work on (owners, listeners,
//!   connections, ids), `listener.rs` a listener, `http_tables.rs` the
//!   HTTP servers, requests and outgoing requests.

mod api;
mod backend;
mod exchange;
mod http_server;
mod http_tables;
mod listener;
mod outgoing;
mod registry;
mod service;

pub use api::{Net, Owner};
pub use service::NetService;
