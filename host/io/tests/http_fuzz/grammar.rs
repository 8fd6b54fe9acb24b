//! The grammar the HTTP fuzz targets generate requests from, and the
//! mutations they apply.

use hio_io::http::{BodyKind, RequestEvent};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};

/// A chunk: its data, how its size is written, its extensions.
#[derive(Debug, Clone)]
pub struct Chunk {
    /// Its data (never empty: a size of 0 is the last chunk).
    pub data: Vec<u8>,
    /// Hex digits in upper case.
    pub upper: bool,
    /// Leading zeros of the size.
    pub zeros: usize,
    /// Its extensions, as written.
    pub ext: &'static str,
}

/// Chunk extensions, valid ones.
pub const EXTS: &[&str] = &["", ";a", ";a=b", " ; a = \"q \\\" x\"", ";x=1;y", "\t;z"];
/// Trailer fields (a decoder drops `Content-Length` and `Host`).
pub const TRAILERS: &[(&str, &str)] = &[
    ("X-T", "1"),
    ("x-sum", "abc def"),
    ("Content-Length", "5"),
    ("Host", "evil"),
];
/// Header fields of a valid request (besides `Host` and the framing).
pub const FIELDS: &[(&str, &str)] = &[
    ("Accept", "*/*"),
    ("X-Empty", ""),
    ("User-Agent", "fuzz/1.0 (x)"),
    ("Connection", "close"),
    ("connection", "Keep-Alive"),
    ("Expect", "100-continue"),
    ("X-Obs", "caf\u{e9}"),
];

/// A chunk of 1 to 39 random bytes.
pub fn chunk() -> impl Strategy<Value = Chunk> {
    (
        vec(any::<u8>(), 1..40),
        any::<bool>(),
        0..3usize,
        select(EXTS),
    )
        .prop_map(|(data, upper, zeros, ext)| Chunk {
            data,
            upper,
            zeros,
            ext,
        })
}

/// A request's body.
#[derive(Debug, Clone)]
pub enum Body {
    /// None.
    None,
    /// These bytes, with `Content-Length`.
    Length(Vec<u8>),
    /// Chunks, the last chunk's extensions, and trailers.
    Chunked(Vec<Chunk>, &'static str, Vec<(&'static str, &'static str)>),
}

/// No body, a `Content-Length` one, or a chunked one with trailers.
pub fn body() -> impl Strategy<Value = Body> {
    prop_oneof![
        Just(Body::None),
        vec(any::<u8>(), 0..80).prop_map(Body::Length),
        (
            vec(chunk(), 0..5),
            select(EXTS),
            vec(select(TRAILERS), 0..3)
        )
            .prop_map(|(c, last, t)| Body::Chunked(c, last, t)),
    ]
}

/// A valid request.
#[derive(Debug, Clone)]
pub struct Req {
    /// The method.
    pub method: &'static str,
    /// The request target.
    pub target: &'static str,
    /// HTTP/1.0 (never with a chunked body).
    pub http10: bool,
    /// The head's lines end in LF alone.
    pub lf_only: bool,
    /// Header fields besides `Host` and the framing.
    pub fields: Vec<(&'static str, &'static str)>,
    /// The body.
    pub body: Body,
}

/// A valid request.
pub fn request() -> impl Strategy<Value = Req> {
    (
        select(&["GET", "POST", "PUT", "HEAD", "X-Mine", "get"][..]),
        select(&["/", "/a?b=c&d", "*", "http://h:1/x", "/%7e"][..]),
        any::<bool>(),
        any::<bool>(),
        vec(select(FIELDS), 0..4),
        body(),
    )
        .prop_map(|(method, target, http10, lf_only, fields, body)| {
            // HTTP/1.0 has no chunked coding.
            let http10 = http10 && !matches!(body, Body::Chunked(..));
            Req {
                method,
                target,
                http10,
                lf_only,
                fields,
                body,
            }
        })
}

impl Req {
    /// The request as sent.
    pub fn bytes(&self) -> Vec<u8> {
        let eol = if self.lf_only { "\n" } else { "\r\n" };
        let version = if self.http10 { "HTTP/1.0" } else { "HTTP/1.1" };
        let mut out = format!("{} {} {version}{eol}Host: h{eol}", self.method, self.target);
        for (name, value) in &self.fields {
            out.push_str(&format!("{name}: {value}{eol}"));
        }
        match &self.body {
            Body::None => {}
            Body::Length(b) => out.push_str(&format!("Content-Length: {}{eol}", b.len())),
            Body::Chunked(..) => out.push_str(&format!("Transfer-Encoding: chunked{eol}")),
        }
        out.push_str(eol);
        let mut out = out.into_bytes();
        out.extend(self.body_bytes());
        out
    }

    /// The body as sent (chunk framing included).
    pub fn body_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match &self.body {
            Body::None => {}
            Body::Length(b) => out.extend_from_slice(b),
            Body::Chunked(chunks, last, trailers) => {
                for c in chunks {
                    let size = if c.upper {
                        format!("{:X}", c.data.len())
                    } else {
                        format!("{:x}", c.data.len())
                    };
                    out.extend(format!("{}{size}{}\r\n", "0".repeat(c.zeros), c.ext).bytes());
                    out.extend_from_slice(&c.data);
                    out.extend_from_slice(b"\r\n");
                }
                out.extend(format!("0{last}\r\n").bytes());
                for (name, value) in trailers {
                    out.extend(format!("{name}: {value}\r\n").bytes());
                }
                out.extend_from_slice(b"\r\n");
            }
        }
        out
    }

    /// The events it must decode to (except the head's fields).
    pub fn expected(&self) -> Vec<String> {
        let kind = match &self.body {
            Body::None => BodyKind::Empty,
            Body::Length(b) => BodyKind::Length(b.len() as u64),
            Body::Chunked(..) => BodyKind::Chunked,
        };
        let mut out = vec![format!(
            "{} {} {} {kind:?}",
            self.method,
            self.target,
            u8::from(!self.http10)
        )];
        let (data, trailers): (Vec<u8>, Vec<_>) = match &self.body {
            Body::None => (vec![], vec![]),
            Body::Length(b) => (b.clone(), vec![]),
            Body::Chunked(chunks, _, t) => (
                chunks.iter().flat_map(|c| c.data.clone()).collect(),
                t.iter()
                    .filter(|(n, _)| !matches!(*n, "Content-Length" | "Host"))
                    .collect(),
            ),
        };
        if !data.is_empty() {
            out.push(format!("body {}", data.escape_ascii()));
        }
        out.push(format!("end {trailers:?}"));
        out
    }
}

/// Request events as the text [`Req::expected`] gives.
pub fn describe(events: &[RequestEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            RequestEvent::Head(h) => {
                format!("{} {} {} {:?}", h.method, h.target, h.version, h.body)
            }
            RequestEvent::Body(b) => format!("body {}", b.escape_ascii()),
            RequestEvent::End { trailers } => {
                let t: Vec<(&str, &str)> = trailers
                    .iter()
                    .map(|(n, v)| (n.as_str(), std::str::from_utf8(v).unwrap_or("?")))
                    .collect();
                format!("end {t:?}")
            }
        })
        .collect()
}

/// A change to a generated input.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Overwrite a byte.
    Set(Index, u8),
    /// Insert a token.
    Insert(Index, &'static str),
    /// Delete up to this many bytes.
    Delete(Index, usize),
}

/// What a mutation may insert.
pub const TOKENS: &[&str] = &[
    "\r\n",
    "\n",
    "\r",
    "\0",
    " ",
    ":",
    ";",
    "\"",
    "0\r\n\r\n",
    "ffffffffffffffffff",
    "Content-Length: 5\r\n",
    "Content-Length: 99999999999999999999\r\n",
    "Transfer-Encoding: chunked\r\n",
    "Transfer-Encoding: gzip, chunked\r\n",
    "Host: b\r\n",
    " folded\r\n",
    "HTTP/2.0",
    "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
];

/// A random mutation.
pub fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<Index>(), select(TOKENS)).prop_map(|(i, t)| Mutation::Insert(i, t)),
        (any::<Index>(), 1..8usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
    ]
}

/// Applies `mutations` to `input` in order.
pub fn mutate(mut input: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        match m {
            Mutation::Set(i, b) if !input.is_empty() => {
                let at = i.index(input.len());
                input[at] = *b;
            }
            Mutation::Set(..) => {}
            Mutation::Insert(i, t) => {
                let at = i.index(input.len() + 1);
                input.splice(at..at, t.bytes());
            }
            Mutation::Delete(i, n) => {
                let at = i.index(input.len() + 1);
                input.drain(at..(at + n).min(input.len()));
            }
        }
    }
    input
}
