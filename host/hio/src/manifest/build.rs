//! A checked [`Manifest`] to a ready [`Doist`]: plugins loaded once each,
//! every doer's options passed through its plugin's `validate`, and the tree
//! of specs added. Nothing runs until all of that has passed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;

use super::reader::ManifestError;
use super::root::Manifest;
use super::tree::{Leaf, Node};
use hio_io::tls::TlsConfigError;
use hio_io::{ConnLimits, Net, SimConfig};
use hio_scheduler::Doist;
use hio_scheduler::Spec;
use hio_scheduler::{CrewParts, DoDoer};
use hio_scheduler::{DeckAccess, Decks};
use hio_wasm::{
    Block, InstanceConfig, LoadError, NetAccess, Plugin, PluginHost, PluginSeed, Spawns,
    StatsHandle, StatsSeed, Tape, WallStart,
};

/// Why a manifest could not be turned into a run.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A plugin refused its options (a manifest error: exit status 2).
    #[error("{0}")]
    Manifest(ManifestError),
    /// A plugin could not be loaded (exit status 3).
    #[error("{0}")]
    Load(#[from] LoadError),
}

/// A run ready to go.
pub struct Built {
    /// The Doist with the whole tree added (not entered yet).
    pub doist: Doist,
    /// The run's decks.
    pub decks: Decks,
    /// Per-doer call figures.
    pub stats: StatsHandle,
    /// The run's network, when a doer is granted one (its service is
    /// already plugged into the Doist).
    pub net: Option<Net>,
    /// What tyme 0 stands for on the wall clock: set it when a real-mode
    /// run starts.
    pub wall_start: RunWallStart,
    /// Every plugin loaded (spawnable ones included), by path, in order.
    pub plugins: Vec<PathBuf>,
    /// Set when a lockstep barrier failed: the run should stop.
    pub halted: Arc<std::sync::atomic::AtomicBool>,
}

/// How [`build_with`] sets a run up besides the manifest (not a doer's
/// options, which the manifest holds).
#[derive(Debug, Clone, Default)]
pub struct BuildSettings {
    /// Keep per-call figures (see [`build`]).
    pub record_stats: bool,
    /// The run's wire log, recording or replaying: every doer's network
    /// calls go through it, and its services frame each tick.
    pub tape: Option<Tape>,
    /// A simulated network to use instead of the manifest's choice (a
    /// replay opens no socket, whatever the recording did).
    pub sim: Option<SimConfig>,
    /// Threads the crews share (0 or 1: the crews run on the run's own
    /// thread). The trace does not depend on it.
    pub threads: usize,
}

/// What tyme 0 stands for on the wall clock, for everything of a run that
/// reads it: the doers' WASI wall clocks and the network's HTTP `Date`
/// headers. The Unix epoch until set. (It reads no time: the clock a
/// real-mode Doist paces itself against is the scheduler's `WallClock`.)
pub struct RunWallStart {
    wasi: WallStart,
    net: Option<Net>,
}

impl RunWallStart {
    /// Sets the start, as time since the Unix epoch.
    pub fn set(&self, since_epoch: std::time::Duration) {
        self.wasi.set(since_epoch);
        if let Some(net) = &self.net {
            net.set_wall_start(since_epoch);
        }
    }
}

/// Where a builder gets its plugins: loaded by the host, or (on a crew's
/// thread) made from the seeds of the plugins the host loaded.
enum Source<'a> {
    Host(&'a PluginHost),
    Seeds(&'a BTreeMap<PathBuf, PluginSeed>),
}

struct Builder<'a> {
    manifest: &'a Manifest,
    source: Source<'a>,
    table_elements: usize,
    /// The crew the doers being built are in (0: none), and the last crew
    /// numbered (crews are numbered in manifest order from 1).
    crew: u32,
    crews: u32,
    /// Pass every doer's options through its plugin's `validate` (done once,
    /// by the run's builder, not again on a crew's thread).
    validate: bool,
    plugins: BTreeMap<PathBuf, Rc<Plugin>>,
    decks: Decks,
    stats: StatsHandle,
    record_stats: bool,
    net: Option<Net>,
    wall_start: WallStart,
    tape: Option<Tape>,
    sim: Option<SimConfig>,
}

impl Builder<'_> {
    /// A leaf's network access: its grants, with its TLS files read.
    fn net_access(&mut self, leaf: &Leaf) -> Result<Option<NetAccess>, BuildError> {
        let grants = &leaf.net;
        if !grants.uses_network() {
            return Ok(None);
        }
        let file = &self.manifest.path;
        let err = |key: &str, message: String| {
            BuildError::Manifest(ManifestError {
                file: file.clone(),
                line: leaf.line,
                key: format!("{}.grants.tls.{key}", leaf.key),
                message,
            })
        };
        let net = match &self.net {
            Some(n) => n.clone(),
            None => {
                let n = match &self.sim {
                    Some(sim) => Net::simulated(sim.clone()),
                    // A crew's listeners share their port with the same
                    // doer's in the other crews.
                    None if self.crew > 0 && !self.validate => {
                        Net::new_shared_port().map_err(|e| {
                            BuildError::Load(LoadError::Engine(format!("cannot open a poll: {e}")))
                        })?
                    }
                    None => Net::new().map_err(|e| {
                        BuildError::Load(LoadError::Engine(format!("cannot open a poll: {e}")))
                    })?,
                };
                self.net = Some(n.clone());
                n
            }
        };
        let tls = &grants.tls;
        let server = match (&tls.cert, &tls.key) {
            (Some(cert), Some(key)) => Some(
                hio_io::tls::server_config(cert, key).map_err(|e| err("cert", e.to_string()))?,
            ),
            _ => None,
        };
        let client = if tls.roots.is_empty() && !tls.webpki_roots && !tls.platform_roots {
            None
        } else {
            Some(
                hio_io::tls::client_config(&tls.roots, tls.webpki_roots, tls.platform_roots)
                    .map_err(|e| {
                        let key = if matches!(e, TlsConfigError::PlatformRoots(_)) {
                            "platform_roots"
                        } else {
                            "roots"
                        };
                        err(key, e.to_string())
                    })?,
            )
        };
        let l = &leaf.limits;
        let size = |b: u64| usize::try_from(b).unwrap_or(usize::MAX);
        Ok(Some(NetAccess {
            net,
            limits: ConnLimits {
                connections: l.connections,
                backlog: l.backlog,
                peer_connections: l.peer_connections,
                recv_buffer: size(l.recv_buffer),
                send_buffer: size(l.send_buffer),
                connect_timeout: l.connect_timeout,
                idle_timeout: l.idle_timeout,
                header_timeout: l.header_timeout,
                backoff: l.reconnect_backoff,
                max_backoff: l.max_backoff,
            },
            listen: grants.listen.clone(),
            connect: grants.connect.clone(),
            server,
            client,
            server_names: tls.server_names.clone(),
        }))
    }

    fn plugin(&mut self, path: &PathBuf) -> Result<Rc<Plugin>, BuildError> {
        if let Some(p) = self.plugins.get(path) {
            return Ok(Rc::clone(p));
        }
        let p = Rc::new(match &self.source {
            Source::Host(host) => host.load(path)?,
            Source::Seeds(seeds) => seeds
                .get(path)
                .map(PluginSeed::plugin)
                .ok_or_else(|| LoadError::Missing(path.clone()))?,
        });
        self.plugins.insert(path.clone(), Rc::clone(&p));
        Ok(p)
    }

    fn spec(&mut self, node: &Node) -> Result<Spec, BuildError> {
        match node {
            Node::Leaf(leaf) => {
                let plugin = self.plugin(&leaf.plugin)?;
                let net = self.net_access(leaf)?;
                let mut spawns = BTreeMap::new();
                for (name, path) in &leaf.net.spawn {
                    spawns.insert(name.clone(), self.plugin(path)?);
                }
                let cfg = InstanceConfig {
                    seed: self.manifest.seed,
                    fuel: leaf.limits.fuel,
                    memory: leaf.limits.memory,
                    message: leaf.limits.message,
                    handles: leaf.limits.handles,
                    host_bytes: leaf.limits.host_bytes,
                    table_elements: self.table_elements,
                    decks: DeckAccess::granted(
                        &self.decks,
                        leaf.grants.clone(),
                        leaf.limits.message,
                    )
                    .in_crew(self.crew),
                    stats: self.stats.clone(),
                    record_stats: self.record_stats,
                    net,
                    spawns: Spawns(Rc::new(spawns)),
                    children: leaf.limits.children,
                    wall_start: self.wall_start.clone(),
                    tape: self.tape.clone(),
                    share: leaf.share.clone(),
                };
                if self.validate {
                    plugin.validate(&leaf.options, &cfg).map_err(|msg| {
                        BuildError::Manifest(ManifestError {
                            file: self.manifest.path.clone(),
                            line: leaf.line,
                            key: format!("{}.options", leaf.key),
                            message: format!("rejected by {}: {msg}", leaf.plugin.display()),
                        })
                    })?;
                }
                Ok(plugin.spec(&leaf.name, leaf.tock, leaf.options.clone(), cfg))
            }
            Node::Group(g) if g.crew => self.crew(g),
            Node::Group(g) => {
                let children = g
                    .doers
                    .iter()
                    .map(|c| self.spec(c))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(DoDoer::new(g.name.clone())
                    .tock(g.tock)
                    .always(g.always)
                    .supervision(g.supervision.clone())
                    .doers(children)
                    .into())
            }
        }
    }
}

impl Builder<'_> {
    /// A crew: its doers are checked here (options validated, plugins
    /// loaded), then made again on the crew's thread each time it enters,
    /// from the plugins' seeds.
    fn crew(&mut self, g: &super::tree::Group) -> Result<Spec, BuildError> {
        self.crews += 1;
        let crew = self.crews;
        let outer = std::mem::replace(&mut self.crew, crew);
        // A crew in a crew runs on its crew's thread, in its crew's lane of
        // the wire log.
        let own_lane = outer == 0;
        let checked = g.doers.iter().try_for_each(|c| self.spec(c).map(drop));
        self.crew = outer;
        checked?;
        let plan = Arc::new(CrewPlan {
            manifest: self.manifest.clone(),
            group: g.clone(),
            crew,
            seeds: self
                .plugins
                .iter()
                .map(|(path, p)| (path.clone(), p.seed()))
                .collect(),
            table_elements: self.table_elements,
            decks: self.decks.clone(),
            record_stats: self.record_stats,
            stats: self.stats.seed(),
            wall_start: self.wall_start.clone(),
            tape: self.tape.clone(),
            sim: self.sim.clone(),
            waker: self.net.clone(),
            own_lane,
        });
        let mut spec = DoDoer::new(g.name.clone())
            .tock(g.tock)
            .always(g.always)
            .supervision(g.supervision.clone())
            .crew(move |_| plan.build());
        if let Some(tape) = self.tape.clone().filter(|_| own_lane) {
            spec = spec.on_splice(move |block| {
                if let Ok(block) = block.downcast::<Block>() {
                    tape.splice(crew, *block);
                }
            });
        }
        Ok(spec.into())
    }
}

/// What a crew's thread builds the crew's doers from.
struct CrewPlan {
    manifest: Manifest,
    group: super::tree::Group,
    crew: u32,
    seeds: BTreeMap<PathBuf, PluginSeed>,
    table_elements: usize,
    decks: Decks,
    record_stats: bool,
    /// The run's figures (only its shared half crosses threads).
    stats: StatsSeed,
    wall_start: WallStart,
    tape: Option<Tape>,
    sim: Option<SimConfig>,
    /// The run's network, whose wait between ticks ends when the crew's
    /// network has I/O ready (`wake = "io"`).
    waker: Option<Net>,
    /// The crew has its own lane of the wire log (a crew in a crew uses
    /// its crew's).
    own_lane: bool,
}

impl CrewPlan {
    /// The crew's children and its network's services, on its thread.
    fn build(&self) -> Result<CrewParts, String> {
        let tape = match &self.tape {
            Some(t) if self.own_lane => Some(t.lane(self.crew)),
            t => t.clone(),
        };
        let mut b = Builder {
            manifest: &self.manifest,
            source: Source::Seeds(&self.seeds),
            table_elements: self.table_elements,
            crew: self.crew,
            crews: self.crew,
            validate: false,
            plugins: BTreeMap::new(),
            decks: self.decks.clone(),
            stats: self.stats.handle(),
            record_stats: self.record_stats,
            net: None,
            wall_start: self.wall_start.clone(),
            tape: tape.clone(),
            // Each crew's simulated network draws its own faults.
            sim: self.sim.clone().map(|mut sim| {
                sim.seed = sim
                    .seed
                    .wrapping_add(u64::from(self.crew).wrapping_mul(0x9e37_79b9_7f4a_7c15));
                sim
            }),
        };
        let doers = self
            .group
            .doers
            .iter()
            .map(|n| b.spec(n))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        if let (Some(net), Some(waker)) = (&b.net, &self.waker) {
            waker
                .wake_on(net)
                .map_err(|e| format!("cannot watch the crew's poll: {e}"))?;
        }
        let services = b.net.map(|net| {
            net.set_wall_start(self.wall_start.get());
            Box::new(net.service()) as Box<dyn hio_scheduler::Services>
        });
        let stats = b.stats.clone();
        let after_call: Option<hio_scheduler::AfterCall> = match tape {
            Some(lane) if self.own_lane => Some(Box::new(move || {
                Some(Box::new(lane.take_block()) as Box<dyn std::any::Any + Send>)
            })),
            _ => None,
        };
        Ok(CrewParts {
            doers,
            services,
            on_close: Some(Box::new(move || stats.hand_over())),
            after_call,
        })
    }
}

/// Loads the manifest's plugins on `host`, validates every doer's options
/// and builds the Doist. With `record_stats` each doer's call figures
/// (calls, wall time in its guest code, fuel, failures) are kept in
/// [`Built::stats`] (for `--stats`); without, the figures stay empty.
pub fn build(
    manifest: &Manifest,
    host: &PluginHost,
    record_stats: bool,
) -> Result<Built, BuildError> {
    let settings = BuildSettings {
        record_stats,
        ..BuildSettings::default()
    };
    build_with(manifest, host, &settings)
}

/// [`build`], with a wire log to record or replay or a simulated network
/// (see [`BuildSettings`]).
pub fn build_with(
    manifest: &Manifest,
    host: &PluginHost,
    settings: &BuildSettings,
) -> Result<Built, BuildError> {
    let lockstep = manifest.cluster.as_ref().filter(|c| c.lockstep.is_some());
    let replaying = settings.tape.as_ref().is_some_and(Tape::replaying);
    if lockstep.is_some() && !manifest.crews().is_empty() {
        return Err(BuildError::Manifest(ManifestError {
            file: manifest.path.clone(),
            line: 0,
            key: "cluster.lockstep".into(),
            message: "a lockstep host has no crews of its own yet (each host is its run's crew)"
                .into(),
        }));
    }
    let lockstep_crew = lockstep.and_then(super::lockstep::crew_of).unwrap_or(0);
    let mut b = Builder {
        manifest,
        source: Source::Host(host),
        table_elements: host.limits().max_table_elements,
        // A lockstep host is crew i+1 of its run's barrier.
        crew: lockstep_crew,
        crews: 0,
        validate: true,
        plugins: BTreeMap::new(),
        decks: Decks::new(manifest.decks.clone()),
        stats: StatsHandle::default(),
        record_stats: settings.record_stats,
        net: None,
        wall_start: WallStart::default(),
        tape: settings.tape.clone(),
        sim: settings.sim.clone().or_else(|| manifest.sim.clone()),
    };
    let specs = manifest
        .doers
        .iter()
        .map(|n| b.spec(n))
        .collect::<Result<Vec<_>, _>>()?;
    super::crews::cross_decks(manifest, &b.decks).map_err(BuildError::Manifest)?;
    // A replay reaches no server (its remote items are in the log; a
    // lockstep host's in its barriers' answers).
    if lockstep.is_some() {
    } else if replaying {
        for deck in &manifest.remote_decks {
            b.decks.declare_remote(deck);
        }
    } else {
        super::remote::attach(manifest, &b.decks)
            .map_err(|e| BuildError::Load(LoadError::Engine(format!("[cluster]: {e}"))))?;
    }
    let mut doist = Doist::new(manifest.tock)
        .real(manifest.real)
        .wake(manifest.wake)
        .threads(settings.threads)
        .supervision(manifest.supervision.clone());
    if lockstep.is_none() {
        // Lockstep hosts deliver their decks between hosts at the barrier.
        doist = doist.decks(b.decks.clone());
    }
    let halted = Arc::new(std::sync::atomic::AtomicBool::new(false));
    match (lockstep, &settings.tape) {
        (Some(c), tape) => {
            // The run's own services (its network, not in a replay), then
            // the barrier; the tape's framing around both.
            let inner = b
                .net
                .as_ref()
                .filter(|_| !replaying)
                .map(|net| Box::new(net.service()) as Box<dyn hio_scheduler::Services>);
            let halt = Arc::clone(&halted);
            let service = super::lockstep::start(manifest, c, &b.decks, inner, halt, tape.clone())
                .map_err(|e| BuildError::Load(LoadError::Engine(format!("[cluster]: {e}"))))?;
            match tape {
                Some(tape) => {
                    let taped = crate::recording::Taped::around(tape.clone(), Box::new(service));
                    doist = doist.services(taped);
                }
                None => doist = doist.services(service),
            }
        }
        (None, Some(tape)) => {
            let services = crate::recording::Taped::new(tape.clone(), b.net.as_ref());
            doist = doist.services(services);
        }
        (None, None) => {
            if let Some(net) = &b.net {
                doist = doist.services(net.service());
            }
        }
    }
    doist.set_limit(manifest.end);
    for spec in specs {
        // Names were checked by the manifest parser.
        doist.add(spec).map_err(|e| {
            BuildError::Manifest(ManifestError {
                file: manifest.path.clone(),
                line: 0,
                key: "doers".into(),
                message: e.to_string(),
            })
        })?;
    }
    Ok(Built {
        doist,
        decks: b.decks,
        stats: b.stats,
        wall_start: RunWallStart {
            wasi: b.wall_start,
            net: b.net.clone(),
        },
        net: b.net,
        plugins: b.plugins.into_keys().collect(),
        halted,
    })
}
