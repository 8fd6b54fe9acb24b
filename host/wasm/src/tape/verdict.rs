//! The verdicts a replay gives: where it first differed from its recording
//! ([`Divergence`], and the words that say what differed), and what a run
//! observed and did, in digests ([`Digests`]).

use std::fmt;

use hio_io::wire::{self, Op, Record, Wire, op_name};

/// Where a replay first differed from its recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Divergence {
    /// The tick, counted from 1.
    pub tick: u64,
    /// Its tyme.
    pub tyme: f64,
    /// The doer at fault, if one is.
    pub doer: String,
    /// The record the replay expected, by number (the header is 0).
    pub record: usize,
    /// What differed.
    pub what: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "tick {} (tyme {}), record {}",
            self.tick,
            hio_scheduler::fmt_tyme(self.tyme),
            self.record
        )?;
        if !self.doer.is_empty() {
            write!(f, ", doer {}", self.doer)?;
        }
        write!(f, ": {}", self.what)
    }
}

/// What a run observed and did, in digests (the same for a replay that
/// reproduced it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digests {
    /// SHA-256 of the lifecycle trace lines.
    pub trace: [u8; 32],
    /// SHA-256 of every byte doers wrote to the network.
    pub written: [u8; 32],
    /// How many bytes that is.
    pub bytes: u64,
    /// Network calls the doers made.
    pub calls: u64,
    /// Ticks.
    pub ticks: u64,
}

/// A replay's checksums or digests against the recording's: the first that differs,
/// by what its check says.
pub(super) fn same(trace: (bool, &str), written: (bool, &str)) -> Result<(), String> {
    match [trace, written].into_iter().find(|(ok, _)| !ok) {
        Some((_, what)) => Err(what.to_owned()),
        None => Ok(()),
    }
}

/// What the replay found where it expected something else.
pub(super) fn extra(r: &Record) -> String {
    match r {
        Record::Call { op, .. } => format!("the recording has a {} call here", op_name(*op)),
        Record::Doer { path } => format!("the recording has a call by {path} here"),
        Record::Tick { .. } => "the recording's tick ends here".into(),
        Record::Mark { .. } => "the recording's tick ends here".into(),
        other => format!("the recording has a {} record here", other.name()),
    }
}

/// The recorded result of call `op` (its arguments' checksum `args`),
/// where the recording has `record`; what differed, where it differs.
pub(super) fn recorded<T: Wire>(op: Op, args: u32, record: Option<&Record>) -> Result<T, String> {
    match record {
        Some(Record::Call {
            op: o,
            args: a,
            result,
        }) => {
            if *o != op as u64 {
                Err(format!(
                    "{}, where the recording has {}",
                    op.name(),
                    op_name(*o)
                ))
            } else if *a != args {
                Err(format!("{} with other arguments than recorded", op.name()))
            } else {
                wire::decode::<T>(result)
                    .map_err(|e| format!("{}: a damaged result: {e}", op.name()))
            }
        }
        Some(other) => Err(format!("{}: {}", op.name(), extra(other))),
        None => Err(format!("{}: the recording has ended", op.name())),
    }
}
