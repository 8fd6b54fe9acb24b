//! An HTTP hello server: answers `GET /` (and `HEAD /`) with 200 and
//! `hello\n`, anything else with 404. Options: `addr` (default
//! `127.0.0.1:8080`), `tls` (default false: HTTPS with the granted
//! certificate). Never done.

use hio_guest::http::Server;
use hio_guest::{Doer, Options, export_doer, log};

struct Hello {
    server: Server,
}

const BODY: &[u8] = b"hello\n";
const MISSING: &[u8] = b"not found\n";

impl Doer for Hello {
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
        Ok(Hello { server })
    }

    fn recur(&mut self, _tyme: f64) -> Result<bool, String> {
        while let Some(request) = self.server.next() {
            let found = request.target() == "/";
            let (status, body) = if found { (200, BODY) } else { (404, MISSING) };
            // A client that went away is no failure of the server: its
            // request is dropped (the host closes the connection).
            // A short body fits a fresh response's buffer unless the
            // connection is gone.
            let answered = request.reply(status, &[("content-type", b"text/plain")], body);
            if let Err(why) = answered {
                log::debug(&format!(
                    "{} {}: not answered: {why}",
                    request.method(),
                    request.target()
                ));
            }
        }
        Ok(false)
    }
}

export_doer!(Hello);
