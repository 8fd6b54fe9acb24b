//! A child doer that echoes the one connection its parent handed it (see
//! `echo-spawn`). Takes no options. Done once the peer closed, everything
//! it sent was written back and this side shut down, or once the
//! connection is reset, timed out, failed or closed.

#[path = "../../echo/src/pipe.rs"]
mod pipe;

use hio_guest::{Doer, children, export_doer, log};
use pipe::Pipe;

struct EchoConn {
    pipe: Pipe,
}

impl Doer for EchoConn {
    fn enter(_options: &hio_guest::Options) -> Result<Self, String> {
        let conn = children::handed().ok_or("no connection handed to echo-conn")?;
        let pipe = Pipe::new(conn);
        log::debug(&format!("echoing {}", pipe.peer));
        Ok(EchoConn { pipe })
    }

    fn recur(&mut self, _tyme: f64) -> Result<bool, String> {
        match self.pipe.pump() {
            Some(why) => {
                log::debug(&format!(
                    "closed {} after {} bytes: {why}",
                    self.pipe.peer, self.pipe.echoed
                ));
                Ok(true)
            }
            None => Ok(false),
        }
    }
}

export_doer!(EchoConn);
