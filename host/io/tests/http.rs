//! The HTTP/1.1 codec (`hio_io::http`), table-driven: each case's input is
//! decoded at once, one byte at a time and in two pieces at every split
//! point, and all must give the same events (body pieces joined).

#[path = "http/util.rs"]
mod util;

use hio_io::http::{
    BodyKind, CONTINUE, Framing, HttpError, HttpLimits, RequestDecoder, RequestEncoder,
    RequestEvent, ResponseDecoder, ResponseEncoder,
};
use util::{
    DATE, chunked, decode_requests, describe_response, encode_response, field, post, requests,
    responses,
};

#[test]
fn request_table() {
    let tight = HttpLimits {
        request_line: 16,
        header_bytes: 64,
        headers: 2,
        body: 8,
    };
    let def = HttpLimits::default();
    let long_line = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(8 << 10));
    let long_field = format!(
        "GET / HTTP/1.1\r\nHost: a\r\nX: {}\r\n\r\n",
        "b".repeat(16 << 10)
    );
    let many = format!("GET / HTTP/1.1\r\nHost: a\r\n{}\r\n", "X: 1\r\n".repeat(64));
    let cases: Vec<(&str, HttpLimits, Vec<u8>, Vec<&str>)> = vec![
        ("get", def, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), vec!["GET / 1.1 Empty", "end"]),
        (
            "pipelined: chunked, then length, then get",
            def,
            [
                chunked("", "5\r\nhello\r\n0\r\n\r\n"),
                post("Content-Length: 3\r\n", "abc"),
                b"\r\nGET /g HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(),
            ]
            .concat(),
            vec![
                "POST / 1.1 Chunked", "body hello", "end", "POST / 1.1 Length(3)", "body abc",
                "end", "GET /g 1.1 Empty", "end",
            ],
        ),
        (
            "chunk extensions and trailers, framing trailers dropped",
            def,
            chunked(
                "",
                "3;name=val;q=\"a \\\" b\"\r\nabc\r\n1 ; x\r\nd\r\n0;last\r\nX-Sum: 99\r\nContent-Length: 4\r\nHost: evil\r\nx-b: 2\r\n\r\n",
            ),
            vec!["POST / 1.1 Chunked", "body abcd", "end X-Sum: 99 x-b: 2"],
        ),
        ("length 0", def, post("Content-Length: 0\r\n", ""), vec!["POST / 1.1 Length(0)", "end"]),
        (
            "100-continue",
            def,
            post("Expect: 100-Continue\r\nContent-Length: 1\r\n", "x"),
            vec!["POST / 1.1 Length(1) continue", "body x", "end"],
        ),
        (
            "100-continue is ignored in HTTP/1.0",
            def,
            b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nx".to_vec(),
            vec!["POST / 1.0 Length(1) close", "body x", "end"],
        ),
        ("1.1 keeps alive", def, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), vec!["GET / 1.1 Empty", "end"]),
        (
            "1.1 with close",
            def,
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Close\r\n\r\n".to_vec(),
            vec!["GET / 1.1 Empty close", "end"],
        ),
        ("1.0 closes", def, b"GET / HTTP/1.0\r\n\r\n".to_vec(), vec!["GET / 1.0 Empty close", "end"]),
        (
            "1.0 with keep-alive",
            def,
            b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n".to_vec(),
            vec!["GET / 1.0 Empty", "end"],
        ),
        ("bare LF lines", def, b"\nGET / HTTP/1.1\nHost: a\n\n".to_vec(), vec!["GET / 1.1 Empty", "end"]),
        // 414 and 431.
        ("request line too long", def, long_line.into_bytes(), vec!["error 414"]),
        ("request line too long (tight)", tight, b"GET /0123456789ab HTTP/1.1\r\n".to_vec(), vec!["error 414"]),
        ("head too large", def, long_field.into_bytes(), vec!["error 431"]),
        ("too many fields", def, many.into_bytes(), vec!["error 431"]),
        ("too many fields (tight)", tight, b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n".to_vec(), vec!["error 431"]),
        (
            "trailers too large",
            tight,
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: 01234567890123456789012345678901234567890123456789012345678901234\r\n\r\n".to_vec(),
            vec!["POST / 1.1 Chunked", "error 431"],
        ),
        // 400: syntax.
        ("double space", def, b"GET  / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), vec!["error 400"]),
        ("space in a field name", def, post("Bad Name: x\r\n", ""), vec!["error 400"]),
        ("space before the colon", def, post("X : x\r\n", ""), vec!["error 400"]),
        ("empty field name", def, post(": x\r\n", ""), vec!["error 400"]),
        ("obs-fold", def, post("X: a\r\n  b\r\n", ""), vec!["error 400"]),
        ("NUL in a value", def, post("X: a\0b\r\n", ""), vec!["error 400"]),
        ("CR in a value", def, post("X: a\rb\r\n", ""), vec!["error 400"]),
        ("stray CR before the request", def, b"\rGET / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(), vec!["error 400"]),
        ("no version", def, b"GET /\r\nHost: a\r\n\r\n".to_vec(), vec!["error 400"]),
        ("HTTP/1", def, b"GET / HTTP/1\r\nHost: a\r\n\r\n".to_vec(), vec!["error 400"]),
        ("HTTP/2.0", def, b"GET / HTTP/2.0\r\nHost: a\r\n\r\n".to_vec(), vec!["error 505"]),
        ("HTTP/1.2", def, b"GET / HTTP/1.2\r\nHost: a\r\n\r\n".to_vec(), vec!["error 505"]),
        ("no Host in 1.1", def, b"GET / HTTP/1.1\r\n\r\n".to_vec(), vec!["error 400"]),
        ("two Hosts", def, post("Host: b\r\n", ""), vec!["error 400"]),
        // 400: framing.
        ("length and chunked", def, chunked("Content-Length: 5\r\n", "5\r\nhello\r\n0\r\n\r\n"), vec!["error 400"]),
        ("two equal lengths", def, post("Content-Length: 3\r\nContent-Length: 3\r\n", "abc"), vec!["error 400"]),
        ("a list of lengths", def, post("Content-Length: 3, 3\r\n", "abc"), vec!["error 400"]),
        ("length with a sign", def, post("Content-Length: +3\r\n", "abc"), vec!["error 400"]),
        ("negative length", def, post("Content-Length: -1\r\n", ""), vec!["error 400"]),
        ("hex length", def, post("Content-Length: 0x3\r\n", "abc"), vec!["error 400"]),
        ("length overflow", def, post("Content-Length: 18446744073709551616\r\n", ""), vec!["error 400"]),
        ("gzip, chunked", def, post("Transfer-Encoding: gzip, chunked\r\n", ""), vec!["error 501"]),
        ("chunked, gzip", def, post("Transfer-Encoding: chunked, gzip\r\n", ""), vec!["error 400"]),
        ("gzip alone", def, post("Transfer-Encoding: gzip\r\n", ""), vec!["error 400"]),
        ("chunked twice", def, post("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n", ""), vec!["error 400"]),
        ("chunked, chunked", def, post("Transfer-Encoding: chunked, chunked\r\n", ""), vec!["error 400"]),
        (
            "chunked in 1.0",
            def,
            b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n".to_vec(),
            vec!["error 400"],
        ),
        ("non-hex chunk size", def, chunked("", "zz\r\n"), vec!["POST / 1.1 Chunked", "error 400"]),
        ("17 hex digits", def, chunked("", "00000000000000001\r\na\r\n"), vec!["POST / 1.1 Chunked", "error 400"]),
        ("size line without CR", def, chunked("", "5\nhello\r\n"), vec!["POST / 1.1 Chunked", "error 400"]),
        ("bad extension", def, chunked("", "5;a=\"\r\nhello\r\n"), vec!["POST / 1.1 Chunked", "error 400"]),
        ("extension with a space", def, chunked("", "5;a b\r\nhello\r\n"), vec!["POST / 1.1 Chunked", "error 400"]),
        (
            "data without CRLF",
            def,
            chunked("", "5\r\nhelloX\r\n0\r\n\r\n"),
            vec!["POST / 1.1 Chunked", "body hello", "error 400"],
        ),
        // 413.
        ("length over the limit", def, post("Content-Length: 1048577\r\n", ""), vec!["error 413"]),
        ("length over the limit (tight)", tight, post("Content-Length: 9\r\n", ""), vec!["error 413"]),
        (
            "chunks over the limit",
            tight,
            chunked("", "5\r\nhello\r\n4\r\nabcd\r\n0\r\n\r\n"),
            vec!["POST / 1.1 Chunked", "body hello", "error 413"],
        ),
        ("chunk size overflow", def, chunked("", "ffffffffffffffff\r\n"), vec!["POST / 1.1 Chunked", "error 413"]),
    ];
    for (name, limits, input, expected) in cases {
        assert_eq!(requests(limits, &input), expected, "case {name:?}");
    }
}

/// A response case: its name, whether it answers HEAD, its input, whether
/// the peer closes after it, and the events.
type ResponseCase = (&'static str, bool, &'static [u8], bool, Vec<&'static str>);

#[test]
fn response_table() {
    let cases: Vec<ResponseCase> = vec![
        (
            "length",
            false,
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
            false,
            vec!["200 OK 1.1 Length(2)", "body hi", "end"],
        ),
        (
            "HEAD has no body",
            true,
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
            false,
            vec!["200 OK 1.1 Empty", "end"],
        ),
        (
            "204",
            false,
            b"HTTP/1.1 204 No Content\r\n\r\n",
            false,
            vec!["204 No Content 1.1 Empty", "end"],
        ),
        (
            "304",
            false,
            b"HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n",
            false,
            vec!["304 Not Modified 1.1 Empty", "end"],
        ),
        (
            "100 then 200",
            false,
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
            false,
            vec!["informational 100", "200 OK 1.1 Length(0)", "end"],
        ),
        (
            "until close",
            false,
            b"HTTP/1.1 200 OK\r\n\r\nabc",
            true,
            vec!["200 OK 1.1 Close close", "body abc", "end"],
        ),
        (
            "until close, not yet",
            false,
            b"HTTP/1.1 200 OK\r\n\r\nabc",
            false,
            vec!["200 OK 1.1 Close close", "body abc"],
        ),
        (
            "gzip: until close",
            false,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nz",
            true,
            vec!["200 OK 1.1 Close close", "body z", "end"],
        ),
        (
            "truncated",
            false,
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc",
            true,
            vec!["200 OK 1.1 Length(5)", "body abc", "error 502"],
        ),
        (
            "truncated chunked",
            false,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
            true,
            vec!["200 OK 1.1 Chunked", "body abc", "error 502"],
        ),
        (
            "chunked with trailers",
            false,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n",
            true,
            vec!["200 OK 1.1 Chunked", "body abc", "end X-T: 1"],
        ),
        (
            "1.0 keep-alive",
            false,
            b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
            false,
            vec!["200 OK 1.0 Length(0)", "end"],
        ),
        (
            "1.0",
            false,
            b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n",
            false,
            vec!["200 OK 1.0 Length(0) close", "end"],
        ),
        (
            "both framings",
            false,
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            false,
            vec!["error 502"],
        ),
        ("nothing", false, b"", true, vec!["error 502"]),
        (
            "bad status",
            false,
            b"HTTP/1.1 2000 OK\r\n\r\n",
            false,
            vec!["error 502"],
        ),
    ];
    for (name, head, input, eof, expected) in cases {
        assert_eq!(responses(head, input, eof), expected, "case {name:?}");
    }
}

#[test]
fn bodiless_request_ends_without_consuming() {
    let mut d = RequestDecoder::new(HttpLimits::default());
    let input = b"GET / HTTP/1.1\r\nHost: a\r\n\r\nGET";
    assert!(d.is_idle());
    assert!(matches!(
        d.decode(input),
        Ok((27, Some(RequestEvent::Head(_))))
    ));
    assert!(!d.is_idle());
    assert_eq!(
        d.decode(b"GET"),
        Ok((0, Some(RequestEvent::End { trailers: vec![] })))
    );
    assert!(d.is_idle());
    assert_eq!(d.decode(b"GET"), Ok((3, None)));
    assert!(!d.is_idle());
}

#[test]
fn errors_are_final() {
    let mut d = RequestDecoder::new(HttpLimits::default());
    let e = d
        .decode(b"GET / HTTP/1.1\r\nHost: a\r\nX: \0\r\n\r\n")
        .map_err(|e| e.status);
    assert_eq!(e, Err(400));
    assert_eq!(d.error().map(|e| e.status), Some(400));
    assert_eq!(
        d.decode(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
            .map_err(|e| e.status),
        Err(400)
    );
    assert!(!d.is_idle());
    assert!(d.decode(b"").is_err());
}

#[test]
fn request_round_trip() -> Result<(), HttpError> {
    let mut wire = Vec::new();
    let (head, mut e) = RequestEncoder::head(
        "PUT",
        "/x",
        "h:1",
        &[field("A", "1")],
        BodyKind::Chunked,
        true,
    )?;
    wire.extend(head);
    wire.extend(e.body(b"hello ")?);
    wire.extend(e.body(b"")?);
    wire.extend(e.body(b"world")?);
    wire.extend(e.finish(&[field("X-Sum", "abc"), field("X-Two", "2")])?);
    let (head, mut e) = RequestEncoder::head("POST", "/y", "h", &[], BodyKind::Length(3), false)?;
    wire.extend(head);
    wire.extend(e.body(b"abc")?);
    wire.extend(e.finish(&[])?);
    let (head, mut e) = RequestEncoder::head("GET", "/z", "h", &[], BodyKind::Empty, true)?;
    wire.extend(head);
    wire.extend(e.finish(&[])?);
    let expected = [
        "PUT /x 1.1 Chunked",
        "body hello world",
        "end X-Sum: abc X-Two: 2",
        "POST /y 1.1 Length(3) close",
        "body abc",
        "end",
        "GET /z 1.1 Empty",
        "end",
    ];
    assert_eq!(requests(HttpLimits::default(), &wire), expected);
    Ok(())
}

#[test]
fn response_round_trip() -> Result<(), HttpError> {
    let trailers = [field("X-Digest", "sha=1")];
    let wire = encode_response(Framing::Chunked, false, &[b"ab", b"", b"cd"], &trailers)?;
    let expected = [
        "201 Created 1.1 Chunked",
        "body abcd",
        "end X-Digest: sha=1",
    ];
    assert_eq!(responses(false, &wire, true), expected);
    let wire = encode_response(Framing::Length(4), false, &[b"ab", b"cd"], &[])?;
    let expected = ["201 Created 1.1 Length(4)", "body abcd", "end"];
    assert_eq!(responses(false, &wire, false), expected);
    let wire = encode_response(Framing::Close, false, &[b"ab", b"cd"], &[])?;
    let expected = ["201 Created 1.1 Close close", "body abcd", "end"];
    assert_eq!(responses(false, &wire, true), expected);
    let wire = encode_response(Framing::EventStream, false, &[b"data: 1\n\n"], &[])?;
    let expected = ["201 Created 1.1 Chunked", "body data: 1\\n\\n", "end"];
    assert_eq!(responses(false, &wire, false), expected);
    Ok(())
}

#[test]
fn head_response_has_no_body() -> Result<(), HttpError> {
    for framing in [Framing::Length(4), Framing::Chunked] {
        let wire = encode_response(framing, true, &[b"abcd"], &[])?;
        let get = encode_response(framing, false, &[b"abcd"], &[])?;
        assert!(get.starts_with(&wire), "the same head as GET");
        let text = String::from_utf8_lossy(&wire).into_owned();
        assert!(
            text.ends_with("\r\n\r\n") && !text.contains("abcd"),
            "{text}"
        );
        // The next response follows right after the head.
        let two = [wire.as_slice(), b"HTTP/1.1 204 No Content\r\n\r\n"].concat();
        let mut d = ResponseDecoder::new(HttpLimits::default(), true);
        let mut rest = two.as_slice();
        let mut events = Vec::new();
        while let (n, Some(event)) = d.decode(rest)? {
            rest = &rest[n..];
            events.push(describe_response(&event));
        }
        assert_eq!(events, ["201 Created 1.1 Empty", "end"]);
        assert!(d.is_complete());
        assert_eq!(rest, b"HTTP/1.1 204 No Content\r\n\r\n", "not consumed");
    }
    Ok(())
}

#[test]
fn aborted_chunked_never_ends() -> Result<(), HttpError> {
    let (mut wire, mut e) =
        ResponseEncoder::head(200, None, &[], Framing::Chunked, DATE, true, false)?;
    wire.extend(e.body(b"partial")?);
    e.abort();
    assert!(e.is_aborted() && !e.is_complete());
    assert!(e.body(b"more").is_err());
    assert!(e.finish(&[]).is_err());
    assert!(e.finish(&[]).is_err());
    let text = String::from_utf8_lossy(&wire).into_owned();
    assert!(!text.contains("\r\n0\r\n"), "no last chunk: {text}");
    let expected = ["200 OK 1.1 Chunked", "body partial", "error 502"];
    assert_eq!(responses(false, &wire, true), expected);
    // The same for a request.
    let (_, mut e) = RequestEncoder::head("POST", "/", "h", &[], BodyKind::Chunked, true)?;
    e.abort();
    assert!(e.finish(&[]).is_err() && !e.is_complete());
    Ok(())
}

#[test]
fn length_encoder_refuses_extra_and_short() -> Result<(), HttpError> {
    let (_, mut e) = ResponseEncoder::head(200, None, &[], Framing::Length(4), DATE, true, false)?;
    assert_eq!(e.body(b"abcde").map_err(|e| e.status), Err(500));
    assert_eq!(e.body(b"abc")?, b"abc");
    assert!(e.body(b"de").is_err());
    assert!(e.finish(&[]).is_err(), "one byte short");
    assert!(!e.is_complete());
    e.abort();
    assert!(e.body(b"d").is_err());
    let (_, mut e) = ResponseEncoder::head(200, None, &[], Framing::Length(1), DATE, true, false)?;
    assert_eq!(e.body(b"d")?, b"d");
    assert!(
        e.finish(&[field("T", "1")]).is_err(),
        "no trailers without chunked"
    );
    assert_eq!(e.finish(&[])?, b"");
    let (_, mut e) = RequestEncoder::head("POST", "/", "h", &[], BodyKind::Length(2), true)?;
    assert!(e.body(b"abc").is_err());
    assert!(e.finish(&[]).is_err());
    Ok(())
}

#[test]
fn simple_and_continue_decode() {
    let wire = ResponseEncoder::simple(413, "body too large", DATE);
    let expected = [
        "413 Content Too Large 1.1 Length(15) close",
        "body body too large\\n",
        "end",
    ];
    assert_eq!(responses(false, &wire, false), expected);
    let wire = [CONTINUE, &ResponseEncoder::simple(503, "busy", DATE)].concat();
    let events = responses(false, &wire, false);
    assert_eq!(
        events[..2],
        [
            "informational 100",
            "503 Service Unavailable 1.1 Length(5) close"
        ]
    );
    assert!(String::from_utf8_lossy(&wire).contains(&format!("\r\nDate: {DATE}\r\n")));
}

#[test]
fn pipelined_requests_carry_nothing_over() {
    // A request failing after one that used every feature still fails
    // alone, and a fresh decoder sees the same.
    let first = chunked("Expect: 100-continue\r\n", "1\r\na\r\n0\r\nT: 1\r\n\r\n");
    let second = b"GET / HTTP/1.0\r\n\r\n";
    let both = decode_requests(&[first.as_slice(), second].concat());
    let alone = decode_requests(second);
    assert_eq!(both[3..], alone[..]);
    assert_eq!(
        both[..3],
        ["POST / 1.1 Chunked continue", "body a", "end T: 1"]
    );
}
