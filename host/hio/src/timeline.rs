//! A run's lifecycle trace (the JSON lines `hio run --trace` writes) read
//! back, drawn as a timeline in the Chrome trace event format (Perfetto,
//! chrome://tracing), and summed up per doer.
//!
//! In the timeline each doer is a thread, named by its path, in the order
//! it first appears; each attempt of a doer (a restart starts a new one) is
//! a span from its first hook to its `exit`; every hook is an instant
//! event on it, a failure's reason in its arguments. Tyme is the clock: one
//! second of tyme is one second on the timeline.
//!
//! Both are streamed: [`Records`] reads a trace a line at a time,
//! [`ChromeTrace`] writes each event as its record comes and [`Summary`]
//! adds it up, so a trace of any length goes through in memory that grows
//! with its doers, not with its records. What each keeps:
//!
//! - per doer ever seen, its track number (a path and a counter): a doer
//!   that exited can come back on the same path (a restart, a second run,
//!   a new doer of the same name) and goes on its own track again;
//! - per live doer, the span it has open;
//! - for `--stats`, one row of counts per doer.

use std::collections::HashMap;
use std::io::{self, BufRead, Write};

use hio_io::ConnState;
use hio_io::wire::{Log, MAGIC, Op, Record, decode, op_name};
use hio_scheduler::trace::{Event, OwnedRecord};
use serde::Serialize;
use serde_json::{Value, json};

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
fn parse_line(text: &str, number: usize) -> Result<OwnedRecord, BadLine> {
    let r: OwnedRecord = serde_json::from_str(text).map_err(|e| BadLine {
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
pub fn read(text: &str) -> Result<Vec<OwnedRecord>, BadLine> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| parse_line(l, i + 1))
        .collect()
}

/// The records of a trace, read a line at a time; blank lines are skipped.
/// The first error ends it.
///
/// ```
/// use hio::timeline::Records;
/// let text = "{\"tyme\":0.0,\"doer\":\"d\",\"event\":\"enter\"}\n\n";
/// let records: Vec<_> = Records::new(text.as_bytes()).collect::<Result<_, _>>().unwrap();
/// assert_eq!(records.len(), 1);
/// ```
#[derive(Debug)]
pub struct Records<R> {
    input: R,
    line: Vec<u8>,
    number: usize,
    ended: bool,
}

impl<R: BufRead> Records<R> {
    /// Reads from `input`.
    pub fn new(input: R) -> Self {
        Records {
            input,
            line: Vec::new(),
            number: 0,
            ended: false,
        }
    }

    fn next_record(&mut self) -> Result<Option<OwnedRecord>, ReadError> {
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

impl<R: BufRead> Iterator for Records<R> {
    type Item = Result<OwnedRecord, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.ended {
            return None;
        }
        let next = self.next_record().transpose();
        self.ended = !matches!(next, Some(Ok(_)));
        next
    }
}

/// Microseconds on the timeline for a tyme in seconds.
fn us(tyme: f64) -> f64 {
    tyme * 1e6
}

/// One trace event. The fields are in the order of their keys, which is
/// how the timeline has always been written (a `serde_json::Value` sorts
/// them).
#[derive(Serialize)]
struct Ev<'a, A> {
    args: A,
    #[serde(skip_serializing_if = "Option::is_none")]
    cat: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<f64>,
    name: &'a str,
    ph: &'a str,
    pid: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'a str>,
    tid: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    ts: Option<f64>,
}

impl<'a, A> Ev<'a, A> {
    /// Metadata (`"ph": "M"`) of track `tid` (0: the process).
    fn meta(tid: usize, name: &'a str, args: A) -> Self {
        Ev {
            args,
            cat: None,
            dur: None,
            name,
            ph: "M",
            pid: 1,
            s: None,
            tid,
            ts: None,
        }
    }

    /// An instant of scope `s` (`t` thread, `p` process, `g` global).
    fn instant(s: &'a str, tid: usize, cat: &'a str, name: &'a str, tyme: f64, args: A) -> Self {
        Ev {
            args,
            cat: Some(cat),
            dur: None,
            name,
            ph: "i",
            pid: 1,
            s: Some(s),
            tid,
            ts: Some(us(tyme)),
        }
    }
}

#[derive(Serialize)]
struct Name<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct SortIndex {
    sort_index: usize,
}

#[derive(Serialize)]
struct Attempt {
    attempt: u32,
}

#[derive(Serialize)]
struct Done {
    done: bool,
}

#[derive(Serialize)]
struct TickArgs {
    early: bool,
    n: usize,
}

#[derive(Serialize)]
struct HookArgs<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    attempt: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ran: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

/// Writes one event after those before it.
fn emit<W: Write, A: Serialize>(out: &mut W, event: &Ev<'_, A>) -> io::Result<()> {
    out.write_all(b",")?;
    serde_json::to_writer(&mut *out, event).map_err(io::Error::from)
}

/// One attempt of a doer, from tyme `from` to `to`.
fn span<W: Write>(
    out: &mut W,
    doer: &str,
    tid: usize,
    (from, attempt): (f64, u32),
    to: f64,
) -> io::Result<()> {
    emit(
        out,
        &Ev {
            args: Attempt { attempt },
            cat: Some("doer"),
            dur: Some(us(to - from).max(0.0)),
            name: doer,
            ph: "X",
            pid: 1,
            s: None,
            tid,
            ts: Some(us(from)),
        },
    )
}

/// The run as Chrome trace events (`{"traceEvents": [...]}`), as a value.
/// [`ChromeTrace`] writes the same without holding it.
pub fn chrome_trace(records: &[OwnedRecord]) -> Value {
    chrome_trace_with(records, None)
}

/// What a `call` record shows on the timeline, if anything: its name and
/// arguments. Calls that observed nothing new (an empty read, no
/// connection to accept, an open connection's state) are left out.
fn io_event(op: u64, result: &[u8]) -> Option<(String, Value)> {
    let is = |o: Op| op == o as u64;
    let name = op_name(op);
    if is(Op::Read) || is(Op::HttpRead) || is(Op::HttpResponseRead) {
        let bytes: Vec<u8> = decode(result).ok()?;
        return (!bytes.is_empty()).then(|| (format!("{name} {} B", bytes.len()), json!({})));
    }
    if is(Op::Write) || is(Op::HttpWrite) || is(Op::HttpSendBody) {
        let n: usize = decode(result).ok()?;
        return Some((format!("{name} {n} B"), json!({ "accepted": n })));
    }
    if is(Op::Accept) || is(Op::HttpNext) {
        let got: Option<u64> = decode(result).ok()?;
        return got.map(|id| (name, json!({ "handle": id })));
    }
    if is(Op::State) {
        let state: ConnState = decode(result).ok()?;
        return match state {
            ConnState::Open | ConnState::Connecting => None,
            ConnState::Failed(why) => Some((
                format!("{name} failed"),
                json!({ "reason": why.to_string() }),
            )),
            other => Some((format!("{name} {other:?}"), json!({}))),
        };
    }
    if is(Op::Listen) || is(Op::Connect) || is(Op::HttpListen) || is(Op::HttpSend) {
        let r: Result<u64, hio_io::NetError> = decode(result).ok()?;
        return Some(match r {
            Ok(id) => (name, json!({ "handle": id })),
            Err(e) => (
                format!("{name} refused"),
                json!({ "reason": e.to_string() }),
            ),
        });
    }
    if is(Op::Close) || is(Op::Shutdown) || is(Op::CloseListener) || is(Op::HttpClose) {
        return Some((name, json!({})));
    }
    None
}

/// [`chrome_trace`], with the I/O a wire log recorded (`hio run --record`)
/// as instant events on the doers' tracks (category `io`), and each
/// watchdog interrupt.
pub fn chrome_trace_with(records: &[OwnedRecord], wire: Option<&Log>) -> Value {
    let write = || -> io::Result<Vec<u8>> {
        let mut timeline = ChromeTrace::new(Vec::new(), wire)?;
        for r in records {
            timeline.record(r)?;
        }
        timeline.finish()
    };
    // Writing to a Vec does not fail, and what is written is JSON.
    write()
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(Value::Null)
}

/// A run's timeline in the Chrome trace event format, written to `out` as
/// its records come: `{"displayTimeUnit":"ms","traceEvents":[...]}`. The
/// wire log's ticks go first, its I/O after the records (its I/O needs the
/// doers' tracks).
///
/// It keeps a track number per doer and the open span of each live doer,
/// nothing per record.
pub struct ChromeTrace<'w, W: Write> {
    out: W,
    wire: Option<&'w Log>,
    /// Each doer's track (`tid`): 1, 2, … in the order doers first
    /// appear. Kept after a doer exits: its path may come back.
    tracks: HashMap<Box<str>, usize>,
    /// The open span of each live doer, by track: (tyme it began,
    /// attempt). Dropped at its `exit`.
    open: HashMap<usize, (f64, u32)>,
    /// The last record's tyme: where the spans still open end.
    end: f64,
}

impl<'w, W: Write> ChromeTrace<'w, W> {
    /// Starts the timeline on `out`: the process's name, and the ticks of
    /// `wire`.
    pub fn new(mut out: W, wire: Option<&'w Log>) -> io::Result<Self> {
        out.write_all(br#"{"displayTimeUnit":"ms","traceEvents":["#)?;
        serde_json::to_writer(
            &mut out,
            &Ev::meta(0, "process_name", Name { name: "hio run" }),
        )?;
        let mut n = 0;
        for (_, r) in wire.iter().flat_map(|log| &log.records) {
            if let Record::Tick { tyme, early } = r {
                n += 1;
                let args = TickArgs { early: *early, n };
                emit(&mut out, &Ev::instant("p", 0, "tick", "tick", *tyme, args))?;
            }
        }
        Ok(ChromeTrace {
            out,
            wire,
            tracks: HashMap::new(),
            open: HashMap::new(),
            end: 0.0,
        })
    }

    /// The track of `doer`, a new one the first time.
    fn track(tracks: &mut HashMap<Box<str>, usize>, doer: &str) -> usize {
        if let Some(&tid) = tracks.get(doer) {
            return tid;
        }
        let tid = tracks.len() + 1;
        tracks.insert(doer.into(), tid);
        tid
    }

    /// Writes the events of the next record.
    pub fn record(&mut self, r: &OwnedRecord) -> io::Result<()> {
        self.end = r.tyme;
        if r.event == Event::Done {
            let args = Done {
                done: r.done.unwrap_or(false),
            };
            return emit(
                &mut self.out,
                &Ev::instant("g", 0, "run", "done", r.tyme, args),
            );
        }
        let doer = r.doer.as_str();
        let tid = Self::track(&mut self.tracks, doer);
        let attempt = r.attempt.unwrap_or(0);
        match self.open.get(&tid) {
            Some(&(from, a)) if a != attempt => {
                // A restart: the last attempt's span ends here.
                span(&mut self.out, doer, tid, (from, a), r.tyme)?;
                self.open.insert(tid, (r.tyme, attempt));
            }
            Some(_) => {}
            None => {
                self.open.insert(tid, (r.tyme, attempt));
            }
        }
        let args = HookArgs {
            attempt: r.attempt,
            ran: (!r.ran).then_some(false),
            reason: r.reason.as_deref(),
        };
        let name = r.event.as_str();
        emit(
            &mut self.out,
            &Ev::instant("t", tid, "hook", name, r.tyme, args),
        )?;
        if r.event == Event::Exit
            && let Some(open) = self.open.remove(&tid)
        {
            span(&mut self.out, doer, tid, open, r.tyme)?;
        }
        Ok(())
    }

    /// Ends the timeline: the wire log's I/O, the spans of the doers still
    /// open (a cut-off trace; they end at the last record's tyme) and each
    /// track's name. Gives `out` back, not flushed.
    pub fn finish(self) -> io::Result<W> {
        let ChromeTrace {
            mut out,
            wire,
            mut tracks,
            open,
            end,
        } = self;
        if let Some(log) = wire {
            let (mut tyme, mut doer) = (0.0, "");
            for (_, r) in &log.records {
                let (path, name, args) = match r {
                    Record::Tick { tyme: t, .. } => {
                        tyme = *t;
                        continue;
                    }
                    Record::Doer { path } => {
                        doer = path;
                        continue;
                    }
                    Record::Call { op, result, .. } => match io_event(*op, result) {
                        Some((name, args)) => (doer, name, args),
                        None => continue,
                    },
                    Record::Interrupt { path, hook, calls } => (
                        path.as_str(),
                        "watchdog interrupt".to_owned(),
                        json!({ "hook": hook, "calls": calls }),
                    ),
                    _ => continue,
                };
                let tid = Self::track(&mut tracks, path);
                emit(&mut out, &Ev::instant("t", tid, "io", &name, tyme, args))?;
            }
        }
        let mut names = vec![""; tracks.len()];
        for (doer, &tid) in &tracks {
            names[tid - 1] = &**doer;
        }
        // In the order of their paths, as they always came.
        let mut still: Vec<(&str, usize)> = open.keys().map(|&tid| (names[tid - 1], tid)).collect();
        still.sort_unstable();
        for (doer, tid) in still {
            span(&mut out, doer, tid, open[&tid], end)?;
        }
        for (i, doer) in names.iter().enumerate() {
            emit(
                &mut out,
                &Ev::meta(i + 1, "thread_name", Name { name: doer }),
            )?;
            let args = SortIndex { sort_index: i + 1 };
            emit(&mut out, &Ev::meta(i + 1, "thread_sort_index", args))?;
        }
        out.write_all(b"]}")?;
        Ok(out)
    }

    /// The writer, with the timeline left unfinished (a trace that turned
    /// out bad).
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// What one doer did over a run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DoerSummary {
    /// The doer's path.
    pub doer: String,
    /// Its `recur` calls.
    pub recurs: u64,
    /// Its failures (`abort` records).
    pub failures: u64,
    /// Its restarts (the highest attempt number).
    pub restarts: u32,
    /// Tyme of its first and last record.
    pub first: f64,
    /// Tyme of its last record.
    pub last: f64,
    /// How its last attempt ended: `clean`, `cease`, `abort`, or `running`
    /// when the trace has no `exit` for it.
    pub ended: &'static str,
}

/// [`summary`] added up a record at a time.
#[derive(Debug, Default)]
pub struct Summary {
    /// A row per doer, in the order doers first appear.
    rows: Vec<Row>,
    /// Each doer's row.
    index: HashMap<Box<str>, usize>,
}

/// A [`DoerSummary`] without its path; `ended` is `Enter` while running.
#[derive(Debug, Clone, Copy)]
struct Row {
    recurs: u64,
    failures: u64,
    first: f64,
    last: f64,
    restarts: u32,
    ended: Event,
}

impl Summary {
    /// Nothing summed yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts the next record.
    pub fn record(&mut self, r: &OwnedRecord) {
        if r.event == Event::Done {
            return;
        }
        let i = match self.index.get(r.doer.as_str()) {
            Some(&i) => i,
            None => {
                self.rows.push(Row {
                    recurs: 0,
                    failures: 0,
                    first: r.tyme,
                    last: r.tyme,
                    restarts: 0,
                    ended: Event::Enter,
                });
                self.index
                    .insert(r.doer.as_str().into(), self.rows.len() - 1);
                self.rows.len() - 1
            }
        };
        let s = &mut self.rows[i];
        s.last = r.tyme;
        s.restarts = s.restarts.max(r.attempt.unwrap_or(0));
        match r.event {
            Event::Recur => s.recurs += 1,
            Event::Abort => {
                s.failures += 1;
                s.ended = Event::Abort;
            }
            Event::Enter | Event::Clean | Event::Cease => s.ended = r.event,
            Event::Exit | Event::Done => {}
        }
    }

    /// A row per doer, in the order doers first appear.
    pub fn finish(self) -> impl Iterator<Item = DoerSummary> {
        let mut paths: Vec<Box<str>> = vec![Box::default(); self.rows.len()];
        for (doer, i) in self.index {
            paths[i] = doer;
        }
        self.rows
            .into_iter()
            .zip(paths)
            .map(|(r, doer)| DoerSummary {
                doer: doer.into(),
                recurs: r.recurs,
                failures: r.failures,
                restarts: r.restarts,
                first: r.first,
                last: r.last,
                ended: match r.ended {
                    Event::Abort => "abort",
                    Event::Clean => "clean",
                    Event::Cease => "cease",
                    _ => "running",
                },
            })
    }
}

/// A summary per doer, in the order doers first appear.
pub fn summary(records: &[OwnedRecord]) -> Vec<DoerSummary> {
    let mut s = Summary::new();
    for r in records {
        s.record(r);
    }
    s.finish().collect()
}
