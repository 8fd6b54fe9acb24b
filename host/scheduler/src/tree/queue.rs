//! A queue of deeds: hio's order, found through an index on due time.
//!
//! hio keeps deeds in a deque and walks every one each tick, putting each back
//! at the end, so the order is stable. Here the order is a map from a position
//! to the deed, and an index maps each due time (`retyme`) to the deeds due
//! then. A pass takes the buckets due now and visits their deeds in position
//! order, which is exactly the order hio's walk would run them in, without
//! touching the deeds that are asleep.
//!
//! Bucket entries are not removed when a deed goes away: the [`DoerId`]
//! generation tells a stale entry from a live one when the bucket comes due.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use crate::tree::id::DoerId;

/// Spacing of positions, so a deed can be placed between two others.
const GAP: u64 = 1 << 20;

/// A due time with a total order (retymes are finite).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Due(pub f64);

impl PartialEq for Due {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Due {}
impl PartialOrd for Due {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Due {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// A bucket entry: the deed and the ticket it was scheduled under. Only the
/// latest ticket of a live deed counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry {
    pub id: DoerId,
    pub ticket: u32,
    /// The deed's position when indexed (tells whether a bucket is sorted).
    pub pos: u64,
}

impl Entry {
    pub fn new(id: DoerId, ticket: u32, pos: u64) -> Entry {
        Entry { id, ticket, pos }
    }
}

/// The deeds due at one tyme, and whether they were indexed in queue order
/// (the usual case: a pass re-indexes its deeds in the order it runs them).
#[derive(Debug, Default)]
struct Bucket {
    entries: Vec<Entry>,
    sorted: bool,
}

impl Bucket {
    fn push(&mut self, entry: Entry) {
        if self.entries.is_empty() {
            self.sorted = true;
        } else if self.entries.last().is_some_and(|last| last.pos > entry.pos) {
            self.sorted = false;
        }
        self.entries.push(entry);
    }
}

/// The deeds of one DoDoer (or of the Doist).
#[derive(Debug, Default)]
pub(crate) struct Queue {
    /// Position to deed, in hio's order.
    order: BTreeMap<u64, DoerId>,
    /// Due time to the deeds due then (possibly stale, possibly unsorted).
    buckets: BTreeMap<Due, Bucket>,
}

impl Queue {
    /// Whether no deed is left.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The deeds in order, front to back.
    pub fn ids(&self) -> Vec<DoerId> {
        self.order.values().copied().collect()
    }

    /// Picks a free position for a new deed. `None` means the queue must be
    /// renumbered first (no gap left).
    /// `before` is the position of the deed the new one goes just before;
    /// `None` puts it at the end.
    pub fn free_pos(&self, before: Option<u64>) -> Option<u64> {
        match before {
            None => match self.order.last_key_value() {
                None => Some(GAP),
                Some((&last, _)) => last.checked_add(GAP),
            },
            Some(pos) => {
                let prev = self.order.range(..pos).next_back().map_or(0, |(&p, _)| p);
                let mid = prev + (pos - prev) / 2;
                (mid != prev).then_some(mid)
            }
        }
    }

    /// Adds a deed at `pos`.
    pub fn insert(&mut self, pos: u64, id: DoerId) {
        self.order.insert(pos, id);
    }

    /// Spreads positions evenly again; returns the new position of each deed.
    pub fn renumber(&mut self) -> Vec<(DoerId, u64)> {
        let ids = self.ids();
        self.order.clear();
        // Entries indexed before now carry old positions.
        for bucket in self.buckets.values_mut() {
            bucket.sorted = false;
        }
        let mut moved = Vec::with_capacity(ids.len());
        for (i, id) in ids.into_iter().enumerate() {
            let pos = (i as u64 + 1) * GAP;
            self.order.insert(pos, id);
            moved.push((id, pos));
        }
        moved
    }

    /// Removes the deed at `pos` from the order (its bucket entry goes stale).
    pub fn remove(&mut self, pos: u64) {
        self.order.remove(&pos);
    }

    /// Indexes a deed under its due time.
    pub fn schedule(&mut self, retyme: f64, entry: Entry) {
        self.buckets.entry(Due(retyme)).or_default().push(entry);
    }

    /// Indexes many deeds; consecutive equal due times cost one lookup.
    pub fn schedule_all(&mut self, staged: &mut Vec<(Due, Entry)>) {
        let mut i = 0;
        while i < staged.len() {
            let due = staged[i].0;
            let run = staged[i..].iter().take_while(|s| s.0 == due).count();
            let batch = &staged[i..i + run];
            let bucket = self.buckets.entry(due).or_default();
            let in_order = batch.is_sorted_by_key(|s| s.1.pos)
                && bucket
                    .entries
                    .last()
                    .is_none_or(|last| last.pos <= batch[0].1.pos);
            bucket.sorted = (bucket.sorted || bucket.entries.is_empty()) && in_order;
            bucket.entries.extend(batch.iter().map(|s| s.1));
            i += run;
        }
        staged.clear();
    }

    /// Takes every bucket due at `tyme` into `out` (possibly stale). Returns
    /// whether `out` is known to be in queue order.
    pub fn take_due(&mut self, tyme: f64, out: &mut Vec<Entry>) -> bool {
        let mut sorted = true;
        let mut taken = 0;
        while let Some(entry) = self.buckets.first_entry() {
            if entry.key().0 > tyme {
                break;
            }
            let mut bucket = entry.remove();
            sorted &= bucket.sorted;
            taken += 1;
            if out.is_empty() {
                std::mem::swap(out, &mut bucket.entries);
            } else {
                out.append(&mut bucket.entries);
            }
        }
        sorted && taken <= 1
    }

    /// Drops every index entry (the queue is being emptied).
    pub fn clear_index(&mut self) {
        self.buckets.clear();
    }
}
