//! The manifest's `[cluster]` section (this host's link to the others,
//! through NATS JetStream) and the decks declared `remote = true`.

use std::path::PathBuf;
use std::time::Duration;

use toml::Table;

use super::reader::{Ctx, KeyPath, Res};

const CLUSTER_KEYS: &[&str] = &[
    "urls",
    "host",
    "creds",
    "roots",
    "duplicate_window",
    "prefetch",
    "connect_timeout",
];

/// `[cluster]`: where the NATS servers are and who this host is.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterSettings {
    /// Server URLs (`nats://host:port`, `tls://host:port`), at least one.
    pub urls: Vec<String>,
    /// This host's name (a name: `[A-Za-z0-9_.-]{1,64}`), part of every
    /// message id it publishes.
    pub host: String,
    /// A NATS credentials file (relative to the manifest's folder).
    pub creds: Option<PathBuf>,
    /// Root certificates (PEM) trusted for TLS to the servers; with any,
    /// TLS is required.
    pub roots: Vec<PathBuf>,
    /// How long the servers remember message ids (default 120 s).
    pub duplicate_window: Duration,
    /// Items fetched ahead per pulled deck (default 64).
    pub prefetch: usize,
    /// How long to wait for the first connection (default 10 s).
    pub connect_timeout: Duration,
}

/// The root's `[cluster]`, if any.
pub(super) fn cluster(cx: &Ctx<'_>, t: &Table, path: &KeyPath) -> Res<Option<ClusterSettings>> {
    let Some((s, p)) = cx.section(t, "cluster", path, CLUSTER_KEYS)? else {
        return Ok(None);
    };
    let urls: Vec<String> = cx
        .strings(s, "urls", &p, "server URLs")?
        .into_iter()
        .map(|(i, u)| {
            let ok = ["nats://", "tls://"].iter().any(|scheme| {
                u.strip_prefix(scheme)
                    .is_some_and(|rest| !rest.is_empty() && !rest.contains(char::is_whitespace))
            });
            if ok {
                Ok(u.to_owned())
            } else {
                Err(cx.err(
                    &p.key("urls").idx(i),
                    format!("bad server URL {u:?}: nats://host:port or tls://host:port"),
                ))
            }
        })
        .collect::<Res<_>>()?;
    if urls.is_empty() {
        return Err(cx.err(
            &p.key("urls"),
            "name at least one server: urls = [\"nats://127.0.0.1:4222\"]",
        ));
    }
    let host = cx
        .string(s, "host", &p)?
        .ok_or_else(|| cx.err(&p, "missing key `host` (this host's name)"))?;
    if !hio_scheduler::valid_name(host) {
        return Err(cx.err(
            &p.key("host"),
            format!("bad host name {host:?}: names match [A-Za-z0-9_.-]{{1,64}}"),
        ));
    }
    let creds = cx
        .string(s, "creds", &p)?
        .map(|f| cx.file(f, &p.key("creds")))
        .transpose()?;
    let roots = cx
        .strings(s, "roots", &p, "PEM files")?
        .into_iter()
        .map(|(i, f)| cx.file(f, &p.key("roots").idx(i)))
        .collect::<Res<_>>()?;
    let secs = |key: &str, default: f64| -> Res<Duration> {
        let v = cx.seconds(s, key, &p, true)?.unwrap_or(default);
        Duration::try_from_secs_f64(v)
            .map_err(|_| cx.err(&p.key(key), format!("{v} seconds is out of range")))
    };
    let prefetch = cx.count(s, "prefetch", &p, 1)?.unwrap_or(64);
    Ok(Some(ClusterSettings {
        urls,
        host: host.to_owned(),
        creds,
        roots,
        duplicate_window: secs("duplicate_window", 120.0)?,
        prefetch: prefetch as usize,
        connect_timeout: secs("connect_timeout", 10.0)?,
    }))
}
