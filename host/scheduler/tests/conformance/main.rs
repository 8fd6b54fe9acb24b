//! The scheduling contract, tested through the scheduler's public API with
//! native doers only (no Wasm): the reference traces T1–T7 against golden
//! files, supervision, run-time edits, real-mode pacing, the seam between
//! ticks, and property tests against hio's plain walk. Golden traces are in
//! `host/scheduler/tests/golden` and are re-blessed with
//! `HIO_BLESS=1 cargo test -p hio-scheduler`, never edited by hand.

// A test that unwraps fails loudly, which is what a test should do.
#![allow(clippy::unwrap_used)]

mod crews;
mod edits;
mod props;
mod real;
mod services;
mod supervision;
mod traces;
mod util;
