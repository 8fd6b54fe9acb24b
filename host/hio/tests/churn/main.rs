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
//!
//! `server.rs` runs an example; `clients.rs` holds the clients and the ways
//! they open and close their connections.

#[path = "../common/mod.rs"]
mod common;

mod clients;
mod server;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
};

use clients::{TIMEOUT, Target, WAYS, churn};
use common::root;
use server::Server;

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
