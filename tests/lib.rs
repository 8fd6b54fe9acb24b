//! End-to-end and conformance tests for hio live in `e2e/` (one test binary,
//! a module per area, helpers in `e2e/util`). Golden traces are in `golden/`
//! and are re-blessed with `HIO_BLESS=1 cargo test -p hio-tests`.
