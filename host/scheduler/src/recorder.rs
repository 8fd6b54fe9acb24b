//! [`Recorder`]: the native twin of the `recorder` plugin, hio's ExDoer and
//! TryDoer. The host writes the trace; the recorder only counts.

use crate::tree::doer::{Context, Doer, HookResult};
use crate::tree::spec::Spec;

/// Counts its recurs and completes once the count passes `stop`.
///
/// Count is 0 after `enter`; each recur adds 1, sets the tock to `retock`
/// if this is recur number `retock_at`, then fails with reason
/// `fail_at <N>` if the count equals `fail_at`, else reports done if the
/// count is above `stop`. `Recorder::new(3)` is hio's ExDoer.
///
/// ```
/// use hio_scheduler::{Doist, Recorder};
/// let mut doist = Doist::new(1.0);
/// doist.add(Recorder::spec("r", 0.0, 2));
/// doist.run().unwrap();
/// assert_eq!(doist.tyme(), 3.0); // recurs at 0, 1, 2; done at the third
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recorder {
    /// Done once the count is above this.
    pub stop: u64,
    /// Fail at this recur.
    pub fail_at: Option<u64>,
    /// Tock set at enter.
    pub tock: Option<f64>,
    /// `(retock_at, retock)`: set the tock during that recur.
    pub retock: Option<(u64, f64)>,
    count: u64,
}

impl Recorder {
    /// A recorder that completes at recur number `stop + 1`.
    pub fn new(stop: u64) -> Recorder {
        Recorder {
            stop,
            ..Recorder::default()
        }
    }

    /// A leaf spec of a `Recorder::new(stop)` with this tock.
    pub fn spec(name: &str, tock: f64, stop: u64) -> Spec {
        Spec::doer(name, tock, Recorder::new(stop))
    }

    /// Fails at recur number `n`.
    pub fn fail_at(mut self, n: u64) -> Recorder {
        self.fail_at = Some(n);
        self
    }

    /// Sets the tock to `tock` during recur number `at`.
    pub fn retock(mut self, at: u64, tock: f64) -> Recorder {
        self.retock = Some((at, tock));
        self
    }

    /// Recurs so far.
    pub fn count(&self) -> u64 {
        self.count
    }
}

impl Doer for Recorder {
    fn enter(&mut self, cx: &mut Context<'_>) -> HookResult {
        self.count = 0;
        if let Some(tock) = self.tock {
            cx.set_tock(tock).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn recur(&mut self, cx: &mut Context<'_>, _tyme: f64) -> HookResult<bool> {
        self.count += 1;
        if let Some((at, tock)) = self.retock
            && at == self.count
        {
            cx.set_tock(tock).map_err(|e| e.to_string())?;
        }
        if self.fail_at == Some(self.count) {
            return Err(format!("fail_at {}", self.count).into());
        }
        Ok(self.count > self.stop)
    }
}
