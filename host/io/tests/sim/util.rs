//! A harness for the simulated network: a net, its service, and the ticks
//! it is driven through, one doers' turn between each `before` and
//! `after`.

use std::sync::Arc;

use hio_io::{ConnId, ConnLimits, ConnState, HostPort, Net, NetService, Owner, SimConfig};
use hio_scheduler::{Services, SystemClock, Tick, WaitEnd};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
};
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ServerConfig};

/// Tyme per tick.
pub const STEP: f64 = 0.01;

pub struct Rig {
    pub net: Net,
    service: NetService,
    /// The number of the next tick (the first is 0, as the network's).
    pub tick: u64,
    /// The tyme of the next tick, and of the last one.
    pub tyme: f64,
    pub last: f64,
}

impl Rig {
    pub fn new(sim: SimConfig) -> Rig {
        let net = Net::simulated(sim);
        let service = net.service();
        Rig {
            net,
            service,
            tick: 0,
            tyme: 0.0,
            last: 0.0,
        }
    }

    /// One tick: the `before` pass, the doers' turn (`turn`, given the
    /// tick's number), the `after` pass.
    pub fn turn<T>(&mut self, turn: impl FnOnce(&Net, u64) -> T) -> T {
        self.service.before(Tick {
            tyme: self.tyme,
            early: false,
        });
        let out = turn(&self.net, self.tick);
        self.service.after(self.tyme);
        self.last = self.tyme;
        self.tick += 1;
        self.tyme += STEP;
        out
    }

    /// The wait between ticks, as simulated time calls it (no time).
    pub fn wait(&mut self) -> WaitEnd {
        self.service
            .wait(&SystemClock::default(), std::time::Duration::ZERO)
    }

    pub fn idle(&mut self, ticks: u64) {
        for _ in 0..ticks {
            self.turn(|_, _| ());
        }
    }

    /// Ticks until `done` holds in a doers' turn; returns that tick's
    /// number. Fails after `max` ticks.
    pub fn until(&mut self, max: u64, mut done: impl FnMut(&Net) -> bool) -> u64 {
        for _ in 0..max {
            if self.turn(|net, tick| done(net).then_some(tick)).is_some() {
                return self.tick - 1;
            }
        }
        panic!("not done within {max} ticks");
    }
}

pub fn hp(text: &str) -> HostPort {
    HostPort::parse(text).expect("address")
}

/// A client connected to a server, with their owners.
pub struct Pair {
    pub client: ConnId,
    pub server: ConnId,
    #[allow(dead_code)] // held: dropping them closes the connections
    pub owners: (Owner, Owner),
}

/// Listens on `127.0.0.1:0`, connects, and ticks until the server has
/// accepted and the client is open.
pub fn pair(rig: &mut Rig, limits: ConnLimits) -> Pair {
    let server_owner = rig.net.owner(limits);
    let client_owner = rig.net.owner(limits);
    let listener = rig
        .net
        .listen(&server_owner, &hp("127.0.0.1:0"), None)
        .expect("listen");
    let bound = rig.net.listener_address(listener).expect("bound");
    let client = rig
        .net
        .connect(&client_owner, &hp(&bound.to_string()), None, false)
        .expect("connect");
    let mut server = None;
    rig.until(50, |net| {
        server = server.or_else(|| net.accept(listener));
        server.is_some() && net.state(client) == ConnState::Open
    });
    Pair {
        client,
        server: server.expect("accepted"),
        owners: (client_owner, server_owner),
    }
}

/// What a side read in a tick: (tick, 'c' or 's', the bytes).
pub type Reads = Vec<(u64, char, Vec<u8>)>;

/// The client sends `msg`, the server echoes what it reads; ticks until the
/// client read it all back (at most `max` ticks). Returns every read.
pub fn echo(rig: &mut Rig, client: ConnId, server: ConnId, msg: &[u8], max: u64) -> Reads {
    let mut reads = Reads::new();
    let mut sent = 0;
    let mut back = Vec::new();
    let mut got = 0;
    for _ in 0..max {
        rig.turn(|net, tick| {
            let s = net.read(server, usize::MAX);
            if !s.is_empty() {
                back.extend_from_slice(&s);
                reads.push((tick, 's', s));
            }
            let n = net.write(server, &back);
            back.drain(..n);
            sent += net.write(client, &msg[sent..]);
            let c = net.read(client, usize::MAX);
            if !c.is_empty() {
                got += c.len();
                reads.push((tick, 'c', c));
            }
        });
        if got >= msg.len() {
            let echoed: Vec<u8> = reads
                .iter()
                .filter(|r| r.1 == 'c')
                .flat_map(|r| r.2.clone())
                .collect();
            assert_eq!(echoed, msg, "the echo differs");
            return reads;
        }
    }
    panic!("echoed {got} of {} bytes in {max} ticks", msg.len());
}

/// A message of `n` bytes that is not all the same.
pub fn message(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

fn named(cn: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, cn);
    dn
}

/// A server configuration for `localhost` signed by a fresh CA, and a
/// client configuration trusting that CA.
pub fn tls_configs() -> (Arc<ServerConfig>, Arc<ClientConfig>) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name = named("sim test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("key")).expect("CA");
    let key = KeyPair::generate().expect("key");
    let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).expect("params");
    leaf.distinguished_name = named("localhost");
    let cert = leaf.signed_by(&key, &ca).expect("cert");
    let dir = tempfile::tempdir().expect("dir");
    let path = |name: &str| dir.path().join(name);
    std::fs::write(path("ca.pem"), ca.pem()).expect("write");
    std::fs::write(path("server.pem"), cert.pem()).expect("write");
    std::fs::write(path("server.key"), key.serialize_pem()).expect("write");
    let server = hio_io::tls::server_config(&path("server.pem"), &path("server.key"))
        .expect("server config");
    let client =
        hio_io::tls::client_config(&[path("ca.pem")], false, false).expect("client config");
    (server, client)
}

pub fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").expect("name")
}
