//! An HTTP client: fetches a URL, logs its status and size, and is done.
//! Options: `url` (required, `http://host:port/path` or `https://…`),
//! `method` (default `GET`). Fails if the exchange fails.

use hio_guest::http::Outgoing;
use hio_guest::{Doer, Options, export_doer, log};

struct Fetch {
    url: String,
    request: Outgoing,
    bytes: u64,
}

/// `http://host:port/path?q` split into origin and target.
fn split(url: &str) -> Result<(&str, &str), String> {
    let after = url
        .find("://")
        .map(|i| i + 3)
        .ok_or_else(|| format!("url {url:?} is not http://… or https://…"))?;
    Ok(match url[after..].find('/') {
        Some(i) => (&url[..after + i], &url[after + i..]),
        None => (url, "/"),
    })
}

impl Doer for Fetch {
    const OPTIONS: &'static [&'static str] = &["url", "method"];

    fn validate(options: &Options) -> Result<(), String> {
        options.only(Self::OPTIONS)?;
        let url = options.text("url")?.ok_or("option url is required")?;
        split(url).map(|_| ())
    }

    fn enter(options: &Options) -> Result<Self, String> {
        let url = options
            .text("url")?
            .ok_or("option url is required")?
            .to_owned();
        let method = options.text("method")?.unwrap_or("GET").to_owned();
        let (origin, target) = split(&url)?;
        let request = Outgoing::send(origin, &method, target, &[], Some(0))
            .map_err(|e| format!("cannot fetch {url}: {e}"))?;
        Ok(Fetch {
            url,
            request,
            bytes: 0,
        })
    }

    fn recur(&mut self, _tyme: f64) -> Result<bool, String> {
        loop {
            let piece = self.request.read(64 * 1024);
            if piece.is_empty() {
                break;
            }
            self.bytes += piece.len() as u64;
        }
        match self.request.done() {
            None => Ok(false),
            Some(Ok(())) => {
                let status = self.request.status().unwrap_or(0);
                log::info(&format!(
                    "{} status {status}, {} bytes",
                    self.url, self.bytes
                ));
                Ok(true)
            }
            Some(Err(why)) => Err(format!("fetching {}: {why}", self.url)),
        }
    }
}

export_doer!(Fetch);
