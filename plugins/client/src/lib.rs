//! Sends a deterministic payload to an echo server and checks that every
//! byte comes back. Options: `addr` (required), `size` (bytes, default
//! 1048576), `tls` (default false), `server_name` (TLS, default
//! `localhost`), `reconnect` (default false), `seed` (default 1).
//!
//! It connects in enter. Each recur reads back what arrived, checking it
//! byte for byte (a mismatch fails naming the offset), then writes as much
//! of the payload as the send buffer takes, and shuts down once all of it
//! is written. Done, logging `echoed N bytes`, once all `size` bytes came
//! back and the connection is closed or peer-closed. A connection that is
//! reset, timed out or failed, or ends before everything came back, fails
//! the recur naming its state.

use hio_guest::net::{Connection, State};
use hio_guest::{Doer, Options, export_doer, log};

/// The most bytes generated, written or read at once.
const CHUNK: usize = 64 * 1024;

/// Read or write rounds per tick at most, so a tick stays bounded.
const ROUNDS: usize = 64;

/// The payload: xorshift64 bytes, the same for the same seed.
struct Payload {
    state: u64,
    word: [u8; 8],
    used: usize,
}

impl Payload {
    fn new(seed: i64) -> Self {
        // Any seed, 0 included, gives a non-zero xorshift state.
        let state = (seed as u64) ^ 0x9E37_79B9_7F4A_7C15;
        Payload {
            state: if state == 0 { 1 } else { state },
            word: [0; 8],
            used: 8,
        }
    }

    fn next(&mut self) -> u8 {
        if self.used == 8 {
            let mut x = self.state;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            self.state = x;
            self.word = x.to_le_bytes();
            self.used = 0;
        }
        self.used += 1;
        self.word[self.used - 1]
    }
}

struct Config {
    addr: String,
    size: u64,
    tls: bool,
    server_name: String,
    reconnect: bool,
    seed: i64,
}

impl Config {
    fn parse(options: &Options) -> Result<Self, String> {
        options.only(Client::OPTIONS)?;
        let addr = options
            .text("addr")?
            .ok_or("option `addr` is required (`host:port` of the echo server)")?
            .to_owned();
        let size = options.integer("size")?.unwrap_or(1 << 20);
        let size = u64::try_from(size).map_err(|_| "option `size` must be >= 0".to_owned())?;
        let tls = options.boolean("tls")?.unwrap_or(false);
        let server_name = options
            .text("server_name")?
            .unwrap_or("localhost")
            .to_owned();
        let reconnect = options.boolean("reconnect")?.unwrap_or(false);
        let seed = options.integer("seed")?.unwrap_or(1);
        Ok(Config {
            addr,
            size,
            tls,
            server_name,
            reconnect,
            seed,
        })
    }
}

struct Client {
    addr: String,
    conn: Connection,
    size: u64,
    /// Generates what is written.
    out: Payload,
    /// Generated, not yet taken by the send buffer.
    unsent: Vec<u8>,
    /// Bytes generated so far (taken, or waiting in `unsent`).
    generated: u64,
    /// Regenerates what should come back.
    expect: Payload,
    /// Bytes that came back so far, all checked.
    received: u64,
    shut: bool,
}

impl Client {
    /// Reads back what arrived and checks it against the payload.
    fn read_back(&mut self) -> Result<(), String> {
        for _ in 0..ROUNDS {
            let bytes = self.conn.read(CHUNK as u32);
            if bytes.is_empty() {
                break;
            }
            for (i, &got) in bytes.iter().enumerate() {
                let offset = self.received + i as u64;
                if offset >= self.size {
                    return Err(format!(
                        "{}: more bytes came back than the {} sent (offset {offset})",
                        self.addr, self.size
                    ));
                }
                let want = self.expect.next();
                if got != want {
                    return Err(format!(
                        "{}: mismatch at offset {offset}: sent {want:#04x}, got {got:#04x}",
                        self.addr
                    ));
                }
            }
            self.received += bytes.len() as u64;
        }
        Ok(())
    }

    /// Writes what the send buffer takes of the payload; shuts down once
    /// all of it is written.
    fn send(&mut self) {
        for _ in 0..ROUNDS {
            if self.unsent.is_empty() {
                let n = (self.size - self.generated).min(CHUNK as u64) as usize;
                if n == 0 {
                    break;
                }
                self.unsent = (0..n).map(|_| self.out.next()).collect();
                self.generated += n as u64;
            }
            let taken = (self.conn.write(&self.unsent) as usize).min(self.unsent.len());
            self.unsent.drain(..taken);
            if !self.unsent.is_empty() {
                break; // The send buffer is full: the rest waits.
            }
        }
        if !self.shut && self.generated == self.size && self.unsent.is_empty() {
            self.conn.shutdown();
            self.shut = true;
        }
    }

    fn incomplete(&self, state: &State) -> String {
        format!(
            "connection to {} {state} after {} of {} bytes came back",
            self.addr, self.received, self.size
        )
    }
}

impl Doer for Client {
    const OPTIONS: &'static [&'static str] =
        &["addr", "size", "tls", "server_name", "reconnect", "seed"];

    fn validate(options: &Options) -> Result<(), String> {
        Config::parse(options).map(|_| ())
    }

    fn enter(options: &Options) -> Result<Self, String> {
        let c = Config::parse(options)?;
        let no_alpn: &[&str] = &[];
        let conn = if c.tls {
            Connection::tls_connect(&c.addr, &c.server_name, no_alpn, c.reconnect)
        } else {
            Connection::connect(&c.addr, c.reconnect)
        }
        .map_err(|e| format!("cannot connect to {}: {e}", c.addr))?;
        Ok(Client {
            addr: c.addr,
            conn,
            size: c.size,
            out: Payload::new(c.seed),
            unsent: Vec::new(),
            generated: 0,
            expect: Payload::new(c.seed),
            received: 0,
            shut: false,
        })
    }

    fn recur(&mut self, _tyme: f64) -> Result<bool, String> {
        let state = self.conn.state();
        match state {
            State::Connecting => return Ok(false),
            State::Open | State::PeerClosed | State::Closed => {}
            State::Reset | State::TimedOut | State::Failed(_) => {
                // What arrived before stays readable: check it, then fail.
                self.read_back()?;
                return Err(self.incomplete(&state));
            }
        }
        self.read_back()?;
        if state == State::Open {
            self.send();
        }
        let complete = self.received == self.size;
        match state {
            State::Open => Ok(false),
            _ if complete => {
                log::info(&format!("echoed {} bytes", self.received));
                Ok(true)
            }
            // Closed or peer-closed: nothing more will arrive.
            _ if self.conn.available() == 0 => Err(self.incomplete(&state)),
            _ => Ok(false),
        }
    }
}

export_doer!(Client);
