//! The HTTP tables of a [`Net`](crate::Net): its servers, their
//! connections and requests, and the requests doers send; and the codec
//! of [`crate::http`] run on a server connection's buffers (decoding
//! requests, starting responses).
//!
//! Before the doers' turn, each server takes its listener's new
//! connections, and each connection's decoder turns what arrived into
//! requests. A doer takes one request at a time per connection (so
//! pipelined requests are answered in order) and answers it over as many
//! ticks as it likes; the next request of that connection is decoded once
//! the response is finished (the unread rest of a request's body is read
//! and dropped first). What is malformed or too large is answered by
//! the host (400, 413, 414, 431) and the connection closes; a head that
//! does not arrive within the header timeout gets 408.

use std::collections::{BTreeMap, VecDeque};

use crate::HttpCallError;
use crate::buf::Buf;
use crate::http::{
    BodyKind, Framing, HttpLimits, RequestDecoder, RequestEncoder, RequestEvent, RequestHead,
    ResponseDecoder, ResponseEncoder,
};

/// Header fields: names as sent, values as bytes.
pub type Fields = Vec<(String, Vec<u8>)>;

/// A server: its listener, its owner and its requests waiting for a doer.
pub(crate) struct Server {
    pub owner: u64,
    pub listener: u64,
    pub waiting: VecDeque<u64>,
}

/// One connection of a server.
pub(crate) struct ServerConn {
    pub server: u64,
    pub decoder: RequestDecoder,
    /// The request being received or answered.
    pub current: Option<u64>,
    /// When the bytes of a head not yet complete began to arrive.
    pub head_since: Option<f64>,
    /// Answered with an error or asked to close: no more requests.
    pub closing: bool,
    /// The doer answered a request without reading its whole body: the
    /// rest of it is read and dropped (within the body limit), then the
    /// next request is decoded.
    pub discarding: bool,
}

/// One request a server received, and its response.
pub(crate) struct Request {
    pub conn: u64,
    pub head: RequestHead,
    pub body: Buf,
    pub body_done: bool,
    pub trailers: Fields,
    pub response: Option<ResponseEncoder>,
    pub finished: bool,
    /// Handed to a doer (by `next`).
    pub taken: bool,
    /// Its connection failed or closed under it: nothing more goes out.
    pub dead: bool,
    pub continued: bool,
    /// Its response's body ends with the connection (an HTTP/1.0 client
    /// and no length given): trailers have nowhere to go and are dropped.
    pub close_delimited: bool,
}

/// One request a doer sends, and its response.
pub(crate) struct Outgoing {
    pub conn: u64,
    pub encoder: RequestEncoder,
    pub decoder: ResponseDecoder,
    pub status: Option<u16>,
    pub headers: Fields,
    pub body: Buf,
    /// Set once the response ended (ok) or the exchange failed.
    pub outcome: Option<Result<(), crate::ExchangeError>>,
}

/// What a server's request and an outgoing request share: each rides one
/// connection, and has a body a doer reads.
pub(crate) trait Exchange {
    /// The connection it rides.
    fn conn(&self) -> u64;
    /// The body received and not yet read.
    fn body(&mut self) -> &mut Buf;
    /// Whether more of the body may still come.
    fn more_to_come(&self) -> bool;
}

impl Exchange for Request {
    fn conn(&self) -> u64 {
        self.conn
    }
    fn body(&mut self) -> &mut Buf {
        &mut self.body
    }
    fn more_to_come(&self) -> bool {
        !self.body_done
    }
}

impl Exchange for Outgoing {
    fn conn(&self) -> u64 {
        self.conn
    }
    fn body(&mut self) -> &mut Buf {
        &mut self.body
    }
    fn more_to_come(&self) -> bool {
        self.outcome.is_none()
    }
}

/// The HTTP tables of a [`Net`](crate::Net).
#[derive(Default)]
pub(crate) struct HttpTables {
    pub servers: BTreeMap<u64, Server>,
    /// Server connections, by connection id.
    pub conns: BTreeMap<u64, ServerConn>,
    /// Requests servers received.
    pub requests: BTreeMap<u64, Request>,
    /// Requests doers send.
    pub outgoing: BTreeMap<u64, Outgoing>,
    pub limits: HttpLimits,
}

/// What servicing a connection's input asks of its socket.
pub(crate) enum Step {
    /// Nothing (more) to do now.
    Idle,
    /// Write these bytes (an error response) and close.
    Fail(Vec<u8>),
}

impl Request {
    fn new(conn: u64, head: RequestHead) -> Request {
        let body_done = matches!(head.body, BodyKind::Empty);
        Request {
            conn,
            head,
            body: Buf::default(),
            body_done,
            trailers: Vec::new(),
            response: None,
            finished: false,
            taken: false,
            dead: false,
            continued: false,
            close_delimited: false,
        }
    }
}

impl HttpTables {
    /// Decodes what `input` holds for connection `cid`, as far as its state
    /// allows; returns the bytes consumed and what to do.
    pub fn decode(
        &mut self,
        cid: u64,
        input: &[u8],
        room: usize,
        tyme: f64,
        date: &str,
        next_id: &mut dyn FnMut() -> u64,
    ) -> (usize, Step) {
        let Some(conn) = self.conns.get_mut(&cid) else {
            return (0, Step::Idle);
        };
        let mut used = 0;
        while !conn.closing {
            // A request being answered: the next waits (pipelining in
            // order); or a body piece waits for the doer to read: back
            // pressure.
            if let Some(r) = conn.current.and_then(|rid| self.requests.get(&rid))
                && (r.body_done || r.body.len() >= room)
            {
                break;
            }
            if used >= input.len() && conn.current.is_none() {
                // A head partly read (the decoder holds it) keeps its clock.
                if conn.decoder.is_idle() {
                    conn.head_since = None;
                }
                break;
            }
            if conn.current.is_none() && !conn.discarding && conn.head_since.is_none() {
                conn.head_since = Some(tyme);
            }
            match conn.decoder.decode(&input[used..]) {
                Err(e) => {
                    conn.closing = true;
                    // A request whose body went bad: a doer that has not
                    // taken it never sees it; one that has finds it dead. A
                    // response already under way is cut off (no error
                    // response in the middle of it).
                    // A body being dropped belongs to a request answered
                    // already: no second response.
                    let mut respond = !conn.discarding;
                    if let Some(rid) = conn.current.take()
                        && let Some(r) = self.requests.get_mut(&rid)
                    {
                        if r.taken {
                            r.dead = true;
                            respond = r.response.is_none();
                        } else {
                            self.requests.remove(&rid);
                        }
                    }
                    let answer = if respond {
                        ResponseEncoder::simple(e.status, &e.reason, date)
                    } else {
                        Vec::new()
                    };
                    return (used, Step::Fail(answer));
                }
                Ok((n, event)) => {
                    used += n;
                    match event {
                        None if n == 0 => break,
                        None => {}
                        Some(RequestEvent::Head(head)) => {
                            conn.head_since = None;
                            let rid = next_id();
                            let server = conn.server;
                            conn.current = Some(rid);
                            self.requests.insert(rid, Request::new(cid, head));
                            if let Some(s) = self.servers.get_mut(&server) {
                                s.waiting.push_back(rid);
                            }
                        }
                        Some(RequestEvent::Body(bytes)) => {
                            if let Some(r) = conn.current.and_then(|r| self.requests.get_mut(&r)) {
                                r.body.push(&bytes);
                            }
                        }
                        Some(RequestEvent::End { .. }) if conn.discarding => {
                            conn.discarding = false;
                        }
                        Some(RequestEvent::End { trailers }) => {
                            if let Some(r) = conn.current.and_then(|r| self.requests.get_mut(&r)) {
                                r.body_done = true;
                                r.trailers = trailers;
                            }
                        }
                    }
                }
            }
        }
        (used, Step::Idle)
    }

    /// The connections of server `sid`.
    pub fn conns_of(&self, sid: u64) -> Vec<u64> {
        self.conns
            .iter()
            .filter(|(_, w)| w.server == sid)
            .map(|(&c, _)| c)
            .collect()
    }

    /// Whether connection `cid`'s head has taken longer than `timeout`.
    pub fn head_late(&self, cid: u64, tyme: f64, timeout: f64) -> bool {
        timeout > 0.0
            && self
                .conns
                .get(&cid)
                .and_then(|c| c.head_since)
                .is_some_and(|t| tyme - t >= timeout)
    }

    /// Starts request `rid`'s response; the head's bytes.
    pub fn respond(
        &mut self,
        rid: u64,
        status: u16,
        headers: &Fields,
        length: Option<u64>,
        date: &str,
    ) -> Result<Vec<u8>, HttpCallError> {
        let r = self
            .requests
            .get_mut(&rid)
            .ok_or(HttpCallError::NoSuchRequest)?;
        if r.dead {
            return Err(HttpCallError::ConnectionDead);
        }
        if r.response.is_some() {
            return Err(HttpCallError::AlreadyResponding);
        }
        if !(200..=999).contains(&status) {
            return Err(HttpCallError::NotFinalStatus(status));
        }
        let framing = match length {
            Some(n) => Framing::Length(n),
            // An HTTP/1.0 client cannot read chunks: the body ends with
            // the connection.
            None if r.head.version == 0 => Framing::Close,
            None => Framing::Chunked,
        };
        let keep_alive = r.head.keep_alive && !self.conns.get(&r.conn).is_some_and(|c| c.closing);
        // Methods are case-sensitive (RFC 9110 section 9.1): `head` is an
        // unknown method, answered with a body like any other.
        let head_request = r.head.method == "HEAD";
        let (bytes, encoder) = ResponseEncoder::head(
            status,
            None,
            headers,
            framing,
            date,
            keep_alive,
            head_request,
        )
        .map_err(HttpCallError::Codec)?;
        r.response = Some(encoder);
        r.close_delimited = framing == Framing::Close;
        Ok(bytes)
    }
}
