//! Real mode's lossless pacing, against a fake wall clock.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use hio_scheduler::{Doist, Spec, WallClock};

use crate::util::Scripted;

#[derive(Clone, Default)]
struct FakeClock {
    now: Rc<RefCell<Duration>>,
    sleeps: Rc<RefCell<Vec<(Duration, Duration)>>>,
}

impl WallClock for FakeClock {
    fn now(&self) -> Duration {
        *self.now.borrow()
    }

    fn sleep(&self, d: Duration) {
        let at = *self.now.borrow();
        self.sleeps.borrow_mut().push((at, d));
        *self.now.borrow_mut() += d;
    }
}

#[test]
fn after_an_overrun_ticks_do_not_sleep_until_caught_up() {
    let clock = FakeClock::default();
    let tock = Duration::from_millis(100);
    let slow = clock.clone();
    // The second recur overruns by three tocks of wall time.
    let doer = Scripted::new(100).on(2, move |_| *slow.now.borrow_mut() += tock * 3);
    let mut doist = Doist::new(0.1)
        .real(true)
        .limit(0.55)
        .clock(Box::new(clock.clone()));
    doist.add(Spec::doer("slow", 0.0, doer)).unwrap();
    doist.run().unwrap();
    let ms = |d: Duration| d.as_millis();
    let sleeps: Vec<(u128, u128)> = clock
        .sleeps
        .borrow()
        .iter()
        .map(|&(at, d)| (ms(at), ms(d)))
        .collect();
    // Tick 1 sleeps to 100 ms; tick 2 ends at 400 ms (deadline 200): no
    // sleep; ticks 3 and 4 (deadlines 300, 400) are caught up; ticks 5 and 6
    // sleep again to 500 and 600.
    assert_eq!(sleeps, [(0, 100), (400, 100), (500, 100)]);
}
