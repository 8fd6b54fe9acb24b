//! `hio trace FILE`: a trace file (`hio run --trace FILE`) drawn as a
//! Perfetto timeline (with the I/O of the run's wire log, `--wire`), or
//! summed up per doer. The trace is read a line at a time and the timeline
//! written as it goes.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use hio::timeline::{ChromeTrace, ReadError, Summary, TraceLines};

use crate::commands::exit::{OK, USAGE, fail};

/// The arguments of `hio trace`.
#[derive(clap::Args)]
pub struct TraceArgs {
    /// The trace file (JSON lines).
    file: PathBuf,
    /// Write the timeline to OUT, or stdout with "-".
    #[arg(long, value_name = "OUT|-")]
    perfetto: Option<String>,
    /// Print per doer: recurs, failures, restarts, first and last tyme,
    /// and how it ended.
    #[arg(long)]
    stats: bool,
    /// Add the I/O of the run's wire log (hio run --record LOG) to the
    /// timeline: reads, writes, accepts, connects, state changes and
    /// watchdog interrupts, on the doers' tracks (category "io").
    #[arg(long, value_name = "LOG", requires = "perfetto")]
    wire: Option<PathBuf>,
}

/// `hio trace FILE [--perfetto OUT] [--stats] [--wire LOG]`. The trace is
/// read a line at a time and the timeline written as it goes: memory grows
/// with the doers, not with the trace.
pub fn trace(args: TraceArgs) -> u8 {
    let file = args.file.as_path();
    let perfetto = args.perfetto.as_deref();
    let (stats, wire) = (args.stats, args.wire.as_deref());
    let bad = |e: ReadError| match e {
        ReadError::WireLog => fail(
            USAGE,
            format!(
                "{} is a wire log: give the run's trace (hio run --trace FILE) and this log \
                 with --wire",
                file.display()
            ),
        ),
        e => fail(USAGE, format!("{}: {e}", file.display())),
    };
    let mut records = match std::fs::File::open(file) {
        Ok(f) => TraceLines::new(io::BufReader::with_capacity(1 << 16, f)),
        Err(e) => return bad(e.into()),
    };
    // The first record is read before OUT is touched: a file that is not a
    // trace at all leaves it as it was.
    let first = match records.next().transpose() {
        Ok(r) => r,
        Err(e) => return bad(e),
    };
    let log = match wire {
        None => None,
        Some(w) => match std::fs::read(w) {
            // A log cut short still shows what it holds.
            Ok(bytes) => match hio::io::wire::Log::parse(&bytes, true) {
                Ok(log) => Some(log),
                Err(e) => return fail(USAGE, format!("--wire {}: {e}", w.display())),
            },
            Err(e) => return fail(USAGE, format!("--wire {}: cannot read: {e}", w.display())),
        },
    };
    let out: Option<Box<dyn Write>> = match perfetto {
        None => None,
        // A closed stdout drops the rest of the timeline, as print does;
        // the summary still comes.
        Some("-") => Some(Box::new(Lossy(Some(io::stdout())))),
        Some(out) if same_file(Path::new(out), file) => {
            return fail(USAGE, format!("{out}: is the trace being read"));
        }
        Some(out) => match std::fs::File::create(out) {
            Ok(f) => Some(Box::new(f)),
            Err(e) => return fail(USAGE, format!("{out}: cannot write: {e}")),
        },
    };
    // A bad trace leaves no half timeline: what is still buffered is
    // dropped, and a file is removed.
    let abandon = |timeline: Option<ChromeTrace<'_, io::BufWriter<Box<dyn Write>>>>| {
        drop(timeline.map(|t| t.into_inner().into_parts()));
        if let Some(out) = perfetto.filter(|o| *o != "-")
            && std::fs::metadata(out).is_ok_and(|m| m.is_file())
        {
            let _ = std::fs::remove_file(out);
        }
    };
    let cannot_write = |e: io::Error| {
        fail(
            USAGE,
            format!("{}: cannot write: {e}", perfetto.unwrap_or("-")),
        )
    };
    let mut timeline = None;
    if let Some(out) = out {
        match ChromeTrace::new(io::BufWriter::with_capacity(1 << 16, out), log.as_ref()) {
            Ok(t) => timeline = Some(t),
            Err(e) => {
                abandon(None);
                return cannot_write(e);
            }
        }
    }
    let mut summary = (stats || perfetto.is_none()).then(Summary::new);
    for r in first.map(Ok).into_iter().chain(records) {
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                abandon(timeline);
                return bad(e);
            }
        };
        if let Some(t) = &mut timeline
            && let Err(e) = t.record(&r)
        {
            abandon(timeline);
            return cannot_write(e);
        }
        if let Some(s) = &mut summary {
            s.record(&r);
        }
    }
    if let Some(t) = timeline {
        let end = t.finish().and_then(|mut w| {
            if perfetto == Some("-") {
                w.write_all(b"\n")?;
            }
            w.flush()
        });
        if let Err(e) = end {
            abandon(None);
            return cannot_write(e);
        }
    }
    if let Some(summary) = summary {
        // The summary is the command's output, unless the timeline took
        // stdout; a row at a time.
        let to: Box<dyn Write> = if perfetto == Some("-") {
            Box::new(Lossy(Some(io::stderr())))
        } else {
            Box::new(Lossy(Some(io::stdout())))
        };
        let mut to = io::BufWriter::new(to);
        let _ = writeln!(
            to,
            "{:<32} {:>8} {:>8} {:>8} {:>12} {:>12}  ended",
            "doer", "recurs", "failures", "restarts", "first tyme", "last tyme"
        );
        for s in summary.finish() {
            let _ = writeln!(
                to,
                "{:<32} {:>8} {:>8} {:>8} {:>12} {:>12}  {}",
                hio::Escaped(&s.doer).to_string(),
                s.recurs,
                s.failures,
                s.restarts,
                s.first,
                s.last,
                s.ended
            );
        }
        let _ = to.flush();
    }
    OK
}

/// A writer whose first failed write (stdout closed under `hio trace |
/// head`) drops that write and every later one.
struct Lossy<W>(Option<W>);

impl<W: Write> Write for Lossy<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if let Some(w) = &mut self.0
            && w.write_all(buf).is_err()
        {
            self.0 = None;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if let Some(w) = &mut self.0
            && w.flush().is_err()
        {
            self.0 = None;
        }
        Ok(())
    }
}

/// Whether `a` and `b` name one file (writing the timeline over the trace
/// being read would cut it short).
fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        #[cfg(unix)]
        (Ok(a), Ok(b)) => {
            use std::os::unix::fs::MetadataExt;
            (a.dev(), a.ino()) == (b.dev(), b.ino())
        }
        _ => a
            .canonicalize()
            .is_ok_and(|a| b.canonicalize().is_ok_and(|b| a == b)),
    }
}
