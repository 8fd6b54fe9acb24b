//! The HTTP servers of a [`Net`]: serviced before the doers' turn, and the
//! calls a doer makes on its servers and requests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;

use super::{Inner, Net, Owner, close_listener, let_go};
use crate::http::{ResponseEncoder, http_date};
use crate::web::{Fields, Step, WebConn, WebServer};
use crate::{HostPort, NetError};

impl Inner {
    /// The `Date` of responses this tick: the run's wall start plus tyme.
    pub(super) fn date(&self) -> String {
        let at = self
            .wall_start
            .saturating_add(Duration::try_from_secs_f64(self.tyme).unwrap_or(Duration::ZERO));
        http_date(at)
    }

    /// Before the doers' turn, after the sockets were read: new
    /// connections of each server, then each connection's requests.
    pub(super) fn serve_web(&mut self, tyme: f64) {
        if self.web.servers.is_empty() {
            return;
        }
        for (&sid, server) in &self.web.servers {
            let Some(l) = self.listeners.get_mut(&server.listener) else {
                continue;
            };
            while let Some(cid) = l.pending.pop_front() {
                self.web.conns.insert(
                    cid,
                    WebConn {
                        server: sid,
                        decoder: crate::http::RequestDecoder::new(self.web.limits),
                        current: None,
                        head_since: None,
                        closing: false,
                        discarding: false,
                    },
                );
            }
        }
        let date = self.date();
        let ids: Vec<u64> = self.web.conns.keys().copied().collect();
        for cid in ids {
            let Inner {
                conns, web, next, ..
            } = self;
            let Some(c) = conns.get_mut(&cid) else {
                web.conns.remove(&cid);
                continue;
            };
            if c.end.is_some() || c.dropped {
                if let Some(rid) = web.conns.remove(&cid).and_then(|w| w.current) {
                    match web.requests.get_mut(&rid) {
                        Some(r) if r.taken => r.dead = true,
                        _ => {
                            web.requests.remove(&rid);
                        }
                    }
                }
                // The server's connections are the host's: no doer lets
                // them go, so the host does (the sweep then forgets them
                // and its owner's count goes down).
                c.dropped = true;
                continue;
            }
            if web.head_late(cid, tyme, c.limits.header_timeout) {
                if let Some(w) = web.conns.get_mut(&cid) {
                    w.closing = true;
                    w.head_since = None;
                }
                c.send
                    .push(&ResponseEncoder::simple(408, "request timeout", &date));
                c.shut = true;
                web.retire(cid, c, tyme);
                continue;
            }
            let room = c.limits.recv_buffer;
            let mut ids = || {
                *next += 1;
                *next
            };
            let (used, step) = web.decode(cid, c.recv.bytes(), room, tyme, &date, &mut ids);
            c.recv.consume(used);
            match step {
                Step::Fail(bytes) => {
                    c.send.push(&bytes);
                    c.shut = true;
                }
                Step::Idle => {
                    // A body being dropped that the client stopped sending
                    // will never end: that closes too.
                    let idle = web.conns.get(&cid).is_some_and(|w| w.current.is_none());
                    if idle && c.peer_eof && c.recv.is_empty() {
                        // The client is done and nothing is pending.
                        c.shut = true;
                    }
                }
            }
            web.retire(cid, c, tyme);
        }
    }

    fn request_conn(&mut self, rid: u64) -> Option<&mut crate::conn::Conn> {
        let cid = self.web.requests.get(&rid)?.conn;
        self.conns.get_mut(&cid)
    }

    /// Ends request `rid`: its connection goes on to the next request (first
    /// dropping the rest of the body with `discard`), or closes.
    fn request_done(&mut self, rid: u64, close: bool, discard: bool) {
        let Some(r) = self.web.requests.remove(&rid) else {
            return;
        };
        // A client that finished sending, with nothing of it left unread,
        // asks for nothing more: close now, not at the next pass.
        let client_done = self
            .conns
            .get(&r.conn)
            .is_some_and(|c| c.peer_eof && c.recv.is_empty());
        let keep = !close && r.head.keep_alive && !client_done;
        if let Some(w) = self.web.conns.get_mut(&r.conn) {
            w.current = None;
            w.discarding = keep && discard;
            if !keep {
                w.closing = true;
            }
        }
        if !keep && let Some(c) = self.conns.get_mut(&r.conn) {
            c.shut = true;
            let tyme = self.tyme;
            self.web.retire(r.conn, c, tyme);
        }
    }
}

impl crate::web::Web {
    /// Lets a server's connection go once it is closing with no request
    /// under way: what was written is flushed, then it closes and the
    /// sweep forgets it.
    fn retire(&mut self, cid: u64, c: &mut crate::conn::Conn, tyme: f64) {
        let busy = self.conns.get(&cid).is_some_and(|w| w.current.is_some());
        if c.shut && !busy && !c.dropped {
            self.conns.remove(&cid);
            let_go(c, tyme);
        }
    }
}

impl Net {
    /// Sets what tyme 0 stands for on the wall clock (for `Date`).
    pub fn set_wall_start(&self, since_epoch: Duration) {
        self.lock().wall_start = since_epoch;
    }

    /// Serves HTTP on `addr` for `owner` (HTTPS with `tls`); returns the
    /// server's id.
    pub fn http_listen(
        &self,
        owner: &Owner,
        addr: &HostPort,
        tls: Option<Arc<ServerConfig>>,
    ) -> Result<u64, NetError> {
        let lid = self.listen(owner, addr, tls)?;
        let mut inner = self.lock();
        let sid = inner.id();
        inner.web.servers.insert(
            sid,
            WebServer {
                owner: owner.id,
                listener: lid.0,
                waiting: Default::default(),
            },
        );
        Ok(sid)
    }

    /// The address server `sid` is bound to.
    pub fn http_address(&self, sid: u64) -> Option<SocketAddr> {
        let inner = self.lock();
        let lid = inner.web.servers.get(&sid)?.listener;
        inner.listeners.get(&lid).map(|l| l.local)
    }

    /// Closes server `sid`: its listener, and its connections once their
    /// responses are flushed.
    pub fn http_close(&self, sid: u64) {
        let mut inner = self.lock();
        let Some(s) = inner.web.servers.remove(&sid) else {
            return;
        };
        close_listener(&mut inner, s.listener);
        let tyme = inner.tyme;
        let cids = inner.web.conns_of(sid);
        for cid in cids {
            inner.web.conns.remove(&cid);
            if let Some(c) = inner.conns.get_mut(&cid)
                && !c.dropped
            {
                let_go(c, tyme);
            }
        }
        inner.sweep();
    }

    /// The oldest request of server `sid` no doer took yet.
    pub fn http_next(&self, sid: u64) -> Option<u64> {
        let mut inner = self.lock();
        let rid = loop {
            let rid = inner.web.servers.get_mut(&sid)?.waiting.pop_front()?;
            if inner.web.requests.contains_key(&rid) {
                break rid;
            }
        };
        let r = inner.web.requests.get_mut(&rid)?;
        r.taken = true;
        let continue_now = r.head.expect_continue && !r.body_done && !r.continued;
        r.continued |= continue_now;
        if continue_now && let Some(c) = inner.request_conn(rid) {
            c.send.push(crate::http::CONTINUE);
        }
        Some(rid)
    }

    /// What `part` gives of request `rid`'s head (only what is asked for is
    /// copied: a handler asking for the target does not copy the headers).
    pub fn http_head<T>(
        &self,
        rid: u64,
        part: impl FnOnce(&crate::http::RequestHead) -> T,
    ) -> Option<T> {
        let inner = self.lock();
        inner.web.requests.get(&rid).map(|r| part(&r.head))
    }

    /// Takes up to `max` body bytes of request `rid`.
    pub fn http_read(&self, rid: u64, max: usize) -> Vec<u8> {
        let mut inner = self.lock();
        let Inner { conns, web, .. } = &mut *inner;
        let Some(r) = web.requests.get_mut(&rid) else {
            return Vec::new();
        };
        let bytes = r.body.take(max);
        // More of the body waits (decoded next pass, or in the socket).
        let more = !r.body_done
            && conns
                .get(&r.conn)
                .is_some_and(|c| !c.recv.is_empty() || c.can_take_more());
        if !bytes.is_empty() && more {
            inner.doer_made_room = true;
        }
        bytes
    }

    /// Whether request `rid`'s body arrived in full and was read.
    pub fn http_body_done(&self, rid: u64) -> bool {
        let inner = self.lock();
        inner
            .web
            .requests
            .get(&rid)
            .is_none_or(|r| r.body_done && r.body.is_empty())
    }

    /// Request `rid`'s trailers (once its body is done).
    pub fn http_trailers(&self, rid: u64) -> Fields {
        let inner = self.lock();
        inner
            .web
            .requests
            .get(&rid)
            .map(|r| r.trailers.clone())
            .unwrap_or_default()
    }

    /// Starts request `rid`'s response.
    pub fn http_respond(
        &self,
        rid: u64,
        status: u16,
        headers: &Fields,
        length: Option<u64>,
    ) -> Result<(), String> {
        let mut inner = self.lock();
        let date = inner.date();
        let head = inner.web.respond(rid, status, headers, length, &date)?;
        match inner.request_conn(rid) {
            Some(c) if c.end.is_none() => {
                c.send.push(&head);
                Ok(())
            }
            _ => Err("the connection is gone".into()),
        }
    }

    /// Queues what fits of a body piece of request `rid`'s response.
    pub fn http_write(&self, rid: u64, bytes: &[u8]) -> usize {
        let mut inner = self.lock();
        // The request and its connection, each looked up once.
        let Inner { conns, web, .. } = &mut *inner;
        let Some(r) = web.requests.get_mut(&rid) else {
            return 0;
        };
        let Some(c) = conns.get_mut(&r.conn) else {
            return 0;
        };
        let n = c.room().min(bytes.len());
        if n == 0 || r.dead {
            return 0;
        }
        let Some(enc) = r.response.as_mut() else {
            return 0;
        };
        match enc.body(&bytes[..n]) {
            Ok(framed) => {
                c.send.push(&framed);
                n
            }
            Err(_) => 0,
        }
    }

    /// Ends request `rid`'s response.
    pub fn http_finish(&self, rid: u64, trailers: &Fields) -> Result<(), String> {
        let mut inner = self.lock();
        let r = inner
            .web
            .requests
            .get_mut(&rid)
            .ok_or_else(|| "no such request".to_owned())?;
        if r.dead {
            return Err("the connection failed or closed".into());
        }
        let enc = r
            .response
            .as_mut()
            .ok_or_else(|| "no response was started".to_owned())?;
        let trailers = if r.close_delimited { &[][..] } else { trailers };
        let tail = enc.finish(trailers).map_err(|e| e.reason)?;
        let keep_alive = enc.keep_alive();
        r.finished = true;
        // A body not read in full: what arrived is dropped, and what is
        // still coming is read and dropped before the next request (within
        // the body limit, as nginx does). A client still waiting for a
        // `100 Continue` may never send it: that connection closes.
        let arriving = !r.body_done;
        let close = !keep_alive || (arriving && r.head.expect_continue && !r.continued);
        if let Some(c) = inner.request_conn(rid) {
            c.send.push(&tail);
        }
        inner.request_done(rid, close, arriving);
        Ok(())
    }

    /// The doer let go of request `rid`. Unanswered, it gets a 500; cut off
    /// mid-response, its connection closes (the body never looks complete).
    pub fn http_drop(&self, rid: u64) {
        let mut inner = self.lock();
        let Some(r) = inner.web.requests.get_mut(&rid) else {
            return;
        };
        if r.finished || r.dead {
            inner.web.requests.remove(&rid);
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

    /// Forgets the servers of owner `id` (its listeners close with it).
    pub(super) fn release_web(inner: &mut Inner, id: u64) {
        let sids: Vec<u64> = inner
            .web
            .servers
            .iter()
            .filter(|(_, s)| s.owner == id)
            .map(|(&k, _)| k)
            .collect();
        // Its outgoing requests (their connections close with the rest).
        let Inner { conns, web, .. } = &mut *inner;
        web.clients
            .retain(|_, cl| conns.get(&cl.conn).is_some_and(|c| c.owner != id));
        let date = inner.date();
        for sid in sids {
            inner.web.servers.remove(&sid);
            // Its requests: unanswered ones get a 500, ones cut off mid-
            // response close; either way the connection ends cleanly (the
            // doer that would answer is gone).
            let cids = inner.web.conns_of(sid);
            for cid in cids {
                let Some(w) = inner.web.conns.remove(&cid) else {
                    continue;
                };
                let unanswered = match w.current.and_then(|r| inner.web.requests.remove(&r)) {
                    Some(r) => !r.dead && r.response.is_none(),
                    None => false,
                };
                if let Some(c) = inner.conns.get_mut(&cid) {
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
