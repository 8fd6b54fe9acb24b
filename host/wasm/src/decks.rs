//! Host side of the `decks` interface, through the doer's grants.

use crate::bindings::hio::doer::decks::{DeckError as WitDeckError, Host};
use crate::failure::Limit;
use crate::store::StoreData;
use hio_scheduler::DeckError;
use hio_scheduler::Level;

fn wit(e: DeckError) -> WitDeckError {
    match e {
        DeckError::Full => WitDeckError::Full,
        DeckError::TooLarge => WitDeckError::TooLarge,
        DeckError::NotGranted => WitDeckError::NotGranted,
        DeckError::UnknownDeck => WitDeckError::UnknownDeck,
    }
}

impl StoreData {
    /// Logs a refused call outside the grants once per direction, deck and
    /// reason; full decks are back pressure, not news.
    fn refused(&mut self, dir: &'static str, deck: &str, e: DeckError) -> WitDeckError {
        let kind = match e {
            DeckError::NotGranted => "not granted",
            DeckError::UnknownDeck => "no such deck",
            DeckError::Full | DeckError::TooLarge => return wit(e),
        };
        if self.refusals.insert((dir, deck.to_owned(), kind)) {
            self.logs.push((
                Level::Warn,
                format!("{dir} on deck {deck:?} refused: {kind} (logged once)"),
            ));
        }
        wit(e)
    }
}

impl StoreData {
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

impl Host for StoreData {
    fn push(&mut self, deck: String, item: Vec<u8>) -> Result<(), WitDeckError> {
        if self.decks.may_push(&deck) && item.len() as u64 > self.message {
            return Err(self.over_limit("push", &deck, item.len()));
        }
        self.decks
            .push(&deck, item)
            .map_err(|e| self.refused("push", &deck, e))
    }

    fn pull(&mut self, deck: String) -> Result<Option<Vec<u8>>, WitDeckError> {
        match self.decks.pull_at_most(&deck, self.message) {
            Err(DeckError::TooLarge) => {
                let size = self.decks.decks.front_len(&deck).unwrap_or(0);
                Err(self.over_limit("pull", &deck, size))
            }
            r => r.map_err(|e| self.refused("pull", &deck, e)),
        }
    }
}
