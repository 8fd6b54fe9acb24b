//! Write [hio](https://github.com/hio-rs/hio) doers in Rust.
//!
//! A doer is a WebAssembly component that the hio host calls once per
//! scheduled tick. Implement [`Doer`] (only [`Doer::enter`], which makes the
//! instance from its options, and [`Doer::recur`] are required), export it
//! with [`export_doer!`], and build the crate as a `cdylib` for
//! `wasm32-wasip2`:
//!
//! ```no_run
//! use hio_guest::{Doer, Options, export_doer, log};
//!
//! /// Counts to `stop` (an option, default 3), then is done.
//! struct Counter { stop: i64, count: i64 }
//!
//! impl Doer for Counter {
//!     const OPTIONS: &'static [&'static str] = &["stop"];
//!
//!     fn enter(options: &Options) -> Result<Self, String> {
//!         let stop = options.integer("stop")?.unwrap_or(3);
//!         Ok(Counter { stop, count: 0 })
//!     }
//!
//!     fn recur(&mut self, tyme: f64) -> Result<bool, String> {
//!         self.count += 1;
//!         log::debug(&format!("count {} at {tyme}", self.count));
//!         Ok(self.count > self.stop)
//!     }
//! }
//!
//! export_doer!(Counter);
//! # fn main() {}
//! ```
//!
//! `Cargo.toml` of the plugin crate:
//!
//! ```toml
//! [lib]
//! crate-type = ["cdylib"]
//! [dependencies]
//! hio-guest = { path = "…/guest-sdk" }
//! ```
//!
//! then `cargo build --release --target wasm32-wasip2` gives the component.
//!
//! The host owns time and order: [`tyme::now`] does not advance inside a
//! hook, the WASI clocks read tyme, and randomness is seeded per doer, so a
//! doer's run is reproducible. Doers talk through [`decks`], bounded queues
//! the manifest declares and grants.
//!
//! A doer may also use TCP and TLS owned by the host ([`net`]) and spawn
//! child doers ([`children`]), within what its manifest grants
//! (`grants = { listen = […], connect = […], spawn = […] }`). Nothing
//! blocks: a doer reads what arrived before its tick and writes what fits
//! in the send buffer. An echo server in one doer:
//!
//! ```no_run
//! use hio_guest::net::{Connection, Listener};
//! use hio_guest::{Doer, Options, export_doer, log};
//!
//! struct Echo { listener: Listener, conns: Vec<Connection> }
//!
//! impl Doer for Echo {
//!     const OPTIONS: &'static [&'static str] = &["addr"];
//!
//!     fn enter(options: &Options) -> Result<Self, String> {
//!         let addr = options.text("addr")?.unwrap_or("127.0.0.1:7700");
//!         let listener = Listener::listen(addr)
//!             .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
//!         Ok(Echo { listener, conns: Vec::new() })
//!     }
//!
//!     fn recur(&mut self, _tyme: f64) -> Result<bool, String> {
//!         while let Some(conn) = self.listener.accept() {
//!             log::debug(&format!("accepted {}", conn.peer_address()));
//!             self.conns.push(conn);
//!         }
//!         for conn in &self.conns {
//!             // Read only what the send buffer can take back: no byte is
//!             // lost, and a full buffer holds the peer back.
//!             let bytes = conn.read(conn.room());
//!             conn.write(&bytes);
//!         }
//!         // Drop the connections that are over (a peer-closed one would
//!         // be echoed to the end and shut down first; see `plugins/echo`).
//!         self.conns.retain(|c| !c.state().is_finished());
//!         Ok(false)
//!     }
//! }
//!
//! export_doer!(Echo);
//! # fn main() {}
//! ```
//!
//! A doer that uses neither imports nothing more: the component keeps only
//! the host interfaces it calls.
//!
//! What the crate owns, and how a call flows through it: the one
//! `wit_bindgen::generate!` of the `http-doer` world (hidden, in
//! `bindings`); [`export_doer!`], which implements the world's exports
//! for your type, makes one value of it per `doer` resource the host asks
//! `enter` for (an instance may hold many, see the manifest's `share`),
//! keeps them by the id `recur` names them by, and turns each call
//! (`validate`, `recur`, `clean`, `cease`, `abort`, `exit`) into a call of
//! your [`Doer`]'s method, its `Err(String)` into
//! the doer's failure reason; and thin wrappers over the host's imports:
//! [`tyme`], [`log`], [`decks`], [`net`], [`http`], [`children`], and
//! [`Options`] for what the manifest gave. Start with [`Doer`] and
//! [`export_doer!`] (this file), then the module of the interface your doer
//! uses; `plugins/` in the repository has a doer of each kind.

#[doc(hidden)]
pub mod bindings {
    wit_bindgen::generate!({
        // `http-doer` includes `net-doer`, which includes `doer`:
        // wit-component keeps only the imports a plugin uses, so a doer
        // that never touches the network, HTTP or children imports exactly
        // what a `doer` world component does.
        world: "http-doer",
        path: "../wit",
        default_bindings_module: "hio_guest::bindings",
        pub_export_macro: true,
        export_macro_name: "export_doer_world",
    });
}

pub mod children;
pub mod http;
pub mod net;
mod options;

pub use options::{Options, Scalar, Value};

/// A doer. Every hook but `enter` and `recur` has a default.
pub trait Doer: Sized + 'static {
    /// The options this doer accepts. The default [`Doer::validate`]
    /// rejects any other.
    const OPTIONS: &'static [&'static str] = &[];

    /// Checks options before anything runs. The error should name the option.
    fn validate(options: &Options) -> Result<(), String> {
        options.only(Self::OPTIONS)
    }

    /// Makes the instance from its options (the `enter` hook).
    fn enter(options: &Options) -> Result<Self, String>;

    /// Runs once per due tick; `Ok(true)` means done.
    fn recur(&mut self, tyme: f64) -> Result<bool, String>;

    /// Runs after `recur` reported done.
    fn clean(&mut self) -> Result<(), String> {
        Ok(())
    }

    /// Runs when the host closes the doer before it is done.
    fn cease(&mut self) -> Result<(), String> {
        Ok(())
    }

    /// Runs when `enter` or `recur` failed, with the reason.
    fn abort(&mut self, reason: &str) {
        let _ = reason;
    }

    /// Always the last hook.
    fn exit(&mut self) -> Result<(), String> {
        Ok(())
    }
}

/// Simulated time, owned by the host.
pub mod tyme {
    use crate::bindings::hio::doer::tyme as host;

    /// The current tyme in seconds (constant within a hook).
    pub fn now() -> f64 {
        host::now()
    }

    /// This doer's tock.
    pub fn tock() -> f64 {
        host::tock()
    }

    /// Sets this doer's tock (finite, >= 0); it takes effect after `recur`.
    pub fn set_tock(tock: f64) -> Result<(), String> {
        host::set_tock(tock)
    }
}

/// The host log; lines are tagged with the tyme and this doer's path.
pub mod log {
    use crate::bindings::hio::doer::log::{Level, log};

    /// Logs at error level.
    pub fn error(message: &str) {
        log(Level::Error, message);
    }
    /// Logs at warn level.
    pub fn warn(message: &str) {
        log(Level::Warn, message);
    }
    /// Logs at info level.
    pub fn info(message: &str) {
        log(Level::Info, message);
    }
    /// Logs at debug level.
    pub fn debug(message: &str) {
        log(Level::Debug, message);
    }
    /// Logs at trace level.
    pub fn trace(message: &str) {
        log(Level::Trace, message);
    }
}

/// Decks: bounded FIFO queues between doers.
pub mod decks {
    use crate::bindings::hio::doer::decks as host;
    pub use crate::bindings::hio::doer::decks::DeckError;

    /// Appends `item`; [`DeckError::Full`] is back pressure: try later.
    pub fn push(deck: &str, item: &[u8]) -> Result<(), DeckError> {
        host::push(deck, item)
    }

    /// Takes the oldest item, `None` when the deck is empty.
    pub fn pull(deck: &str) -> Result<Option<Vec<u8>>, DeckError> {
        host::pull(deck)
    }

    /// Why this doer's last push on `deck` was refused, in words (a remote
    /// deck's server unreachable, and why); `None` once a push is taken.
    pub fn refusal(deck: &str) -> Option<String> {
        host::refusal(deck)
    }
}

#[doc(hidden)]
pub mod __private {
    use std::cell::RefCell;

    pub use std::thread_local;

    use crate::bindings::hio::doer::types::{Options as WitOptions, Progress};
    use crate::{Doer, Options};

    /// One doer of the instance, as the world's `doer` resource holds it:
    /// the value `enter` made (gone after `exit`), and the reason its last
    /// `recur` failed, until the host reads it. Each doer has its own: one
    /// instance may hold many.
    pub struct Slot<D> {
        doer: RefCell<Option<D>>,
        failure: RefCell<Option<String>>,
    }

    pub fn validate<D: Doer>(options: WitOptions) -> Result<(), String> {
        D::validate(&Options::from(options))
    }

    /// The doers of the instance by id, the number `recur` names them by,
    /// each kept in place (a call finds it with one index): an id is
    /// reused once its doer is gone. Doer 0 is kept in the table itself,
    /// so an instance of one doer touches no more memory per call than
    /// the doer's own.
    pub struct Table<D> {
        first: Option<Slot<D>>,
        rest: Vec<Option<Slot<D>>>,
        free: Vec<u32>,
    }

    impl<D: Doer> Table<D> {
        pub const fn new() -> Table<D> {
            Table {
                first: None,
                rest: Vec::new(),
                free: Vec::new(),
            }
        }

        fn slot(&mut self, id: u32) -> Option<&mut Option<Slot<D>>> {
            match id {
                0 => Some(&mut self.first),
                _ => self.rest.get_mut(id as usize - 1),
            }
        }

        /// Doer `id`, if the table holds it.
        pub fn get(&self, id: u32) -> Option<&Slot<D>> {
            match id {
                0 => self.first.as_ref(),
                _ => self.rest.get(id as usize - 1).and_then(Option::as_ref),
            }
        }

        /// Puts `slot` in the table: its id (a freed one first).
        pub fn insert(&mut self, slot: Slot<D>) -> u32 {
            if let Some(id) = self.free.pop()
                && let Some(place) = self.slot(id)
            {
                *place = Some(slot);
                return id;
            }
            if self.first.is_none() && self.rest.is_empty() {
                // Never used: id 0 is freed only after it was handed out,
                // and then it is on `free`, taken above.
                self.first = Some(slot);
                return 0;
            }
            self.rest.push(Some(slot));
            u32::try_from(self.rest.len()).expect("fewer than 2^32 doers")
        }

        /// Forgets doer `id` (dropped by the host).
        pub fn remove(&mut self, id: u32) {
            if let Some(place) = self.slot(id)
                && place.take().is_some()
            {
                self.free.push(id);
            }
        }
    }

    impl<D: Doer> Default for Table<D> {
        fn default() -> Self {
            Table::new()
        }
    }

    /// Runs `f` on doer `id` of `table`; `None` for an id it does not
    /// hold. The table stays borrowed during the call (only the host's
    /// `enter` and drop change it, never a call from inside a hook), so
    /// the call writes nothing but the doer's own state.
    pub fn with<D: Doer, T>(
        table: &RefCell<Table<D>>,
        id: u32,
        f: impl FnOnce(&Slot<D>) -> T,
    ) -> Option<T> {
        table.borrow().get(id).map(f)
    }

    /// `recur` of doer `id` of `table`: failed for an id it does not hold.
    pub fn recur<D: Doer>(table: &RefCell<Table<D>>, id: u32, tyme: f64) -> Progress {
        with(table, id, |slot| slot.recur(tyme)).unwrap_or(Progress::Failed)
    }

    impl<D: Doer> Slot<D> {
        /// The `enter` hook: a doer made from its options.
        pub fn enter(options: WitOptions) -> Result<Slot<D>, String> {
            let doer = D::enter(&Options::from(options))?;
            Ok(Slot {
                doer: RefCell::new(Some(doer)),
                failure: RefCell::new(None),
            })
        }

        fn with<T>(&self, f: impl FnOnce(&mut D) -> Result<T, String>) -> Result<T, String> {
            match self.doer.borrow_mut().as_mut() {
                Some(doer) => f(doer),
                None => Err("no doer: it has exited".to_owned()),
            }
        }

        /// `recur` as the world exports it: a flat status, the reason of a
        /// failure kept for [`Slot::failure`].
        pub fn recur(&self, tyme: f64) -> Progress {
            match self.with(|d| d.recur(tyme)) {
                Ok(false) => Progress::Running,
                Ok(true) => Progress::Done,
                Err(reason) => {
                    *self.failure.borrow_mut() = Some(reason);
                    Progress::Failed
                }
            }
        }

        /// The reason the last `recur` failed.
        pub fn failure(&self) -> String {
            self.failure
                .borrow_mut()
                .take()
                .unwrap_or_else(|| "recur failed and gave no reason".to_owned())
        }

        pub fn clean(&self) -> Result<(), String> {
            self.with(D::clean)
        }

        pub fn cease(&self) -> Result<(), String> {
            self.with(D::cease)
        }

        pub fn abort(&self, reason: String) {
            if let Some(doer) = self.doer.borrow_mut().as_mut() {
                doer.abort(&reason);
            }
        }

        pub fn exit(&self) -> Result<(), String> {
            // The doer is finished either way; its value drops here, or
            // with the resource if `exit` never came (a poisoned instance
            // runs no more code at all).
            match self.doer.borrow_mut().take() {
                Some(mut doer) => doer.exit(),
                None => Ok(()),
            }
        }
    }
}

/// Exports a [`Doer`] type as the component's doer world: each doer the
/// host makes in the instance is one value of the type, made by its
/// [`Doer::enter`].
///
/// Use it once per plugin crate, at the crate root.
#[macro_export]
macro_rules! export_doer {
    ($doer:ty) => {
        const _: () = {
            use $crate::__private as __hio;
            use $crate::bindings::exports::hio::doer::hooks as __hooks;
            use $crate::bindings::hio::doer::types as __types;
            __hio::thread_local! {
                /// The instance's doers, by the id `recur` names them by.
                static __HIO_DOERS: ::std::cell::RefCell<__hio::Table<$doer>> =
                    const { ::std::cell::RefCell::new(__hio::Table::new()) };
            }
            struct __HioExport;
            /// One doer: the `doer` resource's representation, its id in
            /// the table that holds it.
            struct __HioDoer {
                id: u32,
            }
            impl __HioDoer {
                fn with<T>(&self, f: impl FnOnce(&__hio::Slot<$doer>) -> T) -> Option<T> {
                    __HIO_DOERS.with(|t| __hio::with(t, self.id, f))
                }
            }
            impl Drop for __HioDoer {
                fn drop(&mut self) {
                    __HIO_DOERS.with(|t| t.borrow_mut().remove(self.id));
                }
            }
            impl __hooks::Guest for __HioExport {
                type Doer = __HioDoer;
                fn validate(options: __types::Options) -> Result<(), String> {
                    __hio::validate::<$doer>(options)
                }
                fn recur(doer: u32, tyme: f64) -> __types::Progress {
                    __HIO_DOERS.with(|t| __hio::recur(t, doer, tyme))
                }
            }
            impl __hooks::GuestDoer for __HioDoer {
                fn enter(options: __types::Options) -> Result<__hooks::Doer, String> {
                    let slot = __hio::Slot::<$doer>::enter(options)?;
                    let id = __HIO_DOERS.with(|t| t.borrow_mut().insert(slot));
                    Ok(__hooks::Doer::new(__HioDoer { id }))
                }
                fn id(&self) -> u32 {
                    self.id
                }
                fn failure(&self) -> String {
                    self.with(|s| s.failure())
                        .unwrap_or_else(|| "no doer: it has exited".to_owned())
                }
                fn clean(&self) -> Result<(), String> {
                    self.with(|s| s.clean())
                        .unwrap_or_else(|| Err("no doer: it has exited".to_owned()))
                }
                fn cease(&self) -> Result<(), String> {
                    self.with(|s| s.cease())
                        .unwrap_or_else(|| Err("no doer: it has exited".to_owned()))
                }
                fn abort(&self, reason: String) {
                    self.with(|s| s.abort(reason));
                }
                fn exit(&self) -> Result<(), String> {
                    // Its id stays its own until the host drops it.
                    self.with(|s| s.exit()).unwrap_or(Ok(()))
                }
            }
    $crate::bindings::export_doer_world!(__HioExport with_types_in $crate::bindings);
        };
    };
}
