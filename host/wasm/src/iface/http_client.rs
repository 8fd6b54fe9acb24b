//! Host side of the `http-client` interface: requests a doer sends, as
//! handles onto the run's [`hio_io::Net`], every call through the tape.

use hio_io::HostPort;
use hio_io::wire::Op;
use rustls::pki_types::ServerName;
use wasmtime::component::Resource;

use super::handles::{Handles, wit_error};
use super::http::{fields_size, send_fields};
use crate::bindings::hio::doer::http::Fields;
use crate::bindings::hio::doer::http_client::{Host, HostOutgoing};
use crate::bindings::hio::doer::tcp::NetError as WitNetError;
use crate::resources::OutgoingRes;
use crate::tape::checksum;

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

/// The response's status and headers, once they came.
fn response_head(handles: &Handles<'_>, r: &Resource<OutgoingRes>) -> Option<(u16, Fields)> {
    handles.call(
        r,
        None,
        Op::HttpResponse,
        || (),
        |n, id| n.http_response(id),
    )
}

impl HostOutgoing for Handles<'_> {
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
        let doer = self.may_connect(&addr)?;
        let tls = if tls {
            let cfg = doer.access.client.clone().ok_or_else(|| {
                WitNetError::NotGranted(
                    "https: no roots granted (grants.tls.roots, webpki_roots or platform_roots)"
                        .into(),
                )
            })?;
            let name = ServerName::try_from(addr.host.clone())
                .map_err(|_| WitNetError::BadAddress(format!("bad server name {:?}", addr.host)))?;
            Some((cfg, name))
        } else {
            None
        };
        let args = || {
            let what = (origin_text.clone(), (method.clone(), target.clone()));
            checksum(&(what, (headers.clone(), length)))
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
            .map_err(wit_error)?;
        self.push(OutgoingRes(id), |net, id| net.http_send_drop(id))
    }

    fn write(&mut self, r: Resource<OutgoingRes>, bytes: Vec<u8>) -> u32 {
        self.write_bytes(&r, Op::HttpSendBody, bytes, |n, id, bytes| {
            n.http_send_body(id, bytes)
        })
    }

    fn finish(&mut self, r: Resource<OutgoingRes>, trailers: Fields) -> Result<(), String> {
        send_fields(
            self,
            &r,
            Op::HttpSendFinish,
            &trailers,
            || trailers.clone(),
            |n, id| n.http_send_finish(id, &trailers),
        )
    }

    fn status(&mut self, r: Resource<OutgoingRes>) -> Option<u16> {
        response_head(self, &r).map(|h| h.0)
    }

    fn headers(&mut self, r: Resource<OutgoingRes>) -> Fields {
        response_head(self, &r).map(|h| h.1).unwrap_or_default()
    }

    fn read(&mut self, r: Resource<OutgoingRes>, max: u32) -> Vec<u8> {
        self.call(
            &r,
            Vec::new(),
            Op::HttpResponseRead,
            || u64::from(max),
            |n, id| n.http_response_read(id, max as usize),
        )
    }

    fn done(&mut self, r: Resource<OutgoingRes>) -> Option<Result<(), String>> {
        let default = Some(Err(hio_io::ExchangeError::NoSuchRequest));
        self.call(
            &r,
            default,
            Op::HttpResponseDone,
            || (),
            |n, id| n.http_response_done(id),
        )
        .map(|done| done.map_err(|e| e.to_string()))
    }

    fn drop(&mut self, r: Resource<OutgoingRes>) -> wasmtime::Result<()> {
        self.drop_handle(r, Op::HttpSendDrop, |net, id| net.http_send_drop(id))?;
        Ok(())
    }
}

impl Host for Handles<'_> {}

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
