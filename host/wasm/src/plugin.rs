//! [`Plugin`]: a compiled component ready to make doer instances; the
//! [`InstanceConfig`] each instance is made with (its limits and grants),
//! and the [`Spawns`] among its grants, the plugins its children come from.
//! Here a configuration becomes a store; the instance is `instance.rs`'s.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use hio_io::ConnId;

use hio_scheduler::{DeckAccess, Spec};
use wasmtime::{Engine, Store, StoreLimitsBuilder};

use crate::bindings::DoerWorldPre;
use crate::bindings::hio::doer::types::Value;
use crate::budget::{Budget, Watch};
use crate::charge::{Crossing, DEFAULT_HOST_BYTES};
use crate::failure::CallFailure;
use crate::iface::children::ChildState;
use crate::iface::handles::{NetAccess, NetDoer};
use crate::instance::{Making, PluginDoer, Spawner};
use crate::stats::StatsHandle;
use crate::store::{Limiter, StoreData};
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
    pre: DoerWorldPre<StoreData>,
    watch: Option<Watch>,
    core_dumps: Option<Rc<Path>>,
    /// The tyme its instances' clocks read, set before each hook call: one
    /// for all of them, so a call writes a line already in cache. (A
    /// `Plugin` stays on one thread, and a call runs to its end before the
    /// next is made.)
    tyme: wasi::TymeCell,
}

impl Plugin {
    pub(crate) fn new(
        path: PathBuf,
        engine: Engine,
        pre: DoerWorldPre<StoreData>,
        watch: Option<Watch>,
        core_dumps: Option<Rc<Path>>,
    ) -> Plugin {
        Plugin {
            path,
            engine,
            pre,
            watch,
            core_dumps,
            tyme: wasi::TymeCell::default(),
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

    fn store(&self, path: &str, attempt: u32, cfg: &InstanceConfig) -> Store<StoreData> {
        let tyme = self.tyme.clone();
        let crossing = Crossing::new(cfg.host_bytes);
        let stdout = wasi::GuestOutput::new(&crossing);
        let stderr = wasi::GuestOutput::new(&crossing);
        let seed = wasi::seed(cfg.seed, path, attempt);
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
                message: cfg.message,
                violation: None,
                limits,
                tyme,
                tock_set: None,
                logs: Default::default(),
                refusals: Default::default(),
                crossing,
                decks: cfg.decks.clone(),
                stdout,
                stderr,
                name: path.rsplit('/').next().unwrap_or(path).to_owned(),
                path: path.to_owned(),
                tape: cfg.tape.clone(),
                net: cfg.net.as_ref().map(|access| NetDoer {
                    owner: access.net.owner(access.limits),
                    access: access.clone(),
                }),
                listeners: Default::default(),
                children: ChildState {
                    spawnable: cfg.spawns.0.keys().cloned().collect(),
                    max: cfg.children,
                    ..Default::default()
                },
            },
        );
        store.limiter(|s| &mut s.limits);
        store
    }

    /// Makes a fresh instance for the doer at `path` (restart `attempt`).
    pub fn instantiate(
        &self,
        path: &str,
        attempt: u32,
        options: Vec<(String, Value)>,
        cfg: &InstanceConfig,
    ) -> Result<PluginDoer, CallFailure> {
        let stats = cfg.record_stats.then(|| cfg.stats.cell(path, attempt));
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
            pre: &self.pre,
            attempt,
            options,
            budget: self.budget(cfg),
            now: self.tyme.clone(),
            core_dumps: self.core_dumps.as_deref(),
            stats,
            spawner,
        };
        PluginDoer::new(self.store(path, attempt, cfg), making)
    }

    /// Runs the plugin's `validate` on `options` in a throwaway instance.
    pub fn validate(
        &self,
        options: &[(String, Value)],
        cfg: &InstanceConfig,
    ) -> Result<(), CallFailure> {
        // Its figures go nowhere: `validate` is not a doer of the run; and
        // it touches no deck: the tree does not exist yet.
        let cfg = InstanceConfig {
            stats: StatsHandle::default(),
            decks: DeckAccess::default(),
            net: None,
            spawns: Spawns::default(),
            // Nor is it on the run's wire log: it makes no network call.
            tape: None,
            ..cfg.clone()
        };
        self.instantiate("validate", 0, Vec::new(), &cfg)?
            .validate(options)
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
                let data = doer.store.data_mut();
                if let Some(net) = &data.net {
                    net.access.net.give(cid, &net.owner);
                    data.children.handed = Some(cid);
                }
            }
            Ok(Box::new(doer) as Box<dyn hio_scheduler::Doer>)
        })
    }
}
