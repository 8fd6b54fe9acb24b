//! What an owner holds, through the public API: a connection it let go of
//! counts against its limit until flushed, and nothing it opens outlives
//! it.

use std::io::Read;
use std::net::TcpListener;

use hio_io::{ConnLimits, ConnState, HostPort, Net, NetErrorKind};
use hio_scheduler::{Services, Tick};

fn tick(service: &mut hio_io::NetService, tyme: f64) {
    service.before(Tick { tyme, early: false });
    service.after(tyme);
}

#[test]
fn a_closing_connection_counts_until_it_is_flushed() {
    let peer = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = HostPort::parse(&peer.local_addr().expect("addr").to_string()).expect("addr");
    let net = Net::new().expect("poll");
    let mut service = net.service();
    let owner = net.owner(ConnLimits {
        connections: 1,
        ..ConnLimits::default()
    });
    let conn = net.connect(&owner, &addr, None, false).expect("connect");
    let mut tyme = 0.0;
    while net.state(conn) == ConnState::Connecting {
        tyme += 0.01;
        tick(&mut service, tyme);
    }
    // Write until neither the send buffer nor the kernel takes more: the
    // peer accepts nothing and reads nothing.
    let chunk = vec![7u8; 64 << 10];
    let mut written = 0;
    let mut idle = 0;
    while idle < 3 {
        let n = net.write(conn, &chunk);
        written += n;
        idle = if n == 0 { idle + 1 } else { 0 };
        tyme += 0.01;
        tick(&mut service, tyme);
    }
    net.close(conn);
    // Still flushing, it holds the doer's one connection.
    let again = net.connect(&owner, &addr, None, false);
    assert!(
        matches!(&again, Err(e) if e.kind() == NetErrorKind::Limit),
        "{again:?}"
    );
    // The peer reads it all: the flush ends, the connection goes, and the
    // doer may connect again.
    let (mut s, _) = peer.accept().expect("accept");
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        s.read_to_end(&mut got).expect("read");
        got.len()
    });
    // Tyme keeps pace with wall time here: ticking faster would let the
    // idle timeout (60 s of tyme) end the connection before the peer's
    // thread has read anything, and that is not what is tested.
    let start = std::time::Instant::now();
    while net.connections() > 0 {
        assert!(start.elapsed().as_secs() < 20, "never flushed");
        std::thread::sleep(std::time::Duration::from_millis(1));
        tyme += 0.001;
        tick(&mut service, tyme);
    }
    assert_eq!(reader.join().expect("reader"), written);
    net.connect(&owner, &addr, None, false).expect("room again");
}

#[test]
fn dropping_the_owner_closes_what_it_holds() {
    let net = Net::new().expect("poll");
    let mut service = net.service();
    let owner = net.owner(ConnLimits::default());
    let any = HostPort::parse("127.0.0.1:0").expect("addr");
    let listener = net.listen(&owner, &any, None).expect("listen");
    let bound = net.listener_address(listener).expect("bound");
    let mut a = std::net::TcpStream::connect(bound).expect("connect");
    let mut b = std::net::TcpStream::connect(bound).expect("connect");
    let taken = loop {
        tick(&mut service, 0.0);
        if let Some(c) = net.accept(listener) {
            break c;
        }
    };
    // One taken by the doer, one still pending in the listener.
    let _ = taken;
    drop(owner);
    tick(&mut service, 0.01);
    let mut buf = [0u8; 1];
    for s in [&mut a, &mut b] {
        s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("timeout");
        // The end of the stream, or a reset: closed either way.
        assert!(matches!(s.read(&mut buf), Ok(0) | Err(_)));
    }
    // Once the peers close too, nothing is left.
    drop((a, b));
    let start = std::time::Instant::now();
    while net.connections() > 0 {
        assert!(start.elapsed().as_secs() < 5, "still open");
        tick(&mut service, 0.02);
    }
}
