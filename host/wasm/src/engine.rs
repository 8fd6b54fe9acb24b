//! Loading plugins by path: one engine, each component compiled once (and
//! cached on disk), one `InstancePre` per component.

use std::io;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use wasmtime::component::{Component, Linker};
use wasmtime::{
    Cache, CacheConfig, Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig,
};

use crate::bindings::{DoerWorldPre, PACKAGE};
use crate::budget::Watch;
use crate::iface;
use crate::store::StoreData;
use crate::wasi;

/// Linear memories a component may define (a Rust guest has one).
pub const MAX_MEMORIES: u32 = 2;
/// Tables a component may define (its core modules and the adapter shims).
pub const MAX_TABLES: u32 = 16;
/// Core instances a component may make (its modules and shims).
pub const CORE_INSTANCES: u32 = 16;

/// Engine-wide settings, fixed for a run.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineLimits {
    /// The slot every doer's linear memory fits in, in bytes.
    pub max_memory: u64,
    /// Wasm stack per call, in bytes.
    pub max_wasm_stack: usize,
    /// Table elements per table.
    pub max_table_elements: usize,
    /// Doer instances the pooling allocator has slots for (live at once).
    pub slots: u32,
    /// Wall-time budget per hook call, enforced by epoch interruption (the
    /// one limit that is not deterministic; real mode only). `None`: off.
    pub watchdog: Option<Duration>,
    /// Where a core dump of each trapped instance is written; `None`: none.
    pub core_dumps: Option<PathBuf>,
    /// A replay of a wire log: the watchdog's budget and epoch checks stay
    /// (the code is the recording's, and so is a failure's reason), but no
    /// thread advances the epoch; the replay's tape stops a hook where the
    /// recording's watchdog struck.
    pub replay: bool,
}

impl Default for EngineLimits {
    fn default() -> Self {
        EngineLimits {
            // A Python doer (componentize-py) starts with 12.4 MiB and a
            // JavaScript one (componentize-js) with 9.1 MiB; 64 MiB leaves
            // either room to work. A Rust or C doer starts near 1 MiB.
            max_memory: 64 << 20,
            max_wasm_stack: 512 << 10,
            max_table_elements: 20_000,
            slots: 1024,
            watchdog: None,
            core_dumps: None,
            replay: false,
        }
    }
}

/// The watchdog's budget per hook call in real mode, unless the manifest
/// sets one (`[engine] watchdog`, 0 turns it off).
pub const DEFAULT_WATCHDOG: Duration = Duration::from_secs(1);

impl EngineLimits {
    /// These limits as `hio run` sets them for a tree of `doers` leaves: a
    /// pool slot for every doer and a few for `validate`'s throwaway
    /// instances, and in `real` mode the watchdog (by default
    /// [`DEFAULT_WATCHDOG`]). The benchmarks measure with these.
    pub fn for_run(self, doers: usize, real: bool) -> EngineLimits {
        let doers = u32::try_from(doers).unwrap_or(u32::MAX);
        EngineLimits {
            slots: doers.saturating_add(16),
            watchdog: real
                .then(|| self.watchdog.unwrap_or(DEFAULT_WATCHDOG))
                .filter(|d| !d.is_zero()),
            ..self
        }
    }
}

/// Why a plugin could not be loaded. Each names the file.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file does not exist.
    #[error("{0}: no such file")]
    Missing(PathBuf),
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// Not a WebAssembly binary.
    #[error("{0}: not a WebAssembly file (it does not start with \\0asm)")]
    NotWasm(PathBuf),
    /// A core module where a component is needed.
    #[error(
        "{0}: a core WebAssembly module, not a component; build it for the \
         wasm32-wasip2 target (cargo build --target wasm32-wasip2), or wrap it \
         with `wasm-tools component new`"
    )]
    CoreModule(PathBuf),
    /// The component is malformed or fails to compile.
    #[error("{path}: invalid component: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What wasmtime said.
        reason: String,
    },
    /// It imports something the host does not offer.
    #[error("{path}: {reason}")]
    Import {
        /// The file.
        path: PathBuf,
        /// The import, as wasmtime names it.
        reason: String,
    },
    /// Its exports do not match the `hio:doer` world.
    #[error("{path}: does not export the {PACKAGE} world: {reason}")]
    Exports {
        /// The file.
        path: PathBuf,
        /// What is missing or mistyped.
        reason: String,
    },
    /// It needs more than the engine allows (memories, tables, their sizes).
    #[error("{path}: refused: {reason}")]
    TooBig {
        /// The file.
        path: PathBuf,
        /// Which limit, and by how much.
        reason: String,
    },
    /// The engine or its cache could not be set up.
    #[error("plugin engine: {0}")]
    Engine(String),
    /// The kernel would refuse the memory mappings this many doers need.
    #[error("{0}")]
    MapCount(String),
}

/// Kernel memory mappings one live doer costs (its linear memory's image,
/// accessible and reserved parts, its tables), rounded up.
pub const MAPS_PER_DOER: u64 = 4;
/// Mappings the rest of the process may use.
const MAPS_BASE: u64 = 4096;

/// The kernel's `vm.max_map_count`, where it can be read (Linux).
pub fn max_map_count() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
}

/// Whether `have` (a `vm.max_map_count`) leaves room for `slots` live
/// doers; when not, says how to raise it.
pub fn map_count_fits(slots: u32, have: u64) -> Result<(), String> {
    let needed = u64::from(slots) * MAPS_PER_DOER + MAPS_BASE;
    if needed <= have {
        return Ok(());
    }
    let suggest = needed.next_power_of_two();
    Err(format!(
        "{slots} doer slots need about {needed} kernel memory mappings, but \
         vm.max_map_count is {have}; raise it with `sudo sysctl -w vm.max_map_count={suggest}` \
         (and set it in /etc/sysctl.d/ to keep it across reboots)"
    ))
}

/// Checks this machine's `vm.max_map_count` for `slots` live doers (see
/// [`map_count_fits`]). Where the setting cannot be read there is nothing
/// to check.
pub fn check_map_count(slots: u32) -> Result<(), String> {
    max_map_count().map_or(Ok(()), |have| map_count_fits(slots, have))
}

fn chain(e: &wasmtime::Error) -> String {
    format!("{e:#}")
}

/// Compiles and links plugins. Cheap to share by reference.
pub struct PluginHost {
    engine: Engine,
    /// The same settings without the pool's slot limits: what a component
    /// the pool refuses is compiled against, to tell "too big for a slot"
    /// from "invalid" without reading wasmtime's message.
    unpooled: Config,
    linker: Linker<StoreData>,
    limits: EngineLimits,
    watchdog: Option<Watchdog>,
}

/// The thread that advances the engine's epoch while a real-mode run lasts.
struct Watchdog {
    watch: Watch,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Epoch ticks per budget: the deadline is met within a tenth of it.
    const TICKS: u64 = 10;

    fn start(engine: &Engine, budget: Duration, replay: bool) -> io::Result<Watchdog> {
        let stop = Arc::new(AtomicBool::new(false));
        if replay {
            // The epoch never moves: only the tape's callback interrupts.
            return Ok(Watchdog {
                watch: Watch {
                    ticks: 1 << 62,
                    budget,
                },
                stop,
                thread: None,
            });
        }
        let period = (budget / Self::TICKS as u32)
            .clamp(Duration::from_millis(1), Duration::from_millis(100));
        let ticks = (budget.as_nanos() / period.as_nanos()).max(1) as u64;
        let thread = {
            let engine = engine.clone();
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("hio-watchdog".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(period);
                        engine.increment_epoch();
                    }
                })?
        };
        Ok(Watchdog {
            // One more tick: the call may start just before one falls.
            watch: Watch {
                ticks: ticks + 1,
                budget,
            },
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl PluginHost {
    /// An engine with these limits; compiled code is cached in `cache_dir`
    /// (created with mode 0700) when given.
    pub fn new(limits: EngineLimits, cache_dir: Option<&Path>) -> Result<PluginHost, LoadError> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.consume_fuel(true);
        let watchdog = limits.watchdog.filter(|d| !d.is_zero());
        config.epoch_interruption(watchdog.is_some());
        config.coredump_on_trap(limits.core_dumps.is_some());
        if let Some(dir) = &limits.core_dumps {
            trusted_dir(dir, "core dump folder").map_err(LoadError::Engine)?;
        }
        config.max_wasm_stack(limits.max_wasm_stack);
        let unpooled = config.clone();
        // Pooling: every instance gets a pre-reserved slot sized from the
        // engine's memory cap (not the 4 GiB default), so many doers fit the
        // address space and instantiation is a few microseconds.
        let slots = limits.slots.max(1);
        check_map_count(slots).map_err(LoadError::MapCount)?;
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(slots)
            .total_core_instances(slots.saturating_mul(CORE_INSTANCES))
            .total_memories(slots.saturating_mul(MAX_MEMORIES))
            .total_tables(slots.saturating_mul(MAX_TABLES))
            .max_core_instances_per_component(CORE_INSTANCES)
            .max_memories_per_component(MAX_MEMORIES)
            .max_tables_per_component(MAX_TABLES)
            .max_memory_size(usize::try_from(limits.max_memory).unwrap_or(usize::MAX))
            .table_elements(limits.max_table_elements)
            // A freed slot's first 16 KiB of each table is cleared in place
            // rather than given back to the kernel: the next instance in the
            // slot then takes no page fault for it (measured: warm
            // instantiation 10.6-12.3 -> 9.2-10.3 us at 1,000 noop doers,
            // for about 4 KiB more resident memory per doer).
            .table_keep_resident(16 << 10);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        config.memory_reservation(limits.max_memory);
        config.memory_reservation_for_growth(0);
        config.memory_guard_size(64 << 10);
        if let Some(dir) = cache_dir {
            trusted_dir(dir, "cache folder").map_err(LoadError::Engine)?;
            let mut cache = CacheConfig::new();
            cache.with_directory(dir);
            let cache = Cache::new(cache).map_err(|e| LoadError::Engine(chain(&e)))?;
            config.cache(Some(cache));
        }
        let engine = Engine::new(&config).map_err(|e| LoadError::Engine(chain(&e)))?;
        let mut linker = Linker::new(&engine);
        wasi::add_to_linker(&mut linker)
            .and_then(|()| iface::add_to_linker(&mut linker))
            .map_err(|e| LoadError::Engine(chain(&e)))?;
        let watchdog = watchdog
            .map(|budget| Watchdog::start(&engine, budget, limits.replay))
            .transpose()
            .map_err(|e| LoadError::Engine(format!("watchdog thread: {e}")))?;
        Ok(PluginHost {
            engine,
            unpooled,
            linker,
            limits,
            watchdog,
        })
    }

    /// The engine-wide limits.
    pub fn limits(&self) -> &EngineLimits {
        &self.limits
    }

    /// Reads and compiles the component at `path`.
    fn compile(&self, path: &Path) -> Result<Component, LoadError> {
        let bytes = std::fs::read(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => LoadError::Missing(path.to_owned()),
            _ => LoadError::Read {
                path: path.to_owned(),
                source: e,
            },
        })?;
        match bytes.get(..8) {
            Some([0, b'a', b's', b'm', 1, 0, 0, 0]) => {
                return Err(LoadError::CoreModule(path.to_owned()));
            }
            Some([0, b'a', b's', b'm', ..]) => {}
            _ => return Err(LoadError::NotWasm(path.to_owned())),
        }
        Component::new(&self.engine, &bytes).map_err(|e| {
            let reason = chain(&e);
            let compiles_unpooled = Engine::new(&self.unpooled)
                .is_ok_and(|plain| Component::new(&plain, &bytes).is_ok());
            if compiles_unpooled {
                // It is valid, but needs more than the engine's slots hold.
                LoadError::TooBig {
                    path: path.to_owned(),
                    reason,
                }
            } else {
                LoadError::Invalid {
                    path: path.to_owned(),
                    reason,
                }
            }
        })
    }

    /// Refuses a component that needs more than the engine allows.
    fn check_resources(&self, path: &Path, component: &Component) -> Result<(), LoadError> {
        let too_big = |reason: String| LoadError::TooBig {
            path: path.to_owned(),
            reason,
        };
        let Some(r) = component.resources_required() else {
            return Err(too_big(
                "instantiates modules dynamically; its needs cannot be checked".into(),
            ));
        };
        if r.num_memories > MAX_MEMORIES {
            return Err(too_big(format!(
                "{} linear memories, more than the {MAX_MEMORIES} allowed",
                r.num_memories
            )));
        }
        if r.num_tables > MAX_TABLES {
            return Err(too_big(format!(
                "{} tables, more than the {MAX_TABLES} allowed",
                r.num_tables
            )));
        }
        if let Some(bytes) = r
            .max_initial_memory_size
            .map(|pages| pages.saturating_mul(64 << 10))
            && bytes > self.limits.max_memory
        {
            return Err(too_big(format!(
                "starts with {bytes} bytes of linear memory, above the engine's max_memory ({})",
                self.limits.max_memory
            )));
        }
        if let Some(n) = r.max_initial_table_size
            && n > self.limits.max_table_elements as u64
        {
            return Err(too_big(format!(
                "starts with a table of {n} elements, above max_table_elements ({})",
                self.limits.max_table_elements
            )));
        }
        Ok(())
    }

    /// Loads the component at `path`, ready to instantiate.
    pub fn load(&self, path: &Path) -> Result<crate::Plugin, LoadError> {
        let component = self.compile(path)?;
        self.check_resources(path, &component)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| LoadError::Import {
                path: path.to_owned(),
                reason: older_package(chain(&e)),
            })?;
        let pre = DoerWorldPre::new(pre)
            .and_then(crate::instance::Exports::new)
            .map_err(|e| LoadError::Exports {
                path: path.to_owned(),
                reason: chain(&e),
            })?;
        Ok(crate::Plugin::new(
            path.to_owned(),
            self.engine.clone(),
            pre,
            self.watchdog.as_ref().map(|w| w.watch),
            self.limits.core_dumps.clone().map(Rc::<Path>::from),
        ))
    }

    /// Describes the component at `path`: its imports and exports, and
    /// whether it fits the `hio:doer` world on this host.
    pub fn inspect(&self, path: &Path) -> Result<String, LoadError> {
        let component = self.compile(path)?;
        let ty = component.component_type();
        let mut out = format!("{}\nimports:\n", path.display());
        for (name, _) in ty.imports(&self.engine) {
            out.push_str(&format!("  {name}\n"));
        }
        out.push_str("exports:\n");
        for (name, item) in ty.exports(&self.engine) {
            out.push_str(&format!("  {name}\n"));
            // An exported interface (the doer's `hooks`): its functions.
            if let wasmtime::component::types::ComponentItem::ComponentInstance(i) = item.ty {
                for (name, _) in i.exports(&self.engine) {
                    out.push_str(&format!("    {name}\n"));
                }
            }
        }
        match self.load(path) {
            Ok(_) => out.push_str(&format!("fits {PACKAGE}: yes\n")),
            Err(e) => out.push_str(&format!("fits {PACKAGE}: no: {e}\n")),
        }
        Ok(out)
    }
}

/// An import error, with a hint where the component was built against
/// another version of the `hio:doer` package than this host's.
fn older_package(reason: String) -> String {
    let other = reason
        .split("hio:doer/")
        .skip(1)
        .filter_map(|rest| rest.split_once('@'))
        .map(|(_, v)| {
            v.split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
                .next()
                .unwrap_or("")
        })
        .find(|v| !v.is_empty() && *v != crate::bindings::VERSION);
    match other {
        Some(v) => format!(
            "{reason}; it was built for hio:doer@{v} and this host speaks {PACKAGE}: \
             rebuild it against the current guest SDK or WIT files"
        ),
        None => reason,
    }
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Makes `dir` (mode 0700) where it is missing, and refuses one that anyone
/// but this user could write to: wasmtime loads native code from its cache
/// without checking it, and a core dump holds a doer's memory. `what` names
/// the folder's use in the reason.
pub(crate) fn trusted_dir(dir: &Path, what: &str) -> Result<(), String> {
    create_private_dir(dir).map_err(|e| format!("{what} {}: {e}", dir.display()))?;
    let meta = std::fs::metadata(dir).map_err(|e| format!("{what} {}: {e}", dir.display()))?;
    if !meta.is_dir() {
        return Err(format!("{what} {}: not a folder", dir.display()));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let me = rustix::process::geteuid().as_raw();
        if meta.uid() != me {
            return Err(format!(
                "{what} {} is owned by uid {}, not by this user (uid {me}): \
                 whoever owns it could change what the host loads or writes there; \
                 use a folder of your own",
                dir.display(),
                meta.uid()
            ));
        }
        if meta.mode() & 0o022 != 0 {
            return Err(format!(
                "{what} {} can be written by others (mode {:o}): \
                 run `chmod go-w {}`, or use a folder of your own",
                dir.display(),
                meta.mode() & 0o7777,
                dir.display()
            ));
        }
    }
    Ok(())
}
