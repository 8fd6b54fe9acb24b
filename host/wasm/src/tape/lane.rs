//! A crew's lane of the run's tape. A crew's doers run on the crew's
//! thread, at the same time as other crews': recording, their records are
//! kept in the lane and handed over, one block per call on the crew, when
//! the run splices that call's output in walk order ([`Tape::splice`]), so
//! the log is the same for any number of threads; replaying, each lane
//! feeds its crew the blocks the log holds for it, whatever the other
//! crews are doing. The bytes a crew's doers write are handed over the
//! same way, so the run's digests do not depend on the threads either.

use hio_io::wire::Record;
use sha2::Digest;
use std::collections::BTreeMap;

use super::{Inner, Mode, Tape};

/// What a lane keeps between the run's splices.
#[derive(Default)]
pub(super) struct LaneState {
    /// Recording: the block's records.
    pub records: Vec<Record>,
    /// The bytes the crew's doers wrote during the block.
    pub written: Vec<u8>,
    /// Replaying: a record was taken during the block.
    pub moved: bool,
}

/// One call's worth of a crew's lane, for the run's tape.
#[derive(Debug, Default)]
pub struct Block {
    records: Vec<Record>,
    written: Vec<u8>,
    calls: u64,
}

/// Records with their numbers in the log.
type Numbered = Vec<(usize, Record)>;

/// Splits a log's records into the run's and each crew's; a crew's block
/// ends, in its list, with an empty `mark` (where the replay checks that
/// the crew made as many calls as it did when recorded).
pub(super) fn demux(all: Numbered) -> (Numbered, BTreeMap<u32, Numbered>) {
    let mut run = Vec::with_capacity(all.len());
    let mut lanes: BTreeMap<u32, Numbered> = BTreeMap::new();
    let mut it = all.into_iter();
    while let Some((n, r)) = it.next() {
        let Record::Crew { crew, records } = r else {
            run.push((n, r));
            continue;
        };
        let lane = lanes
            .entry(u32::try_from(crew).unwrap_or(u32::MAX))
            .or_default();
        lane.extend(
            it.by_ref()
                .take(usize::try_from(records).unwrap_or(usize::MAX)),
        );
        lane.push((n, end_of_block()));
    }
    (run, lanes)
}

fn end_of_block() -> Record {
    Record::Mark {
        trace: 0,
        written: 0,
    }
}

impl Tape {
    /// Crew `crew`'s lane of this tape (the same lane again for a crew
    /// entered again after a failure).
    pub fn lane(&self, crew: u32) -> Tape {
        let mut guard = self.lock();
        let inner = &mut *guard;
        if let Some(t) = inner.lanes.get(&crew) {
            return t.clone();
        }
        let mode = match &inner.mode {
            Mode::Record { .. } => Mode::Record {
                out: None,
                error: None,
            },
            Mode::Replay { partial, .. } => Mode::Replay {
                records: inner.lane_records.remove(&crew).unwrap_or_default(),
                partial: *partial,
                pos: 0,
                divergence: None,
            },
        };
        let lane = Tape::with_mode(mode);
        {
            let mut l = lane.lock();
            l.lane = Some(LaneState::default());
            l.tick = inner.tick;
            l.tyme = inner.tyme;
        }
        inner.lanes.insert(crew, lane.clone());
        lane
    }

    /// A lane follows the run's tick (for what a divergence says).
    pub(super) fn follow(&self, tick: u64, tyme: f64) {
        let mut l = self.lock();
        l.tick = tick;
        l.tyme = tyme;
    }

    /// Ends a lane's block (one call on the crew): what it recorded and
    /// the bytes written, for [`Tape::splice`]. Replaying, the crew must
    /// have made exactly the recorded block's calls.
    pub fn take_block(&self) -> Block {
        let mut guard = self.lock();
        let inner: &mut Inner = &mut guard;
        let Some(lane) = inner.lane.as_mut() else {
            return Block::default();
        };
        let block = Block {
            records: std::mem::take(&mut lane.records),
            written: std::mem::take(&mut lane.written),
            calls: std::mem::take(&mut inner.calls),
        };
        let moved = std::mem::take(&mut lane.moved);
        // Each block names its first doer again.
        inner.doer.clear();
        if moved && let Mode::Replay { records, pos, .. } = &mut inner.mode {
            match records.get(*pos) {
                Some((_, r)) if *r == end_of_block() => *pos += 1,
                Some(_) => {
                    inner.diverge("", "the crew made fewer calls than recorded".to_owned());
                }
                None => {}
            }
        }
        block
    }

    /// Puts crew `crew`'s block here in the run's log (recording), and its
    /// calls and written bytes into the run's figures and digests.
    pub fn splice(&self, crew: u32, block: Block) {
        let mut inner = self.lock();
        if !block.records.is_empty() && matches!(inner.mode, Mode::Record { .. }) {
            let head = Record::Crew {
                crew: u64::from(crew),
                records: block.records.len() as u64,
            };
            inner.put(head, |_| Ok(()));
            for r in block.records {
                inner.put(r, |_| Ok(()));
            }
        }
        inner.calls += block.calls;
        inner.written_tick.update(&block.written);
        inner.written_all.update(&block.written);
        inner.bytes += block.written.len() as u64;
    }
}
