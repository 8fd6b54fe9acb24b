//! Helpers for the network tests: a manifest run in this thread with real
//! sockets, peers in other threads.

use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hio::Doist;
use hio::manifest::{Manifest, build};
use hio::plugin::{EngineLimits, PluginHost};
use hio::trace::{OwnedLine, TraceBuffer};

/// A built plugin's path (the test command runs plugins/build.sh first).
pub fn plugin(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../plugins/dist")
        .join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} missing: run plugins/build.sh",
        path.display()
    );
    path.display().to_string()
}

/// A manifest in real mode (tock 0.01, `wake = "io"`) with one doer named
/// `name` made from plugin `plugin_name`, serving on a port the system
/// picks (`addr = "127.0.0.1:0"`, granted `127.0.0.1:*`), with `limits`
/// (the inside of its `limits` table, maybe empty).
pub fn server(plugin_name: &str, name: &str, limits: &str) -> String {
    listener(plugin_name, name, "", "", limits)
}

/// A manifest in real mode (as [`server`]) with one `echo-spawn` doer named
/// `server` whose option `child` is `child`, granted to spawn `granted`
/// (plugin names as the manifest writes them), with `limits`.
pub fn spawner(child: &str, granted: &str, limits: &str) -> String {
    listener(
        "echo-spawn",
        "server",
        &format!(r#", child = "{child}""#),
        &format!(r#", spawn = ["{granted}"]"#),
        limits,
    )
}

/// The manifest of [`server`], with `more_options` and `more_grants`
/// (each empty or starting with `, `) after its address option and its
/// listen grant.
fn listener(
    plugin_name: &str,
    name: &str,
    more_options: &str,
    more_grants: &str,
    limits: &str,
) -> String {
    format!(
        r#"
tock = 0.01
real = true
wake = "io"
[[doers]]
name = "{name}"
plugin = "{}"
options = {{ addr = "127.0.0.1:0"{more_options} }}
grants = {{ listen = ["127.0.0.1:*"]{more_grants} }}
limits = {{ {limits} }}
"#,
        plugin(plugin_name)
    )
}

/// A run of a manifest, stepped from the test.
pub struct Run {
    pub doist: Doist,
    /// Each doer's call figures (`hio run --stats`'s), by path.
    pub stats: hio::plugin::StatsHandle,
    pub logs: Rc<RefCell<Vec<String>>>,
    pub trace: TraceBuffer,
    pub net: Option<hio::io::Net>,
    pub _dir: tempfile::TempDir,
}

/// Builds the run of manifest `text` (written to a fresh folder, so files
/// it names can be put beside it with [`Run::file`] first: use
/// [`prepare`] then [`start_in`] for that).
pub fn start(text: &str) -> Run {
    start_in(prepare(), text)
}

/// A fresh folder for a manifest and its files.
pub fn prepare() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Builds the run of manifest `text`, written into `dir`.
pub fn start_in(dir: tempfile::TempDir, text: &str) -> Run {
    let path = dir.path().join("m.toml");
    std::fs::write(&path, text).unwrap();
    let manifest = Manifest::load(&path).unwrap_or_else(|e| panic!("{e}"));
    let host = PluginHost::new(EngineLimits::default(), None).unwrap();
    let built = build(&manifest, &host, true).unwrap_or_else(|e| panic!("{e}"));
    let stats = built.stats.clone();
    let logs = Rc::new(RefCell::new(Vec::new()));
    let sink = Rc::clone(&logs);
    let trace = TraceBuffer::new();
    let doist = built
        .doist
        .logger(Box::new(move |l: &hio::LogLine<'_>| {
            sink.borrow_mut().push(l.to_string())
        }))
        .trace(trace.clone());
    Run {
        doist,
        stats,
        logs,
        trace,
        net: built.net,
        _dir: dir,
    }
}

impl Run {
    /// Ticks until `until` is true or `wall` has passed (then panics with
    /// the log), and closes the run.
    pub fn until(&mut self, wall: Duration, until: impl Fn() -> bool) {
        let start = Instant::now();
        self.doist.enter().unwrap();
        while !until() {
            if start.elapsed() > wall {
                self.doist.close();
                panic!("not done within {wall:?}; log:\n{}", self.log());
            }
            self.doist.step().unwrap();
        }
        self.doist.close();
    }

    /// Ticks for `ticks` ticks.
    pub fn ticks(&mut self, ticks: usize) {
        self.doist.enter().unwrap();
        for _ in 0..ticks {
            self.doist.step().unwrap();
        }
    }

    /// The log so far, one line each.
    pub fn log(&self) -> String {
        self.logs.borrow().join("\n")
    }

    /// The first log line containing `text`, if any.
    pub fn line(&self, text: &str) -> Option<String> {
        self.logs
            .borrow()
            .iter()
            .find(|l| l.contains(text))
            .cloned()
    }

    /// The trace so far.
    pub fn records(&self) -> Vec<OwnedLine> {
        self.trace.records()
    }

    /// `doer`'s events so far, by name.
    pub fn events(&self, doer: &str) -> Vec<String> {
        self.records()
            .iter()
            .filter(|r| r.doer == doer)
            .map(|r| r.event.as_str().to_owned())
            .collect()
    }

    /// The tyme and reason of `doer`'s first abort, if it failed.
    pub fn abort(&self, doer: &str) -> Option<(f64, String)> {
        self.records()
            .into_iter()
            .find(|r| r.doer == doer && r.event.as_str() == "abort")
            .map(|r| (r.tyme, r.reason.unwrap_or_default()))
    }

    /// The reason `doer`'s first abort gave; panics with the log when it
    /// did not fail.
    pub fn failure(&self, doer: &str) -> String {
        self.abort(doer)
            .map(|(_, why)| why)
            .unwrap_or_else(|| panic!("{doer} did not fail; log:\n{}", self.log()))
    }

    /// Steps (entering first if needed) until `doer` has had `event`, or
    /// 20 s have passed (then panics with the log).
    pub fn until_event(&mut self, doer: &str, event: &str) {
        self.doist.enter().unwrap();
        let start = Instant::now();
        while !self.events(doer).iter().any(|e| e == event) {
            assert!(start.elapsed() < Duration::from_secs(20), "{}", self.log());
            self.doist.step().unwrap();
        }
    }

    /// The address doer `echo`-like plugins log as `listening on ADDR`.
    pub fn listening(&mut self) -> SocketAddr {
        self.doist.enter().unwrap();
        let line = self
            .line("listening on ")
            .unwrap_or_else(|| panic!("no listening line; log:\n{}", self.log()));
        let addr = line.rsplit("listening on ").next().unwrap();
        addr.split_whitespace().next().unwrap().parse().unwrap()
    }
}

/// A flag a peer thread sets when it is done.
#[derive(Clone, Default)]
pub struct Flag(Arc<AtomicBool>);

impl Flag {
    pub fn set(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    pub fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// `n` bytes of a pattern that differs per `seed`.
pub fn payload(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| {
            (i as u32)
                .wrapping_mul(2_654_435_761)
                .rotate_left(seed as u32 % 31) as u8
                ^ seed
        })
        .collect()
}

/// Writes `data` to `addr`, half-closes, reads to the end of the stream, and
/// returns what came back. Writing and reading overlap (a thread writes).
pub fn echo_through(addr: SocketAddr, data: Vec<u8>) -> Vec<u8> {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut w = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        w.write_all(&data).unwrap();
        w.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    writer.join().unwrap();
    got
}
