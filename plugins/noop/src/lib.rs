//! Does nothing per recur and is never done: the benchmark's unit of
//! scheduling cost. With `stagger` (integer >= 0) and `period` (number > 0)
//! it runs every tick until recur number `stagger + 1`, then sets its tock
//! to `period`, so a population of them spreads evenly over the ticks.

use hio_guest::{Doer, Options, export_doer, tyme};

struct Noop {
    retock: Option<(i64, f64)>,
    count: i64,
}

impl Doer for Noop {
    const OPTIONS: &'static [&'static str] = &["stagger", "period"];

    fn enter(options: &Options) -> Result<Self, String> {
        options.only(Self::OPTIONS)?;
        let retock = match (options.integer("stagger")?, options.float("period")?) {
            (Some(s), Some(p)) if s >= 0 && p > 0.0 => Some((s + 1, p)),
            (None, None) => None,
            _ => return Err("options `stagger` (>= 0) and `period` (> 0) go together".into()),
        };
        Ok(Noop { retock, count: 0 })
    }

    fn recur(&mut self, _tyme: f64) -> Result<bool, String> {
        self.count += 1;
        if let Some((at, period)) = self.retock
            && at == self.count
        {
            tyme::set_tock(period)?;
        }
        Ok(false)
    }
}

export_doer!(Noop);
