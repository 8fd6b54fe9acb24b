//! HTTP/1.1 served by the host to a Wasm doer (the `hello` plugin), tried
//! with clients no one here wrote (curl, Python's `http.client`) and with
//! malformed requests sent raw over a socket.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::util::{Flag, Run, plugin, server, start};

fn hello(limits: &str) -> String {
    server("hello", "hello", limits)
}

/// Runs `work` in a thread while the run ticks; returns what it returned.
pub(crate) fn against<T: Send + 'static>(
    run: &mut Run,
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    let out = Arc::new(Mutex::new(None));
    let o = out.clone();
    let done = Flag::default();
    let d = done.clone();
    std::thread::spawn(move || {
        let v = work();
        *o.lock().unwrap() = Some(v);
        d.set();
    });
    run.until(Duration::from_secs(30), move || done.get());
    let v = out.lock().unwrap().take();
    v.unwrap_or_else(|| panic!("the client panicked; log:\n{}", run.log()))
}

pub(crate) fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl is needed for this test");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
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

/// Sends `request` raw and reads until the server closes (or 10 s).
pub(crate) fn raw(addr: SocketAddr, request: Vec<u8>) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(&request).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    String::from_utf8_lossy(&got).into_owned()
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

fn router() -> Run {
    start(&server("router", "router", ""))
}

#[test]
fn curl_uploads_chunked_with_100_continue_and_gets_it_back_with_a_trailer() {
    let mut run = router();
    let addr = run.listening();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("up.bin");
    let data = crate::util::payload(300_000, 4);
    std::fs::write(&file, &data).unwrap();
    let file = file.display().to_string();
    let out = against(&mut run, move || {
        Command::new("curl")
            .args(["-sS", "--max-time", "20", "-v", "--raw"])
            .args([
                "-H",
                "Transfer-Encoding: chunked",
                "-H",
                "Expect: 100-continue",
            ])
            .args(["--data-binary", &format!("@{file}")])
            .arg(format!("http://{addr}/echo"))
            .output()
            .unwrap()
    });
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("< HTTP/1.1 100 Continue"), "{err}");
    assert!(err.contains("< HTTP/1.1 200"), "{err}");
    // --raw keeps the chunk framing: the body, then the trailer.
    let raw = out.stdout;
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.ends_with("0\r\nx-bytes: 300000\r\n\r\n"),
        "{}",
        &text[text.len().saturating_sub(60)..]
    );
    let mut body = Vec::new();
    let mut rest = &raw[..];
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap(), 16).unwrap();
        rest = &rest[line_end + 2..];
        if size == 0 {
            break;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
    assert!(body == data, "the echo differs ({} bytes)", body.len());
}

#[test]
fn server_sent_events_arrive_one_per_tick_then_the_stream_ends() {
    let mut run = router();
    let addr = run.listening();
    let said = against(&mut run, move || {
        curl(&["-N", &format!("http://{addr}/events")])
    });
    assert_eq!(said, "data: tick 0\n\ndata: tick 1\n\ndata: tick 2\n\n");
}

#[test]
fn a_cut_off_body_never_looks_complete_and_an_unanswered_request_gets_500() {
    let mut run = router();
    let addr = run.listening();
    let said = against(&mut run, move || {
        let cut = Command::new("curl")
            .args(["-sS", "--max-time", "10", &format!("http://{addr}/cut")])
            .output()
            .unwrap();
        let dropped = curl(&[
            "-w",
            "%{http_code}",
            "-o",
            "/dev/null",
            &format!("http://{addr}/drop"),
        ]);
        // The server is still sane afterwards.
        let after = curl(&[&format!("http://{addr}/json")]);
        (cut, dropped, after)
    });
    let (cut, dropped, after) = said;
    // curl: exit 18, "transfer closed with 90 bytes remaining to read".
    assert_eq!(
        cut.status.code(),
        Some(18),
        "{}",
        String::from_utf8_lossy(&cut.stderr)
    );
    assert_eq!(cut.stdout, b"0123456789");
    assert_eq!(dropped, "500");
    assert!(
        after.starts_with("{\"ok\":true,\"path\":\"/json\""),
        "{after}"
    );
}

#[test]
fn a_kept_alive_connection_carries_nothing_from_one_exchange_to_the_next() {
    let mut run = router();
    let addr = run.listening();
    // A chunked upload with a trailer, then a plain GET, then a 404, on one
    // connection, sent at once.
    let said = against(&mut run, move || {
        raw(
            addr,
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-t: 1\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        )
    });
    let parts: Vec<&str> = said.split("HTTP/1.1 ").skip(1).collect();
    assert_eq!(parts.len(), 3, "{said}");
    assert!(
        parts[0].starts_with("200") && parts[0].contains("3\r\nabc\r\n0\r\nx-bytes: 3\r\n\r\n"),
        "{}",
        parts[0]
    );
    assert!(
        parts[1].starts_with("200") && parts[1].ends_with("\r\n\r\nrouter\n"),
        "{}",
        parts[1]
    );
    assert!(
        parts[2].starts_with("404") && parts[2].ends_with("not found\n"),
        "{}",
        parts[2]
    );
}

#[test]
fn a_handler_that_fails_holding_a_request_gets_it_a_500_and_a_clean_close() {
    let mut run = router();
    let addr = run.listening();
    let said = against(&mut run, move || {
        raw(addr, b"GET /fail HTTP/1.1\r\nHost: x\r\n\r\n".to_vec())
    });
    assert!(said.starts_with("HTTP/1.1 500 "), "{said}");
    assert!(
        said.to_ascii_lowercase().contains("connection: close"),
        "{said}"
    );
    let reason = run.abort("router").map(|(_, why)| why).unwrap_or_default();
    assert!(reason.contains("failing on purpose"), "{reason}");
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

/// Python's `http.server` serving a folder with `file.txt` (1,000 bytes),
/// on a free port; killed when the guard goes.
struct PyServer {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for PyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python_server() -> PyServer {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file.txt"), "x".repeat(1000)).unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("python3")
        .args([
            "-m",
            "http.server",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .arg("--directory")
        .arg(dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3");
    let start = std::time::Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "http.server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    PyServer {
        child,
        port,
        _dir: dir,
    }
}

fn fetch(url: &str) -> String {
    format!(
        r#"
tock = 0.01
real = true
wake = "io"
limit = 10.0
[[doers]]
name = "fetch"
plugin = "{}"
options = {{ url = "{url}" }}
grants = {{ connect = ["127.0.0.1:*"] }}
"#,
        plugin("fetch")
    )
}

#[test]
fn the_client_doer_fetches_from_pythons_http_server() {
    let py = python_server();
    let mut run = start(&fetch(&format!("http://127.0.0.1:{}/file.txt", py.port)));
    run.doist.run().unwrap();
    assert!(
        run.line("file.txt status 200, 1000 bytes").is_some(),
        "{}",
        run.log()
    );
    let mut run = start(&fetch(&format!("http://127.0.0.1:{}/missing", py.port)));
    run.doist.run().unwrap();
    assert!(run.line("missing status 404").is_some(), "{}", run.log());
}

#[test]
fn a_client_doer_whose_server_is_not_there_fails_with_the_reason() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut run = start(&fetch(&format!("http://127.0.0.1:{port}/")));
    run.doist.run().unwrap();
    let reason = run.failure("fetch");
    assert!(reason.contains("connect failed"), "{reason}");
}

#[test]
fn a_proxy_doer_passes_requests_to_a_router_doer_and_back() {
    let text = format!(
        r#"
tock = 0.01
real = true
wake = "io"
[[doers]]
name = "router"
plugin = "{router}"
options = {{ addr = "127.0.0.1:7751" }}
grants = {{ listen = ["127.0.0.1:*"] }}
[[doers]]
name = "proxy"
plugin = "{proxy}"
options = {{ addr = "127.0.0.1:7752", upstream = "http://127.0.0.1:7751" }}
grants = {{ listen = ["127.0.0.1:*"], connect = ["127.0.0.1:7751"] }}
"#,
        router = plugin("router"),
        proxy = plugin("proxy")
    );
    let mut run = start(&text);
    run.doist.enter().unwrap();
    let said = against(&mut run, move || {
        let json = curl(&["http://127.0.0.1:7752/json"]);
        let echo = curl(&[
            "-H",
            "Transfer-Encoding: chunked",
            "--data-binary",
            "proxied body",
            "http://127.0.0.1:7752/echo",
        ]);
        let missing = curl(&["-w", "%{http_code}", "http://127.0.0.1:7752/nope"]);
        (json, echo, missing)
    });
    assert!(
        said.0.starts_with("{\"ok\":true,\"path\":\"/json\""),
        "{}",
        said.0
    );
    assert_eq!(said.1, "proxied body");
    assert_eq!(said.2, "not found\n404");
}

#[test]
fn the_client_doer_fetches_over_https_from_a_hello_doer() {
    let dir = crate::util::prepare();
    crate::tls::certificates(dir.path());
    let text = format!(
        r#"
tock = 0.01
real = true
wake = "io"
limit = 10.0
[[doers]]
name = "hello"
plugin = "{hello}"
options = {{ addr = "127.0.0.1:7761", tls = true }}
grants = {{ listen = ["127.0.0.1:*"], tls = {{ cert = "server.pem", key = "server.key" }} }}
[[doers]]
name = "fetch"
plugin = "{fetch}"
options = {{ url = "https://localhost:7761/" }}
grants = {{ connect = ["localhost:7761"], tls = {{ roots = ["ca.pem"] }} }}
"#,
        hello = plugin("hello"),
        fetch = plugin("fetch")
    );
    let mut run = crate::util::start_in(dir, &text);
    run.doist.enter().unwrap();
    let start = std::time::Instant::now();
    while run.line("status").is_none() && !run.records().iter().any(|r| r.event.as_str() == "abort")
    {
        assert!(start.elapsed() < Duration::from_secs(10), "{}", run.log());
        run.doist.step().unwrap();
    }
    assert!(
        run.line("https://localhost:7761/ status 200, 6 bytes")
            .is_some(),
        "{}",
        run.log()
    );
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

#[test]
fn the_ticker_streams_one_event_per_tick_to_each_client_then_ends() {
    let mut run = start(&format!(
        r#"
tock = 0.05
real = true
wake = "io"
[[doers]]
name = "ticker"
plugin = "{}"
options = {{ addr = "127.0.0.1:0", count = 3 }}
grants = {{ listen = ["127.0.0.1:*"] }}
"#,
        plugin("ticker")
    ));
    let addr = run.listening();
    let said = against(&mut run, move || {
        let url = format!("http://{addr}/");
        let a = std::thread::spawn({
            let url = url.clone();
            move || curl(&["-N", &url])
        });
        let b = curl(&["-N", &url]);
        (a.join().unwrap(), b)
    });
    for stream in [said.0, said.1] {
        let events: Vec<&str> = stream.split("\n\n").filter(|e| !e.is_empty()).collect();
        assert_eq!(events.len(), 3, "{stream}");
        for (n, event) in events.iter().enumerate() {
            assert!(
                event.starts_with(&format!("id: {n}\ndata: tick {n} at ")),
                "{event}"
            );
        }
    }
}
