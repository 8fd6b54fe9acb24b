//! [`Doist`]: the root scheduler. It owns tyme and runs the tree, one tick
//! at a time.

use std::any::Any;
use std::collections::{BTreeSet, VecDeque};
use std::io;
use std::time::Duration;

use crate::clock::{SystemClock, WallClock};
use crate::log::Logger;
use crate::pacing::{Pacer, Sleep};
use crate::services::{Services, Tick, Wake};
use crate::supervision::Supervision;
use crate::trace::{Event, Line, TraceSink};
use crate::tree::arena::Phase;
use crate::tree::doer::TreeError;
use crate::tree::edit::check_spec;
use crate::tree::id::DoerId;
use crate::tree::spec::Spec;
use crate::tree::walk::{Escalated, Scheduler};
use crate::tyme::{DEFAULT_TOCK, Tymth};

/// The root of a doer tree: a queue of deeds walked once per tick.
///
/// [`run`](Self::run) is a loop over [`step`](Self::step): enter the tree if
/// needed, run one tick ([`recur`](Self::recur)), then stop when no deed is
/// left (done) or the limit is reached (not done). On stop the remaining
/// deeds are closed from the back of the queue to the front.
///
/// ```
/// use hio_scheduler::{Doist, Recorder, TraceBuffer};
/// let trace = TraceBuffer::new();
/// let mut doist = Doist::new(1.0 / 32.0).limit(0.125).trace(trace.clone());
/// doist.add(Recorder::spec("d0", 1.0 / 32.0, 3));
/// doist.add(Recorder::spec("d1", 1.0 / 16.0, 3));
/// doist.run().unwrap();
/// assert_eq!(doist.tyme(), 0.125);
/// assert!(!doist.done());
/// let last = trace.records().pop().unwrap();
/// assert_eq!(last.to_json(), r#"{"tyme":0.125,"doer":"","event":"done","done":false}"#);
/// ```
pub struct Doist {
    sched: Scheduler,
    specs: Vec<Spec>,
    names: BTreeSet<String>,
    limit: Option<f64>,
    real: bool,
    done: bool,
    clock: Box<dyn WallClock>,
    pacer: Option<Pacer>,
    wake: Wake,
    services: Option<Box<dyn Services>>,
    /// The tick about to run began early (a service ended the wait).
    early: bool,
    /// Recorded tick starts fed back instead of the wall clock.
    replay: Option<VecDeque<Tick>>,
    /// Decks delivered at the tick barrier.
    decks: Option<crate::Decks>,
}

impl Doist {
    /// A Doist with this tock, no limit, simulated time, trace off.
    pub fn new(tock: f64) -> Doist {
        Doist {
            sched: Scheduler::new(tock, Supervision::default()),
            specs: Vec::new(),
            names: BTreeSet::new(),
            limit: None,
            real: false,
            done: false,
            clock: Box::new(SystemClock::default()),
            pacer: None,
            wake: Wake::Grid,
            services: None,
            early: false,
            replay: None,
            decks: None,
        }
    }

    /// Stops the run once tyme reaches `limit` (checked after each tick).
    pub fn limit(mut self, limit: f64) -> Doist {
        self.limit = Some(limit);
        self
    }

    /// The limit, if one is set.
    pub fn limit_tyme(&self) -> Option<f64> {
        self.limit
    }

    /// Sets or clears the limit.
    pub fn set_limit(&mut self, limit: Option<f64>) {
        self.limit = limit;
    }

    /// In real mode each tick lasts one tock of wall time.
    pub fn real(mut self, real: bool) -> Doist {
        self.real = real;
        self
    }

    /// Paces real mode against this clock instead of the system's.
    pub fn clock(mut self, clock: Box<dyn WallClock>) -> Doist {
        self.clock = clock;
        self
    }

    /// When a real-mode tick may start: on the tock grid (the default), or
    /// also as soon as a service has I/O ready. See [`Wake`].
    pub fn wake(mut self, wake: Wake) -> Doist {
        self.wake = wake;
        self.sched.wake_io = wake == Wake::Io;
        self
    }

    /// Runs `services` at fixed points of every tick and spends the wait
    /// between ticks in them (see [`Services`]).
    pub fn services(mut self, services: impl Services) -> Doist {
        self.services = Some(Box::new(services));
        self
    }

    /// The services, if they are a `T`.
    pub fn services_ref<T: Services>(&self) -> Option<&T> {
        let s: &dyn Any = self.services.as_deref()?;
        s.downcast_ref()
    }

    /// The services, mutably, if they are a `T`.
    pub fn services_mut<T: Services>(&mut self) -> Option<&mut T> {
        let s: &mut dyn Any = self.services.as_deref_mut()?;
        s.downcast_mut()
    }

    /// Replays a run's tick starts, as its services saw them in
    /// [`Services::before`], followed by the end it saw in [`Services::end`],
    /// instead of reading the wall clock: each tick runs at the recorded
    /// tyme, as early as recorded, and nothing waits. With [`Wake::Io`] this
    /// reproduces a real-mode run's ticks exactly.
    pub fn replay(mut self, ticks: impl IntoIterator<Item = Tick>) -> Doist {
        self.replay = Some(ticks.into_iter().collect());
        self
    }

    /// Sends the lifecycle trace to `sink`.
    pub fn trace(mut self, sink: impl TraceSink + 'static) -> Doist {
        self.sched.trace = Some(Box::new(sink));
        self
    }

    /// Sends log lines to `logger` instead of stderr.
    pub fn logger(mut self, logger: Logger) -> Doist {
        self.sched.logger = logger;
        self
    }

    /// The policy for top-level doers' failures.
    pub fn supervision(mut self, supervision: Supervision) -> Doist {
        if let Some(g) = self
            .sched
            .node_mut(self.sched.root)
            .and_then(|n| n.group_mut())
        {
            g.supervision = supervision;
        }
        self
    }

    /// Runs crews on `threads` threads (1, the default: on the Doist's own
    /// thread). The trace is the same for any number.
    pub fn threads(mut self, threads: usize) -> Doist {
        self.sched.pool =
            (threads > 1).then(|| std::rc::Rc::new(crate::tree::crew::Pool::new(threads)));
        self
    }

    /// The decks whose items cross crews are delivered at the end of each
    /// tick (see [`Decks::cross`](crate::Decks::cross)).
    pub fn decks(mut self, decks: crate::Decks) -> Doist {
        self.decks = Some(decks);
        self
    }

    /// Walks every deed each tick, as hio does, instead of using the index
    /// on due time. Same trace, more work; kept to check the index against.
    pub fn plain_walk(mut self, plain: bool) -> Doist {
        self.sched.plain = plain;
        self
    }

    /// Adds a top-level doer to the tree that [`enter`](Self::enter) builds;
    /// every later run enters it again. During a run it is also entered at
    /// once. Names are checked here, before anything runs.
    pub fn add(&mut self, spec: impl Into<Spec>) -> Result<(), TreeError> {
        let spec = spec.into();
        check_spec(&spec)?;
        if self.names.contains(&spec.name) {
            return Err(TreeError::Duplicate {
                parent: String::new(),
                name: spec.name,
            });
        }
        if self.sched.entered {
            self.sched
                .extend(self.sched.root, vec![spec.clone()], true)?;
        }
        self.names.insert(spec.name.clone());
        self.specs.push(spec);
        // An escalation surfaces from the next step.
        Ok(())
    }

    /// Adds doers to DoDoer `group` (or the root) of the running tree and
    /// enters them at once. Not remembered for later runs. A failure that
    /// escalates to the root while entering them ends the run at the next
    /// [`recur`](Self::recur).
    pub fn extend(&mut self, group: DoerId, specs: Vec<Spec>) -> Result<Vec<DoerId>, TreeError> {
        self.sched.extend(group, specs, true)
    }

    /// Closes doers of the running tree (`cease`, `exit`), back first.
    pub fn remove(&mut self, ids: &[DoerId]) {
        self.sched.remove(ids);
    }

    /// Enters the whole tree, depth-first in order, at the current tyme.
    pub fn enter(&mut self) -> Result<(), Escalated> {
        if self.sched.entered {
            return Ok(());
        }
        self.done = false;
        let root = self.sched.root;
        for spec in &self.specs {
            self.sched.insert(root, spec, None);
        }
        self.sched.entered = true;
        self.sched.enter_all(root);
        self.early = false;
        if let Some(first) = self.replay.as_mut().and_then(VecDeque::pop_front) {
            self.sched.tymist.set_tyme(first.tyme);
            self.early = first.early;
        } else if self.real {
            self.pacer = Some(Pacer::start(self.clock.as_ref()));
        }
        self.settle()
    }

    /// One tick: the services' `before`, the walk of the root queue, the
    /// services' `after`, then tyme advances by one tock (with [`Wake::Io`]
    /// the wait sets the next tick's tyme instead). Enters the tree first if
    /// needed. No waiting, no stop checks.
    pub fn recur(&mut self) -> Result<(), Escalated> {
        self.enter()?;
        self.settle()?;
        let tyme = self.sched.tyme();
        if let Some(services) = self.services.as_mut() {
            services.before(Tick {
                tyme,
                early: self.early,
            });
        }
        self.sched.doom_pending = false;
        self.sched.tick_early = self.early;
        self.sched.walk(self.sched.root);
        if let Some(decks) = &self.decks {
            decks.deliver();
        }
        if let Some(services) = self.services.as_mut() {
            services.after(tyme);
        }
        // A failure that reached the root ends the run at its own tyme.
        self.settle()?;
        if self.wake == Wake::Grid || (self.pacer.is_none() && self.replay.is_none()) {
            self.sched.tymist.tick();
        }
        Ok(())
    }

    /// One tick, the wait until the next one, and the stop checks.
    /// `Ok(true)` means the run has ended and the tree is closed.
    pub fn step(&mut self) -> Result<bool, Escalated> {
        self.recur()?;
        self.pace();
        if self.is_empty() {
            self.close();
            return Ok(true);
        }
        if self.limit.is_some_and(|limit| self.tyme() >= limit) {
            self.close();
            return Ok(true);
        }
        Ok(false)
    }

    /// Runs until no deed is left or the limit is reached.
    pub fn run(&mut self) -> Result<(), Escalated> {
        while !self.step()? {}
        Ok(())
    }

    /// Ends the run: closes the remaining deeds from the back of the queue to
    /// the front and writes the final `done` record. Done is true when no
    /// deed was left.
    pub fn close(&mut self) {
        self.done = self.is_empty();
        let root = self.sched.root;
        self.sched.close_all(root);
        if let Some(root) = self.sched.node_mut(root) {
            root.doom = None;
        }
        let last = Tick {
            tyme: self.sched.tymist.tyme(),
            early: self.early,
        };
        if let Some(services) = self.services.as_mut() {
            services.end(last);
        }
        if let Some(sink) = self.sched.trace.as_mut() {
            sink.record(&Line {
                tyme: self.sched.tymist.tyme(),
                doer: "",
                event: Event::Done,
                reason: None,
                ran: true,
                attempt: None,
                done: Some(self.done),
            });
        }
        self.sched.entered = false;
        self.pacer = None;
        self.early = false;
    }

    /// The wait between ticks. Real mode waits for the next tock of wall
    /// time, through the services; with `Wake::Io` an early end starts the
    /// next tick at once, at the wall time since the start. A replay takes
    /// the next recorded tick. Simulated time gives the services a wait of
    /// zero.
    fn pace(&mut self) {
        if let Some(replay) = self.replay.as_mut() {
            if let Some(tick) = replay.pop_front() {
                self.sched.tymist.set_tyme(tick.tyme);
                self.early = tick.early;
            } else if self.wake == Wake::Io {
                // Past the recording: on the grid.
                self.sched.tymist.tick();
                self.early = false;
            }
            return;
        }
        let clock = self.clock.as_ref();
        let has_services = self.services.is_some();
        let services: &mut dyn Services = match self.services.as_deref_mut() {
            Some(s) => s,
            None => &mut Sleep,
        };
        let Some(pacer) = self.pacer.as_mut() else {
            if has_services {
                services.wait(clock, Duration::ZERO);
            }
            return;
        };
        let wake_io = self.wake == Wake::Io;
        self.early = pacer.wait(clock, self.sched.tymist.tock(), services, wake_io);
        if wake_io {
            // Tyme is the wall time since the start, at least 1 ns past the
            // previous tick's (or the next f64 up, where 1 ns is below the
            // precision of so large a tyme): strictly increasing.
            let prev = self.sched.tymist.tyme();
            let next = pacer.elapsed(clock).max(prev + 1e-9);
            self.sched
                .tymist
                .set_tyme(if next > prev { next } else { prev.next_up() });
        }
    }

    /// After an operation: a failure that escalated to the root ends the run.
    fn settle(&mut self) -> Result<(), Escalated> {
        match self.sched.escalated.take() {
            Some(e) => {
                self.close();
                self.done = false;
                Err(e)
            }
            None => Ok(()),
        }
    }

    /// Flushes the trace sink.
    pub fn flush_trace(&mut self) -> io::Result<()> {
        self.sched.trace.as_mut().map_or(Ok(()), |t| t.flush())
    }

    /// Whether the last run ended with no deed left.
    pub fn done(&self) -> bool {
        self.done
    }

    /// The current tyme.
    pub fn tyme(&self) -> f64 {
        self.sched.tyme()
    }

    /// Rewinds or sets the tyme (between runs).
    pub fn set_tyme(&mut self, tyme: f64) {
        self.sched.tymist.set_tyme(tyme);
    }

    /// A read-only handle on the tyme.
    pub fn tymth(&self) -> Tymth {
        self.sched.tymist.tymth()
    }

    /// The Doist's tock.
    pub fn tock(&self) -> f64 {
        self.sched.tymist.tock()
    }

    /// Changes the Doist's tock.
    pub fn set_tock(&mut self, tock: f64) {
        self.sched.tymist.set_tock(tock);
    }

    /// The root queue's id (to extend the top level).
    pub fn root(&self) -> DoerId {
        self.sched.root
    }

    /// Finds a live doer by path.
    pub fn find(&self, path: &str) -> Option<DoerId> {
        self.sched.find(path)
    }

    /// Whether no deed is left at the top level.
    pub fn is_empty(&self) -> bool {
        self.sched
            .queue(self.sched.root)
            .is_none_or(|q| q.is_empty())
    }

    /// The deeds of `group` in queue order: path and due time.
    pub fn deeds(&self, group: DoerId) -> Vec<(String, f64)> {
        let ids = self.sched.queue(group).map(|q| q.ids()).unwrap_or_default();
        ids.into_iter()
            .filter_map(|id| self.sched.node(id))
            .map(|n| (n.path.to_string(), n.retyme))
            .collect()
    }

    /// Whether doer `id` is in the tree and entered.
    pub fn is_live(&self, id: DoerId) -> bool {
        self.sched.node(id).is_some_and(|n| n.state == Phase::Live)
    }
}

impl Default for Doist {
    fn default() -> Self {
        Doist::new(DEFAULT_TOCK)
    }
}
