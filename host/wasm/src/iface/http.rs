//! Host side of the `http` interface: servers and the requests they
//! receive as handles onto the run's [`hio_io::Net`], served by its HTTP
//! layer, every call through the tape.

use hio_io::wire::{Op, Wire};
use wasmtime::component::{HasData, Resource};

use super::handles::{Handles, wit_error};
use crate::bindings::hio::doer::http::{Fields, Host, HostRequest, HostServer};
use crate::bindings::hio::doer::tcp::NetError as WitNetError;
use crate::resources::{Handle, RequestRes, ServerRes};
use crate::tape::checksum;

/// `http` and `http-client` in the linker: calls on [`Handles`].
pub(crate) struct Http;

impl HasData for Http {
    type Data<'a> = Handles<'a>;
}

/// The bytes header or trailer fields hand the host.
pub(crate) fn fields_size(fields: &Fields) -> usize {
    fields.iter().map(|(k, v)| k.len() + v.len()).sum()
}

/// Sends the head (`fields` are its headers) or the end (`fields` are
/// its trailers) of a message on the handle `r`: `op` through the tape,
/// `f` on the network; the response a server gives and the request a doer
/// sends end alike.
pub(crate) fn send_fields<R: Handle, A: Wire>(
    handles: &mut Handles<'_>,
    r: &Resource<R>,
    op: Op,
    fields: &Fields,
    arg: impl FnOnce() -> A,
    f: impl FnOnce(&hio_io::Net, R::Id) -> Result<(), hio_io::HttpCallError>,
) -> Result<(), String> {
    handles.cross(fields_size(fields));
    let default = Err(hio_io::HttpCallError::NoSuchRequest);
    handles
        .call(r, default, op, arg, f)
        .map_err(|e| e.to_string())
}

fn serve(
    handles: &mut Handles<'_>,
    addr: &str,
    tls: bool,
) -> Result<Resource<ServerRes>, WitNetError> {
    let target = handles.listen_target(addr)?;
    let doer = handles.network()?;
    let cfg = if tls {
        Some(doer.access.server.clone().ok_or_else(|| {
            WitNetError::NotGranted(
                "HTTPS: no certificate and key granted (grants.tls.cert, grants.tls.key)".into(),
            )
        })?)
    } else {
        None
    };
    let args = || checksum(&(addr.to_owned(), tls));
    let sid = handles
        .observe(Op::HttpListen, args, || {
            doer.access.net.http_listen(&doer.owner, &target, cfg)
        })
        .map_err(wit_error)?;
    handles.push(ServerRes(sid), |net, sid| net.http_close(sid))
}

impl HostServer for Handles<'_> {
    fn listen(&mut self, addr: String) -> Result<Resource<ServerRes>, WitNetError> {
        serve(self, &addr, false)
    }

    fn listen_tls(&mut self, addr: String) -> Result<Resource<ServerRes>, WitNetError> {
        serve(self, &addr, true)
    }

    fn address(&mut self, r: Resource<ServerRes>) -> String {
        self.call(&r, None, Op::HttpAddress, || (), |n, s| n.http_address(s))
            .map(|a| a.to_string())
            .unwrap_or_default()
    }

    fn next(&mut self, r: Resource<ServerRes>) -> Option<Resource<RequestRes>> {
        let sid = self.table.get(&r).ok()?.0;
        let net = self.net()?;
        let rid = self.observe(Op::HttpNext, || checksum(&sid), || net.http_next(sid))?;
        self.push(RequestRes(rid), |net, rid| net.http_drop(rid))
            .ok()
    }

    fn drop(&mut self, r: Resource<ServerRes>) -> wasmtime::Result<()> {
        self.drop_handle(r, Op::HttpClose, |net, sid| net.http_close(sid))?;
        Ok(())
    }
}

impl HostRequest for Handles<'_> {
    fn method(&mut self, r: Resource<RequestRes>) -> String {
        self.call(
            &r,
            None,
            Op::HttpHead,
            || 0u64,
            |n, q| n.http_head(q, |h| h.method.clone()),
        )
        .unwrap_or_default()
    }

    fn target(&mut self, r: Resource<RequestRes>) -> String {
        self.call(
            &r,
            None,
            Op::HttpHead,
            || 1u64,
            |n, q| n.http_head(q, |h| h.target.clone()),
        )
        .unwrap_or_default()
    }

    fn headers(&mut self, r: Resource<RequestRes>) -> Fields {
        self.call(
            &r,
            None,
            Op::HttpHead,
            || 2u64,
            |n, q| n.http_head(q, |h| h.headers.clone()),
        )
        .unwrap_or_default()
    }

    fn read(&mut self, r: Resource<RequestRes>, max: u32) -> Vec<u8> {
        self.call(
            &r,
            Vec::new(),
            Op::HttpRead,
            || u64::from(max),
            |n, q| n.http_read(q, max as usize),
        )
    }

    fn body_done(&mut self, r: Resource<RequestRes>) -> bool {
        self.call(
            &r,
            true,
            Op::HttpBodyDone,
            || (),
            |n, q| n.http_body_done(q),
        )
    }

    fn trailers(&mut self, r: Resource<RequestRes>) -> Fields {
        self.call(
            &r,
            Vec::new(),
            Op::HttpTrailers,
            || (),
            |n, q| n.http_trailers(q),
        )
    }

    fn respond(
        &mut self,
        r: Resource<RequestRes>,
        status: u16,
        headers: Fields,
        length: Option<u64>,
    ) -> Result<(), String> {
        let arg = || (status, (headers.clone(), length));
        send_fields(self, &r, Op::HttpRespond, &headers, arg, |n, q| {
            n.http_respond(q, status, &headers, length)
        })
    }

    fn write(&mut self, r: Resource<RequestRes>, bytes: Vec<u8>) -> u32 {
        self.write_bytes(&r, Op::HttpWrite, bytes, |n, q, bytes| {
            n.http_write(q, bytes)
        })
    }

    fn finish(&mut self, r: Resource<RequestRes>, trailers: Fields) -> Result<(), String> {
        send_fields(
            self,
            &r,
            Op::HttpFinish,
            &trailers,
            || trailers.clone(),
            |n, q| n.http_finish(q, &trailers),
        )
    }

    fn drop(&mut self, r: Resource<RequestRes>) -> wasmtime::Result<()> {
        self.drop_handle(r, Op::HttpDrop, |net, rid| net.http_drop(rid))?;
        Ok(())
    }
}

impl Host for Handles<'_> {}
