//! A sans-IO HTTP/1.1 codec: bytes in, events out. Nothing here touches a
//! socket or reads a clock; the caller moves bytes between these types and
//! its buffers, and gives the `Date` text itself ([`http_date`]).
//!
//! Server side: [`RequestDecoder`] turns received bytes into
//! [`RequestEvent`]s (a head, body pieces, an end), one request after the
//! other on a kept-alive connection; [`ResponseEncoder`] frames a response
//! (`Content-Length`, chunked, or until close). Client side:
//! [`RequestEncoder`] and [`ResponseDecoder`]. [`ChunkedDecoder`] is the
//! chunked body decoder both decoders use.
//!
//! Every decoder works the same way: `decode(input)` consumes a prefix of
//! `input`, says how many bytes it took, and yields at most one event. The
//! caller keeps the bytes not consumed and calls again, with more appended
//! once they arrive. When a call yields no event it has consumed all of
//! `input`: more bytes are needed. Heads are copied into the decoder as
//! they arrive (up to the limits of [`HttpLimits`]), so a caller's buffer
//! never has to hold a whole head.
//!
//! An [`HttpError`] is final: the decoder that returned it stays failed and
//! returns the same error from then on, and the connection must be closed
//! (after sending, on the server side, [`ResponseEncoder::simple`] with the
//! error's status). The framing of what follows an invalid message cannot
//! be trusted, so nothing more is read from that connection.
//!
//! Both decoders are strict where leniency would let two parsers disagree
//! on where a message ends (request smuggling): both `Content-Length` and
//! `Transfer-Encoding`, repeated `Content-Length` fields, a
//! `Transfer-Encoding` whose final coding is not `chunked`, obsolete line
//! folding and malformed chunk framing are all rejected.
//!
//! ```
//! use hio_io::http::{HttpLimits, RequestDecoder, RequestEvent};
//!
//! let mut decoder = RequestDecoder::new(HttpLimits::default());
//! let mut input: &[u8] = b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi";
//! let mut events = Vec::new();
//! loop {
//!     let (used, event) = decoder.decode(input).unwrap();
//!     input = &input[used..];
//!     match event {
//!         Some(e) => events.push(e),
//!         None => break, // all of `input` was taken: wait for more
//!     }
//! }
//! assert!(matches!(&events[0], RequestEvent::Head(h) if h.target == "/a"));
//! assert_eq!(events[1], RequestEvent::Body(b"hi".to_vec()));
//! assert_eq!(events[2], RequestEvent::End { trailers: vec![] });
//! ```

mod body;
mod chunked;
mod client;
mod date;
mod head;
mod request;
mod response;
mod syntax;

pub use chunked::{ChunkedDecoder, ChunkedEvent};
pub use client::{RequestEncoder, ResponseDecoder, ResponseEvent, ResponseHead};
pub use date::http_date;
pub use request::{RequestDecoder, RequestEvent, RequestHead};
pub use response::{CONTINUE, Framing, ResponseEncoder};

use std::fmt;

/// Why a message was refused. For decoders, `status` is the response a
/// server sends before closing (400, 413, 414, 431, 501, 505; a
/// [`ResponseDecoder`] always says 502, the status a gateway would give);
/// for encoders it is 500: the caller asked for something HTTP does not
/// allow, and nothing was produced.
///
/// After an error the connection must be closed: see the [module
/// documentation](self).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpError {
    /// The HTTP status that answers it.
    pub status: u16,
    /// What was wrong, for logs and the short body of the answer.
    pub reason: String,
}

impl HttpError {
    pub(crate) fn new(status: u16, reason: impl Into<String>) -> HttpError {
        HttpError {
            status,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.reason)
    }
}

impl std::error::Error for HttpError {}

/// Size limits of a decoder. Going over one is an [`HttpError`] with the
/// status given for each field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Bytes of the request line (or status line) before its CRLF (414).
    pub request_line: usize,
    /// Bytes of a whole head, start line and final empty line included;
    /// also of a chunked body's trailer section (431).
    pub header_bytes: usize,
    /// Header fields in a head, or in a trailer section (431).
    pub headers: usize,
    /// Bytes of a body: its `Content-Length` (refused with the head), or
    /// the sum of its chunks (413).
    pub body: u64,
}

impl Default for HttpLimits {
    /// 8 KiB request line, 16 KiB head, 64 header fields, 1 MiB body.
    fn default() -> Self {
        HttpLimits {
            request_line: 8 << 10,
            header_bytes: 16 << 10,
            headers: 64,
            body: 1 << 20,
        }
    }
}

/// How a message's body is framed (RFC 9112 section 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// No body.
    Empty,
    /// Exactly this many bytes (`Content-Length`).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Everything until the peer closes the connection. Only a response
    /// has it; [`RequestEncoder::head`] refuses it.
    Close,
}

/// One header field: its name as sent and its value's bytes.
pub type Field = (String, Vec<u8>);
