//! `hio run MANIFEST | X.wasm...`: a manifest, or bare components as
//! top-level doers, run with the command line's overrides; `--record`
//! writes the run's wire log.

use std::collections::BTreeMap;
use std::path::PathBuf;

use hio::Level;
use hio::manifest::{Manifest, ManifestError, Wake};
use hio::plugin::{LoadError, Tape};

use crate::commands::exit::{LOAD, OK, USAGE, fail};
use crate::commands::flags::{CacheArgs, LogLevel, ThreadsArgs, limit_flag};
use crate::commands::output::Closed;
use crate::commands::session::{Session, begin_log, execute};

/// The arguments of `hio run`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// A manifest (.toml) or one or more components (.wasm).
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Override the Doist's tock (seconds of tyme per tick).
    #[arg(long, allow_negative_numbers = true)]
    tock: Option<f64>,
    /// Override the limit: a tyme, or "none".
    #[arg(long, allow_negative_numbers = true)]
    limit: Option<String>,
    /// Real mode: each tick lasts one tock of wall time.
    #[arg(long, overrides_with = "no_real")]
    real: bool,
    /// Simulated time (the default unless the manifest says real = true).
    #[arg(long)]
    no_real: bool,
    /// Real-mode wake: grid (one tick per tock) or io.
    #[arg(long)]
    wake: Option<String>,
    /// Override the run's seed.
    #[arg(long)]
    seed: Option<u64>,
    /// Set option KEY of the plugin doer at PATH for this run (repeatable).
    ///
    /// PATH is the doer's path in the tree, names joined by "/" (echo,
    /// group/worker); it is split from KEY at the last "." before the "=",
    /// since names may hold dots. VALUE is read as a TOML value (3, true,
    /// "x", [1, 2]), else taken as a string (127.0.0.1:9000). The option
    /// replaces the manifest's, or is added after its options; the plugin's
    /// validate checks it as it checks the manifest's. A path that names no
    /// plugin doer, or a bad value, is a usage error (exit status 2).
    #[arg(long = "option", value_name = "PATH.KEY=VALUE")]
    option: Vec<String>,
    /// Write the lifecycle trace as JSON lines to FILE, or stdout with "-".
    #[arg(long, value_name = "FILE|-")]
    trace: Option<String>,
    /// Print per-doer figures (calls, time in guest, failures) at the end.
    #[arg(long)]
    stats: bool,
    /// Least severe log level shown.
    #[arg(long, value_enum, default_value = "info")]
    log_level: LogLevel,
    #[command(flatten)]
    cache: CacheArgs,
    #[command(flatten)]
    threads: ThreadsArgs,
    /// Write a Wasm core dump of each trapped doer instance into DIR
    /// (`<doer path>.<attempt>.coredump`, readable by wasmtime and wasm
    /// debuggers).
    #[arg(long, value_name = "DIR")]
    core_dumps: Option<PathBuf>,
    /// Write the run's wire log to FILE: every input a doer observed from
    /// the network, per tick, so that `hio replay FILE` reproduces the run
    /// without sockets. Flushed at every tick: a crash loses at most the
    /// tick under way.
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
}

/// `hio run`: the exit status.
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
        threads: args.threads.count(),
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
        if args.log_level.level() >= Level::Info {
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

/// Applies the command line's overrides to the manifest.
fn apply_overrides(m: &mut Manifest, args: &RunArgs) -> Result<(), String> {
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
