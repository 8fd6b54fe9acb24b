//! The server side's encoder of responses.

use super::body::{BodyEncoder, Mode};
use super::syntax::{check_field, is_field_value, is_one_of, put_field, reason_phrase, values};
use super::{Field, HttpError};

/// The interim response a server sends to a request with
/// [`expect_continue`](super::RequestHead::expect_continue) when it wants
/// the body.
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// How a response's body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// Exactly this many bytes (`Content-Length`).
    Length(u64),
    /// `Transfer-Encoding: chunked`: each [`ResponseEncoder::body`] call is
    /// one chunk, and [`ResponseEncoder::finish`] sends the last chunk and
    /// trailers.
    Chunked,
    /// Server-sent events: chunked like [`Framing::Chunked`] (each event
    /// written with one `body` call goes out as one chunk). The encoder adds
    /// `Content-Type: text/event-stream` and `Cache-Control: no-cache` unless
    /// the caller's headers have a `Content-Type` or `Cache-Control`.
    EventStream,
    /// No length: the body ends when the connection closes, so the response
    /// says `Connection: close` whatever `keep_alive` was.
    Close,
}

/// Header fields the encoder writes itself; the caller may not give them.
const OWN_FIELDS: &[&str] = &["content-length", "transfer-encoding", "connection", "date"];

/// Frames one response: [`head`](Self::head) writes the head, then
/// [`body`](Self::body) as often as needed, then [`finish`](Self::finish).
///
/// Chunked and event-stream framing need an HTTP/1.1 client: answer an
/// HTTP/1.0 request with [`Framing::Length`] or [`Framing::Close`].
///
/// If a response cannot be completed (its producer failed, or `finish`
/// refused a short `Content-Length` body), call [`abort`](Self::abort) and
/// close the connection: nothing more comes out, and in particular a
/// chunked body never gets its last chunk, so the client cannot take a
/// cut-off body for a complete one.
#[derive(Debug)]
pub struct ResponseEncoder {
    body: BodyEncoder,
    keep_alive: bool,
}

impl ResponseEncoder {
    /// The head of a response, and the encoder of its body.
    ///
    /// Writes the status line (`reason`, or the standard phrase of
    /// `status`), `Date: {date}`, the caller's `headers` in order, the
    /// framing (`Content-Length` or `Transfer-Encoding: chunked`), and
    /// `Connection: keep-alive` or `Connection: close` (keep-alive only when
    /// `keep_alive` and the framing allows it; HTTP/1.0 clients need it
    /// said).
    ///
    /// For a response to HEAD (`head_request`), the head is the one a GET
    /// would get, and no body byte is ever produced: `body` takes and drops
    /// bytes, `finish` produces nothing. A 204 or 304 response has no body
    /// either (`body` refuses bytes) and no framing field, except that a
    /// 304 with [`Framing::Length`] says its `Content-Length`.
    ///
    /// Errors (status 500, nothing written): a status outside 200..=999
    /// (send interim responses as [`CONTINUE`]), a reason or date with
    /// control characters, an invalid header name or value, or a caller
    /// header among `Content-Length`, `Transfer-Encoding`, `Connection` and
    /// `Date`, which the encoder writes itself.
    pub fn head(
        status: u16,
        reason: Option<&str>,
        headers: &[Field],
        framing: Framing,
        date: &str,
        keep_alive: bool,
        head_request: bool,
    ) -> Result<(Vec<u8>, ResponseEncoder), HttpError> {
        if !(200..=999).contains(&status) {
            return Err(HttpError::new(
                500,
                format!("{status} is not a final status"),
            ));
        }
        let reason = reason.unwrap_or(reason_phrase(status));
        if !reason
            .bytes()
            .all(|b| b == b'\t' || b == b' ' || !b.is_ascii_control())
        {
            return Err(HttpError::new(500, "invalid reason phrase"));
        }
        if date.is_empty() || !is_field_value(date.as_bytes()) {
            return Err(HttpError::new(500, "invalid date"));
        }
        for (name, value) in headers {
            check_field(name, value)?;
            if is_one_of(name, OWN_FIELDS) {
                return Err(HttpError::new(
                    500,
                    format!("{name} is written by the encoder"),
                ));
            }
        }
        let keep_alive = keep_alive && framing != Framing::Close;
        let mut out = format!("HTTP/1.1 {status} {reason}\r\n").into_bytes();
        put_field(&mut out, "Date", date.as_bytes());
        for (name, value) in headers {
            put_field(&mut out, name, value);
        }
        if framing == Framing::EventStream {
            if values(headers, "content-type").is_empty() {
                put_field(&mut out, "Content-Type", b"text/event-stream");
            }
            if values(headers, "cache-control").is_empty() {
                put_field(&mut out, "Cache-Control", b"no-cache");
            }
        }
        let bodiless = status == 204 || status == 304;
        match framing {
            Framing::Length(n) if status != 204 => {
                put_field(&mut out, "Content-Length", n.to_string().as_bytes());
            }
            Framing::Chunked | Framing::EventStream if !bodiless => {
                put_field(&mut out, "Transfer-Encoding", b"chunked");
            }
            _ => {}
        }
        let connection: &[u8] = if keep_alive { b"keep-alive" } else { b"close" };
        put_field(&mut out, "Connection", connection);
        out.extend_from_slice(b"\r\n");
        let mode = match framing {
            _ if bodiless => Mode::Refused,
            _ if head_request => Mode::Dropped,
            Framing::Length(n) => Mode::Length(n),
            Framing::Chunked | Framing::EventStream => Mode::Chunked,
            Framing::Close => Mode::Close,
        };
        let encoder = ResponseEncoder {
            body: BodyEncoder::new(mode),
            keep_alive,
        };
        Ok((out, encoder))
    }

    /// The bytes that carry `data`: one chunk when chunked (nothing for
    /// empty `data`), `data` itself otherwise. Errors (nothing written): for
    /// [`Framing::Length`], bytes beyond the declared length; body bytes for
    /// a 204 or 304; a finished or aborted response.
    pub fn body(&mut self, data: &[u8]) -> Result<Vec<u8>, HttpError> {
        self.body.body(data)
    }

    /// The end of the body: the last chunk and `trailers` when chunked,
    /// nothing otherwise (with [`Framing::Close`], close the connection
    /// after it). Errors: trailers without chunked framing, a body shorter
    /// than its `Content-Length` (call [`abort`](Self::abort) then), a
    /// trailer that must not be one (`Content-Length`, `Transfer-Encoding`,
    /// `Host`, `Connection`, `Keep-Alive`, `TE`, `Trailer`, `Upgrade`), a
    /// finished or aborted response.
    pub fn finish(&mut self, trailers: &[Field]) -> Result<Vec<u8>, HttpError> {
        self.body.finish(trailers)
    }

    /// Cuts the response off: nothing more is produced (no last chunk), and
    /// the caller must close the connection. Does nothing once finished.
    pub fn abort(&mut self) {
        self.body.abort();
    }

    /// Whether [`finish`](Self::finish) completed the response.
    pub fn is_complete(&self) -> bool {
        self.body.is_complete()
    }

    /// Whether the response was [aborted](Self::abort).
    pub fn is_aborted(&self) -> bool {
        self.body.is_aborted()
    }

    /// Whether the connection may carry another request once this response
    /// is complete (`keep_alive` was asked and the framing is not
    /// [`Framing::Close`]).
    pub fn keep_alive(&self) -> bool {
        self.keep_alive
    }

    /// A whole response made by the host itself (an error such as 400, 408,
    /// 413, 414, 431, 500 or 503): the standard reason phrase, `Date`, a
    /// `text/plain` body of `text` and a newline, and `Connection: close`.
    /// A status outside 200..=999 becomes 500; control characters in `date`
    /// are dropped.
    pub fn simple(status: u16, text: &str, date: &str) -> Vec<u8> {
        let status = if (200..=999).contains(&status) {
            status
        } else {
            500
        };
        let date: Vec<u8> = date.bytes().filter(|b| !b.is_ascii_control()).collect();
        let mut out = format!("HTTP/1.1 {status} {}\r\n", reason_phrase(status)).into_bytes();
        put_field(&mut out, "Date", date.trim_ascii());
        put_field(&mut out, "Content-Type", b"text/plain; charset=utf-8");
        put_field(
            &mut out,
            "Content-Length",
            (text.len() + 1).to_string().as_bytes(),
        );
        put_field(&mut out, "Connection", b"close");
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(text.as_bytes());
        out.push(b'\n');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

    fn head(
        status: u16,
        headers: &[(&str, &str)],
        framing: Framing,
        keep: bool,
        head: bool,
    ) -> Result<String, u16> {
        let headers: Vec<Field> = headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
            .collect();
        ResponseEncoder::head(status, None, &headers, framing, DATE, keep, head)
            .map(|(bytes, _)| String::from_utf8_lossy(&bytes).into_owned())
            .map_err(|e| e.status)
    }

    #[test]
    fn heads() {
        assert_eq!(
            head(200, &[("X-A", "1")], Framing::Length(5), true, false),
            Ok(format!(
                "HTTP/1.1 200 OK\r\nDate: {DATE}\r\nX-A: 1\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\n"
            ))
        );
        assert_eq!(
            head(404, &[], Framing::Chunked, false, true),
            Ok(format!(
                "HTTP/1.1 404 Not Found\r\nDate: {DATE}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            ))
        );
        assert_eq!(
            head(200, &[], Framing::EventStream, true, false),
            Ok(format!(
                "HTTP/1.1 200 OK\r\nDate: {DATE}\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n"
            ))
        );
        assert_eq!(
            head(204, &[], Framing::Chunked, true, false),
            Ok(format!(
                "HTTP/1.1 204 No Content\r\nDate: {DATE}\r\nConnection: keep-alive\r\n\r\n"
            ))
        );
        assert_eq!(
            head(299, &[], Framing::Close, true, false),
            Ok(format!(
                "HTTP/1.1 299 \r\nDate: {DATE}\r\nConnection: close\r\n\r\n"
            ))
        );
    }

    #[test]
    fn refused_heads() {
        for own in ["Content-Length", "transfer-encoding", "CONNECTION", "Date"] {
            assert_eq!(
                head(200, &[(own, "1")], Framing::Length(1), true, false),
                Err(500)
            );
        }
        assert_eq!(
            head(200, &[("X", "a\r\nB: c")], Framing::Length(1), true, false),
            Err(500)
        );
        assert_eq!(
            head(200, &[("X Y", "a")], Framing::Length(1), true, false),
            Err(500)
        );
        assert_eq!(head(100, &[], Framing::Length(0), true, false), Err(500));
        assert_eq!(head(1000, &[], Framing::Length(0), true, false), Err(500));
        let bad_reason =
            ResponseEncoder::head(200, Some("O\nK"), &[], Framing::Close, DATE, true, false);
        assert!(bad_reason.is_err());
        let bad_date = ResponseEncoder::head(200, None, &[], Framing::Close, "x\r\n", true, false);
        assert!(bad_date.is_err());
    }

    #[test]
    fn bodies() -> Result<(), HttpError> {
        let (_, mut e) = ResponseEncoder::head(200, None, &[], Framing::Close, DATE, true, false)?;
        assert!(!e.keep_alive());
        assert_eq!(e.body(b"abc")?, b"abc");
        assert_eq!(e.finish(&[])?, b"");
        let (_, mut e) =
            ResponseEncoder::head(304, None, &[], Framing::Length(9), DATE, true, false)?;
        assert!(e.body(b"abc").is_err());
        assert!(e.finish(&[])?.is_empty() && e.is_complete());
        let (_, mut e) = ResponseEncoder::head(200, None, &[], Framing::Chunked, DATE, true, true)?;
        assert_eq!(e.body(b"abc")?, b"");
        assert_eq!(e.finish(&[])?, b"");
        Ok(())
    }

    #[test]
    fn simple() {
        let r = ResponseEncoder::simple(431, "too large", "Sun,\r\n 06");
        assert_eq!(
            String::from_utf8_lossy(&r),
            "HTTP/1.1 431 Request Header Fields Too Large\r\nDate: Sun, 06\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 10\r\nConnection: close\r\n\r\ntoo large\n"
        );
        assert!(
            ResponseEncoder::simple(42, "", DATE)
                .starts_with(b"HTTP/1.1 500 Internal Server Error\r\n")
        );
    }
}
