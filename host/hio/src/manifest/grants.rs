//! A node's `grants`: decks (`push`, `pull`) on any node, and on plugin
//! doers the network and children (`listen`, `connect`, `spawn`, `tls`).
//! Grants are never inherited.

use std::collections::BTreeSet;
use std::path::PathBuf;

use toml::{Table, Value as Toml};

use super::reader::{Ctx, KeyPath, Res};
use hio_io::AddrGrant;
use hio_scheduler::Grants;

/// A leaf's network and child grants (`grants.listen`, `connect`, `spawn`,
/// `tls`); never inherited. Empty grants grant nothing.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NetGrants {
    /// Addresses the doer may listen on.
    pub listen: Vec<AddrGrant>,
    /// Addresses the doer may connect to.
    pub connect: Vec<AddrGrant>,
    /// Plugins the doer may spawn as children: the name as the manifest
    /// writes it (the guest names the plugin by it) and the file it
    /// resolves to (against the manifest's folder).
    pub spawn: Vec<(String, PathBuf)>,
    /// TLS files and settings.
    pub tls: TlsGrant,
}

/// A leaf's TLS grant (`grants.tls`); file paths are resolved against the
/// manifest's folder and exist.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TlsGrant {
    /// The certificate chain (PEM) a TLS listener presents; set with `key`.
    pub cert: Option<PathBuf>,
    /// The private key (PEM) of `cert`; set with `cert`.
    pub key: Option<PathBuf>,
    /// Extra root certificates (PEM) a TLS connect trusts.
    pub roots: Vec<PathBuf>,
    /// Trust the bundled Mozilla roots (webpki-roots) on connect.
    pub webpki_roots: bool,
    /// Trust the operating system's roots on connect.
    pub platform_roots: bool,
    /// The names a TLS connect may verify a server as.
    pub server_names: Vec<String>,
}

impl NetGrants {
    /// Whether it grants any listen or connect address.
    pub fn uses_network(&self) -> bool {
        !self.listen.is_empty() || !self.connect.is_empty()
    }
}

const DECK_KEYS: &[&str] = &["push", "pull"];
const NET_KEYS: &[&str] = &["listen", "connect", "spawn", "tls"];
const TLS_KEYS: &[&str] = &[
    "cert",
    "key",
    "roots",
    "webpki_roots",
    "platform_roots",
    "server_names",
];

/// The `grants` of the node table `t`; `leaf` says whether it is a plugin
/// doer (only those may hold network grants).
pub(super) fn grants(
    cx: &Ctx<'_>,
    t: &Table,
    path: &KeyPath,
    decks: &BTreeSet<&str>,
    leaf: bool,
) -> Res<(Grants, NetGrants)> {
    let mut g = Grants::default();
    let mut net = NetGrants::default();
    let all: Vec<&str> = DECK_KEYS.iter().chain(NET_KEYS).copied().collect();
    let Some((s, p)) = cx.section(t, "grants", path, &all)? else {
        return Ok((g, net));
    };
    if !leaf && let Some(k) = NET_KEYS.iter().find(|k| s.contains_key(**k)) {
        return Err(cx.err(
            &p.key(k),
            "applies to plugin doers only, not to a DoDoer (grants are not inherited)",
        ));
    }
    for (dir, set) in [("push", &mut g.push), ("pull", &mut g.pull)] {
        for (i, name) in cx.strings(s, dir, &p, "deck names")? {
            if !decks.contains(name) {
                return Err(cx.err(
                    &p.key(dir).idx(i),
                    format!("unknown deck {name:?}: declare it under [[decks]]"),
                ));
            }
            set.insert(name.to_owned());
        }
    }
    for (dir, list) in [("listen", &mut net.listen), ("connect", &mut net.connect)] {
        for (i, text) in cx.strings(s, dir, &p, "addresses")? {
            let grant = AddrGrant::parse(text).map_err(|e| cx.err(&p.key(dir).idx(i), e))?;
            list.push(grant);
        }
    }
    for (i, rel) in cx.strings(s, "spawn", &p, "plugin files")? {
        let file = cx.file(rel, &p.key("spawn").idx(i))?;
        net.spawn.push((rel.to_owned(), file));
    }
    if let Some(v) = s.get("tls") {
        net.tls = tls(cx, v, &p.key("tls"))?;
    }
    Ok((g, net))
}

fn tls(cx: &Ctx<'_>, v: &Toml, p: &KeyPath) -> Res<TlsGrant> {
    let s = cx.table(v, p)?;
    cx.known(s, TLS_KEYS, p)?;
    let file = |key: &str| -> Res<_> {
        cx.string(s, key, p)?
            .map(|rel| cx.file(rel, &p.key(key)))
            .transpose()
    };
    let cert = file("cert")?;
    let key = file("key")?;
    match (&cert, &key) {
        (Some(_), None) => {
            return Err(cx.err(p, "missing key `key`: `cert` needs its private key file"));
        }
        (None, Some(_)) => {
            return Err(cx.err(p, "missing key `cert`: `key` needs its certificate file"));
        }
        _ => {}
    }
    let roots = cx
        .strings(s, "roots", p, "certificate files")?
        .into_iter()
        .map(|(i, rel)| cx.file(rel, &p.key("roots").idx(i)))
        .collect::<Res<_>>()?;
    let server_names = cx
        .strings(s, "server_names", p, "server names")?
        .into_iter()
        .map(|(i, name)| match name {
            "" => Err(cx.err(&p.key("server_names").idx(i), "a server name is not empty")),
            n => Ok(n.to_owned()),
        })
        .collect::<Res<_>>()?;
    Ok(TlsGrant {
        cert,
        key,
        roots,
        webpki_roots: cx.boolean(s, "webpki_roots", p)?.unwrap_or(false),
        platform_roots: cx.boolean(s, "platform_roots", p)?.unwrap_or(false),
        server_names,
    })
}
