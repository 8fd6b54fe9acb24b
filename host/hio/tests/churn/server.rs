//! An example run by `hio run` in a child process, killed when dropped,
//! with its descriptors and resident memory read from /proc.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::test_cache;

/// `hio run` of a manifest, killed when dropped.
pub struct Server {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Runs `manifest` with `options` (`--option` values) and waits until
    /// `addr` accepts connections.
    pub fn start(manifest: &Path, options: &[String], addr: SocketAddr) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let log = dir.path().join("stderr.log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_hio"));
        cmd.arg("run").arg(manifest);
        for o in options {
            cmd.args(["--option", o]);
        }
        let child = cmd
            .env_remove("HIO_CACHE_DIR")
            .env("XDG_CACHE_HOME", test_cache())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("run hio");
        let mut server = Server {
            child,
            log,
            _dir: dir,
        };
        let start = Instant::now();
        while TcpStream::connect(addr).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("hio exited ({status}) before serving:\n{}", server.stderr());
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "not serving on {addr} after 60 s:\n{}",
                server.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its open file descriptors.
    pub fn descriptors(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Its resident memory, in KiB.
    pub fn resident(&self) -> u64 {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
