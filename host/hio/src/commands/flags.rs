//! Flags that several commands take: the log level, where compiled plugin
//! code is cached, and `--limit`.

use std::path::PathBuf;

use clap::ValueEnum;
use hio::Level;
use hio::cache::Cache;
use hio::plugin::{EngineLimits, LoadError, PluginHost};

use crate::commands::output::Closed;

/// Levels of the log.
#[derive(Clone, Copy, ValueEnum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    /// The log's level of the same name.
    pub fn level(self) -> Level {
        match self {
            LogLevel::Error => Level::Error,
            LogLevel::Warn => Level::Warn,
            LogLevel::Info => Level::Info,
            LogLevel::Debug => Level::Debug,
            LogLevel::Trace => Level::Trace,
        }
    }
}

/// Where compiled plugin code is kept (every command that loads plugins).
#[derive(clap::Args)]
pub struct CacheArgs {
    /// Folder for compiled code (default: $HIO_CACHE_DIR, else
    /// $XDG_CACHE_HOME/hio, else ~/.cache/hio; created mode 0700). A second
    /// run of the same plugins then starts without compiling them.
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Compile every plugin afresh and keep nothing on disk.
    #[arg(long, conflicts_with = "cache_dir")]
    no_cache: bool,
}

impl CacheArgs {
    /// The cache these flags choose.
    pub fn choose(&self) -> Cache {
        Cache::choose(self.cache_dir.clone(), self.no_cache)
    }
}

/// A plugin host for `engine` with `cache`; when the user's default cache
/// folder cannot be used it warns and goes on without a cache.
pub fn plugin_host(cache: &Cache, engine: EngineLimits) -> Result<PluginHost, LoadError> {
    cache.host(engine, |e| {
        Closed::default().eprintln(format_args!(
            "hio: warning: running without a compile cache: {e}"
        ));
    })
}

/// `--limit`: a finite tyme > 0, or `none`.
pub fn limit_flag(l: &str) -> Result<Option<f64>, String> {
    match l {
        "none" => Ok(None),
        s => match s.parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Ok(Some(v)),
            _ => Err(format!(
                "--limit takes a finite tyme > 0 or \"none\", got {s:?}"
            )),
        },
    }
}

/// `--threads N`, for commands that run a manifest.
#[derive(clap::Args, Debug, Clone, Copy)]
pub struct ThreadsArgs {
    /// Threads the manifest's crews (DoDoers with `crew = true`) share
    /// [default: the machine's cores]. The trace and the log are the same
    /// for any number; with 1 the crews run on the run's own thread.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,
}

impl ThreadsArgs {
    /// The number of threads to run crews on.
    pub fn count(self) -> usize {
        self.threads.map(usize::from).unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        })
    }
}
