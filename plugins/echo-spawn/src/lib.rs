//! Listens like `echo` (options `addr`, `tls`, `alpn`) and hands each
//! connection it accepts to a child doer of its own, spawned from `child`
//! (the plugin as the manifest's `grants.spawn` lists it, default
//! `echo-conn.wasm`) and named `c1`, `c2`, … in accept order, with no
//! options. At its children limit (`limits.children`) the host puts the
//! connection back in the listener's queue and this doer stops accepting
//! until the next tick: connections wait (back pressure) until a child is
//! done. Any other refused spawn is logged as a warning and its connection
//! is dropped. Never done.

#[path = "../../echo/src/listen.rs"]
mod listen;

use hio_guest::net::Listener;
use hio_guest::{Doer, Options, children, export_doer, log};
use listen::Listen;

struct EchoSpawn {
    listener: Listener,
    child: String,
    /// Connections accepted so far, so the last child's number.
    accepted: u64,
}

fn parse(options: &Options) -> Result<(Listen, String), String> {
    let listen = Listen::parse(options, EchoSpawn::OPTIONS)?;
    let child = options.text("child")?.unwrap_or("echo-conn.wasm");
    if child.is_empty() {
        return Err("option `child` must name a plugin".into());
    }
    Ok((listen, child.to_owned()))
}

impl Doer for EchoSpawn {
    const OPTIONS: &'static [&'static str] = &["addr", "tls", "alpn", "child"];

    fn validate(options: &Options) -> Result<(), String> {
        parse(options).map(|_| ())
    }

    fn enter(options: &Options) -> Result<Self, String> {
        let (listen, child) = parse(options)?;
        Ok(EchoSpawn {
            listener: listen.listen()?,
            child,
            accepted: 0,
        })
    }

    fn recur(&mut self, _tyme: f64) -> Result<bool, String> {
        let none = Options::new();
        while let Some(conn) = self.listener.accept() {
            let name = format!("c{}", self.accepted + 1);
            let peer = conn.peer_address();
            match children::spawn(&name, &self.child, &none, Some(conn)) {
                Ok(()) => {
                    self.accepted += 1;
                    log::debug(&format!("accepted {peer}, handed to {name}"));
                }
                // At the children limit the connection is back in the
                // queue: try again next tick.
                Err(e) if e.contains("waits in its listener's queue") => break,
                Err(e) => {
                    self.accepted += 1;
                    log::warn(&format!(
                        "cannot spawn {name} from {} for {peer}, dropping the connection: {e}",
                        self.child
                    ));
                    break;
                }
            }
        }
        Ok(false)
    }
}

export_doer!(EchoSpawn);
