//! Running a manifest, as `run`, `replay` and `sim` do: the plugins loaded
//! and the tree built, the trace and log routed, signals and closed outputs
//! handled, one step at a time to the end; and the wire log's header
//! written once the run is built.

use std::io::{self, Read};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use hio::cache::Cache;
use hio::manifest::{BuildSettings, Manifest, build_with};
use hio::plugin::{EngineLimits, Tape};
use hio::recording::{Settings, TapeSink};
use hio::{JsonLines, Level, LogLine, TraceSink};

use crate::commands::exit::{
    ESCALATED, INTERRUPTED, LOAD, OK, OUTPUT_CLOSED, USAGE, build_error, fail,
};
use crate::commands::flags::{LogLevel, plugin_host};
use crate::commands::output::Closed;

/// Writes the wire log's header once the run of `m` (with `options`) is
/// built and about to start at `start` with `plugins` loaded; the exit
/// status if it cannot (naming the log's `file`).
pub fn begin_log(
    tape: &Tape,
    file: Option<&Path>,
    m: &Manifest,
    options: &[String],
    plugins: &[PathBuf],
    start: std::time::Duration,
) -> Result<(), u8> {
    let settings = Settings::of(m, options);
    let header = hio::recording::header(m, &settings, plugins, start).map_err(|e| fail(LOAD, e))?;
    tape.begin(header).map_err(|e| {
        let file = file.unwrap_or(Path::new(""));
        fail(USAGE, format!("--record {}: {e}", file.display()))
    })
}

/// How [`execute`] runs a manifest, besides the manifest.
pub struct Session {
    pub trace: Option<String>,
    pub stats: bool,
    pub log_level: LogLevel,
    pub cache: Cache,
    /// Threads the crews share.
    pub threads: usize,
    pub core_dumps: Option<PathBuf>,
    /// The wire log, recording or replaying.
    pub tape: Option<Tape>,
    /// Replaying: the recorded ticks and the recorded wall-clock start.
    pub replay: Option<(Vec<hio::Tick>, std::time::Duration)>,
}

/// Loads, builds and runs `manifest`: `ready` sees the plugins loaded and the
/// wall-clock start (zero in simulated time) just before the first tick.
/// Returns the exit status.
pub fn execute(
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
    let host = match plugin_host(&s.cache, engine) {
        Ok(h) => h,
        Err(e) => return fail(LOAD, e),
    };
    let settings = BuildSettings {
        record_stats: s.stats,
        tape: s.tape.clone(),
        // A replay opens no socket: what its doers observe comes from the
        // log (and after a divergence, from an empty simulated network).
        sim: s.replay.as_ref().map(|_| hio::io::SimConfig::default()),
        threads: s.threads,
    };
    let built = match build_with(manifest, &host, &settings) {
        Ok(b) => b,
        Err(e) => return build_error(e),
    };
    let max = s.log_level.level();
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
        // A lockstep barrier failed (it said why): stop cleanly.
        if built.halted.load(Ordering::Relaxed) {
            doist.close();
            break ESCALATED;
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
