//! [`PluginDoer`]: a Wasm component instance as a [`Doer`]. One `Store` per
//! instance; each hook call gets the fuel budget afresh, sees the current
//! tyme and tock, and hands its log lines and output back to the host.

use std::time::{Duration, Instant};

use wasmtime::{Store, Trap, WasmCoreDump};

use super::bindings::Doer as DoerWorld;
use super::bindings::hio::doer::types::Value;
use super::state::State;
use super::stats::DoerStatsCell;
use super::wasi::MAX_RANDOM;
use crate::doer::{Context, Doer, Failure, HookResult, Level};

/// A loaded component instance, driven by the scheduler.
pub struct PluginDoer {
    pub(crate) store: Store<State>,
    pub(crate) world: DoerWorld,
    pub(crate) options: Vec<(String, Value)>,
    pub(crate) budget: Budget,
    /// Where a core dump goes if this instance traps.
    pub(crate) core_dump: Option<std::path::PathBuf>,
    pub(crate) poisoned: bool,
    pub(crate) stats: DoerStatsCell,
    pub(crate) time_calls: bool,
}

/// The real-mode watchdog as one doer sees it: the epoch deadline each
/// hook call gets, and the wall time that stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Watch {
    /// Epoch ticks per hook call.
    pub ticks: u64,
    /// The budget, for the failure reason.
    pub budget: Duration,
}

/// What one hook call may spend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Budget {
    /// Fuel per hook call.
    pub fuel: u64,
    /// Linear memory cap in bytes.
    pub memory: u64,
    /// Largest message in bytes (reported by the deck calls themselves).
    pub message: u64,
    /// Host-side handles.
    pub handles: u32,
    /// Wall-time budget per hook call (real mode only).
    pub watch: Option<Watch>,
}

impl Budget {
    /// Refills the store for one hook call: fuel, and the epoch deadline.
    pub fn refill(&self, store: &mut Store<State>) -> wasmtime::Result<()> {
        store.set_fuel(self.fuel)?;
        if let Some(w) = self.watch {
            store.set_epoch_deadline(w.ticks);
        }
        Ok(())
    }
}

/// Says what a trap or host error means, in the words of the contract.
pub(crate) fn failure_reason(e: &wasmtime::Error, budget: &Budget) -> String {
    if let Some(exit) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
        return format!("exit({})", exit.0);
    }
    if let Some(trap) = e.downcast_ref::<Trap>() {
        return match trap {
            Trap::OutOfFuel => format!("out of fuel (limit {} per hook call)", budget.fuel),
            Trap::StackOverflow => "wasm stack overflow".to_owned(),
            Trap::Interrupt => match budget.watch {
                Some(w) => format!(
                    "wall-time budget exceeded (watchdog {} ms per hook call, real mode)",
                    w.budget.as_millis()
                ),
                None => "interrupted".to_owned(),
            },
            other => other.to_string(),
        };
    }
    let text = format!("{e:#}");
    if text.contains("resource table has no free keys") {
        return format!("handle limit exceeded (limit {} handles)", budget.handles);
    }
    if text.contains("forcing trap when growing memory") {
        return format!("memory limit exceeded (limit {} bytes)", budget.memory);
    }
    if text.contains("exceeds limit") && text.contains(&MAX_RANDOM.to_string()) {
        return "random request over 64 KiB".to_owned();
    }
    text
}

impl PluginDoer {
    fn call<T>(
        &mut self,
        cx: &mut Context<'_>,
        name: &str,
        hook: impl FnOnce(&DoerWorld, &mut Store<State>) -> wasmtime::Result<Result<T, String>>,
    ) -> HookResult<T> {
        let data = self.store.data_mut();
        data.tyme.set(cx.tyme());
        data.tock = cx.tock();
        data.tock_set = false;
        let result = match self.budget.refill(&mut self.store) {
            Ok(()) => {
                // The clock is read only when figures were asked for.
                let start = self.time_calls.then(Instant::now);
                let r = hook(&self.world, &mut self.store);
                let time = start.map(|s| s.elapsed()).unwrap_or_default();
                let used = self
                    .budget
                    .fuel
                    .saturating_sub(self.store.get_fuel().unwrap_or(0));
                let peak = self.store.data().limits.peak as u64;
                self.stats.record_call(time, used, peak);
                r
            }
            Err(e) => Err(e),
        };
        self.deliver(cx);
        let violation = self.store.data_mut().violation.take();
        let failure = match (result, violation) {
            // Over a limit the host checks at its boundary: the guest got an
            // error back, and the call fails (the instance stays usable).
            (Ok(_), Some(reason)) => {
                cx.log(
                    Level::Error,
                    &format!(
                        "{name} at tyme {}: {reason}",
                        crate::core::fmt_tyme(cx.tyme())
                    ),
                );
                Failure(reason)
            }
            (Ok(Ok(v)), None) => return Ok(v),
            (Ok(Err(reason)), None) => Failure(reason),
            (Err(e), _) => {
                self.poisoned = true;
                let reason = failure_reason(&e, &self.budget);
                let fuel = self.budget.fuel;
                let used = fuel.saturating_sub(self.store.get_fuel().unwrap_or(0));
                // An epoch interrupt leaves wasmtime's fuel counter where it
                // last flushed it, so it is not reported as a figure.
                let spent = if matches!(e.downcast_ref::<Trap>(), Some(Trap::Interrupt)) {
                    format!("fuel used not known after an interrupt, limit {fuel}")
                } else {
                    format!("fuel used {used} of {fuel}")
                };
                let mut report = format!(
                    "trap in {name} at tyme {} ({spent}): {reason}",
                    crate::core::fmt_tyme(cx.tyme()),
                );
                if let Some(bt) = e.downcast_ref::<wasmtime::WasmBacktrace>() {
                    report.push_str(&format!("\n{bt}"));
                }
                cx.log(Level::Error, report.trim_end());
                self.write_core_dump(cx, name, &e);
                Failure(reason)
            }
        };
        self.stats.record_failure();
        Err(failure)
    }

    /// Writes the core dump wasmtime took at the trap, where one was asked for.
    fn write_core_dump(&mut self, cx: &mut Context<'_>, hook: &str, e: &wasmtime::Error) {
        let (Some(file), Some(dump)) = (&self.core_dump, e.downcast_ref::<WasmCoreDump>()) else {
            return;
        };
        let bytes = dump.serialize(&mut self.store, &format!("{} {hook}", cx.path()));
        match std::fs::write(file, bytes) {
            Ok(()) => cx.log(
                Level::Error,
                &format!("core dump written to {}", file.display()),
            ),
            Err(err) => cx.log(
                Level::Error,
                &format!("core dump not written to {}: {err}", file.display()),
            ),
        }
    }

    /// Hands what the call produced to the host: tock, log lines, output.
    fn deliver(&mut self, cx: &mut Context<'_>) {
        let data = self.store.data_mut();
        if data.tock_set {
            // The host checked the value when the guest set it.
            let _ = cx.set_tock(data.tock);
        }
        let logs = std::mem::take(&mut data.logs);
        let out = [
            ("stdout", data.stdout.take()),
            ("stderr", data.stderr.take()),
        ];
        for (level, message) in logs {
            cx.log(level, &message);
        }
        for (name, captured) in out {
            if captured.bytes.is_empty() && captured.dropped == 0 {
                continue;
            }
            let text = String::from_utf8_lossy(&captured.bytes);
            for line in text.lines() {
                cx.log(Level::Info, &format!("{name}: {line}"));
            }
            if captured.dropped > 0 {
                let note = format!(
                    "{name}: {} bytes dropped (over the per-call bound)",
                    captured.dropped
                );
                cx.log(Level::Warn, &note);
            }
        }
    }
}

impl PluginDoer {
    /// Calls the component's `enter` export directly (see `bare_recur`).
    #[doc(hidden)]
    pub fn bare_enter(&mut self) -> Result<(), String> {
        let options = self.options.clone();
        match self.world.call_enter(&mut self.store, &options) {
            Ok(r) => r,
            Err(e) => Err(failure_reason(&e, &self.budget)),
        }
    }

    /// Calls the component's `recur` export directly: no scheduler, no
    /// fuel refill, no log delivery. The floor a scheduled call is measured
    /// against in the benchmarks.
    #[doc(hidden)]
    pub fn bare_recur(&mut self, tyme: f64) -> Result<bool, String> {
        match self.world.call_recur(&mut self.store, tyme) {
            Ok(r) => r,
            Err(e) => Err(failure_reason(&e, &self.budget)),
        }
    }
}

impl Doer for PluginDoer {
    fn enter(&mut self, cx: &mut Context<'_>) -> HookResult {
        let options = std::mem::take(&mut self.options);
        let r = self.call(cx, "enter", |w, s| w.call_enter(s, &options));
        self.options = options;
        r
    }

    fn recur(&mut self, cx: &mut Context<'_>, tyme: f64) -> HookResult<bool> {
        self.call(cx, "recur", |w, s| w.call_recur(s, tyme))
    }

    fn clean(&mut self, cx: &mut Context<'_>) -> HookResult {
        self.call(cx, "clean", |w, s| w.call_clean(s))
    }

    fn cease(&mut self, cx: &mut Context<'_>) -> HookResult {
        self.call(cx, "cease", |w, s| w.call_cease(s))
    }

    fn abort(&mut self, cx: &mut Context<'_>, reason: &str) -> HookResult {
        self.call(cx, "abort", |w, s| w.call_abort(s, reason).map(Ok))
    }

    fn exit(&mut self, cx: &mut Context<'_>) -> HookResult {
        self.call(cx, "exit", |w, s| w.call_exit(s))
    }

    fn poisoned(&self) -> bool {
        self.poisoned
    }
}
