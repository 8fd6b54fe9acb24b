//! The one place `bindgen!` runs: host bindings of the `hio:doer` package's
//! `http-doer` world, which includes `net-doer` and so the `doer` world (a
//! component of a smaller world imports less, and links against the same
//! linker).
//!
//! The generated world type is named after the world (`HttpDoer`); outside
//! this file it is only ever [`DoerWorld`], so the crate has one `Doer`:
//! the scheduler's trait.

mod generated {
    // Generated code: its docs are the WIT file's.
    #![allow(missing_docs)]

    wasmtime::component::bindgen!({
        world: "http-doer",
        path: "../../wit",
        additional_derives: [PartialEq],
        with: {
            "hio:doer/tcp.listener": crate::resources::ListenerRes,
            "hio:doer/tcp.connection": crate::resources::ConnRes,
            "hio:doer/http.server": crate::resources::ServerRes,
            "hio:doer/http.request": crate::resources::RequestRes,
            "hio:doer/http-client.outgoing": crate::resources::OutgoingRes,
        },
    });
}

/// The version of the `hio:doer` package this host speaks (`wit/*.wit`).
macro_rules! version {
    () => {
        "0.4.1"
    };
}

/// The version of the `hio:doer` package this host speaks (`wit/*.wit`).
pub const VERSION: &str = version!();
/// The package, as load errors and `hio inspect` name it.
pub const PACKAGE: &str = concat!("hio:doer@", version!());

/// The name a linker gives interface `name` of the package.
pub(crate) fn interface(name: &str) -> String {
    format!("hio:doer/{name}@{VERSION}")
}

pub use generated::HttpDoer as DoerWorld;
pub use generated::HttpDoerIndices as DoerWorldIndices;
pub use generated::HttpDoerPre as DoerWorldPre;
pub use generated::exports::hio::doer::hooks::GuestDoer as DoerExports;
pub use generated::hio;
