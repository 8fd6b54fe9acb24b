//! The [`Tape`]: a run's wire log, written while it runs (recording) or fed
//! back to its doers (replaying), at the doer boundary.
//!
//! Every network call a doer makes goes through the tape: recording,
//! the call runs on the real network and its result is written as a `call`
//! record (after a `doer` record when the caller changes); replaying, the
//! call does not run at all, and the doer gets the recorded result. Each
//! record also carries a checksum (CRC-32) of the call's arguments, so a doer that
//! asks for something else (a changed plugin, a host bug) is caught at the
//! first call that differs, as a [`Divergence`] naming the tick, the doer
//! and the record. The services wrapper ([`Tape::tick`], [`Tape::mark`],
//! [`Tape::end`]) frames each tick and compares the checksums of the
//! lifecycle trace and of the bytes doers wrote (CRC-32 per tick, SHA-256
//! over the run: [`Digests`]). The op catalogue is the format's
//! ([`hio_io::wire::Op`]); the verdicts are in `verdict.rs`.

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use hio_io::wire::{self, Header, Log, Op, Record, Wire, Writer};
use hio_scheduler::Tick;
use sha2::{Digest, Sha256};

pub use self::lane::Block;
pub use self::verdict::{Digests, Divergence};
use self::verdict::{extra, recorded, same};

mod lane;
mod verdict;

#[cfg(test)]
mod tests;

/// The CRC-32 of a call's arguments, as its `call` record keeps it.
pub(crate) fn checksum<T: Wire>(args: &T) -> u32 {
    crc32fast::hash(&hio_io::wire::encode(args))
}

enum Mode {
    Record {
        /// `None`: digests only, no log.
        out: Option<Writer<BufWriter<File>>>,
        /// The first write error; the run goes on, and it is reported.
        error: Option<String>,
    },
    Replay {
        records: Vec<(usize, Record)>,
        /// The log was cut short: past its end, calls run on the (empty)
        /// network and nothing diverges.
        partial: bool,
        /// Index into `records` (record number `pos + 1`).
        pos: usize,
        divergence: Option<Divergence>,
    },
}

struct Inner {
    mode: Mode,
    tick: u64,
    tyme: f64,
    /// The doer whose calls the last `doer` record announced this tick.
    doer: String,
    trace_tick: crc32fast::Hasher,
    written_tick: crc32fast::Hasher,
    trace_all: Sha256,
    written_all: Sha256,
    bytes: u64,
    calls: u64,
    /// Host calls that reach outside (network, decks) the running hook has
    /// made: where an interrupt struck.
    hook_calls: u64,
    /// Doer instances (path, attempt) the trace shows failing.
    failed: std::collections::BTreeSet<(String, u32)>,
    /// The first failure, as `path at tyme T: reason`.
    first_failure: Option<String>,
    /// Set on a crew's lane (see `lane.rs`).
    lane: Option<lane::LaneState>,
    /// The run's tape: the crews' lanes, by crew.
    lanes: std::collections::BTreeMap<u32, Tape>,
    /// The run's tape, replaying: each crew's records, not yet taken by
    /// its lane.
    lane_records: std::collections::BTreeMap<u32, Vec<(usize, Record)>>,
}

/// A run's wire log, shared by its doers' stores and its services (cheap
/// to clone).
#[derive(Clone)]
pub struct Tape(Arc<Mutex<Inner>>);

impl fmt::Debug for Tape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        let mode = match inner.mode {
            Mode::Record { .. } => "record",
            Mode::Replay { .. } => "replay",
        };
        f.debug_struct("Tape")
            .field("mode", &mode)
            .field("tick", &inner.tick)
            .finish()
    }
}

impl Tape {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn with_mode(mode: Mode) -> Tape {
        Tape(Arc::new(Mutex::new(Inner {
            mode,
            tick: 0,
            tyme: 0.0,
            doer: String::new(),
            trace_tick: crc32fast::Hasher::new(),
            written_tick: crc32fast::Hasher::new(),
            trace_all: Sha256::new(),
            written_all: Sha256::new(),
            bytes: 0,
            calls: 0,
            hook_calls: 0,
            failed: Default::default(),
            first_failure: None,
            lane: None,
            lanes: Default::default(),
            lane_records: Default::default(),
        })))
    }

    /// Starts recording to `file`; [`Tape::begin`] writes the header
    /// before the first tick.
    pub fn record(file: File) -> io::Result<Tape> {
        let out = Writer::new(BufWriter::new(file))?;
        Ok(Tape::with_mode(Mode::Record {
            out: Some(out),
            error: None,
        }))
    }

    /// Keeps the run's digests (trace, bytes written) and writes no log.
    pub fn digests_only() -> Tape {
        Tape::with_mode(Mode::Record {
            out: None,
            error: None,
        })
    }

    /// Writes the header, recording (once the run is built and its
    /// plugins known).
    pub fn begin(&self, header: Header) -> io::Result<()> {
        if let Mode::Record { out: Some(out), .. } = &mut self.lock().mode {
            out.write(&Record::Header(header))?;
            out.flush()?;
        }
        Ok(())
    }

    /// Replays `log`'s records (each crew's apart, for its lane).
    pub fn replay(log: Log) -> Tape {
        let (records, lanes) = lane::demux(log.records);
        let tape = Tape::with_mode(Mode::Replay {
            partial: !log.complete,
            records,
            pos: 0,
            divergence: None,
        });
        tape.lock().lane_records = lanes;
        tape
    }

    /// Whether it feeds recorded results back (no network call runs).
    pub fn replaying(&self) -> bool {
        matches!(self.lock().mode, Mode::Replay { .. })
    }

    /// The tick starts the Doist should replay, from a log's `tick`
    /// records, and the end it saw.
    pub fn ticks(log: &Log) -> Vec<Tick> {
        log.records
            .iter()
            .filter_map(|(_, r)| match r {
                Record::Tick { tyme, early } | Record::End { tyme, early, .. } => Some(Tick {
                    tyme: *tyme,
                    early: *early,
                }),
                _ => None,
            })
            .collect()
    }

    /// Whether a replay has used every record (a log cut short ends
    /// before its run did: the replay stops there).
    pub fn exhausted(&self) -> bool {
        match &self.lock().mode {
            Mode::Replay { records, pos, .. } => *pos >= records.len(),
            Mode::Record { .. } => false,
        }
    }

    /// The first divergence, replaying (the run's own, else the earliest
    /// of its crews').
    pub fn divergence(&self) -> Option<Divergence> {
        let inner = self.lock();
        if let Mode::Replay {
            divergence: Some(d),
            ..
        } = &inner.mode
        {
            return Some(d.clone());
        }
        inner
            .lanes
            .values()
            .filter_map(Tape::divergence)
            .min_by_key(|d| d.tick)
    }

    /// The first error writing the log, recording.
    pub fn write_error(&self) -> Option<String> {
        match &self.lock().mode {
            Mode::Record { error, .. } => error.clone(),
            Mode::Replay { .. } => None,
        }
    }

    /// The run's digests so far.
    pub fn digests(&self) -> Digests {
        let inner = self.lock();
        Digests {
            trace: inner.trace_all.clone().finalize().into(),
            written: inner.written_all.clone().finalize().into(),
            bytes: inner.bytes,
            calls: inner.calls,
            ticks: inner.tick,
        }
    }

    /// A lifecycle trace line the run wrote.
    pub fn trace_line(&self, line: &str) {
        let mut inner = self.lock();
        inner.trace_tick.update(line.as_bytes());
        inner.trace_tick.update(b"\n");
        inner.trace_all.update(line.as_bytes());
        inner.trace_all.update(b"\n");
    }

    /// A doer instance failed (its trace record carries a reason).
    pub fn failure(&self, path: &str, attempt: u32, tyme: f64, reason: &str) {
        let mut inner = self.lock();
        if inner.failed.insert((path.to_owned(), attempt)) && inner.first_failure.is_none() {
            let at = hio_scheduler::fmt_tyme(tyme);
            inner.first_failure = Some(format!("{path} at tyme {at}: {reason}"));
        }
    }

    /// How many doer instances failed, and the first failure.
    pub fn failures(&self) -> (usize, Option<String>) {
        let inner = self.lock();
        (inner.failed.len(), inner.first_failure.clone())
    }

    /// A tick begins.
    pub fn tick(&self, tick: Tick) {
        let mut inner = self.lock();
        inner.tick += 1;
        inner.tyme = tick.tyme;
        for lane in inner.lanes.values() {
            lane.follow(inner.tick, tick.tyme);
        }
        inner.doer.clear();
        let record = Record::Tick {
            tyme: tick.tyme,
            early: tick.early,
        };
        inner.put(record, |r| match r {
            Record::Tick { tyme, .. } if tyme.to_bits() == tick.tyme.to_bits() => Ok(()),
            Record::Tick { tyme, .. } => Err(format!(
                "the recorded tick was at tyme {}",
                hio_scheduler::fmt_tyme(*tyme)
            )),
            other => Err(extra(other)),
        });
    }

    /// The tick ends: its checksums are written, or compared.
    pub fn mark(&self) {
        let mut inner = self.lock();
        let trace = std::mem::take(&mut inner.trace_tick).finalize();
        let written = std::mem::take(&mut inner.written_tick).finalize();
        inner.put(Record::Mark { trace, written }, |r| match r {
            Record::Mark {
                trace: t,
                written: w,
            } => same(
                (*t == trace, "the lifecycle trace of this tick differs"),
                (*w == written, "the bytes doers wrote in this tick differ"),
            ),
            other => Err(extra(other)),
        });
        inner.flush();
    }

    /// The run ends at `last`.
    pub fn end(&self, last: Tick) {
        let d = self.digests();
        let mut inner = self.lock();
        inner.doer.clear();
        let record = Record::End {
            tyme: last.tyme,
            early: last.early,
            trace: d.trace,
            written: d.written,
            bytes: d.bytes,
        };
        inner.put(record, |r| match r {
            Record::End { trace, written, .. } => same(
                (*trace == d.trace, "the lifecycle trace differs at the end"),
                (
                    *written == d.written,
                    "the bytes doers wrote differ at the end",
                ),
            ),
            other => Err(extra(other)),
        });
        inner.flush();
    }

    /// A hook starts: its network calls are counted from here.
    pub(crate) fn hook_start(&self) {
        self.lock().hook_calls = 0;
    }

    /// Host calls the running hook has made that reach outside it (the
    /// network, decks): where an interrupt is placed.
    pub(crate) fn hook_calls(&self) -> u64 {
        self.lock().hook_calls
    }

    /// A deck call: counted toward [`Tape::hook_calls`], not recorded (the
    /// decks are the scheduler's own, and replay the same).
    pub(crate) fn count_call(&self) {
        self.lock().hook_calls += 1;
    }

    /// Replaying: whether the recording closed its tree here (stopped by a
    /// signal, or a closed output) rather than ticking on: after a tick,
    /// the next record is not another tick.
    pub fn closes_here(&self) -> bool {
        let inner = self.lock();
        match &inner.mode {
            Mode::Replay {
                records,
                pos,
                divergence: None,
                ..
            } if inner.tick > 0 => records
                .get(*pos)
                .is_some_and(|(_, r)| !matches!(r, Record::Tick { .. })),
            _ => false,
        }
    }

    /// Replaying: the calls after which the recording's watchdog struck
    /// the doer at `path` in `hook`, if it did this tick.
    pub(crate) fn pending_interrupt(&self, path: &str, hook: &str) -> Option<u64> {
        let inner = self.lock();
        let Mode::Replay { records, pos, .. } = &inner.mode else {
            return None;
        };
        for (_, r) in records.get(*pos..)? {
            match r {
                Record::Interrupt {
                    path: p,
                    hook: h,
                    calls,
                } if p == path && h == hook => return Some(*calls),
                Record::Tick { .. } | Record::Mark { .. } | Record::End { .. } => return None,
                _ => {}
            }
        }
        None
    }

    /// The watchdog struck the doer at `path` in `hook` after `calls` host
    /// calls: recorded, or checked against the recording.
    pub(crate) fn interrupted(&self, path: &str, hook: &str, calls: u64) {
        let mut inner = self.lock();
        let record = Record::Interrupt {
            path: path.to_owned(),
            hook: hook.to_owned(),
            calls,
        };
        inner.put(record, |r| match r {
            Record::Interrupt {
                path: p,
                hook: h,
                calls: c,
            } if p == path && h == hook && *c == calls => Ok(()),
            Record::Interrupt { .. } => Err(format!(
                "the watchdog struck {path} in {hook} elsewhere than recorded"
            )),
            other => Err(format!(
                "{path} was interrupted in {hook}, where {}",
                extra(other)
            )),
        });
    }

    /// Bytes a doer handed the network to write (hashed, not kept; a
    /// crew's lane keeps them until the run's tape hashes them in order).
    pub(crate) fn wrote(&self, bytes: &[u8]) {
        let mut inner = self.lock();
        if let Some(lane) = inner.lane.as_mut() {
            lane.written.extend_from_slice(bytes);
        }
        inner.written_tick.update(bytes);
        inner.written_all.update(bytes);
        inner.bytes += bytes.len() as u64;
    }

    /// One network call by the doer at `path`: `real` runs it when
    /// recording (or after a divergence); replaying, the recorded result
    /// comes back instead. `args` is the checksum of what the doer handed
    /// over.
    /// A call of the host's own (no doer's) whose result is an input of
    /// the run: recorded, or given back from the log in a replay (`args`,
    /// checked as a doer's call's are).
    pub fn host_call<A: Wire, T: Wire>(&self, op: Op, args: &A, real: impl FnOnce() -> T) -> T {
        self.call("", op, checksum(args), real)
    }

    pub(crate) fn call<T: Wire>(
        &self,
        path: &str,
        op: Op,
        args: u32,
        real: impl FnOnce() -> T,
    ) -> T {
        let mut inner = self.lock();
        inner.calls += 1;
        inner.hook_calls += 1;
        if inner.doer != path {
            inner.doer = path.to_owned();
            let who = path.to_owned();
            inner.put(Record::Doer { path: who.clone() }, |r| match r {
                Record::Doer { path } if *path == who => Ok(()),
                Record::Doer { path } => Err(format!(
                    "{} by {who}, where the recording has a call by {path}",
                    op.name()
                )),
                other => Err(format!("{} by {who}: {}", op.name(), extra(other))),
            });
        }
        match &inner.mode {
            Mode::Record { .. } => {
                drop(inner);
                let v = real();
                let mut inner = self.lock();
                let result = wire::encode(&v);
                inner.put(
                    Record::Call {
                        op: op as u64,
                        args,
                        result,
                    },
                    |_| Ok(()),
                );
                v
            }
            Mode::Replay {
                divergence,
                partial,
                records,
                pos,
            } if divergence.is_some() || (*partial && *pos >= records.len()) => {
                drop(inner);
                real()
            }
            Mode::Replay { records, pos, .. } => {
                let result = recorded(op, args, records.get(*pos).map(|(_, r)| r));
                match result {
                    Ok(v) => {
                        if let Mode::Replay { pos, .. } = &mut inner.mode {
                            *pos += 1;
                        }
                        if let Some(lane) = inner.lane.as_mut() {
                            lane.moved = true;
                        }
                        v
                    }
                    Err(what) => {
                        inner.diverge(path, what);
                        drop(inner);
                        real()
                    }
                }
            }
        }
    }
}

impl Inner {
    /// Hands what is written to the operating system, recording.
    fn flush(&mut self) {
        if let Mode::Record {
            out: Some(out),
            error,
        } = &mut self.mode
            && let Err(e) = out.flush()
        {
            error.get_or_insert(e.to_string());
        }
    }

    /// Writes `record` (recording), or checks the next record with
    /// `expect` and moves past it (replaying).
    fn put(&mut self, record: Record, expect: impl FnOnce(&Record) -> Result<(), String>) {
        if let (Some(lane), Mode::Record { .. }) = (self.lane.as_mut(), &self.mode) {
            lane.records.push(record);
            return;
        }
        if let (Some(lane), Mode::Replay { .. }) = (self.lane.as_mut(), &self.mode) {
            lane.moved = true;
        }
        match &mut self.mode {
            Mode::Record { out, error } => {
                if let Some(out) = out
                    && error.is_none()
                    && let Err(e) = out.write(&record)
                {
                    *error = Some(e.to_string());
                }
            }
            Mode::Replay {
                divergence: Some(_),
                ..
            } => {}
            Mode::Replay {
                partial: true,
                records,
                pos,
                ..
            } if *pos >= records.len() => {}
            Mode::Replay { records, pos, .. } => {
                let verdict = match records.get(*pos) {
                    Some((_, r)) => expect(r),
                    None => Err(format!(
                        "the recording has ended where this run has a {}",
                        record.name()
                    )),
                };
                match verdict {
                    Ok(()) => *pos += 1,
                    Err(what) => {
                        let doer = match &record {
                            Record::Doer { path } => path.clone(),
                            _ => String::new(),
                        };
                        self.diverge(&doer, what);
                    }
                }
            }
        }
    }

    fn diverge(&mut self, doer: &str, what: String) {
        let (tick, tyme) = (self.tick, self.tyme);
        if let Mode::Replay {
            pos, divergence, ..
        } = &mut self.mode
        {
            divergence.get_or_insert(Divergence {
                tick,
                tyme,
                doer: doer.to_owned(),
                record: *pos + 1,
                what,
            });
        }
    }
}
