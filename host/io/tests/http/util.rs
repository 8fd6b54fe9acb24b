//! Helpers of the HTTP codec tests: drive a decoder the way a connection
//! would, describe its events as text, build inputs.

use hio_io::http::{
    Field, Framing, HttpError, HttpLimits, RequestDecoder, RequestEvent, ResponseDecoder,
    ResponseEncoder, ResponseEvent,
};

pub const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

/// Feeds `input` in pieces ending at `cuts` the way a connection would
/// (bytes not consumed stay, new ones are appended) and describes what came
/// out: one line per event, body pieces joined, "error N" last on failure.
pub fn drive<E>(
    mut decode: impl FnMut(&[u8]) -> Result<(usize, Option<E>), HttpError>,
    describe: impl Fn(&E) -> String,
    input: &[u8],
    cuts: impl IntoIterator<Item = usize>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut pending = Vec::new();
    let mut from = 0;
    let mut calls = 0;
    for cut in cuts.into_iter().chain([input.len()]) {
        pending.extend_from_slice(&input[from..cut]);
        from = cut;
        loop {
            calls += 1;
            assert!(calls <= 2 * input.len() + 64, "too many calls");
            match decode(&pending) {
                Err(e) => {
                    out.push(format!("error {}", e.status));
                    return out;
                }
                Ok((n, event)) => {
                    assert!(n <= pending.len());
                    pending.drain(..n);
                    let Some(event) = event else {
                        assert!(pending.is_empty(), "no event, yet bytes were left");
                        break;
                    };
                    let line = describe(&event);
                    match (out.last_mut(), line.strip_prefix("body ")) {
                        (Some(last), Some(more)) if last.starts_with("body ") => {
                            last.push_str(more)
                        }
                        _ => out.push(line),
                    }
                }
            }
        }
    }
    out
}

/// Decodes `input` at once, byte by byte and in two pieces at every split
/// point; checks they agree and returns the events.
pub fn all_splits<E>(
    new: impl Fn() -> Box<dyn FnMut(&[u8]) -> Result<(usize, Option<E>), HttpError>>,
    describe: impl Fn(&E) -> String + Copy,
    input: &[u8],
) -> Vec<String> {
    let at_once = drive(new(), describe, input, []);
    let by_byte = drive(new(), describe, input, 1..input.len());
    assert_eq!(
        at_once,
        by_byte,
        "byte by byte, input {}",
        input.escape_ascii()
    );
    for cut in 1..input.len().min(600) {
        let two = drive(new(), describe, input, [cut]);
        assert_eq!(
            at_once,
            two,
            "split at {cut}, input {}",
            input.escape_ascii()
        );
    }
    at_once
}

pub fn fields_text(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|(n, v)| format!(" {n}: {}", v.escape_ascii()))
        .collect()
}

pub fn describe_request(e: &RequestEvent) -> String {
    match e {
        RequestEvent::Head(h) => format!(
            "{} {} 1.{} {:?}{}{}",
            h.method,
            h.target,
            h.version,
            h.body,
            if h.keep_alive { "" } else { " close" },
            if h.expect_continue { " continue" } else { "" },
        ),
        RequestEvent::Body(b) => format!("body {}", b.escape_ascii()),
        RequestEvent::End { trailers } => format!("end{}", fields_text(trailers)),
    }
}

pub fn describe_response(e: &ResponseEvent) -> String {
    match e {
        ResponseEvent::Informational(s) => format!("informational {s}"),
        ResponseEvent::Head(h) => format!(
            "{} {} 1.{} {:?}{}",
            h.status,
            h.reason,
            h.version,
            h.body,
            if h.keep_alive { "" } else { " close" },
        ),
        ResponseEvent::Body(b) => format!("body {}", b.escape_ascii()),
        ResponseEvent::End { trailers } => format!("end{}", fields_text(trailers)),
    }
}

pub fn requests(limits: HttpLimits, input: &[u8]) -> Vec<String> {
    all_splits(
        || {
            let mut d = RequestDecoder::new(limits);
            Box::new(move |i: &[u8]| d.decode(i))
        },
        describe_request,
        input,
    )
}

/// Responses to a HEAD request when `head`; `eof` after the input.
pub fn responses(head: bool, input: &[u8], eof: bool) -> Vec<String> {
    let mut d = ResponseDecoder::new(HttpLimits::default(), head);
    let mut out = drive(
        |i: &[u8]| d.decode(i),
        describe_response,
        input,
        1..input.len(),
    );
    if eof && !out.last().is_some_and(|l| l.starts_with("error")) {
        match d.eof() {
            Ok(Some(e)) => out.push(describe_response(&e)),
            Ok(None) => {}
            Err(e) => out.push(format!("error {}", e.status)),
        }
    }
    out
}

/// A POST with a chunked body `chunks` after the head fields `extra`.
pub fn chunked(extra: &str, chunks: &str) -> Vec<u8> {
    format!("POST / HTTP/1.1\r\nHost: a\r\n{extra}Transfer-Encoding: chunked\r\n\r\n{chunks}")
        .into_bytes()
}

pub fn post(fields: &str, body: &str) -> Vec<u8> {
    format!("POST / HTTP/1.1\r\nHost: a\r\n{fields}\r\n{body}").into_bytes()
}

/// Decodes all of `input` with a fresh request decoder, at once.
pub fn decode_requests(input: &[u8]) -> Vec<String> {
    let mut d = RequestDecoder::new(HttpLimits::default());
    drive(|i: &[u8]| d.decode(i), describe_request, input, [])
}

pub fn field(name: &str, value: &str) -> Field {
    (name.to_owned(), value.as_bytes().to_vec())
}

/// Encodes a response with `framing`, `pieces` of body and `trailers`.
pub fn encode_response(
    framing: Framing,
    head_request: bool,
    pieces: &[&[u8]],
    trailers: &[Field],
) -> Result<Vec<u8>, HttpError> {
    let headers = [field("X-A", "1")];
    let (mut wire, mut e) =
        ResponseEncoder::head(201, None, &headers, framing, DATE, true, head_request)?;
    for piece in pieces {
        wire.extend(e.body(piece)?);
    }
    wire.extend(e.finish(trailers)?);
    assert!(e.is_complete());
    Ok(wire)
}
