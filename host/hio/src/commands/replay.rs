//! `hio replay FILE`: a recorded run again, with no sockets, checked
//! against its recording.

use std::path::PathBuf;
use std::time::Duration;

use hio::io::wire::Log;
use hio::plugin::Tape;
use hio::recording::{PluginCheck, check_plugins, hex, listed_plugins, recorded_manifest};

use crate::commands::exit::{ESCALATED, INTERRUPTED, LOAD, OK, USAGE, fail};
use crate::commands::flags::{CacheArgs, LogLevel, ThreadsArgs};
use crate::commands::output::Closed;
use crate::commands::session::{Session, execute};

/// The arguments of `hio replay`.
#[derive(clap::Args)]
pub struct ReplayArgs {
    /// The wire log (hio run --record FILE).
    file: PathBuf,
    /// Replay a log that ends early (a run cut short), up to its last
    /// complete tick.
    #[arg(long)]
    partial: bool,
    /// Replay even if a plugin changed since the recording; the replay then
    /// reports where the run first differs.
    #[arg(long)]
    force: bool,
    /// Write the replayed lifecycle trace as JSON lines to FILE, or stdout
    /// with "-" (the summary then goes to stderr).
    #[arg(long, value_name = "FILE|-")]
    trace: Option<String>,
    /// Print per-doer figures at the end.
    #[arg(long)]
    stats: bool,
    /// Least severe log level shown.
    #[arg(long, value_enum, default_value = "warn")]
    log_level: LogLevel,
    #[command(flatten)]
    cache: CacheArgs,
    #[command(flatten)]
    threads: ThreadsArgs,
}

/// `hio replay`: the exit status.
pub fn replay(args: ReplayArgs) -> u8 {
    let file = &args.file;
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => return fail(USAGE, format!("{}: cannot read: {e}", file.display())),
    };
    let log = match Log::parse(&bytes, args.partial) {
        Ok(l) => l,
        Err(e) => return fail(USAGE, format!("{}: {e}", file.display())),
    };
    let out = Closed::default();
    // Every plugin the header lists, read only if it is a regular file
    // within the cap, against its recorded digest.
    let changed = check_plugins(&log.header);
    let mut refused = false;
    for (path, check) in &changed {
        let recorded = log
            .header
            .plugins
            .iter()
            .find(|p| &p.path == path)
            .map(|p| hex(&p.sha256))
            .unwrap_or_default();
        let what = match check {
            PluginCheck::Changed(now) => format!(
                "changed since the recording (sha256 now {}, recorded {recorded})",
                hex(now)
            ),
            PluginCheck::Missing(why) => format!("cannot be read ({why})"),
            PluginCheck::Refused(why) => {
                refused = true;
                format!("refused: {why}")
            }
            PluginCheck::Same => continue,
        };
        out.eprintln(format_args!(
            "hio: replay {}: plugin {} {what}",
            file.display(),
            hio::Escaped(path)
        ));
    }
    if refused {
        return fail(LOAD, "not replayed: a plugin that is refused is never read");
    }
    if !changed.is_empty() && !args.force {
        return fail(
            LOAD,
            "not replayed: pass --force to replay anyway and see where the run differs",
        );
    }
    let manifest = match recorded_manifest(&log) {
        Ok(m) => m,
        Err(e) => return fail(USAGE, format!("{}: {e}", file.display())),
    };
    // Nothing runs that the header does not vouch for, --force or not.
    if let Err(e) = listed_plugins(&log.header, &manifest) {
        return fail(
            LOAD,
            format!("replay {}: {e}: not replayed", file.display()),
        );
    }
    let complete = log.complete;
    let ticks = Tape::ticks(&log);
    let wall_start = Duration::from_nanos(log.header.wall_start);
    let tape = Tape::replay(log);
    let to_stderr = args.trace.as_deref() == Some("-");
    let session = Session {
        trace: args.trace,
        stats: args.stats,
        log_level: args.log_level,
        cache: args.cache.choose(),
        threads: args.threads.count(),
        core_dumps: None,
        tape: Some(tape.clone()),
        replay: Some((ticks, wall_start)),
    };
    let status = execute(&manifest, session, |_, _| Ok(()));
    if let Some(d) = tape.divergence() {
        return fail(
            ESCALATED,
            format!("replay {}: diverged at {d}", file.display()),
        );
    }
    if status == INTERRUPTED {
        return fail(
            INTERRUPTED,
            format!(
                "replay {}: interrupted after {} ticks: not reproduced (nothing after that \
                 point was compared)",
                file.display(),
                tape.digests().ticks
            ),
        );
    }
    if status == USAGE || status == LOAD || status > ESCALATED {
        return status;
    }
    let d = tape.digests();
    let say = |line: String| {
        if to_stderr {
            out.eprintln(line);
        } else {
            out.print(format_args!("{line}\n"));
        }
    };
    say(format!(
        "replayed {}: {} ticks, {} network calls, run status {status}",
        file.display(),
        d.ticks,
        d.calls
    ));
    say(format!("lifecycle trace sha256 {}", hex(&d.trace)));
    say(format!(
        "bytes written   sha256 {} ({} bytes)",
        hex(&d.written),
        d.bytes
    ));
    if complete {
        say("reproduced: every tick and both digests match the recording".into());
    } else {
        say(format!(
            "reproduced up to tick {} (the log ends early: no final digests to compare)",
            d.ticks
        ));
    }
    OK
}
