//! The simulated network: listeners, connects and links in memory, moved
//! on only by the [`NetService`](crate::NetService) passes, with faults
//! drawn from one seed.
//!
//! Time here counts ticks (service passes): the `before` pass of tick `t`
//! delivers what is due at `t`, answers connects and strikes the faults;
//! the `after` pass takes what was written onto the links, due at the next
//! tick plus the delay. The first `before` pass is tick 0.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use rand::SeedableRng;
use rand::rngs::ChaCha12Rng as StdRng;

mod end;
mod link;

use end::Shared;
pub(crate) use end::{Connect, SimSock};
use link::{Link, roll, span};

/// How a simulated network behaves: its seed and its faults. The default
/// has no faults (and seed 0).
///
/// ```
/// use hio_io::{Faults, SimConfig};
/// let flaky = SimConfig {
///     seed: 7,
///     faults: Faults { segment: true, delay: (0, 3), ..Faults::default() },
/// };
/// assert_ne!(flaky, SimConfig::default());
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SimConfig {
    /// Seeds every random choice the network makes: the same seed and the
    /// same calls give the same bytes at the same ticks.
    pub seed: u64,
    /// What goes wrong, and how often.
    pub faults: Faults,
}

/// Faults of a simulated network, each drawn from its seed. Probabilities
/// are per tick (or per connect) and off at 0; tick ranges are `(min,
/// max)`, both included.
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Ticks a written chunk takes to arrive beyond the next tick: `(0, 0)`
    /// delivers in the next `before` pass. A stream never reorders: a chunk
    /// is not due before the one written ahead of it.
    pub delay: (u32, u32),
    /// Deliveries are split at random boundaries: each direction delivers
    /// one piece of random size per tick, so a reader gets a message in
    /// pieces over successive ticks.
    pub segment: bool,
    /// Probability per tick and direction that the direction stops
    /// delivering, for [`stall_ticks`](Self::stall_ticks) ticks.
    pub stall: f64,
    /// How long a stall lasts, in ticks.
    pub stall_ticks: (u32, u32),
    /// Probability per tick that an open connection (connected, accepted,
    /// nothing finished) is reset: both ends end `Reset`, and what was in
    /// flight is lost.
    pub reset: f64,
    /// Probability per tick that one direction of an open connection is
    /// closed early: its reader sees the end of the stream after what it
    /// was delivered (`PeerClosed`); what was in flight on it, and what its
    /// writer writes later, is accepted and silently discarded (the writer
    /// stays `Open`, as behind a middlebox that dropped that half). The
    /// other direction goes on.
    pub half_close: f64,
    /// Probability that a connect is refused: the connection ends
    /// `Failed("connect failed: connection refused")`, or with `reconnect`
    /// tries again after its back-off.
    pub refuse: f64,
    /// Probability that a connect is never answered: it stays `Connecting`
    /// until its connect timeout ends it `TimedOut`; with no connect
    /// timeout, until its doer lets go of it.
    pub connect_timeout: f64,
    /// Probability per tick that a partition starts (while none is on),
    /// lasting [`partition_ticks`](Self::partition_ticks) ticks: no bytes
    /// are delivered on any link and no connect is answered; what is
    /// written meanwhile is held, and flows once it heals.
    pub partition: f64,
    /// How long a random partition lasts, in ticks.
    pub partition_ticks: (u32, u32),
    /// Scripted partitions, as `(start, end)` tick numbers: partitioned
    /// from tick `start` up to (not including) tick `end`.
    pub partitions: Vec<(u64, u64)>,
}

impl Default for Faults {
    fn default() -> Self {
        Faults {
            delay: (0, 0),
            segment: false,
            stall: 0.0,
            stall_ticks: (1, 8),
            reset: 0.0,
            half_close: 0.0,
            refuse: 0.0,
            connect_timeout: 0.0,
            partition: 0.0,
            partition_ticks: (1, 16),
            partitions: Vec::new(),
        }
    }
}

/// The first port picked for port 0 and for clients' own addresses.
const FIRST_PORT: u16 = 40000;

/// Connections a listener's "kernel" holds before the host accepts them;
/// a connect beyond it is refused.
const KERNEL_BACKLOG: usize = 1024;

/// A connect on its way.
struct Dial {
    /// The tick it is answered at (if not partitioned).
    due: u64,
    target: SocketAddr,
    end: Shared,
}

/// The simulated network's own state (the host's listeners and
/// connections stay in the [`Net`](crate::Net)).
pub(crate) struct SimNet {
    faults: Faults,
    seed: u64,
    rng: StdRng,
    /// `before` passes so far: the number of the next tick.
    passes: u64,
    next_port: u16,
    next_id: u64,
    /// Listening addresses, with their listeners.
    bound: BTreeMap<SocketAddr, u64>,
    /// Per listener, connections up and not yet accepted by the host.
    backlog: BTreeMap<u64, VecDeque<u64>>,
    links: BTreeMap<u64, Link>,
    dials: BTreeMap<u64, Dial>,
    partition_until: u64,
}

fn loopback(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
    }
}

fn unspecified(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

impl SimNet {
    pub fn new(config: SimConfig) -> SimNet {
        SimNet {
            rng: StdRng::seed_from_u64(config.seed),
            seed: config.seed,
            faults: config.faults,
            passes: 0,
            next_port: FIRST_PORT,
            next_id: 0,
            bound: BTreeMap::new(),
            backlog: BTreeMap::new(),
            links: BTreeMap::new(),
            dials: BTreeMap::new(),
            partition_until: 0,
        }
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// A port no listener holds, counting up from 40000 (and around).
    fn ephemeral(&mut self) -> u16 {
        for _ in FIRST_PORT..=u16::MAX {
            let p = self.next_port;
            self.next_port = if p == u16::MAX { FIRST_PORT } else { p + 1 };
            if !self.bound.keys().any(|a| a.port() == p) {
                return p;
            }
        }
        self.next_port
    }

    /// Binds listener `lid` to `target` (port 0: an ephemeral port);
    /// returns the address bound. A wildcard address and a specific one of
    /// the same family and port conflict, as they do for real.
    pub fn bind(&mut self, target: SocketAddr, lid: u64) -> io::Result<SocketAddr> {
        let port = if target.port() == 0 {
            self.ephemeral()
        } else {
            target.port()
        };
        let addr = SocketAddr::new(target.ip(), port);
        let any = unspecified(addr.ip());
        let taken = self.bound.keys().any(|b| {
            b.port() == port
                && b.is_ipv4() == addr.is_ipv4()
                && (b.ip() == addr.ip() || b.ip() == any || addr.ip() == any)
        });
        if taken {
            return Err(io::ErrorKind::AddrInUse.into());
        }
        self.bound.insert(addr, lid);
        self.backlog.insert(lid, VecDeque::new());
        Ok(addr)
    }

    /// Unbinds listener `lid`: the connections it had not accepted are
    /// reset.
    pub fn unbind(&mut self, lid: u64) {
        self.bound.retain(|_, l| *l != lid);
        for id in self.backlog.remove(&lid).unwrap_or_default() {
            if let Some(link) = self.links.get_mut(&id) {
                link.ends[1].lock().closed = true;
                link.reset();
            }
        }
    }

    fn lookup(&self, target: SocketAddr) -> Option<u64> {
        let any = SocketAddr::new(unspecified(target.ip()), target.port());
        self.bound
            .get(&target)
            .or_else(|| self.bound.get(&any))
            .copied()
    }

    /// Starts a connect to `target`, answered at the next `before` pass.
    pub fn dial(&mut self, target: SocketAddr) -> SimSock {
        let mut target = target;
        if target.ip().is_unspecified() {
            target.set_ip(loopback(target.ip()));
        }
        let local = SocketAddr::new(loopback(target.ip()), self.ephemeral());
        let end = Shared::new(local, target, Connect::Pending);
        let id = self.id();
        self.dials.insert(
            id,
            Dial {
                due: self.passes,
                target,
                end: end.clone(),
            },
        );
        SimSock::new(end)
    }

    /// The oldest connection listener `lid` has not accepted, and its
    /// peer's address.
    pub fn accept(&mut self, lid: u64) -> Option<(SimSock, SocketAddr)> {
        let id = self.backlog.get_mut(&lid)?.pop_front()?;
        let link = self.links.get_mut(&id)?;
        link.accepted = true;
        let end = link.ends[1].clone();
        let peer = end.lock().peer;
        Some((SimSock::new(end), peer))
    }

    /// Whether listener `lid` has connections to accept.
    pub fn backlogged(&self, lid: u64) -> bool {
        self.backlog.get(&lid).is_some_and(|b| !b.is_empty())
    }

    fn partitioned(&self, tick: u64) -> bool {
        tick < self.partition_until
            || self
                .faults
                .partitions
                .iter()
                .any(|&(start, end)| start <= tick && tick < end)
    }

    /// The `before` pass: the tick's partition, connects and deliveries.
    pub fn before(&mut self) {
        let tick = self.passes;
        self.passes += 1;
        if tick >= self.partition_until && roll(&mut self.rng, self.faults.partition) {
            self.partition_until = tick + span(&mut self.rng, self.faults.partition_ticks);
        }
        let partitioned = self.partitioned(tick);
        if !partitioned {
            self.answer(tick);
        }
        for link in self.links.values_mut() {
            link.strike(tick, &self.faults);
            if !partitioned {
                link.deliver(tick, self.faults.segment);
            }
        }
        self.links.retain(|_, l| !l.done());
        self.refresh();
    }

    /// Answers the connects due at `tick`.
    fn answer(&mut self, tick: u64) {
        let due: Vec<u64> = self
            .dials
            .iter()
            .filter(|(_, d)| d.due <= tick)
            .map(|(&k, _)| k)
            .collect();
        for k in due {
            let Some(dial) = self.dials.remove(&k) else {
                continue;
            };
            if dial.end.lock().closed {
                continue;
            }
            let listener = self.lookup(dial.target).filter(|lid| {
                self.backlog
                    .get(lid)
                    .is_some_and(|b| b.len() < KERNEL_BACKLOG)
            });
            let Some(lid) = listener.filter(|_| !roll(&mut self.rng, self.faults.refuse)) else {
                let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
                dial.end.lock().connect = Connect::Refused(refused.to_string());
                continue;
            };
            if roll(&mut self.rng, self.faults.connect_timeout) {
                // Never answered: the connect timeout ends it.
                continue;
            }
            let local = {
                let mut e = dial.end.lock();
                e.connect = Connect::Up;
                e.local
            };
            let server = Shared::new(dial.target, local, Connect::Up);
            let id = self.id();
            let rng = StdRng::seed_from_u64(self.seed ^ id.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            self.links.insert(id, Link::new(dial.end, server, rng));
            if let Some(b) = self.backlog.get_mut(&lid) {
                b.push_back(id);
            }
        }
    }

    /// The `after` pass: what was written goes onto the links.
    pub fn after(&mut self) {
        let next = self.passes;
        for link in self.links.values_mut() {
            link.collect(next, self.faults.delay);
        }
        self.links.retain(|_, l| !l.done());
        self.refresh();
    }

    /// Sets how much each end's writes may take now.
    pub fn refresh(&self) {
        for link in self.links.values() {
            link.refresh();
        }
    }

    /// Whether a tick would move something: bytes in flight or written,
    /// or a connect to answer.
    pub fn busy(&self) -> bool {
        !self.dials.is_empty() || self.links.values().any(Link::busy)
    }
}
