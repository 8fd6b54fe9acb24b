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
    /// Set when its doers are in different crews.
    cross: Option<Box<Crossing>>,
    /// Set when it is kept elsewhere (a remote deck, between hosts).
    remote: Option<Arc<dyn RemoteEnd>>,
    /// Declared remote (kept elsewhere, or replayed from a wire log).
    declared_remote: bool,
}

/// A deck kept outside this run (a remote deck, carried between hosts by a
/// cluster): pushes and pulls go through it, without waiting.
pub trait RemoteEnd: Send + Sync + std::fmt::Debug {
    /// Takes an item, or refuses it (`Full` also while unreachable).
    fn push(&self, item: Vec<u8>) -> Result<(), DeckError>;
    /// Size of the oldest item at hand, if any.
    fn front_len(&self) -> Option<usize>;
    /// Takes the oldest item at hand.
    fn pull(&self) -> Option<Vec<u8>>;
    /// Items at hand.
    fn len(&self) -> usize;
    /// Why the deck cannot be reached now, if it cannot.
    fn down(&self) -> Option<String> {
        None
    }
    /// Whether no item is at hand.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A deck between crews: pushes wait in their crew's outbox until the tick
/// barrier. Each sending crew may have as many items in flight as its share
/// of the room the deck had at the last barrier, so the deck never holds
/// more than its capacity and no crew's push depends on another's timing.
#[derive(Debug)]
struct Crossing {
    /// Sending crews, in order, with what each may still push this tick.
    quota: BTreeMap<u32, usize>,
    outbox: BTreeMap<u32, Vec<Vec<u8>>>,
}

impl Deck {
    fn new(spec: DeckSpec) -> Deck {
        Deck {
            bound: spec.max_item,
            spec,
            items: VecDeque::new(),
            cross: None,
            remote: None,
            declared_remote: false,
        }
    }

    /// Shares the deck's free room among its sending crews: equal shares,
    /// the lowest-numbered crews taking one more of what does not divide.
    fn share_room(&mut self) {
        self.share_room_of(self.items.len());
    }

    /// The same, for a deck that holds `len` items.
    fn share_room_of(&mut self, len: usize) {
        let free = self.spec.capacity.saturating_sub(len);
        if let Some(c) = self.cross.as_mut() {
            let n = c.quota.len().max(1);
            for (i, q) in c.quota.values_mut().enumerate() {
                *q = free / n + usize::from(i < free % n);
            }
        }
    }
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
            .map(|spec| (spec.name.clone(), Deck::new(spec)))
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
            map.entry(spec.name.clone())
                .or_insert_with(|| Deck::new(spec));
        });
    }

    /// Appends an item (as crew 0, the part of the tree in no crew).
    pub fn push(&self, deck: &str, item: Vec<u8>) -> Result<(), DeckError> {
        self.push_from(0, deck, item)
    }

    /// Appends an item pushed by a doer of crew `crew`. On a deck between
    /// crews it waits for the tick barrier, if the crew's share of the room
    /// allows it (else `Full`).
    pub fn push_from(&self, crew: u32, deck: &str, item: Vec<u8>) -> Result<(), DeckError> {
        self.with(|map| {
            let d = map.get_mut(deck).ok_or(DeckError::UnknownDeck)?;
            if item.len() > d.bound {
                return Err(DeckError::TooLarge);
            }
            if let Some(r) = &d.remote {
                return r.push(item);
            }
            if let Some(c) = d.cross.as_mut() {
                let quota = c.quota.get_mut(&crew).ok_or(DeckError::NotGranted)?;
                if *quota == 0 {
                    return Err(DeckError::Full);
                }
                *quota -= 1;
                c.outbox.entry(crew).or_default().push(item);
                return Ok(());
            }
            if d.items.len() >= d.spec.capacity {
                return Err(DeckError::Full);
            }
            d.items.push_back(item);
            Ok(())
        })
    }

    /// Keeps `deck` in `end` (a remote deck): from now on its pushes and
    /// pulls go there.
    pub fn attach_remote(&self, deck: &str, end: Arc<dyn RemoteEnd>) {
        self.with(|map| {
            if let Some(d) = map.get_mut(deck) {
                d.remote = Some(end);
                d.declared_remote = true;
            }
        });
    }

    /// Makes `deck` a deck between crews, pushed to by doers of the crews
    /// `senders` (crew 0 is the part of the tree in no crew). From now on
    /// every push to it is delivered at the tick barrier ([`deliver`]), in
    /// (sending crew, sequence) order.
    ///
    /// ```
    /// use hio_scheduler::{DeckError, DeckSpec, Decks};
    /// let decks = Decks::new([DeckSpec { name: "d".into(), capacity: 3, max_item: 8 }]);
    /// decks.cross("d", [2, 1]);
    /// decks.push_from(2, "d", b"x".to_vec()).unwrap();
    /// decks.push_from(1, "d", b"y".to_vec()).unwrap();
    /// decks.push_from(1, "d", b"z".to_vec()).unwrap(); // crew 1's share is 2
    /// assert_eq!(decks.push_from(2, "d", b"w".to_vec()), Err(DeckError::Full));
    /// assert_eq!(decks.len("d"), Some(0)); // nothing before the barrier
    /// decks.deliver();
    /// assert_eq!(decks.pull("d").unwrap(), Some(b"y".to_vec()));
    /// assert_eq!(decks.pull("d").unwrap(), Some(b"z".to_vec()));
    /// assert_eq!(decks.pull("d").unwrap(), Some(b"x".to_vec()));
    /// ```
    ///
    /// [`deliver`]: Decks::deliver
    pub fn cross(&self, deck: &str, senders: impl IntoIterator<Item = u32>) {
        self.with(|map| {
            if let Some(d) = map.get_mut(deck) {
                d.cross = Some(Box::new(Crossing {
                    quota: senders.into_iter().map(|c| (c, 0)).collect(),
                    outbox: BTreeMap::new(),
                }));
                d.share_room();
            }
        });
    }

    /// Takes what crew `crew` pushed to `deck` since the last barrier (for
    /// a barrier kept elsewhere: lockstep hosts).
    pub fn take_outbox(&self, deck: &str, crew: u32) -> Vec<Vec<u8>> {
        self.with(|map| {
            map.get_mut(deck)
                .and_then(|d| d.cross.as_mut())
                .and_then(|c| c.outbox.remove(&crew))
                .unwrap_or_default()
        })
    }

    /// Appends items delivered at a barrier kept elsewhere (their room was
    /// shared out before they were pushed). Items that break the deck's
    /// bounds (larger than its items may be, or past its capacity: sent by
    /// something that did not keep to its share) are refused: how many.
    ///
    /// ```
    /// use hio_scheduler::{DeckSpec, Decks};
    /// let decks = Decks::new([DeckSpec { name: "d".into(), capacity: 2, max_item: 4 }]);
    /// let items = vec![b"ok".to_vec(), b"too big".to_vec(), b"a".to_vec(), b"b".to_vec()];
    /// assert_eq!(decks.append("d", items), 2);
    /// assert_eq!(decks.len("d"), Some(2));
    /// ```
    pub fn append(&self, deck: &str, items: Vec<Vec<u8>>) -> usize {
        self.with(|map| {
            let Some(d) = map.get_mut(deck) else {
                return items.len();
            };
            let mut refused = 0;
            for item in items {
                if item.len() > d.bound || d.items.len() >= d.spec.capacity {
                    refused += 1;
                } else {
                    d.items.push_back(item);
                }
            }
            refused
        })
    }

    /// Shares out the room `deck` has when it holds `len` items (its
    /// holder's count, for a barrier kept elsewhere).
    pub fn share_room_at(&self, deck: &str, len: usize) {
        self.with(|map| {
            if let Some(d) = map.get_mut(deck) {
                d.share_room_of(len);
            }
        });
    }

    /// The tick barrier: every item pushed to a deck between crews since
    /// the last one joins its deck, crew by crew in order, each crew's in
    /// the order pushed; then the room left is shared again.
    pub fn deliver(&self) {
        self.with(|map| {
            for d in map.values_mut() {
                let Some(c) = d.cross.as_mut() else {
                    continue;
                };
                for items in std::mem::take(&mut c.outbox).into_values() {
                    d.items.extend(items);
                }
                d.share_room();
            }
        });
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
            if let Some(r) = &d.remote {
                if r.front_len().is_some_and(|n| n as u64 > max) {
                    return Err(DeckError::TooLarge);
                }
                return Ok(r.pull());
            }
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
        self.with(|map| {
            let d = map.get(deck)?;
            match &d.remote {
                Some(r) => r.front_len(),
                None => d.items.front().map(Vec::len),
            }
        })
    }

    /// Items in a deck now (for a remote deck, those at hand).
    pub fn len(&self, deck: &str) -> Option<usize> {
        self.with(|map| {
            map.get(deck)
                .map(|d| d.remote.as_ref().map_or(d.items.len(), |r| r.len()))
        })
    }

    /// Declares `deck` remote without keeping it anywhere (a replay: its
    /// calls' results come from the wire log).
    pub fn declare_remote(&self, deck: &str) {
        self.with(|map| {
            if let Some(d) = map.get_mut(deck) {
                d.declared_remote = true;
            }
        });
    }

    /// Why remote deck `deck` cannot be reached now, if it cannot.
    pub fn remote_down(&self, deck: &str) -> Option<String> {
        self.with(|map| {
            map.get(deck)
                .and_then(|d| d.remote.as_ref())
                .and_then(|r| r.down())
        })
    }

    /// Why a push on `deck` was refused with `e`, in words (for an item
    /// of `size` bytes).
    ///
    /// ```
    /// use hio_scheduler::{DeckError, DeckSpec, Decks};
    /// let decks = Decks::new([DeckSpec { name: "d".into(), capacity: 2, max_item: 8 }]);
    /// assert_eq!(decks.refusal("d", DeckError::Full, 1), "the deck holds its capacity (2 items)");
    /// assert_eq!(
    ///     decks.refusal("d", DeckError::TooLarge, 9),
    ///     "the item is 9 bytes and the deck takes 8 at most"
    /// );
    /// ```
    pub fn refusal(&self, deck: &str, e: DeckError, size: usize) -> String {
        self.with(|map| {
            let Some(d) = map.get(deck) else {
                return format!("no deck {deck:?} is declared");
            };
            let capacity = d.spec.capacity;
            match e {
                DeckError::Full => match (&d.remote, &d.cross) {
                    (Some(r), _) => match r.down() {
                        Some(why) => format!("unreachable: {}", crate::cut(&why, 200)),
                        None => format!(
                            "the remote deck holds its capacity ({capacity} items) \
                             by the server's last count"
                        ),
                    },
                    (None, Some(_)) if d.declared_remote => {
                        "this host's share of the deck's room is used until the next barrier"
                            .to_owned()
                    }
                    (None, Some(_)) => {
                        "this crew's share of the deck's room is used until the tick's end"
                            .to_owned()
                    }
                    (None, None) => format!("the deck holds its capacity ({capacity} items)"),
                },
                DeckError::TooLarge => {
                    format!(
                        "the item is {size} bytes and the deck takes {} at most",
                        d.bound
                    )
                }
                DeckError::NotGranted => {
                    format!("the manifest does not grant this doer push on deck {deck:?}")
                }
                DeckError::UnknownDeck => format!("no deck {deck:?} is declared"),
            }
        })
    }

    /// Whether `deck` is a remote deck.
    pub fn is_remote(&self, deck: &str) -> bool {
        self.with(|map| map.get(deck).is_some_and(|d| d.declared_remote))
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
    /// The crew the doer is in (0: none).
    pub crew: u32,
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
            crew: 0,
        }
    }

    /// The same access for a doer of crew `crew`.
    pub fn in_crew(mut self, crew: u32) -> DeckAccess {
        self.crew = crew;
        self
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
        self.decks.push_from(self.crew, deck, item)
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
