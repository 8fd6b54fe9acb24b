//! `hio inspect X.wasm`: a component's imports and exports, and whether
//! it fits the hio:doer world.

use std::path::PathBuf;

use hio::plugin::{EngineLimits, LoadError, PluginHost};

use crate::commands::exit::{LOAD, OK, fail};
use crate::commands::output::Closed;

/// The arguments of `hio inspect`.
#[derive(clap::Args)]
pub struct InspectArgs {
    /// The component.
    wasm: PathBuf,
}

/// `hio inspect`: the exit status.
pub fn inspect(args: InspectArgs) -> u8 {
    let host = match PluginHost::new(EngineLimits::default(), None) {
        Ok(h) => h,
        Err(e) => return fail(LOAD, e),
    };
    match host.inspect(&args.wasm) {
        Ok(report) => {
            Closed::default().print(report);
            OK
        }
        Err(e @ LoadError::Invalid { .. }) | Err(e @ LoadError::Missing(_)) => fail(LOAD, e),
        Err(e) => fail(LOAD, e),
    }
}
