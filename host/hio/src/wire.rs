//! Recording a run's wire log and replaying it: the header (settings,
//! manifest, plugin digests), the services that frame each tick on the
//! [`Tape`], and the trace sink that feeds it the lifecycle trace.
//!
//! The log's format is `hio_io::wire`'s; the tape that records or feeds
//! back the doers' network calls is [`hio_wasm::Tape`].

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hio_io::wire::{Header, Log, PluginSum, VERSION};
use hio_io::{Net, NetService};
use hio_scheduler::trace::Record as TraceRecord;
use hio_scheduler::{Services, Tick, TraceSink, WaitEnd, Wake, WallClock};
use hio_wasm::Tape;
use sha2::{Digest, Sha256};

use crate::manifest::Manifest;

/// The services of a run that keeps or replays a wire log: each tick's
/// start, end and the run's end go to the tape, around the network's own
/// service (recording) or none (replaying: no socket is touched).
pub struct Taped {
    tape: Tape,
    net: Option<NetService>,
}

impl Taped {
    /// Frames `tape`'s ticks around `net`'s service (not when replaying).
    pub fn new(tape: Tape, net: Option<&Net>) -> Taped {
        let net = if tape.replaying() {
            None
        } else {
            net.map(Net::service)
        };
        Taped { tape, net }
    }
}

impl Services for Taped {
    fn before(&mut self, tick: Tick) {
        self.tape.tick(tick);
        if let Some(net) = &mut self.net {
            net.before(tick);
        }
    }

    fn after(&mut self, tyme: f64) {
        if let Some(net) = &mut self.net {
            net.after(tyme);
        }
        self.tape.mark();
    }

    fn end(&mut self, last: Tick) {
        if let Some(net) = &mut self.net {
            net.end(last);
        }
        self.tape.end(last);
    }

    fn wait(&mut self, clock: &dyn WallClock, timeout: Duration) -> WaitEnd {
        match &mut self.net {
            Some(net) => net.wait(clock, timeout),
            None => {
                if !timeout.is_zero() {
                    clock.sleep(timeout);
                }
                WaitEnd::Elapsed
            }
        }
    }
}

/// A trace sink that hands each line to the tape's digests, then to the
/// sink the user asked for (if any).
pub struct TapeSink {
    tape: Option<Tape>,
    inner: Option<Box<dyn TraceSink>>,
}

impl TapeSink {
    /// Feeds `tape` (if any), then `inner` (if any).
    pub fn new(tape: Option<Tape>, inner: Option<Box<dyn TraceSink>>) -> TapeSink {
        TapeSink { tape, inner }
    }
}

impl TraceSink for TapeSink {
    fn record(&mut self, record: &TraceRecord<'_>) {
        if let Some(tape) = &self.tape {
            tape.trace_line(&record.to_json());
            if let Some(reason) = record.reason {
                let attempt = record.attempt.unwrap_or(0);
                tape.failure(record.doer, attempt, record.tyme, reason);
            }
        }
        if let Some(inner) = &mut self.inner {
            inner.record(record);
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match &mut self.inner {
            Some(inner) => inner.flush(),
            None => Ok(()),
        }
    }
}

/// The run's settings after command-line overrides, as a header keeps
/// them (TOML).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Doist tock.
    pub tock: f64,
    /// Limit, if any.
    pub limit: Option<f64>,
    /// Real mode.
    pub real: bool,
    /// Real-mode wake.
    pub wake: Wake,
    /// Run seed.
    pub seed: u64,
    /// `--option` overrides, as given.
    pub options: Vec<String>,
}

impl Settings {
    /// The settings `m` has now, and the `--option`s applied to it.
    pub fn of(m: &Manifest, options: &[String]) -> Settings {
        Settings {
            tock: m.tock,
            limit: m.limit,
            real: m.real,
            wake: m.wake,
            seed: m.seed,
            options: options.to_vec(),
        }
    }

    /// As TOML.
    pub fn to_toml(&self) -> String {
        let mut t = toml::Table::new();
        t.insert("tock".into(), self.tock.into());
        if let Some(l) = self.limit {
            t.insert("limit".into(), l.into());
        }
        t.insert("real".into(), self.real.into());
        t.insert("wake".into(), self.wake.as_str().into());
        // TOML integers are i64: a seed above it is kept as text.
        t.insert("seed".into(), self.seed.to_string().into());
        let options: Vec<toml::Value> = self.options.iter().map(|o| o.as_str().into()).collect();
        t.insert("options".into(), options.into());
        t.to_string()
    }

    /// Reads what [`Settings::to_toml`] wrote.
    pub fn parse(text: &str) -> Result<Settings, String> {
        let t: toml::Table = text.parse().map_err(|e| format!("settings: {e}"))?;
        let float = |k: &str| -> Result<Option<f64>, String> {
            match t.get(k) {
                None => Ok(None),
                Some(v) => v
                    .as_float()
                    .map(Some)
                    .ok_or_else(|| format!("settings: {k} is not a number")),
            }
        };
        let tock = float("tock")?.ok_or("settings: no tock")?;
        let wake = match t.get("wake").and_then(|v| v.as_str()) {
            Some("io") => Wake::Io,
            Some("grid") | None => Wake::Grid,
            Some(w) => return Err(format!("settings: wake {w:?}")),
        };
        let seed = t
            .get("seed")
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse().ok())
            .ok_or("settings: no seed")?;
        let options = t
            .get("options")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        Ok(Settings {
            tock,
            limit: float("limit")?,
            real: t.get("real").and_then(|v| v.as_bool()).unwrap_or(false),
            wake,
            seed,
            options,
        })
    }
}

/// SHA-256 of a file's bytes.
pub fn sha256_file(path: &Path) -> io::Result<[u8; 32]> {
    Ok(Sha256::digest(std::fs::read(path)?).into())
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The header of a log of a run of `m` with `settings`, loading `plugins`.
pub fn header(
    m: &Manifest,
    settings: &Settings,
    plugins: &[PathBuf],
    wall_start: Duration,
) -> io::Result<Header> {
    let plugins = plugins
        .iter()
        .map(|p| {
            Ok(PluginSum {
                // Absolute: a replay may run from another folder.
                path: std::path::absolute(p)
                    .unwrap_or_else(|_| p.clone())
                    .to_string_lossy()
                    .into_owned(),
                sha256: sha256_file(p).map_err(|e| {
                    io::Error::new(e.kind(), format!("{}: cannot read: {e}", p.display()))
                })?,
            })
        })
        .collect::<io::Result<Vec<_>>>()?;
    Ok(Header {
        version: VERSION,
        seed: m.seed,
        wall_start: u64::try_from(wall_start.as_nanos()).unwrap_or(u64::MAX),
        settings: settings.to_toml(),
        path: std::path::absolute(&m.path)
            .unwrap_or_else(|_| m.path.clone())
            .to_string_lossy()
            .into_owned(),
        manifest: m.text.clone(),
        plugins,
    })
}

/// The manifest a log recorded, with its recorded settings applied (the
/// run to replay).
pub fn recorded_manifest(log: &Log) -> Result<Manifest, String> {
    let h = &log.header;
    let settings = Settings::parse(&h.settings).map_err(|e| format!("the header's {e}"))?;
    let mut m =
        Manifest::parse(&h.manifest, &h.path).map_err(|e| format!("the recorded manifest: {e}"))?;
    m.tock = settings.tock;
    m.limit = settings.limit;
    m.real = settings.real;
    m.wake = settings.wake;
    m.set_seed(settings.seed);
    for flag in &settings.options {
        m.apply_option(flag)
            .map_err(|e| format!("the recorded --option {flag}: {e}"))?;
    }
    Ok(m)
}

/// How a recorded plugin compares with the file at its path now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginCheck {
    /// The same bytes.
    Same,
    /// Missing or unreadable.
    Missing(String),
    /// Different bytes: their digest now.
    Changed([u8; 32]),
}

/// Checks each recorded plugin against its file: the ones that are not the
/// same, with why.
pub fn check_plugins(header: &Header) -> Vec<(String, PluginCheck)> {
    header
        .plugins
        .iter()
        .filter_map(|p| {
            let check = match sha256_file(Path::new(&p.path)) {
                Ok(d) if d == p.sha256 => PluginCheck::Same,
                Ok(d) => PluginCheck::Changed(d),
                Err(e) => PluginCheck::Missing(e.to_string()),
            };
            (check != PluginCheck::Same).then(|| (p.path.clone(), check))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_every_field() {
        let s = Settings {
            tock: 0.1,
            limit: Some(2.5),
            real: true,
            wake: Wake::Io,
            seed: u64::MAX,
            options: vec!["a/b.stop=3".into(), "c.addr=127.0.0.1:0".into()],
        };
        assert_eq!(Settings::parse(&s.to_toml()), Ok(s.clone()));
        let none = Settings {
            limit: None,
            real: false,
            wake: Wake::Grid,
            options: vec![],
            ..s
        };
        assert_eq!(Settings::parse(&none.to_toml()), Ok(none));
        assert!(Settings::parse("tock = 1.0").is_err(), "no seed");
        assert!(Settings::parse("seed = \"1\"").is_err(), "no tock");
        assert!(Settings::parse("tock = 1.0\nseed = \"1\"\nwake = \"x\"").is_err());
        assert!(Settings::parse("not toml [").is_err());
    }
}
