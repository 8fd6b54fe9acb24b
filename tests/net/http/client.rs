//! Outgoing requests: the `fetch` doer against Python's `http.server`, a
//! server that is not there and a `hello` doer over HTTPS; the `proxy`
//! doer in front of a `router` doer.

use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use super::{against, curl};
use crate::util::{plugin, start};

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
