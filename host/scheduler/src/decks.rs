//! Decks: named, bounded FIFO queues between doers (flow-based programming's
//! links). A push beyond capacity reports full instead of growing; a pull
//! from an empty deck returns nothing. Doers use only the directions the
//! manifest grants them.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

/// Why a push or pull was refused (mirrors the WIT `deck-error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DeckError {
    /// The deck holds its capacity.
    #[error("deck is full")]
    Full,
    /// The item is larger than the deck's `max_item`.
    #[error("item is larger than the deck's max_item")]
    TooLarge,
    /// This doer has no grant for this direction on this deck.
    #[error("not granted")]
    NotGranted,
    /// No deck of that name.
    #[error("unknown deck")]
    UnknownDeck,
}

/// A deck's declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeckSpec {
    /// Its name.
    pub name: String,
    /// Items it holds at most.
    pub capacity: usize,
    /// Largest item in bytes.
    pub max_item: usize,
}

#[derive(Debug)]
struct Deck {
    spec: DeckSpec,
    items: VecDeque<Vec<u8>>,
    /// The largest item it takes: its `max_item`, lowered to what every
    /// doer granted to pull from it may take.
    bound: usize,
}

/// Every deck of a run, shared by the doers that use them.
///
/// ```
/// use hio_scheduler::{DeckError, DeckSpec, Decks};
/// let decks = Decks::new([DeckSpec { name: "jobs".into(), capacity: 1, max_item: 8 }]);
/// decks.push("jobs", b"a".to_vec()).unwrap();
/// assert_eq!(decks.push("jobs", b"b".to_vec()), Err(DeckError::Full));
/// assert_eq!(decks.pull("jobs").unwrap(), Some(b"a".to_vec()));
/// assert_eq!(decks.pull("jobs").unwrap(), None);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Decks(Arc<Mutex<BTreeMap<String, Deck>>>);

impl Decks {
    /// Decks with these declarations, all empty.
    pub fn new(specs: impl IntoIterator<Item = DeckSpec>) -> Decks {
        let map = specs
            .into_iter()
            .map(|spec| {
                let deck = Deck {
                    bound: spec.max_item,
                    spec: spec.clone(),
                    items: VecDeque::new(),
                };
                (spec.name, deck)
            })
            .collect();
        Decks(Arc::new(Mutex::new(map)))
    }

    fn with<T>(&self, f: impl FnOnce(&mut BTreeMap<String, Deck>) -> T) -> T {
        // A panic while holding the lock cannot leave a deck half-updated.
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut map)
    }

    /// Declares another deck (empty); an existing one of that name is kept.
    pub fn declare(&self, spec: DeckSpec) {
        self.with(|map| {
            map.entry(spec.name.clone()).or_insert(Deck {
                bound: spec.max_item,
                spec,
                items: VecDeque::new(),
            });
        });
    }

    /// Appends an item.
    pub fn push(&self, deck: &str, item: Vec<u8>) -> Result<(), DeckError> {
        self.with(|map| {
            let d = map.get_mut(deck).ok_or(DeckError::UnknownDeck)?;
            if item.len() > d.bound {
                return Err(DeckError::TooLarge);
            }
            if d.items.len() >= d.spec.capacity {
                return Err(DeckError::Full);
            }
            d.items.push_back(item);
            Ok(())
        })
    }

    /// Takes the oldest item.
    pub fn pull(&self, deck: &str) -> Result<Option<Vec<u8>>, DeckError> {
        self.pull_at_most(deck, u64::MAX)
    }

    /// Takes the oldest item if it is at most `max` bytes; a larger one
    /// stays where it is and the answer is `TooLarge`.
    pub fn pull_at_most(&self, deck: &str, max: u64) -> Result<Option<Vec<u8>>, DeckError> {
        self.with(|map| {
            let d = map.get_mut(deck).ok_or(DeckError::UnknownDeck)?;
            if d.items.front().is_some_and(|i| i.len() as u64 > max) {
                return Err(DeckError::TooLarge);
            }
            Ok(d.items.pop_front())
        })
    }

    /// Lowers the largest item `deck` takes to `max` bytes (never raises
    /// it): a doer that may pull no larger is never handed one, because a
    /// push over it is refused (`TooLarge`) instead.
    pub fn bound_items(&self, deck: &str, max: u64) {
        self.with(|map| {
            if let Some(d) = map.get_mut(deck) {
                d.bound = d.bound.min(usize::try_from(max).unwrap_or(usize::MAX));
            }
        });
    }

    /// Size of the oldest item, if any.
    pub fn front_len(&self, deck: &str) -> Option<usize> {
        self.with(|map| map.get(deck).and_then(|d| d.items.front().map(Vec::len)))
    }

    /// Items in a deck now.
    pub fn len(&self, deck: &str) -> Option<usize> {
        self.with(|map| map.get(deck).map(|d| d.items.len()))
    }

    /// Whether a deck of that name exists.
    pub fn contains(&self, deck: &str) -> bool {
        self.with(|map| map.contains_key(deck))
    }
}

/// What one doer may do with decks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grants {
    /// Decks it may push to.
    pub push: BTreeSet<String>,
    /// Decks it may pull from.
    pub pull: BTreeSet<String>,
}

/// A doer's view of the decks: the shared decks through its grants.
#[derive(Debug, Clone, Default)]
pub struct DeckAccess {
    /// The run's decks.
    pub decks: Decks,
    /// This doer's grants.
    pub grants: Grants,
}

impl DeckAccess {
    /// A doer's access to `decks` through `grants`, for a doer that may
    /// take items of at most `max_message` bytes: each deck it may pull
    /// from takes no larger item from anyone (see [`Decks::bound_items`]).
    pub fn granted(decks: &Decks, grants: Grants, max_message: u64) -> DeckAccess {
        for deck in &grants.pull {
            decks.bound_items(deck, max_message);
        }
        DeckAccess {
            decks: decks.clone(),
            grants,
        }
    }

    /// Whether `deck` exists and this doer may push to it.
    pub fn may_push(&self, deck: &str) -> bool {
        self.decks.contains(deck) && self.grants.push.contains(deck)
    }

    /// Pushes if granted (an unknown deck is reported as such first).
    pub fn push(&self, deck: &str, item: Vec<u8>) -> Result<(), DeckError> {
        if !self.decks.contains(deck) {
            return Err(DeckError::UnknownDeck);
        }
        if !self.grants.push.contains(deck) {
            return Err(DeckError::NotGranted);
        }
        self.decks.push(deck, item)
    }

    /// Pulls if granted.
    pub fn pull(&self, deck: &str) -> Result<Option<Vec<u8>>, DeckError> {
        self.pull_at_most(deck, u64::MAX)
    }

    /// Pulls if granted and the oldest item is at most `max` bytes.
    pub fn pull_at_most(&self, deck: &str, max: u64) -> Result<Option<Vec<u8>>, DeckError> {
        if !self.decks.contains(deck) {
            return Err(DeckError::UnknownDeck);
        }
        if !self.grants.pull.contains(deck) {
            return Err(DeckError::NotGranted);
        }
        self.decks.pull_at_most(deck, max)
    }
}
