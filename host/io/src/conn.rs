//! One connection: its socket, bounded buffers, TLS session and state, and
//! how the host services it at the fixed points of a tick.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};

use mio::net::TcpStream;

use crate::buf::Buf;
use crate::sim::{Connect, SimSock};
use crate::state::End;
use crate::{ConnFailure, ConnLimits, ConnState};

/// A connection's socket: a real one, or an end of a simulated link.
pub(crate) enum Sock {
    Tcp(TcpStream),
    Sim(SimSock),
}

impl Read for Sock {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.read(buf),
            Sock::Sim(s) => s.read(buf),
        }
    }
}

impl Write for Sock {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Sock::Tcp(s) => s.write(buf),
            Sock::Sim(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Sock::Tcp(s) => s.flush(),
            Sock::Sim(s) => s.flush(),
        }
    }
}

impl Sock {
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        match self {
            Sock::Tcp(s) => s.local_addr(),
            Sock::Sim(s) => Ok(s.state().local),
        }
    }

    /// Turns Nagle's algorithm off: the host writes whole buffers at the
    /// fixed points of a tick, so holding back a small write (the second
    /// TLS record of a flight, a response's last bytes) until the peer's
    /// delayed acknowledgement only adds 40 ms to an exchange.
    pub fn no_delay(&self) {
        if let Sock::Tcp(s) = self {
            let _ = s.set_nodelay(true);
        }
    }

    fn shutdown_write(&self) -> io::Result<()> {
        match self {
            Sock::Tcp(s) => s.shutdown(Shutdown::Write),
            Sock::Sim(s) => s.shutdown_write(),
        }
    }
}

/// How long a dropped connection may take to flush when there is no idle
/// timeout, in tyme.
const LINGER: f64 = 30.0;

/// Bytes moved through the socket per read call.
pub(crate) const CHUNK: usize = 64 << 10;

pub(crate) struct Conn {
    pub owner: u64,
    pub sock: Option<Sock>,
    /// Where a client connects (tried in order); empty for accepted ones.
    pub targets: Vec<SocketAddr>,
    pub connecting: bool,
    pub tls: Option<rustls::Connection>,
    pub recv: Buf,
    pub send: Buf,
    pub readable: bool,
    pub writable: bool,
    /// The peer finished sending (end of stream, or TLS close_notify).
    pub peer_eof: bool,
    /// The TCP stream ended (TLS may still hold plaintext).
    pub tcp_eof: bool,
    /// This side wants to finish sending once the buffer is flushed.
    pub shut: bool,
    pub fin_sent: bool,
    /// A TLS close_notify is queued.
    pub notified: bool,
    /// The TLS handshake has completed.
    pub handshaken: bool,
    pub end: Option<End>,
    /// The doer let go of it: flush, then close.
    pub dropped: bool,
    pub limits: ConnLimits,
    pub connect_deadline: Option<f64>,
    pub idle_deadline: Option<f64>,
    pub reconnect: bool,
    pub backoff: f64,
    pub retry_at: Option<f64>,
    pub last_error: String,
    pub local: Option<SocketAddr>,
    pub peer: Option<SocketAddr>,
    pub alpn: Option<Vec<u8>>,
    /// The listener that accepted it (none for a client connection).
    pub listener: Option<u64>,
}

fn ended_by(e: &io::Error) -> End {
    match e.kind() {
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe => End::Reset,
        _ => End::Failed(ConnFailure::Socket(e.to_string())),
    }
}

fn would_block(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::WouldBlock
}

impl Conn {
    pub fn new(owner: u64, limits: ConnLimits, tls: Option<rustls::Connection>) -> Conn {
        Conn {
            owner,
            sock: None,
            targets: Vec::new(),
            connecting: false,
            tls,
            recv: Buf::default(),
            send: Buf::default(),
            readable: false,
            writable: false,
            peer_eof: false,
            tcp_eof: false,
            shut: false,
            fin_sent: false,
            notified: false,
            handshaken: false,
            end: None,
            dropped: false,
            limits,
            connect_deadline: None,
            idle_deadline: None,
            reconnect: false,
            backoff: limits.backoff,
            retry_at: None,
            last_error: String::new(),
            local: None,
            peer: None,
            alpn: None,
            listener: None,
        }
    }

    pub fn state(&self) -> ConnState {
        match &self.end {
            Some(End::Reset) => ConnState::Reset,
            Some(End::TimedOut) => ConnState::TimedOut,
            Some(End::Failed(why)) => ConnState::Failed(why.clone()),
            Some(End::Closed) => ConnState::Closed,
            // Waiting out a reconnect back-off is connecting too: nothing
            // is connected, and a retry is due.
            None if self.connecting || self.retry_at.is_some() || self.handshaking() => {
                ConnState::Connecting
            }
            None if self.peer_eof && self.fin_sent => ConnState::Closed,
            None if self.peer_eof => ConnState::PeerClosed,
            None => ConnState::Open,
        }
    }

    fn handshaking(&self) -> bool {
        self.tls.as_ref().is_some_and(|t| t.is_handshaking())
    }

    /// Whether a doer's bytes may go into the send buffer.
    pub fn can_send(&self) -> bool {
        self.end.is_none() && !self.shut
    }

    pub fn room(&self) -> usize {
        if self.can_send() {
            self.limits.send_buffer.saturating_sub(self.send.len())
        } else {
            0
        }
    }

    /// Ends it: the socket goes (the caller deregisters it first).
    pub fn finish(&mut self, end: End) {
        if self.end.is_none() {
            self.end = Some(end);
        }
        self.connecting = false;
        self.retry_at = None;
        self.sock = None;
    }

    pub fn touch(&mut self, tyme: f64) {
        let idle = if self.dropped && self.limits.idle_timeout <= 0.0 {
            LINGER
        } else {
            self.limits.idle_timeout
        };
        self.idle_deadline = (idle > 0.0).then_some(tyme + idle);
    }

    /// Done with: let go by its doer, everything sent and the peer done
    /// too, or ended. (Closing a socket with bytes unread makes the kernel
    /// reset it, which can destroy what was sent last; so a let-go
    /// connection reads and drops what still comes until the peer's end,
    /// within its linger time.)
    pub fn finished(&self) -> bool {
        self.dropped
            && (self.end.is_some()
                || (self.fin_sent
                    && self.peer_eof
                    && !self.tls.as_ref().is_some_and(|t| t.wants_write())))
    }

    /// Whether the socket is known readable, the receive buffer has room
    /// and the stream goes on: a pass now would move bytes without waiting
    /// for news from the poll.
    pub fn can_take_more(&self) -> bool {
        self.end.is_none()
            && !self.connecting
            && self.sock.is_some()
            && self.readable
            && !self.peer_eof
            && !self.tcp_eof
            && self.recv.len() < self.limits.recv_buffer
            && self.tls.as_ref().is_none_or(|t| t.wants_read())
    }

    /// Timeouts, at the tick's tyme. Returns whether the socket must go.
    pub fn check_timeouts(&mut self, tyme: f64) -> bool {
        let connecting = self.connecting || self.retry_at.is_some() || self.handshaking();
        if connecting && self.connect_deadline.is_some_and(|d| tyme >= d) {
            self.finish(End::TimedOut);
            return true;
        }
        if !connecting && self.end.is_none() && self.idle_deadline.is_some_and(|d| tyme >= d) {
            self.finish(End::TimedOut);
            return true;
        }
        false
    }

    /// A connect attempt failed: retry after the back-off, or fail.
    pub fn connect_failed(&mut self, tyme: f64, why: String) {
        self.sock = None;
        self.connecting = false;
        self.last_error = why;
        let next = tyme + self.backoff;
        if self.reconnect && self.connect_deadline.is_none_or(|d| next < d) {
            self.retry_at = Some(next);
            self.backoff = (self.backoff * 2.0).min(self.limits.max_backoff);
        } else {
            let why = std::mem::take(&mut self.last_error);
            self.finish(End::Failed(ConnFailure::Connect(why)));
        }
    }

    /// Whether the pending connect completed; on a writable event.
    pub fn check_connected(&mut self, tyme: f64) {
        let Some(sock) = &self.sock else { return };
        if !self.writable {
            return;
        }
        let sock = match sock {
            Sock::Tcp(s) => s,
            Sock::Sim(s) => {
                let (connect, local, peer) = {
                    let e = s.state();
                    (e.connect.clone(), e.local, e.peer)
                };
                match connect {
                    Connect::Pending => {}
                    Connect::Up => {
                        self.peer = Some(peer);
                        self.local = Some(local);
                        self.connecting = false;
                        self.touch(tyme);
                    }
                    Connect::Refused(why) => self.connect_failed(tyme, why),
                }
                return;
            }
        };
        let error = match sock.take_error() {
            Ok(Some(e)) | Err(e) => Some(e),
            Ok(None) => None,
        };
        if let Some(e) = error {
            self.connect_failed(tyme, e.to_string());
            return;
        }
        match sock.peer_addr() {
            Ok(peer) => {
                self.peer = Some(peer);
                self.local = sock.local_addr().ok();
                self.connecting = false;
                self.touch(tyme);
            }
            Err(e) if e.kind() == io::ErrorKind::NotConnected => self.writable = false,
            Err(e) => self.connect_failed(tyme, e.to_string()),
        }
    }

    /// Reads from the socket into the receive buffer while it has room.
    /// Returns whether bytes moved.
    pub fn receive(&mut self, tyme: f64) -> bool {
        if self.end.is_some() || self.connecting {
            return false;
        }
        let moved = if self.tls.is_some() {
            self.receive_tls()
        } else {
            self.receive_plain()
        };
        if self.dropped {
            // No one will read it.
            let all = self.recv.len();
            self.recv.consume(all);
        }
        if moved {
            self.touch(tyme);
        }
        moved
    }

    fn receive_plain(&mut self) -> bool {
        let mut moved = false;
        while self.readable && !self.peer_eof {
            let room = self.limits.recv_buffer.saturating_sub(self.recv.len());
            if room == 0 {
                break;
            }
            let Some(sock) = self.sock.as_mut() else {
                break;
            };
            match self.recv.fill(room.min(CHUNK), |space| sock.read(space)) {
                Ok(0) => {
                    self.peer_eof = true;
                    self.tcp_eof = true;
                }
                Ok(_) => moved = true,
                Err(e) if would_block(&e) => self.readable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.finish(ended_by(&e));
                    break;
                }
            }
        }
        moved
    }

    /// Moves plaintext rustls holds into the receive buffer, while it has
    /// room. Returns whether bytes moved.
    fn drain_plaintext(&mut self) -> bool {
        let mut moved = false;
        let Some(tls) = self.tls.as_mut() else {
            return false;
        };
        loop {
            let room = self.limits.recv_buffer.saturating_sub(self.recv.len());
            if room == 0 || self.peer_eof {
                break;
            }
            match self
                .recv
                .fill(room.min(CHUNK), |space| tls.reader().read(space))
            {
                Ok(0) => self.peer_eof = true,
                Ok(_) => moved = true,
                Err(e) if would_block(&e) => break,
                // The peer closed the stream without a close_notify: the
                // end of it, unless the handshake never finished.
                Err(_) if tls.is_handshaking() => {
                    self.finish(End::Failed(ConnFailure::HandshakeClosed));
                    break;
                }
                Err(_) => self.peer_eof = true,
            }
        }
        moved
    }

    fn receive_tls(&mut self) -> bool {
        let mut moved = self.drain_plaintext();
        loop {
            let full = self.recv.len() >= self.limits.recv_buffer;
            let Some(tls) = self.tls.as_mut() else { break };
            let Some(sock) = self.sock.as_mut() else {
                break;
            };
            if full || !self.readable || self.tcp_eof || self.peer_eof || !tls.wants_read() {
                break;
            }
            match tls.read_tls(sock) {
                Ok(0) => self.tcp_eof = true,
                Ok(_) => {}
                Err(e) if would_block(&e) => {
                    self.readable = false;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.finish(ended_by(&e));
                    return moved;
                }
            }
            if let Err(e) = tls.process_new_packets() {
                // Tell the peer why (the alert rustls queued), then fail.
                let _ = tls.write_tls(sock);
                self.finish(End::Failed(ConnFailure::Tls(e)));
                return moved;
            }
            if !tls.is_handshaking() && !self.handshaken {
                // Open now: the idle time counts from here.
                self.handshaken = true;
                self.alpn = tls.alpn_protocol().map(<[u8]>::to_vec);
                moved = true;
            }
            moved |= self.drain_plaintext();
        }
        if self.tcp_eof && !self.peer_eof {
            // Nothing more will come: what rustls held has been drained.
            let held = self.tls.as_mut().is_some_and(|t| {
                t.process_new_packets()
                    .is_ok_and(|s| s.plaintext_bytes_to_read() > 0)
            });
            if !held {
                if self.handshaking() {
                    self.finish(End::Failed(ConnFailure::HandshakeClosed));
                } else {
                    self.peer_eof = true;
                }
            }
        }
        moved
    }

    /// Writes what the send buffer holds (and TLS records) to the socket,
    /// then the end of stream once asked for and flushed. Returns whether
    /// bytes moved.
    pub fn flush(&mut self, tyme: f64) -> bool {
        if self.end.is_some() || self.connecting || self.sock.is_none() {
            return false;
        }
        let moved = if self.tls.is_some() {
            self.flush_tls()
        } else {
            self.flush_plain()
        };
        // A TLS session finishes its handshake before anything ends it: a
        // FIN before it would leave the records rustls still has to send
        // (a server's session tickets) with nowhere to go.
        if self.end.is_none()
            && self.shut
            && self.send.is_empty()
            && !self.fin_sent
            && !self.handshaking()
        {
            self.send_fin();
        }
        if moved {
            self.touch(tyme);
        }
        moved
    }

    fn flush_plain(&mut self) -> bool {
        let mut moved = false;
        while self.writable && !self.send.is_empty() {
            let Some(sock) = self.sock.as_mut() else {
                break;
            };
            match sock.write(self.send.bytes()) {
                Ok(0) => break,
                Ok(n) => {
                    self.send.consume(n);
                    moved = true;
                }
                Err(e) if would_block(&e) => self.writable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.finish(ended_by(&e));
                    break;
                }
            }
        }
        moved
    }

    fn flush_tls(&mut self) -> bool {
        let mut moved = false;
        if let Some(tls) = self.tls.as_mut()
            && !tls.is_handshaking()
        {
            while !self.send.is_empty() {
                match tls.writer().write(self.send.bytes()) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        self.send.consume(n);
                        moved = true;
                    }
                }
            }
        }
        moved | self.push_tls()
    }

    /// Writes the TLS records rustls has queued (handshake, data, alerts).
    pub fn push_tls(&mut self) -> bool {
        let mut moved = false;
        while self.writable && !self.fin_sent {
            let (Some(tls), Some(sock)) = (self.tls.as_mut(), self.sock.as_mut()) else {
                break;
            };
            if !tls.wants_write() {
                break;
            }
            match tls.write_tls(sock) {
                Ok(0) => break,
                Ok(_) => moved = true,
                Err(e) if would_block(&e) => self.writable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.finish(ended_by(&e));
                    break;
                }
            }
        }
        moved
    }

    fn send_fin(&mut self) {
        if let Some(tls) = self.tls.as_mut() {
            if !self.notified && !tls.is_handshaking() {
                tls.send_close_notify();
                self.notified = true;
            }
            self.push_tls();
            if self.tls.as_ref().is_some_and(|t| t.wants_write()) {
                return;
            }
        }
        if let Some(sock) = &self.sock {
            match sock.shutdown_write() {
                Ok(()) => self.fin_sent = true,
                Err(e) if e.kind() == io::ErrorKind::NotConnected => self.fin_sent = true,
                Err(e) => self.finish(ended_by(&e)),
            }
        }
    }
}
