//! HTTP/1.1 served by the host.
//!
//! The host parses requests and frames responses on its own buffers; it
//! answers malformed, oversized or too slow requests itself and closes
//! them, so a doer sees well-formed requests only. A doer takes requests
//! with [`Server::next`], one at a time per connection (pipelined requests
//! are answered in order), and answers each over as many ticks as it
//! likes: [`Request::respond`], then [`Request::write`] (which says how
//! many bytes it took: a full send buffer is back pressure), then
//! [`Request::finish`]. Dropping a request before it is finished cuts the
//! response off (the connection closes, and a cut-off body never looks
//! complete); one dropped before any response gets a 500.
//!
//! ```no_run
//! use hio_guest::http::Server;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let server = Server::listen("127.0.0.1:8080")?;
//! while let Some(request) = server.next() {
//!     let body = b"hello\n";
//!     request.respond(200, &[("content-type", b"text/plain")], Some(body.len() as u64))?;
//!     request.write(body);
//!     request.finish(&[])?;
//! }
//! # Ok(())
//! # }
//! ```

use crate::bindings::hio::doer::http;
use crate::net::NetError;

/// Header fields: names as sent, values as bytes.
pub type Fields = Vec<(String, Vec<u8>)>;

fn owned(fields: &[(&str, &[u8])]) -> Fields {
    fields
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.to_vec()))
        .collect()
}

/// An HTTP server listening on a granted address.
pub struct Server(http::Server);

impl Server {
    /// Serves plain HTTP on `addr` (`host:port`).
    pub fn listen(addr: &str) -> Result<Server, NetError> {
        http::Server::listen(addr)
            .map(Server)
            .map_err(NetError::from)
    }

    /// Serves HTTPS on `addr` with the doer's granted certificate and key.
    pub fn listen_tls(addr: &str) -> Result<Server, NetError> {
        http::Server::listen_tls(addr)
            .map(Server)
            .map_err(NetError::from)
    }

    /// The address it is bound to.
    pub fn address(&self) -> String {
        self.0.address()
    }

    /// The oldest request that arrived before this tick and was not taken.
    pub fn next(&self) -> Option<Request> {
        self.0.next().map(Request)
    }
}

/// One request and its response.
pub struct Request(http::Request);

impl Request {
    /// The method (`GET`, `POST`, …).
    pub fn method(&self) -> String {
        self.0.method()
    }

    /// The target as sent: path and query.
    pub fn target(&self) -> String {
        self.0.target()
    }

    /// Every header field, in order.
    pub fn headers(&self) -> Fields {
        self.0.headers()
    }

    /// The first value of header `name` (without regard to case). Each
    /// call copies every header across; for several, take
    /// [`headers`](Self::headers) once and use [`field`].
    pub fn header(&self, name: &str) -> Option<Vec<u8>> {
        field(&self.0.headers(), name).map(<[u8]>::to_vec)
    }

    /// Takes up to `max` body bytes that arrived.
    pub fn read(&self, max: u32) -> Vec<u8> {
        self.0.read(max)
    }

    /// True once the whole body arrived and was read.
    pub fn body_done(&self) -> bool {
        self.0.body_done()
    }

    /// The trailers of a chunked body, once it is done.
    pub fn trailers(&self) -> Fields {
        self.0.trailers()
    }

    /// Starts the response: status, headers (the host adds `Date`,
    /// `Content-Length` or `Transfer-Encoding`, and `Connection`), and the
    /// body's length, or `None` for a chunked body.
    pub fn respond(
        &self,
        status: u16,
        headers: &[(&str, &[u8])],
        length: Option<u64>,
    ) -> Result<(), String> {
        self.0.respond(status, &owned(headers), length)
    }

    /// Queues what fits of `bytes` as body; returns how many it took.
    pub fn write(&self, bytes: &[u8]) -> u32 {
        self.0.write(bytes)
    }

    /// Ends the response, with trailers for a chunked body.
    pub fn finish(&self, trailers: &[(&str, &[u8])]) -> Result<(), String> {
        self.0.finish(&owned(trailers))
    }

    /// Answers with a whole body at once: [`respond`](Self::respond) with
    /// its length, [`write`](Self::write), [`finish`](Self::finish). A body
    /// the connection did not take whole (it is gone, or the body is larger
    /// than its send buffer) is an error, and the response is left
    /// unfinished: the connection closes when the request is dropped.
    pub fn reply(&self, status: u16, headers: &[(&str, &[u8])], body: &[u8]) -> Result<(), String> {
        self.respond(status, headers, Some(body.len() as u64))?;
        if self.write(body) as usize != body.len() {
            return Err("the connection took no body".into());
        }
        self.finish(&[])
    }
}

/// The first value of field `name` in `fields` (without regard to case).
pub fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a [u8]> {
    fields
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_slice())
}

/// A request this doer makes to a granted origin, and its response.
///
/// ```no_run
/// use hio_guest::http::Outgoing;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let fetch = Outgoing::send("http://127.0.0.1:8080", "GET", "/", &[], Some(0))?;
/// // Tick after tick:
/// if let Some(status) = fetch.status() {
///     let body = fetch.read(64 * 1024);
///     # let _ = (status, body);
/// }
/// if let Some(outcome) = fetch.done() {
///     outcome?;
/// }
/// # Ok(())
/// # }
/// ```
pub struct Outgoing(crate::bindings::hio::doer::http_client::Outgoing);

impl Outgoing {
    /// Sends `method` `target` to `origin` (`http://host:port` or
    /// `https://host:port`) with `headers`; `length` is the body's length
    /// (`Some(0)` for none, `None` for a chunked body).
    pub fn send(
        origin: &str,
        method: &str,
        target: &str,
        headers: &[(&str, &[u8])],
        length: Option<u64>,
    ) -> Result<Outgoing, NetError> {
        crate::bindings::hio::doer::http_client::Outgoing::send(
            origin,
            method,
            target,
            &owned(headers),
            length,
        )
        .map(Outgoing)
        .map_err(NetError::from)
    }

    /// Queues what fits of a request body piece; returns how many bytes it
    /// took.
    pub fn write(&self, bytes: &[u8]) -> u32 {
        self.0.write(bytes)
    }

    /// Ends the request body (with trailers when chunked).
    pub fn finish(&self, trailers: &[(&str, &[u8])]) -> Result<(), String> {
        self.0.finish(&owned(trailers))
    }

    /// The response's status, once its head arrived.
    pub fn status(&self) -> Option<u16> {
        self.0.status()
    }

    /// The response's header fields.
    pub fn headers(&self) -> Fields {
        self.0.headers()
    }

    /// Takes up to `max` response body bytes that arrived.
    pub fn read(&self, max: u32) -> Vec<u8> {
        self.0.read(max)
    }

    /// `None` while the exchange goes on; `Some(Ok(()))` once the whole
    /// response arrived and was read; `Some(Err(why))` if it failed (a
    /// cut-off body is never `Ok`).
    pub fn done(&self) -> Option<Result<(), String>> {
        self.0.done()
    }
}
