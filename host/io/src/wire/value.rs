//! How the values a doer observes are written in `call` records.

use std::net::SocketAddr;

use crate::{
    ConnFailure, ConnId, ConnState, ExchangeError, HttpCallError, ListenerId, NetError,
    NetErrorKind, OutgoingId, RequestId, ServerId,
};

/// An encoder: varints, `f64`s, strings and raw bytes.
#[derive(Debug, Default)]
pub struct Enc(Vec<u8>);

impl Enc {
    /// A byte.
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    /// An unsigned LEB128 varint.
    pub fn uint(&mut self, mut v: u64) {
        loop {
            let low = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                self.0.push(low);
                return;
            }
            self.0.push(low | 0x80);
        }
    }

    /// 8 bytes little-endian.
    pub fn f64(&mut self, v: f64) {
        self.0.extend_from_slice(&v.to_bits().to_le_bytes());
    }

    /// A length, then the bytes.
    pub fn bytes(&mut self, b: &[u8]) {
        self.uint(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    /// A length, then the UTF-8.
    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }

    /// Bytes with no length.
    pub fn raw(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    /// What was written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// A decoder over a record's body; every error names what was cut short.
#[derive(Debug)]
pub struct Dec<'a>(&'a [u8]);

impl<'a> Dec<'a> {
    /// Decodes `bytes`.
    pub fn new(bytes: &'a [u8]) -> Dec<'a> {
        Dec(bytes)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        if self.0.len() < n {
            return Err(format!("cut short: needs {n} bytes, {} left", self.0.len()));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    /// A byte.
    pub fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    /// 0 or 1.
    pub fn bool(&mut self) -> Result<bool, String> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(format!("a flag of {b}")),
        }
    }

    /// A varint.
    pub fn uint(&mut self) -> Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            let part = u64::from(b & 0x7f);
            if shift == 63 && part > 1 {
                return Err("a varint over 64 bits".into());
            }
            v |= part << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a varint over 64 bits".into())
    }

    /// 8 bytes little-endian.
    pub fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_bits(u64::from_le_bytes(self.array::<8>()?)))
    }

    /// `N` raw bytes.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }

    /// A length and bytes.
    pub fn bytes(&mut self) -> Result<Vec<u8>, String> {
        let n = self.uint()?;
        let n = usize::try_from(n).map_err(|_| format!("a length of {n}"))?;
        Ok(self.take(n)?.to_vec())
    }

    /// A length and UTF-8.
    pub fn string(&mut self) -> Result<String, String> {
        String::from_utf8(self.bytes()?).map_err(|_| "a string that is not UTF-8".into())
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.0)
    }

    /// Fails if anything is left.
    pub fn finish(&self) -> Result<(), String> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(format!("{} bytes too many", self.0.len()))
        }
    }
}

/// A value a host call returns, as a `call` record holds it.
pub trait Wire: Sized {
    /// Writes it.
    fn enc(&self, e: &mut Enc);
    /// Reads it back.
    fn dec(d: &mut Dec<'_>) -> Result<Self, String>;
}

impl Wire for () {
    fn enc(&self, _: &mut Enc) {}
    fn dec(_: &mut Dec<'_>) -> Result<(), String> {
        Ok(())
    }
}

impl Wire for bool {
    fn enc(&self, e: &mut Enc) {
        e.u8(u8::from(*self));
    }
    fn dec(d: &mut Dec<'_>) -> Result<bool, String> {
        d.bool()
    }
}

impl Wire for u16 {
    fn enc(&self, e: &mut Enc) {
        e.uint(u64::from(*self));
    }
    fn dec(d: &mut Dec<'_>) -> Result<u16, String> {
        let v = d.uint()?;
        u16::try_from(v).map_err(|_| format!("{v} is not a u16"))
    }
}

impl Wire for u64 {
    fn enc(&self, e: &mut Enc) {
        e.uint(*self);
    }
    fn dec(d: &mut Dec<'_>) -> Result<u64, String> {
        d.uint()
    }
}

impl Wire for usize {
    fn enc(&self, e: &mut Enc) {
        e.uint(*self as u64);
    }
    fn dec(d: &mut Dec<'_>) -> Result<usize, String> {
        let v = d.uint()?;
        usize::try_from(v).map_err(|_| format!("{v} is too big"))
    }
}

impl Wire for String {
    fn enc(&self, e: &mut Enc) {
        e.str(self);
    }
    fn dec(d: &mut Dec<'_>) -> Result<String, String> {
        d.string()
    }
}

impl Wire for Vec<u8> {
    fn enc(&self, e: &mut Enc) {
        e.bytes(self);
    }
    fn dec(d: &mut Dec<'_>) -> Result<Vec<u8>, String> {
        d.bytes()
    }
}

impl<T: Wire> Wire for Option<T> {
    fn enc(&self, e: &mut Enc) {
        match self {
            None => e.u8(0),
            Some(v) => {
                e.u8(1);
                v.enc(e);
            }
        }
    }
    fn dec(d: &mut Dec<'_>) -> Result<Option<T>, String> {
        Ok(if d.bool()? { Some(T::dec(d)?) } else { None })
    }
}

impl<T: Wire, E: Wire> Wire for Result<T, E> {
    fn enc(&self, e: &mut Enc) {
        match self {
            Ok(v) => {
                e.u8(0);
                v.enc(e);
            }
            Err(x) => {
                e.u8(1);
                x.enc(e);
            }
        }
    }
    fn dec(d: &mut Dec<'_>) -> Result<Result<T, E>, String> {
        Ok(if d.bool()? {
            Err(E::dec(d)?)
        } else {
            Ok(T::dec(d)?)
        })
    }
}

impl<A: Wire, B: Wire> Wire for (A, B) {
    fn enc(&self, e: &mut Enc) {
        self.0.enc(e);
        self.1.enc(e);
    }
    fn dec(d: &mut Dec<'_>) -> Result<(A, B), String> {
        Ok((A::dec(d)?, B::dec(d)?))
    }
}

impl<A: Wire, B: Wire> Wire for Vec<(A, B)> {
    fn enc(&self, e: &mut Enc) {
        e.uint(self.len() as u64);
        for v in self {
            v.enc(e);
        }
    }
    fn dec(d: &mut Dec<'_>) -> Result<Vec<(A, B)>, String> {
        let n = d.uint()?;
        let mut out = Vec::new();
        for _ in 0..n {
            out.push(<(A, B)>::dec(d)?);
        }
        Ok(out)
    }
}

impl Wire for SocketAddr {
    fn enc(&self, e: &mut Enc) {
        e.str(&self.to_string());
    }
    fn dec(d: &mut Dec<'_>) -> Result<SocketAddr, String> {
        let s = d.string()?;
        s.parse().map_err(|_| format!("{s:?} is not an address"))
    }
}

macro_rules! handle_wire {
    ($($id:ident),*) => {$(
        impl Wire for $id {
            fn enc(&self, e: &mut Enc) {
                e.uint(self.raw());
            }
            fn dec(d: &mut Dec<'_>) -> Result<$id, String> {
                Ok($id::from_raw(d.uint()?))
            }
        }
    )*};
}

handle_wire!(ConnId, ListenerId, ServerId, RequestId, OutgoingId);

impl Wire for ConnState {
    fn enc(&self, e: &mut Enc) {
        let (tag, why) = match self {
            ConnState::Connecting => (0, None),
            ConnState::Open => (1, None),
            ConnState::PeerClosed => (2, None),
            ConnState::Reset => (3, None),
            ConnState::TimedOut => (4, None),
            ConnState::Closed => (5, None),
            ConnState::Failed(why) => (6, Some(why.to_string())),
        };
        e.u8(tag);
        if let Some(why) = why {
            e.str(&why);
        }
    }
    fn dec(d: &mut Dec<'_>) -> Result<ConnState, String> {
        Ok(match d.u8()? {
            0 => ConnState::Connecting,
            1 => ConnState::Open,
            2 => ConnState::PeerClosed,
            3 => ConnState::Reset,
            4 => ConnState::TimedOut,
            5 => ConnState::Closed,
            6 => ConnState::Failed(ConnFailure::Recorded(d.string()?)),
            t => return Err(format!("connection state {t}")),
        })
    }
}

impl Wire for NetError {
    fn enc(&self, e: &mut Enc) {
        e.u8(match self.kind() {
            NetErrorKind::NotGranted => 0,
            NetErrorKind::BadAddress => 1,
            NetErrorKind::Limit => 2,
            NetErrorKind::Io => 3,
        });
        e.str(&self.reason());
    }
    fn dec(d: &mut Dec<'_>) -> Result<NetError, String> {
        let tag = d.u8()?;
        let reason = d.string()?;
        let kind = match tag {
            0 => NetErrorKind::NotGranted,
            1 => NetErrorKind::BadAddress,
            2 => NetErrorKind::Limit,
            3 => NetErrorKind::Io,
            t => return Err(format!("network error kind {t}")),
        };
        Ok(NetError::Recorded { kind, reason })
    }
}

/// An HTTP outcome travels as its text (what the doer sees).
macro_rules! text_wire {
    ($($error:ident),*) => {$(
        impl Wire for $error {
            fn enc(&self, e: &mut Enc) {
                e.str(&self.to_string());
            }
            fn dec(d: &mut Dec<'_>) -> Result<$error, String> {
                Ok($error::Recorded(d.string()?))
            }
        }
    )*};
}

text_wire!(HttpCallError, ExchangeError);

/// Encodes `v` alone.
pub fn encode<T: Wire>(v: &T) -> Vec<u8> {
    let mut e = Enc::default();
    v.enc(&mut e);
    e.into_bytes()
}

/// Decodes a whole `call` result.
pub fn decode<T: Wire>(bytes: &[u8]) -> Result<T, String> {
    let mut d = Dec::new(bytes);
    let v = T::dec(&mut d)?;
    d.finish()?;
    Ok(v)
}
