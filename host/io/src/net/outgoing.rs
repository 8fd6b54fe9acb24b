//! Requests doers send: a connection per request (`Connection: close`),
//! the request framed into its send buffer, the response decoded from its
//! receive buffer before the doers' turn.

use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::ServerName;

use super::api::{Net, Owner};
use super::exchange::write_framed;
use super::http_tables::{Fields, Outgoing};
use super::registry::Inner;
use crate::buf::Buf;
use crate::http::{BodyKind, RequestEncoder, ResponseDecoder, ResponseEvent};
use crate::{ConnState, ExchangeError, HostPort, HttpCallError, NetError, OutgoingId};

impl Inner {
    /// Before the doers' turn: each outgoing request's response.
    pub(super) fn serve_outgoing(&mut self) {
        let ids: Vec<u64> = self.http.outgoing.keys().copied().collect();
        for id in ids {
            let Inner { conns, http, .. } = self;
            let Some(o) = http.outgoing.get_mut(&id) else {
                continue;
            };
            if o.outcome.is_some() {
                continue;
            }
            let Some(c) = conns.get_mut(&o.conn) else {
                o.outcome = Some(Err(ExchangeError::ConnectionGone));
                continue;
            };
            let room = c.limits.recv_buffer;
            loop {
                if o.body.len() >= room {
                    break; // The doer reads first: back pressure.
                }
                match o.decoder.decode(c.recv.bytes()) {
                    Err(e) => {
                        o.outcome = Some(Err(ExchangeError::BadResponse(e)));
                        break;
                    }
                    Ok((n, event)) => {
                        c.recv.consume(n);
                        match event {
                            None => break,
                            Some(ResponseEvent::Informational(_)) => {}
                            Some(ResponseEvent::Head(h)) => {
                                o.status = Some(h.status);
                                o.headers = h.headers;
                            }
                            Some(ResponseEvent::Body(b)) => o.body.push(&b),
                            Some(ResponseEvent::End { .. }) => {
                                o.outcome = Some(Ok(()));
                                break;
                            }
                        }
                    }
                }
            }
            if o.outcome.is_some() {
                continue;
            }
            // The connection's end: a close-delimited body ends with it;
            // anything else cut off is a failure, never a complete response.
            let ended = c.peer_eof && c.recv.is_empty();
            if let Some(why) = match c.state() {
                ConnState::Reset => Some(ExchangeError::Reset),
                ConnState::TimedOut => Some(ExchangeError::TimedOut),
                ConnState::Failed(why) => Some(ExchangeError::Failed(why)),
                _ => None,
            } {
                o.outcome = Some(Err(why));
            } else if ended {
                o.outcome = Some(match o.decoder.eof() {
                    Ok(Some(ResponseEvent::Body(b))) => {
                        o.body.push(&b);
                        Ok(())
                    }
                    Ok(_) => Ok(()),
                    Err(e) => Err(ExchangeError::CutOff(e)),
                });
            }
        }
    }
}

fn outcome_of(o: &Outgoing) -> Option<Result<(), ExchangeError>> {
    match &o.outcome {
        // Complete only once the doer read the whole body.
        Some(Ok(())) if !o.body.is_empty() => None,
        other => other.clone(),
    }
}

impl Net {
    /// Sends a request to `addr` for `owner` (TLS with `tls`), with a body
    /// of `length` bytes (`None`: chunked).
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
    ) -> Result<OutgoingId, NetError> {
        let framing = match length {
            Some(0) => BodyKind::Empty,
            Some(n) => BodyKind::Length(n),
            None => BodyKind::Chunked,
        };
        let (head, encoder) =
            RequestEncoder::head(method, target, &addr.to_string(), headers, framing, false)
                .map_err(NetError::BadRequest)?;
        let cid = self.connect(owner, addr, tls, false)?;
        let mut inner = self.lock();
        let limits = inner.http.limits;
        // Methods are case-sensitive (RFC 9110 section 9.1): only `HEAD`
        // is HEAD.
        let head_request = method == "HEAD";
        if let Some(c) = inner.conns.get_mut(&cid.0) {
            // The head goes first, whatever the buffer holds.
            c.send.push(&head);
        }
        let id = inner.id();
        inner.http.outgoing.insert(
            id,
            Outgoing {
                conn: cid.0,
                encoder,
                decoder: ResponseDecoder::new(limits, head_request),
                status: None,
                headers: Vec::new(),
                body: Buf::default(),
                outcome: None,
            },
        );
        Ok(OutgoingId(id))
    }

    /// Queues what fits of a request body piece.
    pub fn http_send_body(&self, id: OutgoingId, bytes: &[u8]) -> usize {
        self.lock()
            .on_exchange(
                |h| h.outgoing.get_mut(&id.0),
                |o, c| write_framed(c, bytes, |b| o.encoder.body(b)),
            )
            .unwrap_or(0)
    }

    /// Ends the request body.
    pub fn http_send_finish(&self, id: OutgoingId, trailers: &Fields) -> Result<(), HttpCallError> {
        let mut inner = self.lock();
        let Inner { conns, http, .. } = &mut *inner;
        let o = http
            .outgoing
            .get_mut(&id.0)
            .ok_or(HttpCallError::NoSuchRequest)?;
        let tail = o.encoder.finish(trailers).map_err(HttpCallError::Codec)?;
        if let Some(c) = conns.get_mut(&o.conn) {
            c.send.push(&tail);
        }
        Ok(())
    }

    /// The response's status and header fields, once its head arrived.
    pub fn http_response(&self, id: OutgoingId) -> Option<(u16, Fields)> {
        let inner = self.lock();
        let o = inner.http.outgoing.get(&id.0)?;
        Some((o.status?, o.headers.clone()))
    }

    /// Takes up to `max` response body bytes.
    pub fn http_response_read(&self, id: OutgoingId, max: usize) -> Vec<u8> {
        self.lock().read_body(|h| h.outgoing.get_mut(&id.0), max)
    }

    /// `None` while the exchange goes on; then how it ended.
    pub fn http_response_done(&self, id: OutgoingId) -> Option<Result<(), ExchangeError>> {
        let inner = self.lock();
        inner
            .http
            .outgoing
            .get(&id.0)
            .map_or(Some(Err(ExchangeError::NoSuchRequest)), outcome_of)
    }

    /// The doer let go of the request: its connection closes.
    pub fn http_send_drop(&self, id: OutgoingId) {
        let mut inner = self.lock();
        let Some(o) = inner.http.outgoing.remove(&id.0) else {
            return;
        };
        inner.let_go(o.conn);
        inner.sweep();
    }
}
