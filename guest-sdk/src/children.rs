//! Child doers: a doer spawns the plugins its manifest grants
//! (`grants.spawn`) beside itself, in its parent DoDoer under the parent's
//! scheduling and supervision rules, removes them, and hands them
//! connections. Its children are removed when it exits.
//!
//! ```no_run
//! use hio_guest::net::Listener;
//! use hio_guest::{Options, children, log};
//!
//! # fn main() -> Result<(), String> {
//! let listener = Listener::listen("127.0.0.1:7700").map_err(|e| e.to_string())?;
//! let mut n = 0;
//! while let Some(conn) = listener.accept() {
//!     n += 1;
//!     let options = Options::new().set("greeting", "hello");
//!     if let Err(e) = children::spawn(&format!("c{n}"), "conn.wasm", &options, Some(conn)) {
//!         log::warn(&format!("spawn c{n}: {e}"));
//!     }
//! }
//! # Ok(())
//! # }
//! ```

use crate::Options;
use crate::bindings::hio::doer::children as host;
use crate::net::Connection;

/// Spawns a child from `plugin`, exactly as the manifest's `grants.spawn`
/// lists it, named `<this doer's name>.<name>` in the tree, with `options`
/// (checked by the child's `validate`), optionally handing it `conn`
/// (the child takes it with [`handed`]). The child is entered after this
/// hook returns and first runs in the next pass. The error says why the
/// host refused (not granted, a name in use, bad options, …); a refused
/// `conn` is closed.
pub fn spawn(
    name: &str,
    plugin: &str,
    options: &Options,
    conn: Option<Connection>,
) -> Result<(), String> {
    host::spawn(
        name,
        plugin,
        options.as_wit(),
        conn.map(Connection::into_wit),
    )
}

/// Removes (closes) a child this doer spawned, by the `name` given to
/// [`spawn`].
pub fn remove(name: &str) -> Result<(), String> {
    host::remove(name)
}

/// The connection this doer's parent handed it at spawn; `Some` once, then
/// `None`.
pub fn handed() -> Option<Connection> {
    host::handed().map(Connection)
}
