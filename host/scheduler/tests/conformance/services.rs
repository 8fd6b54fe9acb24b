//! The seam between ticks: where host services run within a tick, how a
//! real-mode wait goes through them, how `Wake::Io` lets one end the wait
//! early, and how the recorded tick starts replay the run exactly.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use hio_scheduler::{
    Context, Doer, Doist, HookResult, Recorder, Services, Spec, Tick, TraceBuffer, WaitEnd, Wake,
    WallClock,
};

/// A wall clock that moves only when slept on or pushed.
#[derive(Clone, Default)]
struct FakeClock(Rc<RefCell<Duration>>);

impl FakeClock {
    fn advance(&self, d: Duration) {
        *self.0.borrow_mut() += d;
    }
}

impl WallClock for FakeClock {
    fn now(&self) -> Duration {
        *self.0.borrow()
    }

    fn sleep(&self, d: Duration) {
        self.advance(d);
    }
}

type Log = Rc<RefCell<Vec<String>>>;

/// Counts its calls, writes each to the log, keeps every tick start, and
/// ends the waits it is told to early, 10 ms of wall time in.
struct TestService {
    log: Log,
    clock: FakeClock,
    /// Wait numbers (1-based) that end early.
    early: Vec<u32>,
    waits: u32,
    befores: u32,
    afters: u32,
    ticks: Vec<Tick>,
    end: Option<Tick>,
}

impl TestService {
    fn new(log: &Log, clock: &FakeClock, early: &[u32]) -> TestService {
        TestService {
            log: Rc::clone(log),
            clock: clock.clone(),
            early: early.to_vec(),
            waits: 0,
            befores: 0,
            afters: 0,
            ticks: Vec::new(),
            end: None,
        }
    }
}

impl Services for TestService {
    fn before(&mut self, tick: Tick) {
        self.befores += 1;
        self.ticks.push(tick);
        let early = if tick.early { " early" } else { "" };
        self.log
            .borrow_mut()
            .push(format!("before {}{early}", tick.tyme));
    }

    fn after(&mut self, tyme: f64) {
        self.afters += 1;
        self.log.borrow_mut().push(format!("after {tyme}"));
    }

    fn end(&mut self, last: Tick) {
        self.end = Some(last);
    }

    fn wait(&mut self, clock: &dyn WallClock, timeout: Duration) -> WaitEnd {
        self.waits += 1;
        self.log
            .borrow_mut()
            .push(format!("wait {}ms", timeout.as_millis()));
        if self.early.contains(&self.waits) && timeout > Duration::from_millis(10) {
            self.clock.advance(Duration::from_millis(10));
            return WaitEnd::Ready;
        }
        clock.sleep(timeout);
        WaitEnd::Elapsed
    }
}

/// A doer that writes each recur's tyme to the log and is never done.
#[derive(Clone)]
struct Logs(Log);

impl Doer for Logs {
    fn recur(&mut self, _cx: &mut Context<'_>, tyme: f64) -> HookResult<bool> {
        self.0.borrow_mut().push(format!("recur {tyme}"));
        Ok(false)
    }
}

fn lines(log: &Log) -> Vec<String> {
    log.borrow().clone()
}

#[test]
fn each_tick_runs_before_then_the_doers_then_after_then_the_wait() {
    let log = Log::default();
    let clock = FakeClock::default();
    let mut doist = Doist::new(0.25)
        .limit(0.75)
        .services(TestService::new(&log, &clock, &[]));
    doist
        .add(Spec::doer("d", 0.0, Logs(Rc::clone(&log))))
        .unwrap();
    doist.run().unwrap();
    // Simulated time: the wait is a zero-length call, and the clock never moves.
    assert_eq!(
        lines(&log),
        [
            "before 0",
            "recur 0",
            "after 0",
            "wait 0ms", //
            "before 0.25",
            "recur 0.25",
            "after 0.25",
            "wait 0ms", //
            "before 0.5",
            "recur 0.5",
            "after 0.5",
            "wait 0ms",
        ]
    );
    assert_eq!(clock.now(), Duration::ZERO);
    let s: &TestService = doist.services_ref().unwrap();
    assert_eq!((s.befores, s.afters, s.waits), (3, 3, 3));
}

#[test]
fn services_change_nothing_in_the_trace() {
    let run = |with: bool| {
        let trace = TraceBuffer::new();
        let mut doist = Doist::new(0.125).limit(1.0).trace(trace.clone());
        if with {
            let log = Log::default();
            doist = doist.services(TestService::new(&log, &FakeClock::default(), &[1, 2]));
        }
        doist.add(Recorder::spec("a", 0.0, 3)).unwrap();
        doist.add(Recorder::spec("b", 0.25, 2)).unwrap();
        doist.run().unwrap();
        trace.to_json_lines()
    };
    assert_eq!(run(true), run(false));
}

/// A real-mode run of tock 0.1 to tyme 0.3 on a fake clock, whose waits
/// numbered in `early` end early; a tock-0 doer logs its recurs.
fn real_run(wake: Wake, early: &[u32]) -> (Log, FakeClock, Doist) {
    let log = Log::default();
    let clock = FakeClock::default();
    let mut doist = Doist::new(0.1)
        .real(true)
        .wake(wake)
        .limit(0.3)
        .clock(Box::new(clock.clone()))
        .services(TestService::new(&log, &clock, early));
    doist
        .add(Spec::doer("d", 0.0, Logs(Rc::clone(&log))))
        .unwrap();
    doist.run().unwrap();
    (log, clock, doist)
}

#[test]
fn in_real_mode_the_wait_goes_through_the_services_for_the_rest_of_the_tock() {
    let (log, clock, _) = real_run(Wake::Grid, &[]);
    let waits: Vec<String> = lines(&log)
        .into_iter()
        .filter(|l| l.starts_with("wait"))
        .collect();
    assert_eq!(waits, ["wait 100ms", "wait 100ms", "wait 100ms"]);
    assert_eq!(clock.now(), Duration::from_millis(300));
}

#[test]
fn on_the_grid_an_early_end_of_the_wait_does_not_start_a_tick() {
    let (log, _, doist) = real_run(Wake::Grid, &[1]);
    let s: &TestService = doist.services_ref().unwrap();
    let tymes: Vec<f64> = s.ticks.iter().map(|t| t.tyme).collect();
    assert_eq!(tymes, [0.0, 0.1, 0.2]);
    assert!(s.ticks.iter().all(|t| !t.early));
    // The first wait ended 10 ms in; the Doist waited out the other 90.
    assert_eq!(lines(&log)[3..5], ["wait 100ms", "wait 90ms"]);
}

/// One real-mode run with `Wake::Io` whose second wait ends early.
fn io_run() -> (String, Vec<Tick>, Vec<String>) {
    let log = Log::default();
    let clock = FakeClock::default();
    let trace = TraceBuffer::new();
    let mut doist = Doist::new(0.1)
        .real(true)
        .wake(Wake::Io)
        .limit(0.3)
        .clock(Box::new(clock.clone()))
        .trace(trace.clone())
        .services(TestService::new(&log, &clock, &[2]));
    doist
        .add(Spec::doer("d", 0.0, Logs(Rc::clone(&log))))
        .unwrap();
    doist.add(Recorder::spec("slow", 0.2, 9)).unwrap();
    doist.run().unwrap();
    let s: &TestService = doist.services_ref().unwrap();
    let mut ticks = s.ticks.clone();
    ticks.extend(s.end);
    (trace.to_json_lines(), ticks, lines(&log))
}

#[test]
fn with_wake_io_a_service_that_ends_the_wait_early_starts_the_next_tick_at_once() {
    let (_, ticks, log) = io_run();
    let at = |tyme: f64, early: bool| Tick { tyme, early };
    // Tick 3 starts 10 ms into the second wait, at the wall time since the
    // start; the grid goes on at 0.2 and 0.3.
    let tymes: Vec<(f64, bool)> = ticks.iter().map(|t| (t.tyme, t.early)).collect();
    assert_eq!(tymes.len(), 5, "{tymes:?}");
    assert_eq!(ticks[0], at(0.0, false));
    assert_eq!(ticks[1], at(0.1, false));
    assert!(
        (ticks[2].tyme - 0.11).abs() < 1e-9 && ticks[2].early,
        "{tymes:?}"
    );
    assert!(
        (ticks[3].tyme - 0.2).abs() < 1e-9 && !ticks[3].early,
        "{tymes:?}"
    );
    // The run ends at the limit, at the wall time of the last grid tock.
    assert!(
        (ticks[4].tyme - 0.3).abs() < 1e-9 && !ticks[4].early,
        "{tymes:?}"
    );
    // The tock-0 doer runs in every tick, the early one included.
    let recurs = log.iter().filter(|l| l.starts_with("recur")).count();
    assert_eq!(recurs, 4);
}

#[test]
fn the_recorded_tick_starts_replay_the_run_exactly_without_a_clock() {
    let (trace, ticks, log) = io_run();
    let replay_log = Log::default();
    let replay_trace = TraceBuffer::new();
    let mut doist = Doist::new(0.1)
        .wake(Wake::Io)
        .limit(0.3)
        .trace(replay_trace.clone())
        .replay(ticks.clone());
    doist
        .add(Spec::doer("d", 0.0, Logs(Rc::clone(&replay_log))))
        .unwrap();
    doist.add(Recorder::spec("slow", 0.2, 9)).unwrap();
    doist.run().unwrap();
    assert_eq!(replay_trace.to_json_lines(), trace);
    let recurs = |l: &[String]| -> Vec<String> {
        l.iter()
            .filter(|l| l.starts_with("recur"))
            .cloned()
            .collect()
    };
    assert_eq!(recurs(&lines(&replay_log)), recurs(&log));
}

#[test]
fn with_wake_io_tyme_strictly_increases_even_where_1_ns_is_below_its_precision() {
    let clock = FakeClock::default();
    let trace = TraceBuffer::new();
    let mut doist = Doist::new(0.1)
        .real(true)
        .wake(Wake::Io)
        .clock(Box::new(clock.clone()))
        .trace(trace.clone());
    // At 1e9 s one f64 step is about 119 ns: the wall time since the start
    // (0.1 s, 0.2 s, ...) is below tyme, and 1 ns more rounds back to it.
    doist.set_tyme(1e9);
    doist.add(Recorder::spec("r", 0.0, 3)).unwrap();
    doist.run().unwrap();
    let tymes: Vec<f64> = trace
        .records()
        .iter()
        .filter(|r| r.doer == "r" && r.event == hio_scheduler::trace::Event::Recur)
        .map(|r| r.tyme)
        .collect();
    assert_eq!(tymes.len(), 4, "{tymes:?}");
    assert!(tymes.windows(2).all(|w| w[1] > w[0]), "{tymes:?}");
    assert_eq!(tymes[1], 1e9f64.next_up());
}
