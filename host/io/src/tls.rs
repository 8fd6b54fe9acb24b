//! TLS settings a doer is granted, built into rustls configurations: a
//! server's certificate and key from PEM files; a client's roots from PEM
//! files and, on request, the Mozilla roots (webpki-roots).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ClientConfig, RootCertStore, ServerConfig};

/// Why a TLS configuration cannot be built (its text names the file).
#[derive(Debug, thiserror::Error)]
pub enum TlsConfigError {
    /// A PEM file cannot be read or parsed.
    #[error("{}: {why}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        why: rustls::pki_types::pem::Error,
    },
    /// A certificate file holds no certificate.
    #[error("{}: no certificate in it", .0.display())]
    NoCertificate(PathBuf),
    /// rustls refused a certificate (or the key that goes with it).
    #[error("{}: {why}", path.display())]
    Certificate {
        /// The file.
        path: PathBuf,
        /// rustls's reason.
        why: rustls::Error,
    },
    /// The crypto provider offers none of the safe protocol versions.
    #[error("{0}")]
    Protocols(rustls::Error),
    /// The operating system's root certificates cannot be read.
    #[error("the platform's root certificates: {0}")]
    PlatformRoots(String),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsConfigError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|why| TlsConfigError::Pem {
            path: path.to_owned(),
            why,
        })?;
    if certs.is_empty() {
        return Err(TlsConfigError::NoCertificate(path.to_owned()));
    }
    Ok(certs)
}

/// A server configuration from a certificate chain and a private key
/// (PEM files).
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsConfigError> {
    let chain = certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key).map_err(|why| TlsConfigError::Pem {
        path: key.to_owned(),
        why,
    })?;
    let cfg = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsConfigError::Protocols)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|why| TlsConfigError::Certificate {
            path: cert.to_owned(),
            why,
        })?;
    Ok(Arc::new(cfg))
}

/// A client configuration that verifies servers against the certificates
/// in `roots` (PEM files), with `webpki` the Mozilla roots, and with
/// `platform` the operating system's (read once, here).
pub fn client_config(
    roots: &[impl AsRef<Path>],
    webpki: bool,
    platform: bool,
) -> Result<Arc<ClientConfig>, TlsConfigError> {
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
            return Err(TlsConfigError::PlatformRoots(why));
        }
        // Certificates the platform lists but rustls cannot parse are
        // skipped, as browsers do.
        let _ = store.add_parsable_certificates(found.certs);
    }
    for path in roots {
        for cert in certs(path.as_ref())? {
            store.add(cert).map_err(|why| TlsConfigError::Certificate {
                path: path.as_ref().to_owned(),
                why,
            })?;
        }
    }
    let cfg = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(TlsConfigError::Protocols)?
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
