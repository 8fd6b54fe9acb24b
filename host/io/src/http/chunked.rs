//! The chunked transfer coding's decoder (RFC 9112 section 7.1).

use super::head::HeadReader;
use super::syntax::{NOT_TRAILERS, fields, is_one_of, is_tchar};
use super::{Field, HttpError, HttpLimits};

/// Longest chunk-size line, extensions included, CRLF excluded.
const MAX_SIZE_LINE: usize = 4096;

/// Most hex digits of a chunk size (a `u64`).
const MAX_SIZE_DIGITS: usize = 16;

/// What a [`ChunkedDecoder`] yields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChunkedEvent {
    /// Bytes of chunk data (the framing removed).
    Data(Vec<u8>),
    /// The last chunk and the trailer section came: the body is complete.
    /// Trailer fields that must not be trailers (`Content-Length`,
    /// `Transfer-Encoding`, `Host`, `Connection`, `Keep-Alive`, `TE`,
    /// `Trailer`, `Upgrade`) are dropped.
    End {
        /// The trailer fields, in order, names as sent.
        trailers: Vec<Field>,
    },
}

#[derive(Debug)]
enum State {
    /// Reading a chunk-size line (its bytes so far, LF excluded).
    Size(Vec<u8>),
    /// Chunk data still to come.
    Data(u64),
    /// The CR after chunk data.
    DataCr,
    /// The LF after chunk data.
    DataLf,
    /// The trailer section after the last chunk.
    Trailers(HeadReader),
    /// The body ended.
    Done,
}

/// Decodes a chunked body: chunk-size lines (extensions are checked and
/// ignored), chunk data and the trailer section, with the limits of
/// [`HttpLimits`] (`body` for the sum of chunk sizes, `header_bytes` and
/// `headers` for the trailers). Every line of the framing must end in CRLF.
///
/// [`decode`](Self::decode) works like [`RequestDecoder::decode`](super::RequestDecoder::decode);
/// after [`ChunkedEvent::End`] it takes nothing more and yields nothing.
/// An error is final (the decoder keeps returning it).
#[derive(Debug)]
pub struct ChunkedDecoder {
    state: State,
    limits: HttpLimits,
    /// Sum of the chunk sizes so far.
    total: u64,
    failed: Option<HttpError>,
}

impl ChunkedDecoder {
    /// A decoder at the start of a chunked body.
    pub fn new(limits: HttpLimits) -> ChunkedDecoder {
        ChunkedDecoder {
            state: State::Size(Vec::new()),
            limits,
            total: 0,
            failed: None,
        }
    }

    /// Whether the body has ended ([`ChunkedEvent::End`] was yielded).
    pub fn is_done(&self) -> bool {
        matches!(self.state, State::Done)
    }

    /// Consumes a prefix of `input`; returns how many bytes it took and at
    /// most one event. When it yields no event it took all of `input`
    /// (or the body has ended).
    pub fn decode(&mut self, input: &[u8]) -> Result<(usize, Option<ChunkedEvent>), HttpError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        self.step(input)
            .inspect_err(|e| self.failed = Some(e.clone()))
    }

    fn step(&mut self, input: &[u8]) -> Result<(usize, Option<ChunkedEvent>), HttpError> {
        let mut used = 0;
        loop {
            let rest = &input[used..];
            match &mut self.state {
                State::Done => return Ok((used, None)),
                State::Data(left) => {
                    let n = usize::try_from(*left).unwrap_or(usize::MAX).min(rest.len());
                    if n == 0 {
                        return Ok((used, None));
                    }
                    *left -= n as u64;
                    if *left == 0 {
                        self.state = State::DataCr;
                    }
                    return Ok((used + n, Some(ChunkedEvent::Data(rest[..n].to_vec()))));
                }
                State::Trailers(reader) => {
                    let (n, done) = reader.feed(rest)?;
                    used += n;
                    if !done {
                        return Ok((used, None));
                    }
                    let trailers = parse_trailers(reader.bytes(), &self.limits)?;
                    self.state = State::Done;
                    return Ok((used, Some(ChunkedEvent::End { trailers })));
                }
                _ => {}
            }
            let Some(&b) = rest.first() else {
                return Ok((used, None));
            };
            used += 1;
            match &mut self.state {
                State::DataCr if b == b'\r' => self.state = State::DataLf,
                State::DataLf if b == b'\n' => self.state = State::Size(Vec::new()),
                State::DataCr | State::DataLf => {
                    return Err(HttpError::new(400, "chunk data not followed by CRLF"));
                }
                State::Size(line) if b == b'\n' => {
                    let size = chunk_size(line)?;
                    if size > self.limits.body - self.total.min(self.limits.body) {
                        return Err(HttpError::new(413, "the body is too large"));
                    }
                    self.total += size;
                    self.state = if size == 0 {
                        State::Trailers(HeadReader::trailers(&self.limits))
                    } else {
                        State::Data(size)
                    };
                }
                State::Size(line) => {
                    if line.len() > MAX_SIZE_LINE {
                        return Err(HttpError::new(400, "chunk-size line too long"));
                    }
                    line.push(b);
                }
                State::Data(_) | State::Trailers(_) | State::Done => {
                    unreachable!("handled above")
                }
            }
        }
    }
}

/// Parses a chunk-size line (LF excluded): `chunk-size [ chunk-ext ] CR`.
fn chunk_size(line: &[u8]) -> Result<u64, HttpError> {
    let bad = |why: &str| HttpError::new(400, format!("invalid chunk-size line: {why}"));
    let Some(line) = line.strip_suffix(b"\r") else {
        return Err(bad("no CRLF"));
    };
    let digits = line.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    if digits == 0 {
        return Err(bad("no hex size"));
    }
    if digits > MAX_SIZE_DIGITS {
        return Err(bad("size too long"));
    }
    let size = line[..digits]
        .iter()
        .try_fold(0u64, |n, &d| {
            let v = (d as char).to_digit(16)?;
            n.checked_mul(16)?.checked_add(u64::from(v))
        })
        .ok_or_else(|| bad("size overflows"))?;
    check_extensions(&line[digits..]).map_err(bad)?;
    Ok(size)
}

/// Checks `*( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )`, where
/// `ext-val` is a token or a quoted-string.
fn check_extensions(mut s: &[u8]) -> Result<(), &'static str> {
    let ws = |s: &[u8]| -> usize { s.iter().take_while(|&&b| b == b' ' || b == b'\t').count() };
    let token = |s: &[u8]| -> usize { s.iter().take_while(|&&b| is_tchar(b)).count() };
    while !s.is_empty() {
        s = &s[ws(s)..];
        let Some(rest) = s.strip_prefix(b";") else {
            return Err("bad chunk extension");
        };
        s = &rest[ws(rest)..];
        let n = token(s);
        if n == 0 {
            return Err("chunk extension without a name");
        }
        s = &s[n..];
        let after = &s[ws(s)..];
        if let Some(rest) = after.strip_prefix(b"=") {
            s = &rest[ws(rest)..];
            let n = if s.first() == Some(&b'"') {
                quoted_string(s).ok_or("bad quoted chunk extension value")?
            } else {
                token(s)
            };
            if n == 0 {
                return Err("chunk extension without a value");
            }
            s = &s[n..];
        }
    }
    Ok(())
}

/// The length of the quoted-string `s` starts with, if it is one.
fn quoted_string(s: &[u8]) -> Option<usize> {
    let text = |b: u8| b == b'\t' || b == b' ' || super::syntax::is_field_vchar(b);
    let mut i = 1;
    loop {
        match *s.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' if text(*s.get(i + 1)?) => i += 2,
            b'\\' => return None,
            b if text(b) => i += 1,
            _ => return None,
        }
    }
}

/// Parses a trailer section, dropping the fields that must not be trailers.
fn parse_trailers(section: &[u8], limits: &HttpLimits) -> Result<Vec<Field>, HttpError> {
    let mut parsed = vec![httparse::EMPTY_HEADER; limits.headers];
    match httparse::parse_headers(section, &mut parsed) {
        Ok(httparse::Status::Complete((n, found))) if n == section.len() => {
            let mut trailers = fields(found);
            trailers.retain(|(name, _)| !is_one_of(name, NOT_TRAILERS));
            Ok(trailers)
        }
        Ok(_) => Err(HttpError::new(400, "malformed trailer section")),
        Err(httparse::Error::TooManyHeaders) => Err(HttpError::new(431, "too many trailer fields")),
        Err(e) => Err(HttpError::new(
            400,
            format!("malformed trailer section: {e}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes `input` at once: the data and the trailers, or the status.
    fn decode(input: &[u8]) -> Result<(Vec<u8>, Vec<Field>), u16> {
        let mut d = ChunkedDecoder::new(HttpLimits::default());
        let mut data = Vec::new();
        let mut rest = input;
        loop {
            match d.decode(rest).map_err(|e| e.status)? {
                (n, Some(ChunkedEvent::Data(bytes))) => {
                    data.extend(bytes);
                    rest = &rest[n..];
                }
                (_, Some(ChunkedEvent::End { trailers })) => return Ok((data, trailers)),
                (_, None) => return Err(0),
            }
        }
    }

    #[test]
    fn chunks_extensions_and_trailers() {
        assert_eq!(decode(b"0\r\n\r\n"), Ok((vec![], vec![])));
        assert_eq!(
            decode(b"3\r\nabc\r\nA ; x ; y = \"q\\\"\" ;z=t\r\n0123456789\r\n0\r\nT: 1\r\nHost: h\r\n\r\n"),
            Ok((b"abc0123456789".to_vec(), vec![("T".to_owned(), b"1".to_vec())]))
        );
        assert_eq!(
            decode(b"00000000000000003\r\nabc\r\n0\r\n\r\n").map(|r| r.0),
            Err(400)
        );
        assert_eq!(
            decode(b"0000000000000003\r\nabc\r\n0\r\n\r\n").map(|r| r.0),
            Ok(b"abc".to_vec())
        );
    }

    #[test]
    fn bad_framing() {
        for bad in [
            &b"x\r\n"[..],
            b"\r\n",
            b"3\n",
            b"3 \r\n",
            b"3;\r\n",
            b"3;a=\r\n",
            b"3;a=\"x\r\n",
            b"3;a b\r\n",
            b"3;a\0\r\n",
            b"-3\r\n",
            b"0x3\r\n",
            b"3\r\nabcX",
            b"3\r\nabc\rX",
            b"3\r\nabc\n",
            b"0\r\nbad header\r\n\r\n",
            b"0\r\n folded: x\r\n\r\n",
        ] {
            assert_eq!(decode(bad), Err(400), "{}", bad.escape_ascii());
        }
        assert_eq!(decode(b"FFFFFFFFFFFFFFFF\r\n"), Err(413));
        let long = [b"1;".as_slice(), &[b'a'; MAX_SIZE_LINE], b"\r\n"].concat();
        assert_eq!(decode(&long), Err(400));
    }

    #[test]
    fn limits() {
        let limits = HttpLimits {
            body: 5,
            headers: 1,
            ..HttpLimits::default()
        };
        let mut d = ChunkedDecoder::new(limits);
        assert!(matches!(d.decode(b"5\r\nabcde\r\n"), Ok((8, Some(_)))));
        assert!(matches!(d.decode(b"\r\n"), Ok((2, None))));
        assert_eq!(d.decode(b"1\r\n").map_err(|e| e.status), Err(413));
        // The error stays.
        assert_eq!(d.decode(b"0\r\n\r\n").map_err(|e| e.status), Err(413));
        let mut d = ChunkedDecoder::new(limits);
        assert_eq!(
            d.decode(b"0\r\nA: 1\r\nB: 2\r\n\r\n").map_err(|e| e.status),
            Err(431)
        );
        let mut d = ChunkedDecoder::new(limits);
        assert!(matches!(
            d.decode(b"0\r\nA: 1\r\n\r\nGET"),
            Ok((11, Some(_)))
        ));
        assert!(d.is_done());
        assert_eq!(d.decode(b"GET").map_err(|e| e.status), Ok((0, None)));
    }
}
