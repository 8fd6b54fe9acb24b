//! The server side's decoder of requests.

use super::chunked::{ChunkedDecoder, ChunkedEvent};
use super::head::HeadReader;
use super::syntax::{Codings, codings, content_length, fields, list_has, values};
use super::{BodyKind, Field, HttpError, HttpLimits};

/// A request's head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method, as sent (methods are case-sensitive).
    pub method: String,
    /// The request target, as sent.
    pub target: String,
    /// The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// The header fields, in order, names as sent.
    pub headers: Vec<Field>,
    /// Whether the connection may carry another request after this one:
    /// HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with
    /// `Connection: keep-alive` (and no `close`).
    pub keep_alive: bool,
    /// An HTTP/1.1 request with `Expect: 100-continue`: the client waits
    /// for [`CONTINUE`](super::CONTINUE) (or a final response) before it
    /// sends the body. HTTP/1.0 requests never have it (RFC 9110 section
    /// 10.1.1).
    pub expect_continue: bool,
    /// How the body is framed ([`BodyKind::Close`] never occurs here).
    pub body: BodyKind,
}

impl RequestHead {
    /// The values of the header fields named `name` (any case), in order.
    pub fn header(&self, name: &str) -> impl Iterator<Item = &[u8]> {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// What a [`RequestDecoder`] yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestEvent {
    /// A request's head.
    Head(RequestHead),
    /// A piece of its body, decoded (chunk framing removed).
    Body(Vec<u8>),
    /// The end of its body, with the trailer fields of a chunked body (the
    /// ones that must not be trailers dropped: see
    /// [`ChunkedEvent::End`]). The decoder is then ready for the next
    /// request of the connection, with nothing carried over.
    End {
        /// The trailer fields, in order, names as sent.
        trailers: Vec<Field>,
    },
}

#[derive(Debug)]
enum State {
    Head(HeadReader),
    /// A `Content-Length` body with this many bytes to come (0 for a
    /// request without body: its `End` is next).
    Length(u64),
    Chunked(ChunkedDecoder),
}

/// Decodes the requests of one connection, one after the other (pipelined
/// requests in one buffer are fine).
///
/// Each request yields [`RequestEvent::Head`], then zero or more
/// [`RequestEvent::Body`], then [`RequestEvent::End`]. For a request
/// without body (or with `Content-Length: 0`), `End` comes from the call
/// after the one that yielded `Head`, and that call consumes no bytes.
///
/// Errors, with the status to answer before closing:
/// - 414: the request line is longer than [`HttpLimits::request_line`];
/// - 431: the head is larger than [`HttpLimits::header_bytes`], or has more
///   than [`HttpLimits::headers`] fields (the same for trailers);
/// - 400: a malformed request line or header field (including obsolete line
///   folding, and NUL, CR or LF in a value), a missing or repeated `Host`
///   in HTTP/1.1 (a repeated one in HTTP/1.0), both `Content-Length` and
///   `Transfer-Encoding`, more than one `Content-Length` field (even equal),
///   a `Content-Length` that is not decimal digits or does not fit a `u64`,
///   a `Transfer-Encoding` in HTTP/1.0, or one whose final coding is not
///   `chunked` or that has `chunked` twice, and malformed chunk framing;
/// - 501: codings before `chunked` (as in `gzip, chunked`): not decoded;
/// - 505: a version of the form `HTTP/d.d` other than 1.0 and 1.1;
/// - 413: a body larger than [`HttpLimits::body`] (a `Content-Length` is
///   refused with the head, chunks when their size line arrives).
///
/// An error is final: the decoder returns it from every later call, and the
/// connection must be closed.
///
/// Protocol switches are not handled: after the head of a `CONNECT` or of
/// an accepted `Upgrade`, the bytes that follow belong to another protocol,
/// and a server that goes along must stop feeding them to this decoder.
#[derive(Debug)]
pub struct RequestDecoder {
    limits: HttpLimits,
    state: State,
    failed: Option<HttpError>,
}

impl RequestDecoder {
    /// A decoder at the start of a connection.
    pub fn new(limits: HttpLimits) -> RequestDecoder {
        RequestDecoder {
            state: State::Head(HeadReader::head(&limits)),
            limits,
            failed: None,
        }
    }

    /// Consumes a prefix of `input`; returns how many bytes it took and at
    /// most one event. Keep the bytes not taken and call again (with more
    /// appended when they arrive). When no event is yielded, all of `input`
    /// was taken: more bytes are needed.
    pub fn decode(&mut self, input: &[u8]) -> Result<(usize, Option<RequestEvent>), HttpError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        self.step(input)
            .inspect_err(|e| self.failed = Some(e.clone()))
    }

    /// Whether the decoder is between requests, with no byte of the next
    /// one received, not even an empty line: a peer closing now closes
    /// cleanly, and no head is being timed.
    pub fn is_idle(&self) -> bool {
        self.failed.is_none() && matches!(&self.state, State::Head(r) if r.is_empty())
    }

    /// The error the decoder failed with, if it did.
    pub fn error(&self) -> Option<&HttpError> {
        self.failed.as_ref()
    }

    fn step(&mut self, input: &[u8]) -> Result<(usize, Option<RequestEvent>), HttpError> {
        match &mut self.state {
            State::Head(reader) => {
                let (n, done) = reader.feed(input)?;
                if !done {
                    return Ok((n, None));
                }
                let head = parse_head(reader.bytes(), &self.limits)?;
                self.state = match head.body {
                    BodyKind::Length(len) => State::Length(len),
                    BodyKind::Chunked => State::Chunked(ChunkedDecoder::new(self.limits)),
                    BodyKind::Empty | BodyKind::Close => State::Length(0),
                };
                Ok((n, Some(RequestEvent::Head(head))))
            }
            State::Length(0) => {
                self.state = State::Head(HeadReader::head(&self.limits));
                Ok((
                    0,
                    Some(RequestEvent::End {
                        trailers: Vec::new(),
                    }),
                ))
            }
            State::Length(left) => {
                let n = usize::try_from(*left)
                    .unwrap_or(usize::MAX)
                    .min(input.len());
                if n == 0 {
                    return Ok((0, None));
                }
                *left -= n as u64;
                Ok((n, Some(RequestEvent::Body(input[..n].to_vec()))))
            }
            State::Chunked(chunked) => match chunked.decode(input)? {
                (n, Some(ChunkedEvent::Data(data))) => Ok((n, Some(RequestEvent::Body(data)))),
                (n, Some(ChunkedEvent::End { trailers })) => {
                    self.state = State::Head(HeadReader::head(&self.limits));
                    Ok((n, Some(RequestEvent::End { trailers })))
                }
                (n, None) => Ok((n, None)),
            },
        }
    }
}

fn bad(why: impl Into<String>) -> HttpError {
    HttpError::new(400, why)
}

/// Parses a complete head (its empty line included).
fn parse_head(bytes: &[u8], limits: &HttpLimits) -> Result<RequestHead, HttpError> {
    let mut parsed = vec![httparse::EMPTY_HEADER; limits.headers];
    let mut req = httparse::Request::new(&mut parsed);
    match req.parse(bytes) {
        Ok(httparse::Status::Complete(n)) if n == bytes.len() => {}
        Ok(_) => return Err(bad("malformed request head")),
        Err(httparse::Error::TooManyHeaders) => {
            return Err(HttpError::new(431, "too many header fields"));
        }
        Err(httparse::Error::Version) if other_version(bytes) => {
            return Err(HttpError::new(
                505,
                "only HTTP/1.0 and HTTP/1.1 are supported",
            ));
        }
        Err(e) => return Err(bad(format!("malformed request head: {e}"))),
    }
    let (Some(method), Some(target), Some(version)) = (req.method, req.path, req.version) else {
        return Err(bad("malformed request line"));
    };
    let headers = fields(req.headers);
    let hosts = values(&headers, "host").len();
    if hosts > 1 || (version == 1 && hosts == 0) {
        return Err(bad("an HTTP/1.1 request needs exactly one Host"));
    }
    let body = body_kind(&headers, version, limits)?;
    let connection = values(&headers, "connection");
    let keep_alive =
        !list_has(&connection, "close") && (version == 1 || list_has(&connection, "keep-alive"));
    let expect_continue = version == 1 && list_has(&values(&headers, "expect"), "100-continue");
    Ok(RequestHead {
        method: method.to_owned(),
        target: target.to_owned(),
        version,
        headers,
        keep_alive,
        expect_continue,
        body,
    })
}

/// Whether the request line is well formed (`method SP target SP
/// HTTP/d.d`, exactly three parts) and its version is `HTTP/d.d`: then the
/// version, not the syntax, is what httparse refused. A target with a space
/// in it (`GET /a b HTTP/1.1`) is a malformed line, not another version.
fn other_version(head: &[u8]) -> bool {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let parts: Vec<&[u8]> = line.split(|&b| b == b' ').collect();
    match parts.as_slice() {
        [
            method,
            target,
            [b'H', b'T', b'T', b'P', b'/', major, b'.', minor],
        ] => {
            !method.is_empty()
                && !target.is_empty()
                && major.is_ascii_digit()
                && minor.is_ascii_digit()
        }
        _ => false,
    }
}

/// The framing of a request's body (RFC 9112 section 6.3).
fn body_kind(headers: &[Field], version: u8, limits: &HttpLimits) -> Result<BodyKind, HttpError> {
    let te = values(headers, "transfer-encoding");
    let cl = values(headers, "content-length");
    if !te.is_empty() {
        if version == 0 {
            return Err(bad("Transfer-Encoding in an HTTP/1.0 request"));
        }
        if !cl.is_empty() {
            return Err(bad("both Content-Length and Transfer-Encoding"));
        }
        return match codings(&te) {
            Codings::Chunked => Ok(BodyKind::Chunked),
            Codings::ChunkedAfterOthers => Err(HttpError::new(
                501,
                "transfer codings other than chunked are not supported",
            )),
            Codings::NotChunked => Err(bad("the final transfer coding is not chunked")),
            Codings::Invalid => Err(bad("invalid Transfer-Encoding")),
        };
    }
    if cl.is_empty() {
        return Ok(BodyKind::Empty);
    }
    let len = content_length(&cl, 400)?;
    if len > limits.body {
        return Err(HttpError::new(413, "the body is too large"));
    }
    Ok(BodyKind::Length(len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(text: &str) -> Result<RequestHead, u16> {
        parse_head(text.as_bytes(), &HttpLimits::default()).map_err(|e| e.status)
    }

    #[test]
    fn heads() {
        let h = head("GET /a?b HTTP/1.1\r\nHost: x\r\nX-A:  1 \r\nx-a: 2\r\n\r\n");
        let h = h.expect("a valid head");
        assert_eq!(
            (h.method.as_str(), h.target.as_str(), h.version),
            ("GET", "/a?b", 1)
        );
        let expected = [("Host", "x"), ("X-A", "1"), ("x-a", "2")]
            .map(|(n, v)| (n.to_owned(), v.as_bytes().to_vec()));
        assert_eq!(h.headers, expected);
        assert_eq!(h.header("X-a").collect::<Vec<_>>(), [b"1", b"2"]);
        assert!(h.keep_alive && !h.expect_continue);
        assert_eq!(h.body, BodyKind::Empty);
    }

    #[test]
    fn versions() {
        assert_eq!(head("GET / HTTP/2.0\r\n\r\n").err(), Some(505));
        assert_eq!(head("GET / HTTP/1.2\r\n\r\n").err(), Some(505));
        assert_eq!(head("GET / HTTP/1.10\r\n\r\n").err(), Some(400));
        assert_eq!(head("GET / http/1.1\r\n\r\n").err(), Some(400));
        assert_eq!(head("GET /\r\n\r\n").err(), Some(400));
        // A space in the target: a malformed line, whatever ends it.
        assert_eq!(
            head("GET /a b HTTP/1.1\r\nHost: x\r\n\r\n").err(),
            Some(400)
        );
        assert_eq!(head("GET /a b HTTP/2.0\r\n\r\n").err(), Some(400));
        assert_eq!(head("GET  / HTTP/2.0\r\n\r\n").err(), Some(400));
        assert_eq!(head("GET / HTTP/1.0\r\n\r\n").map(|h| h.version), Ok(0));
    }

    #[test]
    fn hosts() {
        assert_eq!(head("GET / HTTP/1.1\r\n\r\n").err(), Some(400));
        assert_eq!(
            head("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n").err(),
            Some(400)
        );
        assert_eq!(
            head("GET / HTTP/1.0\r\nHost: a\r\nHost: b\r\n\r\n").err(),
            Some(400)
        );
        assert!(head("GET / HTTP/1.0\r\n\r\n").is_ok());
    }
}
