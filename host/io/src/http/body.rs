//! Framing an outgoing body: the part both encoders share.

use super::syntax::{NOT_TRAILERS, check_field, is_one_of, put_field};
use super::{Field, HttpError};

/// How body bytes go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Exactly this many bytes, as they are.
    Length(u64),
    /// Chunk-framed, ended by the last chunk and trailers.
    Chunked,
    /// As they are, ended by closing the connection.
    Close,
    /// No body is allowed: body bytes are refused.
    Refused,
    /// No body is sent (a response to HEAD): body bytes are taken and
    /// dropped.
    Dropped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Open,
    Finished,
    Aborted,
}

/// The body half of an encoder.
#[derive(Debug)]
pub(crate) struct BodyEncoder {
    mode: Mode,
    written: u64,
    state: State,
}

fn refused(why: impl Into<String>) -> HttpError {
    HttpError::new(500, why)
}

impl BodyEncoder {
    pub fn new(mode: Mode) -> BodyEncoder {
        BodyEncoder {
            mode,
            written: 0,
            state: State::Open,
        }
    }

    fn check_open(&self) -> Result<(), HttpError> {
        match self.state {
            State::Open => Ok(()),
            State::Finished => Err(refused("the body was finished already")),
            State::Aborted => Err(refused("the message was aborted")),
        }
    }

    pub fn body(&mut self, data: &[u8]) -> Result<Vec<u8>, HttpError> {
        self.check_open()?;
        match self.mode {
            Mode::Dropped => Ok(Vec::new()),
            Mode::Refused if data.is_empty() => Ok(Vec::new()),
            Mode::Refused => Err(refused("this message has no body")),
            Mode::Length(n) => {
                let len = data.len() as u64;
                if len > n - self.written {
                    return Err(refused(format!(
                        "{len} body bytes would go beyond the Content-Length {n} ({} written)",
                        self.written
                    )));
                }
                self.written += len;
                Ok(data.to_vec())
            }
            Mode::Close => {
                self.written = self.written.saturating_add(data.len() as u64);
                Ok(data.to_vec())
            }
            // No chunk for no bytes: a chunk of size 0 is the last chunk.
            Mode::Chunked if data.is_empty() => Ok(Vec::new()),
            Mode::Chunked => {
                self.written = self.written.saturating_add(data.len() as u64);
                let mut out = format!("{:x}\r\n", data.len()).into_bytes();
                out.reserve(data.len() + 2);
                out.extend_from_slice(data);
                out.extend_from_slice(b"\r\n");
                Ok(out)
            }
        }
    }

    pub fn finish(&mut self, trailers: &[Field]) -> Result<Vec<u8>, HttpError> {
        self.check_open()?;
        let mut out = Vec::new();
        match self.mode {
            Mode::Chunked => {
                out.extend_from_slice(b"0\r\n");
                for (name, value) in trailers {
                    check_field(name, value)?;
                    if is_one_of(name, NOT_TRAILERS) {
                        return Err(refused(format!("{name} may not be a trailer")));
                    }
                    put_field(&mut out, name, value);
                }
                out.extend_from_slice(b"\r\n");
            }
            Mode::Dropped => {}
            _ if !trailers.is_empty() => {
                return Err(refused("trailers need a chunked body"));
            }
            Mode::Length(n) if self.written < n => {
                return Err(refused(format!(
                    "the body ended after {} of its Content-Length {n} bytes",
                    self.written
                )));
            }
            Mode::Length(_) | Mode::Close | Mode::Refused => {}
        }
        self.state = State::Finished;
        Ok(out)
    }

    pub fn abort(&mut self) {
        if self.state == State::Open {
            self.state = State::Aborted;
        }
    }

    pub fn is_complete(&self) -> bool {
        self.state == State::Finished
    }

    pub fn is_aborted(&self) -> bool {
        self.state == State::Aborted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked() {
        let mut e = BodyEncoder::new(Mode::Chunked);
        assert_eq!(e.body(b"hello").ok(), Some(b"5\r\nhello\r\n".to_vec()));
        assert_eq!(e.body(b"").ok(), Some(vec![]));
        assert_eq!(
            e.body(&[b'x'; 26]).ok().map(|v| v[..4].to_vec()),
            Some(b"1a\r\n".to_vec())
        );
        let bad = [("Content-Length".to_owned(), b"1".to_vec())];
        assert!(e.finish(&bad).is_err());
        let t = [("X-Sum".to_owned(), b"1".to_vec())];
        assert_eq!(e.finish(&t).ok(), Some(b"0\r\nX-Sum: 1\r\n\r\n".to_vec()));
        assert!(e.is_complete());
        assert!(e.body(b"x").is_err());
        assert!(e.finish(&[]).is_err());
    }

    #[test]
    fn length() {
        let mut e = BodyEncoder::new(Mode::Length(3));
        assert!(e.body(b"abcd").is_err());
        assert_eq!(e.body(b"ab").ok(), Some(b"ab".to_vec()));
        assert!(e.finish(&[]).is_err());
        assert!(e.body(b"cd").is_err());
        assert_eq!(e.body(b"c").ok(), Some(b"c".to_vec()));
        assert!(e.finish(&[("A".to_owned(), vec![])]).is_err());
        assert_eq!(e.finish(&[]).ok(), Some(vec![]));
    }

    #[test]
    fn aborted() {
        let mut e = BodyEncoder::new(Mode::Chunked);
        assert!(e.body(b"a").is_ok());
        e.abort();
        assert!(e.is_aborted() && !e.is_complete());
        assert!(e.body(b"a").is_err());
        assert!(e.finish(&[]).is_err());
    }

    #[test]
    fn no_body() {
        let mut e = BodyEncoder::new(Mode::Dropped);
        assert_eq!(e.body(b"abc").ok(), Some(vec![]));
        assert_eq!(e.finish(&[("A".to_owned(), vec![])]).ok(), Some(vec![]));
        let mut e = BodyEncoder::new(Mode::Refused);
        assert!(e.body(b"abc").is_err());
        assert_eq!(e.finish(&[]).ok(), Some(vec![]));
    }
}
