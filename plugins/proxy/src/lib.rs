//! An HTTP proxy doer, both server and client: every request it serves is
//! sent on to the `upstream` origin (same method, target and body), and the
//! upstream's status, content type and body come back, streamed over ticks.
//! Options: `addr` (default `127.0.0.1:8081`), `upstream` (required,
//! `http://host:port`). An upstream that fails gets the client a 502.

use hio_guest::http::{Outgoing, Request, Server, field};
use hio_guest::{Doer, Options, export_doer, log};

/// One request being proxied.
struct Pass {
    request: Request,
    upstream: Outgoing,
    /// The request body sent on in full.
    sent: bool,
    /// The response started to the client.
    started: bool,
    /// Response bytes read from upstream, not yet taken by the client.
    waiting: Vec<u8>,
}

struct Proxy {
    server: Server,
    upstream: String,
    passes: Vec<Pass>,
}

fn bad_gateway(request: &Request, why: &str) {
    let body = format!("bad gateway: {why}\n");
    // Not answered whole: the connection closes when the request goes.
    let _ = request.reply(502, &[("content-type", b"text/plain")], body.as_bytes());
}

/// Moves one pass on; `true` when it is over.
fn advance(p: &mut Pass) -> bool {
    // The request body, on to the upstream.
    while !p.sent {
        let piece = p.request.read(16 * 1024);
        if piece.is_empty() {
            if p.request.body_done() {
                p.sent = p.upstream.finish(&[]).is_ok();
                if !p.sent {
                    bad_gateway(&p.request, "the upstream request failed");
                    return true;
                }
            }
            break;
        }
        // Written in full or not at all, for simplicity: the upstream's
        // buffer takes 16 KiB pieces unless it is backed up.
        if p.upstream.write(&piece) as usize != piece.len() {
            bad_gateway(&p.request, "the upstream did not take the body");
            return true;
        }
    }
    // The response, back to the client.
    if !p.started {
        let Some(status) = p.upstream.status() else {
            if let Some(Err(why)) = p.upstream.done() {
                bad_gateway(&p.request, &why);
                return true;
            }
            return false;
        };
        let headers = p.upstream.headers();
        let kind = field(&headers, "content-type")
            .unwrap_or(b"application/octet-stream")
            .to_vec();
        if p.request
            .respond(status, &[("content-type", &kind)], None)
            .is_err()
        {
            return true;
        }
        p.started = true;
    }
    loop {
        if !p.waiting.is_empty() {
            let n = p.request.write(&p.waiting) as usize;
            p.waiting.drain(..n);
            if !p.waiting.is_empty() {
                return false; // The client reads slower: back pressure.
            }
        }
        p.waiting = p.upstream.read(64 * 1024);
        if p.waiting.is_empty() {
            break;
        }
    }
    match p.upstream.done() {
        None => false,
        Some(Ok(())) => {
            let _ = p.request.finish(&[]);
            true
        }
        // Cut off upstream: the client's response is cut off too (dropping
        // the request closes its connection; it never looks complete).
        Some(Err(why)) => {
            log::debug(&format!("upstream failed mid-response: {why}"));
            true
        }
    }
}

impl Doer for Proxy {
    const OPTIONS: &'static [&'static str] = &["addr", "upstream"];

    fn validate(options: &Options) -> Result<(), String> {
        options.only(Self::OPTIONS)?;
        options
            .text("upstream")?
            .ok_or("option upstream is required")?;
        Ok(())
    }

    fn enter(options: &Options) -> Result<Self, String> {
        let addr = options.text("addr")?.unwrap_or("127.0.0.1:8081").to_owned();
        let upstream = options
            .text("upstream")?
            .ok_or("option upstream is required")?
            .to_owned();
        let server = Server::listen(&addr).map_err(|e| format!("cannot serve on {addr}: {e}"))?;
        log::debug(&format!("listening on {}", server.address()));
        Ok(Proxy {
            server,
            upstream,
            passes: Vec::new(),
        })
    }

    fn recur(&mut self, _tyme: f64) -> Result<bool, String> {
        while let Some(request) = self.server.next() {
            let headers = request.headers();
            let length = field(&headers, "content-length")
                .and_then(|v| std::str::from_utf8(v).ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let chunked = field(&headers, "transfer-encoding").is_some();
            let length = if chunked {
                None
            } else {
                Some(length.unwrap_or(0))
            };
            match Outgoing::send(
                &self.upstream,
                &request.method(),
                &request.target(),
                &[],
                length,
            ) {
                Ok(upstream) => self.passes.push(Pass {
                    request,
                    upstream,
                    sent: false,
                    started: false,
                    waiting: Vec::new(),
                }),
                Err(e) => bad_gateway(&request, &e.to_string()),
            }
        }
        self.passes.retain_mut(|p| !advance(p));
        Ok(false)
    }
}

export_doer!(Proxy);
