//! Resource caps: the per-doer `limits` (on the root, a DoDoer or a doer;
//! the nearest one's key wins) and the engine-wide `[engine]` table the
//! per-doer ones stay within.
//!
//! Not to be confused with the root's `limit`, the tyme the run ends at
//! ([`Manifest::end`](super::Manifest::end), read with the run's settings).

use std::time::Duration;

use toml::Table;

use super::reader::{Ctx, KeyPath, Res};
use hio_wasm::EngineLimits;

/// A doer's resource caps (TOML key `limits`), as effective values: its
/// own keys win, then its nearest ancestor's, then the root's, then the
/// defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Linear memory cap in bytes.
    pub memory: u64,
    /// Fuel per hook call.
    pub fuel: u64,
    /// Largest deck item the doer may push or pull, in bytes.
    pub message: u64,
    /// Host-side handles (WASI resources) the doer may hold at once.
    pub handles: u32,
    /// Bytes one hook call may hand the host (log messages, deck names and
    /// items, guest output).
    pub host_bytes: u64,
    /// Connections and listeners the doer may hold at once, counting
    /// connections accepted for it but not yet taken.
    pub connections: u32,
    /// Accepted connections waiting per listener.
    pub backlog: u32,
    /// Connections one peer address may hold at once on one of the doer's
    /// listeners; more from it are closed as they are accepted.
    pub peer_connections: u32,
    /// Receive buffer per connection, in bytes.
    pub recv_buffer: u64,
    /// Send buffer per connection, in bytes.
    pub send_buffer: u64,
    /// Seconds of tyme a connect (with its TLS handshake) may take; 0 = no
    /// timeout.
    pub connect_timeout: f64,
    /// Seconds of tyme a connection may stay idle; 0 = no timeout.
    pub idle_timeout: f64,
    /// Seconds of tyme an HTTP request head may take to arrive (408 and
    /// close after it); 0 = no timeout.
    pub header_timeout: f64,
    /// First back-off before a reconnect, in seconds of tyme (doubles on
    /// each retry).
    pub reconnect_backoff: f64,
    /// Longest back-off between reconnects, in seconds of tyme.
    pub max_backoff: f64,
    /// Child doers the doer may have spawned and alive at once.
    pub children: u32,
}

/// Default fuel per hook call.
pub const DEFAULT_FUEL: u64 = 10_000_000;
/// Default largest message (deck item) per doer.
pub const DEFAULT_MESSAGE: u64 = 64 << 10;
/// Default host-side handles per doer.
pub const DEFAULT_HANDLES: u32 = 1024;
/// Default connections (and listeners) per doer.
pub const DEFAULT_CONNECTIONS: u32 = 256;
/// Default accepted connections waiting per listener.
pub const DEFAULT_BACKLOG: u32 = 64;
/// Default connections per peer address and listener: three quarters of
/// the default `connections`, so one client cannot take them all (64 stay
/// for everyone else), and a benchmark of up to 192 connections from one
/// address still works.
pub const DEFAULT_PEER_CONNECTIONS: u32 = 192;
/// Default receive buffer per connection, in bytes.
pub const DEFAULT_RECV_BUFFER: u64 = 64 << 10;
/// Default send buffer per connection, in bytes.
pub const DEFAULT_SEND_BUFFER: u64 = 64 << 10;
/// Default connect timeout, in seconds of tyme.
pub const DEFAULT_CONNECT_TIMEOUT: f64 = 10.0;
/// Default idle timeout, in seconds of tyme.
pub const DEFAULT_IDLE_TIMEOUT: f64 = 60.0;
/// Default time an HTTP request head may take to arrive.
pub const DEFAULT_HEADER_TIMEOUT: f64 = 10.0;
/// Default first back-off before a reconnect, in seconds of tyme.
pub const DEFAULT_RECONNECT_BACKOFF: f64 = 0.125;
/// Default longest back-off between reconnects, in seconds of tyme.
pub const DEFAULT_MAX_BACKOFF: f64 = 4.0;
/// Default child doers alive at once per doer.
pub const DEFAULT_CHILDREN: u32 = 64;

const ENGINE_KEYS: &[&str] = &[
    "max_memory",
    "max_wasm_stack",
    "max_table_elements",
    "watchdog",
];

const LIMIT_KEYS: &[&str] = &[
    "memory",
    "fuel",
    "message",
    "handles",
    "host_bytes",
    "connections",
    "backlog",
    "peer_connections",
    "recv_buffer",
    "send_buffer",
    "connect_timeout",
    "idle_timeout",
    "header_timeout",
    "reconnect_backoff",
    "max_backoff",
    "children",
];

/// The root's `[engine]` table: the engine-wide caps (defaults where
/// absent).
pub(super) fn engine(cx: &Ctx<'_>, t: &Table, path: &KeyPath) -> Res<EngineLimits> {
    let mut e = EngineLimits::default();
    let Some((s, p)) = cx.section(t, "engine", path, ENGINE_KEYS)? else {
        return Ok(e);
    };
    if let Some(m) = cx.size(s, "max_memory", &p)? {
        if m < 64 << 10 {
            return Err(cx.err(
                &p.key("max_memory"),
                "must be at least 64KiB (one Wasm page)",
            ));
        }
        e.max_memory = m;
    }
    if let Some(m) = cx.size(s, "max_wasm_stack", &p)? {
        if m < 4 << 10 {
            return Err(cx.err(&p.key("max_wasm_stack"), "must be at least 4KiB"));
        }
        e.max_wasm_stack = usize::try_from(m).unwrap_or(usize::MAX);
    }
    if let Some(n) = cx.integer(s, "max_table_elements", &p, 1)? {
        e.max_table_elements = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(secs) = cx.seconds(s, "watchdog", &p, false)? {
        // Kept as given (0 = off); it applies in real mode only.
        e.watchdog = Some(
            Duration::try_from_secs_f64(secs)
                .map_err(|_| cx.err(&p.key("watchdog"), format!("{secs} s is not a duration")))?,
        );
    }
    Ok(e)
}

/// The limits every doer starts from, before the root's `limits`.
pub(super) fn default_limits(engine: &EngineLimits) -> Limits {
    Limits {
        memory: engine.max_memory,
        fuel: DEFAULT_FUEL,
        message: DEFAULT_MESSAGE,
        handles: DEFAULT_HANDLES,
        host_bytes: hio_wasm::DEFAULT_HOST_BYTES,
        connections: DEFAULT_CONNECTIONS,
        backlog: DEFAULT_BACKLOG,
        peer_connections: DEFAULT_PEER_CONNECTIONS,
        recv_buffer: DEFAULT_RECV_BUFFER,
        send_buffer: DEFAULT_SEND_BUFFER,
        connect_timeout: DEFAULT_CONNECT_TIMEOUT,
        idle_timeout: DEFAULT_IDLE_TIMEOUT,
        header_timeout: DEFAULT_HEADER_TIMEOUT,
        reconnect_backoff: DEFAULT_RECONNECT_BACKOFF,
        max_backoff: DEFAULT_MAX_BACKOFF,
        children: DEFAULT_CHILDREN,
    }
}

/// The `limits` of the table `t` (the root or a node) laid over
/// `inherited`; a `memory` above the engine's `max_memory` is an error.
pub(super) fn limits(
    cx: &Ctx<'_>,
    t: &Table,
    path: &KeyPath,
    inherited: Limits,
    engine: &EngineLimits,
) -> Res<Limits> {
    let Some((s, p)) = cx.section(t, "limits", path, LIMIT_KEYS)? else {
        return Ok(inherited);
    };
    let mut l = inherited;
    if let Some(m) = cx.size(s, "memory", &p)? {
        if m > engine.max_memory {
            return Err(cx.err(
                &p.key("memory"),
                format!(
                    "{m} bytes is above the engine's max_memory ({} bytes)",
                    engine.max_memory
                ),
            ));
        }
        l.memory = m;
    }
    if let Some(f) = cx.integer(s, "fuel", &p, 1)? {
        l.fuel = f.unsigned_abs();
    }
    if let Some(m) = cx.size(s, "message", &p)? {
        l.message = m;
    }
    if let Some(b) = cx.size(s, "host_bytes", &p)? {
        l.host_bytes = b;
    }
    for (key, field, min) in [
        ("handles", &mut l.handles, 1),
        ("connections", &mut l.connections, 1),
        ("backlog", &mut l.backlog, 1),
        ("peer_connections", &mut l.peer_connections, 1),
        ("children", &mut l.children, 0),
    ] {
        if let Some(n) = cx.count(s, key, &p, min)? {
            *field = n;
        }
    }
    for (key, field) in [
        ("recv_buffer", &mut l.recv_buffer),
        ("send_buffer", &mut l.send_buffer),
    ] {
        match cx.size(s, key, &p)? {
            Some(0) => return Err(cx.err(&p.key(key), "must be at least 1 byte")),
            Some(n) => *field = n,
            None => {}
        }
    }
    for (key, field, positive) in [
        ("connect_timeout", &mut l.connect_timeout, false),
        ("idle_timeout", &mut l.idle_timeout, false),
        ("header_timeout", &mut l.header_timeout, false),
        ("reconnect_backoff", &mut l.reconnect_backoff, true),
        ("max_backoff", &mut l.max_backoff, false),
    ] {
        if let Some(x) = cx.seconds(s, key, &p, positive)? {
            *field = x;
        }
    }
    if l.max_backoff < l.reconnect_backoff {
        // Blame the key this table sets (max_backoff, else reconnect_backoff).
        let key = if s.contains_key("max_backoff") {
            "max_backoff"
        } else {
            "reconnect_backoff"
        };
        return Err(cx.err(
            &p.key(key),
            format!(
                "max_backoff ({}) must be >= reconnect_backoff ({})",
                l.max_backoff, l.reconnect_backoff
            ),
        ));
    }
    Ok(l)
}
