//! What every network interface's calls share: the doer's network grants
//! ([`NetAccess`]) and its claim on the run's network ([`NetDoer`]), and
//! [`Handles`], the view of the store that tcp, tls, children, http and
//! http-client are implemented on. One place looks a handle up, makes its
//! call through the run's tape, and pushes a new handle (or undoes what
//! made it when the table is full).

use std::sync::Arc;

use hio_io::wire::{Op, Wire};
use hio_io::{AddrGrant, ConnLimits, HostPort, Net, Owner, granted};
use rustls::{ClientConfig, ServerConfig};
use wasmtime::component::{Resource, ResourceTable};

use crate::bindings::hio::doer::tcp::NetError as WitNetError;
use crate::charge::Meter;
use crate::resources::Handle;
use crate::tape::{Tape, checksum};

/// What a doer may do on the network, from its grants (the same for every
/// instance of it, and for the children it spawns).
#[derive(Clone, Debug)]
pub struct NetAccess {
    /// The run's network.
    pub net: Net,
    /// Its connection limits and timeouts.
    pub limits: ConnLimits,
    /// Addresses it may listen on.
    pub listen: Vec<AddrGrant>,
    /// Addresses it may connect to.
    pub connect: Vec<AddrGrant>,
    /// Its TLS server certificate and key, if granted.
    pub server: Option<Arc<ServerConfig>>,
    /// Its TLS client roots, if granted.
    pub client: Option<Arc<ClientConfig>>,
    /// Names it may verify TLS servers as (besides the host it connects to).
    pub server_names: Vec<String>,
}

/// A doer instance's network state in its store.
pub(crate) struct NetDoer {
    pub access: NetAccess,
    /// Dropped with the store: everything it holds closes.
    pub owner: Owner,
}

/// The network's error as the WIT interface gives it.
pub(crate) fn wit_error(e: hio_io::NetError) -> WitNetError {
    let reason = e.reason();
    match e.kind() {
        hio_io::NetErrorKind::NotGranted => WitNetError::NotGranted(reason),
        hio_io::NetErrorKind::BadAddress => WitNetError::BadAddress(reason),
        hio_io::NetErrorKind::Limit => WitNetError::Limit(reason),
        hio_io::NetErrorKind::Io => WitNetError::Io(reason),
    }
}

/// The view of a doer's store its network calls need: its resource table,
/// its network, the run's tape (with the doer's path, as the tape's
/// records name it), and the count of bytes it hands the host.
pub(crate) struct Handles<'a> {
    /// The doer's resource table.
    pub table: &'a mut ResourceTable,
    /// Its network grants and claim, if it has grants.
    pub net: Option<&'a NetDoer>,
    /// The run's wire log, if it keeps or replays one.
    pub tape: Option<&'a Tape>,
    /// The doer's path.
    pub path: &'a str,
    /// What the call hands the host.
    pub meter: Meter<'a>,
}

impl<'a> Handles<'a> {
    /// Its network grants and claim; an error for a doer without grants.
    pub fn network(&self) -> Result<&'a NetDoer, WitNetError> {
        self.net
            .ok_or_else(|| WitNetError::NotGranted("this doer has no network grants".into()))
    }

    /// The run's network, for calls on handles the doer holds (a handle
    /// exists only where the network does).
    pub fn net(&self) -> Option<&'a Net> {
        self.net.map(|d| &d.access.net)
    }

    /// Counts `bytes` the guest handed over against `limits.host_bytes`.
    pub fn cross(&mut self, bytes: usize) {
        self.meter.cross(bytes);
    }

    /// One network call the doer makes: run on the network, and through
    /// the run's tape when it keeps one (replaying, `real` does not run
    /// and the recorded result comes back). `args` gives the checksum of
    /// what the doer handed over.
    pub fn observe<T: Wire>(
        &self,
        op: Op,
        args: impl FnOnce() -> u32,
        real: impl FnOnce() -> T,
    ) -> T {
        match self.tape {
            Some(tape) => tape.call(self.path, op, args(), real),
            None => real(),
        }
    }

    /// Call `op` on what the handle `r` names, through the tape; `arg`
    /// gives what the doer handed over besides the handle (asked for only
    /// when a tape keeps it). `default` when the handle or the network is
    /// missing (a stale handle, a doer without a network).
    pub fn call<R: Handle, T: Wire, A: Wire>(
        &self,
        r: &Resource<R>,
        default: T,
        op: Op,
        arg: impl FnOnce() -> A,
        f: impl FnOnce(&Net, R::Id) -> T,
    ) -> T {
        match (self.net(), self.table.get(r)) {
            (Some(net), Ok(handle)) => {
                let id = handle.id();
                self.observe(op, || checksum(&(id, arg())), || f(net, id))
            }
            _ => default,
        }
    }

    /// Writes `bytes` on what the handle `r` names (`op` through the tape,
    /// `f` on the network): how many it took, and those are the bytes the
    /// tape's checksum of what doers wrote counts.
    pub fn write_bytes<R: Handle>(
        &self,
        r: &Resource<R>,
        op: Op,
        bytes: Vec<u8>,
        f: impl FnOnce(&Net, R::Id, &[u8]) -> usize,
    ) -> u32 {
        let n = self.call(r, 0, op, || bytes.clone(), |net, id| f(net, id, &bytes));
        if let Some(tape) = self.tape {
            tape.wrote(&bytes[..n.min(bytes.len())]);
        }
        n as u32
    }

    /// Puts `value` in the table as a new handle; when the table is full,
    /// `undo` (given the network) closes what the handle would have named.
    pub fn push<R: Handle>(
        &mut self,
        value: R,
        undo: impl FnOnce(&Net, R::Id),
    ) -> Result<Resource<R>, WitNetError> {
        let id = value.id();
        match self.table.push(value) {
            Ok(handle) => Ok(handle),
            Err(_) => {
                if let Some(net) = self.net() {
                    undo(net, id);
                }
                Err(WitNetError::Limit(
                    "handles: this doer holds as many as its limit allows".into(),
                ))
            }
        }
    }

    /// Drops the handle `r` and closes what it names (`op` through the
    /// tape, `close` on the network); the handle's value, for what else
    /// the doer kept of it.
    pub fn drop_handle<R: Handle>(
        &mut self,
        r: Resource<R>,
        op: Op,
        close: impl FnOnce(&Net, R::Id),
    ) -> wasmtime::Result<R> {
        let handle = self.table.delete(r)?;
        if let Some(net) = self.net() {
            let id = handle.id();
            self.observe(op, || checksum(&id), || close(net, id));
        }
        Ok(handle)
    }

    /// Checks a listen on `addr` (paid for, parsed, granted): where to
    /// listen.
    pub fn listen_target(&mut self, addr: &str) -> Result<HostPort, WitNetError> {
        self.cross(addr.len());
        let target = HostPort::parse(addr).map_err(wit_error)?;
        if !granted(&self.network()?.access.listen, &target) {
            return Err(WitNetError::NotGranted(format!("listen on {target}")));
        }
        Ok(target)
    }

    /// Checks a connection to `target`: granted.
    pub fn may_connect(&self, target: &HostPort) -> Result<&'a NetDoer, WitNetError> {
        let doer = self.network()?;
        if !granted(&doer.access.connect, target) {
            return Err(WitNetError::NotGranted(format!("connect to {target}")));
        }
        Ok(doer)
    }
}
