//! The seven commands of `hio`, one file each, its clap arguments beside
//! what it does:
//!
//! - [`run`]: a manifest, or bare `.wasm` doers (`--record` writes a wire
//!   log);
//! - [`replay`]: a wire log again, with no sockets, checked against it;
//! - [`sim`]: a manifest on the simulated network, seed after seed;
//! - [`check`]: a manifest parsed and its plugins loaded, not run;
//! - [`inspect`]: a component's imports and exports;
//! - [`trace`]: a trace file as a Perfetto timeline, or summed up per doer;
//! - [`demo`]: a built-in tree of native doers.
//!
//! What they share: [`session`] loads, builds and runs a manifest (run,
//! replay and sim go through it); [`flags`] holds the flags several commands
//! take; [`exit`] the exit statuses and how an error is reported; [`output`]
//! writes stdout and stderr so that a closed one ends the run.

pub mod check;
pub mod demo;
pub mod inspect;
pub mod replay;
pub mod run;
pub mod sim;
pub mod trace;

mod exit;
mod flags;
mod output;
mod session;
