//! Host side of the `decks` interface, through the doer's grants.

use super::bindings::hio::doer::decks::{DeckError as WitDeckError, Host};
use super::state::State;
use crate::decks::DeckError;

fn wit(e: DeckError) -> WitDeckError {
    match e {
        DeckError::Full => WitDeckError::Full,
        DeckError::TooLarge => WitDeckError::TooLarge,
        DeckError::NotGranted => WitDeckError::NotGranted,
        DeckError::UnknownDeck => WitDeckError::UnknownDeck,
    }
}

impl Host for State {
    fn push(&mut self, deck: String, item: Vec<u8>) -> Result<(), WitDeckError> {
        self.decks.push(&deck, item).map_err(wit)
    }

    fn pull(&mut self, deck: String) -> Result<Option<Vec<u8>>, WitDeckError> {
        self.decks.pull(&deck).map_err(wit)
    }
}
