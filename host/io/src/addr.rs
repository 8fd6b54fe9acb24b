//! Addresses a doer names (`host:port`) and the manifest's grants for them
//! (`host:port` or `host:*`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

use crate::NetError;

/// A `host:port` a doer asked for, split (IPv6 hosts in brackets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPort {
    /// The host: an IP literal (without brackets) or a name.
    pub host: String,
    /// The port.
    pub port: u16,
}

/// Splits `host:port`; IPv6 literals go in brackets (`[::1]:80`).
fn split(text: &str) -> Option<(&str, &str)> {
    if let Some(rest) = text.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host, port));
    }
    let (host, port) = text.rsplit_once(':')?;
    (!host.contains(':')).then_some((host, port))
}

fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && (host.parse::<IpAddr>().is_ok()
            || host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'))
}

/// The same host, written one way: IP literals in their canonical form,
/// names in lower case.
fn canonical(host: &str) -> String {
    match host.parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => host.to_ascii_lowercase(),
    }
}

impl HostPort {
    /// Parses what a doer wrote.
    pub fn parse(text: &str) -> Result<HostPort, NetError> {
        let bad = || NetError::NotHostPort(text.to_owned());
        let (host, port) = split(text).ok_or_else(bad)?;
        if !valid_host(host) {
            return Err(bad());
        }
        let port = port.parse::<u16>().map_err(|_| bad())?;
        Ok(HostPort {
            host: canonical(host),
            port,
        })
    }

    /// The socket addresses it names: an IP literal as is, a name through
    /// the system's resolver (which may block; grants name few hosts).
    pub fn resolve(&self) -> Result<Vec<SocketAddr>, NetError> {
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            return Ok(vec![SocketAddr::new(ip, self.port)]);
        }
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| NetError::Unresolved {
                host: self.host.clone(),
                why: e.to_string(),
            })?
            .collect();
        if addrs.is_empty() {
            return Err(NetError::NoAddress(self.host.clone()));
        }
        Ok(addrs)
    }

    /// The address it names in a simulated network, where no resolver is
    /// asked: an IP literal as is, `localhost` as 127.0.0.1, and any other
    /// name as an address in 10.0.0.0/8 drawn from the name (FNV-1a), the
    /// same in every run.
    pub(crate) fn resolve_sim(&self) -> SocketAddr {
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            return SocketAddr::new(ip, self.port);
        }
        if self.host == "localhost" {
            return SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), self.port);
        }
        let hash = self.host.bytes().fold(0x811c_9dc5_u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        let [_, a, b, c] = hash.to_be_bytes();
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, a, b, c)), self.port)
    }
}

impl std::fmt::Display for HostPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// One grant: `host:port`, `host:*` (any port) or `*:*` (anywhere). A host
/// matches as written (IP literals compared by value, names without case):
/// a grant for `localhost` does not grant `127.0.0.1`.
///
/// ```
/// use hio_io::{AddrGrant, HostPort};
/// let g = AddrGrant::parse("127.0.0.1:*").unwrap();
/// assert!(g.allows(&HostPort::parse("127.0.0.1:9000").unwrap()));
/// assert!(!g.allows(&HostPort::parse("10.0.0.1:9000").unwrap()));
/// assert!(AddrGrant::parse("127.0.0.1").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrGrant {
    host: Option<String>,
    port: Option<u16>,
}

impl AddrGrant {
    /// Parses a grant as the manifest writes it.
    pub fn parse(text: &str) -> Result<AddrGrant, String> {
        let bad = || format!("{text:?} is not host:port, host:* or *:*");
        let (host, port) = split(text).ok_or_else(bad)?;
        let host = match host {
            "*" => None,
            h if valid_host(h) => Some(canonical(h)),
            _ => return Err(bad()),
        };
        let port = match port {
            "*" => None,
            p => Some(p.parse::<u16>().map_err(|_| bad())?),
        };
        Ok(AddrGrant { host, port })
    }

    /// Whether it grants `addr`.
    pub fn allows(&self, addr: &HostPort) -> bool {
        self.host.as_ref().is_none_or(|h| *h == addr.host)
            && self.port.is_none_or(|p| p == addr.port)
    }
}

/// Whether any of `grants` allows `addr`.
pub fn granted(grants: &[AddrGrant], addr: &HostPort) -> bool {
    grants.iter().any(|g| g.allows(addr))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_forms_doers_write() {
        let v6 = HostPort::parse("[::1]:80").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("::1", 80));
        assert_eq!(v6.to_string(), "[::1]:80");
        assert_eq!(
            HostPort::parse("LocalHost:1").unwrap().host,
            "localhost".to_string()
        );
        for bad in [
            "", "x", ":80", "a:b", "a:70000", "::1:80", "a b:1", "[::1]80",
        ] {
            assert!(HostPort::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn grants_match_host_and_port() {
        let any = AddrGrant::parse("*:*").unwrap();
        let port = AddrGrant::parse("localhost:8080").unwrap();
        let a = HostPort::parse("LOCALHOST:8080").unwrap();
        let b = HostPort::parse("localhost:8081").unwrap();
        assert!(any.allows(&a) && port.allows(&a) && !port.allows(&b));
        assert!(!granted(&[], &a));
        assert!(AddrGrant::parse("*").is_err());
        assert!(
            AddrGrant::parse("[::1]:*")
                .unwrap()
                .allows(&HostPort::parse("[0::1]:5").unwrap())
        );
    }
}
