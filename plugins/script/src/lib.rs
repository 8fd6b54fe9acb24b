//! Plays a byte script of host calls with arbitrary arguments, for the
//! fuzz tests: every recur plays option `script` (hex) from the start.
//!
//! Each step is an opcode byte, then its arguments, read from the script;
//! a length byte `n` stands for `n * n * 64` bytes (up to about 4 MiB), so
//! short scripts reach the host's limits. A script that ends mid-step ends
//! there.
//!
//! | op % 10 | call |
//! |---|---|
//! | 0 | `log` at level `a % 5`, a message of length `n`, its bytes from the script (lossy UTF-8, so control characters too) |
//! | 1 | `push` to the deck named by the next `k` script bytes (`k` < 256), an item of length `n` |
//! | 2 | `pull` from the deck named by the next `k` bytes |
//! | 3 | `set-tock` to the f64 of the next 8 bytes |
//! | 4 | `now` and `tock` |
//! | 5 | random bytes, `n` of them |
//! | 6 | write `n` bytes to stdout, then to stderr |
//! | 7 | fail with a reason of length `n` |
//! | 8 | report done |
//! | 9 | log the next `k` bytes as they are |

use std::io::Write;

use hio_guest::{Doer, Options, decks, export_doer, log, tyme};

struct Script {
    bytes: Vec<u8>,
}

/// Reads the script one byte at a time; `None` at its end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn take(&mut self, k: usize) -> Option<&[u8]> {
        let s = self.bytes.get(self.at..self.at.checked_add(k)?)?;
        self.at += k;
        Some(s)
    }

    /// A length: `n * n * 64` for the next byte `n`.
    fn length(&mut self) -> Option<usize> {
        let n = usize::from(self.byte()?);
        Some(n * n * 64)
    }

    /// The next `k` bytes (`k` the next byte), as text.
    fn name(&mut self) -> Option<String> {
        let k = usize::from(self.byte()?);
        Some(String::from_utf8_lossy(self.take(k)?).into_owned())
    }
}

/// `len` bytes made from `seed`, cycling through every byte value.
fn filler(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

fn hex(text: &str) -> Result<Vec<u8>, String> {
    if text.len() % 2 != 0 {
        return Err("option `script`: an even number of hex digits".into());
    }
    (0..text.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(text.get(i..i + 2).unwrap_or("zz"), 16)
                .map_err(|_| format!("option `script`: not hex at {i}"))
        })
        .collect()
}

impl Script {
    /// Plays the script once; `Ok(true)` when it says done.
    fn play(&self) -> Result<bool, String> {
        let mut r = Reader {
            bytes: &self.bytes,
            at: 0,
        };
        while let Some(op) = r.byte() {
            let step = match op % 10 {
                0 => r.byte().zip(r.length()).map(|(level, n)| {
                    let text = String::from_utf8_lossy(&filler(n, level)).into_owned();
                    match level % 5 {
                        0 => log::error(&text),
                        1 => log::warn(&text),
                        2 => log::info(&text),
                        3 => log::debug(&text),
                        _ => log::trace(&text),
                    }
                }),
                1 => r.name().zip(r.length()).map(|(deck, n)| {
                    let _ = decks::push(&deck, &filler(n, op));
                }),
                2 => r.name().map(|deck| {
                    let _ = decks::pull(&deck);
                }),
                3 => r.take(8).map(|b| {
                    let mut f = [0u8; 8];
                    f.copy_from_slice(b);
                    let _ = tyme::set_tock(f64::from_le_bytes(f));
                }),
                4 => Some({
                    let _ = (tyme::now(), tyme::tock());
                }),
                5 => r.length().map(|n| {
                    let _ = wasip2::random::random::get_random_bytes(n as u64);
                }),
                6 => r.length().map(|n| {
                    let bytes = filler(n, op);
                    let _ = std::io::stdout().write_all(&bytes);
                    let _ = std::io::stderr().write_all(&bytes);
                }),
                7 => match r.length() {
                    Some(n) => return Err(String::from_utf8_lossy(&filler(n, op)).into_owned()),
                    None => None,
                },
                8 => return Ok(true),
                _ => r.name().map(|text| log::info(&text)),
            };
            if step.is_none() {
                break;
            }
        }
        Ok(false)
    }
}

impl Doer for Script {
    const OPTIONS: &'static [&'static str] = &["script"];

    fn validate(options: &Options) -> Result<(), String> {
        Self::enter(options).map(|_| ())
    }

    fn enter(options: &Options) -> Result<Self, String> {
        options.only(Self::OPTIONS)?;
        let bytes = hex(options.text("script")?.unwrap_or(""))?;
        Ok(Script { bytes })
    }

    fn recur(&mut self, _tyme: f64) -> Result<bool, String> {
        self.play()
    }
}

export_doer!(Script);
