//! HTTP/1.1 served by the host to Wasm doers, tried with clients no one
//! here wrote (curl, Python's `http.client` and `http.server`) and with
//! malformed requests sent raw over a socket; and the helpers those tests
//! share: a client in a thread while the run ticks, curl, a raw request.

mod client;
mod hello;
mod router;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::util::{Flag, Run};

/// Runs `work` in a thread while the run ticks; returns what it returned.
pub(crate) fn against<T: Send + 'static>(
    run: &mut Run,
    work: impl FnOnce() -> T + Send + 'static,
) -> T {
    let out = Arc::new(Mutex::new(None));
    let o = out.clone();
    let done = Flag::default();
    let d = done.clone();
    std::thread::spawn(move || {
        let v = work();
        *o.lock().unwrap() = Some(v);
        d.set();
    });
    run.until(Duration::from_secs(30), move || done.get());
    let v = out.lock().unwrap().take();
    v.unwrap_or_else(|| panic!("the client panicked; log:\n{}", run.log()))
}

pub(crate) fn curl(args: &[&str]) -> String {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10"])
        .args(args)
        .output()
        .expect("curl is needed for this test");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Sends `request` raw and reads until the server closes (or 10 s).
pub(crate) fn raw(addr: SocketAddr, request: Vec<u8>) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(&request).unwrap();
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    String::from_utf8_lossy(&got).into_owned()
}
