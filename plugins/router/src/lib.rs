//! An HTTP router: a few routes, each answered over as many ticks as it
//! needs. Options: `addr` (default `127.0.0.1:8080`), `tls` (default false).
//!
//! - `GET /` → 200 `router\n`;
//! - `GET /json` → 200 `{"ok":true,"path":"/json","tyme":T}` (JSON);
//! - `POST /echo` → the request body back, chunked, with a trailer
//!   `x-bytes: N` (the body is read as it arrives, over ticks);
//! - `GET /events` → server-sent events: `data: tick N` once per tick for
//!   3 ticks, then the end;
//! - `GET /cut` → declares 100 bytes, sends 10, then lets the request go:
//!   the host cuts the response off (the client never sees it complete);
//! - `GET /drop` → lets the request go unanswered: the host answers 500;
//! - `GET /fail` → the doer fails (its recur returns an error) holding the
//!   request: the host answers 500;
//! - anything else → 404.

use hio_guest::http::{Request, Server};
use hio_guest::{Doer, Options, export_doer, log, tyme};

/// A request being answered over ticks.
enum Work {
    /// Echoing the body back as it arrives; bytes echoed so far, and what
    /// did not fit yet.
    Echo(Request, u64, Vec<u8>),
    /// Sending events; how many were sent.
    Events(Request, u32),
}

struct Router {
    server: Server,
    work: Vec<Work>,
    /// A request held while the doer fails.
    failing: Option<Request>,
}

const EVENTS: u32 = 3;

fn simple(request: &Request, status: u16, kind: &[u8], body: &[u8]) -> Result<(), String> {
    request.reply(status, &[("content-type", kind)], body)
}

impl Router {
    /// Answers a new request at once, or keeps it as work.
    fn route(&mut self, request: Request, tyme: f64) -> Result<(), String> {
        let (method, target) = (request.method(), request.target());
        match (method.as_str(), target.as_str()) {
            ("GET" | "HEAD", "/") => simple(&request, 200, b"text/plain", b"router\n"),
            ("GET" | "HEAD", "/json") => {
                let body = format!("{{\"ok\":true,\"path\":\"/json\",\"tyme\":{tyme}}}");
                simple(&request, 200, b"application/json", body.as_bytes())
            }
            ("POST", "/echo") => {
                request.respond(200, &[("content-type", b"application/octet-stream")], None)?;
                self.work.push(Work::Echo(request, 0, Vec::new()));
                Ok(())
            }
            ("GET", "/events") => {
                request.respond(
                    200,
                    &[
                        ("content-type", b"text/event-stream"),
                        ("cache-control", b"no-cache"),
                    ],
                    None,
                )?;
                self.work.push(Work::Events(request, 0));
                Ok(())
            }
            ("GET", "/cut") => {
                request.respond(200, &[("content-type", b"text/plain")], Some(100))?;
                request.write(b"0123456789");
                // Dropped here, 90 bytes short.
                Ok(())
            }
            ("GET", "/drop") => Ok(()),
            ("GET", "/fail") => {
                self.failing = Some(request);
                Ok(())
            }
            _ => simple(&request, 404, b"text/plain", b"not found\n"),
        }
    }
}

/// Moves one piece of work on; `true` when it is finished (or failed).
fn advance(work: &mut Work) -> Result<bool, String> {
    match work {
        Work::Echo(request, echoed, waiting) => {
            loop {
                if !waiting.is_empty() {
                    let n = request.write(waiting) as usize;
                    *echoed += n as u64;
                    waiting.drain(..n);
                    if !waiting.is_empty() {
                        return Ok(false); // Back pressure: the rest next tick.
                    }
                }
                let piece = request.read(64 * 1024);
                if piece.is_empty() {
                    break;
                }
                *waiting = piece;
            }
            if request.body_done() {
                let bytes = echoed.to_string();
                request.finish(&[("x-bytes", bytes.as_bytes())])?;
                return Ok(true);
            }
            Ok(false)
        }
        Work::Events(request, sent) => {
            let event = format!("data: tick {sent}\n\n");
            if request.write(event.as_bytes()) as usize != event.len() {
                return Err("the connection took no event".into());
            }
            *sent += 1;
            if *sent == EVENTS {
                request.finish(&[])?;
                return Ok(true);
            }
            Ok(false)
        }
    }
}

impl Doer for Router {
    const OPTIONS: &'static [&'static str] = &["addr", "tls"];

    fn enter(options: &Options) -> Result<Self, String> {
        let addr = options.text("addr")?.unwrap_or("127.0.0.1:8080").to_owned();
        let tls = options.boolean("tls")?.unwrap_or(false);
        let server = if tls {
            Server::listen_tls(&addr)
        } else {
            Server::listen(&addr)
        }
        .map_err(|e| format!("cannot serve on {addr}: {e}"))?;
        log::debug(&format!("listening on {}", server.address()));
        Ok(Router {
            server,
            work: Vec::new(),
            failing: None,
        })
    }

    fn recur(&mut self, _tyme: f64) -> Result<bool, String> {
        let now = tyme::now();
        while let Some(request) = self.server.next() {
            // A client that went away is no failure of the server.
            if let Err(why) = self.route(request, now) {
                log::debug(&format!("not answered: {why}"));
            }
        }
        self.work.retain_mut(|w| match advance(w) {
            Ok(done) => !done,
            Err(why) => {
                log::debug(&format!("cut off: {why}"));
                false
            }
        });
        if self.failing.is_some() {
            return Err("failing on purpose (GET /fail)".into());
        }
        Ok(false)
    }
}

export_doer!(Router);
