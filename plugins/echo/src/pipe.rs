//! Echo over one host-owned connection, a tick at a time, shared by the
//! `echo` and `echo-conn` plugins (`echo-conn` includes this file).
//!
//! Bytes read but not yet taken by the send buffer wait in `pending` and go
//! first on the next tick; nothing more is read while any wait (back
//! pressure: the peer's bytes stay in the host's receive buffer). When the
//! peer half-closed, echoing goes on until everything it sent was written
//! back, then this side shuts down and the pipe is finished.

use hio_guest::net::{Connection, State};

/// The most bytes read at once, so the most that can wait in `pending`.
pub const MAX_PENDING: u32 = 64 * 1024;

/// Read-then-write rounds per tick at most, so a tick stays bounded.
const ROUNDS: usize = 64;

/// One echoed connection.
pub struct Pipe {
    conn: Connection,
    /// Read, not yet taken by the send buffer; at most `MAX_PENDING`.
    pending: Vec<u8>,
    /// The peer's address, for the log.
    pub peer: String,
    /// Bytes echoed so far.
    pub echoed: u64,
}

impl Pipe {
    /// A pipe over `conn`.
    pub fn new(conn: Connection) -> Self {
        let peer = conn.peer_address();
        Pipe {
            conn,
            pending: Vec::new(),
            peer,
            echoed: 0,
        }
    }

    /// Echoes what it can this tick. `Some(why)` when the connection is
    /// finished and the pipe can be dropped: everything the peer sent was
    /// written back and this side shut down, or the connection is reset,
    /// timed out, failed or closed.
    pub fn pump(&mut self) -> Option<String> {
        let state = self.conn.state();
        match state {
            State::Connecting => return None,
            State::Open | State::PeerClosed => {}
            State::Reset | State::TimedOut | State::Closed | State::Failed(_) => {
                return Some(if self.pending.is_empty() {
                    state.to_string()
                } else {
                    format!("{state} with {} bytes unechoed", self.pending.len())
                });
            }
        }
        for _ in 0..ROUNDS {
            if !self.flush() {
                break; // The send buffer is full: the rest waits.
            }
            let room = self.conn.room().min(MAX_PENDING);
            if room == 0 || self.conn.available() == 0 {
                break;
            }
            self.pending = self.conn.read(room);
            if self.pending.is_empty() {
                break;
            }
        }
        if state == State::PeerClosed && self.pending.is_empty() && self.conn.available() == 0 {
            self.conn.shutdown();
            return Some("peer closed, everything echoed, shut down".to_owned());
        }
        None
    }

    /// Writes what fits of `pending`; `true` when nothing is left waiting.
    fn flush(&mut self) -> bool {
        if self.pending.is_empty() {
            return true;
        }
        let taken = (self.conn.write(&self.pending) as usize).min(self.pending.len());
        self.pending.drain(..taken);
        self.echoed += taken as u64;
        self.pending.is_empty()
    }
}
