//! The churn's clients: the ways a client opens and closes a connection,
//! over TCP or TLS, against an echo or an HTTP server, and the rounds of
//! them, sequential and from several threads.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;

/// How long a client waits on a read or a write.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// How a client treats its connection.
#[derive(Debug, Clone, Copy)]
pub enum Way {
    /// Asks once and closes first.
    ClientCloses,
    /// Asks so that the server closes first (`Connection: close` for HTTP;
    /// a half-close for TCP, after which the server finishes).
    ServerCloses,
    /// Asks, then half-closes, then reads to the end.
    HalfClose,
    /// Asks, reads part of the answer, and resets the connection (it closes
    /// with bytes unread).
    Reset,
    /// Asks twice on a kept-alive connection, then goes away without a word.
    Vanish,
    /// Sends part of a request and resets (never served: not counted).
    ResetMidRequest,
}

pub const WAYS: [Way; 6] = [
    Way::ClientCloses,
    Way::ServerCloses,
    Way::HalfClose,
    Way::Reset,
    Way::Vanish,
    Way::ResetMidRequest,
];

/// A client's stream: plain TCP or TLS over it.
enum Stream {
    Plain(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Stream {
    fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => s.get_ref(),
        }
    }

    /// Half-closes: a TLS close_notify, then the TCP write side.
    fn half_close(&mut self) {
        if let Stream::Tls(s) = self {
            s.conn.send_close_notify();
            let _ = s.conn.complete_io(&mut s.sock);
        }
        let _ = self.tcp().shutdown(Shutdown::Write);
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

/// What a churn runs against.
#[derive(Clone)]
pub enum Target {
    /// An echo server: bytes come back.
    Echo,
    /// An HTTP server whose `GET /` answers with a body ending in `tail`,
    /// TLS with a client config.
    Http {
        tail: &'static str,
        tls: Option<Arc<rustls::ClientConfig>>,
    },
}

fn connect(addr: SocketAddr, target: &Target) -> std::io::Result<Stream> {
    let tcp = TcpStream::connect(addr)?;
    // As the server does: no small write waits for a delayed ACK.
    tcp.set_nodelay(true)?;
    tcp.set_read_timeout(Some(TIMEOUT))?;
    tcp.set_write_timeout(Some(TIMEOUT))?;
    Ok(match target {
        Target::Http { tls: Some(cfg), .. } => {
            let name = ServerName::try_from("localhost").expect("a server name");
            let conn = rustls::ClientConnection::new(Arc::clone(cfg), name)
                .map_err(std::io::Error::other)?;
            Stream::Tls(Box::new(rustls::StreamOwned::new(conn, tcp)))
        }
        _ => Stream::Plain(tcp),
    })
}

/// Whether `got` is a whole response whose body ends in `tail`: by length
/// (the body's last bytes) or chunked (its last chunk after it).
fn complete(got: &[u8], tail: &str) -> bool {
    let text = String::from_utf8_lossy(got);
    text.ends_with(tail) || (text.contains(tail) && text.ends_with("\r\n0\r\n\r\n"))
}

/// Reads until `text` ends what came (a response with a body ending in it),
/// or the stream ends.
fn read_until(s: &mut Stream, tail: &str) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !complete(&got, tail) {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

fn read_to_end(s: &mut Stream) -> String {
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    String::from_utf8_lossy(&got).into_owned()
}

/// One connection, used in `way`; whether it was served as it should be.
fn client(addr: SocketAddr, target: &Target, way: Way, n: usize) -> Result<(), String> {
    let start = Instant::now();
    let result = client_in(addr, target, way, n);
    // A connection served only after a client's timeout is not served.
    if result.is_ok() && start.elapsed() >= TIMEOUT {
        return Err(format!("{way:?}: took {:?}", start.elapsed()));
    }
    result
}

fn client_in(addr: SocketAddr, target: &Target, way: Way, n: usize) -> Result<(), String> {
    let mut s = connect(addr, target).map_err(|e| format!("connect: {e}"))?;
    let fail = |what: &str, got: &str| Err(format!("{way:?}: {what}: got {got:?}"));
    match target {
        Target::Echo => {
            let ping = format!("ping {n}\n");
            s.write_all(ping.as_bytes())
                .map_err(|e| format!("write: {e}"))?;
            match way {
                Way::ClientCloses | Way::Vanish => {
                    let got = read_until(&mut s, &ping);
                    if got != ping {
                        return fail("echo", &got);
                    }
                    if let Way::Vanish = way {
                        s.write_all(ping.as_bytes())
                            .map_err(|e| format!("write: {e}"))?;
                        if read_until(&mut s, &ping) != ping {
                            return fail("second echo", "");
                        }
                    }
                }
                Way::ServerCloses | Way::HalfClose => {
                    s.half_close();
                    let got = read_to_end(&mut s);
                    if got != ping {
                        return fail("echo to the end", &got);
                    }
                }
                Way::Reset => {
                    let mut one = [0u8; 1];
                    s.read_exact(&mut one).map_err(|e| format!("read: {e}"))?;
                    // Wait for the rest, then close with it unread.
                    std::thread::sleep(Duration::from_millis(2));
                }
                Way::ResetMidRequest => {}
            }
        }
        Target::Http { tail, .. } => {
            let get = |close: bool| {
                format!(
                    "GET / HTTP/1.1\r\nHost: localhost\r\n{}\r\n",
                    if close { "Connection: close\r\n" } else { "" }
                )
            };
            let answered =
                |got: &str| got.starts_with("HTTP/1.1 200 ") && complete(got.as_bytes(), tail);
            let w = |s: &mut Stream, text: &str| {
                s.write_all(text.as_bytes())
                    .and_then(|()| s.flush())
                    .map_err(|e| format!("{way:?}: write: {e}"))
            };
            match way {
                Way::ClientCloses => {
                    w(&mut s, &get(false))?;
                    let got = read_until(&mut s, tail);
                    if !answered(&got) {
                        return fail("answer", &got);
                    }
                    s.half_close();
                }
                Way::ServerCloses => {
                    w(&mut s, &get(true))?;
                    let got = read_to_end(&mut s);
                    if !answered(&got) {
                        return fail("answer and close", &got);
                    }
                }
                Way::HalfClose => {
                    w(&mut s, &get(false))?;
                    s.half_close();
                    let got = read_to_end(&mut s);
                    if !answered(&got) {
                        return fail("answer after a half-close", &got);
                    }
                }
                Way::Reset => {
                    w(&mut s, &get(false))?;
                    let mut some = [0u8; 12];
                    s.read_exact(&mut some).map_err(|e| format!("read: {e}"))?;
                    if &some != b"HTTP/1.1 200" {
                        return fail("status", &String::from_utf8_lossy(&some));
                    }
                    std::thread::sleep(Duration::from_millis(2));
                    // The rest of the answer stays unread: a reset.
                    if let Stream::Tls(t) = &s {
                        let _ = t.get_ref().shutdown(Shutdown::Both);
                    }
                }
                Way::Vanish => {
                    for _ in 0..2 {
                        w(&mut s, &get(false))?;
                        let got = read_until(&mut s, tail);
                        if !answered(&got) {
                            return fail("kept-alive answer", &got);
                        }
                    }
                }
                Way::ResetMidRequest => {
                    w(&mut s, "GET / HTTP/1.1\r\nHo")?;
                }
            }
        }
    }
    drop(s);
    Ok(())
}

/// Runs `conns` connections against `addr`, half one after the other, half
/// from `threads` threads at once, cycling through the ways. Returns how
/// many were served (a request reset midway is not counted) and the
/// failures.
pub fn churn(
    addr: SocketAddr,
    target: &Target,
    conns: usize,
    threads: usize,
) -> (usize, Vec<String>) {
    let serves = |n: usize| !matches!(WAYS[n % WAYS.len()], Way::ResetMidRequest);
    let mut served = 0;
    let mut failures = Vec::new();
    let sequential = conns / 2;
    for n in 0..sequential {
        match client(addr, target, WAYS[n % WAYS.len()], n) {
            Ok(()) => served += usize::from(serves(n)),
            Err(e) => failures.push(e),
        }
    }
    let workers: Vec<_> = (0..threads)
        .map(|t| {
            let target = target.clone();
            std::thread::spawn(move || {
                let mut served = 0;
                let mut failures = Vec::new();
                for n in (sequential + t..conns).step_by(threads) {
                    match client(addr, &target, WAYS[n % WAYS.len()], n) {
                        Ok(()) => served += usize::from(serves(n)),
                        Err(e) => failures.push(e),
                    }
                }
                (served, failures)
            })
        })
        .collect();
    for w in workers {
        let (s, f) = w.join().expect("a client thread");
        served += s;
        failures.extend(f);
    }
    (served, failures)
}
