//! The `hio` command: run, check and inspect trees of Wasm doers.

mod cli;
mod output;
mod replay;
mod simulate;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Run trees of sandboxed WebAssembly doers in deterministic, simulated time.
///
/// stdout carries only the trace (with --trace -) and command output; logs,
/// guest output and --stats go to stderr. Exit status: 0 normal end, 1 a
/// failure escalated to the root, 2 usage or manifest error, 3 plugin load
/// error, 130 interrupted (SIGINT/SIGTERM: the tree is closed and the trace
/// flushed), 141 stdout or stderr closed under the run (likewise).
#[derive(Parser)]
#[command(name = "hio", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a manifest, or bare .wasm doers.
    ///
    /// With bare .wasm paths each becomes a top-level doer named by its file
    /// stem (-2, -3 for repeats), tock 0.0, under a Doist of tock 0.03125
    /// and no limit.
    ///
    /// Examples:
    ///   hio run examples/pipeline.toml --trace -
    ///   hio run plugins/dist/recorder.wasm --limit 1 --trace out.jsonl
    ///   hio run plugins/dist/recorder.wasm --option recorder.stop=10 --trace -
    #[command(verbatim_doc_comment)]
    Run(RunArgs),
    /// Replay a wire log (hio run --record FILE) with no sockets, as fast as
    /// the CPU allows, and check that it reproduces the run.
    ///
    /// The recorded manifest runs again with the recorded settings; each
    /// plugin is loaded from its recorded path and checked against its
    /// recorded sha256 first (a changed or missing plugin stops the replay,
    /// exit status 3, unless --force). The log is not trusted: a plugin
    /// path that is no regular file or is over 256 MiB is refused unread,
    /// a plugin the manifest loads must be listed in the header, and the
    /// header's settings keep to the manifest's rules (--force changes none
    /// of that). Every network call a doer makes gets the recorded result;
    /// each tick's lifecycle trace and the bytes doers wrote are compared
    /// with the recording's digests. The summary (on stdout) gives both
    /// sha256 digests and the verdict. One SIGINT stops a replay, even in a
    /// hook that spins. Exit status: 0 reproduced, 1 diverged (the first
    /// tick, record and doer that differ are named), 2 a damaged, truncated
    /// or unreadable log or bad settings, 3 a changed, missing, refused or
    /// unlisted plugin, 130 interrupted.
    ///
    /// Example:
    ///   hio run examples/echo.toml --record echo.wire
    ///   hio replay echo.wire
    #[command(verbatim_doc_comment)]
    Replay(ReplayArgs),
    /// Run a manifest on the simulated network, for one seed or many, and
    /// report each seed that fails with the command that reproduces it.
    ///
    /// Whatever the manifest's [net] says, the doers' listens and connects
    /// go to the in-memory network, with the faults of its [net.faults]
    /// (none if it has none), in simulated time (real = false). The seed
    /// seeds the run and the network's faults alike, so a seed reproduces
    /// its run exactly. A seed fails when its run escalates a failure to the
    /// root, or when any doer fails (a hook's error or trap), even one its
    /// supervisor restarts or isolates. Each seed's line on
    /// stdout gives its verdict and the sha256 of its lifecycle trace and
    /// of the bytes its doers wrote. Exit status: 0 every seed passed, 1
    /// some failed, 2 usage or manifest error, 3 plugin load error.
    ///
    /// Examples:
    ///   hio sim examples/sim.toml --seeds 0..100
    ///   hio sim examples/sim.toml --seed 17 --trace -
    #[command(verbatim_doc_comment)]
    Sim(SimArgs),
    /// Check a manifest without running it: parse it, load every plugin and
    /// pass each doer's options through the plugin's validate.
    ///
    /// Example: hio check examples/pipeline.toml
    Check {
        /// The manifest.
        manifest: PathBuf,
        #[command(flatten)]
        cache: CacheArgs,
    },
    /// Show a component's imports and exports and whether it fits the
    /// hio:doer world.
    ///
    /// Example: hio inspect plugins/dist/recorder.wasm
    Inspect {
        /// The component.
        wasm: PathBuf,
    },
    /// Read a trace file (hio run --trace FILE) and draw it as a timeline,
    /// or sum it up per doer.
    ///
    /// The timeline is Chrome's trace event format: open it in
    /// https://ui.perfetto.dev or chrome://tracing. Each doer is a track
    /// named by its path, each attempt a span from its first hook to its
    /// exit, each hook an instant (a failure's reason in its arguments);
    /// one second of tyme is one second on the timeline. With neither
    /// option it prints the summary.
    ///
    /// Examples:
    ///   hio run examples/pipeline.toml --trace run.jsonl
    ///   hio trace run.jsonl --perfetto run.json
    ///   hio trace run.jsonl --stats
    ///   hio run examples/echo.toml --trace run.jsonl --record run.wire
    ///   hio trace run.jsonl --wire run.wire --perfetto run.json
    #[command(verbatim_doc_comment)]
    Trace {
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
    },
    /// Run a built-in tree of native doers and print its trace.
    ///
    /// The tree is hio's nested example: DoDoer A (tock 0) holds e0 (tock 0)
    /// and e1 (tock 1/16); DoDoer B (tock 1/16) holds e2 (tock 0) and e3
    /// (tock 1/8); Doist tock 1/32.
    ///
    /// Example: hio demo --limit 0.25
    Demo {
        /// Stop once tyme reaches this.
        #[arg(long, default_value_t = 0.25, allow_negative_numbers = true)]
        limit: f64,
    },
}

/// Levels of the log.
#[derive(Clone, Copy, ValueEnum)]
enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// Where compiled plugin code is kept (every command that loads plugins).
#[derive(clap::Args)]
struct CacheArgs {
    /// Folder for compiled code (default: $HIO_CACHE_DIR, else
    /// $XDG_CACHE_HOME/hio, else ~/.cache/hio; created mode 0700). A second
    /// run of the same plugins then starts without compiling them.
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Compile every plugin afresh and keep nothing on disk.
    #[arg(long, conflicts_with = "cache_dir")]
    no_cache: bool,
}

impl CacheArgs {
    /// The cache these flags choose.
    fn choose(&self) -> hio::cache::Cache {
        hio::cache::Cache::choose(self.cache_dir.clone(), self.no_cache)
    }
}

#[derive(clap::Args)]
struct RunArgs {
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

#[derive(clap::Args)]
struct SimArgs {
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
}

#[derive(clap::Args)]
struct ReplayArgs {
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Run(args) => cli::run(args),
        Command::Replay(args) => replay::replay(args),
        Command::Sim(args) => simulate::simulate(args),
        Command::Check { manifest, cache } => cli::check(&manifest, cache.choose()),
        Command::Inspect { wasm } => cli::inspect(&wasm),
        Command::Trace {
            file,
            perfetto,
            stats,
            wire,
        } => cli::trace(&file, perfetto.as_deref(), stats, wire.as_deref()),
        Command::Demo { limit } => cli::demo(limit),
    };
    ExitCode::from(status)
}
