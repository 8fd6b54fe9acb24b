//! Host side of the `tcp`, `tls` and `children` interfaces: a doer's
//! listeners and connections are handles in its resource table onto the
//! run's [`Net`], checked against its grants; children it spawns are queued
//! and added to the tree when its hook returns.

use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;
use std::sync::Arc;

use hio_io::{AddrGrant, ConnId, ConnLimits, ConnState, HostPort, ListenerId, Net, Owner, granted};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ServerConfig};
use wasmtime::component::Resource;

use crate::bindings::hio::doer::children::Host as ChildrenHost;
use crate::bindings::hio::doer::tcp::{
    ConnectOptions, Host as TcpHost, HostConnection, HostListener, NetError as WitNetError, State,
};
use crate::bindings::hio::doer::tls::Host as TlsHost;
use crate::bindings::hio::doer::types::Value;
use crate::plugin::Plugin;
use crate::store::StoreData;
use crate::tape::Op;
use hio_io::wire::Wire;

/// The digest of a call's arguments, as its `call` record keeps it.
pub(crate) fn digest<T: Wire>(args: &T) -> u32 {
    crc32fast::hash(&hio_io::wire::encode(args))
}

/// A listener handle in a doer's resource table.
pub struct ListenerRes(ListenerId);

/// A connection handle in a doer's resource table, and the listener that
/// accepted it for this doer, if one did.
pub struct ConnRes(ConnId, Option<ListenerId>);

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

/// The plugins a doer may spawn as children, by the name its grant gives.
#[derive(Clone, Default)]
pub struct Spawns(pub Rc<BTreeMap<String, Rc<Plugin>>>);

impl fmt::Debug for Spawns {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

/// A doer instance's network state in its store.
pub(crate) struct NetDoer {
    pub access: NetAccess,
    /// Dropped with the store: everything it holds closes.
    pub owner: Owner,
}

/// A spawn a hook asked for, made when the hook returns.
pub(crate) struct SpawnRequest {
    pub name: String,
    pub plugin: String,
    pub options: Vec<(String, Value)>,
    pub conn: Option<ConnId>,
}

fn wit_state(s: ConnState) -> State {
    match s {
        ConnState::Connecting => State::Connecting,
        ConnState::Open => State::Open,
        ConnState::PeerClosed => State::PeerClosed,
        ConnState::Reset => State::Reset,
        ConnState::TimedOut => State::TimedOut,
        ConnState::Closed => State::Closed,
        ConnState::Failed(why) => State::Failed(why),
    }
}

pub(crate) fn wit_error(e: hio_io::NetError) -> WitNetError {
    match e {
        hio_io::NetError::NotGranted(s) => WitNetError::NotGranted(s),
        hio_io::NetError::BadAddress(s) => WitNetError::BadAddress(s),
        hio_io::NetError::Limit(s) => WitNetError::Limit(s),
        hio_io::NetError::Io(s) => WitNetError::Io(s),
    }
}

fn not_granted(what: String) -> WitNetError {
    WitNetError::NotGranted(what)
}

impl StoreData {
    /// One network call the doer makes: run on the network, and through
    /// the run's tape when it keeps one (replaying, `real` does not run
    /// and the recorded result comes back). `args` gives the digest of
    /// what the doer handed over.
    pub(crate) fn observe<T: Wire>(
        &self,
        op: Op,
        args: impl FnOnce() -> u32,
        real: impl FnOnce() -> T,
    ) -> T {
        match &self.tape {
            Some(tape) => tape.call(&self.path, op, args(), real),
            None => real(),
        }
    }

    /// The bytes of `bytes` a write took (`n`), for the tape's digest.
    pub(crate) fn wrote(&self, bytes: &[u8], n: usize) {
        if let Some(tape) = &self.tape {
            tape.wrote(&bytes[..n.min(bytes.len())]);
        }
    }

    pub(crate) fn network(&self) -> Result<&NetDoer, WitNetError> {
        self.net
            .as_ref()
            .ok_or_else(|| not_granted("this doer has no network grants".into()))
    }

    /// Counts `bytes` the guest handed over against `limits.host_bytes`;
    /// past it the call fails when it returns.
    pub(crate) fn cross(&mut self, bytes: usize) {
        if let Err(over) = self.crossing.add(bytes) {
            self.violation.get_or_insert(over.0);
        }
    }

    pub(crate) fn push_handle<T: Send + 'static>(
        &mut self,
        value: T,
    ) -> Result<Resource<T>, WitNetError> {
        self.table.push(value).map_err(|_| {
            WitNetError::Limit("handles: this doer holds as many as its limit allows".into())
        })
    }

    /// Listens on `addr`; `tls` with the ALPN protocols offered.
    fn listen_on(
        &mut self,
        addr: &str,
        tls: Option<(Arc<ServerConfig>, &[String])>,
    ) -> Result<Resource<ListenerRes>, WitNetError> {
        let target = self.listen_target(addr)?;
        let doer = self.network()?;
        let alpn = tls.as_ref().map(|(_, a)| a.join(","));
        let tls = tls.map(|(cfg, _)| cfg);
        let args = || digest(&(addr.to_owned(), alpn.clone()));
        let lid = self
            .observe(Op::Listen, args, || {
                doer.access.net.listen(&doer.owner, &target, tls)
            })
            .map_err(wit_error)?;
        let net = doer.access.net.clone();
        let handle = self
            .push_handle(ListenerRes(lid))
            .inspect_err(|_| net.close_listener(lid))?;
        self.listeners.insert(lid);
        Ok(handle)
    }

    /// Connects to `addr`; `tls` with the server name verified and the
    /// ALPN protocols offered.
    fn connect_to(
        &mut self,
        addr: &str,
        tls: Option<(Arc<ClientConfig>, ServerName<'static>, &[String])>,
        options: ConnectOptions,
    ) -> Result<Resource<ConnRes>, WitNetError> {
        self.cross(addr.len());
        let target = HostPort::parse(addr).map_err(wit_error)?;
        let doer = self.network()?;
        if !granted(&doer.access.connect, &target) {
            return Err(not_granted(format!("connect to {target}")));
        }
        let what = tls
            .as_ref()
            .map(|(_, name, alpn)| (name.to_str().into_owned(), alpn.join(",")));
        let tls = tls.map(|(cfg, name, _)| (cfg, name));
        let args = || digest(&((addr.to_owned(), options.reconnect), what.clone()));
        let cid = self
            .observe(Op::Connect, args, || {
                doer.access
                    .net
                    .connect(&doer.owner, &target, tls, options.reconnect)
            })
            .map_err(wit_error)?;
        let net = doer.access.net.clone();
        self.push_handle(ConnRes(cid, None))
            .inspect_err(|_| net.close(cid))
    }

    /// The run's network, for calls on handles the doer holds (a handle
    /// exists only where the network does).
    pub(crate) fn net_ref(&self) -> Option<&Net> {
        self.net.as_ref().map(|d| &d.access.net)
    }

    /// `f` of the network and the handle `r` names; `default` when either
    /// is missing (a stale handle, a doer without a network).
    pub(crate) fn on_handle<R: 'static, T>(
        &self,
        r: &Resource<R>,
        default: T,
        f: impl FnOnce(&Net, &R) -> T,
    ) -> T {
        match (self.net_ref(), self.table.get(r).ok()) {
            (Some(net), Some(handle)) => f(net, handle),
            _ => default,
        }
    }

    /// Call `op` on the connection `r` names, through the tape; `arg`
    /// gives what the doer handed over besides the handle (asked for only
    /// when a tape keeps it).
    fn on_conn<T: Wire, A: Wire>(
        &self,
        r: &Resource<ConnRes>,
        default: T,
        op: Op,
        arg: impl FnOnce() -> A,
        f: impl FnOnce(&Net, ConnId) -> T,
    ) -> T {
        self.on_handle(r, default, |net, c| {
            self.observe(op, || digest(&(c.0.raw(), arg())), || f(net, c.0))
        })
    }

    /// Checks a listen on `addr` (paid for, parsed, granted): where to listen.
    pub(crate) fn listen_target(&mut self, addr: &str) -> Result<HostPort, WitNetError> {
        self.cross(addr.len());
        let target = HostPort::parse(addr).map_err(wit_error)?;
        if !granted(&self.network()?.access.listen, &target) {
            return Err(not_granted(format!("listen on {target}")));
        }
        Ok(target)
    }
}

impl HostListener for StoreData {
    fn listen(&mut self, addr: String) -> Result<Resource<ListenerRes>, WitNetError> {
        self.listen_on(&addr, None)
    }

    fn address(&mut self, r: Resource<ListenerRes>) -> String {
        let lid = self.table.get(&r).ok().map(|l| l.0);
        match (self.net_ref(), lid) {
            (Some(net), Some(lid)) => self
                .observe(
                    Op::ListenerAddress,
                    || digest(&lid),
                    || net.listener_address(lid),
                )
                .map(|a| a.to_string())
                .unwrap_or_default(),
            _ => String::new(),
        }
    }

    fn accept(&mut self, r: Resource<ListenerRes>) -> Option<Resource<ConnRes>> {
        let lid = self.table.get(&r).ok()?.0;
        if self.held_back.contains(&lid) {
            return None;
        }
        let net = self.net_ref()?.clone();
        let cid = self.observe(Op::Accept, || digest(&lid), || net.accept(lid))?;
        match self.push_handle(ConnRes(cid, Some(lid))) {
            Ok(h) => Some(h),
            Err(_) => {
                net.close(cid);
                None
            }
        }
    }

    fn drop(&mut self, r: Resource<ListenerRes>) -> wasmtime::Result<()> {
        let l = self.table.delete(r)?;
        self.listeners.remove(&l.0);
        self.held_back.remove(&l.0);
        if let Some(net) = self.net_ref() {
            let lid = l.0;
            self.observe(
                Op::CloseListener,
                || digest(&lid),
                || net.close_listener(lid),
            );
        }
        Ok(())
    }
}

impl HostConnection for StoreData {
    fn connect(
        &mut self,
        addr: String,
        options: ConnectOptions,
    ) -> Result<Resource<ConnRes>, WitNetError> {
        self.connect_to(&addr, None, options)
    }

    fn state(&mut self, r: Resource<ConnRes>) -> State {
        wit_state(self.on_conn(&r, ConnState::Closed, Op::State, || (), |n, c| n.state(c)))
    }

    fn read(&mut self, r: Resource<ConnRes>, max: u32) -> Vec<u8> {
        self.on_conn(
            &r,
            Vec::new(),
            Op::Read,
            || u64::from(max),
            |n, c| n.read(c, max as usize),
        )
    }

    fn available(&mut self, r: Resource<ConnRes>) -> u32 {
        self.on_conn(&r, 0, Op::Available, || (), |n, c| n.available(c)) as u32
    }

    fn write(&mut self, r: Resource<ConnRes>, bytes: Vec<u8>) -> u32 {
        let n = self.on_conn(
            &r,
            0,
            Op::Write,
            || bytes.clone(),
            |n, c| n.write(c, &bytes),
        );
        self.wrote(&bytes, n);
        n as u32
    }

    fn room(&mut self, r: Resource<ConnRes>) -> u32 {
        self.on_conn(&r, 0, Op::Room, || (), |n, c| n.room(c)) as u32
    }

    fn shutdown(&mut self, r: Resource<ConnRes>) {
        self.on_conn(&r, (), Op::Shutdown, || (), |n, c| n.shutdown(c));
    }

    fn local_address(&mut self, r: Resource<ConnRes>) -> String {
        self.on_conn(&r, None, Op::Addresses, || (), |n, c| n.addresses(c).0)
            .map(|a| a.to_string())
            .unwrap_or_default()
    }

    fn peer_address(&mut self, r: Resource<ConnRes>) -> String {
        self.on_conn(&r, None, Op::Addresses, || true, |n, c| n.addresses(c).1)
            .map(|a| a.to_string())
            .unwrap_or_default()
    }

    fn alpn(&mut self, r: Resource<ConnRes>) -> Option<String> {
        self.on_conn(&r, None, Op::Alpn, || (), |n, c| n.alpn(c))
            .map(|p| String::from_utf8_lossy(&p).into_owned())
    }

    fn drop(&mut self, r: Resource<ConnRes>) -> wasmtime::Result<()> {
        let c = self.table.delete(r)?;
        if let Some(net) = self.net_ref() {
            let cid = c.0;
            self.observe(Op::Close, || digest(&cid), || net.close(cid));
        }
        Ok(())
    }
}

impl TcpHost for StoreData {}

fn alpn_cost(alpn: &[String]) -> usize {
    alpn.iter().map(String::len).sum()
}

impl TlsHost for StoreData {
    fn listen(
        &mut self,
        addr: String,
        alpn: Vec<String>,
    ) -> Result<Resource<ListenerRes>, WitNetError> {
        self.cross(alpn_cost(&alpn));
        let doer = self.network()?;
        let Some(cfg) = &doer.access.server else {
            return Err(not_granted(
                "TLS listen: no certificate and key granted (grants.tls.cert, grants.tls.key)"
                    .into(),
            ));
        };
        let cfg = hio_io::tls::with_alpn(cfg, &alpn, |c, p| c.alpn_protocols = p);
        self.listen_on(&addr, Some((cfg, &alpn)))
    }

    fn connect(
        &mut self,
        addr: String,
        server_name: String,
        alpn: Vec<String>,
        options: ConnectOptions,
    ) -> Result<Resource<ConnRes>, WitNetError> {
        self.cross(alpn_cost(&alpn).saturating_add(server_name.len()));
        let doer = self.network()?;
        let Some(cfg) = &doer.access.client else {
            return Err(not_granted(
                "TLS connect: no roots granted (grants.tls.roots, webpki_roots or platform_roots)"
                    .into(),
            ));
        };
        let host = HostPort::parse(&addr).map(|h| h.host).unwrap_or_default();
        let name_ok = server_name.eq_ignore_ascii_case(&host)
            || doer
                .access
                .server_names
                .iter()
                .any(|n| n.eq_ignore_ascii_case(&server_name));
        if !name_ok {
            return Err(not_granted(format!(
                "TLS server name {server_name:?} (grant it in grants.tls.server_names)"
            )));
        }
        let name = ServerName::try_from(server_name.clone())
            .map_err(|_| WitNetError::BadAddress(format!("bad server name {server_name:?}")))?;
        let cfg = hio_io::tls::with_alpn(cfg, &alpn, |c, p| c.alpn_protocols = p);
        self.connect_to(&addr, Some((cfg, name, &alpn)), options)
    }
}

impl ChildrenHost for StoreData {
    fn spawn(
        &mut self,
        name: String,
        plugin: String,
        options: Vec<(String, Value)>,
        conn: Option<Resource<ConnRes>>,
    ) -> Result<(), String> {
        self.cross(name.len() + plugin.len() + options_size(&options));
        // The handle is the child's now, whatever happens: on a refusal
        // the connection closes, except at the children limit, where an
        // accepted connection goes back to the front of its listener's
        // queue (back pressure: the next `accept` gives it again).
        let handed = conn.and_then(|r| self.table.delete(r).ok());
        let conn = handed.as_ref().map(|c| c.0);
        let refuse = |data: &mut StoreData, why: String| {
            if let (Some(cid), Some(net)) = (conn, data.net_ref()) {
                net.close(cid);
            }
            Err(why)
        };
        let full = format!("{}.{name}", self.name);
        if !hio_scheduler::valid_name(&name) || !hio_scheduler::valid_name(&full) {
            return refuse(
                self,
                format!(
                    "bad child name {name:?}: the child's name {full:?} must match [A-Za-z0-9_.-]{{1,64}}"
                ),
            );
        }
        if self.children.contains(&name) {
            return refuse(self, format!("a child named {name:?} is alive already"));
        }
        if self.children.len() >= self.max_children as usize {
            let why = format!("limit reached: children ({} alive)", self.max_children);
            // Decided by what the doer did (accepted it from a listener it
            // still holds), never by the network's state, so a replay
            // answers as the recording did; the listener then gives nothing
            // more this call, so a doer that ignores the error cannot spin.
            if let Some(ConnRes(cid, Some(lid))) = handed
                && self.listeners.contains(&lid)
            {
                self.held_back.insert(lid);
                if let Some(net) = self.net_ref()
                    && !net.requeue(cid)
                {
                    net.close(cid);
                }
                return Err(format!(
                    "{why}; the connection waits in its listener's queue"
                ));
            }
            return refuse(self, why);
        }
        if !self.spawnable.contains(&plugin) {
            return refuse(
                self,
                format!("not granted: spawning plugin {plugin:?} (grant it in grants.spawn)"),
            );
        }
        self.children.insert(name.clone());
        self.spawned.push(SpawnRequest {
            name,
            plugin,
            options,
            conn,
        });
        Ok(())
    }

    fn remove(&mut self, name: String) -> Result<(), String> {
        self.cross(name.len());
        if !self.children.remove(&name) {
            return Err(format!("no child named {name:?}"));
        }
        // Spawned in this same call: it is not made at all.
        if let Some(i) = self.spawned.iter().position(|r| r.name == name) {
            let req = self.spawned.remove(i);
            if let (Some(cid), Some(net)) = (req.conn, self.net_ref()) {
                net.close(cid);
            }
            return Ok(());
        }
        self.removed.push(name);
        Ok(())
    }

    fn handed(&mut self) -> Option<Resource<ConnRes>> {
        let cid = self.handed.take()?;
        match self.push_handle(ConnRes(cid, None)) {
            Ok(h) => Some(h),
            Err(_) => {
                if let Some(net) = self.net_ref() {
                    net.close(cid);
                }
                None
            }
        }
    }
}

fn options_size(options: &[(String, Value)]) -> usize {
    use crate::bindings::hio::doer::types::Scalar;
    let scalar = |s: &Scalar| match s {
        Scalar::Text(t) => t.len(),
        _ => 8,
    };
    options
        .iter()
        .map(|(k, v)| {
            k.len()
                + match v {
                    Value::Scalar(s) => scalar(s),
                    Value::List(l) => l.iter().map(scalar).sum(),
                }
        })
        .sum()
}
