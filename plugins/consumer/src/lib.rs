//! Pulls up to `rate` items per recur from `deck` and logs each at info
//! level. Done once it has taken `count` items.

use hio_guest::{Doer, Options, decks, export_doer, log};

struct Consumer {
    deck: String,
    count: i64,
    rate: i64,
    got: i64,
}

impl Doer for Consumer {
    const OPTIONS: &'static [&'static str] = &["deck", "count", "rate"];

    fn validate(options: &Options) -> Result<(), String> {
        Self::enter(options).map(|_| ())
    }

    fn enter(options: &Options) -> Result<Self, String> {
        options.only(Self::OPTIONS)?;
        let count = options.integer("count")?.unwrap_or(10);
        let rate = options.integer("rate")?.unwrap_or(1);
        if count < 0 || rate < 1 {
            return Err("options `count` >= 0 and `rate` >= 1".into());
        }
        let deck = options.text("deck")?.unwrap_or("jobs").to_owned();
        Ok(Consumer {
            deck,
            count,
            rate,
            got: 0,
        })
    }

    fn recur(&mut self, _tyme: f64) -> Result<bool, String> {
        for _ in 0..self.rate {
            match decks::pull(&self.deck)
                .map_err(|e| format!("pull from {}: {}", self.deck, e.name()))?
            {
                Some(item) => {
                    self.got += 1;
                    log::info(&format!("got {}", String::from_utf8_lossy(&item)));
                }
                None => break,
            }
        }
        Ok(self.got >= self.count)
    }
}

export_doer!(Consumer);
