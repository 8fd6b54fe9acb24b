//! Pushes `count` items (`job 1`, `job 2`, …, or from `job <first>` on)
//! onto `deck`, at most `burst` per recur. A full deck is back pressure: the item waits for a later
//! tick, and why the deck refused it is logged when the reason changes (a
//! remote deck's server unreachable, say). Done when every item is pushed.

use hio_guest::decks::{self, DeckError};
use hio_guest::{Doer, Options, export_doer, log};

struct Producer {
    deck: String,
    count: i64,
    burst: i64,
    first: i64,
    sent: i64,
    /// The last refusal logged.
    why: Option<String>,
}

impl Doer for Producer {
    const OPTIONS: &'static [&'static str] = &["deck", "count", "burst", "first"];

    fn validate(options: &Options) -> Result<(), String> {
        Self::enter(options).map(|_| ())
    }

    fn enter(options: &Options) -> Result<Self, String> {
        options.only(Self::OPTIONS)?;
        let count = options.integer("count")?.unwrap_or(10);
        let burst = options.integer("burst")?.unwrap_or(1);
        let first = options.integer("first")?.unwrap_or(1);
        if count < 0 || burst < 1 || first.checked_add(count).is_none() {
            return Err("options `count` >= 0, `burst` >= 1 and `first` + `count` in range".into());
        }
        let deck = options.text("deck")?.unwrap_or("jobs").to_owned();
        Ok(Producer {
            deck,
            count,
            burst,
            first,
            sent: 0,
            why: None,
        })
    }

    fn recur(&mut self, _tyme: f64) -> Result<bool, String> {
        for _ in 0..self.burst {
            if self.sent == self.count {
                break;
            }
            let item = format!("job {}", self.first + self.sent);
            match decks::push(&self.deck, item.as_bytes()) {
                Ok(()) => self.sent += 1,
                Err(DeckError::Full) => {
                    log::debug(&format!("{} full, {item} waits", self.deck));
                    let why = decks::refusal(&self.deck);
                    if why.is_some() && why != self.why {
                        let text = why.as_deref().unwrap_or_default();
                        log::info(&format!("{} refused {item}: {text}", self.deck));
                    }
                    self.why = why;
                    break;
                }
                Err(e) => return Err(format!("push to {}: {}", self.deck, e.name())),
            }
        }
        Ok(self.sent == self.count)
    }
}

export_doer!(Producer);
