//! The commands behind `hio`: run, check, inspect, demo.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use hio::cache::Cache;
use hio::manifest::{BuildError, BuildSettings, Manifest, ManifestError, Wake, build, build_with};
use hio::plugin::{EngineLimits, LoadError, PluginHost, Tape};
use hio::wire::{Settings, TapeSink};
use hio::{DoDoer, Doist, JsonLines, Level, LogLine, Recorder, TraceSink};

use crate::output::Closed;
use crate::{LogLevel, RunArgs};

/// Exit statuses.
pub(crate) const OK: u8 = 0;
pub(crate) const ESCALATED: u8 = 1;
pub(crate) const USAGE: u8 = 2;
pub(crate) const LOAD: u8 = 3;
pub(crate) const INTERRUPTED: u8 = 130;
/// stdout or stderr was closed under the run (as a shell reports a process
/// that SIGPIPE ended).
const OUTPUT_CLOSED: u8 = 141;

pub(crate) fn fail(status: u8, message: impl std::fmt::Display) -> u8 {
    // The message may quote a guest or a manifest: escaped, like the log.
    let message = message.to_string();
    Closed::default().eprintln(format_args!("hio: {}", hio::Escaped(&message)));
    status
}

/// What a run says when the user's cache folder cannot be used.
fn warn_uncached(e: &LoadError) {
    Closed::default().eprintln(format_args!(
        "hio: warning: running without a compile cache: {e}"
    ));
}

fn build_error(e: BuildError) -> u8 {
    match e {
        BuildError::Manifest(m) => fail(USAGE, m),
        BuildError::Load(l) => fail(LOAD, l),
    }
}

/// The manifest a bare `.wasm` run stands for.
fn bare_manifest(wasms: &[PathBuf]) -> Result<Manifest, ManifestError> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut text = String::new();
    for path in wasms {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "doer".into());
        let n = seen.entry(stem.clone()).or_insert(0);
        *n += 1;
        let name = if *n == 1 { stem } else { format!("{stem}-{n}") };
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.clone());
        // TOML basic strings: escape backslashes and quotes.
        let quoted = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
        text.push_str(&format!(
            "[[doers]]\nname = {}\nplugin = {}\n",
            quoted(&name),
            quoted(&abs.to_string_lossy())
        ));
    }
    let here = std::env::current_dir().unwrap_or_default();
    Manifest::parse(&text, here.join("<command line>"))
}

pub(crate) fn level_of(l: LogLevel) -> Level {
    match l {
        LogLevel::Error => Level::Error,
        LogLevel::Warn => Level::Warn,
        LogLevel::Info => Level::Info,
        LogLevel::Debug => Level::Debug,
        LogLevel::Trace => Level::Trace,
    }
}

/// Applies the command line's overrides to the manifest.
pub(crate) fn apply_overrides(m: &mut Manifest, args: &RunArgs) -> Result<(), String> {
    if let Some(t) = args.tock {
        if !(t.is_finite() && t > 0.0) {
            return Err(format!("--tock must be finite and > 0, got {t}"));
        }
        m.tock = t;
    }
    if let Some(l) = &args.limit {
        m.end = limit_flag(l)?;
    }
    if args.real {
        m.real = true;
    }
    if args.no_real {
        m.real = false;
    }
    if let Some(w) = &args.wake {
        m.wake = match w.as_str() {
            "grid" => Wake::Grid,
            "io" => Wake::Io,
            other => return Err(format!("--wake takes grid or io, got {other:?}")),
        };
    }
    if m.wake == Wake::Io && !m.real {
        return Err("wake = \"io\" needs real mode (--real)".into());
    }
    if let Some(s) = args.seed {
        m.set_seed(s);
    }
    for flag in &args.option {
        m.apply_option(flag)
            .map_err(|e| format!("--option {flag}: {e}"))?;
    }
    Ok(())
}

/// `--limit`: a finite tyme > 0, or `none`.
pub(crate) fn limit_flag(l: &str) -> Result<Option<f64>, String> {
    match l {
        "none" => Ok(None),
        s => match s.parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Ok(Some(v)),
            _ => Err(format!(
                "--limit takes a finite tyme > 0 or \"none\", got {s:?}"
            )),
        },
    }
}

/// Warns that a network run in simulated time does not keep wall time.
fn warn_network_in_simulated_time(m: &Manifest) {
    if m.uses_network() && !m.real && m.sim.is_none() {
        Closed::default().eprintln(format_args!(
            "hio: warning: this run uses real sockets in simulated time: its tyme races \
             ahead of wall time, so timeouts and tocks will not match wall time; set \
             real = true in the manifest (or pass --real)"
        ));
    }
}

pub fn run(args: RunArgs) -> u8 {
    let all_wasm = args
        .inputs
        .iter()
        .all(|p| p.extension().is_some_and(|e| e == "wasm"));
    if all_wasm && let Some(missing) = args.inputs.iter().find(|p| !p.is_file()) {
        return fail(LOAD, LoadError::Missing(missing.clone()));
    }
    let manifest = match args.inputs.as_slice() {
        [one] if !all_wasm => Manifest::load(one),
        _ if all_wasm => bare_manifest(&args.inputs),
        _ => return fail(USAGE, "give one manifest (.toml) or only .wasm components"),
    };
    let mut manifest = match manifest {
        Ok(m) => m,
        Err(e) => return fail(USAGE, e),
    };
    if let Err(e) = apply_overrides(&mut manifest, &args) {
        return fail(USAGE, e);
    }
    warn_network_in_simulated_time(&manifest);
    let tape = match &args.record {
        None => None,
        Some(file) => match std::fs::File::create(file).and_then(Tape::record) {
            Ok(t) => Some(t),
            Err(e) => return fail(USAGE, format!("--record {}: {e}", file.display())),
        },
    };
    let session = Session {
        trace: args.trace.clone(),
        stats: args.stats,
        log_level: args.log_level,
        cache: args.cache.choose(),
        core_dumps: args.core_dumps.clone(),
        tape: tape.clone(),
        replay: None,
    };
    let status = execute(&manifest, session, |plugins, start| match &tape {
        Some(tape) => begin_log(
            tape,
            args.record.as_deref(),
            &manifest,
            &args.option,
            plugins,
            start,
        ),
        None => Ok(()),
    });
    if let (Some(tape), Some(file)) = (&tape, &args.record) {
        if let Some(e) = tape.write_error() {
            fail(USAGE, format!("--record {}: {e}", file.display()));
            return if status == OK { USAGE } else { status };
        }
        let d = tape.digests();
        if level_of(args.log_level) >= Level::Info {
            Closed::default().eprintln(format_args!(
                "hio: wire log {}: {} ticks, {} network calls, {} bytes written",
                file.display(),
                d.ticks,
                d.calls,
                d.bytes
            ));
        }
    }
    status
}

/// Writes the wire log's header once the run of `m` (with `options`) is
/// built and about to start at `start` with `plugins` loaded; the exit
/// status if it cannot (naming the log's `file`).
pub(crate) fn begin_log(
    tape: &Tape,
    file: Option<&Path>,
    m: &Manifest,
    options: &[String],
    plugins: &[PathBuf],
    start: std::time::Duration,
) -> Result<(), u8> {
    let settings = Settings::of(m, options);
    let header = hio::wire::header(m, &settings, plugins, start).map_err(|e| fail(LOAD, e))?;
    tape.begin(header).map_err(|e| {
        let file = file.unwrap_or(Path::new(""));
        fail(USAGE, format!("--record {}: {e}", file.display()))
    })
}

/// How [`execute`] runs a manifest, besides the manifest.
pub(crate) struct Session {
    pub trace: Option<String>,
    pub stats: bool,
    pub log_level: LogLevel,
    pub cache: Cache,
    pub core_dumps: Option<PathBuf>,
    /// The wire log, recording or replaying.
    pub tape: Option<Tape>,
    /// Replaying: the recorded ticks and the recorded wall-clock start.
    pub replay: Option<(Vec<hio::Tick>, std::time::Duration)>,
}

/// Loads, builds and runs `manifest`: `ready` sees the plugins loaded and the
/// wall-clock start (zero in simulated time) just before the first tick.
/// Returns the exit status.
pub(crate) fn execute(
    manifest: &Manifest,
    s: Session,
    ready: impl FnOnce(&[PathBuf], std::time::Duration) -> Result<(), u8>,
) -> u8 {
    let mut engine = EngineLimits {
        core_dumps: s.core_dumps.clone(),
        ..manifest.engine_for_run()
    };
    if s.replay.is_some() {
        // A replay feeds recorded ticks at CPU speed: the watchdog strikes
        // only where the recording says it did.
        engine.replay = true;
    }
    let host = match s.cache.host(engine, warn_uncached) {
        Ok(h) => h,
        Err(e) => return fail(LOAD, e),
    };
    let settings = BuildSettings {
        record_stats: s.stats,
        tape: s.tape.clone(),
        // A replay opens no socket: what its doers observe comes from the
        // log (and after a divergence, from an empty simulated network).
        sim: s.replay.as_ref().map(|_| hio::io::SimConfig::default()),
    };
    let built = match build_with(manifest, &host, &settings) {
        Ok(b) => b,
        Err(e) => return build_error(e),
    };
    let max = level_of(s.log_level);
    let closed = Closed::default();
    let log_out = closed.clone();
    let mut doist = built.doist.logger(Box::new(move |l: &LogLine<'_>| {
        if l.level <= max {
            log_out.eprintln(l);
        }
    }));
    let sink: Option<Box<dyn TraceSink>> = match s.trace.as_deref() {
        None => None,
        Some("-") => Some(Box::new(JsonLines::new(closed.watch(io::stdout())))),
        Some(file) => match std::fs::File::create(file) {
            Ok(f) => Some(Box::new(JsonLines::new(f))),
            Err(e) => return fail(USAGE, format!("--trace {file}: {e}")),
        },
    };
    if s.tape.is_some() || sink.is_some() {
        doist = doist.trace(TapeSink::new(s.tape.clone(), sink));
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        // A second signal while the first is pending (say, a guest spinning
        // on a large fuel budget in simulated time) exits at once.
        let second = signal_hook::flag::register_conditional_shutdown(
            signal,
            i32::from(INTERRUPTED),
            Arc::clone(&stop),
        );
        if let Err(e) = second.and_then(|_| signal_hook::flag::register(signal, Arc::clone(&stop)))
        {
            return fail(USAGE, format!("cannot handle signals: {e}"));
        }
    }
    // Kept until the run is over: a replay's signal does not wait past it.
    let _grace = match s.replay {
        Some(_) => match end_replay_after_grace() {
            Ok(g) => Some(g),
            Err(e) => return fail(USAGE, format!("cannot handle signals: {e}")),
        },
        None => None,
    };
    let mut start = std::time::Duration::ZERO;
    if let Some((ticks, recorded_start)) = s.replay {
        doist = doist.replay(ticks);
        start = recorded_start;
        if manifest.real {
            built.wall_start.set(start);
        }
    } else if manifest.real {
        // The doers' wall clock reads the run's start plus tyme; the start
        // goes to the log so a run's timestamps can be placed.
        start = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        built.wall_start.set(start);
        if max >= Level::Info {
            closed.eprintln(format_args!(
                "hio: run start {}.{:09} (Unix time; tyme 0)",
                start.as_secs(),
                start.subsec_nanos()
            ));
        }
    }
    if let Err(status) = ready(&built.plugins, start) {
        return status;
    }
    let diverged = || {
        s.tape
            .as_ref()
            .is_some_and(|t| t.divergence().is_some() || t.exhausted())
    };
    let status = loop {
        if stop.load(Ordering::Relaxed) {
            doist.close();
            break INTERRUPTED;
        }
        if closed.is_set() {
            doist.close();
            break OUTPUT_CLOSED;
        }
        // A replay that no longer follows its recording stops where it
        // left it: nothing after that point means anything. One of a log
        // cut short stops where the log does.
        if diverged() {
            break OK;
        }
        // The recording was closed here (a signal, a closed output): so is
        // the replay, which checks the closing hooks' calls and the end.
        if s.tape.as_ref().is_some_and(Tape::closes_here) {
            doist.close();
            break OK;
        }
        match doist.step() {
            Ok(false) => {}
            Ok(true) => break OK,
            Err(e) => break fail(ESCALATED, e),
        }
    };
    if let Err(e) = doist.flush_trace()
        && !closed.is_set()
    {
        closed.eprintln(format_args!("hio: writing the trace: {e}"));
    }
    if s.stats {
        closed.eprintln(built.stats.table().trim_end());
        if let Some(kib) = peak_resident_kib() {
            closed.eprintln(format_args!("host peak resident memory: {kib} KiB"));
        }
    }
    // Closed while the tree was closing, or the trace flushing.
    if status == OK && closed.is_set() {
        return OUTPUT_CLOSED;
    }
    status
}

/// How long a replay stopped by a signal may take to close its tree.
const REPLAY_GRACE: Duration = Duration::from_secs(1);

/// For a replay: after SIGINT or SIGTERM, the run gets [`REPLAY_GRACE`] to
/// stop at its next step and close its tree; one still going then is ended
/// at once, exit status 130. That is a hook spinning in guest code on a
/// large fuel budget: a replay runs no watchdog (the log says where the
/// recording's struck), and it has nothing outside it to close (no socket,
/// no log being written), so it does not wait for a second signal as a run
/// does. Dropping the sender this returns (the run is over) ends the wait.
fn end_replay_after_grace() -> io::Result<mpsc::Sender<()>> {
    let (mut woken, wake) = UnixStream::pair()?;
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::low_level::pipe::register(signal, wake.try_clone()?)?;
    }
    let (over, is_over) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("hio-replay-signal".into())
        .spawn(move || {
            let mut byte = [0u8; 1];
            loop {
                match woken.read(&mut byte) {
                    Ok(0) => return,
                    Ok(_) => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => return,
                }
            }
            if is_over.recv_timeout(REPLAY_GRACE) == Err(mpsc::RecvTimeoutError::Timeout) {
                Closed::default().eprintln(format_args!(
                    "hio: replay interrupted: a hook was still running {} s after the signal \
                     (guest code that does not return); ended without closing the tree",
                    REPLAY_GRACE.as_secs()
                ));
                signal_hook::low_level::exit(i32::from(INTERRUPTED));
            }
        })?;
    Ok(over)
}

/// This process's peak resident set (Linux's VmHWM), in KiB.
fn peak_resident_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

pub fn check(path: &Path, cache: Cache) -> u8 {
    let manifest = match Manifest::load(path) {
        Ok(m) => m,
        Err(e) => return fail(USAGE, e),
    };
    let host = match cache.host(manifest.engine_for_run(), warn_uncached) {
        Ok(h) => h,
        Err(e) => return fail(LOAD, e),
    };
    if let Err(e) = build(&manifest, &host, false) {
        return build_error(e);
    }
    let leaves = manifest.leaves();
    let plugins: std::collections::BTreeSet<_> = leaves.iter().map(|l| &l.plugin).collect();
    let mut out = io::stdout().lock();
    let _ = writeln!(
        out,
        "{}: ok: {} doers, {} plugins, {} decks; tock {}, limit {}, seed {}",
        path.display(),
        leaves.len(),
        plugins.len(),
        manifest.decks.len(),
        manifest.tock,
        manifest.end.map_or("none".to_owned(), |l| l.to_string()),
        manifest.seed
    );
    let _ = writeln!(
        out,
        "enforced: fuel per hook call, linear memory, message size, handles, connections, \
         buffers, timeouts and children per doer; Wasm stack, table elements and memory \
         slot per engine; deck, network and spawn grants; in real mode a wall-time \
         watchdog per hook call"
    );
    OK
}

pub fn inspect(path: &Path) -> u8 {
    let host = match PluginHost::new(EngineLimits::default(), None) {
        Ok(h) => h,
        Err(e) => return fail(LOAD, e),
    };
    match host.inspect(path) {
        Ok(report) => {
            Closed::default().print(report);
            OK
        }
        Err(e @ LoadError::Invalid { .. }) | Err(e @ LoadError::Missing(_)) => fail(LOAD, e),
        Err(e) => fail(LOAD, e),
    }
}

/// `hio trace FILE [--perfetto OUT] [--stats] [--wire LOG]`. The trace is
/// read a line at a time and the timeline written as it goes: memory grows
/// with the doers, not with the trace.
pub fn trace(file: &Path, perfetto: Option<&str>, stats: bool, wire: Option<&Path>) -> u8 {
    use hio::timeline::{ChromeTrace, ReadError, Records, Summary};

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
        Ok(f) => Records::new(io::BufReader::with_capacity(1 << 16, f)),
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

pub fn demo(limit: f64) -> u8 {
    if !(limit.is_finite() && limit > 0.0) {
        return fail(
            USAGE,
            format!("demo: --limit must be finite and > 0, got {limit}"),
        );
    }
    let mut doist = Doist::new(0.03125)
        .limit(limit)
        .trace(JsonLines::new(Closed::default().watch(io::stdout())));
    let trees = [
        DoDoer::new("A")
            .doer(Recorder::spec("e0", 0.0, 3))
            .doer(Recorder::spec("e1", 0.0625, 3)),
        DoDoer::new("B")
            .tock(0.0625)
            .doer(Recorder::spec("e2", 0.0, 3))
            .doer(Recorder::spec("e3", 0.125, 3)),
    ];
    for tree in trees {
        if let Err(e) = doist.add(tree) {
            return fail(USAGE, e);
        }
    }
    let result = doist.run();
    if let Err(e) = doist.flush_trace() {
        return fail(ESCALATED, format!("writing the trace: {e}"));
    }
    match result {
        Ok(()) => OK,
        Err(e) => fail(ESCALATED, e),
    }
}
