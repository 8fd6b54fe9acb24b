//! hio's end-to-end tests: Wasm doers from `plugins/dist` driven through
//! the `hio` crate's public library interface, the way a user's program
//! or test would drive them; and the README's Layout checked against the
//! tree. The crate itself holds no code; its three test binaries do:
//!
//! - `e2e/` (`cargo test -p hio-tests --test e2e`): doers on their own,
//!   without sockets. `wasm.rs` the lifecycle, decks, options and limits;
//!   `hostile.rs` the containment of doers that misbehave on purpose
//!   (`plugins/hostile`, `plugins/script`); `fuzz.rs` random inputs at the
//!   guest boundary; helpers in `e2e/util/`.
//! - `net/` (`cargo test -p hio-tests --test net`): network doers on
//!   loopback with real sockets, against peers that are not doers (std
//!   sockets, `curl` where it is installed). `tcp.rs`, `tls.rs` and
//!   `http/` (a file per doer under test: `hello.rs`, `router.rs`,
//!   `client.rs`) one area each; `limits.rs` and `timeouts.rs` the host's
//!   caps; `defects.rs` the shapes users bring (many connections over
//!   time, one fast stream, bodies nobody reads); `replay.rs` recorded
//!   runs replayed; helpers in `util.rs`.
//! - `layout.rs` (`cargo test -p hio-tests --test layout`): every path the
//!   README's Layout names exists, and every file and folder it covers is
//!   named.
//!
//! Run `plugins/build.sh --all` first: the tests load the components it
//! builds. The scheduler's conformance suite (no Wasm) lives with the
//! scheduler, in `host/scheduler/tests/conformance`; the command's own
//! tests with the `hio` crate, in `host/hio/tests`.
