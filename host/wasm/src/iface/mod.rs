//! The host side of every WIT interface a doer imports, one file each
//! (`tyme`, `log`, `decks`, `tcp`, `tls`, `children`, `http`,
//! `http-client`), and [`add_to_linker`], which puts them in the linker.
//!
//! As `wasmtime-wasi` does, each interface is implemented on the narrowest
//! view of the store it needs (a small struct borrowing only the fields it
//! uses), never on the whole [`StoreData`]; the views are built here, the
//! one place that knows the store's layout. The network interfaces share
//! one view, [`handles::Handles`], and its helpers for the steps every
//! handle call takes (look the handle up, call through the tape, push a new
//! handle or undo what made it).

pub(crate) mod children;
pub(crate) mod decks;
pub(crate) mod handles;
mod http;
mod http_client;
pub(crate) mod log;
pub(crate) mod tcp;
mod tls;
mod tyme;

use wasmtime::component::{HasData, Linker};

use crate::bindings::hio::doer;
use crate::charge::Meter;
use crate::store::StoreData;

pub use self::handles::NetAccess;

/// The view the network interfaces share, of store data `$s` (a macro,
/// not a function: a view may borrow other fields of the store beside it).
macro_rules! handles {
    ($s:expr) => {
        handles::Handles {
            table: &mut $s.table,
            net: $s.doer.net.as_ref(),
            tape: $s.tape.as_ref(),
            path: &$s.doer.path,
            meter: Meter {
                crossing: &$s.crossing,
                violation: &mut $s.violation,
            },
        }
    };
}

/// `types` holds types only: its instance is defined on no data at all.
struct Types;

impl HasData for Types {
    type Data<'a> = ();
}

impl doer::types::Host for () {}

/// Puts the host side of every `hio:doer` interface in the linker, each on
/// its view of the store; `log`, `push` and `pull`, which carry bytes, are
/// charged for them.
pub(crate) fn add_to_linker(linker: &mut Linker<StoreData>) -> wasmtime::Result<()> {
    doer::types::add_to_linker::<_, Types>(linker, |_| ())?;
    doer::tyme::add_to_linker::<_, tyme::Tyme>(linker, |s| tyme::TymeView {
        tyme: &s.tyme,
        tock_set: &mut s.doer.tock_set,
    })?;
    log::add_charged(linker, |s| &mut s.doer.logs)?;
    decks::add_charged(linker, |s| decks::DecksView {
        path: &s.doer.path,
        decks: &s.doer.decks,
        message: s.doer.message,
        tape: s.tape.as_ref(),
        refusals: &mut s.doer.refusals,
        lines: &mut s.doer.logs,
        violation: &mut s.violation,
    })?;
    doer::tcp::add_to_linker::<_, tcp::Tcp>(linker, |s| tcp::TcpView {
        handles: handles!(s),
        listeners: &mut s.doer.listeners,
    })?;
    doer::tls::add_to_linker::<_, tcp::Tcp>(linker, |s| tcp::TcpView {
        handles: handles!(s),
        listeners: &mut s.doer.listeners,
    })?;
    doer::children::add_to_linker::<_, children::Children>(linker, |s| children::ChildrenView {
        handles: handles!(s),
        name: &s.doer.name,
        children: &mut s.doer.children,
        listeners: &mut s.doer.listeners,
    })?;
    doer::http::add_to_linker::<_, http::Http>(linker, |s| handles!(s))?;
    doer::http_client::add_to_linker::<_, http::Http>(linker, |s| handles!(s))
}
