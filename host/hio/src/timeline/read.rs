//! A trace file read back: each JSON line parsed into an [`OwnedLine`], a
//! line at a time ([`TraceLines`]) or all at once ([`read`]).

use std::io::{self, BufRead};

use hio_io::wire::MAGIC;
use hio_scheduler::trace::OwnedLine;

/// A line of a trace file that is not a trace record.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: not a trace record: {reason}")]
pub struct BadLine {
    /// The line's number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

/// Why a trace file could not be read to its end.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Reading failed.
    #[error("cannot read: {0}")]
    Io(#[from] io::Error),
    /// A line is not UTF-8.
    #[error("cannot read: it is not UTF-8 text (line {0})")]
    NotUtf8(usize),
    /// The file is a wire log (`hio run --record`), not a trace.
    #[error("it is a wire log, not a trace")]
    WireLog,
    /// A line is not a trace record.
    #[error(transparent)]
    Bad(#[from] BadLine),
}

/// One line's record; `number` counts from 1.
fn parse_line(text: &str, number: usize) -> Result<OwnedLine, BadLine> {
    let r: OwnedLine = serde_json::from_str(text).map_err(|e| BadLine {
        line: number,
        reason: e.to_string(),
    })?;
    if !(r.tyme.is_finite() && r.tyme >= 0.0) {
        return Err(BadLine {
            line: number,
            reason: format!("tyme {} is not a finite number >= 0", r.tyme),
        });
    }
    Ok(r)
}

/// The records of a trace file's text; blank lines are skipped.
pub fn read(text: &str) -> Result<Vec<OwnedLine>, BadLine> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| parse_line(l, i + 1))
        .collect()
}

/// The lines of a trace, read one at a time; blank lines are skipped.
/// The first error ends it.
///
/// ```
/// use hio::timeline::TraceLines;
/// let text = "{\"tyme\":0.0,\"doer\":\"d\",\"event\":\"enter\"}\n\n";
/// let lines: Vec<_> = TraceLines::new(text.as_bytes()).collect::<Result<_, _>>().unwrap();
/// assert_eq!(lines.len(), 1);
/// ```
#[derive(Debug)]
pub struct TraceLines<R> {
    input: R,
    line: Vec<u8>,
    number: usize,
    ended: bool,
}

impl<R: BufRead> TraceLines<R> {
    /// Reads from `input`.
    pub fn new(input: R) -> Self {
        TraceLines {
            input,
            line: Vec::new(),
            number: 0,
            ended: false,
        }
    }

    fn next_line(&mut self) -> Result<Option<OwnedLine>, ReadError> {
        loop {
            self.line.clear();
            if self.input.read_until(b'\n', &mut self.line)? == 0 {
                return Ok(None);
            }
            self.number += 1;
            if self.number == 1 && self.line == MAGIC {
                return Err(ReadError::WireLog);
            }
            let text =
                std::str::from_utf8(&self.line).map_err(|_| ReadError::NotUtf8(self.number))?;
            // The line endings `str::lines` takes off.
            let text = text
                .strip_suffix('\n')
                .map_or(text, |t| t.strip_suffix('\r').unwrap_or(t));
            if !text.trim().is_empty() {
                return Ok(Some(parse_line(text, self.number)?));
            }
        }
    }
}

impl<R: BufRead> Iterator for TraceLines<R> {
    type Item = Result<OwnedLine, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        let next = self.next_line().transpose();
        self.ended = !matches!(next, Some(Ok(_)));
        next
    }
}
