//! Grants and limits: what a doer may not touch is refused with an error it
//! sees, and what it may hold is bounded.

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use crate::util::{Flag, echo_through, payload, plugin, prepare, server, start, start_in};

#[test]
fn listening_or_connecting_outside_the_grants_is_refused() {
    let text = format!(
        r#"
tock = 0.01
limit = 0.05
[[doers]]
name = "listener"
plugin = "{echo}"
options = {{ addr = "127.0.0.1:7741" }}
grants = {{ listen = ["127.0.0.1:80", "127.0.0.2:*"] }}
[[doers]]
name = "dialer"
plugin = "{client}"
options = {{ addr = "127.0.0.1:7742" }}
grants = {{ connect = ["localhost:7742"] }}
[[doers]]
name = "nothing"
plugin = "{client}"
options = {{ addr = "127.0.0.1:7742" }}
"#,
        echo = plugin("echo"),
        client = plugin("client")
    );
    let mut run = start(&text);
    run.doist.run().unwrap();
    let listener = run.failure("listener");
    assert!(
        listener.contains("not granted: listen on 127.0.0.1:7741"),
        "{listener}"
    );
    // A grant names a host as written: localhost is not 127.0.0.1.
    let dialer = run.failure("dialer");
    assert!(
        dialer.contains("not granted: connect to 127.0.0.1:7742"),
        "{dialer}"
    );
    let nothing = run.failure("nothing");
    assert!(nothing.contains("no network grants"), "{nothing}");
}

#[test]
fn a_doer_holds_at_most_its_connections_and_the_rest_wait_unharmed() {
    // One listener and two connections; further clients wait in the
    // kernel's backlog until one of those closes.
    let mut run = start(&server("echo", "echo", "connections = 3"));
    let addr = run.listening();
    let net = run.net.clone().unwrap();
    // Four idle connections, opened and left waiting.
    let idle: Vec<TcpStream> = (0..4).map(|_| TcpStream::connect(addr).unwrap()).collect();
    run.ticks(20);
    assert_eq!(net.connections(), 2, "held beyond the limit");
    drop(idle);
    // Clients after them are served in turn, byte for byte.
    let done = Flag::default();
    let d = done.clone();
    std::thread::spawn(move || {
        let ok = (0..4).all(|i| {
            let data = payload(10_000, i);
            echo_through(addr, data.clone()) == data
        });
        if ok {
            d.set();
        }
    });
    let flag = done.clone();
    let finished = Flag::default();
    let f = finished.clone();
    let watch = std::thread::spawn(move || {
        for _ in 0..3000 {
            if flag.get() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        f.set();
    });
    run.until(Duration::from_secs(40), move || finished.get());
    watch.join().unwrap();
    assert!(done.get(), "{}", run.log());
}

#[test]
fn a_spawn_outside_the_grants_is_refused_and_the_server_goes_on() {
    let dir = prepare();
    std::fs::copy(plugin("echo-conn"), dir.path().join("conn.wasm")).unwrap();
    let text = crate::util::spawner("other.wasm", "conn.wasm", "");
    let mut run = start_in(dir, &text);
    let addr = run.listening();
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"x").unwrap();
    run.ticks(20);
    let line = run
        .line("not granted")
        .unwrap_or_else(|| panic!("no refusal logged; log:\n{}", run.log()));
    assert!(line.contains("other.wasm"), "{line}");
    assert!(!run.records().iter().any(|r| r.event.as_str() == "abort"));
}

#[test]
fn idle_connections_hold_no_buffer_memory() {
    // 200 from one address: more than one peer may hold by default.
    let mut run = start(&server("echo", "echo", "peer_connections = 200"));
    let addr = run.listening();
    let net = run.net.clone().unwrap();
    // 200 connections, each echoing 64 KiB once, then idle.
    let mut conns = Vec::new();
    for i in 0..200u8 {
        let mut s = TcpStream::connect(addr).unwrap();
        s.write_all(&payload(64 << 10, i)).unwrap();
        conns.push(s);
        run.ticks(1);
    }
    let mut got = vec![0u8; 64 << 10];
    for (i, s) in conns.iter_mut().enumerate() {
        s.set_nonblocking(false).unwrap();
        let mut read = 0;
        while read < got.len() {
            run.ticks(1);
            s.set_read_timeout(Some(Duration::from_millis(1))).unwrap();
            if let Ok(n) = std::io::Read::read(s, &mut got[read..]) {
                read += n;
            }
        }
        assert!(got == payload(64 << 10, i as u8), "connection {i}");
    }
    run.ticks(5);
    assert_eq!(net.connections(), 200);
    // Emptied buffers give their storage back: what is left is at most a
    // few KiB each.
    let held = net.buffered();
    assert!(
        held <= 200 * (8 << 10),
        "idle connections hold {held} bytes"
    );
}
