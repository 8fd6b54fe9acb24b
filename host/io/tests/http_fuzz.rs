//! Fuzzing the HTTP/1.1 codec with proptest: arbitrary bytes, and requests
//! generated from a grammar (`http_fuzz/grammar.rs`: pipelined, chunked
//! with random chunk sizes, extensions and trailers), as they are and
//! mutated, fed to `RequestDecoder`, `ChunkedDecoder` and `ResponseDecoder`
//! split at arbitrary points. The decoders must never panic, never loop
//! (each call takes bytes or yields an event, and the calls are counted),
//! never yield more body bytes than were sent, and give the same events
//! however the input is split; valid input must decode exactly, encoded
//! requests must round-trip, and a truncated response must never end.
//! Each target runs `PROPTEST_CASES` cases (default 256, a few seconds in
//! all); a failing case is kept in `http_fuzz.proptest-regressions` next to
//! this file and replayed first from then on.

#[path = "http_fuzz/grammar.rs"]
mod grammar;

use grammar::{Body, EXTS, Req, TRAILERS, chunk, describe, mutate, mutation, request};
use hio_io::http::{
    BodyKind, ChunkedDecoder, ChunkedEvent, Field, HttpError, HttpLimits, RequestDecoder,
    RequestEncoder, RequestEvent, ResponseDecoder, ResponseEvent,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// Limits small enough for generated input to reach them.
const TIGHT: HttpLimits = HttpLimits {
    request_line: 40,
    header_bytes: 160,
    headers: 4,
    body: 96,
};

/// The pieces `input` is cut into at `cuts`.
fn pieces<'a>(input: &'a [u8], cuts: &[Index]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
    at.sort_unstable();
    at.push(input.len());
    let mut from = 0;
    at.into_iter()
        .map(|to| {
            let piece = &input[from..to];
            from = to;
            piece
        })
        .collect()
}

/// What a decoder made of an input: its events (body pieces joined) and the
/// error it ended with.
type Outcome<E> = (Vec<E>, Option<HttpError>);

/// Feeds `pieces` one after the other to `decode` as a connection would,
/// checking the decoder's promises on every call. `body` tells a body
/// piece's bytes and `join` appends one to the last event.
fn drive<E>(
    pieces: &[&[u8]],
    mut decode: impl FnMut(&[u8]) -> Result<(usize, Option<E>), HttpError>,
    body: impl Fn(&E) -> Option<usize>,
    join: impl Fn(&mut E, &E) -> bool,
) -> Outcome<E> {
    let total: usize = pieces.iter().map(|p| p.len()).sum();
    let (mut events, mut pending, mut calls, mut body_bytes) = (Vec::new(), Vec::new(), 0, 0);
    for piece in pieces {
        pending.extend_from_slice(piece);
        loop {
            calls += 1;
            // Each call takes a byte, yields a bodiless request's End, or
            // asks for more (once per piece).
            assert!(calls <= 2 * total + pieces.len() + 1, "the decoder loops");
            let (n, event) = match decode(&pending) {
                Ok(r) => r,
                Err(e) => return (events, Some(e)),
            };
            assert!(n <= pending.len());
            pending.drain(..n);
            let Some(event) = event else {
                assert!(pending.is_empty(), "no event, yet bytes were left");
                break;
            };
            if let Some(len) = body(&event) {
                assert!(
                    len > 0 && n >= len,
                    "a body piece comes from the bytes taken"
                );
                body_bytes += len;
                assert!(body_bytes <= total, "more body bytes than were sent");
            }
            if !events.last_mut().is_some_and(|last| join(last, &event)) {
                events.push(event);
            }
        }
    }
    (events, None)
}

fn requests(limits: HttpLimits, pieces: &[&[u8]]) -> Outcome<RequestEvent> {
    let mut d = RequestDecoder::new(limits);
    let outcome = drive(
        pieces,
        |i| d.decode(i),
        |e| match e {
            RequestEvent::Body(b) => Some(b.len()),
            _ => None,
        },
        |last, e| match (last, e) {
            (RequestEvent::Body(a), RequestEvent::Body(b)) => {
                a.extend_from_slice(b);
                true
            }
            _ => false,
        },
    );
    // After an error, the decoder keeps failing the same way.
    if let Some(e) = &outcome.1 {
        assert_eq!(
            d.decode(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n").as_ref(),
            Err(e)
        );
    }
    outcome
}

fn chunks(limits: HttpLimits, pieces: &[&[u8]]) -> Outcome<ChunkedEvent> {
    let mut d = ChunkedDecoder::new(limits);
    drive(
        pieces,
        // Once the body has ended the decoder takes nothing more: the rest
        // is not its (the caller's next message), so drop it here.
        |i| match d.decode(i) {
            Ok((n, None)) if d.is_done() => Ok((n.max(i.len()), None)),
            other => other,
        },
        |e| match e {
            ChunkedEvent::Data(b) => Some(b.len()),
            _ => None,
        },
        |last, e| match (last, e) {
            (ChunkedEvent::Data(a), ChunkedEvent::Data(b)) => {
                a.extend_from_slice(b);
                true
            }
            _ => false,
        },
    )
}

/// A response decoder's events, and what `eof` says at the end.
fn responses(limits: HttpLimits, pieces: &[&[u8]]) -> Outcome<ResponseEvent> {
    let mut d = ResponseDecoder::new(limits, false);
    let (mut events, error) = drive(
        pieces,
        |i| match d.decode(i) {
            Ok((n, None)) if d.is_complete() => Ok((n.max(i.len()), None)),
            other => other,
        },
        |e| match e {
            ResponseEvent::Body(b) => Some(b.len()),
            _ => None,
        },
        |last, e| match (last, e) {
            (ResponseEvent::Body(a), ResponseEvent::Body(b)) => {
                a.extend_from_slice(b);
                true
            }
            _ => false,
        },
    );
    if error.is_some() {
        return (events, error);
    }
    match d.eof() {
        Ok(Some(e)) => events.push(e),
        Ok(None) => assert!(d.is_complete()),
        Err(e) => return (events, Some(e)),
    }
    (events, None)
}

/// Decodes `input` at once, byte by byte and cut at `cuts`: all the same.
fn same_however_split<E: PartialEq + std::fmt::Debug>(
    input: &[u8],
    cuts: &[Index],
    run: impl Fn(&[&[u8]]) -> Outcome<E>,
) -> Outcome<E> {
    let at_once = run(&[input]);
    let by_byte: Vec<&[u8]> = input.chunks(1).collect();
    assert_eq!(run(&by_byte), at_once, "byte by byte");
    assert_eq!(run(&pieces(input, cuts)), at_once, "cut at {cuts:?}");
    at_once
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_are_contained(
        input in vec(any::<u8>(), 0..600),
        cuts in vec(any::<Index>(), 0..8),
        tight in any::<bool>(),
    ) {
        let limits = if tight { TIGHT } else { HttpLimits::default() };
        same_however_split(&input, &cuts, |p| requests(limits, p));
        same_however_split(&input, &cuts, |p| chunks(limits, p));
        same_however_split(&input, &cuts, |p| responses(limits, p));
        let status = [&b"HTTP/1.1 200 OK\r\n"[..], &input].concat();
        same_however_split(&status, &cuts, |p| responses(limits, p));
        // With a request prefix, the bytes reach the body decoders too.
        let chunked = [&b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"[..], &input].concat();
        same_however_split(&chunked, &cuts, |p| requests(limits, p));
    }

    #[test]
    fn valid_requests_decode_exactly(
        reqs in vec(request(), 1..4),
        cuts in vec(any::<Index>(), 0..8),
    ) {
        let input: Vec<u8> = reqs.iter().flat_map(Req::bytes).collect();
        let (events, error) = same_however_split(&input, &cuts, |p| requests(HttpLimits::default(), p));
        prop_assert_eq!(error, None);
        let expected: Vec<String> = reqs.iter().flat_map(Req::expected).collect();
        prop_assert_eq!(describe(&events), expected);
    }

    #[test]
    fn mutated_requests_are_contained(
        reqs in vec(request(), 1..4),
        mutations in vec(mutation(), 1..4),
        cuts in vec(any::<Index>(), 0..8),
        tight in any::<bool>(),
    ) {
        let input = mutate(reqs.iter().flat_map(Req::bytes).collect(), &mutations);
        let limits = if tight { TIGHT } else { HttpLimits::default() };
        same_however_split(&input, &cuts, |p| requests(limits, p));
    }

    #[test]
    fn chunked_bodies_decode_exactly(
        body in vec(chunk(), 0..6),
        last in select(EXTS),
        trailers in vec(select(TRAILERS), 0..3),
        cuts in vec(any::<Index>(), 0..8),
        mutations in vec(mutation(), 0..2),
    ) {
        let req = Req {
            method: "POST", target: "/", http10: false, lf_only: false, fields: vec![],
            body: Body::Chunked(body.clone(), last, trailers.clone()),
        };
        let encoded = &req.body_bytes()[..];
        let (events, error) = same_however_split(encoded, &cuts, |p| chunks(HttpLimits::default(), p));
        prop_assert_eq!(error, None);
        let data: Vec<u8> = body.iter().flat_map(|c| c.data.clone()).collect();
        let mut expected = Vec::new();
        if !data.is_empty() {
            expected.push(ChunkedEvent::Data(data));
        }
        let kept: Vec<Field> = trailers
            .iter()
            .filter(|(n, _)| !matches!(*n, "Content-Length" | "Host"))
            .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
            .collect();
        expected.push(ChunkedEvent::End { trailers: kept });
        prop_assert_eq!(events, expected);
        let mutated = mutate(encoded.to_vec(), &mutations);
        same_however_split(&mutated, &cuts, |p| chunks(TIGHT, p));
    }

    #[test]
    fn encoded_requests_round_trip(
        pieces in vec(vec(any::<u8>(), 0..50), 0..5),
        chunked in any::<bool>(),
        cuts in vec(any::<Index>(), 0..8),
    ) {
        let len: usize = pieces.iter().map(Vec::len).sum();
        let framing = if chunked { BodyKind::Chunked } else { BodyKind::Length(len as u64) };
        let (mut wire, mut e) = RequestEncoder::head("POST", "/", "h", &[], framing, true)
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        for p in &pieces {
            wire.extend(e.body(p).map_err(|e| TestCaseError::fail(e.to_string()))?);
        }
        wire.extend(e.finish(&[]).map_err(|e| TestCaseError::fail(e.to_string()))?);
        let (events, error) = same_however_split(&wire, &cuts, |p| requests(HttpLimits::default(), p));
        prop_assert_eq!(error, None);
        let data: Vec<u8> = pieces.concat();
        let got: Vec<u8> = events
            .iter()
            .filter_map(|e| match e { RequestEvent::Body(b) => Some(b.clone()), _ => None })
            .flatten()
            .collect();
        prop_assert_eq!(got, data);
        let ended = matches!(events.last(), Some(RequestEvent::End { .. }));
        prop_assert!(ended, "the request ends");
    }

    #[test]
    fn truncated_responses_never_look_complete(
        data in vec(any::<u8>(), 1..100),
        chunked in any::<bool>(),
        cut in any::<Index>(),
    ) {
        let head = if chunked {
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_owned()
        } else {
            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", data.len())
        };
        let mut wire = head.into_bytes();
        if chunked {
            wire.extend(format!("{:x}\r\n", data.len()).bytes());
            wire.extend_from_slice(&data);
            wire.extend_from_slice(b"\r\n0\r\n\r\n");
        } else {
            wire.extend_from_slice(&data);
        }
        let short = &wire[..cut.index(wire.len())];
        let mut d = ResponseDecoder::new(HttpLimits::default(), false);
        let mut rest = short;
        let mut ended = false;
        while let Ok((n, Some(event))) = d.decode(rest) {
            rest = &rest[n..];
            ended |= matches!(event, ResponseEvent::End { .. });
        }
        prop_assert!(!ended);
        prop_assert!(d.eof().is_err());
        prop_assert!(!d.is_complete());
    }
}
