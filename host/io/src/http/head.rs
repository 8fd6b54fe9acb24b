//! Gathering a head (or a trailer section) up to its empty line, within
//! limits, looking at each byte once.

use super::{HttpError, HttpLimits};

/// Empty lines skipped before a start line: at most this many bytes (RFC
/// 9112 section 2.2 asks a server to skip at least one).
const MAX_LEADING: usize = 64;

/// Collects the bytes of a head section until the empty line that ends it.
/// Lines end in LF, with an optional CR before it (httparse, which parses
/// the section afterwards, accepts both); the section's bytes are kept so
/// that no caller has to hold a partial head.
#[derive(Debug)]
pub(crate) struct HeadReader {
    buf: Vec<u8>,
    /// Bytes of the current line before its LF.
    line: usize,
    /// Visible bytes of the start line so far (`None` once it ended, or
    /// for a trailer section, which has none).
    start_line: Option<usize>,
    /// Empty-line bytes skipped before the start line.
    skipped: usize,
    /// A CR was skipped and its LF has not come yet.
    pending_cr: bool,
    done: bool,
    line_limit: usize,
    byte_limit: usize,
}

impl HeadReader {
    /// A reader of a request's or response's head: a start line, fields and
    /// an empty line, leading empty lines skipped.
    pub fn head(limits: &HttpLimits) -> HeadReader {
        HeadReader {
            buf: Vec::new(),
            line: 0,
            start_line: Some(0),
            skipped: 0,
            pending_cr: false,
            done: false,
            line_limit: limits.request_line,
            byte_limit: limits.header_bytes,
        }
    }

    /// A reader of a trailer section: fields and an empty line (which may be
    /// its first line).
    pub fn trailers(limits: &HttpLimits) -> HeadReader {
        HeadReader {
            start_line: None,
            ..HeadReader::head(limits)
        }
    }

    /// Nothing of a head has arrived, not even an empty line before it (a
    /// head's time counts from its first byte, so empty lines sent one by
    /// one cannot hold a connection without a request).
    pub fn is_empty(&self) -> bool {
        self.buf.is_empty() && !self.pending_cr && self.skipped == 0
    }

    /// The section's bytes, its final empty line included.
    pub fn bytes(&self) -> &[u8] {
        &self.buf
    }

    /// Takes bytes of `input` up to the end of the section. Returns how many
    /// it took and whether the section is complete (it takes all of `input`
    /// when it is not).
    pub fn feed(&mut self, input: &[u8]) -> Result<(usize, bool), HttpError> {
        for (i, &b) in input.iter().enumerate() {
            if self.done {
                return Ok((i, true));
            }
            self.byte(b)?;
        }
        Ok((input.len(), self.done))
    }

    fn byte(&mut self, b: u8) -> Result<(), HttpError> {
        if self.start_line == Some(0) && self.buf.is_empty() {
            // Empty lines before the start line: CRLF or LF.
            match b {
                b'\r' if !self.pending_cr => self.pending_cr = true,
                b'\n' => self.pending_cr = false,
                _ if self.pending_cr => {
                    return Err(HttpError::new(400, "CR without LF before the request"));
                }
                _ => {
                    self.skipped = 0;
                    return self.push(b);
                }
            }
            self.skipped += 1;
            if self.skipped > MAX_LEADING {
                return Err(HttpError::new(
                    400,
                    "too many empty lines before the request",
                ));
            }
            return Ok(());
        }
        self.push(b)
    }

    fn push(&mut self, b: u8) -> Result<(), HttpError> {
        self.buf.push(b);
        if b == b'\n' {
            let empty = self.line == 0 || (self.line == 1 && self.buf.ends_with(b"\r\n"));
            if empty && self.start_line.is_none() {
                self.done = true;
            }
            self.start_line = None;
            self.line = 0;
        } else {
            self.line += 1;
            if let Some(visible) = self.start_line.as_mut()
                && b != b'\r'
            {
                *visible += 1;
                if *visible > self.line_limit {
                    return Err(HttpError::new(414, "the request line is too long"));
                }
            }
        }
        if self.buf.len() > self.byte_limit {
            return Err(HttpError::new(431, "the header section is too large"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(reader: &mut HeadReader, input: &[u8]) -> Result<(usize, bool), u16> {
        reader.feed(input).map_err(|e| e.status)
    }

    #[test]
    fn stops_after_the_empty_line() {
        let limits = HttpLimits::default();
        let mut r = HeadReader::head(&limits);
        assert_eq!(
            read(&mut r, b"GET / HTTP/1.1\r\nA: b\r\n\r\nrest"),
            Ok((24, true))
        );
        assert_eq!(r.bytes(), b"GET / HTTP/1.1\r\nA: b\r\n\r\n");
        let mut r = HeadReader::head(&limits);
        assert_eq!(
            read(&mut r, b"\r\n\nGET / HTTP/1.1\n\nrest"),
            Ok((19, true))
        );
        assert_eq!(r.bytes(), b"GET / HTTP/1.1\n\n");
        let mut r = HeadReader::trailers(&limits);
        assert_eq!(read(&mut r, b"\r\nX"), Ok((2, true)));
        let mut r = HeadReader::trailers(&limits);
        assert_eq!(read(&mut r, b"A: b\r"), Ok((5, false)));
        assert_eq!(read(&mut r, b"\n\r"), Ok((2, false)));
        assert_eq!(read(&mut r, b"\nX"), Ok((1, true)));
    }

    #[test]
    fn limits() {
        let limits = HttpLimits {
            request_line: 10,
            header_bytes: 30,
            ..HttpLimits::default()
        };
        // Ten visible bytes and the CRLF are fine; eleven are not.
        let mut r = HeadReader::head(&limits);
        assert_eq!(read(&mut r, b"GET / HTTP\r\n"), Ok((12, false)));
        let mut r = HeadReader::head(&limits);
        assert_eq!(read(&mut r, b"GET / HTTP/"), Err(414));
        let mut r = HeadReader::head(&limits);
        assert_eq!(
            read(&mut r, b"GET / HTTP\r\nAaaaaaaaa: bbbbbbbbbbbbbbbbbbb"),
            Err(431)
        );
        let mut r = HeadReader::head(&limits);
        assert_eq!(read(&mut r, b"\r\r\n"), Err(400));
        let mut r = HeadReader::head(&limits);
        assert_eq!(read(&mut r, &[b'\n'; 65]), Err(400));
    }
}
