//! The lifecycle trace: one line per hook call, written by the host.
//!
//! The JSON-lines form is a public contract (docs/formats.md): keys in the
//! order `tyme`, `doer`, `event`, then only where they apply `reason`, `ran`,
//! `attempt`, `done`; `tyme` printed as serde_json prints an f64.
//!
//! ```
//! use hio_scheduler::trace::{Event, Line};
//! let line = Line { tyme: 0.0625, doer: "A/e1", event: Event::Recur, reason: None, ran: true, attempt: None, done: None };
//! assert_eq!(line.to_json(), r#"{"tyme":0.0625,"doer":"A/e1","event":"recur"}"#);
//! ```

use std::cell::RefCell;
use std::io::{self, Write};
use std::rc::Rc;

use serde::{Deserialize, Serialize};

/// What a line reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Event {
    /// The doer was entered.
    Enter,
    /// The doer's recur ran.
    Recur,
    /// The doer completed and cleans up.
    Clean,
    /// The doer is closed before completing.
    Cease,
    /// The doer failed.
    Abort,
    /// The doer's last hook.
    Exit,
    /// The run ended (last line only).
    Done,
}

impl Event {
    /// The name as written in the trace.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Enter => "enter",
            Event::Recur => "recur",
            Event::Clean => "clean",
            Event::Cease => "cease",
            Event::Abort => "abort",
            Event::Exit => "exit",
            Event::Done => "done",
        }
    }
}

fn is_true(b: &bool) -> bool {
    *b
}

/// One trace line, borrowed from the scheduler while it is written.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Line<'a> {
    /// Tyme of the hook call.
    pub tyme: f64,
    /// The doer's path; empty on the final `done` record.
    pub doer: &'a str,
    /// The hook (or `done`).
    pub event: Event,
    /// Why the doer aborted, or why its exit follows a failed hook.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    /// False when the host wrote the line without running guest code.
    #[serde(skip_serializing_if = "is_true")]
    pub ran: bool,
    /// Which restart of the doer this is (absent on the first instance).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// The Doist's done flag, on the final line only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub done: Option<bool>,
}

impl Line<'_> {
    /// The line as JSON (without the newline).
    pub fn to_json(&self) -> String {
        // Serializing a struct of plain fields cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// An owned copy.
    pub fn to_owned(&self) -> OwnedLine {
        OwnedLine {
            tyme: self.tyme,
            doer: self.doer.to_owned(),
            event: self.event,
            reason: self.reason.map(str::to_owned),
            ran: self.ran,
            attempt: self.attempt,
            done: self.done,
        }
    }
}

/// A trace line that owns its strings (kept by [`TraceBuffer`], read back
/// from a JSON-lines file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OwnedLine {
    /// Tyme of the hook call.
    pub tyme: f64,
    /// The doer's path.
    pub doer: String,
    /// The hook.
    pub event: Event,
    /// Failure reason, where it applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// False when no guest code ran.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub ran: bool,
    /// Restart number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// Done flag of the final line.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done: Option<bool>,
}

fn yes() -> bool {
    true
}

impl OwnedLine {
    /// Borrows this line.
    pub fn as_line(&self) -> Line<'_> {
        Line {
            tyme: self.tyme,
            doer: &self.doer,
            event: self.event,
            reason: self.reason.as_deref(),
            ran: self.ran,
            attempt: self.attempt,
            done: self.done,
        }
    }

    /// The line as JSON (without the newline).
    pub fn to_json(&self) -> String {
        self.as_line().to_json()
    }
}

/// Parses a JSON-lines trace.
pub fn parse(text: &str) -> Result<Vec<OwnedLine>, serde_json::Error> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect()
}

/// Writes a trace as JSON lines, one record a line.
pub fn to_json_lines(records: &[OwnedLine]) -> String {
    let mut out = String::new();
    for r in records {
        out.push_str(&r.to_json());
        out.push('\n');
    }
    out
}

/// Where the scheduler sends trace records.
pub trait TraceSink {
    /// Takes one record.
    fn record(&mut self, record: &Line<'_>);
    /// Pushes buffered records to their destination.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A sink that keeps records in memory; clones share the same buffer, so a
/// test keeps one clone and gives the other to the Doist.
///
/// ```
/// use hio_scheduler::{Doist, DoDoer, Recorder, TraceBuffer};
/// let trace = TraceBuffer::new();
/// let mut doist = Doist::new(0.25).limit(1.0).trace(trace.clone());
/// doist.add(Recorder::spec("d0", 0.0, 3));
/// doist.run().unwrap();
/// assert_eq!(trace.records()[0].to_json(), r#"{"tyme":0.0,"doer":"d0","event":"enter"}"#);
/// ```
#[derive(Debug, Clone, Default)]
pub struct TraceBuffer(Rc<RefCell<Vec<OwnedLine>>>);

impl TraceBuffer {
    /// An empty buffer.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of the records so far.
    pub fn records(&self) -> Vec<OwnedLine> {
        self.0.borrow().clone()
    }

    /// Removes and returns the records so far.
    pub fn take(&self) -> Vec<OwnedLine> {
        std::mem::take(&mut self.0.borrow_mut())
    }

    /// The records so far as JSON lines.
    pub fn to_json_lines(&self) -> String {
        to_json_lines(&self.0.borrow())
    }
}

impl TraceSink for TraceBuffer {
    fn record(&mut self, record: &Line<'_>) {
        self.0.borrow_mut().push(record.to_owned());
    }
}

/// A sink that writes JSON lines to any writer (a file, stdout).
///
/// Write errors are kept, not raised mid-run: the first one is returned by
/// [`TraceSink::flush`], and records after it are dropped.
#[derive(Debug)]
pub struct JsonLines<W: Write> {
    out: io::BufWriter<W>,
    error: Option<io::Error>,
}

impl<W: Write> JsonLines<W> {
    /// Writes records to `out`, buffered.
    pub fn new(out: W) -> Self {
        JsonLines {
            out: io::BufWriter::new(out),
            error: None,
        }
    }
}

impl<W: Write> TraceSink for JsonLines<W> {
    fn record(&mut self, record: &Line<'_>) {
        if self.error.is_some() {
            return;
        }
        let res = serde_json::to_writer(&mut self.out, record)
            .map_err(io::Error::from)
            .and_then(|()| self.out.write_all(b"\n"));
        if let Err(e) = res {
            self.error = Some(e);
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(tyme: f64) -> String {
        Line {
            tyme,
            doer: "d",
            event: Event::Recur,
            reason: None,
            ran: true,
            attempt: None,
            done: None,
        }
        .to_json()
    }

    #[test]
    fn tyme_prints_as_serde_json_prints_f64() {
        assert_eq!(line(0.0), r#"{"tyme":0.0,"doer":"d","event":"recur"}"#);
        assert!(line(0.1 + 0.2).contains(r#""tyme":0.30000000000000004,"#));
        assert!(line(1e-7).contains(r#""tyme":1e-7,"#));
        assert!(line(2.0).contains(r#""tyme":2.0,"#));
    }

    #[test]
    fn optional_keys_follow_in_contract_order() {
        let rec = Line {
            tyme: 1.5,
            doer: "A/b",
            event: Event::Exit,
            reason: Some("fail_at 2"),
            ran: false,
            attempt: Some(2),
            done: None,
        };
        let json = rec.to_json();
        assert_eq!(
            json,
            r#"{"tyme":1.5,"doer":"A/b","event":"exit","reason":"fail_at 2","ran":false,"attempt":2}"#
        );
        let back = parse(&json).unwrap();
        assert_eq!(back[0].as_line(), rec);
    }
}
