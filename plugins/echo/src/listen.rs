//! The listening options of `echo` and `echo-spawn` (which includes this
//! file): `addr` (default `127.0.0.1:7700`), `tls` (default false) and
//! `alpn` (a list of strings, default none; with `tls` only).

use hio_guest::net::Listener;
use hio_guest::{Options, log};

/// The options `addr`, `tls` and `alpn`.
pub struct Listen {
    /// Where to listen.
    pub addr: String,
    /// With TLS.
    pub tls: bool,
    /// The ALPN protocols offered (TLS only).
    pub alpn: Vec<String>,
}

impl Listen {
    /// Parses them, rejecting any option not in `allowed`.
    pub fn parse(options: &Options, allowed: &[&str]) -> Result<Self, String> {
        options.only(allowed)?;
        let addr = options.text("addr")?.unwrap_or("127.0.0.1:7700").to_owned();
        let tls = options.boolean("tls")?.unwrap_or(false);
        let alpn: Vec<String> = options
            .texts("alpn")?
            .unwrap_or_default()
            .into_iter()
            .map(str::to_owned)
            .collect();
        if !tls && !alpn.is_empty() {
            return Err("option `alpn` needs `tls = true`".into());
        }
        Ok(Listen { addr, tls, alpn })
    }

    /// Listens as the options say; the error names the address.
    pub fn listen(&self) -> Result<Listener, String> {
        let listener = if self.tls {
            Listener::tls_listen(&self.addr, &self.alpn)
        } else {
            Listener::listen(&self.addr)
        };
        let listener = listener.map_err(|e| format!("cannot listen on {}: {e}", self.addr))?;
        log::debug(&format!(
            "listening on {}{}",
            listener.address(),
            if self.tls { " (TLS)" } else { "" }
        ));
        Ok(listener)
    }
}
