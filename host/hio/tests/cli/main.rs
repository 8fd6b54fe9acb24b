//! The `hio` binary, run as a user runs it: one module per area.

#[path = "../common/mod.rs"]
mod common;

mod commands;
mod ending;
mod folders;
mod overrides;
mod replay;
mod sandbox;
mod sim;
mod timeline;
mod untrusted;
