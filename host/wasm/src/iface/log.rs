//! Host side of the `log` interface: lines are kept for the call and
//! written, tagged with the tyme and the doer's path, when it returns.

use wasmtime::StoreContextMut;
use wasmtime::component::Linker;

use crate::bindings::hio::doer::log::{Host, Level as WitLevel};
use crate::charge::{Metered, charge};
use hio_scheduler::Level;

/// Longest message kept; the rest is cut (a guest cannot flood the host).
const MAX_MESSAGE: usize = 4096;
/// Lines kept per hook call.
const MAX_LINES: usize = 256;

/// The log lines a hook call kept, for the host to write when it returns.
#[derive(Default)]
pub(crate) struct Lines(Vec<(Level, String)>);

impl Lines {
    /// Keeps a line for the log, within the per-call bound on lines (guest
    /// lines and the host's lines about the guest count alike).
    pub fn keep(&mut self, level: Level, message: String) {
        crate::charge::touch();
        if self.0.len() < MAX_LINES {
            self.0.push((level, message));
        }
    }

    /// The lines kept, leaving none.
    pub fn take(&mut self) -> Vec<(Level, String)> {
        std::mem::take(&mut self.0)
    }
}

impl Host for &mut Lines {
    fn log(&mut self, level: WitLevel, message: String) {
        if self.0.len() >= MAX_LINES {
            return;
        }
        let level = match level {
            WitLevel::Error => Level::Error,
            WitLevel::Warn => Level::Warn,
            WitLevel::Info => Level::Info,
            WitLevel::Debug => Level::Debug,
            WitLevel::Trace => Level::Trace,
        };
        self.keep(level, hio_scheduler::cut_owned(message, MAX_MESSAGE));
    }
}

/// Puts `log` in the linker (in place of what `bindgen!` generates): the
/// call on `lines` of the store, charged for the message's bytes first
/// (see `charge.rs`).
pub(crate) fn add_charged<T: Metered + 'static>(
    linker: &mut Linker<T>,
    lines: fn(&mut T) -> &mut Lines,
) -> wasmtime::Result<()> {
    linker
        .instance(&crate::bindings::interface("log"))?
        .func_wrap(
            "log",
            move |mut store: StoreContextMut<'_, T>, (level, message): (WitLevel, String)| {
                charge(&mut store, message.len())?;
                Host::log(&mut lines(store.data_mut()), level, message);
                Ok(())
            },
        )
}
