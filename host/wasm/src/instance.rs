//! [`Instance`]: a Wasm component instance, one `Store`, holding one doer
//! or many (a share group), and the calls every doer of it makes: `enter`
//! (with the doer's `id`) and `recur` by id. A trap poisons the instance:
//! each doer in it fails at its next call, with a reason naming the doer
//! whose call broke it (see `doer.rs`).

use std::cell::RefCell;
use std::rc::Rc;

use wasmtime::Store;
use wasmtime::component::{ComponentExportIndex, ResourceAny, TypedFunc};

use crate::bindings::hio::doer::types::{Progress, Value};
use crate::bindings::{DoerWorld, DoerWorldIndices, DoerWorldPre};
use crate::budget::Budget;
use crate::failure::CallFailure;
use crate::store::StoreData;
use crate::wasi::TymeCell;

/// The `recur` export, as the host calls it on every tick.
pub(crate) type RecurFn = TypedFunc<(u32, f64), (Progress,)>;

/// A component's exports as the host finds them in each instance: the
/// world's, and `recur`'s, looked up once per plugin.
#[derive(Clone)]
pub(crate) struct Exports {
    /// The component, linked.
    pub pre: DoerWorldPre<StoreData>,
    indices: DoerWorldIndices,
    recur: ComponentExportIndex,
}

impl Exports {
    /// The exports of the linked component `pre`.
    pub(crate) fn new(pre: DoerWorldPre<StoreData>) -> wasmtime::Result<Exports> {
        let indices = DoerWorldIndices::new(pre.instance_pre())?;
        let component = pre.instance_pre().component();
        let hooks = crate::bindings::interface("hooks");
        let recur = component
            .get_export_index(None, &hooks)
            .and_then(|i| component.get_export_index(Some(&i), "recur"))
            .ok_or_else(|| wasmtime::format_err!("no export {hooks}#recur"))?;
        Ok(Exports {
            pre,
            indices,
            recur,
        })
    }
}

/// One component instance: its store and its exports, and the doers it
/// holds (one, or a share group's).
pub struct Instance {
    pub(crate) store: Store<StoreData>,
    pub(crate) world: DoerWorld,
    /// `recur`, typed once: every doer of the instance keeps a copy.
    pub(crate) recur: RecurFn,
    /// Why none of its code runs any more: the first trap, naming the doer
    /// whose call broke it.
    pub(crate) poisoned: Option<Rc<str>>,
    /// The last call left the host something (see [`crate::charge`]): its
    /// byte count must start afresh before the next.
    pub(crate) crossed: bool,
    /// The doers it holds.
    members: usize,
}

/// Component-model handles an instance may hold besides its doers' (its
/// guest's own resources): wasmtime's default store-wide cap.
const GUEST_HANDLES: usize = 100_000;

/// A shared handle on an instance: its doers each hold one.
pub(crate) type SharedInstance = Rc<RefCell<Instance>>;

impl Instance {
    /// Instantiates the component in `store` (its start function runs
    /// here, outside any hook, on `budget`).
    pub(crate) fn new(
        mut store: Store<StoreData>,
        exports: &Exports,
        budget: &Budget,
        now: &TymeCell,
    ) -> Result<Instance, CallFailure> {
        refill(&mut store, budget).map_err(|e| CallFailure::from_error(&e, budget))?;
        // Its start function runs outside any hook: tyme and tock read 0,
        // not what the plugin's last call left in the shared cell.
        now.set(0.0, 0.0);
        let mut made = Self::instantiate(&mut store, exports);
        // The first instance of a module makes its memory image: a sealed
        // memfd. Linux refuses the seal (EBUSY) while the new pages are
        // briefly referenced elsewhere (seen once under load, with a
        // Python component's 12 MiB image); wasmtime makes the image
        // afresh on the next try.
        for _ in 0..3 {
            match &made {
                Err(e) if format!("{e:#}").contains("cannot add seals to the memfd") => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                    made = Self::instantiate(&mut store, exports);
                }
                _ => break,
            }
        }
        let (world, recur) = made
            .map_err(|e| CallFailure::Instantiate(Box::new(CallFailure::from_error(&e, budget))))?;
        Ok(Instance {
            store,
            world,
            recur,
            poisoned: None,
            crossed: false,
            members: 0,
        })
    }

    /// Counts one more (`join`) or one fewer doer: each holds its `doer`
    /// handle, and one more while a call lends it, on top of what the
    /// guest may hold of its own.
    pub(crate) fn count(&mut self, join: bool) {
        if join {
            self.members += 1;
        } else {
            self.members = self.members.saturating_sub(1);
        }
        let cap = GUEST_HANDLES.saturating_add(self.members.saturating_mul(2));
        self.store.set_max_component_handles(cap);
    }

    /// The component's instance in `store`: the world's exports and `recur`.
    fn instantiate(
        store: &mut Store<StoreData>,
        exports: &Exports,
    ) -> wasmtime::Result<(DoerWorld, RecurFn)> {
        let instance = exports.pre.instance_pre().instantiate(&mut *store)?;
        let world = exports.indices.load(&mut *store, &instance)?;
        let recur = instance.get_typed_func(&mut *store, exports.recur)?;
        Ok((world, recur))
    }

    /// True once a trap stopped it.
    pub(crate) fn is_poisoned(&self) -> bool {
        self.poisoned.is_some()
    }

    /// Runs the component's `validate` on `options`. Bounded by its fuel,
    /// never by the wall clock: it ends the same way in a recording and in
    /// its replay. A trap poisons the instance.
    pub(crate) fn validate(
        &mut self,
        options: &[(String, Value)],
        budget: &Budget,
        now: &TymeCell,
    ) -> Result<(), CallFailure> {
        let mut budget = *budget;
        if let Some(w) = &mut budget.watch {
            w.ticks = 1 << 62;
        }
        refill(&mut self.store, &budget).map_err(|e| CallFailure::from_error(&e, &budget))?;
        // Before anything runs: tyme and tock read 0 (see `new`).
        now.set(0.0, 0.0);
        match self
            .world
            .hio_doer_hooks()
            .call_validate(&mut self.store, &options.to_vec())
        {
            Ok(r) => r.map_err(CallFailure::guest),
            Err(e) => {
                self.poisoned = Some(Rc::from("a trap in validate"));
                Err(CallFailure::from_error(&e, &budget))
            }
        }
    }
}

/// Refills the store for one hook call: fuel, and the epoch deadline.
pub(crate) fn refill(store: &mut Store<StoreData>, budget: &Budget) -> wasmtime::Result<()> {
    store.set_fuel(budget.fuel)?;
    if let Some(w) = budget.watch {
        store.set_epoch_deadline(w.ticks);
    }
    Ok(())
}

/// Calls the doer's static `enter`, then its `id` (once: `recur` takes it).
pub(crate) fn enter(
    world: &DoerWorld,
    store: &mut Store<StoreData>,
    options: &Vec<(String, Value)>,
) -> wasmtime::Result<Result<(ResourceAny, u32), String>> {
    let doer = world.hio_doer_hooks().doer();
    Ok(match doer.call_enter(&mut *store, options)? {
        Ok(handle) => Ok((handle, doer.call_id(store, handle)?)),
        Err(reason) => Err(reason),
    })
}

/// Calls `recur`; when it failed, `failure` for the reason (in the same
/// hook call: the fuel left pays for it).
pub(crate) fn recur(
    f: RecurFn,
    world: &DoerWorld,
    store: &mut Store<StoreData>,
    (handle, id): (ResourceAny, u32),
    tyme: f64,
) -> wasmtime::Result<Result<bool, String>> {
    Ok(match f.call(&mut *store, (id, tyme))?.0 {
        Progress::Running => Ok(false),
        Progress::Done => Ok(true),
        Progress::Failed => Err(world.hio_doer_hooks().doer().call_failure(store, handle)?),
    })
}
