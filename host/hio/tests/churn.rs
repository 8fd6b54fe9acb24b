//! Churn: each network example run by `hio run`, as a user runs it, through
//! thousands of connections opened and closed in every way a client does it
//! (the client closing first, the server closing first, resets,
//! half-closes, keep-alive clients that vanish, `Connection: close`),
//! sequential and concurrent. Every connection must be served, and the
//! server's descriptors and resident memory must come back to where they
//! were once the clients are gone.
//!
//! Size: `HIO_CHURN_CONNS` connections per example (default 3,000, half of
//! them sequential, half from `HIO_CHURN_THREADS` threads at once, default
//! 4); `HIO_CHURN_SECONDS` repeats rounds of that until so many seconds
//! have passed (an hour: `HIO_CHURN_SECONDS=3600 cargo test --release -p
//! hio --test churn -- --nocapture --test-threads 1`). Each example prints
//! its counts on stderr (`--nocapture` shows them).

#[path = "common/mod.rs"]
mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
};
use rustls::pki_types::ServerName;

use common::{root, test_cache};

const TIMEOUT: Duration = Duration::from_secs(15);

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A port no one listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `hio run` of a manifest, killed when dropped.
struct Server {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Server {
    /// Runs `manifest` with `options` (`--option` values) and waits until
    /// `addr` accepts connections.
    fn start(manifest: &Path, options: &[String], addr: SocketAddr) -> Server {
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

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its open file descriptors.
    fn descriptors(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.pid()))
            .map(|d| d.count())
            .unwrap_or(0)
    }

    /// Its resident memory, in KiB.
    fn resident(&self) -> u64 {
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

/// How a client treats its connection.
#[derive(Debug, Clone, Copy)]
enum Way {
    /// Asks once and closes first.
    ClientCloses,
    /// Asks so that the server closes first (`Connection: close` for HTTP;
    /// a half-close for TCP, after which the server finishes).
    ServerCloses,
    /// Asks, then half-closes, then reads to the end.
    HalfClose,
    /// Asks, reads part of the answer, and resets the connection (it closes
    /// with bytes unread).
    Reset,
    /// Asks twice on a kept-alive connection, then goes away without a word.
    Vanish,
    /// Sends part of a request and resets (never served: not counted).
    ResetMidRequest,
}

const WAYS: [Way; 6] = [
    Way::ClientCloses,
    Way::ServerCloses,
    Way::HalfClose,
    Way::Reset,
    Way::Vanish,
    Way::ResetMidRequest,
];

/// A client's stream: plain TCP or TLS over it.
enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref(),
        }
    }

    /// Half-closes: a TLS close_notify, then the TCP write side.
    fn half_close(&mut self) {
        if let Stream::Tls(s) = self {
            s.conn.send_close_notify();
            let _ = s.conn.complete_io(&mut s.sock);
        }
        let _ = self.tcp().shutdown(Shutdown::Write);
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// What a churn runs against.
#[derive(Clone)]
enum Target {
    /// An echo server: bytes come back.
    Echo,
    /// An HTTP server whose `GET /` answers with a body ending in `tail`,
    /// TLS with a client config.
    Http {
        tail: &'static str,
        tls: Option<Arc<rustls::ClientConfig>>,
    },
}

fn connect(addr: SocketAddr, target: &Target) -> std::io::Result<Stream> {
    let tcp = TcpStream::connect(addr)?;
    // As the server does: no small write waits for a delayed ACK.
    tcp.set_nodelay(true)?;
    tcp.set_read_timeout(Some(TIMEOUT))?;
    tcp.set_write_timeout(Some(TIMEOUT))?;
    Ok(match target {
        Target::Http { tls: Some(cfg), .. } => {
            let name = ServerName::try_from("localhost").expect("a server name");
            let conn = rustls::ClientConnection::new(Arc::clone(cfg), name)
                .map_err(std::io::Error::other)?;
            Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp)))
        }
        _ => Stream::Plain(tcp),
    })
}

/// Whether `got` is a whole response whose body ends in `tail`: by length
/// (the body's last bytes) or chunked (its last chunk after it).
fn complete(got: &[u8], tail: &str) -> bool {
    let text = String::from_utf8_lossy(got);
    text.ends_with(tail) || (text.contains(tail) && text.ends_with("\r\n0\r\n\r\n"))
}

/// Reads until `text` ends what came (a response with a body ending in it),
/// or the stream ends.
fn read_until(s: &mut Stream, tail: &str) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !complete(&got, tail) {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn read_to_end(s: &mut Stream) -> String {
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    String::from_utf8_lossy(&got).into_owned()
}

/// One connection, used in `way`; whether it was served as it should be.
fn client(addr: SocketAddr, target: &Target, way: Way, n: usize) -> Result<(), String> {
    let start = Instant::now();
    let result = client_in(addr, target, way, n);
    // A connection served only after a client's timeout is not served.
    if result.is_ok() && start.elapsed() >= TIMEOUT {
        return Err(format!("{way:?}: took {:?}", start.elapsed()));
    }
    result
}

fn client_in(addr: SocketAddr, target: &Target, way: Way, n: usize) -> Result<(), String> {
    let mut s = connect(addr, target).map_err(|e| format!("connect: {e}"))?;
    let fail = |what: &str, got: &str| Err(format!("{way:?}: {what}: got {got:?}"));
    match target {
        Target::Echo => {
            let ping = format!("ping {n}\n");
            s.write_all(ping.as_bytes())
                .map_err(|e| format!("write: {e}"))?;
            match way {
                Way::ClientCloses | Way::Vanish => {
                    let got = read_until(&mut s, &ping);
                    if got != ping {
                        return fail("echo", &got);
                    }
                    if let Way::Vanish = way {
                        s.write_all(ping.as_bytes())
                            .map_err(|e| format!("write: {e}"))?;
                        if read_until(&mut s, &ping) != ping {
                            return fail("second echo", "");
                        }
                    }
                }
                Way::ServerCloses | Way::HalfClose => {
                    s.half_close();
                    let got = read_to_end(&mut s);
                    if got != ping {
                        return fail("echo to the end", &got);
                    }
                }
                Way::Reset => {
                    let mut one = [0u8; 1];
                    s.read_exact(&mut one).map_err(|e| format!("read: {e}"))?;
                    // Wait for the rest, then close with it unread.
                    std::thread::sleep(Duration::from_millis(2));
                }
                Way::ResetMidRequest => {}
            }
        }
        Target::Http { tail, .. } => {
            let get = |close: bool| {
                format!(
                    "GET / HTTP/1.1\r\nHost: localhost\r\n{}\r\n",
                    if close { "Connection: close\r\n" } else { "" }
                )
            };
            let answered =
                |got: &str| got.starts_with("HTTP/1.1 200 ") && complete(got.as_bytes(), tail);
            let w = |s: &mut Stream, text: &str| {
                s.write_all(text.as_bytes())
                    .and_then(|()| s.flush())
                    .map_err(|e| format!("{way:?}: write: {e}"))
            };
            match way {
                Way::ClientCloses => {
                    w(&mut s, &get(false))?;
                    let got = read_until(&mut s, tail);
                    if !answered(&got) {
                        return fail("answer", &got);
                    }
                    s.half_close();
                }
                Way::ServerCloses => {
                    w(&mut s, &get(true))?;
                    let got = read_to_end(&mut s);
                    if !answered(&got) {
                        return fail("answer and close", &got);
                    }
                }
                Way::HalfClose => {
                    w(&mut s, &get(false))?;
                    s.half_close();
                    let got = read_to_end(&mut s);
                    if !answered(&got) {
                        return fail("answer after a half-close", &got);
                    }
                }
                Way::Reset => {
                    w(&mut s, &get(false))?;
                    let mut some = [0u8; 12];
                    s.read_exact(&mut some).map_err(|e| format!("read: {e}"))?;
                    if &some != b"HTTP/1.1 200" {
                        return fail("status", &String::from_utf8_lossy(&some));
                    }
                    std::thread::sleep(Duration::from_millis(2));
                    // The rest of the answer stays unread: a reset.
                    if let Stream::Tls(t) = &s {
                        let _ = t.get_ref().shutdown(Shutdown::Both);
                    }
                }
                Way::Vanish => {
                    for _ in 0..2 {
                        w(&mut s, &get(false))?;
                        let got = read_until(&mut s, tail);
                        if !answered(&got) {
                            return fail("kept-alive answer", &got);
                        }
                    }
                }
                Way::ResetMidRequest => {
                    w(&mut s, "GET / HTTP/1.1\r\nHo")?;
                }
            }
        }
    }
    drop(s);
    Ok(())
}

/// Runs `conns` connections against `addr`, half one after the other, half
/// from `threads` threads at once, cycling through the ways. Returns how
/// many were served (a request reset midway is not counted) and the
/// failures.
fn churn(addr: SocketAddr, target: &Target, conns: usize, threads: usize) -> (usize, Vec<String>) {
    let serves = |n: usize| !matches!(WAYS[n % WAYS.len()], Way::ResetMidRequest);
    let mut served = 0;
    let mut failures = Vec::new();
    let sequential = conns / 2;
    for n in 0..sequential {
        match client(addr, target, WAYS[n % WAYS.len()], n) {
            Ok(()) => served += usize::from(serves(n)),
            Err(e) => failures.push(e),
        }
    }
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let target = target.clone();
            std::thread::spawn(move || {
                let mut served = 0;
                let mut failures = Vec::new();
                for n in (sequential + t..conns).step_by(threads) {
                    match client(addr, &target, WAYS[n % WAYS.len()], n) {
                        Ok(()) => served += usize::from(serves(n)),
                        Err(e) => failures.push(e),
                    }
                }
                (served, failures)
            })
        })
        .collect();
    for w in workers {
        let (s, f) = w.join().expect("a client thread");
        served += s;
        failures.extend(f);
    }
    (served, failures)
}

/// Runs an example through churn and checks it recovers.
fn run_example(name: &str, manifest: &Path, options: &[String], addr: SocketAddr, target: Target) {
    let conns = env_number("HIO_CHURN_CONNS", 3000) as usize;
    let threads = env_number("HIO_CHURN_THREADS", 4).max(1) as usize;
    let seconds = env_number("HIO_CHURN_SECONDS", 0);
    let server = Server::start(manifest, options, addr);
    // Warm up: the first connections allocate what every later one reuses.
    let (_, failures) = churn(addr, &target, 24, 2);
    assert!(
        failures.is_empty(),
        "{name}: warm-up: {failures:?}\n{}",
        server.stderr()
    );
    std::thread::sleep(Duration::from_millis(300));
    let (fds_start, rss_start) = (server.descriptors(), server.resident());
    let started = Instant::now();
    let (mut served, mut rounds) = (0, 0);
    loop {
        let (s, failures) = churn(addr, &target, conns, threads);
        assert!(
            failures.is_empty(),
            "{name}: {} of {conns} connections failed, first: {}\nserver log:\n{}",
            failures.len(),
            failures[0],
            server.stderr()
        );
        served += s;
        rounds += 1;
        if started.elapsed() >= Duration::from_secs(seconds) {
            break;
        }
    }
    let expected = rounds * (0..conns).filter(|n| n % WAYS.len() != 5).count();
    assert_eq!(served, expected, "{name}: served");
    // The server lets every connection go: its descriptors come back.
    let wait = Instant::now();
    while server.descriptors() > fds_start && wait.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let (fds_end, rss_end) = (server.descriptors(), server.resident());
    eprintln!(
        "churn {name}: {served} connections served ({rounds} rounds of {conns}, {threads} threads, \
         {:.1} s); descriptors {fds_start} -> {fds_end}; resident {} -> {} KiB",
        started.elapsed().as_secs_f64(),
        rss_start,
        rss_end
    );
    assert!(
        fds_end <= fds_start,
        "{name}: descriptors {fds_start} -> {fds_end}\n{}",
        server.stderr()
    );
    // Resident memory back near its start: the allocator keeps some pages,
    // but nothing grows with the connections served.
    assert!(
        rss_end <= rss_start + rss_start / 4 + 8 * 1024,
        "{name}: resident memory {rss_start} -> {rss_end} KiB"
    );
    // Still serving.
    let (_, failures) = churn(addr, &target, 6, 1);
    assert!(failures.is_empty(), "{name}: after the churn: {failures:?}");
}

fn example(name: &str) -> PathBuf {
    root().join("examples").join(name)
}

fn local(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[test]
fn echo_survives_churn() {
    let port = free_port();
    let options = [format!("echo.addr=127.0.0.1:{port}")];
    run_example(
        "echo",
        &example("echo.toml"),
        &options,
        local(port),
        Target::Echo,
    );
}

#[test]
fn echo_spawn_survives_churn() {
    let port = free_port();
    let options = [format!("server.addr=127.0.0.1:{port}")];
    run_example(
        "echo-spawn",
        &example("echo-spawn.toml"),
        &options,
        local(port),
        Target::Echo,
    );
}

#[test]
fn hello_survives_churn() {
    let port = free_port();
    let options = [format!("hello.addr=127.0.0.1:{port}")];
    let target = Target::Http {
        tail: "hello\n",
        tls: None,
    };
    run_example(
        "hello",
        &example("hello.toml"),
        &options,
        local(port),
        target,
    );
}

#[test]
fn router_survives_churn() {
    let port = free_port();
    let options = [format!("router.addr=127.0.0.1:{port}")];
    let target = Target::Http {
        tail: "router\n",
        tls: None,
    };
    run_example(
        "router",
        &example("router.toml"),
        &options,
        local(port),
        target,
    );
}

#[test]
fn proxy_survives_churn() {
    let (upstream, port) = (free_port(), free_port());
    let options = [
        format!("router.addr=127.0.0.1:{upstream}"),
        format!("proxy.addr=127.0.0.1:{port}"),
        format!("proxy.upstream=http://127.0.0.1:{upstream}"),
    ];
    let target = Target::Http {
        tail: "router\n",
        tls: None,
    };
    run_example(
        "proxy",
        &example("proxy.toml"),
        &options,
        local(port),
        target,
    );
}

fn named(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

#[test]
fn tls_hello_survives_churn() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name = named("hio churn CA");
    let ca =
        CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("key")).expect("CA");
    let key = KeyPair::generate().expect("key");
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    params.distinguished_name = named("localhost");
    let cert = params.signed_by(&key, &ca).expect("certificate");
    std::fs::write(dir.path().join("server.pem"), cert.pem()).expect("write");
    std::fs::write(dir.path().join("server.key"), key.serialize_pem()).expect("write");
    let manifest = dir.path().join("hello-tls.toml");
    let text = std::fs::read_to_string(example("hello.toml"))
        .expect("examples/hello.toml")
        .replace(
            "plugin = \"../plugins/dist/hello.wasm\"",
            &format!(
                "plugin = {:?}",
                root().join("plugins/dist/hello.wasm").display().to_string()
            ),
        )
        .replace(
            "grants = { listen = [\"127.0.0.1:*\"] }",
            "grants = { listen = [\"127.0.0.1:*\"], tls = { cert = \"server.pem\", key = \"server.key\" } }",
        );
    std::fs::write(&manifest, text).expect("write");
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.der().clone()).expect("a root");
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let port = free_port();
    let options = [
        format!("hello.addr=127.0.0.1:{port}"),
        "hello.tls=true".to_owned(),
    ];
    let target = Target::Http {
        tail: "hello\n",
        tls: Some(Arc::new(cfg)),
    };
    run_example("tls hello", &manifest, &options, local(port), target);
}

#[test]
fn echo_spawn_holds_a_child_per_idle_connection_up_to_its_children_limit() {
    // 40 idle connections, each handed to a child of its own (the default
    // `limits.children` is 64): the engine has a slot for each.
    let port = free_port();
    let options = [format!("server.addr=127.0.0.1:{port}")];
    let server = Server::start(&example("echo-spawn.toml"), &options, local(port));
    let mut conns: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(local(port)).expect("connect"))
        .collect();
    for (n, s) in conns.iter_mut().enumerate() {
        s.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        let ping = format!("ping {n}\n");
        s.write_all(ping.as_bytes()).expect("write");
        let mut got = vec![0u8; ping.len()];
        let read = s.read_exact(&mut got);
        assert!(
            read.is_ok() && got == ping.as_bytes(),
            "connection {n}: {read:?}\n{}",
            server.stderr()
        );
    }
    assert!(
        !server.stderr().contains("cannot spawn"),
        "{}",
        server.stderr()
    );
}
