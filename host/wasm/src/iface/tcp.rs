//! Host side of the `tcp` interface: a doer's listeners and connections
//! are handles in its resource table onto the run's [`hio_io::Net`],
//! checked against its grants, every call through the tape.

use std::collections::BTreeSet;
use std::sync::Arc;

use hio_io::wire::Op;
use hio_io::{ConnState, HostPort, ListenerId};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ServerConfig};
use wasmtime::component::{HasData, Resource};

use super::handles::{Handles, wit_error};
use crate::bindings::hio::doer::tcp::{
    ConnectOptions, Host, HostConnection, HostListener, NetError as WitNetError, State,
};
use crate::resources::{ConnRes, ListenerRes};
use crate::tape::checksum;

/// The listeners a doer holds handles to. Listening and dropping a handle
/// are on the wire log's tape, so a replay knows them as the recording
/// did.
#[derive(Default)]
pub(crate) struct Listeners {
    /// Those it holds.
    pub held: BTreeSet<ListenerId>,
    /// Those a connection was put back on during this call (a spawn at the
    /// children limit): they give no connection until the next call.
    pub held_back: BTreeSet<ListenerId>,
}

/// The view of a doer's store `tcp` (and `tls`) is implemented on.
pub(crate) struct TcpView<'a> {
    /// Its handles, network and tape.
    pub handles: Handles<'a>,
    /// The listeners it holds.
    pub listeners: &'a mut Listeners,
}

/// `tcp` (and `tls`) in the linker: calls on a [`TcpView`].
pub(crate) struct Tcp;

impl HasData for Tcp {
    type Data<'a> = TcpView<'a>;
}

fn wit_state(s: ConnState) -> State {
    match s {
        ConnState::Connecting => State::Connecting,
        ConnState::Open => State::Open,
        ConnState::PeerClosed => State::PeerClosed,
        ConnState::Reset => State::Reset,
        ConnState::TimedOut => State::TimedOut,
        ConnState::Closed => State::Closed,
        ConnState::Failed(why) => State::Failed(why.to_string()),
    }
}

impl TcpView<'_> {
    /// Listens on `addr`; `tls` with the ALPN protocols offered.
    pub fn listen_on(
        &mut self,
        addr: &str,
        tls: Option<(Arc<ServerConfig>, &[String])>,
    ) -> Result<Resource<ListenerRes>, WitNetError> {
        let target = self.handles.listen_target(addr)?;
        let doer = self.handles.network()?;
        let alpn = tls.as_ref().map(|(_, a)| a.join(","));
        let tls = tls.map(|(cfg, _)| cfg);
        let args = || checksum(&(addr.to_owned(), alpn.clone()));
        let lid = self
            .handles
            .observe(Op::Listen, args, || {
                doer.access.net.listen(&doer.owner, &target, tls)
            })
            .map_err(wit_error)?;
        let handle = self
            .handles
            .push(ListenerRes(lid), |net, lid| net.close_listener(lid))?;
        self.listeners.held.insert(lid);
        Ok(handle)
    }

    /// Connects to `addr`; `tls` with the server name verified and the
    /// ALPN protocols offered.
    pub fn connect_to(
        &mut self,
        addr: &str,
        tls: Option<(Arc<ClientConfig>, ServerName<'static>, &[String])>,
        options: ConnectOptions,
    ) -> Result<Resource<ConnRes>, WitNetError> {
        self.handles.cross(addr.len());
        let target = HostPort::parse(addr).map_err(wit_error)?;
        let doer = self.handles.may_connect(&target)?;
        let what = tls
            .as_ref()
            .map(|(_, name, alpn)| (name.to_str().into_owned(), alpn.join(",")));
        let tls = tls.map(|(cfg, name, _)| (cfg, name));
        let args = || checksum(&((addr.to_owned(), options.reconnect), what.clone()));
        let cid = self
            .handles
            .observe(Op::Connect, args, || {
                doer.access
                    .net
                    .connect(&doer.owner, &target, tls, options.reconnect)
            })
            .map_err(wit_error)?;
        self.handles
            .push(ConnRes(cid, None), |net, cid| net.close(cid))
    }
}

impl HostListener for TcpView<'_> {
    fn listen(&mut self, addr: String) -> Result<Resource<ListenerRes>, WitNetError> {
        self.listen_on(&addr, None)
    }

    fn address(&mut self, r: Resource<ListenerRes>) -> String {
        self.handles
            .call(
                &r,
                None,
                Op::ListenerAddress,
                || (),
                |net, lid| net.listener_address(lid),
            )
            .map(|a| a.to_string())
            .unwrap_or_default()
    }

    fn accept(&mut self, r: Resource<ListenerRes>) -> Option<Resource<ConnRes>> {
        let lid = self.handles.table.get(&r).ok()?.0;
        if self.listeners.held_back.contains(&lid) {
            return None;
        }
        let net = self.handles.net()?;
        let cid = self
            .handles
            .observe(Op::Accept, || checksum(&lid), || net.accept(lid))?;
        self.handles
            .push(ConnRes(cid, Some(lid)), |net, cid| net.close(cid))
            .ok()
    }

    fn drop(&mut self, r: Resource<ListenerRes>) -> wasmtime::Result<()> {
        let l = self
            .handles
            .drop_handle(r, Op::CloseListener, |net, lid| net.close_listener(lid))?;
        self.listeners.held.remove(&l.0);
        self.listeners.held_back.remove(&l.0);
        Ok(())
    }
}

impl HostConnection for TcpView<'_> {
    fn connect(
        &mut self,
        addr: String,
        options: ConnectOptions,
    ) -> Result<Resource<ConnRes>, WitNetError> {
        self.connect_to(&addr, None, options)
    }

    fn state(&mut self, r: Resource<ConnRes>) -> State {
        let state = self
            .handles
            .call(&r, ConnState::Closed, Op::State, || (), |n, c| n.state(c));
        wit_state(state)
    }

    fn read(&mut self, r: Resource<ConnRes>, max: u32) -> Vec<u8> {
        self.handles.call(
            &r,
            Vec::new(),
            Op::Read,
            || u64::from(max),
            |n, c| n.read(c, max as usize),
        )
    }

    fn available(&mut self, r: Resource<ConnRes>) -> u32 {
        self.handles
            .call(&r, 0, Op::Available, || (), |n, c| n.available(c)) as u32
    }

    fn write(&mut self, r: Resource<ConnRes>, bytes: Vec<u8>) -> u32 {
        self.handles
            .write_bytes(&r, Op::Write, bytes, |n, c, bytes| n.write(c, bytes))
    }

    fn room(&mut self, r: Resource<ConnRes>) -> u32 {
        self.handles.call(&r, 0, Op::Room, || (), |n, c| n.room(c)) as u32
    }

    fn shutdown(&mut self, r: Resource<ConnRes>) {
        self.handles
            .call(&r, (), Op::Shutdown, || (), |n, c| n.shutdown(c));
    }

    fn local_address(&mut self, r: Resource<ConnRes>) -> String {
        self.handles
            .call(&r, None, Op::Addresses, || (), |n, c| n.addresses(c).0)
            .map(|a| a.to_string())
            .unwrap_or_default()
    }

    fn peer_address(&mut self, r: Resource<ConnRes>) -> String {
        self.handles
            .call(&r, None, Op::Addresses, || true, |n, c| n.addresses(c).1)
            .map(|a| a.to_string())
            .unwrap_or_default()
    }

    fn alpn(&mut self, r: Resource<ConnRes>) -> Option<String> {
        self.handles
            .call(&r, None, Op::Alpn, || (), |n, c| n.alpn(c))
            .map(|p| String::from_utf8_lossy(&p).into_owned())
    }

    fn drop(&mut self, r: Resource<ConnRes>) -> wasmtime::Result<()> {
        self.handles
            .drop_handle(r, Op::Close, |net, cid| net.close(cid))?;
        Ok(())
    }
}

impl Host for TcpView<'_> {}
