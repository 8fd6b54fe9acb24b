//! Defects found by using the servers as clients and attackers do: many
//! connections over time, bodies nobody reads, HTTP/1.0 clients, odd
//! request lines, one client holding every connection. Each test failed
//! before its fix.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::time::Duration;

use crate::http::{against, raw};
use crate::util::{plugin, server, start};

fn hello(limits: &str) -> String {
    server("hello", "hello", limits)
}

/// The statuses of the responses in `said`, in order.
fn statuses(said: &str) -> Vec<&str> {
    said.match_indices("HTTP/1.")
        .map(|(i, _)| &said[i + 9..i + 12])
        .collect()
}

#[test]
fn an_http_server_serves_far_more_closed_connections_than_its_limit() {
    // A limit of 8 connections (its listener is one): 200 requests that each
    // close their connection, half closed by the server (`Connection:
    // close`), half by the client first.
    let mut run = start(&hello("connections = 8"));
    let addr = run.listening();
    let net = run.net.clone().unwrap();
    let served = against(&mut run, move || {
        let mut served = 0;
        for i in 0..200 {
            let said = if i % 2 == 0 {
                raw(
                    addr,
                    b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
                )
            } else {
                let mut s = TcpStream::connect(addr).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
                let mut got = vec![0u8; 4096];
                let mut said = String::new();
                while !said.ends_with("hello\n") {
                    let n = s.read(&mut got).unwrap_or(0);
                    if n == 0 {
                        break;
                    }
                    said.push_str(&String::from_utf8_lossy(&got[..n]));
                }
                said
            };
            if said.starts_with("HTTP/1.1 200 ") && said.ends_with("hello\n") {
                served += 1;
            }
        }
        served
    });
    assert_eq!(served, 200, "log:\n{}", run.log());
    // Every connection is let go once both sides are done.
    run.ticks(30);
    assert_eq!(net.connections(), 0, "log:\n{}", run.log());
}

#[test]
fn slow_heads_get_408_and_the_server_goes_on_serving() {
    let mut run = start(&hello("connections = 6, header_timeout = 0.2"));
    let addr = run.listening();
    let said = against(&mut run, move || {
        // Three rounds of five partial heads: each round takes every
        // connection the server has.
        for _ in 0..3 {
            let mut slow: Vec<TcpStream> = (0..5)
                .map(|_| {
                    let mut s = TcpStream::connect(addr).unwrap();
                    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
                    s.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
                    s
                })
                .collect();
            for s in &mut slow {
                let mut got = Vec::new();
                let _ = s.read_to_end(&mut got);
                assert!(got.starts_with(b"HTTP/1.1 408 "), "{got:?}");
            }
        }
        raw(
            addr,
            b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        )
    });
    assert!(
        said.starts_with("HTTP/1.1 200 "),
        "{said}; log:\n{}",
        run.log()
    );
}

#[test]
fn an_unread_request_body_is_dropped_and_the_connection_goes_on() {
    let mut run = start(&hello(""));
    let addr = run.listening();
    let said = against(&mut run, move || {
        let mut out = Vec::new();
        for first in [
            // By length, all at once with the next request.
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcdeGET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            // Chunked, with a trailer.
            "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        ] {
            out.push(raw(addr, first.as_bytes().to_vec()));
        }
        // The body sent after the answer came, then the next request later
        // still, on the same connection.
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
            .unwrap();
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).unwrap();
        let mut said = String::from_utf8_lossy(&buf[..n]).into_owned();
        s.write_all(&vec![b'z'; 100_000]).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        s.write_all(b"GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        said.push_str(&String::from_utf8_lossy(&rest));
        out.push(said);
        out
    });
    for said in said {
        assert_eq!(statuses(&said), ["200", "404"], "{said}");
        assert!(said.ends_with("not found\n"), "{said}");
    }
}

#[test]
fn http_1_0_clients_get_bodies_they_can_read() {
    let mut run = start(&server("router", "router", ""));
    let addr = run.listening();
    let said = against(&mut run, move || {
        let echo = raw(
            addr,
            b"POST /echo HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello".to_vec(),
        );
        let events = raw(addr, b"GET /events HTTP/1.0\r\n\r\n".to_vec());
        (echo, events)
    });
    for got in [&said.0, &said.1] {
        let lower = got.to_ascii_lowercase();
        assert!(got.starts_with("HTTP/1.1 200 "), "{got}");
        assert!(!lower.contains("transfer-encoding"), "{got}");
        assert!(lower.contains("connection: close\r\n"), "{got}");
    }
    assert!(said.0.ends_with("\r\n\r\nhello"), "{}", said.0);
    assert!(said.1.ends_with("data: tick 2\n\n"), "{}", said.1);
}

#[test]
fn methods_are_case_sensitive_so_a_lowercase_head_gets_a_body() {
    let mut run = start(&hello(""));
    let addr = run.listening();
    let said = against(&mut run, move || {
        raw(
            addr,
            b"head / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        )
    });
    assert!(said.contains("content-length: 6\r\n") || said.contains("Content-Length: 6\r\n"));
    assert!(said.ends_with("\r\n\r\nhello\n"), "{said}");
}

#[test]
fn empty_lines_before_a_request_do_not_hold_off_the_head_timeout() {
    let mut run = start(&hello("header_timeout = 0.5"));
    let addr = run.listening();
    let said = against(&mut run, move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(150)))
            .unwrap();
        let start = std::time::Instant::now();
        let mut got = Vec::new();
        // An empty line every 150 ms, for up to 5 s (20 lines: within the
        // bound on empty lines, so only the timeout can end it).
        for _ in 0..20 {
            if s.write_all(b"\r\n").is_err() {
                break;
            }
            let mut buf = [0u8; 1024];
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                Err(_) => break,
            }
        }
        (String::from_utf8_lossy(&got).into_owned(), start.elapsed())
    });
    assert!(said.0.starts_with("HTTP/1.1 408 "), "{said:?}");
    assert!(said.1 < Duration::from_secs(2), "{said:?}");
}

#[test]
fn a_space_in_the_target_is_a_malformed_request_line() {
    let mut run = start(&hello(""));
    let addr = run.listening();
    let said = against(&mut run, move || {
        raw(addr, b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n".to_vec())
    });
    assert!(said.starts_with("HTTP/1.1 400 "), "{said}");
}

fn echo_spawn(limits: &str) -> String {
    let conn = plugin("echo-conn");
    crate::util::spawner(&conn, &conn, limits)
}

/// Writes `text` and reads it back (echoed), on an open connection.
fn echoes(s: &mut TcpStream, text: &[u8]) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    if s.write_all(text).is_err() {
        return false;
    }
    let mut got = vec![0u8; text.len()];
    s.read_exact(&mut got).is_ok() && got == text
}

#[test]
fn past_its_children_limit_a_connection_waits_for_a_child_to_end() {
    let mut run = start(&echo_spawn("children = 2"));
    let addr = run.listening();
    let ok = against(&mut run, move || {
        let mut a = TcpStream::connect(addr).unwrap();
        let mut b = TcpStream::connect(addr).unwrap();
        assert!(echoes(&mut a, b"a") && echoes(&mut b, b"b"));
        // The third waits, open, unanswered.
        let mut c = TcpStream::connect(addr).unwrap();
        c.write_all(b"c").unwrap();
        c.set_read_timeout(Some(Duration::from_millis(400)))
            .unwrap();
        let mut one = [0u8; 1];
        let waited = matches!(c.read(&mut one), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut);
        // One child ends (its peer closes): the third is served.
        a.shutdown(Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        let _ = a.read_to_end(&mut rest);
        c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let served = c.read_exact(&mut one).is_ok() && &one == b"c";
        waited && served
    });
    assert!(ok, "log:\n{}", run.log());
}

#[test]
fn one_peer_cannot_hold_more_than_its_share_of_a_listener() {
    let mut run = start(&server("echo", "echo", "peer_connections = 3"));
    let addr = run.listening();
    let net = run.net.clone().unwrap();
    let ok = against(&mut run, move || {
        let mut held: Vec<TcpStream> = (0..3).map(|_| TcpStream::connect(addr).unwrap()).collect();
        let all = held.iter_mut().all(|s| echoes(s, b"x"));
        // The fourth from the same address is closed at once.
        let mut extra = TcpStream::connect(addr).unwrap();
        extra
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let _ = extra.write_all(b"y");
        let mut buf = [0u8; 8];
        let closed = matches!(extra.read(&mut buf), Ok(0) | Err(_));
        // One of the three leaves: a new one is served.
        drop(held.pop());
        std::thread::sleep(Duration::from_millis(200));
        let mut again = TcpStream::connect(addr).unwrap();
        all && closed && echoes(&mut again, b"z")
    });
    assert!(ok, "log:\n{}", run.log());
    assert!(net.connections() <= 4);
}

#[test]
fn an_http_server_answers_a_peer_over_its_share_with_503() {
    let mut run = start(&hello("peer_connections = 2"));
    let addr: SocketAddr = run.listening();
    let said = against(&mut run, move || {
        let held: Vec<TcpStream> = (0..2).map(|_| TcpStream::connect(addr).unwrap()).collect();
        std::thread::sleep(Duration::from_millis(100));
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        drop(held);
        String::from_utf8_lossy(&got).into_owned()
    });
    assert!(said.starts_with("HTTP/1.1 503 "), "{said}");
}

/// A server doer in real mode with `wake = "io"` and a tock of 5 s: every
/// tick before tyme 5 was started by the network, none by the grid.
fn slow_grid(plugin_name: &str, name: &str) -> String {
    server(plugin_name, name, "").replace("tock = 0.01", "tock = 5.0")
}

/// At most one of `doer`'s ticks came at or after the first grid deadline
/// (tyme 5): the one after the client was done, when nothing moved.
fn assert_no_grid_wait(run: &crate::util::Run, doer: &str) {
    let ticks: Vec<f64> = run
        .records()
        .iter()
        .filter(|r| r.doer == doer && r.event.as_str() == "recur")
        .map(|r| r.tyme)
        .collect();
    let late = ticks.iter().filter(|&&t| t >= 5.0).count();
    assert!(
        late <= 1,
        "{late} of {} ticks waited for the grid",
        ticks.len()
    );
}

#[test]
fn one_stream_moves_without_waiting_for_the_grid() {
    // 4 MiB each way through 64 KiB buffers: 64 ticks at least. Each must
    // start as soon as the bytes can move, not at the next tock.
    let mut run = start(&slow_grid("echo", "echo"));
    let addr = run.listening();
    let data = crate::util::payload(4 << 20, 7);
    let sent = data.clone();
    let got = against(&mut run, move || crate::util::echo_through(addr, sent));
    assert!(got == data, "echoed {} of {} bytes", got.len(), data.len());
    assert_no_grid_wait(&run, "echo");
}

#[test]
fn a_request_body_streams_without_waiting_for_the_grid() {
    let mut run = start(&slow_grid("router", "router"));
    let addr = run.listening();
    let body = crate::util::payload(1000 << 10, 3);
    let mut request = format!(
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(&body);
    let said = against(&mut run, move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        let mut w = s.try_clone().unwrap();
        let writer = std::thread::spawn(move || w.write_all(&request));
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        let _ = writer.join();
        got
    });
    assert!(
        said.starts_with(b"HTTP/1.1 200 "),
        "{:?}",
        &said[..said.len().min(200)]
    );
    assert_no_grid_wait(&run, "router");
}

#[test]
fn the_client_reads_the_body_of_an_answer_to_a_lowercase_head() {
    use hio::io::{ConnLimits, HostPort, Net};
    use hio::{Services, Tick};
    // A server that is not a doer: whatever it is asked, it answers with a
    // five-byte body and closes.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && s.read(&mut b).unwrap_or(0) == 1 {
            head.push(b[0]);
        }
        assert!(head.starts_with(b"head / HTTP/1.1\r\n"), "{head:?}");
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
            .unwrap();
    });
    let net = Net::new().unwrap();
    let owner = net.owner(ConnLimits::default());
    let target = HostPort::parse(&addr.to_string()).unwrap();
    let id = net
        .http_send(&owner, &target, None, "head", "/", &Vec::new(), Some(0))
        .unwrap();
    let mut service = net.service();
    let mut body = Vec::new();
    let start = std::time::Instant::now();
    let mut tyme = 0.0;
    let done = loop {
        service.before(Tick { tyme, early: false });
        body.extend(net.http_response_read(id, 1024));
        if let Some(done) = net.http_response_done(id) {
            break done;
        }
        service.after(tyme);
        assert!(start.elapsed() < Duration::from_secs(10), "no answer");
        std::thread::sleep(Duration::from_millis(5));
        tyme += 0.005;
    };
    assert_eq!(done, Ok(()));
    assert_eq!(body, b"hello");
}

#[test]
fn a_client_that_half_closed_after_its_request_is_closed_with_the_answer() {
    let mut run = start(&slow_grid("hello", "hello"));
    let addr = run.listening();
    let said = against(&mut run, move || {
        let mut s = TcpStream::connect(addr).unwrap();
        // Well before the next tock (5 s).
        s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut got = Vec::new();
        let ended = s.read_to_end(&mut got);
        (String::from_utf8_lossy(&got).into_owned(), ended.is_ok())
    });
    assert!(said.0.ends_with("hello\n"), "{}", said.0);
    // The close came with the answer, not at the next tock.
    assert!(said.1, "no end of stream before the next tock");
}

#[test]
fn a_body_cut_short_by_a_half_close_closes_the_connection() {
    // The doer answers without reading; the client sends 10 of the 1000
    // bytes it announced, then half-closes: the rest will never come.
    let mut run = start(&hello(""));
    let addr = run.listening();
    let net = run.net.clone().unwrap();
    let said = against(&mut run, move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        s.write_all(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
            .unwrap();
        let mut buf = vec![0u8; 4096];
        let n = s.read(&mut buf).unwrap();
        s.shutdown(Shutdown::Write).unwrap();
        let mut rest = Vec::new();
        let _ = s.read_to_end(&mut rest);
        String::from_utf8_lossy(&buf[..n]).into_owned()
    });
    assert!(said.starts_with("HTTP/1.1 200 "), "{said}");
    run.ticks(5);
    assert_eq!(net.connections(), 0, "the connection is let go");
}
