//! The `router` and `ticker` doers: a chunked upload with `100-continue`
//! and a trailer, streamed bodies and server-sent events, a body cut off,
//! a request left unanswered or held by a failing handler, and a kept-alive
//! connection that carries nothing from one exchange to the next.

use std::process::Command;

use super::{against, curl, raw};
use crate::util::{Run, plugin, server, start};

fn router() -> Run {
    start(&server("router", "router", ""))
}

#[test]
fn curl_uploads_chunked_with_100_continue_and_gets_it_back_with_a_trailer() {
    let mut run = router();
    let addr = run.listening();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("up.bin");
    let data = crate::util::payload(300_000, 4);
    std::fs::write(&file, &data).unwrap();
    let file = file.display().to_string();
    let out = against(&mut run, move || {
        Command::new("curl")
            .args(["-sS", "--max-time", "20", "-v", "--raw"])
            .args([
                "-H",
                "Transfer-Encoding: chunked",
                "-H",
                "Expect: 100-continue",
            ])
            .args(["--data-binary", &format!("@{file}")])
            .arg(format!("http://{addr}/echo"))
            .output()
            .unwrap()
    });
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("< HTTP/1.1 100 Continue"), "{err}");
    assert!(err.contains("< HTTP/1.1 200"), "{err}");
    // --raw keeps the chunk framing: the body, then the trailer.
    let raw = out.stdout;
    let text = String::from_utf8_lossy(&raw);
    assert!(
        text.ends_with("0\r\nx-bytes: 300000\r\n\r\n"),
        "{}",
        &text[text.len().saturating_sub(60)..]
    );
    let mut body = Vec::new();
    let mut rest = &raw[..];
    loop {
        let line_end = rest.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap(), 16).unwrap();
        rest = &rest[line_end + 2..];
        if size == 0 {
            break;
        }
        body.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
    assert!(body == data, "the echo differs ({} bytes)", body.len());
}

#[test]
fn server_sent_events_arrive_one_per_tick_then_the_stream_ends() {
    let mut run = router();
    let addr = run.listening();
    let said = against(&mut run, move || {
        curl(&["-N", &format!("http://{addr}/events")])
    });
    assert_eq!(said, "data: tick 0\n\ndata: tick 1\n\ndata: tick 2\n\n");
}

#[test]
fn a_cut_off_body_never_looks_complete_and_an_unanswered_request_gets_500() {
    let mut run = router();
    let addr = run.listening();
    let said = against(&mut run, move || {
        let cut = Command::new("curl")
            .args(["-sS", "--max-time", "10", &format!("http://{addr}/cut")])
            .output()
            .unwrap();
        let dropped = curl(&[
            "-w",
            "%{http_code}",
            "-o",
            "/dev/null",
            &format!("http://{addr}/drop"),
        ]);
        // The server is still sane afterwards.
        let after = curl(&[&format!("http://{addr}/json")]);
        (cut, dropped, after)
    });
    let (cut, dropped, after) = said;
    // curl: exit 18, "transfer closed with 90 bytes remaining to read".
    assert_eq!(
        cut.status.code(),
        Some(18),
        "{}",
        String::from_utf8_lossy(&cut.stderr)
    );
    assert_eq!(cut.stdout, b"0123456789");
    assert_eq!(dropped, "500");
    assert!(
        after.starts_with("{\"ok\":true,\"path\":\"/json\""),
        "{after}"
    );
}

#[test]
fn a_kept_alive_connection_carries_nothing_from_one_exchange_to_the_next() {
    let mut run = router();
    let addr = run.listening();
    // A chunked upload with a trailer, then a plain GET, then a 404, on one
    // connection, sent at once.
    let said = against(&mut run, move || {
        raw(
            addr,
            b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nx-t: 1\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        )
    });
    let parts: Vec<&str> = said.split("HTTP/1.1 ").skip(1).collect();
    assert_eq!(parts.len(), 3, "{said}");
    assert!(
        parts[0].starts_with("200") && parts[0].contains("3\r\nabc\r\n0\r\nx-bytes: 3\r\n\r\n"),
        "{}",
        parts[0]
    );
    assert!(
        parts[1].starts_with("200") && parts[1].ends_with("\r\n\r\nrouter\n"),
        "{}",
        parts[1]
    );
    assert!(
        parts[2].starts_with("404") && parts[2].ends_with("not found\n"),
        "{}",
        parts[2]
    );
}

#[test]
fn a_handler_that_fails_holding_a_request_gets_it_a_500_and_a_clean_close() {
    let mut run = router();
    let addr = run.listening();
    let said = against(&mut run, move || {
        raw(addr, b"GET /fail HTTP/1.1\r\nHost: x\r\n\r\n".to_vec())
    });
    assert!(said.starts_with("HTTP/1.1 500 "), "{said}");
    assert!(
        said.to_ascii_lowercase().contains("connection: close"),
        "{said}"
    );
    let reason = run.abort("router").map(|(_, why)| why).unwrap_or_default();
    assert!(reason.contains("failing on purpose"), "{reason}");
}

#[test]
fn the_ticker_streams_one_event_per_tick_to_each_client_then_ends() {
    let mut run = start(&format!(
        r#"
tock = 0.05
real = true
wake = "io"
[[doers]]
name = "ticker"
plugin = "{}"
options = {{ addr = "127.0.0.1:0", count = 3 }}
grants = {{ listen = ["127.0.0.1:*"] }}
"#,
        plugin("ticker")
    ));
    let addr = run.listening();
    let said = against(&mut run, move || {
        let url = format!("http://{addr}/");
        let a = std::thread::spawn({
            let url = url.clone();
            move || curl(&["-N", &url])
        });
        let b = curl(&["-N", &url]);
        (a.join().unwrap(), b)
    });
    for stream in [said.0, said.1] {
        let events: Vec<&str> = stream.split("\n\n").filter(|e| !e.is_empty()).collect();
        assert_eq!(events.len(), 3, "{stream}");
        for (n, event) in events.iter().enumerate() {
            assert!(
                event.starts_with(&format!("id: {n}\ndata: tick {n} at ")),
                "{event}"
            );
        }
    }
}
