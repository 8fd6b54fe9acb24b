//! [`DoDoer`]: a doer that runs its own queue of doers inside its parent's
//! tick, at its own tock.

use crate::supervision::Supervision;
use crate::tree::spec::{Spec, SpecKind};

/// A DoDoer: its children run, in order, each time it is due.
///
/// Its children's tock-0 cadence is the DoDoer's own tock. It completes when
/// its queue is empty after a pass, unless `always` is set. Its supervision
/// policy decides what happens when a child fails.
///
/// ```
/// use hio_scheduler::{Doist, DoDoer, Recorder, TraceBuffer};
/// let trace = TraceBuffer::new();
/// let mut doist = Doist::new(0.25).trace(trace.clone());
/// doist.add(DoDoer::new("A").tock(0.5).doer(Recorder::spec("a", 0.0, 1)));
/// doist.run().unwrap();
/// let recurs: Vec<f64> = trace.records().iter()
///     .filter(|r| r.doer == "A/a" && r.event == hio_scheduler::trace::Event::Recur)
///     .map(|r| r.tyme).collect();
/// assert_eq!(recurs, [0.0, 0.5]);
/// ```
#[derive(Debug, Clone)]
pub struct DoDoer {
    pub(crate) name: String,
    pub(crate) tock: f64,
    pub(crate) always: bool,
    pub(crate) supervision: Supervision,
    pub(crate) doers: Vec<Spec>,
}

impl DoDoer {
    /// An empty DoDoer with tock 0 (it runs at its parent's cadence).
    pub fn new(name: impl Into<String>) -> Self {
        DoDoer {
            name: name.into(),
            tock: 0.0,
            always: false,
            supervision: Supervision::default(),
            doers: Vec::new(),
        }
    }

    /// Sets its tock.
    pub fn tock(mut self, tock: f64) -> Self {
        self.tock = tock;
        self
    }

    /// Keeps it running when its queue is empty.
    pub fn always(mut self, always: bool) -> Self {
        self.always = always;
        self
    }

    /// Sets the policy for its children's failures.
    pub fn supervision(mut self, supervision: Supervision) -> Self {
        self.supervision = supervision;
        self
    }

    /// Appends a child.
    pub fn doer(mut self, spec: impl Into<Spec>) -> Self {
        self.doers.push(spec.into());
        self
    }

    /// Appends children.
    pub fn doers(mut self, specs: impl IntoIterator<Item = Spec>) -> Self {
        self.doers.extend(specs);
        self
    }
}

impl From<DoDoer> for Spec {
    fn from(d: DoDoer) -> Spec {
        Spec {
            name: d.name.clone(),
            tock: d.tock,
            kind: SpecKind::Group(d),
        }
    }
}
