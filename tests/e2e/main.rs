//! End-to-end tests through hio's public library interface.

// A test that unwraps fails loudly, which is what a test should do.
#![allow(clippy::unwrap_used)]

mod fuzz;
mod hostile;
mod util;
mod wasm;
