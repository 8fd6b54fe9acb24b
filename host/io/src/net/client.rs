//! HTTP requests doers make: a connection per request (`Connection:
//! close`), the request framed into its send buffer, the response decoded
//! from its receive buffer before the doers' turn.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;

use super::{Inner, Net, Owner, let_go};
use crate::buf::Buf;
use crate::http::{BodyKind, RequestEncoder, ResponseDecoder, ResponseEvent};
use crate::web::Fields;
use crate::{HostPort, NetError};

/// One outgoing request and its response.
pub(crate) struct WebClient {
    pub conn: u64,
    pub encoder: RequestEncoder,
    pub decoder: ResponseDecoder,
    pub status: Option<u16>,
    pub headers: Fields,
    pub body: Buf,
    /// Set once the response ended (ok) or the exchange failed.
    pub outcome: Option<Result<(), String>>,
}

impl Inner {
    /// Before the doers' turn: each outgoing request's response.
    pub(super) fn serve_clients(&mut self) {
        let ids: Vec<u64> = self.web.clients.keys().copied().collect();
        for id in ids {
            let Inner { conns, web, .. } = self;
            let Some(cl) = web.clients.get_mut(&id) else {
                continue;
            };
            if cl.outcome.is_some() {
                continue;
            }
            let Some(c) = conns.get_mut(&cl.conn) else {
                cl.outcome = Some(Err("the connection is gone".into()));
                continue;
            };
            let room = c.limits.recv_buffer;
            loop {
                if cl.body.len() >= room {
                    break; // The doer reads first: back pressure.
                }
                match cl.decoder.decode(c.recv.bytes()) {
                    Err(e) => {
                        cl.outcome = Some(Err(format!("bad response: {}", e.reason)));
                        break;
                    }
                    Ok((n, event)) => {
                        c.recv.consume(n);
                        match event {
                            None => break,
                            Some(ResponseEvent::Informational(_)) => {}
                            Some(ResponseEvent::Head(h)) => {
                                cl.status = Some(h.status);
                                cl.headers = h.headers;
                            }
                            Some(ResponseEvent::Body(b)) => cl.body.push(&b),
                            Some(ResponseEvent::End { .. }) => {
                                cl.outcome = Some(Ok(()));
                                break;
                            }
                        }
                    }
                }
            }
            if cl.outcome.is_some() {
                continue;
            }
            // The connection's end: a close-delimited body ends with it;
            // anything else cut off is a failure, never a complete response.
            let ended = c.peer_eof && c.recv.is_empty();
            if let Some(why) = match c.state() {
                crate::ConnState::Reset => Some("the connection was reset".to_owned()),
                crate::ConnState::TimedOut => Some("the connection timed out".to_owned()),
                crate::ConnState::Failed(why) => Some(why),
                _ => None,
            } {
                cl.outcome = Some(Err(why));
            } else if ended {
                cl.outcome = Some(match cl.decoder.eof() {
                    Ok(Some(ResponseEvent::Body(b))) => {
                        cl.body.push(&b);
                        Ok(())
                    }
                    Ok(_) => Ok(()),
                    Err(e) => Err(format!("cut off: {}", e.reason)),
                });
            }
        }
    }
}

fn outcome_of(cl: &WebClient) -> Option<Result<(), String>> {
    match &cl.outcome {
        // Complete only once the doer read the whole body.
        Some(Ok(())) if !cl.body.is_empty() => None,
        other => other.clone(),
    }
}

impl Net {
    /// Sends a request to `addr` for `owner` (TLS with `tls`), with a body
    /// of `length` bytes (`None`: chunked); returns its id.
    #[allow(clippy::too_many_arguments)]
    pub fn http_send(
        &self,
        owner: &Owner,
        addr: &HostPort,
        tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
        method: &str,
        target: &str,
        headers: &Fields,
        length: Option<u64>,
    ) -> Result<u64, NetError> {
        let framing = match length {
            Some(0) => BodyKind::Empty,
            Some(n) => BodyKind::Length(n),
            None => BodyKind::Chunked,
        };
        let (head, encoder) =
            RequestEncoder::head(method, target, &addr.to_string(), headers, framing, false)
                .map_err(|e| NetError::BadAddress(e.reason))?;
        let cid = self.connect(owner, addr, tls, false)?;
        let mut inner = self.lock();
        let limits = inner.web.limits;
        // Methods are case-sensitive (RFC 9110 section 9.1): only `HEAD`
        // is HEAD.
        let head_request = method == "HEAD";
        if let Some(c) = inner.conns.get_mut(&cid.0) {
            // The head goes first, whatever the buffer holds.
            c.send.push(&head);
        }
        let id = inner.id();
        inner.web.clients.insert(
            id,
            WebClient {
                conn: cid.0,
                encoder,
                decoder: ResponseDecoder::new(limits, head_request),
                status: None,
                headers: Vec::new(),
                body: Buf::default(),
                outcome: None,
            },
        );
        Ok(id)
    }

    /// Queues what fits of a request body piece.
    pub fn http_send_body(&self, id: u64, bytes: &[u8]) -> usize {
        let mut inner = self.lock();
        let Inner { conns, web, .. } = &mut *inner;
        let Some(cl) = web.clients.get_mut(&id) else {
            return 0;
        };
        let Some(c) = conns.get_mut(&cl.conn) else {
            return 0;
        };
        let n = c.room().min(bytes.len());
        if n == 0 {
            return 0;
        }
        match cl.encoder.body(&bytes[..n]) {
            Ok(framed) => {
                c.send.push(&framed);
                n
            }
            Err(_) => 0,
        }
    }

    /// Ends the request body.
    pub fn http_send_finish(&self, id: u64, trailers: &Fields) -> Result<(), String> {
        let mut inner = self.lock();
        let Inner { conns, web, .. } = &mut *inner;
        let cl = web
            .clients
            .get_mut(&id)
            .ok_or_else(|| "no such request".to_owned())?;
        let tail = cl.encoder.finish(trailers).map_err(|e| e.reason)?;
        if let Some(c) = conns.get_mut(&cl.conn) {
            c.send.push(&tail);
        }
        Ok(())
    }

    /// The response's status and header fields, once its head arrived.
    pub fn http_response(&self, id: u64) -> Option<(u16, Fields)> {
        let inner = self.lock();
        let cl = inner.web.clients.get(&id)?;
        Some((cl.status?, cl.headers.clone()))
    }

    /// Takes up to `max` response body bytes.
    pub fn http_response_read(&self, id: u64, max: usize) -> Vec<u8> {
        let mut inner = self.lock();
        let Inner { conns, web, .. } = &mut *inner;
        let Some(cl) = web.clients.get_mut(&id) else {
            return Vec::new();
        };
        let bytes = cl.body.take(max);
        // More of the body waits (decoded next pass, or in the socket).
        let more = cl.outcome.is_none()
            && conns
                .get(&cl.conn)
                .is_some_and(|c| !c.recv.is_empty() || c.can_take_more());
        if !bytes.is_empty() && more {
            inner.doer_made_room = true;
        }
        bytes
    }

    /// `None` while the exchange goes on; then how it ended.
    pub fn http_response_done(&self, id: u64) -> Option<Result<(), String>> {
        let inner = self.lock();
        inner
            .web
            .clients
            .get(&id)
            .map_or(Some(Err("no such request".into())), outcome_of)
    }

    /// The doer let go of the request: its connection closes.
    pub fn http_send_drop(&self, id: u64) {
        let mut inner = self.lock();
        let Some(cl) = inner.web.clients.remove(&id) else {
            return;
        };
        let tyme = inner.tyme;
        if let Some(c) = inner.conns.get_mut(&cl.conn)
            && !c.dropped
        {
            let_go(c, tyme);
        }
        inner.sweep();
    }
}
