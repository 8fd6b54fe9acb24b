//! The native baseline of the echo benchmark: a single-threaded,
//! edge-triggered mio echo server.

use super::*;

// ---------------------------------------------------------------------------
// The native mio echo server.

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);
/// Echo not yet sent past which a connection stops reading until it drains.
const PENDING_CAP: usize = 1 << 20;

struct Conn {
    stream: TcpStream,
    /// Bytes read and not yet echoed are `out[sent..]`.
    out: Vec<u8>,
    sent: usize,
    read_closed: bool,
}

enum Drive {
    Open,
    Finished,
}

impl Conn {
    fn pending(&self) -> usize {
        self.out.len() - self.sent
    }

    /// Reads and echoes until the socket would block both ways (edge
    /// triggered: a later event comes only after a `WouldBlock`), or until
    /// the peer has closed its side and everything is echoed, when it shuts
    /// down its write side.
    fn drive(&mut self, scratch: &mut [u8]) -> io::Result<Drive> {
        loop {
            let mut progress = false;
            while self.pending() > 0 {
                match self.stream.write(&self.out[self.sent..]) {
                    Ok(0) => return Err(ErrorKind::WriteZero.into()),
                    Ok(n) => {
                        self.sent += n;
                        progress = true;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if self.pending() == 0 {
                self.out.clear();
                self.sent = 0;
            } else if self.sent > self.out.len() / 2 {
                self.out.drain(..self.sent);
                self.sent = 0;
            }
            if !self.read_closed && self.pending() < PENDING_CAP {
                match self.stream.read(scratch) {
                    Ok(0) => {
                        self.read_closed = true;
                        progress = true;
                    }
                    Ok(n) => {
                        self.out.extend_from_slice(&scratch[..n]);
                        progress = true;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) if e.kind() == ErrorKind::Interrupted => progress = true,
                    Err(e) => return Err(e),
                }
            }
            if self.read_closed && self.pending() == 0 {
                // Half-close from the peer: all echoed, now close our side.
                let _ = self.stream.shutdown(Shutdown::Write);
                return Ok(Drive::Finished);
            }
            if !progress {
                return Ok(Drive::Open);
            }
        }
    }
}

/// The native echo server, running in its own thread until dropped.
pub(super) struct NativeServer {
    pub(super) addr: SocketAddr,
    waker: Arc<Waker>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<()>>>,
}

impl NativeServer {
    pub(super) fn start() -> Result<Self> {
        let mut listener = TcpListener::bind("127.0.0.1:0".parse()?)?;
        let addr = listener.local_addr()?;
        let poll = Poll::new()?;
        poll.registry()
            .register(&mut listener, LISTENER, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let stop = Arc::clone(&stop);
            thread::Builder::new()
                .name("native-echo".into())
                .spawn(move || serve(poll, listener, &stop))?
        };
        Ok(Self {
            addr,
            waker,
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for NativeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.waker.wake();
        if let Some(t) = self.thread.take() {
            match t.join() {
                Ok(Ok(())) => {}
                Ok(Err(e)) => eprintln!("native echo server: {e:#}"),
                Err(_) => eprintln!("native echo server panicked"),
            }
        }
    }
}

fn serve(mut poll: Poll, listener: TcpListener, stop: &AtomicBool) -> Result<()> {
    let mut events = Events::with_capacity(1024);
    let mut conns: HashMap<Token, Conn> = HashMap::new();
    let mut next = 2;
    let mut scratch = vec![0u8; 64 << 10];
    while !stop.load(Ordering::Relaxed) {
        match poll.poll(&mut events, None) {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
        for event in &events {
            match event.token() {
                WAKER => {}
                LISTENER => loop {
                    match listener.accept() {
                        Ok((mut stream, _)) => {
                            let token = Token(next);
                            next += 1;
                            poll.registry().register(
                                &mut stream,
                                token,
                                Interest::READABLE | Interest::WRITABLE,
                            )?;
                            let mut conn = Conn {
                                stream,
                                out: Vec::new(),
                                sent: 0,
                                read_closed: false,
                            };
                            // Data may have arrived before registration.
                            match conn.drive(&mut scratch) {
                                Ok(Drive::Open) => {
                                    conns.insert(token, conn);
                                }
                                Ok(Drive::Finished) | Err(_) => {
                                    let _ = poll.registry().deregister(&mut conn.stream);
                                }
                            }
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == ErrorKind::Interrupted => {}
                        // Out of descriptors, a connection reset before
                        // accept: try again on the next event.
                        Err(_) => break,
                    }
                },
                token => {
                    let Some(conn) = conns.get_mut(&token) else {
                        continue;
                    };
                    if !matches!(conn.drive(&mut scratch), Ok(Drive::Open))
                        && let Some(mut conn) = conns.remove(&token)
                    {
                        let _ = poll.registry().deregister(&mut conn.stream);
                    }
                }
            }
        }
    }
    Ok(())
}
