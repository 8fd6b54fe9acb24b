//! Host side of the `log` interface: lines are kept for the call and
//! written, tagged with the tyme and the doer's path, when it returns.

use wasmtime::StoreContextMut;
use wasmtime::component::Linker;

use crate::bindings::hio::doer::log::{Host, Level as WitLevel};
use crate::charge::charge;
use crate::store::StoreData;
use hio_scheduler::Level;

/// Longest message kept; the rest is cut (a guest cannot flood the host).
const MAX_MESSAGE: usize = 4096;
/// Lines kept per hook call.
const MAX_LINES: usize = 256;

impl StoreData {
    /// Keeps a line for the log, within the per-call bound on lines (guest
    /// lines and the host's lines about the guest count alike).
    pub(crate) fn log_line(&mut self, level: Level, message: String) {
        crate::charge::touch();
        if self.logs.len() < MAX_LINES {
            self.logs.push((level, message));
        }
    }
}

impl Host for StoreData {
    fn log(&mut self, level: WitLevel, message: String) {
        if self.logs.len() >= MAX_LINES {
            return;
        }
        let level = match level {
            WitLevel::Error => Level::Error,
            WitLevel::Warn => Level::Warn,
            WitLevel::Info => Level::Info,
            WitLevel::Debug => Level::Debug,
            WitLevel::Trace => Level::Trace,
        };
        self.log_line(level, hio_scheduler::cut_owned(message, MAX_MESSAGE));
    }
}

impl crate::bindings::hio::doer::types::Host for StoreData {}

/// Puts `log` in the linker in place of the generated one: the same call,
/// charged for the message's bytes first (see `charge.rs`).
pub(crate) fn add_to_linker(linker: &mut Linker<StoreData>) -> wasmtime::Result<()> {
    linker
        .instance(&crate::bindings::interface("log"))?
        .func_wrap(
            "log",
            |mut store: StoreContextMut<'_, StoreData>, (level, message): (WitLevel, String)| {
                charge(&mut store, message.len())?;
                Host::log(store.data_mut(), level, message);
                Ok(())
            },
        )
}
