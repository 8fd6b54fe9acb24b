//! HTTP/1.1 servers on a [`Net`]'s connections: serviced before the
//! doers' turn (new connections, requests decoded, late heads answered
//! 408), and the calls a doer makes on its servers and requests.
//!
//! A doer takes one request at a time per connection (so pipelined
//! requests are answered in order) and answers it over as many ticks as it
//! likes; the next request of that connection is decoded once the
//! response is finished (the unread rest of a request's body is read and
//! dropped first). What is malformed or too large is answered by the host
//! (400, 413, 414, 431) and the connection closes; a head that does not
//! arrive within the header timeout gets 408.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::ServerConfig;

use super::api::{Net, Owner};
use super::exchange::write_framed;
use super::http_tables::{Fields, HttpTables, Server, ServerConn, Step};
use super::registry::{Inner, let_go};
use crate::conn::Conn;
use crate::http::{RequestDecoder, RequestHead, ResponseEncoder};
use crate::{HostPort, HttpCallError, NetError, RequestId, ServerId};

impl Inner {
    /// Before the doers' turn, after the sockets were read: new
    /// connections of each server, then each connection's requests.
    pub(super) fn serve_http(&mut self, tyme: f64) {
        if self.http.servers.is_empty() {
            return;
        }
        for (&sid, server) in &self.http.servers {
            let Some(l) = self.listeners.get_mut(&server.listener) else {
                continue;
            };
            while let Some(cid) = l.pending.pop_front() {
                self.http.conns.insert(
                    cid,
                    ServerConn {
                        server: sid,
                        decoder: RequestDecoder::new(self.http.limits),
                        current: None,
                        head_since: None,
                        closing: false,
                        discarding: false,
                    },
                );
            }
        }
        let date = self.date();
        let ids: Vec<u64> = self.http.conns.keys().copied().collect();
        for cid in ids {
            let Inner {
                conns, http, next, ..
            } = self;
            let Some(c) = conns.get_mut(&cid) else {
                http.conns.remove(&cid);
                continue;
            };
            if c.end.is_some() || c.dropped {
                if let Some(rid) = http.conns.remove(&cid).and_then(|w| w.current) {
                    match http.requests.get_mut(&rid) {
                        Some(r) if r.taken => r.dead = true,
                        _ => {
                            http.requests.remove(&rid);
                        }
                    }
                }
                // The server's connections are the host's: no doer lets
                // them go, so the host does (the sweep then forgets them
                // and its owner's count goes down).
                c.dropped = true;
                continue;
            }
            if http.head_late(cid, tyme, c.limits.header_timeout) {
                if let Some(w) = http.conns.get_mut(&cid) {
                    w.closing = true;
                    w.head_since = None;
                }
                c.send
                    .push(&ResponseEncoder::simple(408, "request timeout", &date));
                c.shut = true;
                http.retire(cid, c, tyme);
                continue;
            }
            let room = c.limits.recv_buffer;
            let mut ids = || {
                *next += 1;
                *next
            };
            let (used, step) = http.decode(cid, c.recv.bytes(), room, tyme, &date, &mut ids);
            c.recv.consume(used);
            match step {
                Step::Fail(bytes) => {
                    c.send.push(&bytes);
                    c.shut = true;
                }
                Step::Idle => {
                    // A body being dropped that the client stopped sending
                    // will never end: that closes too.
                    let idle = http.conns.get(&cid).is_some_and(|w| w.current.is_none());
                    if idle && c.peer_eof && c.recv.is_empty() {
                        // The client is done and nothing is pending.
                        c.shut = true;
                    }
                }
            }
            http.retire(cid, c, tyme);
        }
    }

    fn request_conn(&mut self, rid: u64) -> Option<&mut Conn> {
        let cid = self.http.requests.get(&rid)?.conn;
        self.conns.get_mut(&cid)
    }

    /// Ends request `rid`: its connection goes on to the next request (first
    /// dropping the rest of the body with `discard`), or closes.
    fn request_done(&mut self, rid: u64, close: bool, discard: bool) {
        let Some(r) = self.http.requests.remove(&rid) else {
            return;
        };
        // A client that finished sending, with nothing of it left unread,
        // asks for nothing more: close now, not at the next pass.
        let client_done = self
            .conns
            .get(&r.conn)
            .is_some_and(|c| c.peer_eof && c.recv.is_empty());
        let keep = !close && r.head.keep_alive && !client_done;
        if let Some(w) = self.http.conns.get_mut(&r.conn) {
            w.current = None;
            w.discarding = keep && discard;
            if !keep {
                w.closing = true;
            }
        }
        if !keep && let Some(c) = self.conns.get_mut(&r.conn) {
            c.shut = true;
            let tyme = self.tyme;
            self.http.retire(r.conn, c, tyme);
        }
    }
}

impl HttpTables {
    /// Lets a server's connection go once it is closing with no request
    /// under way: what was written is flushed, then it closes and the
    /// sweep forgets it.
    fn retire(&mut self, cid: u64, c: &mut Conn, tyme: f64) {
        let busy = self.conns.get(&cid).is_some_and(|w| w.current.is_some());
        if c.shut && !busy && !c.dropped {
            self.conns.remove(&cid);
            let_go(c, tyme);
        }
    }
}

impl Net {
    /// Serves HTTP on `addr` for `owner` (HTTPS with `tls`).
    pub fn http_listen(
        &self,
        owner: &Owner,
        addr: &HostPort,
        tls: Option<Arc<ServerConfig>>,
    ) -> Result<ServerId, NetError> {
        let lid = self.listen(owner, addr, tls)?;
        let mut inner = self.lock();
        let sid = inner.id();
        inner.http.servers.insert(
            sid,
            Server {
                owner: owner.id,
                listener: lid.0,
                waiting: Default::default(),
            },
        );
        Ok(ServerId(sid))
    }

    /// The address server `sid` is bound to.
    pub fn http_address(&self, sid: ServerId) -> Option<SocketAddr> {
        let inner = self.lock();
        let lid = inner.http.servers.get(&sid.0)?.listener;
        inner.listeners.get(&lid).map(|l| l.local)
    }

    /// Closes server `sid`: its listener, and its connections once their
    /// responses are flushed.
    pub fn http_close(&self, sid: ServerId) {
        let mut inner = self.lock();
        let Some(s) = inner.http.servers.remove(&sid.0) else {
            return;
        };
        inner.close_listener(s.listener);
        for cid in inner.http.conns_of(sid.0) {
            inner.http.conns.remove(&cid);
            inner.let_go(cid);
        }
        inner.sweep();
    }

    /// The oldest request of server `sid` no doer took yet.
    pub fn http_next(&self, sid: ServerId) -> Option<RequestId> {
        let mut inner = self.lock();
        let rid = loop {
            let rid = inner.http.servers.get_mut(&sid.0)?.waiting.pop_front()?;
            if inner.http.requests.contains_key(&rid) {
                break rid;
            }
        };
        let r = inner.http.requests.get_mut(&rid)?;
        r.taken = true;
        let continue_now = r.head.expect_continue && !r.body_done && !r.continued;
        r.continued |= continue_now;
        if continue_now && let Some(c) = inner.request_conn(rid) {
            c.send.push(crate::http::CONTINUE);
        }
        Some(RequestId(rid))
    }

    /// What `part` gives of request `rid`'s head (only what is asked for is
    /// copied: a handler asking for the target does not copy the headers).
    pub fn http_head<T>(&self, rid: RequestId, part: impl FnOnce(&RequestHead) -> T) -> Option<T> {
        let inner = self.lock();
        inner.http.requests.get(&rid.0).map(|r| part(&r.head))
    }

    /// Takes up to `max` body bytes of request `rid`.
    pub fn http_read(&self, rid: RequestId, max: usize) -> Vec<u8> {
        self.lock().read_body(|h| h.requests.get_mut(&rid.0), max)
    }

    /// Whether request `rid`'s body arrived in full and was read.
    pub fn http_body_done(&self, rid: RequestId) -> bool {
        let inner = self.lock();
        inner
            .http
            .requests
            .get(&rid.0)
            .is_none_or(|r| r.body_done && r.body.is_empty())
    }

    /// Request `rid`'s trailers (once its body is done).
    pub fn http_trailers(&self, rid: RequestId) -> Fields {
        let inner = self.lock();
        inner
            .http
            .requests
            .get(&rid.0)
            .map(|r| r.trailers.clone())
            .unwrap_or_default()
    }

    /// Starts request `rid`'s response.
    pub fn http_respond(
        &self,
        rid: RequestId,
        status: u16,
        headers: &Fields,
        length: Option<u64>,
    ) -> Result<(), HttpCallError> {
        let mut inner = self.lock();
        let date = inner.date();
        let head = inner.http.respond(rid.0, status, headers, length, &date)?;
        match inner.request_conn(rid.0) {
            Some(c) if c.end.is_none() => {
                c.send.push(&head);
                Ok(())
            }
            _ => Err(HttpCallError::ConnectionGone),
        }
    }

    /// Queues what fits of a body piece of request `rid`'s response.
    pub fn http_write(&self, rid: RequestId, bytes: &[u8]) -> usize {
        self.lock()
            .on_exchange(
                |h| h.requests.get_mut(&rid.0),
                |r, c| match r.response.as_mut() {
                    Some(enc) if !r.dead => write_framed(c, bytes, |b| enc.body(b)),
                    _ => 0,
                },
            )
            .unwrap_or(0)
    }

    /// Ends request `rid`'s response.
    pub fn http_finish(&self, rid: RequestId, trailers: &Fields) -> Result<(), HttpCallError> {
        let mut inner = self.lock();
        let r = inner
            .http
            .requests
            .get_mut(&rid.0)
            .ok_or(HttpCallError::NoSuchRequest)?;
        if r.dead {
            return Err(HttpCallError::ConnectionDead);
        }
        let enc = r.response.as_mut().ok_or(HttpCallError::NoResponse)?;
        let trailers = if r.close_delimited { &[][..] } else { trailers };
        let tail = enc.finish(trailers).map_err(HttpCallError::Codec)?;
        let keep_alive = enc.keep_alive();
        r.finished = true;
        // A body not read in full: what arrived is dropped, and what is
        // still coming is read and dropped before the next request (within
        // the body limit, as nginx does). A client still waiting for a
        // `100 Continue` may never send it: that connection closes.
        let arriving = !r.body_done;
        let close = !keep_alive || (arriving && r.head.expect_continue && !r.continued);
        if let Some(c) = inner.request_conn(rid.0) {
            c.send.push(&tail);
        }
        inner.request_done(rid.0, close, arriving);
        Ok(())
    }

    /// The doer let go of request `rid`. Unanswered, it gets a 500; cut off
    /// mid-response, its connection closes (the body never looks complete).
    pub fn http_drop(&self, rid: RequestId) {
        let rid = rid.0;
        let mut inner = self.lock();
        let Some(r) = inner.http.requests.get_mut(&rid) else {
            return;
        };
        if r.finished || r.dead {
            inner.http.requests.remove(&rid);
            return;
        }
        let unanswered = r.response.is_none();
        if let Some(enc) = r.response.as_mut() {
            enc.abort();
        }
        // The Date is made only for an answer (a doer drops every request
        // it finished, most after answering it).
        let answer = unanswered
            .then(|| ResponseEncoder::simple(500, "internal server error", &inner.date()));
        if let Some(c) = inner.request_conn(rid) {
            if let Some(answer) = &answer {
                c.send.push(answer);
            }
            // Cut off or not, no more bytes: the end of the stream says so.
            c.shut = true;
        }
        inner.request_done(rid, true, false);
    }
}

impl Inner {
    /// Forgets the servers and outgoing requests of owner `id` (its
    /// listeners and connections close with it).
    pub(super) fn release_http(&mut self, id: u64) {
        let sids: Vec<u64> = self
            .http
            .servers
            .iter()
            .filter(|(_, s)| s.owner == id)
            .map(|(&k, _)| k)
            .collect();
        // Its outgoing requests (their connections close with the rest).
        let Inner { conns, http, .. } = self;
        http.outgoing
            .retain(|_, o| conns.get(&o.conn).is_some_and(|c| c.owner != id));
        let date = self.date();
        for sid in sids {
            self.http.servers.remove(&sid);
            // Its requests: unanswered ones get a 500, ones cut off mid-
            // response close; either way the connection ends cleanly (the
            // doer that would answer is gone).
            for cid in self.http.conns_of(sid) {
                let Some(w) = self.http.conns.remove(&cid) else {
                    continue;
                };
                let unanswered = match w.current.and_then(|r| self.http.requests.remove(&r)) {
                    Some(r) => !r.dead && r.response.is_none(),
                    None => false,
                };
                if let Some(c) = self.conns.get_mut(&cid) {
                    if unanswered && c.end.is_none() {
                        c.send.push(&ResponseEncoder::simple(
                            500,
                            "internal server error",
                            &date,
                        ));
                    }
                    c.shut = true;
                }
            }
        }
    }
}
