//! The `hello` doer: one answer over kept-alive connections to curl and
//! Python's `http.client`, pipelining, HEAD, the host's own answers to
//! malformed, oversized and too slow requests, HTTPS, and the example
//! manifest as a user runs it.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{against, curl, raw};
use crate::util::{plugin, server, start};

fn hello(limits: &str) -> String {
    server("hello", "hello", limits)
}

#[test]
fn curl_gets_hello_twice_over_one_kept_alive_connection() {
    let mut run = start(&hello(""));
    let addr = run.listening();
    let said = against(&mut run, move || {
        let url = format!("http://{addr}/");
        curl(&[&url, &url, "-w", "[%{http_code} %{num_connects}]"])
    });
    // Two answers; the second reused the connection (0 new connects).
    assert_eq!(said, "hello\n[200 1]hello\n[200 0]", "log:\n{}", run.log());
}

#[test]
fn head_has_the_length_and_no_body_and_unknown_paths_are_404() {
    let mut run = start(&hello(""));
    let addr = run.listening();
    let said = against(&mut run, move || {
        let head = curl(&["-I", &format!("http://{addr}/")]);
        let missing = curl(&["-w", "%{http_code}", &format!("http://{addr}/nope")]);
        (head, missing)
    });
    let head = said.0.to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-length: 6\r\n"), "{head}");
    assert!(head.contains("date: "), "{head}");
    assert_eq!(said.1, "not found\n404");
}

#[test]
fn pythons_http_client_keeps_the_connection_and_reads_a_valid_date() {
    let mut run = start(&hello(""));
    let addr = run.listening();
    let script = format!(
        r#"
import http.client, email.utils
c = http.client.HTTPConnection("127.0.0.1", {port}, timeout=10)
for path in ["/", "/", "/x"]:
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    email.utils.parsedate_to_datetime(r.getheader("Date"))
    print(r.status, body.decode().strip(), end="; ")
print(c.sock is not None)
"#,
        port = addr.port()
    );
    let said = against(&mut run, move || {
        let out = Command::new("python3")
            .args(["-c", &script])
            .output()
            .expect("python3");
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_eq!(said.trim(), "200 hello; 200 hello; 404 not found; True");
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let mut run = start(&hello(""));
    let addr = run.listening();
    let said = against(&mut run, move || {
        raw(
            addr,
            b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        )
    });
    let statuses: Vec<&str> = said
        .match_indices("HTTP/1.1 ")
        .map(|(i, _)| &said[i + 9..i + 12])
        .collect();
    assert_eq!(statuses, ["404", "200", "200"], "{said}");
    assert!(said.ends_with("hello\n"), "closed after the last: {said}");
}

#[test]
fn malformed_and_oversized_requests_get_the_right_status_and_a_close() {
    let mut run = start(&hello(""));
    let addr = run.listening();
    let long_target = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(10_000));
    let many_headers = format!(
        "GET / HTTP/1.1\r\nHost: x\r\n{}\r\n",
        (0..200)
            .map(|i| format!("X-{i}: y\r\n"))
            .collect::<String>()
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("400", b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec()),
        ("400", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc".to_vec()),
        ("400", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\nabc".to_vec()),
        ("400", b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n".to_vec()),
        ("400", b"GARBAGE\r\n\r\n".to_vec()),
        ("414", long_target.into_bytes()),
        ("431", many_headers.into_bytes()),
        ("413", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n".to_vec()),
    ];
    let said = against(&mut run, move || {
        cases
            .into_iter()
            .map(|(want, request)| (want, raw(addr, request)))
            .collect::<Vec<_>>()
    });
    for (want, got) in said {
        assert!(
            got.starts_with(&format!("HTTP/1.1 {want} ")),
            "want {want}, got {got:?}"
        );
        assert!(
            got.to_ascii_lowercase().contains("connection: close"),
            "{got}"
        );
    }
}

#[test]
fn a_head_that_trickles_in_too_slowly_gets_408_and_a_close() {
    let mut run = start(&hello("header_timeout = 0.3"));
    let addr = run.listening();
    let said = against(&mut run, move || {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost").unwrap();
        let start = std::time::Instant::now();
        let mut got = Vec::new();
        let _ = s.read_to_end(&mut got);
        (String::from_utf8_lossy(&got).into_owned(), start.elapsed())
    });
    assert!(said.0.starts_with("HTTP/1.1 408 "), "{}", said.0);
    assert!(
        said.1 >= Duration::from_millis(250) && said.1 < Duration::from_secs(3),
        "{:?}",
        said.1
    );
}

#[test]
fn curl_gets_hello_over_https_twice_on_one_connection() {
    let dir = crate::util::prepare();
    crate::tls::certificates(dir.path());
    let ca = dir.path().join("ca.pem").display().to_string();
    let text = format!(
        r#"
tock = 0.01
real = true
wake = "io"
[[doers]]
name = "hello"
plugin = "{}"
options = {{ addr = "127.0.0.1:0", tls = true }}
grants = {{ listen = ["127.0.0.1:*"], tls = {{ cert = "server.pem", key = "server.key" }} }}
"#,
        plugin("hello")
    );
    let mut run = crate::util::start_in(dir, &text);
    let addr = run.listening();
    let said = against(&mut run, move || {
        let url = format!("https://localhost:{}/", addr.port());
        let resolve = format!("localhost:{}:127.0.0.1", addr.port());
        curl(&[
            "--cacert",
            &ca,
            "--resolve",
            &resolve,
            &url,
            &url,
            "-w",
            "[%{http_code} %{num_connects}]",
        ])
    });
    assert_eq!(said, "hello\n[200 1]hello\n[200 0]", "log:\n{}", run.log());
}

#[test]
fn the_hello_example_serves_on_the_port_its_option_gives() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/hello.toml");
    let text = std::fs::read_to_string(&example)
        .unwrap()
        .replace("../plugins/dist/hello.wasm", &plugin("hello"));
    let mut manifest = hio::manifest::Manifest::parse(&text, &example).unwrap();
    manifest
        .set_option("hello", "addr", &format!("127.0.0.1:{port}"))
        .unwrap();
    assert_eq!(manifest.wake, hio::manifest::Wake::Io);
    assert!(manifest.real);
    let host = hio::plugin::PluginHost::new(hio::plugin::EngineLimits::default(), None).unwrap();
    let built = hio::manifest::build(&manifest, &host, false).unwrap();
    let mut doist = built.doist;
    doist.enter().unwrap();
    let out = Arc::new(Mutex::new(None));
    let o = out.clone();
    std::thread::spawn(move || {
        *o.lock().unwrap() = Some(curl(&[&format!("http://127.0.0.1:{port}/")]));
    });
    let start = std::time::Instant::now();
    while out.lock().unwrap().is_none() {
        assert!(start.elapsed() < Duration::from_secs(10), "no answer");
        doist.step().unwrap();
    }
    assert_eq!(out.lock().unwrap().take().unwrap(), "hello\n");
}
