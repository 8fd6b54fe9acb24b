//! Runs recorded on real sockets through the library and replayed with none.
//!
//! A TLS session between two doers, recorded on real sockets through the
//! library and replayed with none: the wire log holds the plaintext the
//! doers saw, so the replay needs no TLS session and no certificate.

use hio::io::SimConfig;
use hio::io::wire::Log;
use hio::manifest::{BuildSettings, Manifest, build_with};
use hio::plugin::{Digests, EngineLimits, PluginHost, Tape};
use hio::recording::{Settings, TapeSink, header, recorded_manifest};
use hio::trace::TraceBuffer;

use crate::tls::{certificates, client, server};
use crate::util::prepare;

fn host(m: &Manifest, replay: bool) -> PluginHost {
    let limits = EngineLimits {
        replay,
        ..m.engine_for_run()
    };
    PluginHost::new(limits, None).expect("plugin host")
}

/// Runs manifest `path` in real mode, recording its wire log into `wire`;
/// returns the tape's digests and the trace.
fn record(path: &std::path::Path, wire: &std::path::Path) -> (Digests, String) {
    let m = Manifest::load(path).expect("manifest");
    let tape = Tape::record(std::fs::File::create(wire).expect("log")).expect("tape");
    let build_settings = BuildSettings {
        tape: Some(tape.clone()),
        ..BuildSettings::default()
    };
    let built = build_with(&m, &host(&m, false), &build_settings).expect("build");
    let settings = Settings::of(&m, &[]);
    let trace = TraceBuffer::new();
    tape.begin(header(&m, &settings, &built.plugins, std::time::Duration::ZERO).expect("header"))
        .expect("begin");
    let mut doist = built.doist.trace(TapeSink::new(
        Some(tape.clone()),
        Some(Box::new(trace.clone())),
    ));
    doist.run().expect("run");
    assert_eq!(tape.write_error(), None);
    (tape.digests(), trace.to_json_lines())
}

/// Replays the wire log `wire` with no socket and checks it reproduces
/// the recording: no divergence, the same digests and the same trace.
fn replays_as_recorded(wire: &std::path::Path, recorded: (Digests, String)) {
    let log = Log::parse(&std::fs::read(wire).expect("log"), false).expect("a whole log");
    let replay = Tape::replay(log.clone());
    let m = recorded_manifest(&log).expect("recorded manifest");
    let build_settings = BuildSettings {
        tape: Some(replay.clone()),
        sim: Some(SimConfig::default()),
        ..BuildSettings::default()
    };
    let built = build_with(&m, &host(&m, true), &build_settings).expect("build");
    let trace = TraceBuffer::new();
    let mut doist = built.doist.replay(Tape::ticks(&log)).trace(TapeSink::new(
        Some(replay.clone()),
        Some(Box::new(trace.clone())),
    ));
    doist.run().expect("replay");
    assert_eq!(replay.divergence(), None);
    assert_eq!(replay.digests(), recorded.0);
    assert_eq!(trace.to_json_lines(), recorded.1);
}

#[test]
fn a_tls_session_recorded_on_real_sockets_replays_from_its_plaintext() {
    let dir = prepare();
    certificates(dir.path());
    let head = "tock = 0.01\nreal = true\nwake = \"io\"\nlimit = 2.0\n";
    let text = format!("{head}{}{}", server(7741), client(7741, "ca.pem"));
    let path = dir.path().join("m.toml");
    std::fs::write(&path, text).expect("write");
    let wire = dir.path().join("tls.wire");

    let recorded = record(&path, &wire);
    assert_eq!(recorded.0.bytes, 2 * 300_000, "both ways, in plaintext");

    // Other keys and certificates in the same files: the replay makes no
    // handshake, so it does not matter which.
    certificates(dir.path());
    replays_as_recorded(&wire, recorded);
}

#[test]
fn a_spawn_at_the_children_limit_replays_as_recorded() {
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpStream};
    use std::time::Duration;

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let dir = prepare();
    let conn = crate::util::plugin("echo-conn");
    let text = crate::util::spawner(&conn, &conn, "children = 1")
        .replace("127.0.0.1:0", &format!("127.0.0.1:{port}"))
        .replace("wake = \"io\"", "wake = \"io\"\nlimit = 1.5");
    let path = dir.path().join("m.toml");
    std::fs::write(&path, text).expect("write");
    let wire = dir.path().join("spawn.wire");

    // Recording: a second client waits while the first holds the only
    // child, then is served once the first leaves.
    let clients = std::thread::spawn(move || {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let connect = || loop {
            if let Ok(s) = TcpStream::connect(addr) {
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                return s;
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let mut one = [0u8; 1];
        let mut a = connect();
        a.write_all(b"a").unwrap();
        a.read_exact(&mut one).unwrap();
        let mut b = connect();
        b.write_all(b"b").unwrap();
        std::thread::sleep(Duration::from_millis(200));
        a.shutdown(Shutdown::Write).unwrap();
        let _ = a.read_to_end(&mut Vec::new());
        b.read_exact(&mut one).unwrap();
        one
    });
    let recorded = record(&path, &wire);
    assert_eq!(&clients.join().expect("clients"), b"b");
    replays_as_recorded(&wire, recorded);
}
