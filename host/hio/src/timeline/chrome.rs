//! The timeline in Chrome's trace event format: a track per doer, a span
//! per attempt, an instant per hook, and a wire log's I/O and ticks.

use std::collections::HashMap;
use std::io::{self, Write};

use hio_io::ConnState;
use hio_io::wire::{Log, Op, Record, decode, op_name};
use hio_scheduler::trace::{Event, OwnedLine};
use serde::Serialize;
use serde_json::{Value, json};

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
pub fn chrome_trace(records: &[OwnedLine]) -> Value {
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
pub fn chrome_trace_with(records: &[OwnedLine], wire: Option<&Log>) -> Value {
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
    pub fn record(&mut self, r: &OwnedLine) -> io::Result<()> {
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
            // A crew's block (the records a `crew` record counts) names its
            // own doers; the run's calls after it are the doer's before it.
            let (mut in_crew, mut outside) = (0u64, "");
            for (_, r) in &log.records {
                let last_of_block = in_crew == 1;
                in_crew = in_crew.saturating_sub(1);
                let event = match r {
                    Record::Tick { tyme: t, .. } => {
                        tyme = *t;
                        None
                    }
                    Record::Doer { path } => {
                        doer = path;
                        None
                    }
                    Record::Crew { records, .. } => {
                        if in_crew == 0 {
                            outside = doer;
                        }
                        in_crew = *records;
                        None
                    }
                    Record::Call { op, result, .. } => {
                        io_event(*op, result).map(|(name, args)| (doer, name, args))
                    }
                    Record::Interrupt { path, hook, calls } => Some((
                        path.as_str(),
                        "watchdog interrupt".to_owned(),
                        json!({ "hook": hook, "calls": calls }),
                    )),
                    _ => None,
                };
                if last_of_block {
                    doer = outside;
                }
                let Some((path, name, args)) = event else {
                    continue;
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
