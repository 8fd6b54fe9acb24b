//! [`Plugin`]: a compiled component ready to make doer instances; the
//! [`InstanceConfig`] each instance is made with (its limits and grants),
//! and the [`Spawns`] among its grants, the plugins its children come from.
//! Here a configuration becomes a store; the instance is `instance.rs`'s, its doers `doer.rs`'s.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use hio_io::ConnId;

use hio_scheduler::{DeckAccess, Spec};
use wasmtime::{Engine, Store, StoreLimitsBuilder};

use crate::bindings::hio::doer::types::Value;
use crate::budget::{Budget, Watch};
use crate::charge::{Crossing, DEFAULT_HOST_BYTES};
use crate::doer::{Making, PluginDoer, Spawner};
use crate::failure::CallFailure;
use crate::iface::children::ChildState;
use crate::iface::handles::{NetAccess, NetDoer};
use crate::instance::{Exports, Instance, SharedInstance};
use crate::stats::StatsHandle;
use crate::store::{DoerData, Limiter, StoreData};
use crate::tape::Tape;
use crate::wasi::{self, WallStart};

/// The plugins a doer may spawn as children, by the name its grant gives.
#[derive(Clone, Default)]
pub struct Spawns(pub Rc<BTreeMap<String, Rc<Plugin>>>);

impl fmt::Debug for Spawns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// The plugins a doer may spawn, and the configuration its children get:
/// its own, but with no `spawn` (a plugin granted to spawn itself would
/// otherwise grow the tree without bound).
struct ChildPlugins {
    spawns: Spawns,
    config: InstanceConfig,
}

impl Spawner for ChildPlugins {
    fn child(
        &self,
        plugin: &str,
        full: &str,
        options: Vec<(String, Value)>,
        conn: Option<ConnId>,
    ) -> Result<Spec, String> {
        let Some(p) = self.spawns.0.get(plugin) else {
            return Err(format!("plugin {plugin:?} is not granted"));
        };
        p.validate(&options, &self.config)
            .map_err(|e| format!("{plugin} refused the options: {e}"))?;
        Ok(p.spec_handed(full, 0.0, options, self.config.clone(), conn))
    }
}

/// How one doer instance is set up.
#[derive(Debug, Clone)]
pub struct InstanceConfig {
    /// The run's seed (each instance's is derived from it, its path and attempt).
    pub seed: u64,
    /// Fuel per hook call.
    pub fuel: u64,
    /// Linear memory cap in bytes.
    pub memory: u64,
    /// Table elements cap.
    pub table_elements: usize,
    /// Largest deck item it may push or pull, in bytes.
    pub message: u64,
    /// Host-side handles (WASI resources) it may hold at once.
    pub handles: u32,
    /// Bytes one hook call may hand the host (log messages, deck names and
    /// items, guest output).
    pub host_bytes: u64,
    /// The decks it may touch.
    pub decks: DeckAccess,
    /// Where its call figures go, when `record_stats` is set.
    pub stats: StatsHandle,
    /// Keep per-call figures in `stats` (calls, wall time in the guest,
    /// fuel, peak memory, failures): two clock reads and a shared counter
    /// per call. Off, a call touches none of them.
    pub record_stats: bool,
    /// Its network grants, if it has any.
    pub net: Option<NetAccess>,
    /// Plugins it may spawn as children.
    pub spawns: Spawns,
    /// Children it may have alive at once.
    pub children: u32,
    /// What the WASI wall clock adds tyme to: the Unix epoch in simulated
    /// time, the run's start in real mode.
    pub wall_start: WallStart,
    /// The run's wire log, recording or replaying its network calls.
    pub tape: Option<Tape>,
    /// Its share group: doers of one plugin with the same value live in
    /// one instance (made by the first of them, with its limits); `None`:
    /// an instance of its own.
    pub share: Option<String>,
}

impl Default for InstanceConfig {
    fn default() -> Self {
        InstanceConfig {
            seed: 0,
            fuel: 10_000_000,
            memory: crate::EngineLimits::default().max_memory,
            table_elements: 20_000,
            message: 64 << 10,
            handles: 1024,
            host_bytes: DEFAULT_HOST_BYTES,
            decks: DeckAccess::default(),
            stats: StatsHandle::default(),
            record_stats: false,
            net: None,
            spawns: Spawns::default(),
            children: 64,
            wall_start: WallStart::default(),
            tape: None,
            share: None,
        }
    }
}

/// A connection handed to a child not made yet. If no instance ever takes
/// it (the child failed to instantiate and was dropped), it closes when the
/// child's spec goes.
struct Handed {
    net: Option<hio_io::Net>,
    conn: Cell<Option<ConnId>>,
}

impl Drop for Handed {
    fn drop(&mut self) {
        if let (Some(net), Some(cid)) = (&self.net, self.conn.take()) {
            net.close(cid);
        }
    }
}

/// A compiled component, ready to make doer instances.
pub struct Plugin {
    path: PathBuf,
    engine: Engine,
    exports: Exports,
    watch: Option<Watch>,
    core_dumps: Option<Rc<Path>>,
    /// The tyme its instances' clocks read, set before each hook call: one
    /// for all of them, so a call writes a line already in cache. (A
    /// `Plugin` stays on one thread, and a call runs to its end before the
    /// next is made.)
    tyme: wasi::TymeCell,
    /// Its share groups' instances: each kept for the run (a group whose
    /// doers come and go, children per connection, say, is not made
    /// afresh each time), replaced after a trap.
    groups: RefCell<BTreeMap<String, Group>>,
    /// The instance `validate` runs in, kept while it does not trap, with
    /// the memory limit it was made with.
    validator: RefCell<Option<(u64, Instance)>>,
}

/// What another thread needs to make the same [`Plugin`]: the compiled and
/// linked component, shared, not compiled again. A crew's doers get their
/// plugins from seeds, on the crew's thread (a `Plugin` and its instances
/// stay on the thread that made them).
#[derive(Clone)]
pub struct PluginSeed {
    path: PathBuf,
    engine: Engine,
    exports: Exports,
    watch: Option<Watch>,
    core_dumps: Option<PathBuf>,
}

impl PluginSeed {
    /// A fresh plugin of the same component, with no instance yet.
    pub fn plugin(&self) -> Plugin {
        Plugin::new(
            self.path.clone(),
            self.engine.clone(),
            self.exports.clone(),
            self.watch,
            self.core_dumps.as_deref().map(Rc::<Path>::from),
        )
    }

    /// The component file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// A share group's instance, and how many it has had (each fresh one,
/// after a trap, gets its own seed).
#[derive(Default)]
struct Group {
    instance: Option<SharedInstance>,
    made: u32,
}

impl Plugin {
    pub(crate) fn new(
        path: PathBuf,
        engine: Engine,
        exports: Exports,
        watch: Option<Watch>,
        core_dumps: Option<Rc<Path>>,
    ) -> Plugin {
        Plugin {
            path,
            engine,
            exports,
            watch,
            core_dumps,
            tyme: wasi::TymeCell::default(),
            groups: RefCell::default(),
            validator: RefCell::default(),
        }
    }

    /// What another thread needs to make this plugin again.
    pub fn seed(&self) -> PluginSeed {
        PluginSeed {
            path: self.path.clone(),
            engine: self.engine.clone(),
            exports: self.exports.clone(),
            watch: self.watch,
            core_dumps: self.core_dumps.as_deref().map(Path::to_path_buf),
        }
    }

    fn budget(&self, cfg: &InstanceConfig) -> Budget {
        Budget {
            fuel: cfg.fuel,
            memory: cfg.memory,
            message: cfg.message,
            handles: cfg.handles,
            watch: self.watch,
        }
    }

    /// The file it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A fresh store for one instance; `key` and `attempt` seed it.
    fn store(&self, key: &str, attempt: u32, cfg: &InstanceConfig) -> Store<StoreData> {
        let tyme = self.tyme.clone();
        let crossing = Crossing::new(cfg.host_bytes);
        let stdout = wasi::GuestOutput::new(&crossing);
        let stderr = wasi::GuestOutput::new(&crossing);
        let seed = wasi::seed(cfg.seed, key, attempt);
        let wasi = wasi::context(&tyme, &cfg.wall_start, seed, &stdout, &stderr);
        let limits = StoreLimitsBuilder::new()
            .memory_size(usize::try_from(cfg.memory).unwrap_or(usize::MAX))
            .table_elements(cfg.table_elements)
            .trap_on_grow_failure(true)
            .build();
        let limits = Limiter {
            inner: limits,
            memory: cfg.memory,
            peak: 0,
        };
        let mut table = wasmtime::component::ResourceTable::new();
        table.set_max_capacity(usize::try_from(cfg.handles).unwrap_or(usize::MAX));
        let mut store = Store::new(
            &self.engine,
            StoreData {
                wasi,
                table,
                violation: None,
                limits,
                tyme,
                crossing,
                stdout,
                stderr,
                tape: cfg.tape.clone(),
                doer: Box::new(DoerData::none()),
            },
        );
        store.limiter(|s| &mut s.limits);
        store
    }

    /// The state the host keeps for the doer at `path`.
    fn doer_data(path: &str, cfg: &InstanceConfig) -> DoerData {
        DoerData {
            message: cfg.message,
            decks: cfg.decks.clone(),
            name: path.rsplit('/').next().unwrap_or(path).to_owned(),
            path: path.to_owned(),
            net: cfg.net.as_ref().map(|access| NetDoer {
                owner: access.net.owner(access.limits),
                access: access.clone(),
            }),
            children: ChildState {
                spawnable: cfg.spawns.0.keys().cloned().collect(),
                max: cfg.children,
                ..Default::default()
            },
            ..DoerData::none()
        }
    }

    /// A fresh instance, seeded by `key` and `attempt`.
    fn fresh(
        &self,
        key: &str,
        attempt: u32,
        cfg: &InstanceConfig,
    ) -> Result<Instance, CallFailure> {
        let store = self.store(key, attempt, cfg);
        Instance::new(store, &self.exports, &self.budget(cfg), &self.tyme)
    }

    /// The instance the doer at `path` (restart `attempt`) lives in: its
    /// share group's, made if the group has none or its last one trapped,
    /// or one of its own; and its name in `--stats` (`own`, `<group>#<n>`).
    fn instance_for(
        &self,
        path: &str,
        attempt: u32,
        cfg: &InstanceConfig,
    ) -> Result<(SharedInstance, String), CallFailure> {
        let Some(share) = &cfg.share else {
            let inst = self.fresh(path, attempt, cfg)?;
            return Ok((Rc::new(RefCell::new(inst)), "own".to_owned()));
        };
        let mut groups = self.groups.borrow_mut();
        let group = groups.entry(share.clone()).or_default();
        if let Some(inst) = &group.instance
            && !inst.borrow().is_poisoned()
        {
            return Ok((Rc::clone(inst), format!("{share}#{}", group.made - 1)));
        }
        // Seeded by the group's name and how many it has had, so a run
        // makes the same instances whichever doer comes first.
        let inst = self.fresh(&format!("share:{share}"), group.made, cfg)?;
        let name = format!("{share}#{}", group.made);
        group.made += 1;
        let inst = Rc::new(RefCell::new(inst));
        group.instance = Some(Rc::clone(&inst));
        Ok((inst, name))
    }

    /// Makes the doer at `path` (restart `attempt`): in a fresh instance,
    /// or in its share group's.
    pub fn instantiate(
        &self,
        path: &str,
        attempt: u32,
        options: Vec<(String, Value)>,
        cfg: &InstanceConfig,
    ) -> Result<PluginDoer, CallFailure> {
        let (inst, name) = self.instance_for(path, attempt, cfg)?;
        let stats = cfg
            .record_stats
            .then(|| cfg.stats.cell(path, attempt, &name));
        let spawner = (!cfg.spawns.0.is_empty()).then(|| {
            Box::new(ChildPlugins {
                spawns: cfg.spawns.clone(),
                config: InstanceConfig {
                    spawns: Spawns::default(),
                    ..cfg.clone()
                },
            }) as Box<dyn Spawner>
        });
        let making = Making {
            attempt,
            options,
            budget: self.budget(cfg),
            now: self.tyme.clone(),
            core_dumps: self.core_dumps.as_deref(),
            stats,
            spawner,
        };
        Ok(PluginDoer::new(
            inst,
            cfg.share.is_some(),
            Self::doer_data(path, cfg),
            cfg.tape.clone(),
            making,
        ))
    }

    /// Runs the plugin's `validate` on `options`, in an instance kept for
    /// it (a fresh one after a trap, or for another memory limit).
    pub fn validate(
        &self,
        options: &[(String, Value)],
        cfg: &InstanceConfig,
    ) -> Result<(), CallFailure> {
        // It touches no deck and makes no network call (the tree does not
        // exist yet), and it is not on the run's wire log.
        let cfg = InstanceConfig {
            stats: StatsHandle::default(),
            decks: DeckAccess::default(),
            net: None,
            spawns: Spawns::default(),
            tape: None,
            share: None,
            ..cfg.clone()
        };
        let mut validator = self.validator.borrow_mut();
        let reuse = matches!(&*validator, Some((memory, inst)) if *memory == cfg.memory && !inst.is_poisoned());
        if !reuse {
            *validator = Some((cfg.memory, self.fresh("validate", 0, &cfg)?));
        }
        let (_, inst) = validator.as_mut().expect("made above");
        inst.validate(options, &self.budget(&cfg), &self.tyme)
    }

    /// A leaf spec whose instances are made from this plugin.
    pub fn spec(
        self: &Rc<Self>,
        name: &str,
        tock: f64,
        options: Vec<(String, Value)>,
        cfg: InstanceConfig,
    ) -> Spec {
        self.spec_handed(name, tock, options, cfg, None)
    }

    /// As [`Plugin::spec`], with a connection handed to the first instance
    /// (a restarted one starts without it: it closed with the first).
    pub(crate) fn spec_handed(
        self: &Rc<Self>,
        name: &str,
        tock: f64,
        options: Vec<(String, Value)>,
        cfg: InstanceConfig,
        handed: Option<ConnId>,
    ) -> Spec {
        let plugin = Rc::clone(self);
        let handed = Handed {
            net: cfg.net.as_ref().map(|a| a.net.clone()),
            conn: Cell::new(handed),
        };
        Spec::with_factory(name, tock, move |birth| {
            let mut doer = plugin
                .instantiate(birth.path, birth.attempt, options.clone(), &cfg)
                .map_err(|e| e.to_string())?;
            if let Some(cid) = handed.conn.take() {
                let data = doer.data_mut();
                if let Some(net) = &data.net {
                    net.access.net.give(cid, &net.owner);
                    data.children.handed = Some(cid);
                }
            }
            Ok(Box::new(doer) as Box<dyn hio_scheduler::Doer>)
        })
    }
}

#[cfg(test)]
mod send {
    fn is_send_sync<T: Send + Sync>() {}

    #[test]
    fn a_seed_crosses_threads() {
        is_send_sync::<super::PluginSeed>();
    }
}
