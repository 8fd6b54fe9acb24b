//! Timeouts in tyme (real mode, where tyme is wall time), reconnect
//! back-off, and connections closed with the doer that holds them.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::util::{Flag, Run, plugin, server, start};

// Windows: a timeout fires at its tyme or at the first tick after it; the
// upper bounds leave a quarter second for a machine busy with the other
// tests (tyme is wall time here).

/// The tyme of the first log line containing `text`.
fn tyme_of(run: &Run, text: &str) -> f64 {
    let line = run
        .line(text)
        .unwrap_or_else(|| panic!("no line with {text:?}; log:\n{}", run.log()));
    line.split_whitespace().next().unwrap().parse().unwrap()
}

fn echo(limits: &str) -> String {
    server("echo", "echo", limits)
}

/// A peer that sends one byte every `gap` for `bytes` bytes, reading each
/// back, then waits for the end of the stream; the flag is set when it came.
fn trickle(addr: std::net::SocketAddr, bytes: usize, gap: Duration) -> Flag {
    let eof = Flag::default();
    let e = eof.clone();
    std::thread::spawn(move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut b = [0u8; 1];
        for _ in 0..bytes {
            s.write_all(b"x").unwrap();
            s.read_exact(&mut b).unwrap();
            std::thread::sleep(gap);
        }
        if matches!(s.read(&mut b), Ok(0)) {
            e.set();
        }
    });
    eof
}

#[test]
fn an_idle_accepted_connection_times_out_at_the_right_tyme() {
    let mut run = start(&echo("idle_timeout = 0.3"));
    let addr = run.listening();
    let eof = trickle(addr, 1, Duration::ZERO);
    let flag = eof.clone();
    run.until(Duration::from_secs(10), move || flag.get());
    let accepted = tyme_of(&run, "accepted");
    let closed = tyme_of(&run, "timed-out");
    let idle = closed - accepted;
    assert!(
        (0.3..0.55).contains(&idle),
        "closed {idle} s after the last byte; log:\n{}",
        run.log()
    );
}

#[test]
fn every_byte_refreshes_the_idle_timeout_from_now() {
    let mut run = start(&echo("idle_timeout = 0.3"));
    let addr = run.listening();
    // Six bytes 0.15 s apart: never idle for 0.3 s until the last.
    let eof = trickle(addr, 6, Duration::from_millis(150));
    let flag = eof.clone();
    run.until(Duration::from_secs(10), move || flag.get());
    let accepted = tyme_of(&run, "accepted");
    let closed = tyme_of(&run, "timed-out");
    // The last byte came about 0.75 s after the first; the timeout 0.3 s
    // after that, not 0.3 s after the deadline it replaced.
    let open = closed - accepted;
    assert!(
        (0.95..1.5).contains(&open),
        "open {open} s; log:\n{}",
        run.log()
    );
}

/// A server that is not a doer: it accepts, reads what comes, never writes
/// and never closes; a flag is set when a connection's stream ended.
fn silent_server() -> (std::net::SocketAddr, Flag) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let eof = Flag::default();
    let e = eof.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let e = e.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = s.read(&mut buf) {
                    if n == 0 {
                        e.set();
                        break;
                    }
                }
                // Held open: the peer sees no end of stream.
                std::thread::sleep(Duration::from_secs(30));
                drop(s);
            });
        }
    });
    (addr, eof)
}

fn client(addr: std::net::SocketAddr, options: &str, limits: &str) -> String {
    format!(
        r#"
tock = 0.01
real = true
wake = "io"
limit = 5.0
[[doers]]
name = "client"
plugin = "{}"
options = {{ addr = "{addr}", size = 1000{options} }}
grants = {{ connect = ["127.0.0.1:*"], tls = {{ webpki_roots = true, server_names = ["localhost"] }} }}
limits = {{ {limits} }}
"#,
        plugin("client")
    )
}

/// The tyme and reason of `doer`'s abort.
fn abort_of(run: &Run, doer: &str) -> (f64, String) {
    run.abort(doer)
        .unwrap_or_else(|| panic!("{doer} did not fail; log:\n{}", run.log()))
}

fn until_abort(run: &mut Run, doer: &str) {
    run.until_event(doer, "abort");
}

#[test]
fn an_idle_client_connection_times_out_and_its_doer_sees_it() {
    let (addr, _) = silent_server();
    let mut run = start(&client(addr, "", "idle_timeout = 0.3"));
    until_abort(&mut run, "client");
    let (tyme, reason) = abort_of(&run, "client");
    assert!(reason.contains("timed-out"), "{reason}");
    assert!((0.3..0.55).contains(&tyme), "timed out at {tyme}");
}

#[test]
fn a_tls_handshake_that_never_answers_hits_the_connect_timeout() {
    // The server accepts and stays silent: the handshake never completes.
    let (addr, _) = silent_server();
    let mut run = start(&client(
        addr,
        r#", tls = true, server_name = "localhost""#,
        "connect_timeout = 0.4, idle_timeout = 0",
    ));
    until_abort(&mut run, "client");
    let (tyme, reason) = abort_of(&run, "client");
    assert!(reason.contains("timed-out"), "{reason}");
    assert!((0.4..0.65).contains(&tyme), "timed out at {tyme}");
}

#[test]
fn a_reconnecting_client_backs_off_until_the_server_comes_up() {
    // A port with nothing on it yet.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut run = start(&client(
        port,
        ", reconnect = true",
        "reconnect_backoff = 0.05, max_backoff = 0.2",
    ));
    let up = Arc::new(Mutex::new(None));
    let u = up.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        let l = TcpListener::bind(port).unwrap();
        *u.lock().unwrap() = Some(Instant::now());
        let (mut s, _) = l.accept().unwrap();
        let mut w = s.try_clone().unwrap();
        let _ = std::io::copy(&mut s, &mut w);
        let _ = w.shutdown(Shutdown::Write);
    });
    run.doist.run().unwrap();
    assert!(run.line("echoed 1000 bytes").is_some(), "{}", run.log());
    assert!(up.lock().unwrap().is_some());
}

#[test]
fn a_connection_closes_when_its_doer_fails() {
    // A server that answers with the wrong bytes: the client doer fails.
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let eof = Flag::default();
    let e = eof.clone();
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        s.write_all(&[0xff; 10]).unwrap();
        let mut buf = [0u8; 4096];
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                e.set();
                break;
            }
        }
    });
    // An echo server doer keeps the run going after the client failed.
    let text = format!(
        "{}{}",
        client(addr, "", ""),
        echo("")
            .split("[[doers]]")
            .nth(1)
            .map(|d| format!("[[doers]]{d}"))
            .unwrap()
    );
    let mut run = start(&text);
    until_abort(&mut run, "client");
    let start = Instant::now();
    while !eof.get() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "never closed; {}",
            run.log()
        );
        run.doist.step().unwrap();
    }
    assert!(!run.doist.done(), "the run went on");
}

#[test]
fn a_connection_closes_when_the_run_ends_and_its_doer_exits() {
    let mut text = echo("");
    text.push_str("");
    let text = text.replace("wake = \"io\"", "wake = \"io\"\nlimit = 0.3");
    let mut run = start(&text);
    let addr = run.listening();
    let mut s = TcpStream::connect(addr).unwrap();
    s.write_all(b"hi").unwrap();
    run.doist.run().unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut got = Vec::new();
    s.read_to_end(&mut got).unwrap();
    assert_eq!(got, b"hi");
}
