//! A `nats-server` with JetStream in a child process, on a free loopback
//! port, with its store in a folder of its own: for tests and benchmarks.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `nats-server -js`, stopped (SIGKILL) when dropped.
pub struct NatsServer {
    child: Option<Child>,
    port: u16,
    store: PathBuf,
}

/// Why a server could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// No `nats-server` on the PATH (Debian: `apt-get install nats-server`).
    #[error("cannot run nats-server (install it: apt-get install nats-server): {0}")]
    Spawn(std::io::Error),
    /// It did not accept connections in time.
    #[error("nats-server did not listen on 127.0.0.1:{0} within 10 s")]
    NotListening(u16),
}

impl NatsServer {
    /// Starts one with JetStream on a free port, storing under `store`.
    pub fn start(store: &Path) -> Result<NatsServer, StartError> {
        Self::on_a_free_port(|port| Self::start_on(store, port))
    }

    /// `start` on a port found free, again on another while the port was
    /// taken before the server could bind it (tests start servers at once).
    fn on_a_free_port(
        start: impl Fn(u16) -> Result<NatsServer, StartError>,
    ) -> Result<NatsServer, StartError> {
        let mut tries = 0;
        loop {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map(|a| a.port())
                .map_err(StartError::Spawn)?;
            match start(port) {
                Err(StartError::NotListening(_)) if tries < 5 => tries += 1,
                r => return r,
            }
        }
    }

    /// Starts one serving TLS only, with the certificate chain `cert` and
    /// its key `key` (PEM files).
    pub fn start_tls(store: &Path, cert: &Path, key: &Path) -> Result<NatsServer, StartError> {
        let tls = [
            "--tls".into(),
            "--tlscert".into(),
            cert.display().to_string(),
            "--tlskey".into(),
            key.display().to_string(),
        ];
        Self::on_a_free_port(|port| Self::spawn(store, port, &tls))
    }

    /// Starts one on `port` (again after [`stop`](Self::stop), say).
    pub fn start_on(store: &Path, port: u16) -> Result<NatsServer, StartError> {
        Self::spawn(store, port, &[])
    }

    fn spawn(store: &Path, port: u16, extra: &[String]) -> Result<NatsServer, StartError> {
        // `HIO_NATS_SERVER`, else `nats-server` on the PATH, else Debian's
        // (in /usr/sbin, off an ordinary user's PATH).
        let programs: Vec<String> = match std::env::var("HIO_NATS_SERVER") {
            Ok(p) => vec![p],
            Err(_) => vec!["nats-server".into(), "/usr/sbin/nats-server".into()],
        };
        let mut last = None;
        let mut child = None;
        for program in programs {
            match Command::new(&program)
                .args(["-js", "-a", "127.0.0.1", "-p", &port.to_string(), "-sd"])
                .arg(store)
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
            {
                Ok(c) => {
                    child = Some(c);
                    break;
                }
                Err(e) => last = Some(e),
            }
        }
        let child = child.ok_or_else(|| {
            StartError::Spawn(last.unwrap_or_else(|| std::io::ErrorKind::NotFound.into()))
        })?;
        let mut server = NatsServer {
            child: Some(child),
            port,
            store: store.to_owned(),
        };
        let start = Instant::now();
        loop {
            // Ours must be the one listening: a server that exited (its
            // port taken by another since it was found free) is not.
            let exited = server
                .child
                .as_mut()
                .is_none_or(|c| c.try_wait().ok().flatten().is_some());
            if exited || start.elapsed() > Duration::from_secs(10) {
                server.stop();
                return Err(StartError::NotListening(port));
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Its URL.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Its store folder.
    pub fn store(&self) -> &Path {
        &self.store
    }

    /// Kills it (SIGKILL) and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}
