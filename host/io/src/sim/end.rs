//! One end of a simulated connection: the bytes delivered to it and not yet
//! read, the bytes written to it and not yet taken onto the link, and what
//! happened to it. A [`SimSock`] is what a connection holds in place of a
//! TCP socket; the simulated network holds the same state to move bytes in and out.

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// How a client's connect stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Connect {
    /// Not answered (yet, or ever).
    Pending,
    /// Answered: the connection is up.
    Up,
    /// Refused, with the reason.
    Refused(String),
}

/// The state of one end, shared by its [`SimSock`] and the simulated network.
#[derive(Debug)]
pub(crate) struct EndState {
    /// Delivered, not yet read.
    pub inbox: VecDeque<u8>,
    /// The peer's end of stream was delivered (after `inbox`).
    pub eof: bool,
    /// The connection was reset: reads and writes fail.
    pub reset: bool,
    /// Written, not yet taken onto the link.
    pub outbox: Vec<u8>,
    /// Bytes a write may still take (the link's window left).
    pub credit: usize,
    /// This end shut its writing side.
    pub shut: bool,
    /// Its socket was dropped (closed).
    pub closed: bool,
    pub connect: Connect,
    pub local: SocketAddr,
    pub peer: SocketAddr,
}

/// An end's state, shared.
#[derive(Debug, Clone)]
pub(crate) struct Shared(Arc<Mutex<EndState>>);

impl Shared {
    pub fn new(local: SocketAddr, peer: SocketAddr, connect: Connect) -> Shared {
        Shared(Arc::new(Mutex::new(EndState {
            inbox: VecDeque::new(),
            eof: false,
            reset: false,
            outbox: Vec::new(),
            credit: 0,
            shut: false,
            closed: false,
            connect,
            local,
            peer,
        })))
    }

    pub fn lock(&self) -> MutexGuard<'_, EndState> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A connection's simulated socket: reads what the simulated network delivered, writes
/// what it will take onto the link. Dropping it closes the end.
#[derive(Debug)]
pub(crate) struct SimSock(Shared);

impl SimSock {
    pub fn new(end: Shared) -> SimSock {
        SimSock(end)
    }

    pub fn state(&self) -> MutexGuard<'_, EndState> {
        self.0.lock()
    }

    /// Shuts the writing side: the end of stream follows what was written.
    pub fn shutdown_write(&self) -> io::Result<()> {
        let mut e = self.0.lock();
        if e.reset {
            return Err(io::ErrorKind::ConnectionReset.into());
        }
        e.shut = true;
        Ok(())
    }
}

impl Read for SimSock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut e = self.0.lock();
        if e.reset {
            return Err(io::ErrorKind::ConnectionReset.into());
        }
        if !e.inbox.is_empty() {
            return e.inbox.read(buf);
        }
        if e.eof {
            return Ok(0);
        }
        Err(io::ErrorKind::WouldBlock.into())
    }
}

impl Write for SimSock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut e = self.0.lock();
        if e.reset {
            return Err(io::ErrorKind::ConnectionReset.into());
        }
        if e.shut || e.closed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let n = buf.len().min(e.credit);
        if n == 0 {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        e.credit -= n;
        e.outbox.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for SimSock {
    fn drop(&mut self) {
        self.0.lock().closed = true;
    }
}
