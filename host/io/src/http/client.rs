//! The client side: an encoder of requests and a decoder of responses.

use super::body::{BodyEncoder, Mode};
use super::chunked::{ChunkedDecoder, ChunkedEvent};
use super::head::HeadReader;
use super::syntax::{
    Codings, check_field, codings, content_length, fields, is_one_of, is_token, list_has,
    put_field, values,
};
use super::{BodyKind, Field, HttpError, HttpLimits};

/// Header fields the request encoder writes itself.
const OWN_FIELDS: &[&str] = &["host", "content-length", "transfer-encoding", "connection"];

/// Frames one HTTP/1.1 request: [`head`](Self::head), then
/// [`body`](Self::body) as often as needed, then [`finish`](Self::finish);
/// [`abort`](Self::abort) cuts it off (close the connection then).
#[derive(Debug)]
pub struct RequestEncoder {
    body: BodyEncoder,
}

impl RequestEncoder {
    /// The head of a request, and the encoder of its body: the request line,
    /// `Host: {host}`, the caller's `headers` in order, the framing
    /// (`Content-Length: n` for [`BodyKind::Length`], `Transfer-Encoding:
    /// chunked`, nothing for [`BodyKind::Empty`]) and `Connection: close`
    /// unless `keep_alive`.
    ///
    /// Errors (status 500): a method that is not a token, a target with
    /// spaces, controls or non-ASCII bytes, an invalid host or header, a
    /// caller header among `Host`, `Content-Length`, `Transfer-Encoding` and
    /// `Connection`, or [`BodyKind::Close`] (a request cannot end with the
    /// connection).
    pub fn head(
        method: &str,
        target: &str,
        host: &str,
        headers: &[Field],
        framing: BodyKind,
        keep_alive: bool,
    ) -> Result<(Vec<u8>, RequestEncoder), HttpError> {
        let refused = |why: String| HttpError::new(500, why);
        if !is_token(method.as_bytes()) {
            return Err(refused(format!("invalid method {method:?}")));
        }
        if target.is_empty() || !target.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(refused(format!("invalid request target {target:?}")));
        }
        if host.is_empty() || !host.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(refused(format!("invalid host {host:?}")));
        }
        for (name, value) in headers {
            check_field(name, value)?;
            if is_one_of(name, OWN_FIELDS) {
                return Err(refused(format!("{name} is written by the encoder")));
            }
        }
        let mut out = format!("{method} {target} HTTP/1.1\r\n").into_bytes();
        put_field(&mut out, "Host", host.as_bytes());
        for (name, value) in headers {
            put_field(&mut out, name, value);
        }
        let mode = match framing {
            BodyKind::Empty => Mode::Refused,
            BodyKind::Length(n) => {
                put_field(&mut out, "Content-Length", n.to_string().as_bytes());
                Mode::Length(n)
            }
            BodyKind::Chunked => {
                put_field(&mut out, "Transfer-Encoding", b"chunked");
                Mode::Chunked
            }
            BodyKind::Close => return Err(refused("a request cannot be close-delimited".into())),
        };
        if !keep_alive {
            put_field(&mut out, "Connection", b"close");
        }
        out.extend_from_slice(b"\r\n");
        Ok((
            out,
            RequestEncoder {
                body: BodyEncoder::new(mode),
            },
        ))
    }

    /// The bytes that carry `data` (one chunk when chunked; nothing for empty
    /// `data`). Errors: bytes beyond the `Content-Length`, body bytes for
    /// [`BodyKind::Empty`], a finished or aborted request.
    pub fn body(&mut self, data: &[u8]) -> Result<Vec<u8>, HttpError> {
        self.body.body(data)
    }

    /// The end of the body: the last chunk and `trailers` when chunked.
    /// Errors as [`ResponseEncoder::finish`](super::ResponseEncoder::finish).
    pub fn finish(&mut self, trailers: &[Field]) -> Result<Vec<u8>, HttpError> {
        self.body.finish(trailers)
    }

    /// Cuts the request off: nothing more is produced (no last chunk);
    /// close the connection.
    pub fn abort(&mut self) {
        self.body.abort();
    }

    /// Whether [`finish`](Self::finish) completed the request.
    pub fn is_complete(&self) -> bool {
        self.body.is_complete()
    }
}

/// A response's head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// The reason phrase ("" when it is not UTF-8).
    pub reason: String,
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// The header fields, in order, names as sent.
    pub headers: Vec<Field>,
    /// Whether the connection may carry another request after this
    /// response: never with a [`BodyKind::Close`] body; HTTP/1.1 unless
    /// `Connection: close`; HTTP/1.0 only with `Connection: keep-alive`.
    pub keep_alive: bool,
    /// How the body is framed. A 101 (Switching Protocols) response has
    /// [`BodyKind::Close`]: what follows is the new protocol's, handed on
    /// as body.
    pub body: BodyKind,
}

/// What a [`ResponseDecoder`] yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseEvent {
    /// An interim (1xx) response other than 101, such as 100 Continue: its
    /// head is skipped and the final response follows.
    Informational(u16),
    /// The final response's head.
    Head(ResponseHead),
    /// A piece of the body, decoded (chunk framing removed).
    Body(Vec<u8>),
    /// The end of the body, with the trailers of a chunked one.
    End {
        /// The trailer fields, in order, names as sent.
        trailers: Vec<Field>,
    },
}

#[derive(Debug)]
enum State {
    Head(HeadReader),
    /// Bytes to come of a `Content-Length` body (0: `End` is next).
    Length(u64),
    Chunked(ChunkedDecoder),
    /// A body until the connection closes; bytes so far.
    Close(u64),
    Done,
}

/// Decodes one response (and the interim responses before it). For the
/// next response on a kept-alive connection, make a new decoder and give it
/// the bytes this one did not consume.
///
/// [`decode`](Self::decode) works like
/// [`RequestDecoder::decode`](super::RequestDecoder::decode), with the
/// same limits (the status line is held to
/// [`HttpLimits::request_line`]); every error has status 502, is final,
/// and the connection must be closed. Call [`eof`](Self::eof) when the
/// peer has closed: it ends a close-delimited body, and is an error
/// anywhere else, so a truncated response never looks complete.
///
/// Stricter than RFC 9112 requires of a client, where leniency could hide
/// a desynchronised connection: both `Content-Length` and
/// `Transfer-Encoding`, repeated `Content-Length` fields, `chunked` twice
/// and `Transfer-Encoding` in HTTP/1.0 are errors; codings before `chunked`
/// are an error (not decoded); a `Transfer-Encoding` whose final coding is
/// not `chunked` means a body until close, as the RFC says.
#[derive(Debug)]
pub struct ResponseDecoder {
    limits: HttpLimits,
    head_request: bool,
    state: State,
    failed: Option<HttpError>,
}

impl ResponseDecoder {
    /// A decoder of the response to a request; `head_request` when that
    /// request was HEAD (its response has no body, whatever it says).
    pub fn new(limits: HttpLimits, head_request: bool) -> ResponseDecoder {
        ResponseDecoder {
            state: State::Head(HeadReader::head(&limits)),
            limits,
            head_request,
            failed: None,
        }
    }

    /// Consumes a prefix of `input`; returns how many bytes it took and at
    /// most one event. When no event is yielded, all of `input` was taken,
    /// or the response is complete (then nothing more is taken).
    pub fn decode(&mut self, input: &[u8]) -> Result<(usize, Option<ResponseEvent>), HttpError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        self.step(input).map_err(|e| self.fail(e))
    }

    /// The peer closed the connection: the end of a close-delimited body
    /// (or an `End` still to be yielded), `None` for a response already
    /// complete, and an error for a response cut off anywhere else
    /// (including before its first byte).
    pub fn eof(&mut self) -> Result<Option<ResponseEvent>, HttpError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        match self.state {
            State::Done => Ok(None),
            State::Close(_) | State::Length(0) => {
                self.state = State::Done;
                Ok(Some(ResponseEvent::End {
                    trailers: Vec::new(),
                }))
            }
            State::Head(ref r) if r.is_empty() => Err(self.fail(HttpError::new(
                502,
                "the connection closed before a response",
            ))),
            _ => Err(self.fail(HttpError::new(502, "the connection closed mid-response"))),
        }
    }

    /// Whether the response has ended ([`ResponseEvent::End`] was yielded).
    pub fn is_complete(&self) -> bool {
        matches!(self.state, State::Done)
    }

    fn fail(&mut self, e: HttpError) -> HttpError {
        let e = HttpError::new(502, e.reason);
        self.failed = Some(e.clone());
        e
    }

    fn step(&mut self, input: &[u8]) -> Result<(usize, Option<ResponseEvent>), HttpError> {
        let end = || {
            Some(ResponseEvent::End {
                trailers: Vec::new(),
            })
        };
        match &mut self.state {
            State::Done => Ok((0, None)),
            State::Head(reader) => {
                let (n, done) = reader.feed(input)?;
                if !done {
                    return Ok((n, None));
                }
                let head = parse_head(reader.bytes(), &self.limits, self.head_request)?;
                if (100..200).contains(&head.status) && head.status != 101 {
                    self.state = State::Head(HeadReader::head(&self.limits));
                    return Ok((n, Some(ResponseEvent::Informational(head.status))));
                }
                self.state = match head.body {
                    BodyKind::Empty => State::Length(0),
                    BodyKind::Length(len) => State::Length(len),
                    BodyKind::Chunked => State::Chunked(ChunkedDecoder::new(self.limits)),
                    BodyKind::Close => State::Close(0),
                };
                Ok((n, Some(ResponseEvent::Head(head))))
            }
            State::Length(0) => {
                self.state = State::Done;
                Ok((0, end()))
            }
            State::Length(left) => {
                let n = usize::try_from(*left)
                    .unwrap_or(usize::MAX)
                    .min(input.len());
                if n == 0 {
                    return Ok((0, None));
                }
                *left -= n as u64;
                Ok((n, Some(ResponseEvent::Body(input[..n].to_vec()))))
            }
            State::Chunked(chunked) => match chunked.decode(input)? {
                (n, Some(ChunkedEvent::Data(data))) => Ok((n, Some(ResponseEvent::Body(data)))),
                (n, Some(ChunkedEvent::End { trailers })) => {
                    self.state = State::Done;
                    Ok((n, Some(ResponseEvent::End { trailers })))
                }
                (n, None) => Ok((n, None)),
            },
            State::Close(_) if input.is_empty() => Ok((0, None)),
            State::Close(got) => {
                // Up to the limit, then an error for the byte beyond it
                // (the same events however the input is split).
                let room = usize::try_from(self.limits.body - *got).unwrap_or(usize::MAX);
                let n = input.len().min(room);
                if n == 0 {
                    return Err(HttpError::new(502, "the body is too large"));
                }
                *got += n as u64;
                Ok((n, Some(ResponseEvent::Body(input[..n].to_vec()))))
            }
        }
    }
}

fn bad(why: impl Into<String>) -> HttpError {
    HttpError::new(502, why)
}

/// Parses a complete response head.
fn parse_head(
    bytes: &[u8],
    limits: &HttpLimits,
    head_request: bool,
) -> Result<ResponseHead, HttpError> {
    let mut parsed = vec![httparse::EMPTY_HEADER; limits.headers];
    let mut res = httparse::Response::new(&mut parsed);
    match res.parse(bytes) {
        Ok(httparse::Status::Complete(n)) if n == bytes.len() => {}
        Ok(_) => return Err(bad("malformed response head")),
        Err(e) => return Err(bad(format!("malformed response head: {e}"))),
    }
    let (Some(status), Some(version)) = (res.code, res.version) else {
        return Err(bad("malformed status line"));
    };
    let reason = res.reason.unwrap_or_default().to_owned();
    let headers = fields(res.headers);
    let body = if status == 101 {
        BodyKind::Close
    } else if head_request || (100..200).contains(&status) || status == 204 || status == 304 {
        BodyKind::Empty
    } else {
        body_kind(&headers, version, limits)?
    };
    let connection = values(&headers, "connection");
    let keep_alive = body != BodyKind::Close
        && !list_has(&connection, "close")
        && (version == 1 || list_has(&connection, "keep-alive"));
    Ok(ResponseHead {
        status,
        reason,
        version,
        headers,
        keep_alive,
        body,
    })
}

/// The framing of a response's body (RFC 9112 section 6.3).
fn body_kind(headers: &[Field], version: u8, limits: &HttpLimits) -> Result<BodyKind, HttpError> {
    let te = values(headers, "transfer-encoding");
    let cl = values(headers, "content-length");
    if !te.is_empty() {
        if version == 0 {
            return Err(bad("Transfer-Encoding in an HTTP/1.0 response"));
        }
        if !cl.is_empty() {
            return Err(bad("both Content-Length and Transfer-Encoding"));
        }
        return match codings(&te) {
            Codings::Chunked => Ok(BodyKind::Chunked),
            Codings::NotChunked => Ok(BodyKind::Close),
            Codings::ChunkedAfterOthers => Err(bad("transfer codings other than chunked")),
            Codings::Invalid => Err(bad("invalid Transfer-Encoding")),
        };
    }
    if cl.is_empty() {
        return Ok(BodyKind::Close);
    }
    let len = content_length(&cl, 502)?;
    if len > limits.body {
        return Err(bad("the body is too large"));
    }
    Ok(BodyKind::Length(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() -> Result<(), HttpError> {
        let headers = [("Accept".to_owned(), b"*/*".to_vec())];
        let (head, mut e) =
            RequestEncoder::head("POST", "/a?b", "x:80", &headers, BodyKind::Chunked, false)?;
        assert_eq!(
            head,
            b"POST /a?b HTTP/1.1\r\nHost: x:80\r\nAccept: */*\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
        );
        assert_eq!(e.body(b"hi")?, b"2\r\nhi\r\n");
        assert_eq!(e.finish(&[])?, b"0\r\n\r\n");
        assert!(e.is_complete());
        let (head, mut e) = RequestEncoder::head("GET", "/", "x", &[], BodyKind::Empty, true)?;
        assert_eq!(head, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(e.body(b"x").is_err());
        for (method, target, host, framing) in [
            ("GE T", "/", "x", BodyKind::Empty),
            ("GET", "/ a", "x", BodyKind::Empty),
            ("GET", "", "x", BodyKind::Empty),
            ("GET", "/é", "x", BodyKind::Empty),
            ("GET", "/", "x\r\n", BodyKind::Empty),
            ("GET", "/", "", BodyKind::Empty),
            ("GET", "/", "x", BodyKind::Close),
        ] {
            assert!(RequestEncoder::head(method, target, host, &[], framing, true).is_err());
        }
        let own = [("host".to_owned(), b"y".to_vec())];
        assert!(RequestEncoder::head("GET", "/", "x", &own, BodyKind::Empty, true).is_err());
        Ok(())
    }

    #[test]
    fn eof() {
        let mut d = ResponseDecoder::new(HttpLimits::default(), false);
        assert_eq!(d.eof().map_err(|e| e.status), Err(502));
        let mut d = ResponseDecoder::new(HttpLimits::default(), false);
        assert!(matches!(
            d.decode(b"HTTP/1.0 200 OK\r\n\r\nab"),
            Ok((19, Some(_)))
        ));
        assert_eq!(
            d.decode(b"ab"),
            Ok((2, Some(ResponseEvent::Body(b"ab".to_vec()))))
        );
        assert_eq!(d.eof(), Ok(Some(ResponseEvent::End { trailers: vec![] })));
        assert_eq!(d.eof(), Ok(None));
        assert!(d.is_complete());
        let mut d = ResponseDecoder::new(HttpLimits::default(), false);
        assert!(
            d.decode(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n")
                .is_ok()
        );
        assert!(d.decode(b"ab").is_ok());
        assert_eq!(d.eof().map_err(|e| e.status), Err(502));
        assert_eq!(d.decode(b"c").map_err(|e| e.status), Err(502));
    }
}
