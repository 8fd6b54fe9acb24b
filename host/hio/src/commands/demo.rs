//! `hio demo`: hio's nested example, a built-in tree of native doers, run
//! and its trace printed.

use std::io;

use hio::{DoDoer, Doist, JsonLines, Recorder};

use crate::commands::exit::{ESCALATED, OK, USAGE, fail};
use crate::commands::output::Closed;

/// The arguments of `hio demo`.
#[derive(clap::Args)]
pub struct DemoArgs {
    /// Stop once tyme reaches this.
    #[arg(long, default_value_t = 0.25, allow_negative_numbers = true)]
    limit: f64,
}

/// `hio demo`: the exit status.
pub fn demo(args: DemoArgs) -> u8 {
    let limit = args.limit;
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
