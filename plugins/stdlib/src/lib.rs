//! Leans on Rust std inside the sandbox: formatting, collections, clocks and
//! randomness. Every value it logs comes from the host (tyme, the seeded
//! random source), so two runs with the same seed log the same lines.

use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use hio_guest::{Doer, Options, export_doer, log};

struct Stdlib {
    stop: i64,
    start: Instant,
    seen: BTreeMap<String, usize>,
}

impl Doer for Stdlib {
    const OPTIONS: &'static [&'static str] = &["stop", "sleep", "random_bytes"];

    fn enter(options: &Options) -> Result<Self, String> {
        options.only(Self::OPTIONS)?;
        // Guest stdout reaches the host log, tagged with tyme and path.
        println!("stdlib doer entered");
        if let Some(secs) = options.integer("sleep")? {
            // Time does not pass inside a hook: the host's clock pollables
            // are ready at once, so even a year's sleep returns at once.
            std::thread::sleep(std::time::Duration::from_secs(secs.unsigned_abs()));
        }
        if let Some(n) = options.integer("random_bytes")? {
            // Straight to wasi:random; the host refuses more than 64 KiB.
            let bytes = wasip2::random::random::get_random_bytes(n.unsigned_abs());
            log::info(&format!("got {} random bytes", bytes.len()));
        }
        Ok(Stdlib {
            stop: options.integer("stop")?.unwrap_or(3),
            start: Instant::now(),
            seen: BTreeMap::new(),
        })
    }

    fn recur(&mut self, tyme: f64) -> Result<bool, String> {
        let since = self.start.elapsed();
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(|e| e.to_string())?;
        // RandomState draws its keys from WASI random: the host's seeded source.
        let random = RandomState::new().hash_one(self.seen.len());
        let mut words: HashMap<&str, usize> = HashMap::new();
        for w in "the quick brown fox jumps over the lazy dog".split(' ') {
            *words.entry(w).or_default() += 1;
        }
        let key = format!("tick-{:03}", self.seen.len());
        self.seen.insert(key, words["the"]);
        log::info(&format!(
            "tyme={tyme} elapsed={:?} wall={}.{:09} random={random:016x} words={} seen={:?}",
            since,
            wall.as_secs(),
            wall.subsec_nanos(),
            words.len(),
            self.seen.keys().last()
        ));
        Ok(self.seen.len() as i64 > self.stop)
    }
}

export_doer!(Stdlib);
