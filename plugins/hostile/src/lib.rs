//! A doer that misbehaves on purpose, one way per `mode`, in hook `hook`
//! (default `recur`), for the containment tests. Every mode must leave the
//! host running and its siblings untouched.
//!
//! Modes: `loop` (spin forever), `spin` (100,000 turns of a loop each
//! time, then carry on: CPU-bound work, for the crews benchmark), `busy-wait` (spin on the clock for a
//! minute), `sleep` (sleep a year), `grow` (allocate without end), `recurse`
//! (unbounded recursion), `panic`, `exit` (`exit(3)`), `trap`
//! (`unreachable`), `log-spam`, `stdout-spam`, `flood` (push to deck
//! `jobs` until full, every recur), `forged-deck` (push to an undeclared
//! deck), `grant` (pull from `jobs` without a grant), `random` (ask for
//! 1 MiB of random bytes), `fail-always` (return an error every recur),
//! `leak-handles` (make WASI pollables and never drop them),
//! `forged-handle` (use a resource handle the host never gave out),
//! `stale-handle` (use a pollable's handle after dropping it), `big-message`
//! (push 100 KiB to deck `jobs`), `deck-names` (push to 3,000 undeclared
//! decks whose names are 1 MiB each), `many-decks` (push to 100 undeclared
//! decks with valid names), `validate-push` (push to `jobs` from
//! `validate`), `log-huge` (log an 8 MiB message
//! 2,000 times), `long-reason` (fail with an 8 MiB reason), `escapes` (log
//! and fail with a line break and terminal escapes that imitate another
//! doer's log line), and `census`, which does no harm: it logs
//! `census <n>`, the count of recurs of every doer of its instance so far
//! (so a test sees which doers share an instance, and when it is fresh).
//!
//! With `at = n` it misbehaves only in its n-th recur (counting its own).

use std::hint::black_box;
use std::time::{Duration, Instant};

use hio_guest::{Doer, Options, decks, export_doer, log};

struct Hostile {
    mode: String,
    hook: String,
    count: u64,
    at: Option<u64>,
}

thread_local! {
    /// Recurs of every doer in this instance (mode `census`).
    static CENSUS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

#[allow(unconditional_recursion)]
fn recurse(n: u64) -> u64 {
    black_box(recurse(black_box(n + 1)) + 1)
}

impl Hostile {
    fn act(&mut self, hook: &str) -> Result<(), String> {
        if hook != self.hook || self.at.is_some_and(|at| at != self.count) {
            return Ok(());
        }
        match self.mode.as_str() {
            "census" => {
                let n = CENSUS.with(|c| {
                    c.set(c.get() + 1);
                    c.get()
                });
                log::info(&format!("census {n}"));
            }
            "loop" => loop {
                black_box(self.count);
            },
            "spin" => {
                for i in 0..100_000u32 {
                    black_box(i);
                }
            }
            "busy-wait" => {
                let start = Instant::now();
                while start.elapsed() < Duration::from_secs(60) {
                    black_box(());
                }
            }
            "sleep" => std::thread::sleep(Duration::from_secs(365 * 24 * 3600)),
            "grow" => loop {
                // Grow linear memory a MiB at a time, without end.
                #[cfg(target_arch = "wasm32")]
                black_box(core::arch::wasm32::memory_grow(0, 16));
            },
            "recurse" => {
                black_box(recurse(0));
            }
            "panic" => panic!("hostile doer panics on purpose"),
            "exit" => std::process::exit(3),
            "trap" => std::process::abort(),
            "log-spam" => {
                // Past the host's per-call bounds (256 lines, 4 KiB each),
                // within the fuel budget.
                let long = "x".repeat(5_000);
                for i in 0..300 {
                    log::info(&format!("spam {i} {long}"));
                }
            }
            "stdout-spam" => {
                // 200 KB, past the host's 16 KiB per call.
                let line = "y".repeat(100);
                for i in 0..2_000 {
                    println!("spam {i} {line}");
                }
            }
            "flood" => while decks::push("jobs", &[0u8; 32]).is_ok() {},
            "forged-deck" => {
                let e = decks::push("no-such-deck", b"x").expect_err("an undeclared deck");
                log::warn(&format!("forged deck refused: {}", e.name()));
            }
            "grant" => {
                let e = decks::pull("jobs").expect_err("no pull grant");
                log::warn(&format!("pull refused: {}", e.name()));
            }
            "random" => {
                black_box(wasip2::random::random::get_random_bytes(1 << 20));
            }
            "fail-always" => return Err("fails on purpose".into()),
            "leak-handles" => {
                for _ in 0..1_000_000 {
                    let p = wasip2::clocks::monotonic_clock::subscribe_duration(0);
                    std::mem::forget(p);
                }
            }
            "forged-handle" => {
                // SAFETY: deliberately not a handle this instance owns; the
                // host's handle table must refuse it.
                let p = unsafe { wasip2::io::poll::Pollable::from_handle(0x00ab_cdef) };
                black_box(p.ready());
            }
            "stale-handle" => {
                let p = wasip2::clocks::monotonic_clock::subscribe_duration(0);
                let h = p.handle();
                drop(p);
                // SAFETY: deliberately a handle already given back.
                let p = unsafe { wasip2::io::poll::Pollable::from_handle(h) };
                black_box(p.ready());
            }
            "big-message" => match decks::push("jobs", &vec![7u8; 100 << 10]) {
                Ok(()) => log::info("big message pushed"),
                Err(e) => log::warn(&format!("big message refused: {}", e.name())),
            },
            "deck-names" => {
                let mut name = "d".repeat(1 << 20);
                for i in 0..3_000u32 {
                    // A different name each time, so no set of refusals
                    // can stay small by deduplicating.
                    name.replace_range(0..4, &format!("{:04}", i % 10_000));
                    let _ = decks::push(&name, &[]);
                }
            }
            "validate-push" => {}
            "many-decks" => {
                for i in 0..100 {
                    let _ = decks::push(&format!("nope{i}"), &[]);
                }
            }
            "log-huge" => {
                let huge = "y".repeat(8 << 20);
                for _ in 0..2_000 {
                    log::info(&huge);
                }
            }
            "long-reason" => return Err("z".repeat(8 << 20)),
            "escapes" => {
                let forged = "\n0.5 before info forged line\u{1b}[2J\u{1b}]0;title\u{7}";
                log::info(&format!("looks innocent{forged}"));
                return Err(format!("reason{forged}"));
            }
            other => return Err(format!("unknown mode {other:?}")),
        }
        Ok(())
    }
}

const MODES: &[&str] = &[
    "loop",
    "busy-wait",
    "sleep",
    "grow",
    "recurse",
    "panic",
    "exit",
    "trap",
    "log-spam",
    "stdout-spam",
    "flood",
    "forged-deck",
    "grant",
    "random",
    "fail-always",
    "leak-handles",
    "forged-handle",
    "stale-handle",
    "big-message",
    "deck-names",
    "many-decks",
    "validate-push",
    "log-huge",
    "long-reason",
    "escapes",
    "census",
    "spin",
];
const HOOKS: &[&str] = &["enter", "recur", "clean", "cease", "abort", "exit"];

impl Doer for Hostile {
    const OPTIONS: &'static [&'static str] = &["mode", "hook", "stop", "at"];

    fn validate(options: &Options) -> Result<(), String> {
        options.only(Self::OPTIONS)?;
        let mode = options.text("mode")?.ok_or("option `mode` is required")?;
        if mode == "validate-push" {
            // Before the run: no deck may take this.
            if decks::push("jobs", b"from validate").is_ok() {
                log::warn("validate pushed to jobs");
            }
        }
        if !MODES.contains(&mode) {
            return Err(format!(
                "option `mode`: unknown {mode:?}; one of {}",
                MODES.join(", ")
            ));
        }
        let hook = options.text("hook")?.unwrap_or("recur");
        if !HOOKS.contains(&hook) {
            return Err(format!(
                "option `hook`: unknown {hook:?}; one of {}",
                HOOKS.join(", ")
            ));
        }
        Ok(())
    }

    fn enter(options: &Options) -> Result<Self, String> {
        let mut me = Hostile {
            mode: options.text("mode")?.unwrap_or("trap").to_owned(),
            hook: options.text("hook")?.unwrap_or("recur").to_owned(),
            count: 0,
            at: options
                .integer("at")?
                .map(|n| u64::try_from(n).map_err(|_| "option `at`: a recur number >= 1"))
                .transpose()?,
        };
        me.act("enter")?;
        Ok(me)
    }

    fn recur(&mut self, _tyme: f64) -> Result<bool, String> {
        self.count += 1;
        if self.hook == "abort" {
            return Err("fails so that abort runs".into());
        }
        self.act("recur")?;
        // Done at the second recur, so `clean` gets its turn too.
        Ok(self.count >= 2 && self.hook == "clean")
    }

    fn clean(&mut self) -> Result<(), String> {
        self.act("clean")
    }

    fn cease(&mut self) -> Result<(), String> {
        self.act("cease")
    }

    fn abort(&mut self, _reason: &str) {
        let _ = self.act("abort");
    }

    fn exit(&mut self) -> Result<(), String> {
        self.act("exit")
    }
}

export_doer!(Hostile);
