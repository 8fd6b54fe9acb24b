//! Where compiled plugin code is cached: the choice `hio` and the harness
//! make alike. A component is compiled once per engine configuration and
//! then loaded from the cache (a Python or JavaScript component takes tens
//! of seconds to compile, and milliseconds to load).

use std::path::PathBuf;

use hio_wasm::{EngineLimits, LoadError, PluginHost};

/// Where compiled code is cached.
#[derive(Debug, Clone, PartialEq)]
pub enum Cache {
    /// Nowhere (`--no-cache`).
    Off,
    /// A folder the user named (`--cache-dir`, `HIO_CACHE_DIR`): failing to
    /// use it is an error.
    Named(PathBuf),
    /// The user's cache folder: failing to use it is a warning, and the run
    /// goes on without a cache.
    Default(PathBuf),
}

impl Cache {
    /// `--no-cache`, else `--cache-dir`, else `$HIO_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/hio`, else `$HOME/.cache/hio` (as wasmtime's own
    /// command does), else none.
    pub fn choose(flag: Option<PathBuf>, no_cache: bool) -> Cache {
        let var = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        if no_cache {
            return Cache::Off;
        }
        if let Some(dir) = flag.or_else(|| var("HIO_CACHE_DIR")) {
            return Cache::Named(dir);
        }
        // The XDG rule: a relative XDG_CACHE_HOME is ignored.
        match var("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
            Some(xdg) => Cache::Default(xdg.join("hio")),
            None => var("HOME").map_or(Cache::Off, |home| Cache::Default(home.join(".cache/hio"))),
        }
    }

    /// A plugin host with this cache. A named folder that cannot be used
    /// is an error; the default one is passed to `uncached` and the host
    /// goes on without a cache.
    pub fn host(
        &self,
        engine: EngineLimits,
        uncached: impl FnOnce(&LoadError),
    ) -> Result<PluginHost, LoadError> {
        match self {
            Cache::Off => PluginHost::new(engine, None),
            Cache::Named(dir) => PluginHost::new(engine, Some(dir)),
            Cache::Default(dir) => PluginHost::new(engine.clone(), Some(dir)).or_else(|e| {
                uncached(&e);
                PluginHost::new(engine, None)
            }),
        }
    }
}
