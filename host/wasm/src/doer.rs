//! [`PluginDoer`]: one doer of an [`Instance`](crate::instance::Instance), the guest's `doer`
//! resource, as a scheduler [`Doer`]. Each hook call swaps the doer's own
//! state ([`DoerData`]) into the store, so every host call acts for the
//! caller; gets the fuel budget afresh, sees the current tyme and tock, and
//! hands its log lines and output back to the host; the children it asked
//! for are made through its [`Spawner`] (`doer/spawned.rs`).

mod spawned;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Instant;

use hio_io::ConnId;
use hio_scheduler::{Context, Doer, DoerId, Failure, HookResult, Level, Spec};
use wasmtime::UpdateDeadline;
use wasmtime::component::ResourceAny;
use wasmtime::{Store, WasmCoreDump};

use crate::bindings::hio::doer::types::Value;
use crate::bindings::{DoerExports, DoerWorld};
use crate::budget::Budget;
use crate::charge;
use crate::failure::{CallFailure, Limit};
use crate::instance::{RecurFn, SharedInstance, enter, recur, refill};
use crate::stats::DoerStatsCell;
use crate::store::{DoerData, StoreData};
use crate::tape::Tape;
use crate::wasi::TymeCell;

/// Longest trap report logged (its backtrace names the guest's own
/// functions, and a stack overflow's runs to thousands of frames).
const MAX_REPORT: usize = 16 * 1024;

/// Makes the children a doer spawns: the plugins its grant names, each
/// instance set up as the doer's children are.
pub(crate) trait Spawner {
    /// The spec of child `full` (its name in the tree), an instance of the
    /// plugin granted as `plugin` with `options` (checked by the plugin's
    /// `validate` first), handed `conn`; why not, as the log says it.
    fn child(
        &self,
        plugin: &str,
        full: &str,
        options: Vec<(String, Value)>,
        conn: Option<ConnId>,
    ) -> Result<Spec, String>;
}

/// What a doer is made of besides its instance and its own state.
pub(crate) struct Making<'a> {
    /// Its restart attempt (names its core dump).
    pub attempt: u32,
    /// The options its `enter` gets.
    pub options: Vec<(String, Value)>,
    /// What each hook call may spend.
    pub budget: Budget,
    /// Tyme and tock for the guest, shared by the plugin's instances.
    pub now: TymeCell,
    /// The folder core dumps go to, if they are written.
    pub core_dumps: Option<&'a Path>,
    /// Where its call figures go, when they are kept.
    pub stats: Option<DoerStatsCell>,
    /// The plugins it may spawn; `None` when it may spawn none.
    pub spawner: Option<Box<dyn Spawner>>,
}

/// One doer of an instance, driven by the scheduler.
pub struct PluginDoer {
    inst: SharedInstance,
    /// Its own state while the host works on it; swapped into the store for
    /// its calls (`in_store`).
    mine: Box<DoerData>,
    /// Its state is in the store, `mine` holds the store's placeholder.
    in_store: bool,
    /// Other doers may share its instance (a share group's).
    shared: bool,
    /// The guest's doer, once `enter` made it (gone after `exit`), and its
    /// id, which `recur` takes.
    handle: Option<(ResourceAny, u32)>,
    /// Its instance's `recur`.
    recur: RecurFn,
    /// The doer's path, as failures of its instance name it.
    path: Rc<str>,
    options: Vec<(String, Value)>,
    budget: Budget,
    /// Where a core dump goes if this doer's call traps.
    core_dump: Option<PathBuf>,
    /// No more of its code runs: its instance trapped.
    poisoned: bool,
    /// Where its call figures go, when they are kept.
    stats: Option<DoerStatsCell>,
    /// The run's wire log, if it keeps or replays one.
    tape: Option<Tape>,
    /// Tyme and tock for the guest, shared by the plugin's instances.
    now: TymeCell,
    /// The children it spawned, by the name it gave them.
    children: BTreeMap<String, DoerId>,
    /// The plugins it may spawn (a child inherits its limits and grants,
    /// but no `spawn`).
    spawner: Option<Box<dyn Spawner>>,
}
impl PluginDoer {
    /// A doer of `inst` (made, or joined), with its own state `mine`.
    pub(crate) fn new(
        inst: SharedInstance,
        shared: bool,
        mine: DoerData,
        tape: Option<Tape>,
        making: Making<'_>,
    ) -> PluginDoer {
        let Making {
            attempt,
            options,
            budget,
            now,
            core_dumps,
            stats,
            spawner,
        } = making;
        // One file per doer path and attempt, in the folder given: `/`
        // becomes `+`, which no name holds, so no two doers share a file.
        let core_dump = core_dumps.map(|dir| {
            let path = mine.path.replace('/', "+");
            dir.join(format!("{path}.{attempt}.coredump"))
        });
        let recur = {
            let mut inst = inst.borrow_mut();
            inst.count(true);
            inst.recur
        };
        PluginDoer {
            inst,
            recur,
            path: Rc::from(mine.path.as_str()),
            mine: Box::new(mine),
            in_store: false,
            shared,
            handle: None,
            options,
            budget,
            core_dump,
            poisoned: false,
            stats,
            tape,
            now,
            children: BTreeMap::new(),
            spawner,
        }
    }

    /// Its own state (for the host's work outside its calls).
    pub(crate) fn data_mut(&mut self) -> &mut DoerData {
        self.take_back();
        &mut self.mine
    }

    /// Puts its own state in the store (`in_store`), for its calls, or
    /// back in `mine`. A doer alone in its instance leaves it in the store
    /// between quiet calls: the call path touches nothing more.
    fn place(&mut self, store: &mut Store<StoreData>, in_store: bool) {
        if self.in_store != in_store {
            std::mem::swap(&mut store.data_mut().doer, &mut self.mine);
            self.in_store = in_store;
        }
    }

    /// Its own state back in `mine`, for the host's work outside a call.
    fn take_back(&mut self) {
        if self.in_store {
            let inst = Rc::clone(&self.inst);
            let mut inst = inst.borrow_mut();
            self.place(&mut inst.store, false);
        }
    }

    /// One hook call: `hook` runs the guest with this doer's state in the
    /// store and the instance's exports. The instance is borrowed only for
    /// the guest's run: what the call left is delivered after, when the
    /// tree edits it asked for may run hooks of doers of the same instance.
    fn call<T>(
        &mut self,
        cx: &mut Context<'_>,
        name: &str,
        hook: impl FnOnce(&DoerWorld, &mut Store<StoreData>) -> wasmtime::Result<Result<T, String>>,
    ) -> HookResult<T> {
        if !self.children.is_empty() {
            self.take_back();
            self.prune_children(cx);
        }
        let inst_rc = Rc::clone(&self.inst);
        let mut guard = inst_rc.borrow_mut();
        let inst = &mut *guard;
        if let Some(by) = &inst.poisoned {
            // Another doer's call broke the instance: this one fails now,
            // and none of its code runs again.
            let failure = Failure(format!("its instance is poisoned: {by}"));
            self.poisoned = true;
            self.place(&mut inst.store, false);
            if let Some(stats) = &self.stats {
                stats.record_failure();
            }
            return Err(failure);
        }
        self.now.set(cx.tyme(), cx.tock());
        if std::mem::take(&mut inst.crossed) {
            inst.store.data().crossing.reset();
        }
        self.place(&mut inst.store, true);
        let before = charge::activity();
        let armed = self.arm_interrupt(&mut inst.store, cx, name);
        // The hook's outside calls as it left them (closing its children,
        // below, runs their hooks).
        let mut calls = 0;
        let result = match refill(&mut inst.store, &self.budget) {
            Ok(()) => {
                if armed {
                    inst.store.set_epoch_deadline(0);
                }
                // The clock and the fuel are read only when figures are kept.
                let start = self.stats.as_ref().map(|_| Instant::now());
                let r = hook(&inst.world, &mut inst.store);
                if let Some(tape) = &self.tape {
                    calls = tape.hook_calls();
                }
                // A trap: no more of its code runs, and what it asked for
                // in this call is not made (see `deliver_children`).
                self.poisoned |= r.is_err();
                if let (Some(stats), Some(start)) = (&self.stats, start) {
                    let used = self
                        .budget
                        .fuel
                        .saturating_sub(inst.store.get_fuel().unwrap_or(0));
                    let peak = inst.store.data().limits.peak as u64;
                    stats.record_call(start.elapsed(), used, peak);
                }
                r
            }
            Err(e) => Err(e),
        };
        inst.crossed = charge::activity() != before;
        // A quiet call that returned (the common case): nothing to deliver
        // and no limit gone over. In a shared instance its state goes back
        // to it, for the next doer's call; alone, it stays in the store.
        if self.shared {
            self.place(&mut inst.store, false);
        }
        let result = match result {
            Ok(Ok(v)) if !inst.crossed => return Ok(v),
            other => other,
        };
        self.place(&mut inst.store, false);
        // Listeners it handed to children this call are its own again from
        // its next call (a quiet call hands none over).
        self.mine.listeners.held_back.clear();
        // What it printed, as lines of its log (a call that handed the
        // host nothing printed nothing).
        let out = inst.crossed.then(|| {
            let data = inst.store.data_mut();
            [
                ("stdout", data.stdout.take()),
                ("stderr", data.stderr.take()),
            ]
        });
        let violation = inst.store.data_mut().violation.take();
        // A trap: its report, and the core dump's note, taken while the
        // store is at hand.
        let trapped = match &result {
            Err(e) => {
                let reason = CallFailure::from_error(e, &self.budget);
                inst.poisoned = Some(Rc::from(format!(
                    "trap in {} during {name}: {reason}",
                    self.path
                )));
                let fuel = self.budget.fuel;
                let used = fuel.saturating_sub(inst.store.get_fuel().unwrap_or(0));
                // An epoch interrupt leaves wasmtime's fuel counter where it
                // last flushed it, so it is not reported as a figure.
                let spent = if matches!(reason, CallFailure::Limit(Limit::WallTime(_))) {
                    format!("fuel used not known after an interrupt, limit {fuel}")
                } else {
                    format!("fuel used {used} of {fuel}")
                };
                let dump = self.core_dump(&mut inst.store, cx, name, e);
                Some((reason, spent, dump))
            }
            Ok(_) => None,
        };
        drop(guard);
        self.deliver(cx, out);
        let failure = match (result, violation, trapped) {
            (Err(e), _, Some((reason, spent, dump))) => {
                self.poisoned = true;
                if let (Some(tape), CallFailure::Limit(Limit::WallTime(_))) = (&self.tape, &reason)
                {
                    tape.interrupted(cx.path(), name, calls);
                }
                let mut report = format!(
                    "trap in {name} at tyme {} ({spent}): {reason}",
                    hio_scheduler::fmt_tyme(cx.tyme()),
                );
                if let Some(bt) = e.downcast_ref::<wasmtime::WasmBacktrace>() {
                    report.push_str(&format!("\n{bt}"));
                }
                cx.log(
                    Level::Error,
                    &hio_scheduler::cut(report.trim_end(), MAX_REPORT),
                );
                if let Some(note) = dump {
                    cx.log(Level::Error, &note);
                }
                reason
            }
            // Over a limit the host checks at its boundary: the guest got an
            // error back, and the call fails (the instance stays usable).
            (Ok(_), Some(limit), _) => {
                let failure = CallFailure::Limit(limit);
                cx.log(
                    Level::Error,
                    &format!(
                        "{name} at tyme {}: {failure}",
                        hio_scheduler::fmt_tyme(cx.tyme())
                    ),
                );
                failure
            }
            (Ok(Ok(v)), None, _) => return Ok(v),
            (Ok(Err(reason)), None, _) => CallFailure::guest(reason),
            (Err(e), _, None) => CallFailure::from_error(&e, &self.budget),
        };
        if let Some(stats) = &self.stats {
            stats.record_failure();
        }
        Err(Failure(failure.to_string()))
    }

    /// With a tape: the hook's network calls are counted from here, and a
    /// replay whose recording has the watchdog strike this hook arms the
    /// store to stop it at the same point (returns whether it did).
    fn arm_interrupt(&self, store: &mut Store<StoreData>, cx: &Context<'_>, hook: &str) -> bool {
        let Some(tape) = &self.tape else {
            return false;
        };
        tape.hook_start();
        let Some(calls) = tape.pending_interrupt(cx.path(), hook) else {
            return false;
        };
        let tape = tape.clone();
        // Called at every epoch check while armed (the deadline is 0):
        // once the hook has made its recorded calls, it stops there.
        store.epoch_deadline_callback(move |_| {
            Ok(if tape.hook_calls() >= calls {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Continue(0)
            })
        });
        true
    }

    /// Writes the core dump wasmtime took at the trap, where one was asked
    /// for: the log line that says so.
    fn core_dump(
        &self,
        store: &mut Store<StoreData>,
        cx: &Context<'_>,
        hook: &str,
        e: &wasmtime::Error,
    ) -> Option<String> {
        let (Some(file), Some(dump)) = (&self.core_dump, e.downcast_ref::<WasmCoreDump>()) else {
            return None;
        };
        let bytes = dump.serialize(store, &format!("{} {hook}", cx.path()));
        Some(match write_private(file, &bytes) {
            Ok(()) => format!("core dump written to {}", file.display()),
            Err(err) => format!("core dump not written to {}: {err}", file.display()),
        })
    }

    /// Hands what the call produced to the host: tock, log lines, output.
    fn deliver(&mut self, cx: &mut Context<'_>, out: Option<[(&str, crate::wasi::Captured); 2]>) {
        let data = &mut self.mine;
        if let Some(tock) = data.tock_set.take() {
            // The host checked the value when the guest set it.
            let _ = cx.set_tock(tock);
        }
        let logs = data.logs.take();
        for (level, message) in logs {
            cx.log(level, &message);
        }
        self.deliver_children(cx);
        for (name, captured) in out.into_iter().flatten() {
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
    /// Calls the component's `enter` directly, on a fresh fuel budget (see
    /// `bare_recur`).
    pub fn bare_enter(&mut self) -> Result<(), CallFailure> {
        let mut inst = self.inst.borrow_mut();
        let inst = &mut *inst;
        refill(&mut inst.store, &self.budget)
            .map_err(|e| CallFailure::from_error(&e, &self.budget))?;
        match enter(&inst.world, &mut inst.store, &self.options) {
            Ok(Ok(handle)) => {
                self.handle = Some(handle);
                Ok(())
            }
            Ok(Err(reason)) => Err(CallFailure::guest(reason)),
            Err(e) => Err(CallFailure::from_error(&e, &self.budget)),
        }
    }

    /// Calls the doer's `recur` directly: no scheduler, no fuel refill, no
    /// log delivery, no swap of its state. The floor a scheduled call is
    /// measured against in the benchmarks.
    pub fn bare_recur(&mut self, tyme: f64) -> Result<bool, CallFailure> {
        let Some(handle) = self.handle else {
            return Err(CallFailure::guest("no doer: enter did not succeed".into()));
        };
        let mut inst = self.inst.borrow_mut();
        let inst = &mut *inst;
        match recur(self.recur, &inst.world, &mut inst.store, handle, tyme) {
            Ok(r) => r.map_err(CallFailure::guest),
            Err(e) => Err(CallFailure::from_error(&e, &self.budget)),
        }
    }

    /// Calls method `f` of the guest's doer; `Ok(())` when there is none
    /// (its `enter` failed, or it has exited).
    fn method(
        &mut self,
        cx: &mut Context<'_>,
        name: &str,
        f: impl FnOnce(
            &DoerExports,
            &mut Store<StoreData>,
            ResourceAny,
        ) -> wasmtime::Result<Result<(), String>>,
    ) -> HookResult {
        let Some((handle, _)) = self.handle else {
            return Ok(());
        };
        self.call(cx, name, |w, s| f(&w.hio_doer_hooks().doer(), s, handle))
    }
}

impl Doer for PluginDoer {
    fn enter(&mut self, cx: &mut Context<'_>) -> HookResult {
        let options = std::mem::take(&mut self.options);
        let r = self.call(cx, "enter", |w, s| enter(w, s, &options));
        self.options = options;
        self.handle = Some(r?);
        Ok(())
    }

    fn recur(&mut self, cx: &mut Context<'_>, tyme: f64) -> HookResult<bool> {
        let Some(handle) = self.handle else {
            return Err(Failure("no doer: its enter did not succeed".into()));
        };
        let f = self.recur;
        self.call(cx, "recur", |w, s| recur(f, w, s, handle, tyme))
    }

    fn clean(&mut self, cx: &mut Context<'_>) -> HookResult {
        self.method(cx, "clean", |d, s, h| d.call_clean(s, h))
    }

    fn cease(&mut self, cx: &mut Context<'_>) -> HookResult {
        self.method(cx, "cease", |d, s, h| d.call_cease(s, h))
    }

    fn abort(&mut self, cx: &mut Context<'_>, reason: &str) -> HookResult {
        self.method(cx, "abort", |d, s, h| d.call_abort(s, h, reason).map(Ok))
    }

    fn exit(&mut self, cx: &mut Context<'_>) -> HookResult {
        // The guest's doer is dropped with its `exit`, in the same call.
        let r = self.method(cx, "exit", |d, s, h| {
            let r = d.call_exit(&mut *s, h)?;
            h.resource_drop(s)?;
            Ok(r)
        });
        self.handle = None;
        self.take_back();
        // Nothing outlives its doer: its children close with it, and its
        // connections (with its state) once flushed.
        self.remove_children(cx);
        r
    }

    fn poisoned(&self) -> bool {
        self.poisoned
    }
}

impl Drop for PluginDoer {
    /// A doer dropped before its `exit` (the tree torn down): the guest's
    /// doer goes with it, where its instance still runs code.
    fn drop(&mut self) {
        let Ok(mut inst) = self.inst.try_borrow_mut() else {
            return;
        };
        let inst = &mut *inst;
        inst.count(false);
        let Some((handle, _)) = self.handle.take() else {
            return;
        };
        if inst.poisoned.is_some() || refill(&mut inst.store, &self.budget).is_err() {
            return;
        }
        if !self.in_store {
            std::mem::swap(&mut inst.store.data_mut().doer, &mut self.mine);
        }
        if handle.resource_drop(&mut inst.store).is_err() {
            inst.poisoned = Some(Rc::from(format!(
                "trap in {} while its doer was dropped",
                self.path
            )));
        }
        // Its state leaves the store with it (its connections close).
        std::mem::swap(&mut inst.store.data_mut().doer, &mut self.mine);
        self.in_store = false;
    }
}

/// Writes `bytes` to `file`, mode 0600, never through a symbolic link (one
/// planted where the dump goes is an error, not a redirection).
fn write_private(file: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // O_NOFOLLOW is a small positive flag: the cast keeps its value.
        let nofollow = rustix::fs::OFlags::NOFOLLOW.bits() as i32;
        options.mode(0o600).custom_flags(nofollow);
    }
    options.open(file)?.write_all(bytes)
}
