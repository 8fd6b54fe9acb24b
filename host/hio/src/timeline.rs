//! A run's lifecycle trace (the JSON lines `hio run --trace` writes) read
//! back, drawn as a timeline in the Chrome trace event format (Perfetto,
//! chrome://tracing), and summed up per doer.
//!
//! In the timeline each doer is a thread, named by its path, in the order
//! it first appears; each attempt of a doer (a restart starts a new one) is
//! a span from its first hook to its `exit`; every hook is an instant
//! event on it, a failure's reason in its arguments. Tyme is the clock: one
//! second of tyme is one second on the timeline.

use std::collections::BTreeMap;

use hio_io::ConnState;
use hio_io::wire::{Log, Record, decode};
use hio_scheduler::trace::{Event, OwnedRecord};
use hio_wasm::tape::{Op, op_name};
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

/// The records of a trace file's text; blank lines are skipped.
pub fn read(text: &str) -> Result<Vec<OwnedRecord>, BadLine> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let r: OwnedRecord = serde_json::from_str(l).map_err(|e| BadLine {
                line: i + 1,
                reason: e.to_string(),
            })?;
            if !(r.tyme.is_finite() && r.tyme >= 0.0) {
                return Err(BadLine {
                    line: i + 1,
                    reason: format!("tyme {} is not a finite number >= 0", r.tyme),
                });
            }
            Ok(r)
        })
        .collect()
}

/// Microseconds on the timeline for a tyme in seconds.
fn us(tyme: f64) -> f64 {
    tyme * 1e6
}

/// One attempt of a doer, from tyme `from` to `to`.
fn span(doer: &str, tid: usize, from: f64, to: f64, attempt: u32) -> Value {
    json!({
        "ph": "X", "pid": 1, "tid": tid, "name": doer, "cat": "doer",
        "ts": us(from), "dur": us(to - from).max(0.0),
        "args": { "attempt": attempt },
    })
}

/// The run as Chrome trace events (`{"traceEvents": [...]}`).
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
            ConnState::Failed(why) => Some((format!("{name} failed"), json!({ "reason": why }))),
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
    let mut tids: BTreeMap<&str, usize> = BTreeMap::new();
    let mut order: Vec<&str> = Vec::new();
    let mut io = Vec::new();
    let mut ticks = Vec::new();
    if let Some(log) = wire {
        let (mut tyme, mut doer) = (0.0, "");
        for (_, r) in &log.records {
            match r {
                Record::Tick { tyme: t, early } => {
                    tyme = *t;
                    ticks.push(json!({
                        "ph": "i", "s": "p", "pid": 1, "tid": 0, "name": "tick", "cat": "tick",
                        "ts": us(tyme), "args": { "n": ticks.len() + 1, "early": early },
                    }));
                }
                Record::Doer { path } => doer = path,
                Record::Call { op, result, .. } => {
                    if let Some((name, args)) = io_event(*op, result) {
                        io.push((doer, tyme, name, args));
                    }
                }
                Record::Interrupt { path, hook, calls } => io.push((
                    path,
                    tyme,
                    "watchdog interrupt".into(),
                    json!({ "hook": hook, "calls": calls }),
                )),
                _ => {}
            }
        }
    }
    // The open span of each doer: (tyme it began, attempt).
    let mut open: BTreeMap<&str, (f64, u32)> = BTreeMap::new();
    let mut events = vec![json!({
        "ph": "M", "pid": 1, "tid": 0, "name": "process_name", "args": { "name": "hio run" }
    })];
    events.append(&mut ticks);
    for r in records {
        if r.event == Event::Done {
            events.push(json!({
                "ph": "i", "s": "g", "pid": 1, "tid": 0, "name": "done", "cat": "run",
                "ts": us(r.tyme), "args": { "done": r.done.unwrap_or(false) },
            }));
            continue;
        }
        let doer = r.doer.as_str();
        let next = tids.len() + 1;
        let tid = *tids.entry(doer).or_insert_with(|| {
            order.push(doer);
            next
        });
        let attempt = r.attempt.unwrap_or(0);
        match open.get(doer) {
            Some(&(from, a)) if a != attempt => {
                // A restart: the last attempt's span ends here.
                events.push(span(doer, tid, from, r.tyme, a));
                open.insert(doer, (r.tyme, attempt));
            }
            Some(_) => {}
            None => {
                open.insert(doer, (r.tyme, attempt));
            }
        }
        let mut args = serde_json::Map::new();
        if let Some(reason) = &r.reason {
            args.insert("reason".into(), json!(reason));
        }
        if !r.ran {
            args.insert("ran".into(), json!(false));
        }
        if let Some(a) = r.attempt {
            args.insert("attempt".into(), json!(a));
        }
        events.push(json!({
            "ph": "i", "s": "t", "pid": 1, "tid": tid, "name": r.event.as_str(), "cat": "hook",
            "ts": us(r.tyme), "args": args,
        }));
        if r.event == Event::Exit
            && let Some((from, a)) = open.remove(doer)
        {
            events.push(span(doer, tid, from, r.tyme, a));
        }
    }
    for (doer, tyme, name, args) in io {
        let next = tids.len() + 1;
        let tid = *tids.entry(doer).or_insert_with(|| {
            order.push(doer);
            next
        });
        events.push(json!({
            "ph": "i", "s": "t", "pid": 1, "tid": tid, "name": name, "cat": "io",
            "ts": us(tyme), "args": args,
        }));
    }
    // Doers still open when the trace ends (a cut-off trace).
    let end = records.last().map_or(0.0, |r| r.tyme);
    for (doer, (from, a)) in open {
        events.push(span(doer, tids[doer], from, end, a));
    }
    for (i, doer) in order.iter().enumerate() {
        events.push(json!({
            "ph": "M", "pid": 1, "tid": i + 1, "name": "thread_name", "args": { "name": doer }
        }));
        events.push(json!({
            "ph": "M", "pid": 1, "tid": i + 1, "name": "thread_sort_index", "args": { "sort_index": i + 1 }
        }));
    }
    json!({ "traceEvents": events, "displayTimeUnit": "ms" })
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

/// A summary per doer, in the order doers first appear.
pub fn summary(records: &[OwnedRecord]) -> Vec<DoerSummary> {
    let mut out: Vec<DoerSummary> = Vec::new();
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    for r in records.iter().filter(|r| r.event != Event::Done) {
        let i = *index.entry(r.doer.as_str()).or_insert_with(|| {
            out.push(DoerSummary {
                doer: r.doer.clone(),
                first: r.tyme,
                ended: "running",
                ..DoerSummary::default()
            });
            out.len() - 1
        });
        let s = &mut out[i];
        s.last = r.tyme;
        s.restarts = s.restarts.max(r.attempt.unwrap_or(0));
        match r.event {
            Event::Enter => s.ended = "running",
            Event::Recur => s.recurs += 1,
            Event::Abort => {
                s.failures += 1;
                s.ended = "abort";
            }
            Event::Clean => s.ended = "clean",
            Event::Cease => s.ended = "cease",
            Event::Exit | Event::Done => {}
        }
    }
    out
}
