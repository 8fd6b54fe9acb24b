//! TCP through Wasm doers, on loopback with real sockets.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use crate::util::{Flag, echo_through, payload, plugin, server, start};

/// Runs `clients` threads against `addr`, each echoing `size` bytes,
/// and sets `done` when all came back byte for byte.
fn clients(
    addr: std::net::SocketAddr,
    clients: usize,
    size: usize,
    done: &Flag,
) -> std::thread::JoinHandle<()> {
    let done = done.clone();
    std::thread::spawn(move || {
        let threads: Vec<_> = (0..clients)
            .map(|i| {
                std::thread::spawn(move || {
                    let data = payload(size, i as u8);
                    let got = echo_through(addr, data.clone());
                    assert_eq!(got.len(), data.len(), "client {i}: length");
                    assert!(got == data, "client {i}: bytes differ");
                })
            })
            .collect();
        let mut ok = true;
        for t in threads {
            ok &= t.join().is_ok();
        }
        if ok {
            done.set();
        }
    })
}

#[test]
fn a_hundred_clients_each_echo_a_mebibyte_byte_for_byte() {
    let mut run = start(&server("echo", "echo", ""));
    let addr = run.listening();
    let done = Flag::default();
    let peers = clients(addr, 100, 1 << 20, &done);
    let flag = done.clone();
    let finished = Flag::default();
    let f = finished.clone();
    let watcher = std::thread::spawn(move || {
        peers.join().ok();
        f.set();
    });
    run.until(Duration::from_secs(120), move || finished.get());
    watcher.join().unwrap();
    assert!(flag.get(), "a client failed; log:\n{}", run.log());
}

/// Runs `text` (a spawner whose children are `conn.wasm`, the echo-conn
/// plugin) until `n` clients have each had `size` bytes echoed; the run.
fn echoes_through_children(text: &str, n: usize, size: usize) -> crate::util::Run {
    let dir = crate::util::prepare();
    std::fs::copy(plugin("echo-conn"), dir.path().join("conn.wasm")).unwrap();
    let mut run = crate::util::start_in(dir, text);
    let addr = run.listening();
    let done = Flag::default();
    let peers = clients(addr, n, size, &done);
    let finished = Flag::default();
    let f = finished.clone();
    std::thread::spawn(move || {
        peers.join().ok();
        f.set();
    });
    run.until(Duration::from_secs(60), move || finished.get());
    assert!(done.get(), "a client failed; log:\n{}", run.log());
    run
}

#[test]
fn a_server_that_spawns_a_child_per_connection_echoes_each() {
    let text = crate::util::spawner("conn.wasm", "conn.wasm", "");
    let run = echoes_through_children(&text, 20, 256 << 10);
    let records = run.records();
    // Each connection had its own child, entered beside the server and
    // done once its peer closed.
    let children: std::collections::BTreeSet<&str> = records
        .iter()
        .filter(|r| r.doer.starts_with("server.c"))
        .map(|r| r.doer.as_str())
        .collect();
    assert_eq!(children.len(), 20, "{children:?}");
    for child in &children {
        let events: Vec<&str> = records
            .iter()
            .filter(|r| r.doer == *child)
            .map(|r| r.event.as_str())
            .collect();
        assert_eq!(events.first(), Some(&"enter"), "{child}: {events:?}");
        assert!(events.ends_with(&["clean", "exit"]), "{child}: {events:?}");
    }
}

#[test]
fn children_spawned_by_a_shared_doer_share_an_instance_of_their_plugin() {
    // The server's share group passes to the children it spawns: each
    // connection's child joins the one instance of echo-conn in group g,
    // kept between connections (the server's own plugin is another, so
    // another instance, also g's first).
    let text = crate::util::spawner("conn.wasm", "conn.wasm", "")
        .replace("[[doers]]\n", "[[doers]]\nshare = \"g\"\n");
    let run = echoes_through_children(&text, 8, 64 << 10);
    let stats = run.stats.snapshot();
    let children: Vec<_> = stats
        .iter()
        .filter(|(path, _)| path.starts_with("server.c"))
        .collect();
    assert_eq!(children.len(), 8, "{stats:?}");
    for (path, s) in children {
        assert_eq!(s.instance, "g#0", "{path}: {stats:?}");
    }
    assert_eq!(stats["server"].instance, "g#0", "{stats:?}");
}

/// Resets a connection: SO_LINGER 0, then close.
pub fn reset(s: TcpStream) {
    // std has no SO_LINGER setter; rustix does.
    rustix::net::sockopt::set_socket_linger(&s, Some(Duration::ZERO)).unwrap();
    drop(s);
}

#[test]
fn peers_that_reset_before_and_after_the_accept_leave_the_server_serving() {
    let mut run = start(&server("echo", "echo", ""));
    let addr = run.listening();
    // Reset before the host has accepted it (no tick has run since).
    reset(TcpStream::connect(addr).unwrap());
    // Reset mid-stream, with bytes in flight.
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(&payload(100_000, 3)).unwrap();
    run.ticks(5);
    reset(s);
    let done = Flag::default();
    let peers = clients(addr, 3, 100_000, &done);
    let finished = Flag::default();
    let f = finished.clone();
    std::thread::spawn(move || {
        peers.join().ok();
        f.set();
    });
    run.until(Duration::from_secs(30), move || finished.get());
    assert!(done.get(), "a later client failed; log:\n{}", run.log());
    assert!(
        run.line("reset").is_some(),
        "the reset was not seen; log:\n{}",
        run.log()
    );
}

#[test]
fn bytes_sent_before_a_half_close_are_all_echoed() {
    let mut run = start(&server("echo", "echo", ""));
    let addr = run.listening();
    // The bytes and the half-close arrive before the first tick sees them.
    let mut s = TcpStream::connect(addr).unwrap();
    let data = payload(50_000, 9);
    s.write_all(&data).unwrap();
    s.shutdown(Shutdown::Write).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let g = got.clone();
    let finished = Flag::default();
    let f = finished.clone();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        *g.lock().unwrap() = buf;
        f.set();
    });
    run.until(Duration::from_secs(20), move || finished.get());
    assert!(*got.lock().unwrap() == data, "log:\n{}", run.log());
}

#[test]
fn a_slow_reader_gets_back_pressure_and_the_buffers_stay_bounded() {
    let mut run = start(&server(
        "echo",
        "echo",
        r#"recv_buffer = "16KiB", send_buffer = "16KiB""#,
    ));
    let addr = run.listening();
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_nonblocking(true).unwrap();
    let data = payload(32 << 20, 5);
    let mut sent = 0;
    // Write without reading: soon neither the kernel nor the host takes more.
    let net = run.net.clone().unwrap();
    let mut stalled = 0;
    let mut peak = 0;
    while stalled < 50 {
        match s.write(&data[sent..]) {
            Ok(n) => {
                sent += n;
                stalled = 0;
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => stalled += 1,
            Err(e) => panic!("{e}"),
        }
        run.ticks(1);
        peak = peak.max(net.buffered());
        assert!(sent < data.len(), "the host took 32 MiB without a reader");
    }
    // Bounded: one connection's buffers (and the doer's own, 64 KiB at most).
    assert!(peak <= 32 << 10, "host buffers held {peak} bytes");
    // Then read it all back: every byte, in order.
    s.set_nonblocking(false).unwrap();
    s.shutdown(Shutdown::Write).unwrap_or(());
    let expect = data[..sent].to_vec();
    let got = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let g = got.clone();
    let finished = Flag::default();
    let f = finished.clone();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = s.read_to_end(&mut buf);
        *g.lock().unwrap() = buf;
        f.set();
    });
    run.until(Duration::from_secs(60), move || finished.get());
    let got = got.lock().unwrap();
    assert_eq!(got.len(), expect.len());
    assert!(*got == expect);
}

fn client_manifest(addr: &str, size: usize, extra_options: &str, limits: &str) -> String {
    format!(
        r#"
tock = 0.01
real = true
wake = "io"
limit = 20.0
[[doers]]
name = "client"
plugin = "{}"
options = {{ addr = "{addr}", size = {size}{extra_options} }}
grants = {{ connect = ["127.0.0.1:*"] }}
{limits}
"#,
        plugin("client")
    )
}

/// An echo server that is not a doer: one thread per connection.
fn plain_echo_server() -> std::net::SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            std::thread::spawn(move || {
                let mut w = s.try_clone().unwrap();
                let _ = std::io::copy(&mut s, &mut w);
                let _ = w.shutdown(Shutdown::Write);
            });
        }
    });
    addr
}

#[test]
fn a_client_doer_echoes_through_a_server_that_is_not_a_doer() {
    let addr = plain_echo_server();
    let mut run = start(&client_manifest(&addr.to_string(), 3 << 20, "", ""));
    run.doist.run().unwrap();
    let events = run.events("client");
    assert!(
        events.ends_with(&["clean".into(), "exit".into()]),
        "{events:?}\n{}",
        run.log()
    );
    assert!(run.line("echoed 3145728 bytes").is_some(), "{}", run.log());
}

#[test]
fn a_client_doer_and_a_server_doer_echo_in_one_run() {
    let text = format!(
        r#"
tock = 0.01
real = true
wake = "io"
limit = 20.0
[[doers]]
name = "echo"
plugin = "{echo}"
options = {{ addr = "127.0.0.1:7719" }}
grants = {{ listen = ["127.0.0.1:*"] }}
[[doers]]
name = "client"
plugin = "{client}"
options = {{ addr = "127.0.0.1:7719", size = 200000, reconnect = true }}
grants = {{ connect = ["127.0.0.1:7719"] }}
"#,
        echo = plugin("echo"),
        client = plugin("client")
    );
    let mut run = start(&text);
    run.doist.enter().unwrap();
    let start = Instant::now();
    while !run.events("client").contains(&"exit".to_string()) {
        assert!(start.elapsed() < Duration::from_secs(20), "{}", run.log());
        run.doist.step().unwrap();
    }
    assert!(run.line("echoed 200000 bytes").is_some(), "{}", run.log());
}
