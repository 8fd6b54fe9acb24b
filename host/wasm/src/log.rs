//! Host side of the `log` interface: lines are kept for the call and
//! written, tagged with the tyme and the doer's path, when it returns.

use crate::bindings::hio::doer::log::{Host, Level as WitLevel};
use crate::store::StoreData;
use hio_scheduler::Level;

/// Longest message kept; the rest is cut (a guest cannot flood the host).
const MAX_MESSAGE: usize = 4096;
/// Lines kept per hook call.
const MAX_LINES: usize = 256;

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
        let mut message = message;
        if message.len() > MAX_MESSAGE {
            let mut cut = MAX_MESSAGE;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str(" […]");
        }
        self.logs.push((level, message));
    }
}

impl crate::bindings::hio::doer::types::Host for StoreData {}
