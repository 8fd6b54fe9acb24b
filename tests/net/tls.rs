//! TLS through Wasm doers: certificates made with rcgen, a doer server and
//! a doer client, a client no one here wrote (Python's `ssl`), and a
//! handshake that fails.

use std::path::Path;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
};

use crate::util::{plugin, prepare, start_in};

/// Writes `ca.pem` (a CA), `server.pem` and `server.key` (a certificate for
/// `localhost` it signed) into `dir`; `other-ca.pem` is a CA that signed
/// nothing.
pub fn certificates(dir: &Path) {
    let ca = CertifiedIssuer::self_signed(authority("hio test CA"), KeyPair::generate().unwrap())
        .unwrap();
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    params.distinguished_name = named("localhost");
    let cert = params.signed_by(&key, &ca).unwrap();
    let other = CertifiedIssuer::self_signed(authority("another CA"), KeyPair::generate().unwrap())
        .unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    std::fs::write(dir.join("other-ca.pem"), other.pem()).unwrap();
    std::fs::write(dir.join("server.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("server.key"), key.serialize_pem()).unwrap();
}

fn named(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

fn authority(cn: &str) -> CertificateParams {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name = named(cn);
    ca
}

pub(crate) fn server(port: u16) -> String {
    format!(
        r#"
[[doers]]
name = "echo"
plugin = "{}"
options = {{ addr = "127.0.0.1:{port}", tls = true }}
grants = {{ listen = ["127.0.0.1:*"], tls = {{ cert = "server.pem", key = "server.key" }} }}
"#,
        plugin("echo")
    )
}

pub(crate) fn client(port: u16, roots: &str) -> String {
    format!(
        r#"
[[doers]]
name = "client"
plugin = "{}"
options = {{ addr = "127.0.0.1:{port}", size = 300000, tls = true, server_name = "localhost", reconnect = true }}
grants = {{ connect = ["127.0.0.1:{port}"], tls = {{ roots = ["{roots}"], server_names = ["localhost"] }} }}
"#,
        plugin("client")
    )
}

const HEAD: &str = "tock = 0.01\nreal = true\nwake = \"io\"\nlimit = 20.0\n";

#[test]
fn a_tls_client_doer_echoes_through_a_tls_server_doer() {
    let dir = prepare();
    certificates(dir.path());
    let text = format!("{HEAD}{}{}", server(7731), client(7731, "ca.pem"));
    let mut run = start_in(dir, &text);
    run.until_event("client", "exit");
    assert!(run.line("echoed 300000 bytes").is_some(), "{}", run.log());
    assert!(
        run.events("client")
            .ends_with(&["clean".into(), "exit".into()])
    );
}

#[test]
fn a_failed_handshake_is_a_clear_state_and_the_server_goes_on() {
    let dir = prepare();
    certificates(dir.path());
    // The client trusts a CA that did not sign the server's certificate.
    let text = format!("{HEAD}{}{}", server(7732), client(7732, "other-ca.pem"));
    let mut run = start_in(dir, &text);
    run.until_event("client", "exit");
    let reason = run.failure("client");
    assert!(
        reason.contains("failed") && reason.contains("TLS"),
        "{reason}"
    );
    assert!(
        reason.contains("invalid peer certificate: UnknownIssuer"),
        "{reason}"
    );
    // The server is still there, not failed.
    assert!(
        !run.events("echo").iter().any(|e| e == "abort"),
        "{}",
        run.log()
    );
}

#[test]
fn a_client_may_trust_the_platforms_roots_which_do_not_know_a_private_ca() {
    let dir = prepare();
    certificates(dir.path());
    let client = client(7735, "ca.pem").replace(r#"roots = ["ca.pem"]"#, "platform_roots = true");
    let text = format!("{HEAD}{}{client}", server(7735));
    let mut run = start_in(dir, &text);
    run.until_event("client", "exit");
    let reason = run.failure("client");
    // Granted and tried: verified against the system's roots, which do not
    // hold the test CA.
    assert!(
        reason.contains("invalid peer certificate: UnknownIssuer"),
        "{reason}"
    );
}

/// Runs a Python script (Python's own `ssl` module: a TLS client no one
/// here wrote) against a run, until it ends; returns what it printed.
fn python_against(run: &mut crate::util::Run, script: &str) -> String {
    let found = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(found, "python3 is needed for this test");
    run.doist.enter().unwrap();
    let child = std::process::Command::new("python3")
        .args(["-c", script])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = std::sync::Arc::new(std::sync::Mutex::new(None));
    let o = out.clone();
    std::thread::spawn(move || {
        *o.lock().unwrap() = Some(child.wait_with_output().unwrap());
    });
    let flag = out.clone();
    run.until(Duration::from_secs(30), move || {
        flag.lock().unwrap().is_some()
    });
    let out = out.lock().unwrap().take().unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn pythons_ssl_client_echoes_through_the_tls_server_doer() {
    let dir = prepare();
    certificates(dir.path());
    let ca = dir.path().join("ca.pem");
    let mut run = start_in(dir, &format!("{HEAD}{}", server(7733)));
    let said = python_against(
        &mut run,
        &format!(
            r#"
import socket, ssl
ctx = ssl.create_default_context(cafile={ca:?})
data = bytes((i * 7) % 251 for i in range(200000))
with socket.create_connection(("127.0.0.1", 7733)) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(data)
        got = b""
        while len(got) < len(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
        print("ok" if got == data else "differ %d" % len(got), s.version())
"#
        ),
    );
    assert!(
        said.starts_with("ok TLSv1.3"),
        "python said {said:?}; log:\n{}",
        run.log()
    );
}

#[test]
fn every_byte_refreshes_the_idle_timeout_of_a_tls_connection_too() {
    let dir = prepare();
    certificates(dir.path());
    let ca = dir.path().join("ca.pem");
    let text = format!("{HEAD}{}limits = {{ idle_timeout = 0.3 }}\n", server(7734));
    let mut run = start_in(dir, &text);
    // Six bytes 0.15 s apart, each echoed; then silence until the server
    // times the connection out, 0.3 s after the last byte.
    let said = python_against(
        &mut run,
        &format!(
            r#"
import socket, ssl, time
ctx = ssl.create_default_context(cafile={ca:?})
with socket.create_connection(("127.0.0.1", 7734)) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        start = time.monotonic()
        for i in range(6):
            s.sendall(b"x")
            assert s.recv(1) == b"x"
            last = time.monotonic()
            time.sleep(0.15)
        try:
            end = s.recv(1)
        except (ssl.SSLError, OSError):
            end = b""
        print("eof" if end == b"" else "more", round(time.monotonic() - last, 3))
"#
        ),
    );
    let mut words = said.split_whitespace();
    assert_eq!(
        words.next(),
        Some("eof"),
        "python said {said:?}; log:\n{}",
        run.log()
    );
    let after: f64 = words.next().unwrap().parse().unwrap();
    // 0.3 s after the last byte (the wait started 0.15 s after it).
    assert!(
        (0.2..0.7).contains(&after),
        "closed {after} s after the last byte"
    );
    let line = run
        .line("timed-out")
        .unwrap_or_else(|| panic!("{}", run.log()));
    assert!(line.contains("after 6 bytes"), "{line}");
}
