//! Host-owned TCP and TLS through Wasm doers, on loopback with real
//! sockets: doers as servers and clients, peers that are not doers, back
//! pressure, resets, half-closes, timeouts, TLS.

#![allow(clippy::unwrap_used)]

mod defects;
mod http;
mod limits;
mod replay;
mod tcp;
mod timeouts;
mod tls;
mod util;
