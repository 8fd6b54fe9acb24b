//! End-to-end tests through hio's public library interface.

mod edits;
mod props;
mod real;
mod supervision;
mod traces;
mod util;
