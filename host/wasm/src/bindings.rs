//! The one place `bindgen!` runs: host bindings of the `hio:doer` world.
//!
//! The generated world type is named after the world (`Doer`); outside this
//! file it is only ever [`DoerWorld`], so the crate has one `Doer`: the
//! scheduler's trait.

mod generated {
    // Generated code: its docs are the WIT file's.
    #![allow(missing_docs)]

    wasmtime::component::bindgen!({
        world: "doer",
        path: "../../wit",
        additional_derives: [PartialEq],
    });
}

pub use generated::Doer as DoerWorld;
pub use generated::DoerPre as DoerWorldPre;
pub use generated::hio;
