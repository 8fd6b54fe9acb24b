//! Host side of the `decks` interface, through the doer's grants.

use std::collections::{BTreeMap, BTreeSet};

use wasmtime::StoreContextMut;
use wasmtime::component::Linker;

use super::log::Lines;
use crate::bindings::hio::doer::decks::{DeckError as WitDeckError, Host};
use crate::charge::{Metered, charge};
use crate::failure::Limit;
use crate::tape::Tape;
use crate::tape::checksum;
use hio_io::wire::Op;
use hio_scheduler::{DeckAccess, DeckError, Level, valid_name};

fn wit(e: DeckError) -> WitDeckError {
    match e {
        DeckError::Full => WitDeckError::Full,
        DeckError::TooLarge => WitDeckError::TooLarge,
        DeckError::NotGranted => WitDeckError::NotGranted,
        DeckError::UnknownDeck => WitDeckError::UnknownDeck,
    }
}

/// A deck call's outcome as a remote deck's `call` record keeps it.
fn code_of(r: Result<(), DeckError>) -> u64 {
    match r {
        Ok(()) => 0,
        Err(DeckError::Full) => 1,
        Err(DeckError::TooLarge) => 2,
        Err(DeckError::NotGranted) => 3,
        Err(DeckError::UnknownDeck) => 4,
    }
}

/// The refusal a code stands for (none for 0; a code no host writes is
/// back pressure).
fn error_of(code: u64) -> Option<DeckError> {
    match code {
        0 => None,
        2 => Some(DeckError::TooLarge),
        3 => Some(DeckError::NotGranted),
        4 => Some(DeckError::UnknownDeck),
        _ => Some(DeckError::Full),
    }
}

/// Distinct refusals (direction, deck, reason) logged per doer instance;
/// past this many, one more line says the rest go unlogged.
pub const MAX_REFUSALS: usize = 32;

/// The refused deck calls a doer instance has had logged.
#[derive(Default)]
pub(crate) struct Refusals {
    /// Those logged, by direction, deck and reason.
    seen: BTreeSet<(&'static str, String, String)>,
    /// Past [`MAX_REFUSALS`]: no more are logged.
    capped: bool,
    /// Why the last push on each deck it may push on was refused, while
    /// that push is its last (what `refusal` gives).
    last: BTreeMap<String, String>,
}

/// The view of a doer's store `decks` is implemented on.
pub(crate) struct DecksView<'a> {
    /// The doer's path (a remote deck's calls are on the wire log as its).
    pub path: &'a str,
    /// The decks it may touch.
    pub decks: &'a DeckAccess,
    /// Largest deck item it may push or pull.
    pub message: u64,
    /// The run's tape: deck calls count where a replay stops a hook.
    pub tape: Option<&'a Tape>,
    /// The refusals logged so far.
    pub refusals: &'a mut Refusals,
    /// Its log lines (a refusal is logged).
    pub lines: &'a mut Lines,
    /// The call's failure, if it went over a limit.
    pub violation: &'a mut Option<Limit>,
}

impl DecksView<'_> {
    /// The tape, when `deck` is a remote deck and the run has one: what
    /// another host's deck said is an input of this run.
    fn remote(&self, deck: &str) -> Option<&Tape> {
        self.tape.filter(|_| self.decks.decks.is_remote(deck))
    }

    /// Why a push on `deck` it may not push on is refused.
    fn denied(&self, deck: &str) -> DeckError {
        if self.decks.decks.contains(deck) {
            DeckError::NotGranted
        } else {
            DeckError::UnknownDeck
        }
    }

    /// Logs a refused call outside the grants once per direction, deck and
    /// reason, for at most [`MAX_REFUSALS`] of them; full decks are back
    /// pressure, not news, but a remote deck that answers `full` because
    /// it cannot be reached (`why`, the push's refusal in words) is. A deck
    /// name that breaks the manifest's name rule is never kept or printed:
    /// no such deck can exist.
    fn refused(&mut self, dir: &'static str, deck: &str, e: DeckError, why: &str) -> WitDeckError {
        let kind = match e {
            DeckError::NotGranted => "not granted".to_owned(),
            DeckError::UnknownDeck => "no such deck".to_owned(),
            DeckError::Full if why.starts_with("unreachable: ") => why.to_owned(),
            DeckError::Full | DeckError::TooLarge => return wit(e),
        };
        let named = valid_name(deck);
        let key = (
            dir,
            if named {
                deck.to_owned()
            } else {
                String::new()
            },
            kind.clone(),
        );
        let refusals = &mut *self.refusals;
        if refusals.seen.contains(&key) || refusals.capped {
            return wit(e);
        }
        let line = if refusals.seen.len() >= MAX_REFUSALS {
            refusals.capped = true;
            format!("more refused deck calls; no more are logged (limit {MAX_REFUSALS})")
        } else if named {
            format!("{dir} on deck {deck:?} refused: {kind} (logged once)")
        } else {
            format!(
                "{dir} on a deck whose name breaks the rule [A-Za-z0-9_.-]{{1,64}} \
                 ({} bytes) refused: {kind} (logged once)",
                deck.len()
            )
        };
        if !refusals.capped {
            refusals.seen.insert(key);
        }
        self.lines.keep(Level::Warn, line);
        wit(e)
    }

    /// Notes a message over this doer's limit: the call gets `too-large`
    /// and, when it returns, fails with this reason.
    fn over_limit(&mut self, dir: &'static str, deck: &str, size: usize) -> WitDeckError {
        let limit = self.message;
        self.violation.get_or_insert_with(|| Limit::Message {
            dir,
            deck: deck.to_owned(),
            size: size as u64,
            limit,
        });
        WitDeckError::TooLarge
    }
}

impl Host for DecksView<'_> {
    fn push(&mut self, deck: String, item: Vec<u8>) -> Result<(), WitDeckError> {
        // Other doers see a deck: it counts where a replay stops a hook.
        if let Some(tape) = self.tape {
            tape.count_call();
        }
        if !valid_name(&deck) {
            return Err(self.refused("push", &deck, DeckError::UnknownDeck, ""));
        }
        if !self.decks.may_push(&deck) {
            return Err(self.refused("push", &deck, self.denied(&deck), ""));
        }
        if item.len() as u64 > self.message {
            let limit = self.message;
            self.refusals.last.insert(
                deck.clone(),
                format!(
                    "the item is {} bytes and this doer's limit is {limit}",
                    item.len()
                ),
            );
            return Err(self.over_limit("push", &deck, item.len()));
        }
        let size = item.len();
        let decks = self.decks;
        let remote = self.remote(&deck).map(|tape| {
            let args = checksum(&(deck.clone(), item.clone()));
            (tape, args)
        });
        let attempt = || match decks.push(&deck, item) {
            Ok(()) => (0, String::new()),
            Err(e) => (code_of(Err(e)), decks.decks.refusal(&deck, e, size)),
        };
        // What another host's deck said (and why) is an input of this run.
        let (code, why): (u64, String) = match remote {
            Some((tape, args)) => tape.call(self.path, Op::RemotePush, args, attempt),
            None => attempt(),
        };
        match error_of(code) {
            None => {
                self.refusals.last.remove(&deck);
                Ok(())
            }
            Some(e) => {
                self.refusals.last.insert(deck.clone(), why.clone());
                Err(self.refused("push", &deck, e, &why))
            }
        }
    }

    fn refusal(&mut self, deck: String) -> Option<String> {
        if !valid_name(&deck) {
            return Some("no deck of that name is declared".to_owned());
        }
        if !self.decks.may_push(&deck) {
            return Some(self.decks.decks.refusal(&deck, self.denied(&deck), 0));
        }
        self.refusals.last.get(&deck).cloned()
    }

    fn pull(&mut self, deck: String) -> Result<Option<Vec<u8>>, WitDeckError> {
        if let Some(tape) = self.tape {
            tape.count_call();
        }
        if !valid_name(&deck) {
            return Err(self.refused("pull", &deck, DeckError::UnknownDeck, ""));
        }
        let pulled = match self.remote(&deck) {
            Some(tape) if self.decks.grants.pull.contains(&deck) => {
                let (decks, max) = (self.decks, self.message);
                let got: Result<Option<Vec<u8>>, u64> =
                    tape.call(self.path, Op::RemotePull, checksum(&deck), || {
                        decks.pull_at_most(&deck, max).map_err(|e| code_of(Err(e)))
                    });
                got.map_err(|code| error_of(code).unwrap_or(DeckError::Full))
            }
            _ => self.decks.pull_at_most(&deck, self.message),
        };
        match pulled {
            Err(DeckError::TooLarge) => {
                let size = self.decks.decks.front_len(&deck).unwrap_or(0);
                Err(self.over_limit("pull", &deck, size))
            }
            r => r.map_err(|e| self.refused("pull", &deck, e, "")),
        }
    }
}

/// Puts `push`, `pull` and `refusal` in the linker (in place of what `bindgen!`
/// generates): the calls on `view` of the store, charged first for the bytes they lift
/// or hand back (the deck's name, the item), so a call over the doer's fuel
/// or `limits.host_bytes` fails before anything moves.
pub(crate) fn add_charged<T: Metered + 'static>(
    linker: &mut Linker<T>,
    view: fn(&mut T) -> DecksView<'_>,
) -> wasmtime::Result<()> {
    type Out<T> = wasmtime::Result<(Result<T, WitDeckError>,)>;
    let mut decks = linker.instance(&crate::bindings::interface("decks"))?;
    decks.func_wrap(
        "push",
        move |mut store: StoreContextMut<'_, T>, (deck, item): (String, Vec<u8>)| -> Out<()> {
            charge(&mut store, deck.len().saturating_add(item.len()))?;
            Ok((view(store.data_mut()).push(deck, item),))
        },
    )?;
    decks.func_wrap(
        "pull",
        move |mut store: StoreContextMut<'_, T>, (deck,): (String,)| -> Out<Option<Vec<u8>>> {
            let data = view(store.data_mut());
            // What the pull would hand back, found under one lock: none
            // for a deck it may not pull from, or that does not exist.
            let item = if data.decks.grants.pull.contains(&deck) {
                data.decks.decks.front_len(&deck).unwrap_or(0)
            } else {
                0
            };
            charge(&mut store, deck.len().saturating_add(item))?;
            Ok((view(store.data_mut()).pull(deck),))
        },
    )?;
    decks.func_wrap(
        "refusal",
        move |mut store: StoreContextMut<'_, T>, (deck,): (String,)| {
            charge(&mut store, deck.len())?;
            let why = view(store.data_mut()).refusal(deck);
            charge(&mut store, why.as_ref().map_or(0, String::len))?;
            Ok((why,))
        },
    )
}
