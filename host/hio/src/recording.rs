//! Recording a run's wire log and replaying it: the header (settings,
//! manifest, plugin digests), the services that frame each tick on the
//! [`Tape`], and the trace sink that feeds it the lifecycle trace.
//!
//! The log's format is `hio_io::wire`'s; the tape that records or feeds
//! back the doers' network calls is [`hio_wasm::Tape`].

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use hio_io::Net;
use hio_io::wire::{Header, Log, PluginSum, VERSION};
use hio_scheduler::trace::Line;
use hio_scheduler::{Services, Tick, TraceSink, WaitEnd, Wake, WallClock};
use hio_wasm::Tape;
use sha2::{Digest, Sha256};

use crate::manifest::{Manifest, RunSettings};

/// The services of a run that keeps or replays a wire log: each tick's
/// start, end and the run's end go to the tape, around the network's own
/// service (recording) or none (replaying: no socket is touched).
pub struct Taped {
    tape: Tape,
    net: Option<Box<dyn Services>>,
}

impl Taped {
    /// Frames `tape`'s ticks around `net`'s service (not when replaying).
    pub fn new(tape: Tape, net: Option<&Net>) -> Taped {
        let net = if tape.replaying() {
            None
        } else {
            net.map(|n| Box::new(n.service()) as Box<dyn Services>)
        };
        Taped { tape, net }
    }

    /// Frames `tape`'s ticks around `inner` (which records or replays its
    /// own inputs through the tape).
    pub fn around(tape: Tape, inner: Box<dyn Services>) -> Taped {
        Taped {
            tape,
            net: Some(inner),
        }
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
    fn record(&mut self, record: &Line<'_>) {
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
            limit: m.end,
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

    /// Reads what [`Settings::to_toml`] wrote, held to the manifest's rules
    /// for the same keys (a tock finite and > 0, a limit finite and > 0,
    /// `wake = "io"` only in real mode; see [`RunSettings`]): a log is read
    /// from anywhere, and its settings are not trusted more than a
    /// manifest. A key it does not know is an error, as in a manifest.
    pub fn parse(text: &str) -> Result<Settings, String> {
        const KEYS: &[&str] = &["tock", "limit", "real", "wake", "seed", "options"];
        let t: toml::Table = text.parse().map_err(|e| format!("settings: {e}"))?;
        if let Some(k) = t.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(format!(
                "settings: {k}: unknown key; expected one of {}",
                KEYS.join(", ")
            ));
        }
        if !t.contains_key("tock") {
            return Err("settings: no tock".into());
        }
        let run = RunSettings::from_table(&t, "settings")
            .map_err(|e| format!("settings: {}: {}", e.key, e.message))?;
        let seed: u64 = match t.get("seed") {
            None => return Err("settings: no seed".into()),
            Some(v) => v.as_str().and_then(|s| s.parse().ok()).ok_or_else(|| {
                format!("settings: seed: expected an unsigned 64-bit integer written as a string, got {v}")
            })?,
        };
        let options = match t.get("options") {
            None => Vec::new(),
            Some(toml::Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_owned).ok_or_else(|| {
                        format!(
                            "settings: options: expected --option flags (strings), got {}",
                            v.type_str()
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            Some(v) => {
                return Err(format!(
                    "settings: options: expected an array, got {}",
                    v.type_str()
                ));
            }
        };
        Ok(Settings {
            tock: run.tock,
            limit: run.end,
            real: run.real,
            wake: run.wake,
            seed,
            options,
        })
    }
}

/// The largest plugin a wire log may name: a recording refuses to record a
/// larger one and a replay refuses to read one (the biggest plugins built
/// here, Python components, are under 20 MiB).
pub const MAX_PLUGIN_BYTES: u64 = 256 << 20;

/// Why a plugin file was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginFileError {
    /// It could not be opened or read.
    #[error("cannot be read ({0})")]
    Unreadable(String),
    /// It is no regular file (a FIFO, a device, a folder) or is over
    /// [`MAX_PLUGIN_BYTES`]: it was not read.
    #[error("refused: {0}")]
    Refused(String),
}

/// SHA-256 of the plugin file at `path`, read only if it is a regular file
/// of at most `cap` bytes. It is opened without blocking (a FIFO does not
/// wait for a writer) and checked as opened, before anything is read: a
/// FIFO, a device, a folder or a larger file is refused. At most `cap`
/// bytes are read, even from a file that grows meanwhile.
pub fn sha256_plugin(path: &Path, cap: u64) -> Result<[u8; 32], PluginFileError> {
    use std::io::Read;
    let unreadable = |e: io::Error| PluginFileError::Unreadable(e.to_string());
    let mut open = std::fs::OpenOptions::new();
    open.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let flags = rustix::fs::OFlags::NONBLOCK | rustix::fs::OFlags::NOCTTY;
        open.custom_flags(i32::try_from(flags.bits()).unwrap_or(0));
    }
    let file = open.open(path).map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    if !meta.is_file() {
        return Err(PluginFileError::Refused(format!(
            "not a regular file ({})",
            file_kind(&meta.file_type())
        )));
    }
    let too_big =
        || PluginFileError::Refused(format!("larger than the {} MiB a plugin may be", cap >> 20));
    if meta.len() > cap {
        return Err(too_big());
    }
    let mut sha = Sha256::new();
    let mut chunk = vec![0; 64 << 10];
    let mut taken = file.take(cap + 1);
    let mut read = 0u64;
    loop {
        let n = match taken.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(unreadable(e)),
        };
        read += n as u64;
        if read > cap {
            return Err(too_big());
        }
        sha.update(&chunk[..n]);
    }
    Ok(sha.finalize().into())
}

/// What kind of file a file that is no regular file is, in words.
fn file_kind(t: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return "a FIFO";
        }
        if t.is_char_device() || t.is_block_device() {
            return "a device";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    if t.is_dir() { "a folder" } else { "not a file" }
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
                sha256: sha256_plugin(p, MAX_PLUGIN_BYTES)
                    .map_err(|e| io::Error::other(format!("{}: plugin {e}", p.display())))?,
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
    m.end = settings.limit;
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
    /// Not read: no regular file, or over [`MAX_PLUGIN_BYTES`].
    Refused(String),
    /// Different bytes: their digest now.
    Changed([u8; 32]),
}

/// Checks each recorded plugin against its file (read as
/// [`sha256_plugin`] reads it, within [`MAX_PLUGIN_BYTES`]): the ones that
/// are not the same, with why.
pub fn check_plugins(header: &Header) -> Vec<(String, PluginCheck)> {
    header
        .plugins
        .iter()
        .filter_map(|p| {
            let check = match sha256_plugin(Path::new(&p.path), MAX_PLUGIN_BYTES) {
                Ok(d) if d == p.sha256 => PluginCheck::Same,
                Ok(d) => PluginCheck::Changed(d),
                Err(PluginFileError::Unreadable(why)) => PluginCheck::Missing(why),
                Err(PluginFileError::Refused(why)) => PluginCheck::Refused(why),
            };
            (check != PluginCheck::Same).then(|| (p.path.clone(), check))
        })
        .collect()
}

/// Checks that the plugins `m` loads are the ones `header` lists, with a
/// digest each: a plugin the manifest loads that the header does not list
/// would run unchecked. The error names the first plugin that differs
/// (paths compared as a recording writes them: absolute, not resolved).
pub fn listed_plugins(header: &Header, m: &Manifest) -> Result<(), String> {
    let as_recorded = |p: &Path| {
        std::path::absolute(p)
            .unwrap_or_else(|_| p.to_path_buf())
            .to_string_lossy()
            .into_owned()
    };
    let loads: Vec<String> = m.plugins().iter().map(|p| as_recorded(p)).collect();
    if let Some(p) = loads
        .iter()
        .find(|p| !header.plugins.iter().any(|h| &h.path == *p))
    {
        return Err(format!(
            "plugin {p} is loaded by the recorded manifest but not listed in the log's \
             header (no sha256 to check it against)"
        ));
    }
    if let Some(h) = header.plugins.iter().find(|h| !loads.contains(&h.path)) {
        return Err(format!(
            "the log's header lists plugin {}, which the recorded manifest does not load",
            h.path
        ));
    }
    Ok(())
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

    #[test]
    fn settings_keep_to_the_manifest_rules() {
        let with = |extra: &str| Settings::parse(&format!("seed = \"1\"\n{extra}"));
        assert_eq!(with("tock = 1").map(|s| s.tock), Ok(1.0), "an integer tock");
        for (text, why) in [
            ("tock = 0.0", "settings: tock: must be > 0, got 0"),
            ("tock = inf", "settings: tock: must be a finite number"),
            (
                "tock = 1.0\nlimit = -2.0",
                "settings: limit: must be > 0, got -2",
            ),
            (
                "tock = 1.0\nwake = \"io\"",
                "settings: wake: \"io\" needs real = true",
            ),
            (
                "tock = 1.0\nreal = 1",
                "settings: real: expected true or false",
            ),
            ("tock = 1.0\nfuel = 5", "settings: fuel: unknown key"),
            (
                "tock = 1.0\noptions = [3]",
                "settings: options: expected --option flags",
            ),
            (
                "tock = 1.0\noptions = \"a.b=1\"",
                "settings: options: expected an array",
            ),
        ] {
            let e = with(text).expect_err(text);
            assert!(e.starts_with(why), "{text}: {e}");
        }
        let e = Settings::parse("tock = 1.0\nseed = \"-1\"").expect_err("negative seed");
        assert!(e.starts_with("settings: seed: expected an unsigned"), "{e}");
    }

    #[test]
    fn a_plugin_is_read_only_if_a_regular_file_within_the_cap() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("p.wasm");
        std::fs::write(&file, b"0123456789").expect("write");
        let sum: [u8; 32] = Sha256::digest(b"0123456789").into();
        assert_eq!(sha256_plugin(&file, 10), Ok(sum));
        let over = sha256_plugin(&file, 9).expect_err("over the cap");
        assert!(matches!(over, PluginFileError::Refused(ref w) if w.starts_with("larger")));
        let folder = sha256_plugin(dir.path(), 10).expect_err("a folder");
        assert_eq!(
            folder,
            PluginFileError::Refused("not a regular file (a folder)".into())
        );
        let gone = sha256_plugin(&dir.path().join("gone.wasm"), 10).expect_err("missing");
        assert!(matches!(gone, PluginFileError::Unreadable(_)), "{gone}");
    }
}
