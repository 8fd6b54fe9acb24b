//! [`PluginDoer`]: a Wasm component instance as a [`Doer`]. One `Store` per
//! instance; each hook call gets the fuel budget afresh, sees the current
//! tyme and tock, and hands its log lines and output back to the host; the
//! children it asked for are made through its [`Spawner`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use hio_io::ConnId;
use hio_scheduler::{Context, Doer, DoerId, Failure, HookResult, Level, Spec};
use wasmtime::UpdateDeadline;
use wasmtime::{Store, WasmCoreDump};

use crate::bindings::hio::doer::types::{Progress, Value};
use crate::bindings::{DoerWorld, DoerWorldPre};
use crate::budget::Budget;
use crate::charge;
use crate::failure::{CallFailure, Limit};
use crate::stats::DoerStatsCell;
use crate::store::StoreData;
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

/// What a doer instance is made of besides its store.
pub(crate) struct Making<'a> {
    /// The component, linked.
    pub pre: &'a DoerWorldPre<StoreData>,
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

/// A loaded component instance, driven by the scheduler.
pub struct PluginDoer {
    pub(crate) store: Store<StoreData>,
    world: DoerWorld,
    options: Vec<(String, Value)>,
    budget: Budget,
    /// Where a core dump goes if this instance traps.
    core_dump: Option<PathBuf>,
    poisoned: bool,
    /// Where its call figures go, when they are kept.
    stats: Option<DoerStatsCell>,
    /// The last call left the host something (see [`crate::charge`]): its
    /// byte count must start afresh before the next.
    crossed: bool,
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

/// Refills the store for one hook call: fuel, and the epoch deadline.
fn refill(store: &mut Store<StoreData>, budget: &Budget) -> wasmtime::Result<()> {
    store.set_fuel(budget.fuel)?;
    if let Some(w) = budget.watch {
        store.set_epoch_deadline(w.ticks);
    }
    Ok(())
}

impl PluginDoer {
    /// Instantiates the component in `store` (its start function runs
    /// here, outside any hook): the doer instance.
    pub(crate) fn new(
        mut store: Store<StoreData>,
        making: Making<'_>,
    ) -> Result<PluginDoer, CallFailure> {
        let Making {
            pre,
            attempt,
            options,
            budget,
            now,
            core_dumps,
            stats,
            spawner,
        } = making;
        refill(&mut store, &budget).map_err(|e| CallFailure::from_error(&e, &budget))?;
        // Its start function runs outside any hook: tyme and tock read 0,
        // not what the plugin's last call left in the shared cell.
        now.set(0.0, 0.0);
        let world = pre.instantiate(&mut store).map_err(|e| {
            CallFailure::Instantiate(Box::new(CallFailure::from_error(&e, &budget)))
        })?;
        // One file per doer path and attempt, in the folder given: `/`
        // becomes `+`, which no name holds, so no two doers share a file.
        let core_dump = core_dumps.map(|dir| {
            let path = store.data().path.replace('/', "+");
            dir.join(format!("{path}.{attempt}.coredump"))
        });
        let tape = store.data().tape.clone();
        Ok(PluginDoer {
            store,
            world,
            options,
            budget,
            core_dump,
            poisoned: false,
            stats,
            crossed: false,
            tape,
            now,
            children: BTreeMap::new(),
            spawner,
        })
    }

    /// Runs the component's `validate` on `options`. Bounded by its fuel,
    /// never by the wall clock: it ends the same way in a recording and in
    /// its replay.
    pub(crate) fn validate(mut self, options: &[(String, Value)]) -> Result<(), CallFailure> {
        let mut budget = self.budget;
        if let Some(w) = &mut budget.watch {
            w.ticks = 1 << 62;
        }
        refill(&mut self.store, &budget).map_err(|e| CallFailure::from_error(&e, &budget))?;
        // Before anything runs: tyme and tock read 0 (see `new`).
        self.now.set(0.0, 0.0);
        match self
            .world
            .hio_doer_hooks()
            .call_validate(&mut self.store, &options.to_vec())
        {
            Ok(r) => r.map_err(CallFailure::guest),
            Err(e) => Err(CallFailure::from_error(&e, &budget)),
        }
    }

    fn call<T>(
        &mut self,
        cx: &mut Context<'_>,
        name: &str,
        hook: impl FnOnce(&DoerWorld, &mut Store<StoreData>) -> wasmtime::Result<Result<T, String>>,
    ) -> HookResult<T> {
        self.prune_children(cx);
        self.now.set(cx.tyme(), cx.tock());
        if std::mem::take(&mut self.crossed) {
            self.store.data().crossing.reset();
        }
        if !self.store.data().listeners.held_back.is_empty() {
            self.store.data_mut().listeners.held_back.clear();
        }
        let before = charge::activity();
        let armed = self.arm_interrupt(cx, name);
        // The hook's outside calls as it left them (closing its children,
        // below, runs their hooks).
        let mut calls = 0;
        let result = match refill(&mut self.store, &self.budget) {
            Ok(()) => {
                if armed {
                    self.store.set_epoch_deadline(0);
                }
                // The clock and the fuel are read only when figures are kept.
                let start = self.stats.as_ref().map(|_| Instant::now());
                let r = hook(&self.world, &mut self.store);
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
                        .saturating_sub(self.store.get_fuel().unwrap_or(0));
                    let peak = self.store.data().limits.peak as u64;
                    stats.record_call(start.elapsed(), used, peak);
                }
                r
            }
            Err(e) => Err(e),
        };
        self.crossed = charge::activity() != before;
        // A quiet call that returned (the common case): nothing to deliver
        // and no limit gone over, so the store's data is not touched.
        let result = match result {
            Ok(Ok(v)) if !self.crossed => return Ok(v),
            other => other,
        };
        self.deliver(cx);
        let violation = self.store.data_mut().violation.take();
        let failure = match (result, violation) {
            // Over a limit the host checks at its boundary: the guest got an
            // error back, and the call fails (the instance stays usable).
            (Ok(_), Some(limit)) => {
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
            (Ok(Ok(v)), None) => return Ok(v),
            (Ok(Err(reason)), None) => CallFailure::guest(reason),
            (Err(e), _) => {
                self.poisoned = true;
                let reason = CallFailure::from_error(&e, &self.budget);
                if let (Some(tape), CallFailure::Limit(Limit::WallTime(_))) = (&self.tape, &reason)
                {
                    tape.interrupted(cx.path(), name, calls);
                }
                let fuel = self.budget.fuel;
                let used = fuel.saturating_sub(self.store.get_fuel().unwrap_or(0));
                // An epoch interrupt leaves wasmtime's fuel counter where it
                // last flushed it, so it is not reported as a figure.
                let spent = if matches!(reason, CallFailure::Limit(Limit::WallTime(_))) {
                    format!("fuel used not known after an interrupt, limit {fuel}")
                } else {
                    format!("fuel used {used} of {fuel}")
                };
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
                self.write_core_dump(cx, name, &e);
                reason
            }
        };
        if let Some(stats) = &self.stats {
            stats.record_failure();
        }
        Err(Failure(failure.to_string()))
    }

    /// With a tape: the hook's network calls are counted from here, and a
    /// replay whose recording has the watchdog strike this hook arms the
    /// store to stop it at the same point (returns whether it did).
    fn arm_interrupt(&mut self, cx: &Context<'_>, hook: &str) -> bool {
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
        self.store.epoch_deadline_callback(move |_| {
            Ok(if tape.hook_calls() >= calls {
                UpdateDeadline::Interrupt
            } else {
                UpdateDeadline::Continue(0)
            })
        });
        true
    }

    /// Writes the core dump wasmtime took at the trap, where one was asked for.
    fn write_core_dump(&mut self, cx: &mut Context<'_>, hook: &str, e: &wasmtime::Error) {
        let (Some(file), Some(dump)) = (&self.core_dump, e.downcast_ref::<WasmCoreDump>()) else {
            return;
        };
        let bytes = dump.serialize(&mut self.store, &format!("{} {hook}", cx.path()));
        match write_private(file, &bytes) {
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
        if let Some(tock) = data.tock_set.take() {
            // The host checked the value when the guest set it.
            let _ = cx.set_tock(tock);
        }
        let logs = data.logs.take();
        // A call that handed the host nothing printed nothing.
        let out = self.crossed.then(|| {
            [
                ("stdout", data.stdout.take()),
                ("stderr", data.stderr.take()),
            ]
        });
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
    /// Makes the spawns and removals the call asked for. A child goes beside
    /// this doer, in its parent, named `<this doer's name>.<name>`.
    fn deliver_children(&mut self, cx: &mut Context<'_>) {
        if self.poisoned {
            // Its `exit` will not run: its children go now, and the spawns
            // it asked for are not made.
            let data = self.store.data_mut();
            let cancelled = std::mem::take(&mut data.children.spawned);
            data.children.removed.clear();
            if let Some(net) = &data.net {
                for cid in cancelled.iter().filter_map(|r| r.conn) {
                    net.access.net.close(cid);
                }
            }
            self.remove_children(cx);
            return;
        }
        let data = self.store.data_mut();
        if data.children.spawned.is_empty() && data.children.removed.is_empty() {
            return;
        }
        let spawned = std::mem::take(&mut data.children.spawned);
        let removed = std::mem::take(&mut data.children.removed);
        let me = data.name.clone();
        for name in removed {
            if let Some(id) = self.children.remove(&name) {
                cx.remove(&[id]);
            }
        }
        let parent = cx.parent();
        for req in spawned {
            let full = format!("{me}.{}", req.name);
            let spawned = match &self.spawner {
                Some(spawner) => spawner.child(&req.plugin, &full, req.options, req.conn),
                None => Err(format!("plugin {:?} is not granted", req.plugin)),
            }
            .and_then(|spec| cx.extend(parent, vec![spec]).map_err(|e| e.to_string()));
            match spawned {
                Ok(ids) => {
                    if let Some(&id) = ids.first() {
                        self.children.insert(req.name, id);
                    }
                }
                Err(e) => {
                    self.store.data_mut().children.alive.remove(&req.name);
                    if let (Some(cid), Some(net)) = (req.conn, &self.store.data().net) {
                        net.access.net.close(cid);
                    }
                    cx.log(Level::Warn, &format!("spawn of {full:?} failed: {e}"));
                }
            }
        }
    }

    /// Removes every live child it spawned.
    fn remove_children(&mut self, cx: &mut Context<'_>) {
        self.prune_children(cx);
        let ids: Vec<DoerId> = std::mem::take(&mut self.children).into_values().collect();
        self.store.data_mut().children.alive.clear();
        if !ids.is_empty() {
            cx.remove(&ids);
        }
    }

    /// Forgets children that are no longer in the tree (done, failed and
    /// isolated, or removed by someone else), so their names are free again.
    fn prune_children(&mut self, cx: &Context<'_>) {
        if self.children.is_empty() {
            return;
        }
        let parent = cx.path().rsplit_once('/').map_or("", |(p, _)| p).to_owned();
        let me = self.store.data().name.clone();
        let gone: Vec<String> = self
            .children
            .iter()
            .filter(|(name, id)| {
                let path = if parent.is_empty() {
                    format!("{me}.{name}")
                } else {
                    format!("{parent}/{me}.{name}")
                };
                cx.find(&path) != Some(**id)
            })
            .map(|(name, _)| name.clone())
            .collect();
        let data = self.store.data_mut();
        for name in gone {
            self.children.remove(&name);
            data.children.alive.remove(&name);
        }
    }

    /// Calls the component's `enter` export directly (see `bare_recur`).
    pub fn bare_enter(&mut self) -> Result<(), CallFailure> {
        let options = self.options.clone();
        match self
            .world
            .hio_doer_hooks()
            .call_enter(&mut self.store, &options)
        {
            Ok(r) => r.map_err(CallFailure::guest),
            Err(e) => Err(CallFailure::from_error(&e, &self.budget)),
        }
    }

    /// Calls the component's `recur` export directly: no scheduler, no
    /// fuel refill, no log delivery. The floor a scheduled call is measured
    /// against in the benchmarks.
    pub fn bare_recur(&mut self, tyme: f64) -> Result<bool, CallFailure> {
        match recur(&self.world, &mut self.store, tyme) {
            Ok(r) => r.map_err(CallFailure::guest),
            Err(e) => Err(CallFailure::from_error(&e, &self.budget)),
        }
    }
}

impl Doer for PluginDoer {
    fn enter(&mut self, cx: &mut Context<'_>) -> HookResult {
        let options = std::mem::take(&mut self.options);
        let r = self.call(cx, "enter", |w, s| {
            w.hio_doer_hooks().call_enter(s, &options)
        });
        self.options = options;
        r
    }

    fn recur(&mut self, cx: &mut Context<'_>, tyme: f64) -> HookResult<bool> {
        self.call(cx, "recur", |w, s| recur(w, s, tyme))
    }

    fn clean(&mut self, cx: &mut Context<'_>) -> HookResult {
        self.call(cx, "clean", |w, s| w.hio_doer_hooks().call_clean(s))
    }

    fn cease(&mut self, cx: &mut Context<'_>) -> HookResult {
        self.call(cx, "cease", |w, s| w.hio_doer_hooks().call_cease(s))
    }

    fn abort(&mut self, cx: &mut Context<'_>, reason: &str) -> HookResult {
        self.call(cx, "abort", |w, s| {
            w.hio_doer_hooks().call_abort(s, reason).map(Ok)
        })
    }

    fn exit(&mut self, cx: &mut Context<'_>) -> HookResult {
        let r = self.call(cx, "exit", |w, s| w.hio_doer_hooks().call_exit(s));
        // Nothing outlives its doer: its children close with it, and its
        // connections (with its store) once flushed.
        self.remove_children(cx);
        r
    }

    fn poisoned(&self) -> bool {
        self.poisoned
    }
}

/// Calls `recur`; when it failed, `failure` for the reason (in the same
/// hook call: the fuel left pays for it).
fn recur(
    world: &DoerWorld,
    store: &mut Store<StoreData>,
    tyme: f64,
) -> wasmtime::Result<Result<bool, String>> {
    Ok(
        match world.hio_doer_hooks().call_recur(&mut *store, tyme)? {
            Progress::Running => Ok(false),
            Progress::Done => Ok(true),
            Progress::Failed => Err(world.hio_doer_hooks().call_failure(store)?),
        },
    )
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
