//! A TLS session between two doers, recorded on real sockets through the
//! library and replayed with none: the wire log holds the plaintext the
//! doers saw, so the replay needs no TLS session and no certificate.

use hio::io::Sim;
use hio::io::wire::Log;
use hio::manifest::{Manifest, Options, build_with};
use hio::plugin::{EngineLimits, PluginHost, Tape};
use hio::trace::TraceBuffer;
use hio::wire::{Settings, TapeSink, header, recorded_manifest};

use crate::tls::{certificates, client, server};
use crate::util::prepare;

fn host(m: &Manifest, replay: bool) -> PluginHost {
    let limits = EngineLimits {
        replay,
        ..m.engine_for_run()
    };
    PluginHost::new(limits, None).expect("plugin host")
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

    // Recording.
    let m = Manifest::load(&path).expect("manifest");
    let tape = Tape::record(std::fs::File::create(&wire).expect("log")).expect("tape");
    let options = Options {
        tape: Some(tape.clone()),
        ..Options::default()
    };
    let built = build_with(&m, &host(&m, false), &options).expect("build");
    let settings = Settings::of(&m, &[]);
    let recorded_trace = TraceBuffer::new();
    tape.begin(header(&m, &settings, &built.plugins, std::time::Duration::ZERO).expect("header"))
        .expect("begin");
    let mut doist = built.doist.trace(TapeSink::new(
        Some(tape.clone()),
        Some(Box::new(recorded_trace.clone())),
    ));
    doist.run().expect("run");
    assert_eq!(tape.write_error(), None);
    let recorded = tape.digests();
    assert_eq!(recorded.bytes, 2 * 300_000, "both ways, in plaintext");

    // Other keys and certificates in the same files: the replay makes no
    // handshake, so it does not matter which.
    certificates(dir.path());
    let log = Log::parse(&std::fs::read(&wire).expect("log"), false).expect("a whole log");
    let replay = Tape::replay(log.clone());
    let m = recorded_manifest(&log).expect("recorded manifest");
    let options = Options {
        tape: Some(replay.clone()),
        sim: Some(Sim::default()),
        ..Options::default()
    };
    let built = build_with(&m, &host(&m, true), &options).expect("build");
    let replayed_trace = TraceBuffer::new();
    let mut doist = built.doist.replay(Tape::ticks(&log)).trace(TapeSink::new(
        Some(replay.clone()),
        Some(Box::new(replayed_trace.clone())),
    ));
    doist.run().expect("replay");
    assert_eq!(replay.divergence(), None);
    assert_eq!(replay.digests(), recorded);
    assert_eq!(
        replayed_trace.to_json_lines(),
        recorded_trace.to_json_lines()
    );
}
