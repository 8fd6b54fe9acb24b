//! The recorder doer (docs/formats.md): counts its recurs; the host
//! writes the trace. Options: `stop` (integer >= 0, default 3), `fail_at`
//! (integer >= 1), `tock` (number >= 0, set at enter), `retock_at`
//! (integer >= 1) with `retock` (number >= 0). It logs nothing.

use hio_guest::{Doer, Options, export_doer, tyme};

struct Recorder {
    stop: i64,
    fail_at: Option<i64>,
    retock: Option<(i64, f64)>,
    count: i64,
}

fn at_least(options: &Options, name: &str, min: i64) -> Result<Option<i64>, String> {
    match options.integer(name)? {
        Some(v) if v < min => Err(format!("option `{name}` must be >= {min}, got {v}")),
        v => Ok(v),
    }
}

fn tock(options: &Options, name: &str) -> Result<Option<f64>, String> {
    match options.float(name)? {
        Some(v) if !(v.is_finite() && v >= 0.0) => Err(format!(
            "option `{name}` must be a finite number >= 0, got {v}"
        )),
        v => Ok(v),
    }
}

fn parse(options: &Options) -> Result<(Recorder, Option<f64>), String> {
    options.only(Recorder::OPTIONS)?;
    let stop = at_least(options, "stop", 0)?.unwrap_or(3);
    let fail_at = at_least(options, "fail_at", 1)?;
    let start_tock = tock(options, "tock")?;
    let retock = match (at_least(options, "retock_at", 1)?, tock(options, "retock")?) {
        (Some(at), Some(t)) => Some((at, t)),
        (None, None) => None,
        (Some(_), None) => return Err("option `retock_at` needs `retock`".into()),
        (None, Some(_)) => return Err("option `retock` needs `retock_at`".into()),
    };
    let r = Recorder {
        stop,
        fail_at,
        retock,
        count: 0,
    };
    Ok((r, start_tock))
}

impl Doer for Recorder {
    const OPTIONS: &'static [&'static str] = &["stop", "fail_at", "tock", "retock_at", "retock"];

    fn validate(options: &Options) -> Result<(), String> {
        parse(options).map(|_| ())
    }

    fn enter(options: &Options) -> Result<Self, String> {
        let (r, start_tock) = parse(options)?;
        if let Some(t) = start_tock {
            tyme::set_tock(t)?;
        }
        Ok(r)
    }

    fn recur(&mut self, _tyme: f64) -> Result<bool, String> {
        self.count += 1;
        if let Some((at, t)) = self.retock
            && at == self.count
        {
            tyme::set_tock(t)?;
        }
        if self.fail_at == Some(self.count) {
            return Err(format!("fail_at {}", self.count));
        }
        Ok(self.count > self.stop)
    }
}

export_doer!(Recorder);
