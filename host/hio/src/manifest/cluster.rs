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
    "lockstep",
    "hosts",
    "run",
    "barrier_timeout",
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
    /// `lockstep = true`: every host of `hosts` ticks together.
    pub lockstep: Option<LockstepSettings>,
}

impl ClusterSettings {
    /// How the cluster crate is to reach the servers, ticking with the
    /// other hosts when `lockstep` is given.
    pub fn link(&self, lockstep: Option<hio_cluster::Lockstep>) -> hio_cluster::ClusterConfig {
        hio_cluster::ClusterConfig {
            urls: self.urls.clone(),
            host: self.host.clone(),
            creds: self.creds.clone(),
            roots: self.roots.clone(),
            duplicate_window: self.duplicate_window,
            prefetch: self.prefetch,
            connect_timeout: self.connect_timeout,
            lockstep,
        }
    }
}

/// `[cluster] lockstep = true`.
#[derive(Debug, Clone, PartialEq)]
pub struct LockstepSettings {
    /// Every host of the run, in order (this one included).
    pub hosts: Vec<String>,
    /// The run's name (default `hio`): hosts of one run use the same.
    pub run: String,
    /// How long a host waits for the others at a tick (default 10 s).
    pub barrier_timeout: Duration,
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
    let lockstep = if cx.boolean(s, "lockstep", &p)?.unwrap_or(false) {
        let hosts: Vec<String> = cx
            .strings(s, "hosts", &p, "host names")?
            .into_iter()
            .map(|(i, h)| {
                if hio_scheduler::valid_name(h) {
                    Ok(h.to_owned())
                } else {
                    Err(cx.err(&p.key("hosts").idx(i), format!("bad host name {h:?}")))
                }
            })
            .collect::<Res<_>>()?;
        if !hosts.iter().any(|h| h == host) {
            return Err(cx.err(
                &p.key("hosts"),
                format!(
                    "lockstep: `hosts` lists every host of the run, this one ({host:?}) included"
                ),
            ));
        }
        let run = cx.string(s, "run", &p)?.unwrap_or("hio");
        if !hio_scheduler::valid_name(run) {
            return Err(cx.err(&p.key("run"), format!("bad run name {run:?}")));
        }
        Some(LockstepSettings {
            hosts,
            run: run.to_owned(),
            barrier_timeout: secs("barrier_timeout", 10.0)?,
        })
    } else {
        for key in ["hosts", "run", "barrier_timeout"] {
            if s.contains_key(key) {
                return Err(cx.err(&p.key(key), "only with lockstep = true"));
            }
        }
        None
    };
    Ok(Some(ClusterSettings {
        urls,
        host: host.to_owned(),
        creds,
        roots,
        duplicate_window: secs("duplicate_window", 120.0)?,
        prefetch: prefetch as usize,
        connect_timeout: secs("connect_timeout", 10.0)?,
        lockstep,
    }))
}
