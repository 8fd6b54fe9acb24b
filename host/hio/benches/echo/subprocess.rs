//! The echo benchmark's servers in subprocesses: Python hio's echo server
//! and the `hio` binary running `examples/echo.toml`, each killed when
//! dropped.

use std::fs::File;
use std::net::{SocketAddr, TcpListener as StdListener, TcpStream as StdStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

use super::{START_TIMEOUT, interrupted};

/// A server subprocess, killed when dropped.
pub struct Subprocess {
    child: Child,
    stderr: PathBuf,
    _dir: tempfile::TempDir,
}

impl Subprocess {
    fn spawn(mut cmd: Command) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let stdout = dir.path().join("stdout");
        let stderr = dir.path().join("stderr");
        cmd.stdin(Stdio::null())
            .stdout(File::create(&stdout)?)
            .stderr(File::create(&stderr)?);
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {cmd:?}"))?;
        Ok(Self {
            child,
            stderr,
            _dir: dir,
        })
    }

    /// The last lines of its stderr, for a report.
    fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        if lines.is_empty() {
            return "(nothing on stderr)".into();
        }
        lines[lines.len().saturating_sub(6)..].join("\n    ")
    }

    /// Waits until `addr` accepts a connection; an error tells why not.
    fn wait_ready(&mut self, addr: SocketAddr) -> Result<()> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            interrupted()?;
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "exited ({status}) before accepting connections:\n    {}",
                    self.stderr_tail()
                );
            }
            if StdStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "not accepting connections on {addr} after {} s:\n    {}",
                    START_TIMEOUT.as_secs(),
                    self.stderr_tail()
                );
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// An error if it has exited (a server must outlive the measurement).
    pub fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!(
                "exited ({status}) during the run:\n    {}",
                self.stderr_tail()
            );
        }
        Ok(())
    }
}

impl Drop for Subprocess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `sub` once it accepts connections on `addr`, or why it does not (an
/// interrupt is an error).
fn ready(
    mut sub: Subprocess,
    addr: SocketAddr,
) -> Result<std::result::Result<(Subprocess, SocketAddr), String>> {
    match sub.wait_ready(addr) {
        Ok(()) => Ok(Ok((sub, addr))),
        Err(e) => {
            interrupted()?;
            Ok(Err(format!("{e:#}")))
        }
    }
}

/// A port that was free a moment ago, for a server we start.
fn free_port() -> Result<u16> {
    Ok(StdListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts Python hio's echo server, or says why it is skipped.
pub fn start_python(root: &Path) -> Result<std::result::Result<(Subprocess, SocketAddr), String>> {
    let python = root.join("bench/python-hio/.venv/bin/python");
    let script = root.join("bench/python-hio/echo_server.py");
    if !python.is_file() {
        return Ok(Err(format!(
            "{} missing; set it up with: bench/python-hio/setup.sh",
            python.display()
        )));
    }
    let port = free_port()?;
    let mut cmd = Command::new(&python);
    cmd.arg(&script).arg("127.0.0.1").arg(port.to_string());
    // Its tock (default 1 ms; ECHO_PY_TOCK=0.03125 is the tock our example runs at).
    if let Some(tock) = std::env::var_os("ECHO_PY_TOCK") {
        cmd.arg("--tock").arg(tock);
    }
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    ready(Subprocess::spawn(cmd)?, addr)
}

fn hio_binary() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("HIO_BIN") {
        return Some(PathBuf::from(bin));
    }
    // `<target>/<profile>/hio`, built with this benchmark.
    let target = Path::new(env!("CARGO_BIN_EXE_hio")).parent()?.parent()?;
    ["release", "debug"]
        .iter()
        .map(|profile| target.join(profile).join("hio"))
        .find(|p| p.is_file())
}

/// Starts `hio run examples/echo.toml`, or says why it is skipped.
pub fn start_hio(root: &Path) -> Result<std::result::Result<(Subprocess, SocketAddr), String>> {
    let Some(bin) = hio_binary() else {
        return Ok(Err(
            "no hio binary: set HIO_BIN, or build it: cargo build --release -p hio".into(),
        ));
    };
    if !bin.is_file() {
        return Ok(Err(format!("HIO_BIN={}: no such file", bin.display())));
    }
    for need in ["examples/echo.toml", "plugins/dist/echo.wasm"] {
        if !root.join(need).is_file() {
            return Ok(Err(format!("{need} missing")));
        }
    }
    let port = free_port()?;
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    eprintln!("  hio binary: {}", bin.display());
    let mut cmd = Command::new(&bin);
    cmd.current_dir(root)
        .args(["run", "examples/echo.toml", "--option"])
        .arg(format!("echo.addr={addr}"));
    ready(Subprocess::spawn(cmd)?, addr)
}
