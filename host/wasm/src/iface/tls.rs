//! Host side of the `tls` interface: `tcp`'s listen and connect with the
//! doer's granted certificate or roots, on the same view ([`TcpView`]).

use hio_io::HostPort;
use rustls::pki_types::ServerName;
use wasmtime::component::Resource;

use super::tcp::TcpView;
use crate::bindings::hio::doer::tcp::{ConnectOptions, NetError as WitNetError};
use crate::bindings::hio::doer::tls::Host;
use crate::resources::{ConnRes, ListenerRes};

fn alpn_cost(alpn: &[String]) -> usize {
    alpn.iter().map(String::len).sum()
}

impl Host for TcpView<'_> {
    fn listen(
        &mut self,
        addr: String,
        alpn: Vec<String>,
    ) -> Result<Resource<ListenerRes>, WitNetError> {
        self.handles.cross(alpn_cost(&alpn));
        let doer = self.handles.network()?;
        let Some(cfg) = &doer.access.server else {
            return Err(WitNetError::NotGranted(
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
        self.handles
            .cross(alpn_cost(&alpn).saturating_add(server_name.len()));
        let doer = self.handles.network()?;
        let Some(cfg) = &doer.access.client else {
            return Err(WitNetError::NotGranted(
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
            return Err(WitNetError::NotGranted(format!(
                "TLS server name {server_name:?} (grant it in grants.tls.server_names)"
            )));
        }
        let name = ServerName::try_from(server_name.clone())
            .map_err(|_| WitNetError::BadAddress(format!("bad server name {server_name:?}")))?;
        let cfg = hio_io::tls::with_alpn(cfg, &alpn, |c, p| c.alpn_protocols = p);
        self.connect_to(&addr, Some((cfg, name, &alpn)), options)
    }
}
