//! `hio sim MANIFEST --seed N | --seeds A..B`: the tree on the simulated
//! network, seed after seed, each failing seed reported with the command
//! that reproduces it.

use std::ops::RangeInclusive;
use std::path::PathBuf;

use hio::io::SimConfig;
use hio::manifest::{Manifest, Wake};
use hio::plugin::Tape;
use hio::recording::hex;

use crate::commands::exit::{ESCALATED, LOAD, OK, USAGE, fail};
use crate::commands::flags::{CacheArgs, LogLevel, ThreadsArgs, limit_flag};
use crate::commands::output::Closed;
use crate::commands::session::{Session, begin_log, execute};

/// The arguments of `hio sim`.
#[derive(clap::Args)]
pub struct SimArgs {
    /// The manifest.
    manifest: PathBuf,
    /// Run this one seed.
    #[arg(long, conflicts_with = "seeds", required_unless_present = "seeds")]
    seed: Option<u64>,
    /// Run seeds A to B: A..B leaves B out, A..=B takes it in.
    #[arg(long, value_name = "A..B")]
    seeds: Option<String>,
    /// Override the limit (a tyme, or "none"); a simulated run of servers
    /// that never finish needs one.
    #[arg(long, allow_negative_numbers = true)]
    limit: Option<String>,
    /// Set option KEY of the plugin doer at PATH (as for hio run).
    #[arg(long = "option", value_name = "PATH.KEY=VALUE")]
    option: Vec<String>,
    /// Write the lifecycle trace to FILE, or stdout with "-" (one seed only).
    #[arg(long, value_name = "FILE|-", requires = "seed")]
    trace: Option<String>,
    /// Write the run's wire log to FILE (one seed only).
    #[arg(long, value_name = "FILE", requires = "seed")]
    record: Option<PathBuf>,
    /// Least severe log level shown.
    #[arg(long, value_enum, default_value = "warn")]
    log_level: LogLevel,
    #[command(flatten)]
    cache: CacheArgs,
    #[command(flatten)]
    threads: ThreadsArgs,
}

/// `A..B` (B left out) or `A..=B` (B taken in), as seeds A to B.
fn seed_range(text: &str) -> Result<RangeInclusive<u64>, String> {
    let bad =
        || format!("--seeds takes A..B or A..=B (whole numbers, A < B or A <= B), got {text:?}");
    let (a, rest) = text.split_once("..").ok_or_else(bad)?;
    let a: u64 = a.trim().parse().map_err(|_| bad())?;
    let (b, inclusive) = match rest.strip_prefix('=') {
        Some(b) => (b, true),
        None => (rest, false),
    };
    let b: u64 = b.trim().parse().map_err(|_| bad())?;
    let last = if inclusive { Some(b) } else { b.checked_sub(1) };
    match last {
        Some(last) if last >= a => Ok(a..=last),
        _ => Err(bad()),
    }
}

/// The manifest as every seed runs it: simulated network and time.
fn simulated(args: &SimArgs) -> Result<Manifest, String> {
    let mut m = Manifest::load(&args.manifest).map_err(|e| e.to_string())?;
    if m.sim.is_none() {
        m.sim = Some(SimConfig::default());
    }
    m.real = false;
    m.wake = Wake::Grid;
    if let Some(l) = &args.limit {
        m.end = limit_flag(l)?;
    }
    for flag in &args.option {
        m.apply_option(flag)
            .map_err(|e| format!("--option {flag}: {e}"))?;
    }
    Ok(m)
}

/// `hio sim`: the exit status.
pub fn sim(args: SimArgs) -> u8 {
    let seeds = match (&args.seeds, args.seed) {
        (Some(text), _) => match seed_range(text) {
            Ok(r) => r,
            Err(e) => return fail(USAGE, e),
        },
        (None, Some(s)) => s..=s,
        (None, None) => return fail(USAGE, "give --seed N or --seeds A..B"),
    };
    let mut manifest = match simulated(&args) {
        Ok(m) => m,
        Err(e) => return fail(USAGE, e),
    };
    let out = Closed::default();
    // The trace may have stdout: the verdicts then go to stderr.
    let to_stderr = args.trace.as_deref() == Some("-");
    let say = |text: String| {
        if to_stderr {
            out.eprintln(text.trim_end());
        } else {
            out.print(text);
        }
    };
    let mut shown = args.manifest.display().to_string();
    if let Some(l) = &args.limit {
        shown.push_str(&format!(" --limit {l}"));
    }
    for o in &args.option {
        shown.push_str(&format!(" --option '{o}'"));
    }
    let mut failed = Vec::new();
    let mut count = 0u64;
    for seed in seeds {
        count += 1;
        manifest.set_seed(seed);
        let tape = match &args.record {
            Some(file) => match std::fs::File::create(file).and_then(Tape::record) {
                Ok(t) => t,
                Err(e) => return fail(USAGE, format!("--record {}: {e}", file.display())),
            },
            None => Tape::digests_only(),
        };
        let session = Session {
            trace: args.trace.clone(),
            stats: false,
            log_level: args.log_level,
            cache: args.cache.choose(),
            threads: args.threads.count(),
            core_dumps: None,
            tape: Some(tape.clone()),
            replay: None,
        };
        let status = execute(&manifest, session, |plugins, start| {
            begin_log(
                &tape,
                args.record.as_deref(),
                &manifest,
                &args.option,
                plugins,
                start,
            )
        });
        if status == USAGE || status == LOAD {
            // The same for every seed: no point going on.
            return status;
        }
        let d = tape.digests();
        let digests = format!(
            "trace {}  bytes {} ({})",
            &hex(&d.trace)[..16],
            &hex(&d.written)[..16],
            d.bytes
        );
        let (failures, first) = tape.failures();
        if status == OK && failures == 0 {
            say(format!("seed {seed}: ok  {digests}\n"));
        } else {
            failed.push(seed);
            let why = match first {
                Some(f) if failures > 1 => format!("{failures} doer failures, first {f}"),
                Some(f) => format!("doer failure: {f}"),
                None => format!("exit status {status}"),
            };
            say(format!(
                "seed {seed}: FAILED ({why})  {digests}\n  reproduce: hio sim {shown} --seed {seed} --trace -\n"
            ));
        }
    }
    if failed.is_empty() {
        say(format!("{count} seeds, all passed\n"));
        OK
    } else {
        let list: Vec<String> = failed.iter().map(u64::to_string).collect();
        say(format!(
            "{count} seeds, {} failed: {}\n",
            failed.len(),
            list.join(", ")
        ));
        ESCALATED
    }
}
