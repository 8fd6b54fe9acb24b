//! Echoes every connection it accepts, all in this one doer. Options:
//! `addr` (default `127.0.0.1:7700`), `tls` (default false: with true it
//! listens with TLS, offering the ALPN protocols of `alpn`, a list of
//! strings, default none). Never done.
//!
//! Each recur accepts every pending connection, then echoes each one (see
//! `pipe.rs`): what the send buffer does not take waits and nothing more is
//! read from that connection meanwhile (back pressure). A connection whose
//! peer half-closed is echoed to the end, shut down and dropped; one that is
//! reset, timed out, failed or closed is dropped.

mod listen;
mod pipe;

use hio_guest::net::Listener;
use hio_guest::{Doer, Options, export_doer, log};
use listen::Listen;
use pipe::Pipe;

struct Echo {
    listener: Listener,
    /// In accept order.
    pipes: Vec<Pipe>,
}

impl Doer for Echo {
    const OPTIONS: &'static [&'static str] = &["addr", "tls", "alpn"];

    fn validate(options: &Options) -> Result<(), String> {
        Listen::parse(options, Self::OPTIONS).map(|_| ())
    }

    fn enter(options: &Options) -> Result<Self, String> {
        let listener = Listen::parse(options, Self::OPTIONS)?.listen()?;
        Ok(Echo {
            listener,
            pipes: Vec::new(),
        })
    }

    fn recur(&mut self, _tyme: f64) -> Result<bool, String> {
        while let Some(conn) = self.listener.accept() {
            let pipe = Pipe::new(conn);
            log::debug(&format!("accepted {}", pipe.peer));
            self.pipes.push(pipe);
        }
        self.pipes.retain_mut(|pipe| match pipe.pump() {
            Some(why) => {
                log::debug(&format!(
                    "closed {} after {} bytes: {why}",
                    pipe.peer, pipe.echoed
                ));
                false
            }
            None => true,
        });
        Ok(false)
    }
}

export_doer!(Echo);
