//! Host side of the `http` interface: servers and requests as handles onto
//! the run's [`hio_io::Net`], served by its HTTP layer.

use wasmtime::component::Resource;

use crate::bindings::hio::doer::http::{Fields, Host, HostRequest, HostServer};
use crate::bindings::hio::doer::tcp::NetError as WitNetError;
use crate::net::digest;
use crate::store::StoreData;
use crate::tape::Op;
use hio_io::wire::Wire;

/// A server handle in a doer's resource table.
pub struct ServerRes(u64);

/// A request handle in a doer's resource table.
pub struct RequestRes(u64);

fn fields_size(fields: &Fields) -> usize {
    fields.iter().map(|(k, v)| k.len() + v.len()).sum()
}

impl StoreData {
    fn serve(&mut self, addr: &str, tls: bool) -> Result<Resource<ServerRes>, WitNetError> {
        let target = self.listen_target(addr)?;
        let doer = self.network()?;
        let cfg = if tls {
            Some(doer.access.server.clone().ok_or_else(|| {
                WitNetError::NotGranted(
                    "HTTPS: no certificate and key granted (grants.tls.cert, grants.tls.key)"
                        .into(),
                )
            })?)
        } else {
            None
        };
        let args = || digest(&(addr.to_owned(), tls));
        let sid = self
            .observe(Op::HttpListen, args, || {
                doer.access.net.http_listen(&doer.owner, &target, cfg)
            })
            .map_err(crate::net::wit_error)?;
        let net = doer.access.net.clone();
        self.push_handle(ServerRes(sid))
            .inspect_err(|_| net.http_close(sid))
    }

    /// Call `op` on the request `r` names, through the tape; `arg` gives
    /// what the doer handed over besides the handle (asked for only when a
    /// tape keeps it).
    fn on_request<T: Wire, A: Wire>(
        &self,
        r: &Resource<RequestRes>,
        default: T,
        op: Op,
        arg: impl FnOnce() -> A,
        f: impl FnOnce(&hio_io::Net, u64) -> T,
    ) -> T {
        self.on_handle(r, default, |net, q| {
            self.observe(op, || digest(&(q.0, arg())), || f(net, q.0))
        })
    }
}

impl HostServer for StoreData {
    fn listen(&mut self, addr: String) -> Result<Resource<ServerRes>, WitNetError> {
        self.serve(&addr, false)
    }

    fn listen_tls(&mut self, addr: String) -> Result<Resource<ServerRes>, WitNetError> {
        self.serve(&addr, true)
    }

    fn address(&mut self, r: Resource<ServerRes>) -> String {
        self.on_handle(&r, String::new(), |net, s| {
            self.observe(Op::HttpAddress, || digest(&s.0), || net.http_address(s.0))
                .map(|a| a.to_string())
                .unwrap_or_default()
        })
    }

    fn next(&mut self, r: Resource<ServerRes>) -> Option<Resource<RequestRes>> {
        let sid = self.table.get(&r).ok()?.0;
        let net = self.net_ref()?.clone();
        let rid = self.observe(Op::HttpNext, || digest(&sid), || net.http_next(sid))?;
        match self.push_handle(RequestRes(rid)) {
            Ok(h) => Some(h),
            Err(_) => {
                net.http_drop(rid);
                None
            }
        }
    }

    fn drop(&mut self, r: Resource<ServerRes>) -> wasmtime::Result<()> {
        let s = self.table.delete(r)?;
        if let Some(net) = self.net_ref() {
            let sid = s.0;
            self.observe(Op::HttpClose, || digest(&sid), || net.http_close(sid));
        }
        Ok(())
    }
}

impl HostRequest for StoreData {
    fn method(&mut self, r: Resource<RequestRes>) -> String {
        self.on_request(
            &r,
            None,
            Op::HttpHead,
            || 0u64,
            |n, q| n.http_head(q, |h| h.method.clone()),
        )
        .unwrap_or_default()
    }

    fn target(&mut self, r: Resource<RequestRes>) -> String {
        self.on_request(
            &r,
            None,
            Op::HttpHead,
            || 1u64,
            |n, q| n.http_head(q, |h| h.target.clone()),
        )
        .unwrap_or_default()
    }

    fn headers(&mut self, r: Resource<RequestRes>) -> Fields {
        self.on_request(
            &r,
            None,
            Op::HttpHead,
            || 2u64,
            |n, q| n.http_head(q, |h| h.headers.clone()),
        )
        .unwrap_or_default()
    }

    fn read(&mut self, r: Resource<RequestRes>, max: u32) -> Vec<u8> {
        self.on_request(
            &r,
            Vec::new(),
            Op::HttpRead,
            || u64::from(max),
            |n, q| n.http_read(q, max as usize),
        )
    }

    fn body_done(&mut self, r: Resource<RequestRes>) -> bool {
        self.on_request(
            &r,
            true,
            Op::HttpBodyDone,
            || (),
            |n, q| n.http_body_done(q),
        )
    }

    fn trailers(&mut self, r: Resource<RequestRes>) -> Fields {
        self.on_request(
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
        self.cross(fields_size(&headers));
        let arg = || (status, (headers.clone(), length));
        self.on_request(
            &r,
            Err("no such request".into()),
            Op::HttpRespond,
            arg,
            |n, q| n.http_respond(q, status, &headers, length),
        )
    }

    fn write(&mut self, r: Resource<RequestRes>, bytes: Vec<u8>) -> u32 {
        let n = self.on_request(
            &r,
            0,
            Op::HttpWrite,
            || bytes.clone(),
            |n, q| n.http_write(q, &bytes),
        );
        self.wrote(&bytes, n);
        n as u32
    }

    fn finish(&mut self, r: Resource<RequestRes>, trailers: Fields) -> Result<(), String> {
        self.cross(fields_size(&trailers));
        let arg = || trailers.clone();
        self.on_request(
            &r,
            Err("no such request".into()),
            Op::HttpFinish,
            arg,
            |n, q| n.http_finish(q, &trailers),
        )
    }

    fn drop(&mut self, r: Resource<RequestRes>) -> wasmtime::Result<()> {
        let q = self.table.delete(r)?;
        if let Some(net) = self.net_ref() {
            let rid = q.0;
            self.observe(Op::HttpDrop, || digest(&rid), || net.http_drop(rid));
        }
        Ok(())
    }
}

impl Host for StoreData {}

/// An outgoing request handle in a doer's resource table.
pub struct OutgoingRes(u64);

mod client {
    use hio_io::HostPort;
    use rustls::pki_types::ServerName;
    use wasmtime::component::Resource;

    use super::{OutgoingRes, fields_size};
    use crate::bindings::hio::doer::http::Fields;
    use crate::bindings::hio::doer::http_client::{Host, HostOutgoing};
    use crate::bindings::hio::doer::tcp::NetError as WitNetError;
    use crate::net::digest;
    use crate::store::StoreData;
    use crate::tape::Op;
    use hio_io::wire::Wire;

    /// `http://host:port` or `https://host:port`: the address and whether
    /// it is TLS (the port defaults to 80 or 443).
    fn origin(text: &str) -> Result<(HostPort, bool), WitNetError> {
        let bad = || {
            WitNetError::BadAddress(format!(
                "{text:?} is not http://host:port or https://host:port"
            ))
        };
        let (tls, rest) = if let Some(r) = text.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = text.strip_prefix("http://") {
            (false, r)
        } else {
            return Err(bad());
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let has_port = if rest.starts_with('[') {
            rest.contains("]:")
        } else {
            rest.contains(':')
        };
        let with_port = if has_port {
            rest.to_owned()
        } else {
            format!("{rest}:{}", if tls { 443 } else { 80 })
        };
        Ok((HostPort::parse(&with_port).map_err(|_| bad())?, tls))
    }

    impl StoreData {
        /// The response's status and headers, once they came.
        fn response_head(&self, r: &Resource<OutgoingRes>) -> Option<(u16, Fields)> {
            self.on_outgoing(
                r,
                None,
                Op::HttpResponse,
                || (),
                |n, id| n.http_response(id),
            )
        }

        /// Call `op` on the outgoing request `r` names, through the
        /// tape; `arg` gives what the doer handed over besides the handle
        /// (asked for only when a tape keeps it).
        fn on_outgoing<T: Wire, A: Wire>(
            &self,
            r: &Resource<OutgoingRes>,
            default: T,
            op: Op,
            arg: impl FnOnce() -> A,
            f: impl FnOnce(&hio_io::Net, u64) -> T,
        ) -> T {
            self.on_handle(r, default, |net, o| {
                self.observe(op, || digest(&(o.0, arg())), || f(net, o.0))
            })
        }
    }

    impl HostOutgoing for StoreData {
        fn send(
            &mut self,
            origin_text: String,
            method: String,
            target: String,
            headers: Fields,
            length: Option<u64>,
        ) -> Result<Resource<OutgoingRes>, WitNetError> {
            self.cross(origin_text.len() + method.len() + target.len() + fields_size(&headers));
            let (addr, tls) = origin(&origin_text)?;
            let doer = self.network()?;
            if !hio_io::granted(&doer.access.connect, &addr) {
                return Err(WitNetError::NotGranted(format!("connect to {addr}")));
            }
            let tls = if tls {
                let cfg = doer.access.client.clone().ok_or_else(|| {
                    WitNetError::NotGranted(
                        "https: no roots granted (grants.tls.roots, webpki_roots or platform_roots)"
                            .into(),
                    )
                })?;
                let name = ServerName::try_from(addr.host.clone()).map_err(|_| {
                    WitNetError::BadAddress(format!("bad server name {:?}", addr.host))
                })?;
                Some((cfg, name))
            } else {
                None
            };
            let args = || {
                let what = (origin_text.clone(), (method.clone(), target.clone()));
                digest(&(what, (headers.clone(), length)))
            };
            let id = self
                .observe(Op::HttpSend, args, || {
                    doer.access.net.http_send(
                        &doer.owner,
                        &addr,
                        tls,
                        &method,
                        &target,
                        &headers,
                        length,
                    )
                })
                .map_err(crate::net::wit_error)?;
            let net = doer.access.net.clone();
            self.push_handle(OutgoingRes(id))
                .inspect_err(|_| net.http_send_drop(id))
        }

        fn write(&mut self, r: Resource<OutgoingRes>, bytes: Vec<u8>) -> u32 {
            let n = self.on_outgoing(
                &r,
                0,
                Op::HttpSendBody,
                || bytes.clone(),
                |n, id| n.http_send_body(id, &bytes),
            );
            self.wrote(&bytes, n);
            n as u32
        }

        fn finish(&mut self, r: Resource<OutgoingRes>, trailers: Fields) -> Result<(), String> {
            self.cross(fields_size(&trailers));
            let arg = || trailers.clone();
            self.on_outgoing(
                &r,
                Err("no such request".into()),
                Op::HttpSendFinish,
                arg,
                |n, id| n.http_send_finish(id, &trailers),
            )
        }

        fn status(&mut self, r: Resource<OutgoingRes>) -> Option<u16> {
            self.response_head(&r).map(|h| h.0)
        }

        fn headers(&mut self, r: Resource<OutgoingRes>) -> Fields {
            self.response_head(&r).map(|h| h.1).unwrap_or_default()
        }

        fn read(&mut self, r: Resource<OutgoingRes>, max: u32) -> Vec<u8> {
            self.on_outgoing(
                &r,
                Vec::new(),
                Op::HttpResponseRead,
                || u64::from(max),
                |n, id| n.http_response_read(id, max as usize),
            )
        }

        fn done(&mut self, r: Resource<OutgoingRes>) -> Option<Result<(), String>> {
            let default = Some(Err("no such request".into()));
            self.on_outgoing(
                &r,
                default,
                Op::HttpResponseDone,
                || (),
                |n, id| n.http_response_done(id),
            )
        }

        fn drop(&mut self, r: Resource<OutgoingRes>) -> wasmtime::Result<()> {
            let o = self.table.delete(r)?;
            if let Some(net) = self.net_ref() {
                let id = o.0;
                self.observe(Op::HttpSendDrop, || digest(&id), || net.http_send_drop(id));
            }
            Ok(())
        }
    }

    impl Host for StoreData {}

    #[cfg(test)]
    mod tests {
        use super::origin;

        #[test]
        fn origins_name_scheme_host_and_port() {
            let (a, tls) = origin("https://example.com").unwrap();
            assert_eq!((a.to_string(), tls), ("example.com:443".into(), true));
            let (a, tls) = origin("http://127.0.0.1:8080/").unwrap();
            assert_eq!((a.to_string(), tls), ("127.0.0.1:8080".into(), false));
            let (a, _) = origin("http://[::1]:81").unwrap();
            assert_eq!(a.to_string(), "[::1]:81");
            let (a, _) = origin("http://[::1]").unwrap();
            assert_eq!(a.to_string(), "[::1]:80");
            assert!(origin("ftp://x").is_err() && origin("http://").is_err());
        }
    }
}
