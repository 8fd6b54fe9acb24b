//! End-to-end tests of Wasm doers through hio's public library interface
//! live in `e2e/` (one test binary, a module per area, helpers in
//! `e2e/util`). The scheduler's conformance tests (T1–T7, supervision,
//! edits, property tests) live with the scheduler crate, in
//! `host/scheduler/tests/conformance`.
