//! The manifest's network limits and grants and `--option`'s setter,
//! through the public interface only (the rest of the schema is tested
//! through the `hio` command, `tests/cli/commands.rs`).

use std::path::{Path, PathBuf};

use hio_wasm::{Scalar, Value};

use super::{
    AddrGrant, DEFAULT_BACKLOG, DEFAULT_CHILDREN, DEFAULT_CONNECT_TIMEOUT, DEFAULT_CONNECTIONS,
    DEFAULT_IDLE_TIMEOUT, DEFAULT_MAX_BACKOFF, DEFAULT_RECONNECT_BACKOFF, DEFAULT_RECV_BUFFER,
    DEFAULT_SEND_BUFFER, Limits, Manifest, NetGrants, TlsGrant,
};

/// A folder holding the files manifests name (any existing file passes
/// parsing as a plugin): `p.wasm`, `child.wasm`, `cert.pem`, `key.pem`,
/// `ca.pem`.
fn folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for f in ["p.wasm", "child.wasm", "cert.pem", "key.pem", "ca.pem"] {
        std::fs::write(dir.path().join(f), "x").expect("write");
    }
    dir
}

fn parse(dir: &Path, text: &str) -> Result<Manifest, String> {
    Manifest::parse(text, dir.join("m.toml")).map_err(|e| e.to_string())
}

fn limits_of(m: &Manifest, name: &str) -> Limits {
    m.leaves()
        .into_iter()
        .find(|l| l.name == name)
        .expect("leaf")
        .limits
}

#[test]
fn the_network_limits_default_to_the_documented_values() {
    let dir = folder();
    let m = parse(dir.path(), "[[doers]]\nname = \"a\"\nplugin = \"p.wasm\"\n").expect("parses");
    let l = limits_of(&m, "a");
    assert_eq!(
        (l.connections, l.backlog, l.recv_buffer, l.send_buffer),
        (256, 64, 64 << 10, 64 << 10)
    );
    assert_eq!(
        (l.connections, l.backlog, l.recv_buffer, l.send_buffer),
        (
            DEFAULT_CONNECTIONS,
            DEFAULT_BACKLOG,
            DEFAULT_RECV_BUFFER,
            DEFAULT_SEND_BUFFER
        )
    );
    assert_eq!(
        (
            l.connect_timeout,
            l.idle_timeout,
            l.reconnect_backoff,
            l.max_backoff
        ),
        (10.0, 60.0, 0.125, 4.0)
    );
    assert_eq!(
        (
            l.connect_timeout,
            l.idle_timeout,
            l.reconnect_backoff,
            l.max_backoff,
            l.children
        ),
        (
            DEFAULT_CONNECT_TIMEOUT,
            DEFAULT_IDLE_TIMEOUT,
            DEFAULT_RECONNECT_BACKOFF,
            DEFAULT_MAX_BACKOFF,
            DEFAULT_CHILDREN
        )
    );
    assert_eq!(l.children, 64);
    let leaf = m.leaves()[0];
    assert_eq!(leaf.net, NetGrants::default());
    assert!(!m.uses_network());
}

#[test]
fn the_network_limits_are_inherited_and_the_nearest_wins_key_by_key() {
    let dir = folder();
    let m = parse(
        dir.path(),
        r#"
limits = { connections = 10, recv_buffer = "1KiB", connect_timeout = 0, max_backoff = 30 }
[[doers]]
name = "top"
plugin = "p.wasm"
[[doers]]
name = "g"
limits = { connections = 20, idle_timeout = 5, children = 0, send_buffer = 100 }
doers = [
  { name = "a", plugin = "p.wasm", limits = { backlog = 3, reconnect_backoff = 0.5, recv_buffer = "2KiB" } },
  { name = "b", plugin = "p.wasm" },
]
"#,
    )
    .expect("parses");
    let top = limits_of(&m, "top");
    assert_eq!((top.connections, top.recv_buffer), (10, 1024));
    assert_eq!((top.connect_timeout, top.max_backoff), (0.0, 30.0));
    assert_eq!(
        (top.idle_timeout, top.children, top.backlog),
        (60.0, 64, 64)
    );
    let b = limits_of(&m, "b");
    assert_eq!(
        (b.connections, b.recv_buffer, b.send_buffer),
        (20, 1024, 100)
    );
    assert_eq!(
        (b.idle_timeout, b.children, b.connect_timeout),
        (5.0, 0, 0.0)
    );
    let a = limits_of(&m, "a");
    assert_eq!(
        (a.backlog, a.recv_buffer, a.reconnect_backoff),
        (3, 2048, 0.5)
    );
    assert_eq!((a.connections, a.send_buffer, a.children), (20, 100, 0));
    assert_eq!(a.max_backoff, 30.0);
}

#[test]
fn network_grants_are_parsed_and_resolved_against_the_manifest_folder() {
    let dir = folder();
    let m = parse(
        dir.path(),
        r#"
[[doers]]
name = "srv"
plugin = "p.wasm"
[doers.grants]
listen = ["127.0.0.1:*", "[::1]:8443"]
connect = ["example.com:443", "*:*"]
spawn = ["child.wasm"]
tls = { cert = "cert.pem", key = "key.pem", roots = ["ca.pem"], webpki_roots = true, server_names = ["localhost"] }
[[doers]]
name = "quiet"
plugin = "p.wasm"
grants = { spawn = ["child.wasm"] }
"#,
    )
    .expect("parses");
    let ok = |s: &str| AddrGrant::parse(s).expect("grant");
    let at = |f: &str| dir.path().join(f);
    let srv = &m.leaves()[0].net;
    assert_eq!(
        *srv,
        NetGrants {
            listen: vec![ok("127.0.0.1:*"), ok("[::1]:8443")],
            connect: vec![ok("example.com:443"), ok("*:*")],
            spawn: vec![("child.wasm".to_owned(), at("child.wasm"))],
            tls: TlsGrant {
                cert: Some(at("cert.pem")),
                key: Some(at("key.pem")),
                roots: vec![at("ca.pem")],
                webpki_roots: true,
                platform_roots: false,
                server_names: vec!["localhost".to_owned()],
            },
        }
    );
    assert!(srv.uses_network());
    let quiet = &m.leaves()[1].net;
    assert!(!quiet.uses_network(), "spawning alone is no network");
    assert!(m.uses_network());
    // What a run loads: each plugin once, the spawnable one too.
    assert_eq!(m.plugins(), vec![at("child.wasm"), at("p.wasm")]);
}

#[test]
fn each_bad_limit_or_grant_is_an_error_naming_file_line_and_key() {
    let dir = folder();
    let leaf = "[[doers]]\nname = \"a\"\nplugin = \"p.wasm\"\n";
    let cases: &[(&str, &str)] = &[
        (
            "limits = { connections = 0 }",
            "m.toml:4: doers[0].limits.connections: must be >= 1, got 0",
        ),
        (
            "limits = { backlog = 0 }",
            "m.toml:4: doers[0].limits.backlog: must be >= 1, got 0",
        ),
        (
            "limits = { backlog = 5_000_000_000 }",
            "m.toml:4: doers[0].limits.backlog: must be at most 4294967295",
        ),
        (
            "limits = { children = -1 }",
            "m.toml:4: doers[0].limits.children: must be >= 0, got -1",
        ),
        (
            "limits = { recv_buffer = 0 }",
            "m.toml:4: doers[0].limits.recv_buffer: must be at least 1 byte",
        ),
        (
            "limits = { send_buffer = \"0KiB\" }",
            "m.toml:4: doers[0].limits.send_buffer: must be at least 1 byte",
        ),
        (
            "limits = { send_buffer = \"1 TB\" }",
            "m.toml:4: doers[0].limits.send_buffer: unknown unit \"TB\"",
        ),
        (
            "limits = { connect_timeout = -1 }",
            "m.toml:4: doers[0].limits.connect_timeout: must be >= 0, got -1",
        ),
        (
            "limits = { idle_timeout = inf }",
            "m.toml:4: doers[0].limits.idle_timeout: must be a finite number",
        ),
        (
            "limits = { reconnect_backoff = 0 }",
            "m.toml:4: doers[0].limits.reconnect_backoff: must be > 0, got 0",
        ),
        (
            "limits = { max_backoff = 0.0625 }",
            "m.toml:4: doers[0].limits.max_backoff: max_backoff (0.0625) must be >= reconnect_backoff (0.125)",
        ),
        (
            "limits = { reconnect_backoff = 8 }",
            "m.toml:4: doers[0].limits.reconnect_backoff: max_backoff (4) must be >= reconnect_backoff (8)",
        ),
        (
            "limits = { sockets = 1 }",
            "m.toml:4: doers[0].limits.sockets: unknown key",
        ),
        (
            "grants = { listen = [\"127.0.0.1:*\", \"x\"] }",
            "m.toml:4: doers[0].grants.listen[1]: \"x\" is not host:port, host:* or *:*",
        ),
        (
            "grants = { connect = [\"example.com\"] }",
            "m.toml:4: doers[0].grants.connect[0]: \"example.com\" is not host:port, host:* or *:*",
        ),
        (
            "grants = { connect = \"example.com:443\" }",
            "m.toml:4: doers[0].grants.connect: expected a list of addresses, got string",
        ),
        (
            "grants = { listen = [443] }",
            "m.toml:4: doers[0].grants.listen[0]: expected a string, got integer",
        ),
        (
            "grants = { spawn = [\"child.wasm\", \"gone.wasm\"] }",
            "m.toml:4: doers[0].grants.spawn[1]: no such file: ",
        ),
        (
            "grants = { tls = { roots = [\"missing.pem\"] } }",
            "m.toml:4: doers[0].grants.tls.roots[0]: no such file: ",
        ),
        (
            "grants = { tls = { cert = \"missing.pem\", key = \"key.pem\" } }",
            "m.toml:4: doers[0].grants.tls.cert: no such file: ",
        ),
        (
            "grants = { tls = { cert = \"cert.pem\" } }",
            "m.toml:4: doers[0].grants.tls: missing key `key`",
        ),
        (
            "grants = { tls = { key = \"key.pem\" } }",
            "m.toml:4: doers[0].grants.tls: missing key `cert`",
        ),
        (
            "grants = { tls = { webpki_roots = \"yes\" } }",
            "m.toml:4: doers[0].grants.tls.webpki_roots: expected true or false, got string",
        ),
        (
            "grants = { tls = { ca = \"ca.pem\" } }",
            "m.toml:4: doers[0].grants.tls.ca: unknown key",
        ),
        (
            "grants = { tls = { server_names = [\"\"] } }",
            "m.toml:4: doers[0].grants.tls.server_names[0]: a server name is not empty",
        ),
        (
            "grants = { sockets = [] }",
            "m.toml:4: doers[0].grants.sockets: unknown key",
        ),
    ];
    for (line, want) in cases {
        let text = format!("{leaf}{line}\n");
        let err = parse(dir.path(), &text).expect_err(line);
        assert!(err.contains(want), "{line}: want {want:?} in {err}");
        assert!(err.starts_with(&dir.path().display().to_string()), "{err}");
    }
    // The missing file is named, resolved against the manifest's folder.
    let err = parse(
        dir.path(),
        &format!("{leaf}grants = {{ spawn = [\"gone.wasm\"] }}\n"),
    )
    .expect_err("missing");
    assert!(
        err.ends_with(&format!(
            "no such file: {}",
            dir.path().join("gone.wasm").display()
        )),
        "{err}"
    );
}

#[test]
fn network_grants_on_a_dodoer_are_an_error() {
    let dir = folder();
    for key in [
        "listen = [\"127.0.0.1:*\"]",
        "connect = [\"*:*\"]",
        "spawn = [\"child.wasm\"]",
        "tls = { webpki_roots = true }",
    ] {
        let text = format!(
            "[[doers]]\nname = \"g\"\ngrants = {{ {key} }}\ndoers = [ {{ name = \"a\", plugin = \"p.wasm\" }} ]\n"
        );
        let err = parse(dir.path(), &text).expect_err(key);
        let name = key.split(' ').next().unwrap_or_default();
        assert!(
            err.contains(&format!(
                "m.toml:3: doers[0].grants.{name}: applies to plugin doers only"
            )),
            "{key}: {err}"
        );
    }
    // Deck grants stay allowed on a DoDoer.
    let text = "[[decks]]\nname = \"q\"\n[[doers]]\nname = \"g\"\ngrants = { push = [\"q\"] }\ndoers = []\n";
    parse(dir.path(), text).expect("deck grants on a DoDoer");
}

fn options_of(m: &Manifest, name: &str) -> Vec<(String, Value)> {
    m.leaves()
        .into_iter()
        .find(|l| l.name == name)
        .expect("leaf")
        .options
        .clone()
}

fn int(i: i64) -> Value {
    Value::Scalar(Scalar::Integer(i))
}

fn text(s: &str) -> Value {
    Value::Scalar(Scalar::Text(s.to_owned()))
}

#[test]
fn set_option_replaces_or_appends_converting_like_the_manifest() {
    let dir = folder();
    let mut m = parse(
        dir.path(),
        r#"
[[doers]]
name = "echo"
plugin = "p.wasm"
options = { addr = "127.0.0.1:0", stop = 3, tls = false }
[[doers]]
name = "group"
doers = [ { name = "w.1", plugin = "p.wasm" } ]
"#,
    )
    .expect("parses");
    m.set_option("echo", "stop", "5").expect("replace");
    m.set_option("echo", "addr", "127.0.0.1:9000")
        .expect("not TOML: a string");
    m.set_option("echo", "list", "[1, 2]").expect("append");
    m.set_option("echo", "quoted", "\"x y\"").expect("a string");
    m.set_option("echo", "empty", "").expect("the empty string");
    m.set_option("group/w.1", "on", "true").expect("nested");
    assert_eq!(
        options_of(&m, "echo"),
        vec![
            ("addr".to_owned(), text("127.0.0.1:9000")),
            ("stop".to_owned(), int(5)),
            ("tls".to_owned(), Value::Scalar(Scalar::Boolean(false))),
            (
                "list".to_owned(),
                Value::List(vec![Scalar::Integer(1), Scalar::Integer(2)])
            ),
            ("quoted".to_owned(), text("x y")),
            ("empty".to_owned(), text("")),
        ]
    );
    assert_eq!(
        options_of(&m, "w.1"),
        vec![("on".to_owned(), Value::Scalar(Scalar::Boolean(true)))]
    );
    let bad: &[(&str, &str, &str, &str)] = &[
        ("nope", "k", "1", "no doer named \"nope\" at the top level"),
        ("group/x", "k", "1", "no doer named \"x\" in group"),
        ("group", "k", "1", "group is a DoDoer, not a plugin doer"),
        ("echo/x", "k", "1", "echo is a plugin doer, not a DoDoer"),
        ("", "k", "1", "no doer named \"\" at the top level"),
        ("echo", "", "1", "the option name is empty"),
        ("echo", "k", "{ a = 1 }", "not table"),
        (
            "echo",
            "k",
            "[[1], 2]",
            "item 0: an option is a boolean, integer, float, string or a list of those, not array",
        ),
        ("echo", "k", "nan", "must be a finite number"),
    ];
    for (path, key, value, want) in bad {
        let err = m.set_option(path, key, value).expect_err(want);
        assert!(
            err.contains(want),
            "{path}.{key}={value}: want {want:?} in {err}"
        );
    }
    let untouched: PathBuf = m.leaves()[0].plugin.clone();
    assert_eq!(untouched, dir.path().join("p.wasm"));
}
