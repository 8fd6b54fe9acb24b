//! hio's end-to-end tests: Wasm doers from `plugins/dist` driven through
//! the `hio` crate's public library interface, the way a user's program
//! or test would drive them. The crate itself holds no code; its two test
//! binaries do:
//!
//! - `e2e/` (`cargo test -p hio-tests --test e2e`): doers on their own,
//!   without sockets. `wasm.rs` the lifecycle, decks, options and limits;
//!   `hostile.rs` the containment of doers that misbehave on purpose
//!   (`plugins/hostile`, `plugins/script`); `fuzz.rs` random inputs at the
//!   guest boundary; helpers in `e2e/util/`.
//! - `net/` (`cargo test -p hio-tests --test net`): network doers on
//!   loopback with real sockets, against peers that are not doers (std
//!   sockets, `curl` where it is installed). `tcp.rs`, `tls.rs`, `http.rs`
//!   one area each; `limits.rs` and `timeouts.rs` the host's caps;
//!   `defects.rs` the shapes users bring (many connections over time, one
//!   fast stream, bodies nobody reads); `replay.rs` recorded runs replayed;
//!   helpers in `util.rs`.
//!
//! Run `plugins/build.sh` first: the tests load the components it builds.
//! The scheduler's conformance suite (no Wasm) lives with the scheduler,
//! in `host/scheduler/tests/conformance`; the command's own tests with the
//! `hio` crate, in `host/hio/tests`.
