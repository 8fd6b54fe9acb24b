//! A server-sent-events ticker: every client of `GET /` gets one event per
//! tick, `id: N` and `data: tick N at TYME`, for `count` ticks (default 5;
//! 0 for ever), then the stream ends. Options: `addr` (default
//! `127.0.0.1:8082`), `count`. Other paths get 404.

use hio_guest::http::{Request, Server};
use hio_guest::{Doer, Options, export_doer, log};

/// One client's stream and how many events it got.
struct Stream(Request, i64);

struct Ticker {
    server: Server,
    count: i64,
    streams: Vec<Stream>,
}

impl Doer for Ticker {
    const OPTIONS: &'static [&'static str] = &["addr", "count"];

    fn validate(options: &Options) -> Result<(), String> {
        options.only(Self::OPTIONS)?;
        match options.integer("count")? {
            Some(n) if n < 0 => Err(format!("count must be >= 0, got {n}")),
            _ => Ok(()),
        }
    }

    fn enter(options: &Options) -> Result<Self, String> {
        let addr = options.text("addr")?.unwrap_or("127.0.0.1:8082").to_owned();
        let count = options.integer("count")?.unwrap_or(5);
        let server = Server::listen(&addr).map_err(|e| format!("cannot serve on {addr}: {e}"))?;
        log::debug(&format!("listening on {}", server.address()));
        Ok(Ticker {
            server,
            count,
            streams: Vec::new(),
        })
    }

    fn recur(&mut self, tyme: f64) -> Result<bool, String> {
        while let Some(request) = self.server.next() {
            if request.target() != "/" {
                let body = b"not found\n";
                let answered = request.reply(404, &[("content-type", b"text/plain")], body);
                if let Err(why) = answered {
                    log::debug(&format!("not answered: {why}"));
                }
                continue;
            }
            match request.respond(200, &[("content-type", b"text/event-stream")], None) {
                Ok(()) => self.streams.push(Stream(request, 0)),
                Err(why) => log::debug(&format!("not answered: {why}")),
            }
        }
        let count = self.count;
        self.streams.retain_mut(|Stream(request, sent)| {
            let event = format!("id: {sent}\ndata: tick {sent} at {tyme}\n\n");
            // A client that reads slower than the ticks misses no event:
            // its stream is cut off instead (it may reconnect).
            if request.write(event.as_bytes()) as usize != event.len() {
                return false;
            }
            *sent += 1;
            if count > 0 && *sent >= count {
                let _ = request.finish(&[]);
                return false;
            }
            true
        });
        Ok(false)
    }
}

export_doer!(Ticker);
