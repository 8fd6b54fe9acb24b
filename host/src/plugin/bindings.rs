//! The one place `bindgen!` runs: host bindings of the `hio:doer` world.

// Generated code: its docs are the WIT file's.
#![allow(missing_docs)]

wasmtime::component::bindgen!({
    world: "doer",
    path: "../wit",
    additional_derives: [PartialEq],
});
