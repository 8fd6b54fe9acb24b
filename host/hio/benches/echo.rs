//! TCP echo server benchmark: `cargo bench -p hio --bench echo`.
//!
//! Measures, in one run and with the same load generator, three echo servers
//! on 127.0.0.1:
//!
//! - **native**: a single-threaded, edge-triggered mio echo server in this
//!   process (the baseline);
//! - **Python hio**: `bench/python-hio/echo_server.py`, Python hio's
//!   `EchoServerDoer` under a real-time `Doist` (tock 1 ms), run with
//!   `bench/python-hio/.venv/bin/python` (made by `bench/python-hio/setup.sh`;
//!   skipped when it is missing);
//! - **hio (Wasm)**: the `hio` binary running `examples/echo.toml`, whose
//!   `echo` doer is `plugins/dist/echo.wasm` (skipped when the binary, the
//!   manifest or the plugin is missing). The binary is `$HIO_BIN`, else
//!   `release/hio`, else `debug/hio`, in the target folder cargo built
//!   this benchmark in (`target/`, or `CARGO_TARGET_DIR`).
//!
//! Two phases per server:
//!
//! - **throughput**, once for each count of `ECHO_CLIENTS` (`1,10,20`):
//!   that many clients connect at once and share `ECHO_BYTES` (64 MiB):
//!   each writes its share of its own pseudo-random pattern and reads it
//!   back (while writing), checking every byte; MiB/s counts both
//!   directions, 2 × bytes / elapsed. One client is one fast stream; many
//!   clients show what the server does with many connections at once. One
//!   warm-up round, then `ECHO_ROUNDS` (5) rounds, of which the median is
//!   reported.
//! - **connections**: `ECHO_CONNS` (2,000) cycles of connect, write 1 byte,
//!   read it back, close, shared by `ECHO_WORKERS` (4) threads with blocking
//!   sockets; conns/s over `ECHO_ROUNDS` rounds, the median reported.
//!
//! Clients never half-close: Python hio drops the echo it has not sent yet
//! once the peer shuts down its write side. The native server handles a
//! half-close (it flushes, then shuts down its own write side).
//!
//! It is not a test: the figures carry this machine's noise, and the ratios
//! between servers measured in the same run are what to read. A wrong echoed
//! byte, a server closing early or a stall of 60 s aborts the run with an
//! error. Subprocesses are killed on the way out, on errors and on
//! SIGINT/SIGTERM as well.

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream as StdStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

/// Set by SIGINT or SIGTERM; every wait of the bench checks it.
static STOP: LazyLock<Arc<AtomicBool>> = LazyLock::new(|| Arc::new(AtomicBool::new(false)));

/// How long the bench waits for a server to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(30);
/// How long any phase may go without progress before the run is aborted.
const STALL_TIMEOUT: Duration = Duration::from_secs(60);
/// The distance, in bytes, between the clients' windows on the pattern.
const CLIENT_STRIDE: usize = 4099;

fn interrupted() -> Result<()> {
    if STOP.load(Ordering::Relaxed) {
        bail!("interrupted");
    }
    Ok(())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The figures of one run.
struct Config {
    /// The client counts of the throughput phase, one row each.
    clients: Vec<usize>,
    /// Bytes the clients of one round write in all.
    bytes: usize,
    conns: usize,
    workers: usize,
    rounds: usize,
}

fn env_usize(name: &str, default: usize) -> Result<usize> {
    match std::env::var(name) {
        Err(_) => Ok(default),
        Ok(text) => parse_size(&text)
            .filter(|&n| n > 0)
            .ok_or_else(|| anyhow!("{name}={text}: expected a positive number (K, M suffixes)")),
    }
}

/// "262144", "256K", "256KiB", "1M", "1MiB".
fn parse_size(text: &str) -> Option<usize> {
    let t = text.trim();
    let t = t
        .strip_suffix("iB")
        .or_else(|| t.strip_suffix('B'))
        .unwrap_or(t);
    let (digits, unit) = match t.char_indices().last()? {
        (i, 'k' | 'K') => (&t[..i], 1 << 10),
        (i, 'm' | 'M') => (&t[..i], 1 << 20),
        (i, 'g' | 'G') => (&t[..i], 1 << 30),
        _ => (t, 1),
    };
    digits.trim().parse::<usize>().ok()?.checked_mul(unit)
}

/// A comma-separated list of counts (each at least 1) from `name`.
fn env_list(name: &str, default: &[usize]) -> Result<Vec<usize>> {
    let Ok(text) = std::env::var(name) else {
        return Ok(default.to_vec());
    };
    text.split(',')
        .map(|t| match t.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(anyhow!(
                "{name}={text}: write counts above 0, comma-separated"
            )),
        })
        .collect()
}

impl Config {
    /// The bytes each of `clients` clients writes in a round.
    fn share(&self, clients: usize) -> usize {
        (self.bytes / clients).max(1)
    }

    fn from_env() -> Result<Self> {
        Ok(Self {
            clients: env_list("ECHO_CLIENTS", &[1, 10, 20])?,
            bytes: env_usize("ECHO_BYTES", 64 << 20)?,
            conns: env_usize("ECHO_CONNS", 2000)?,
            workers: env_usize("ECHO_WORKERS", 4)?,
            rounds: env_usize("ECHO_ROUNDS", 5)?,
        })
    }
}

mod common;
use common::median;

#[path = "echo/native.rs"]
mod native;
use native::NativeServer;

#[path = "echo/subprocess.rs"]
mod subprocess;
use subprocess::{start_hio, start_python};

// ---------------------------------------------------------------------------
// The load generator.

/// Pseudo-random bytes (xorshift64*); client `i` sends
/// `pattern[i * CLIENT_STRIDE..][..size]`.
fn pattern(len: usize) -> Vec<u8> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}

struct Client<'a> {
    stream: TcpStream,
    data: &'a [u8],
    written: usize,
    read: usize,
}

enum Step {
    Pending,
    Done,
}

impl Client<'_> {
    /// Writes and reads until both would block, checking what comes back.
    fn step(&mut self, id: usize, scratch: &mut [u8]) -> Result<Step> {
        let size = self.data.len();
        loop {
            let mut progress = false;
            while self.written < size {
                match self.stream.write(&self.data[self.written..]) {
                    Ok(0) => bail!("client {id}: write returned 0"),
                    Ok(n) => {
                        self.written += n;
                        progress = true;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    // Not connected yet: the writable event will come.
                    Err(e) if e.kind() == ErrorKind::NotConnected => break,
                    Err(e) => return Err(e).context(format!("client {id}: write")),
                }
            }
            match self.stream.read(scratch) {
                Ok(0) => bail!(
                    "client {id}: server closed the connection after echoing {} of {size} bytes",
                    self.read
                ),
                Ok(n) => {
                    let end = self.read + n;
                    if end > self.written {
                        bail!(
                            "client {id}: {end} bytes echoed but only {} written",
                            self.written
                        );
                    }
                    if scratch[..n] != self.data[self.read..end] {
                        let at = scratch[..n]
                            .iter()
                            .zip(&self.data[self.read..end])
                            .position(|(a, b)| a != b)
                            .unwrap_or(0);
                        bail!("client {id}: echoed byte {} differs", self.read + at);
                    }
                    self.read = end;
                    if self.read == size {
                        return Ok(Step::Done);
                    }
                    progress = true;
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => progress = true,
                Err(e) if e.kind() == ErrorKind::NotConnected => {}
                Err(e) => return Err(e).context(format!("client {id}: read")),
            }
            if !progress {
                return Ok(Step::Pending);
            }
        }
    }
}

/// One throughput round: MiB/s, both directions counted.
fn throughput_round(addr: SocketAddr, cfg: &Config, count: usize, pattern: &[u8]) -> Result<f64> {
    let mut poll = Poll::new()?;
    let mut events = Events::with_capacity(256);
    let mut scratch = vec![0u8; 64 << 10];
    let size = cfg.share(count);
    let start = Instant::now();
    let mut clients: Vec<Option<Client<'_>>> = Vec::with_capacity(count);
    for i in 0..count {
        let mut stream = TcpStream::connect(addr)?;
        poll.registry().register(
            &mut stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        let base = i * CLIENT_STRIDE;
        clients.push(Some(Client {
            stream,
            data: &pattern[base..base + size],
            written: 0,
            read: 0,
        }));
    }
    let mut left = count;
    let mut last_progress = Instant::now();
    while left > 0 {
        interrupted()?;
        match poll.poll(&mut events, Some(Duration::from_millis(100))) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
        if events.is_empty() && last_progress.elapsed() > STALL_TIMEOUT {
            let echoed: usize = clients.iter().flatten().map(|c| c.read).sum();
            bail!(
                "no progress for {} s: {left} of {} clients unfinished, {echoed} bytes echoed to them",
                STALL_TIMEOUT.as_secs(),
                count
            );
        }
        for event in &events {
            let id = event.token().0;
            let Some(client) = clients[id].as_mut() else {
                continue;
            };
            last_progress = Instant::now();
            if event.is_error()
                && let Some(e) = client.stream.take_error()?
            {
                return Err(e).context(format!("client {id}: socket error"));
            }
            if let Step::Done = client.step(id, &mut scratch)? {
                if let Some(mut c) = clients[id].take() {
                    poll.registry().deregister(&mut c.stream)?;
                }
                left -= 1;
            }
        }
    }
    let secs = start.elapsed().as_secs_f64();
    Ok((2 * count * size) as f64 / secs / (1 << 20) as f64)
}

/// One connections round: conns/s.
fn conns_round(addr: SocketAddr, cfg: &Config) -> Result<f64> {
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let workers: Vec<JoinHandle<Result<()>>> = (0..cfg.workers)
        .map(|_| {
            let next = Arc::clone(&next);
            let total = cfg.conns;
            thread::spawn(move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= total {
                        return Ok(());
                    }
                    interrupted()?;
                    let byte = [(i % 251) as u8];
                    let mut s = StdStream::connect_timeout(&addr, STALL_TIMEOUT)
                        .with_context(|| format!("connection {i}: connect"))?;
                    s.set_read_timeout(Some(STALL_TIMEOUT))?;
                    s.write_all(&byte)
                        .with_context(|| format!("connection {i}: write"))?;
                    let mut back = [0u8];
                    s.read_exact(&mut back)
                        .with_context(|| format!("connection {i}: read"))?;
                    if back != byte {
                        bail!("connection {i}: sent {} got {} back", byte[0], back[0]);
                    }
                }
            })
        })
        .collect();
    let mut first_error = None;
    for w in workers {
        let r = w
            .join()
            .map_err(|_| anyhow!("a connection worker panicked"));
        if let Err(e) = r.and_then(|r| r)
            && first_error.is_none()
        {
            first_error = Some(e);
        }
    }
    if let Some(e) = first_error {
        return Err(e);
    }
    Ok(cfg.conns as f64 / start.elapsed().as_secs_f64())
}

/// The median figures of one server.
struct Figures {
    /// MiB/s for each client count of the config, in order.
    mibs: Vec<f64>,
    conns: f64,
}

fn measure(
    name: &str,
    addr: SocketAddr,
    cfg: &Config,
    pattern: &[u8],
    mut alive: impl FnMut() -> Result<()>,
) -> Result<Figures> {
    let fail = |e: anyhow::Error| e.context(format!("{name} on {addr}"));
    let show = |xs: &[f64]| {
        xs.iter()
            .map(|x| format!("{x:.1}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut medians = Vec::new();
    for &count in &cfg.clients {
        throughput_round(addr, cfg, count, pattern).map_err(fail)?; // warm-up
        let mut mibs = Vec::new();
        for _ in 0..cfg.rounds {
            mibs.push(throughput_round(addr, cfg, count, pattern).map_err(fail)?);
            alive().map_err(fail)?;
        }
        eprintln!("  {count} clients, MiB/s rounds: {}", show(&mibs));
        medians.push(median(mibs));
    }
    let mut conns = Vec::new();
    for _ in 0..cfg.rounds {
        conns.push(conns_round(addr, cfg).map_err(fail)?);
        alive().map_err(fail)?;
    }
    eprintln!("  conns/s rounds: {}", show(&conns));
    Ok(Figures {
        mibs: medians,
        conns: median(conns),
    })
}

fn ratio(a: f64, b: Option<f64>) -> String {
    match b {
        Some(b) => format!("{:.3}", a / b),
        None => "-".into(),
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` passes nothing
    // that asks for a run, so only run when benchmarking.
    if !std::env::args().any(|a| a == "--bench") {
        println!("echo: not run without --bench (cargo bench -p hio --bench echo)");
        return;
    }
    // Every server and subprocess is dropped (stopped, killed) by the time
    // `run` returns, error or not.
    if let Err(e) = run() {
        eprintln!("echo: error: {e:#}");
        std::process::exit(1);
    }
}

fn run() -> Result<()> {
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 130, Arc::clone(&STOP))?;
        signal_hook::flag::register(signal, Arc::clone(&STOP))?;
    }
    let cfg = Config::from_env()?;
    let root = workspace_root().canonicalize()?;
    let longest = cfg
        .clients
        .iter()
        .map(|&n| cfg.share(n) + CLIENT_STRIDE * (n - 1))
        .max()
        .unwrap_or(0);
    let pattern = pattern(longest);
    println!(
        "echo: {:?} clients sharing {} bytes (ECHO_CLIENTS, ECHO_BYTES), {} connections over {} \
         workers (ECHO_CONNS, ECHO_WORKERS); median of {} rounds (ECHO_ROUNDS) after 1 warm-up round",
        cfg.clients, cfg.bytes, cfg.conns, cfg.workers, cfg.rounds
    );

    let mut rows: Vec<(&str, std::result::Result<Figures, String>)> = Vec::new();

    eprintln!("native (mio, 1 thread):");
    let native = NativeServer::start()?;
    let figures = measure("native", native.addr, &cfg, &pattern, || Ok(()))?;
    drop(native);
    rows.push(("native (mio)", Ok(figures)));

    eprintln!(
        "Python hio (EchoServerDoer, real time, tock {} s):",
        std::env::var("ECHO_PY_TOCK").unwrap_or_else(|_| "0.001".into())
    );
    let python = match start_python(&root)? {
        Ok((mut sub, addr)) => {
            let f = measure("Python hio", addr, &cfg, &pattern, || sub.check_alive())?;
            Ok(f)
        }
        Err(why) => Err(why),
    };
    if let Err(why) = &python {
        eprintln!("  skipped: {why}");
    }
    rows.push(("Python hio", python));

    eprintln!("hio (Wasm echo doer, examples/echo.toml):");
    let hio = match start_hio(&root)? {
        Ok((mut sub, addr)) => Ok(measure("hio", addr, &cfg, &pattern, || sub.check_alive())?),
        Err(why) => Err(why),
    };
    if let Err(why) = &hio {
        eprintln!("  skipped: {why}");
    }
    rows.push(("hio (Wasm)", hio));

    let native = rows[0].1.as_ref().ok();
    let python = rows[1].1.as_ref().ok();
    println!();
    println!(
        "{:<14} {:>8} {:>10}   {:>9}   {:>13}",
        "server", "clients", "MiB/s", "vs native", "vs Python hio"
    );
    for (i, &count) in cfg.clients.iter().enumerate() {
        for (name, row) in &rows {
            match row {
                Ok(f) => println!(
                    "{:<14} {:>8} {:>10.1}   {:>9}   {:>13}",
                    name,
                    count,
                    f.mibs[i],
                    ratio(f.mibs[i], native.map(|n| n.mibs[i])),
                    ratio(f.mibs[i], python.map(|p| p.mibs[i])),
                ),
                Err(why) => println!("{name:<14} {count:>8} skipped: {why}"),
            }
        }
    }
    println!();
    println!(
        "{:<14} {:>10}   {:>9}   {:>13}",
        "server", "conns/s", "vs native", "vs Python hio"
    );
    for (name, row) in &rows {
        if let Ok(f) = row {
            println!(
                "{:<14} {:>10.0}   {:>9}   {:>13}",
                name,
                f.conns,
                ratio(f.conns, native.map(|n| n.conns)),
                ratio(f.conns, python.map(|p| p.conns)),
            );
        }
    }
    Ok(())
}
