//! The tape on its own: a run of calls recorded to a log and fed back
//! from it (the same results, no call run), and a replay that asks for
//! something else reported as the divergence the replay path reports.

use std::fs::File;

use hio_io::wire::{Header, Log, Op, VERSION};
use hio_scheduler::Tick;

use super::{Divergence, Tape};

const AT: Tick = Tick {
    tyme: 1.5,
    early: false,
};

/// What a call run on the network returned, recording; a replay that
/// runs a call gets the other value.
const RECORDED: &[u8] = b"from the network";
const LIVE: &[u8] = b"run again";

/// A call as one tick makes it: by `doer`, `op` with the checksum `args`.
#[derive(Clone, Copy)]
struct Call {
    doer: &'static str,
    op: Op,
    args: u32,
}

const RUN: [Call; 3] = [
    Call {
        doer: "a",
        op: Op::Read,
        args: 11,
    },
    Call {
        doer: "a",
        op: Op::Available,
        args: 12,
    },
    Call {
        doer: "b",
        op: Op::Read,
        args: 13,
    },
];

/// One tick of `calls` on `tape`, each returning `result` when it runs,
/// then the run's end; what each call returned.
fn play(tape: &Tape, calls: &[Call], result: &[u8]) -> Vec<Vec<u8>> {
    tape.tick(AT);
    let got = calls
        .iter()
        .map(|c| tape.call(c.doer, c.op, c.args, || result.to_vec()))
        .collect();
    tape.wrote(b"written");
    tape.trace_line("1.5 a recur");
    tape.mark();
    tape.end(AT);
    got
}

/// The log of `calls`, recorded.
fn recording(name: &str, calls: &[Call]) -> Log {
    let file =
        std::env::temp_dir().join(format!("hio-wasm-tape-{}-{name}.wire", std::process::id()));
    let tape = Tape::record(File::create(&file).unwrap()).unwrap();
    tape.begin(Header {
        version: VERSION,
        seed: 7,
        wall_start: 0,
        settings: String::new(),
        path: "run.toml".into(),
        manifest: String::new(),
        plugins: Vec::new(),
    })
    .unwrap();
    let got = play(&tape, calls, RECORDED);
    assert!(got.iter().all(|r| r == RECORDED));
    assert_eq!(tape.write_error(), None);
    let bytes = std::fs::read(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    let log = Log::parse(&bytes, false).unwrap();
    assert_eq!(Tape::ticks(&log), vec![AT, AT]);
    log
}

#[test]
fn a_replay_gives_back_what_the_recording_got_and_runs_nothing() {
    let log = recording("same", &RUN);
    let recorded = Tape::digests_only();
    play(&recorded, &RUN, RECORDED);
    let tape = Tape::replay(log);
    assert!(tape.replaying());
    let got = play(&tape, &RUN, LIVE);
    assert!(got.iter().all(|r| r == RECORDED), "{got:?}");
    assert_eq!(tape.divergence(), None);
    assert!(tape.exhausted());
    assert_eq!(tape.digests(), recorded.digests());
    assert_eq!(tape.digests().calls, 3);
}

#[test]
fn a_call_with_other_arguments_diverges_there_and_runs() {
    let tape = Tape::replay(recording("args", &RUN));
    let mut calls = RUN;
    calls[1].args = 99;
    let got = play(&tape, &calls, LIVE);
    assert_eq!(got, vec![RECORDED.to_vec(), LIVE.to_vec(), LIVE.to_vec()]);
    // Records: 1 tick, 2 doer a, 3 read, 4 available.
    let d = tape.divergence().unwrap();
    assert_eq!(
        d,
        Divergence {
            tick: 1,
            tyme: 1.5,
            doer: "a".into(),
            record: 4,
            what: "available with other arguments than recorded".into(),
        }
    );
    assert_eq!(
        d.to_string(),
        "tick 1 (tyme 1.5), record 4, doer a: available with other arguments than recorded"
    );
}

#[test]
fn another_call_or_caller_is_named_as_the_recording_has_it() {
    let mut calls = RUN;
    calls[0].op = Op::State;
    let tape = Tape::replay(recording("op", &RUN));
    play(&tape, &calls, LIVE);
    let d = tape.divergence().unwrap();
    assert_eq!((d.record, d.doer.as_str()), (3, "a"));
    assert_eq!(d.what, "state, where the recording has read");

    let mut calls = RUN;
    calls[2].doer = "c";
    let tape = Tape::replay(recording("doer", &RUN));
    play(&tape, &calls, LIVE);
    let d = tape.divergence().unwrap();
    assert_eq!((d.record, d.doer.as_str()), (5, "c"));
    assert_eq!(d.what, "read by c, where the recording has a call by b");
}

#[test]
fn a_call_past_the_recording_or_a_changed_trace_diverges() {
    let tape = Tape::replay(recording("short", &RUN[..1]));
    play(&tape, &RUN, LIVE);
    let d = tape.divergence().unwrap();
    assert_eq!(d.record, 4);
    assert_eq!(d.what, "available: the recording's tick ends here");

    let tape = Tape::replay(recording("trace", &RUN));
    tape.tick(AT);
    for c in RUN {
        tape.call(c.doer, c.op, c.args, || LIVE.to_vec());
    }
    tape.wrote(b"written");
    tape.trace_line("1.5 a fails");
    tape.mark();
    let d = tape.divergence().unwrap();
    assert_eq!((d.tick, d.record, d.doer.as_str()), (1, 7, ""));
    assert_eq!(d.what, "the lifecycle trace of this tick differs");
}
