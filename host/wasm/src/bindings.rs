//! The one place `bindgen!` runs: host bindings of the `hio:doer` package's
//! `net-doer` world, which includes the `doer` world (a component of the
//! `doer` world imports less, and links against the same linker).
//!
//! The generated world type is named after the world (`NetDoer`); outside
//! this file it is only ever [`DoerWorld`], so the crate has one `Doer`:
//! the scheduler's trait.

mod generated {
    // Generated code: its docs are the WIT file's.
    #![allow(missing_docs)]

    wasmtime::component::bindgen!({
        world: "net-doer",
        path: "../../wit",
        additional_derives: [PartialEq],
        with: {
            "hio:doer/tcp.listener": crate::net::ListenerRes,
            "hio:doer/tcp.connection": crate::net::ConnRes,
        },
    });
}

pub use generated::NetDoer as DoerWorld;
pub use generated::NetDoerPre as DoerWorldPre;
pub use generated::hio;
