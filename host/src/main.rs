//! The `hio` command.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hio::{DoDoer, Doist, JsonLines, Recorder};

/// Run trees of doers in deterministic, simulated time.
#[derive(Parser)]
#[command(name = "hio", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a built-in demo tree of native doers and print its lifecycle
    /// trace as JSON lines on stdout.
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

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Demo { limit } => demo(limit),
    }
}

fn demo(limit: f64) -> ExitCode {
    if !(limit.is_finite() && limit > 0.0) {
        eprintln!("hio demo: --limit must be finite and > 0, got {limit}");
        return ExitCode::from(2);
    }
    let mut doist = Doist::new(0.03125)
        .limit(limit)
        .trace(JsonLines::new(std::io::stdout()));
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
            eprintln!("hio demo: {e}");
            return ExitCode::from(2);
        }
    }
    let result = doist.run();
    if let Err(e) = doist.flush_trace() {
        eprintln!("hio demo: writing the trace: {e}");
        return ExitCode::FAILURE;
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hio demo: {e}");
            ExitCode::FAILURE
        }
    }
}
