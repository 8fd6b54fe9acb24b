//! The `hio` command: parses the command line and hands it to one of the
//! seven commands, each in its own file under `commands/` with its
//! arguments: `run`, `replay`, `sim`, `check`, `inspect`, `trace` and
//! `demo`.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands::check::CheckArgs;
use crate::commands::demo::DemoArgs;
use crate::commands::inspect::InspectArgs;
use crate::commands::replay::ReplayArgs;
use crate::commands::run::RunArgs;
use crate::commands::sim::SimArgs;
use crate::commands::trace::TraceArgs;

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
    Check(CheckArgs),
    /// Show a component's imports and exports and whether it fits the
    /// hio:doer world.
    ///
    /// Example: hio inspect plugins/dist/recorder.wasm
    Inspect(InspectArgs),
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
    Trace(TraceArgs),
    /// Run a built-in tree of native doers and print its trace.
    ///
    /// The tree is hio's nested example: DoDoer A (tock 0) holds e0 (tock 0)
    /// and e1 (tock 1/16); DoDoer B (tock 1/16) holds e2 (tock 0) and e3
    /// (tock 1/8); Doist tock 1/32.
    ///
    /// Example: hio demo --limit 0.25
    Demo(DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Run(args) => commands::run::run(args),
        Command::Replay(args) => commands::replay::replay(args),
        Command::Sim(args) => commands::sim::sim(args),
        Command::Check(args) => commands::check::check(args),
        Command::Inspect(args) => commands::inspect::inspect(args),
        Command::Trace(args) => commands::trace::trace(args),
        Command::Demo(args) => commands::demo::demo(args),
    };
    ExitCode::from(status)
}
