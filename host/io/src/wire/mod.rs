//! The wire log: every input a doer could observe from outside the
//! scheduler, written per tick at the doer boundary, so that a run (even
//! one with real sockets) can be replayed exactly without them.
//!
//! A log is the 8 bytes `HIOWIRE\n` followed by records. Each record is
//! framed as
//!
//! ```text
//! len: u32 LE   the length of `body`
//! body          kind: u8, then the kind's fields
//! crc: u32 LE   CRC-32 (IEEE) of `body`
//! ```
//!
//! Inside a body, integers are unsigned LEB128 varints, `f64` is its
//! 8 bytes little-endian, and strings and byte strings are a varint length
//! followed by the bytes. The kinds ([`Record`]) are a `header` first, then
//! per tick a `tick`, the `doer` and `call` records of the doers' host calls
//! in the order they made them (and an `interrupt` where a watchdog struck),
//! and a `mark` that closes the tick; an `end` closes the run. A crew's
//! records come in blocks, each after a `crew` record that counts them. The writer
//! flushes at every `mark`, so a crash loses at most the tick under way.
//! See `docs/formats.md` for the fields of each kind; a `call` record
//! names its call by number, from the op catalogue ([`Op`]).

mod ops;
mod value;

use std::io::{self, Write};

pub use ops::{Op, op_name};
pub use value::{Dec, Enc, Wire, decode, encode};

/// The first 8 bytes of every wire log.
pub const MAGIC: &[u8; 8] = b"HIOWIRE\n";

/// The format version this build writes and reads.
pub const VERSION: u64 = 1;

/// A plugin the run loaded, by the path the manifest gave, and its digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginSum {
    /// The path as the run resolved it.
    pub path: String,
    /// SHA-256 of the component's bytes.
    pub sha256: [u8; 32],
}

/// What a log starts with: enough to run the same tree again.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    /// The format version ([`VERSION`]).
    pub version: u64,
    /// The run's seed.
    pub seed: u64,
    /// What tyme 0 stood for on the wall clock, in nanoseconds since the
    /// Unix epoch (0 in simulated time).
    pub wall_start: u64,
    /// The effective settings after command-line overrides, as TOML.
    pub settings: String,
    /// The manifest's path (relative plugin paths are resolved from its
    /// folder).
    pub path: String,
    /// The manifest's text (for bare `.wasm` runs, the one the CLI built).
    pub manifest: String,
    /// Each plugin loaded at the start, in manifest order.
    pub plugins: Vec<PluginSum>,
}

/// One record of a log.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// The first record.
    Header(Header),
    /// A tick begins at this tyme; `early` when I/O ended the wait before it.
    Tick {
        /// The tick's tyme.
        tyme: f64,
        /// Whether the wait before it ended early.
        early: bool,
    },
    /// The `call` records that follow are this doer's.
    Doer {
        /// The doer's path.
        path: String,
    },
    /// One host call a doer made on the network, and what it observed.
    Call {
        /// Which call ([`Op`], by number: `docs/formats.md` section 6).
        op: u64,
        /// CRC-32 of the call's arguments (what the doer handed over).
        args: u32,
        /// The result the doer got, encoded with [`Wire`].
        result: Vec<u8>,
    },
    /// A watchdog interrupt struck this doer's hook after it had made
    /// `calls` host calls.
    Interrupt {
        /// The doer's path.
        path: String,
        /// The hook (`enter`, `recur`, ...).
        hook: String,
        /// Host calls the hook had made when it struck.
        calls: u64,
    },
    /// The tick ends: digests of what happened during it.
    Mark {
        /// CRC-32 of the lifecycle trace lines written during the tick.
        trace: u32,
        /// CRC-32 of the bytes doers wrote during the tick.
        written: u32,
    },
    /// The next `records` records (`doer`, `call` and `interrupt` ones)
    /// are crew `crew`'s, from one call on it (its entering, a turn, its
    /// closing), written where the crew's records go in the tick: a crew's
    /// doers run on their own thread, and their records are kept apart so
    /// that a replay feeds each crew its own, with any number of threads.
    Crew {
        /// The crew's number (crews are numbered in manifest order from 1).
        crew: u64,
        /// How many records follow that are the crew's.
        records: u64,
    },
    /// The run ends.
    End {
        /// The tyme it ended at.
        tyme: f64,
        /// Whether the wait before that ended early.
        early: bool,
        /// SHA-256 of the whole lifecycle trace.
        trace: [u8; 32],
        /// SHA-256 of every byte doers wrote, in order.
        written: [u8; 32],
        /// How many bytes doers wrote.
        bytes: u64,
    },
}

impl Record {
    fn kind(&self) -> u8 {
        match self {
            Record::Header(_) => 1,
            Record::Tick { .. } => 2,
            Record::Doer { .. } => 3,
            Record::Call { .. } => 4,
            Record::Interrupt { .. } => 5,
            Record::Mark { .. } => 6,
            Record::End { .. } => 7,
            Record::Crew { .. } => 8,
        }
    }

    /// Its name in messages.
    pub fn name(&self) -> &'static str {
        match self {
            Record::Header(_) => "header",
            Record::Tick { .. } => "tick",
            Record::Doer { .. } => "doer",
            Record::Call { .. } => "call",
            Record::Interrupt { .. } => "interrupt",
            Record::Mark { .. } => "mark",
            Record::End { .. } => "end",
            Record::Crew { .. } => "crew",
        }
    }

    /// The record's body (kind and fields).
    pub fn body(&self) -> Vec<u8> {
        let mut e = Enc::default();
        e.u8(self.kind());
        match self {
            Record::Header(h) => {
                e.uint(h.version);
                e.uint(h.seed);
                e.uint(h.wall_start);
                e.str(&h.settings);
                e.str(&h.path);
                e.str(&h.manifest);
                e.uint(h.plugins.len() as u64);
                for p in &h.plugins {
                    e.str(&p.path);
                    e.raw(&p.sha256);
                }
            }
            Record::Tick { tyme, early } => {
                e.f64(*tyme);
                e.u8(u8::from(*early));
            }
            Record::Doer { path } => e.str(path),
            Record::Call { op, args, result } => {
                e.uint(*op);
                e.raw(&args.to_le_bytes());
                e.raw(result);
            }
            Record::Interrupt { path, hook, calls } => {
                e.str(path);
                e.str(hook);
                e.uint(*calls);
            }
            Record::Mark { trace, written } => {
                e.raw(&trace.to_le_bytes());
                e.raw(&written.to_le_bytes());
            }
            Record::Crew { crew, records } => {
                e.uint(*crew);
                e.uint(*records);
            }
            Record::End {
                tyme,
                early,
                trace,
                written,
                bytes,
            } => {
                e.f64(*tyme);
                e.u8(u8::from(*early));
                e.raw(trace);
                e.raw(written);
                e.uint(*bytes);
            }
        }
        e.into_bytes()
    }

    /// Parses a body; `None` names what is wrong with it.
    pub fn parse(body: &[u8]) -> Result<Record, String> {
        let mut d = Dec::new(body);
        let kind = d.u8()?;
        let r = match kind {
            1 => {
                let version = d.uint()?;
                if version != VERSION {
                    return Err(format!(
                        "format version {version}; this hio reads version {VERSION}"
                    ));
                }
                let seed = d.uint()?;
                let wall_start = d.uint()?;
                let settings = d.string()?;
                let path = d.string()?;
                let manifest = d.string()?;
                let n = d.uint()?;
                let mut plugins = Vec::new();
                for _ in 0..n {
                    let path = d.string()?;
                    let sha256 = d.array::<32>()?;
                    plugins.push(PluginSum { path, sha256 });
                }
                Record::Header(Header {
                    version,
                    seed,
                    wall_start,
                    settings,
                    path,
                    manifest,
                    plugins,
                })
            }
            2 => Record::Tick {
                tyme: d.f64()?,
                early: d.bool()?,
            },
            3 => Record::Doer { path: d.string()? },
            4 => {
                let op = d.uint()?;
                let args = u32::from_le_bytes(d.array::<4>()?);
                let result = d.rest().to_vec();
                Record::Call { op, args, result }
            }
            5 => Record::Interrupt {
                path: d.string()?,
                hook: d.string()?,
                calls: d.uint()?,
            },
            6 => Record::Mark {
                trace: u32::from_le_bytes(d.array::<4>()?),
                written: u32::from_le_bytes(d.array::<4>()?),
            },
            7 => Record::End {
                tyme: d.f64()?,
                early: d.bool()?,
                trace: d.array::<32>()?,
                written: d.array::<32>()?,
                bytes: d.uint()?,
            },
            8 => Record::Crew {
                crew: d.uint()?,
                records: d.uint()?,
            },
            k => return Err(format!("unknown record kind {k}")),
        };
        d.finish()?;
        Ok(r)
    }
}

/// Writes records to a log, framed and checksummed.
pub struct Writer<W: Write> {
    out: W,
    /// Records written so far.
    pub count: u64,
}

impl<W: Write> Writer<W> {
    /// Starts a log on `out` with the magic.
    pub fn new(mut out: W) -> io::Result<Writer<W>> {
        out.write_all(MAGIC)?;
        Ok(Writer { out, count: 0 })
    }

    /// Appends one record (buffered by `out`).
    pub fn write(&mut self, record: &Record) -> io::Result<()> {
        let body = record.body();
        let len = u32::try_from(body.len())
            .map_err(|_| io::Error::other("wire log record over 4 GiB"))?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&body)?;
        self.out.write_all(&crc32fast::hash(&body).to_le_bytes())?;
        self.count += 1;
        Ok(())
    }

    /// Hands what is buffered to the operating system.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

/// What is wrong with a log, with where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LogError {
    /// It does not start with the magic.
    #[error("not a hio wire log (it does not start with HIOWIRE)")]
    NotALog,
    /// It ends inside a record, or with no `end` record.
    #[error("truncated: {0}")]
    Truncated(String),
    /// A record is damaged or makes no sense where it is.
    #[error("record {index} at byte {offset}: {why}")]
    Bad {
        /// The record's number, from 0 (the header).
        index: usize,
        /// Where its frame starts.
        offset: usize,
        /// What is wrong.
        why: String,
    },
}

/// A log read whole and checked: every checksum, the order of records.
#[derive(Debug, Clone, PartialEq)]
pub struct Log {
    /// The header.
    pub header: Header,
    /// Every record after the header, with the byte offset of its frame.
    pub records: Vec<(usize, Record)>,
    /// Whether it ends with an `end` record (a run that was cut short does
    /// not).
    pub complete: bool,
}

impl Log {
    /// Reads a log from its bytes. A log cut short inside a record, or with
    /// no `end` record, is [`LogError::Truncated`] unless `partial`, where
    /// it keeps every tick up to its last complete `mark`.
    pub fn parse(bytes: &[u8], partial: bool) -> Result<Log, LogError> {
        let rest = bytes.strip_prefix(MAGIC).ok_or(LogError::NotALog)?;
        let mut offset = MAGIC.len();
        let mut rest = rest;
        let mut records = Vec::new();
        let mut cut = None;
        while !rest.is_empty() {
            let index = records.len();
            let bad = |why: String| LogError::Bad { index, offset, why };
            if rest.len() < 4 {
                cut = Some(format!("record {index} at byte {offset}: a partial length"));
                break;
            }
            let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
            // The length only slices what was read: a damaged one is cut
            // short or fails its checksum, and allocates nothing.
            if len == 0 {
                return Err(bad("a record of length 0".into()));
            }
            let Some(frame) = rest.get(..4 + len + 4) else {
                cut = Some(format!(
                    "record {index} at byte {offset}: needs {} bytes, {} left",
                    8 + len,
                    rest.len()
                ));
                break;
            };
            let body = &frame[4..4 + len];
            let crc = u32::from_le_bytes([
                frame[4 + len],
                frame[5 + len],
                frame[6 + len],
                frame[7 + len],
            ]);
            if crc32fast::hash(body) != crc {
                return Err(bad("checksum mismatch (the record is damaged)".into()));
            }
            let record = Record::parse(body).map_err(bad)?;
            match (&record, index) {
                (Record::Header(_), 0) => {}
                (Record::Header(_), _) => return Err(bad("a second header".into())),
                (r, 0) => return Err(bad(format!("a {} record before the header", r.name()))),
                _ => {}
            }
            if matches!(records.last(), Some((_, Record::End { .. }))) {
                return Err(bad(format!("a {} record after the end", record.name())));
            }
            records.push((offset, record));
            offset += frame.len();
            rest = &rest[frame.len()..];
        }
        let mut records = records.into_iter();
        let header = match records.next() {
            Some((_, Record::Header(h))) => h,
            _ => {
                let why = cut.unwrap_or_default();
                return Err(LogError::Truncated(format!(
                    "the header is cut short ({why})"
                )));
            }
        };
        let mut records: Vec<(usize, Record)> = records.collect();
        let complete = matches!(records.last(), Some((_, Record::End { .. })));
        if !complete {
            let why = cut.unwrap_or_else(|| "no end record (the run was cut short)".into());
            if !partial {
                return Err(LogError::Truncated(format!(
                    "{why}; `hio replay --partial` replays its complete ticks"
                )));
            }
            let last_mark = records
                .iter()
                .rposition(|(_, r)| matches!(r, Record::Mark { .. }))
                .map_or(0, |i| i + 1);
            records.truncate(last_mark);
        }
        Ok(Log {
            header,
            records,
            complete,
        })
    }
}

#[cfg(test)]
mod tests;
