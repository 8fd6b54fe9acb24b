use super::*;
use crate::{ConnFailure, ConnId, ConnState, NetError, NetErrorKind};

fn header() -> Header {
    Header {
        version: VERSION,
        seed: 7,
        wall_start: 1_700_000_000_000_000_000,
        settings: "tock = 0.03125\n".into(),
        path: "/tmp/x/m.toml".into(),
        manifest: "[[doers]]\nname = \"a\"\n".into(),
        plugins: vec![PluginSum {
            path: "a.wasm".into(),
            sha256: [9; 32],
        }],
    }
}

fn sample() -> Vec<Record> {
    vec![
        Record::Header(header()),
        Record::Tick {
            tyme: 0.5,
            early: true,
        },
        Record::Doer {
            path: "top.server".into(),
        },
        Record::Call {
            op: 3,
            args: 0xdead_beef,
            result: encode(&b"hello".to_vec()),
        },
        Record::Interrupt {
            path: "top.server".into(),
            hook: "recur".into(),
            calls: 300,
        },
        Record::Crew {
            crew: 2,
            records: 1,
        },
        Record::Call {
            op: 1,
            args: 7,
            result: Vec::new(),
        },
        Record::Mark {
            trace: 1,
            written: 2,
        },
        Record::End {
            tyme: 1.0,
            early: false,
            trace: [1; 32],
            written: [2; 32],
            bytes: 5,
        },
    ]
}

fn bytes_of(records: &[Record]) -> Vec<u8> {
    let mut w = Writer::new(Vec::new()).unwrap();
    for r in records {
        w.write(r).unwrap();
    }
    w.out
}

#[test]
fn records_round_trip() {
    let records = sample();
    let log = Log::parse(&bytes_of(&records), false).unwrap();
    assert_eq!(log.header, header());
    let back: Vec<Record> = log.records.into_iter().map(|(_, r)| r).collect();
    assert_eq!(back, records[1..]);
    assert!(log.complete);
}

#[test]
fn values_round_trip() {
    let v: Result<(Option<ConnId>, ConnState), NetError> = Ok((
        Some(ConnId::from_raw(u64::MAX)),
        ConnState::Failed(ConnFailure::Recorded("x".into())),
    ));
    assert_eq!(
        decode::<Result<(Option<ConnId>, ConnState), NetError>>(&encode(&v)),
        Ok(v)
    );
    let fields: Vec<(String, Vec<u8>)> = vec![("a".into(), vec![0, 255]), ("b".into(), vec![])];
    assert_eq!(
        decode::<Vec<(String, Vec<u8>)>>(&encode(&fields)),
        Ok(fields)
    );
    let e: Result<u64, NetError> = Err(NetError::Recorded {
        kind: NetErrorKind::Limit,
        reason: "l".into(),
    });
    assert_eq!(decode::<Result<u64, NetError>>(&encode(&e)), Ok(e));
    assert!(decode::<u64>(&[0x80]).is_err(), "a cut varint");
    assert!(decode::<u64>(&[0xff; 11]).is_err(), "a varint over 64 bits");
    assert!(decode::<bool>(&[2]).is_err());
    assert!(decode::<u16>(&encode(&70_000u64)).is_err());
    assert!(decode::<()>(&[1]).is_err(), "bytes left over");
}

#[test]
fn every_damaged_byte_is_an_error_never_a_panic() {
    let good = bytes_of(&sample());
    for i in 0..good.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bad = good.clone();
            bad[i] ^= flip;
            // Most flips are caught; a flip may also leave a shorter but
            // valid-looking prefix, never a panic and never the same log.
            if let Ok(log) = Log::parse(&bad, false) {
                let back: Vec<Record> = log.records.into_iter().map(|(_, r)| r).collect();
                assert_ne!(back, sample()[1..], "flip at byte {i} went unnoticed");
            }
        }
    }
}

#[test]
fn a_damaged_record_is_named_by_number_and_offset() {
    let mut bad = bytes_of(&sample());
    let at = bad.len() - 10; // inside the end record's body
    bad[at] ^= 1;
    let err = Log::parse(&bad, false).unwrap_err();
    assert!(
        matches!(&err, LogError::Bad { index: 8, why, .. } if why.contains("checksum")),
        "{err}"
    );
}

#[test]
fn a_cut_log_is_truncated_unless_partial() {
    let good = bytes_of(&sample());
    for cut in MAGIC.len()..good.len() {
        match Log::parse(&good[..cut], false) {
            Err(LogError::Truncated(why)) => assert!(!why.is_empty()),
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    // Cut inside the end record: the complete ticks remain.
    let log = Log::parse(&good[..good.len() - 3], true).unwrap();
    assert!(!log.complete);
    assert!(matches!(log.records.last(), Some((_, Record::Mark { .. }))));
    assert_eq!(
        Log::parse(b"HIOWIRX\n", false).unwrap_err(),
        LogError::NotALog
    );
    assert!(matches!(
        Log::parse(&good[..MAGIC.len()], true),
        Err(LogError::Truncated(_))
    ));
}

#[test]
fn records_out_of_place_are_refused() {
    let mut records = sample();
    records.insert(2, Record::Header(header()));
    let err = Log::parse(&bytes_of(&records), false).unwrap_err();
    assert!(err.to_string().contains("a second header"), "{err}");
    let err = Log::parse(&bytes_of(&sample()[1..]), false).unwrap_err();
    assert!(err.to_string().contains("before the header"), "{err}");
    let mut records = sample();
    records.push(Record::Mark {
        trace: 0,
        written: 0,
    });
    let err = Log::parse(&bytes_of(&records), false).unwrap_err();
    assert!(err.to_string().contains("after the end"), "{err}");
}

#[test]
fn a_newer_version_is_named() {
    let mut h = header();
    h.version = VERSION + 1;
    let err = Log::parse(&bytes_of(&[Record::Header(h)]), false).unwrap_err();
    assert!(err.to_string().contains("format version 2"), "{err}");
}
