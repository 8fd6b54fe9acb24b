//! TLS settings a doer is granted, built into rustls configurations: a
//! server's certificate and key from PEM files; a client's roots from PEM
//! files and, on request, the Mozilla roots (webpki-roots).

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in it", path.display()));
    }
    Ok(certs)
}

/// A server configuration from a certificate chain and a private key
/// (PEM files).
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, String> {
    let chain = certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let cfg = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    Ok(Arc::new(cfg))
}

/// A client configuration that verifies servers against the certificates
/// in `roots` (PEM files), with `webpki` the Mozilla roots, and with
/// `platform` the operating system's (read once, here).
pub fn client_config(
    roots: &[impl AsRef<Path>],
    webpki: bool,
    platform: bool,
) -> Result<Arc<ClientConfig>, String> {
    let mut store = RootCertStore::empty();
    if webpki {
        store.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    }
    if platform {
        let found = rustls_native_certs::load_native_certs();
        if found.certs.is_empty() {
            let why = found
                .errors
                .first()
                .map_or_else(|| "none found".to_owned(), |e| e.to_string());
            return Err(format!("the platform's root certificates: {why}"));
        }
        // Certificates the platform lists but rustls cannot parse are
        // skipped, as browsers do.
        let _ = store.add_parsable_certificates(found.certs);
    }
    for path in roots {
        for cert in certs(path.as_ref())? {
            store
                .add(cert)
                .map_err(|e| format!("{}: {e}", path.as_ref().display()))?;
        }
    }
    let cfg = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(store)
        .with_no_client_auth();
    Ok(Arc::new(cfg))
}

/// The same configuration offering `alpn` protocols.
pub fn with_alpn<T: Clone>(
    cfg: &Arc<T>,
    alpn: &[String],
    set: impl FnOnce(&mut T, Vec<Vec<u8>>),
) -> Arc<T> {
    if alpn.is_empty() {
        return Arc::clone(cfg);
    }
    let mut c = (**cfg).clone();
    set(&mut c, alpn.iter().map(|p| p.as_bytes().to_vec()).collect());
    Arc::new(c)
}
