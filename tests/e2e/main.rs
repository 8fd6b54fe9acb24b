//! End-to-end tests through hio's public library interface.

// A test that unwraps fails loudly, which is what a test should do.
#![allow(clippy::unwrap_used)]

mod edits;
mod hostile;
mod props;
mod real;
mod supervision;
mod traces;
mod util;
mod wasm;
