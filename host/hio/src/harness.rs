//! The test harness: drive Wasm doers from an ordinary `cargo test`, tick by
//! tick in simulated time, with no sockets and no wall time.
//!
//! [`build`] compiles a plugin crate for `wasm32-wasip2` into its own target
//! folder; a [`Harness`] loads components, adds doers (each described by a
//! [`DoerArgs`]) and DoDoers, declares decks, ticks, pushes and pulls, and
//! hands back the trace and the log.
//!
//! ```no_run
//! use hio::harness::{DoerArgs, Harness, build};
//! use hio::plugin::{Scalar, Value};
//!
//! let wasm = build("plugins/recorder").unwrap();
//! let mut h = Harness::new(0.25);
//! let recorder = h.load(&wasm).unwrap();
//! let stop = vec![("stop".into(), Value::Scalar(Scalar::Integer(1)))];
//! h.add(DoerArgs::new("r", &recorder).options(stop)).unwrap();
//! h.run().unwrap();
//! let events: Vec<&str> = h.trace().iter().map(|r| r.event.as_str()).collect();
//! assert_eq!(events, ["enter", "recur", "recur", "clean", "exit", "done"]);
//! ```

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::rc::Rc;

use hio_io::{AddrGrant, ConnLimits, Net, SimConfig};
use hio_scheduler::DoerId;
use hio_scheduler::Doist;
use hio_scheduler::Spec;
use hio_scheduler::trace::{OwnedLine, TraceBuffer};
use hio_scheduler::{DeckAccess, DeckError, DeckSpec, Decks, Grants};
use hio_scheduler::{Escalated, LogLine};
use hio_wasm::{
    EngineLimits, InstanceConfig, LoadError, NetAccess, Plugin, PluginHost, StatsHandle, Value,
};

use crate::cache::Cache;

/// A plugin doer for [`Harness::add`] or [`Harness::spec`]: its name and
/// plugin, and what differs from the defaults (tock 0, no options, no deck
/// grants, no network).
///
/// ```no_run
/// # use hio::harness::{DoerArgs, Harness};
/// # use hio::plugin::{Scalar, Value};
/// # let mut h = Harness::new(0.25);
/// # let echo = h.load("echo.wasm").unwrap();
/// let addr = Value::Scalar(Scalar::Text("10.1.1.1:80".into()));
/// h.add(
///     DoerArgs::new("echo", &echo)
///         .tock(0.05)
///         .options(vec![("addr".into(), addr)])
///         .net(&["10.1.1.1:*"], &[]),
/// )
/// .unwrap();
/// ```
#[derive(Clone)]
pub struct DoerArgs {
    name: String,
    plugin: Rc<Plugin>,
    tock: f64,
    options: Vec<(String, Value)>,
    grants: Grants,
    net: Option<NetGrants>,
    share: Option<String>,
}

/// The addresses a harness doer may listen on and connect to.
#[derive(Clone)]
struct NetGrants {
    listen: Vec<String>,
    connect: Vec<String>,
}

impl DoerArgs {
    /// A doer `name` of `plugin`, tock 0 (its parent's cadence), no
    /// options, no grants.
    pub fn new(name: &str, plugin: &Rc<Plugin>) -> DoerArgs {
        DoerArgs {
            name: name.to_owned(),
            plugin: Rc::clone(plugin),
            tock: 0.0,
            options: Vec::new(),
            grants: Grants::default(),
            net: None,
            share: None,
        }
    }

    /// Puts it in share group `group`: doers of one plugin (one
    /// [`Harness::load`]) with the same group live in one instance, as the
    /// manifest's `share` says.
    pub fn share(mut self, group: &str) -> DoerArgs {
        self.share = Some(group.to_owned());
        self
    }

    /// Its tock.
    pub fn tock(mut self, tock: f64) -> DoerArgs {
        self.tock = tock;
        self
    }

    /// Its options, which its plugin's `validate` checks.
    pub fn options(mut self, options: Vec<(String, Value)>) -> DoerArgs {
        self.options = options;
        self
    }

    /// Its deck grants.
    pub fn grants(mut self, grants: Grants) -> DoerArgs {
        self.grants = grants;
        self
    }

    /// Puts it on the harness's simulated network (see
    /// [`Harness::simulated_network`]), granted to listen on the addresses
    /// of `listen` and connect to those of `connect` (`host:port` or
    /// `host:*`), with the default connection limits.
    pub fn net(mut self, listen: &[&str], connect: &[&str]) -> DoerArgs {
        let owned = |list: &[&str]| list.iter().map(|a| (*a).to_owned()).collect();
        self.net = Some(NetGrants {
            listen: owned(listen),
            connect: owned(connect),
        });
        self
    }
}

/// Why the harness could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// Building a plugin crate failed.
    #[error("building {crate_dir}: {message}")]
    Build {
        /// The crate.
        crate_dir: PathBuf,
        /// What cargo said.
        message: String,
    },
    /// Loading a component failed.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The plugin's `validate` refused the options.
    #[error("{0}")]
    Options(String),
    /// A tree edit was refused.
    #[error(transparent)]
    Tree(#[from] hio_scheduler::TreeError),
}

/// Builds the plugin crate at `crate_dir` for `wasm32-wasip2` (release) into
/// `<crate_dir>/target/hio-harness` and returns the component's path.
pub fn build(crate_dir: impl AsRef<Path>) -> Result<PathBuf, HarnessError> {
    let crate_dir = crate_dir.as_ref();
    let err = |message: String| HarnessError::Build {
        crate_dir: crate_dir.to_owned(),
        message,
    };
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .arg("build")
        .arg("--release")
        .args(["--target", "wasm32-wasip2", "--message-format", "json"])
        .arg("--manifest-path")
        .arg(crate_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(crate_dir.join("target/hio-harness"))
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS")
        .output()
        .map_err(|e| err(format!("cannot run cargo: {e}")))?;
    if !out.status.success() {
        return Err(err(String::from_utf8_lossy(&out.stderr).into_owned()));
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact")
        .flat_map(|m| {
            m["filenames"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| f.as_str().map(PathBuf::from))
        })
        .rfind(|p| p.extension().is_some_and(|e| e == "wasm"))
        .ok_or_else(|| err("cargo built no .wasm (is the crate a cdylib?)".into()))
}

/// Drives Wasm doers in simulated time and records what they do.
pub struct Harness {
    host: PluginHost,
    doist: Doist,
    decks: Decks,
    trace: TraceBuffer,
    logs: Rc<RefCell<Vec<String>>>,
    stats: StatsHandle,
    seed: u64,
    net: Option<Net>,
    /// The network draws faults every tick, busy or idle: no tick may be
    /// jumped over without changing them.
    rolls_each_tick: bool,
    ticked: u64,
}

impl Harness {
    /// A harness whose Doist ticks by `tock`, with default engine limits.
    /// Compiled code is cached where `hio run` caches it by default
    /// (`$HIO_CACHE_DIR`, else `$XDG_CACHE_HOME/hio`, else
    /// `~/.cache/hio`), so a test loads a large component (Python,
    /// JavaScript) from the cache rather than compiling it each time; where
    /// that folder cannot be used it compiles without one.
    pub fn new(tock: f64) -> Harness {
        let engine = EngineLimits::default();
        // The default engine settings are valid; a failure here is a broken
        // installation, not a test outcome.
        let host = Cache::choose(None, false)
            .host(engine.clone(), |_| {})
            .or_else(|_| PluginHost::new(engine, None))
            .expect("default plugin engine");
        let trace = TraceBuffer::new();
        let logs = Rc::new(RefCell::new(Vec::new()));
        let sink = Rc::clone(&logs);
        let doist =
            Doist::new(tock)
                .trace(trace.clone())
                .logger(Box::new(move |l: &LogLine<'_>| {
                    sink.borrow_mut().push(l.to_string());
                }));
        Harness {
            host,
            doist,
            decks: Decks::default(),
            trace,
            logs,
            stats: StatsHandle::default(),
            seed: 0,
            net: None,
            rolls_each_tick: false,
            ticked: 0,
        }
    }

    /// Puts the run on the simulated network: doers added afterwards with
    /// [`DoerArgs::net`] listen and connect on it (in memory, no sockets), with `sim`'s seeded faults. Call it
    /// before the first tick.
    pub fn simulated_network(&mut self, sim: SimConfig) -> &mut Harness {
        let f = &sim.faults;
        self.rolls_each_tick = f.stall > 0.0
            || f.reset > 0.0
            || f.half_close > 0.0
            || f.partition > 0.0
            || !f.partitions.is_empty();
        let net = Net::simulated(sim);
        let doist = std::mem::take(&mut self.doist);
        self.doist = doist.services(net.service());
        self.net = Some(net);
        self
    }

    /// The simulated network, once [`Harness::simulated_network`] made it.
    pub fn net(&self) -> Option<&Net> {
        self.net.as_ref()
    }

    /// Sets the run seed for doers added afterwards.
    pub fn seed(&mut self, seed: u64) -> &mut Harness {
        self.seed = seed;
        self
    }

    /// Declares a deck.
    pub fn deck(&mut self, name: &str, capacity: usize, max_item: usize) -> &mut Harness {
        self.decks.declare(DeckSpec {
            name: name.to_owned(),
            capacity,
            max_item,
        });
        self
    }

    /// Loads a component.
    pub fn load(&self, path: impl AsRef<Path>) -> Result<Rc<Plugin>, HarnessError> {
        Ok(Rc::new(self.host.load(path.as_ref())?))
    }

    /// The spec of the doer `args` describes, after its plugin's `validate`
    /// accepted its options (for building DoDoers with [`crate::DoDoer`]).
    pub fn spec(&self, args: DoerArgs) -> Result<Spec, HarnessError> {
        let DoerArgs {
            name,
            plugin,
            tock,
            options,
            grants,
            net,
            share,
        } = args;
        let net = match net {
            None => None,
            Some(grants) => Some(self.net_access(&name, grants)?),
        };
        let cfg = InstanceConfig {
            seed: self.seed,
            decks: DeckAccess::granted(&self.decks, grants, InstanceConfig::default().message),
            stats: self.stats.clone(),
            record_stats: true,
            net,
            share,
            ..InstanceConfig::default()
        };
        plugin
            .validate(&options, &cfg)
            .map_err(|e| HarnessError::Options(format!("{name}: {e}")))?;
        Ok(plugin.spec(&name, tock, options, cfg))
    }

    /// The simulated network with `grants`, for doer `name`, with the
    /// default connection limits.
    fn net_access(&self, name: &str, grants: NetGrants) -> Result<NetAccess, HarnessError> {
        let net = self.net.clone().ok_or_else(|| {
            HarnessError::Options(format!(
                "{name}: no network: call simulated_network(..) before adding doers that use it"
            ))
        })?;
        let parse = |list: Vec<String>| {
            list.iter()
                .map(|a| {
                    AddrGrant::parse(a).map_err(|e| HarnessError::Options(format!("{name}: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(NetAccess {
            net,
            limits: ConnLimits::default(),
            listen: parse(grants.listen)?,
            connect: parse(grants.connect)?,
            server: None,
            client: None,
            server_names: Vec::new(),
        })
    }

    /// Adds the doer `args` describes at the top level.
    pub fn add(&mut self, args: DoerArgs) -> Result<(), HarnessError> {
        self.add_spec(self.spec(args)?)
    }

    /// Adds any spec (a plugin doer with grants, a DoDoer) at the top level.
    pub fn add_spec(&mut self, spec: impl Into<Spec>) -> Result<(), HarnessError> {
        Ok(self.doist.add(spec)?)
    }

    /// The Doist, for settings (limit, supervision) and tree edits.
    pub fn doist(&mut self) -> &mut Doist {
        &mut self.doist
    }

    /// Enters the tree.
    pub fn enter(&mut self) -> Result<(), Escalated> {
        self.doist.enter()
    }

    /// One tick.
    pub fn tick(&mut self) -> Result<(), Escalated> {
        self.ticked += 1;
        self.doist.recur()
    }

    /// Ticks run so far (those [`Harness::run`] jumped over not counted).
    pub fn ticked(&self) -> u64 {
        self.ticked
    }

    /// `n` ticks.
    pub fn ticks(&mut self, n: usize) -> Result<(), Escalated> {
        for _ in 0..n {
            self.tick()?;
        }
        Ok(())
    }

    /// Runs until done or the limit. Simulated time jumps ahead over the
    /// ticks in which no doer is due and the network (if any) has nothing
    /// to move: those ticks would do nothing, and the trace is the same as
    /// ticking through them, tyme for tyme (the tock is added tick by tick,
    /// as a tick adds it). A network with faults drawn every tick (`stall`,
    /// `reset`, `half_close`, `partition`, `partitions`) is ticked through:
    /// skipping a tick would skip its draws.
    pub fn run(&mut self) -> Result<(), Escalated> {
        loop {
            self.ticked += 1;
            if self.doist.step()? {
                return Ok(());
            }
            if self.jump() {
                return Ok(());
            }
        }
    }

    /// Skips the ticks before the next one that has work; `true` when the
    /// limit was reached meanwhile (the run is then closed).
    fn jump(&mut self) -> bool {
        if self.rolls_each_tick {
            return false;
        }
        let root = self.doist.root();
        let mut next = self
            .doist
            .deeds(root)
            .into_iter()
            .map(|(_, due)| due)
            .fold(f64::INFINITY, f64::min);
        if let Some(net) = &self.net {
            // Bytes in flight, or a deadline: the network's next pass.
            next = next.min(net.next_due().unwrap_or(f64::INFINITY));
        }
        let tock = self.doist.tock();
        let limit = self.doist.limit_tyme();
        // Nothing will ever be due (and no limit): leave the stepping to
        // `step`, which ends the run when the tree empties.
        if !next.is_finite() && limit.is_none() {
            return false;
        }
        // At most so many ticks per jump: a far-off one is reached over
        // several, between which `step` runs one empty tick.
        let mut budget = 1u32 << 20;
        while next > self.doist.tyme() && tock > 0.0 && budget > 0 {
            budget -= 1;
            let tyme = self.doist.tyme() + tock;
            self.doist.set_tyme(tyme);
            if limit.is_some_and(|l| tyme >= l) {
                self.doist.close();
                return true;
            }
        }
        false
    }

    /// Ends the run, closing what is left.
    pub fn close(&mut self) {
        self.doist.close();
    }

    /// The current tyme.
    pub fn tyme(&self) -> f64 {
        self.doist.tyme()
    }

    /// Finds a doer by path.
    pub fn find(&self, path: &str) -> Option<DoerId> {
        self.doist.find(path)
    }

    /// Pushes onto a deck from the test.
    pub fn push(&self, deck: &str, item: &[u8]) -> Result<(), DeckError> {
        self.decks.push(deck, item.to_vec())
    }

    /// Pulls from a deck from the test.
    pub fn pull(&self, deck: &str) -> Result<Option<Vec<u8>>, DeckError> {
        self.decks.pull(deck)
    }

    /// The lifecycle trace so far.
    pub fn trace(&self) -> Vec<OwnedLine> {
        self.trace.records()
    }

    /// The trace so far as JSON lines.
    pub fn trace_json(&self) -> String {
        self.trace.to_json_lines()
    }

    /// Log lines so far (`<tyme> <path> <level> <message>`).
    pub fn logs(&self) -> Vec<String> {
        self.logs.borrow().clone()
    }

    /// Per-doer call figures.
    pub fn stats(&self) -> &StatsHandle {
        &self.stats
    }
}
