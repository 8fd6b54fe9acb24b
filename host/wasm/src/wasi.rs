//! WASI with no ambient authority: no preopens, no environment, no sockets.
//! Clocks read tyme (and every clock pollable is ready at once), randomness
//! is seeded per doer, and stdout/stderr go to a bounded capture that always
//! accepts bytes.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use wasmtime::component::{HasData, Linker, Resource};
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::clocks::{HostMonotonicClock, HostWallClock};
use wasmtime_wasi::p2::bindings::random::{insecure, random};
use wasmtime_wasi::p2::{
    DynPollable, OutputStream, Pollable, StreamError, StreamResult, subscribe,
};
use wasmtime_wasi::random::WasiRandomCtx;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiView};

use crate::charge::Crossing;
use crate::failure::{Limit, OverLimit};

/// Largest single random request a doer may make.
pub const MAX_RANDOM: u64 = 64 * 1024;
/// Guest output kept per hook call; the rest is counted and dropped.
pub const MAX_OUTPUT: usize = 16 * 1024;

/// The current tyme (shared with the WASI clocks) and the calling doer's
/// tock, as f64 bits; set by the host before each hook call.
#[derive(Debug, Clone, Default)]
pub struct TymeCell(Arc<[AtomicU64; 2]>);

impl TymeCell {
    pub fn set(&self, tyme: f64, tock: f64) {
        self.0[0].store(tyme.to_bits(), Ordering::Relaxed);
        self.0[1].store(tock.to_bits(), Ordering::Relaxed);
    }

    pub fn get(&self) -> f64 {
        f64::from_bits(self.0[0].load(Ordering::Relaxed))
    }

    pub fn tock(&self) -> f64 {
        f64::from_bits(self.0[1].load(Ordering::Relaxed))
    }
}

/// What a run's tyme 0 stands for on the wall clock, shared by its doers'
/// WASI wall clocks: the Unix epoch (zero, the default) in simulated time,
/// the run's start in real mode (set when the run starts).
#[derive(Debug, Clone, Default)]
pub struct WallStart(Arc<AtomicU64>);

impl WallStart {
    /// Sets the start, as time since the Unix epoch.
    pub fn set(&self, since_epoch: Duration) {
        let nanos = u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX);
        self.0.store(nanos, Ordering::Relaxed);
    }

    /// The start, as time since the Unix epoch.
    pub fn get(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }
}

/// Wall clock: the run's wall start plus tyme.
struct WallTyme(TymeCell, WallStart);

impl HostWallClock for WallTyme {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        self.1
            .get()
            .saturating_add(Duration::try_from_secs_f64(self.0.get()).unwrap_or(Duration::ZERO))
    }
}

/// Monotonic clock: tyme in nanoseconds.
struct MonotonicTyme(TymeCell);

impl HostMonotonicClock for MonotonicTyme {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        // Saturating: tyme is finite and non-negative in practice.
        (self.0.get() * 1e9) as u64
    }
}

/// What a doer printed during one hook call.
#[derive(Debug, Default)]
pub struct Captured {
    pub bytes: Vec<u8>,
    pub dropped: u64,
}

#[derive(Debug)]
struct OutputInner {
    captured: Mutex<Captured>,
    /// Set on write, so a call that printed nothing costs no lock.
    written: AtomicBool,
    /// What the hook call has handed the host, against its limit.
    crossing: Crossing,
}

/// Guest stdout or stderr: bounded, never blocks; accepts every write
/// within the call's `limits.host_bytes`.
#[derive(Debug, Clone)]
pub struct GuestOutput(Arc<OutputInner>);

impl GuestOutput {
    /// An empty capture whose writes count against `crossing`.
    pub fn new(crossing: &Crossing) -> GuestOutput {
        GuestOutput(Arc::new(OutputInner {
            captured: Mutex::default(),
            written: AtomicBool::new(false),
            crossing: crossing.clone(),
        }))
    }

    /// Takes what was captured since the last call.
    pub fn take(&self) -> Captured {
        if !self.0.written.swap(false, Ordering::Relaxed) {
            return Captured::default();
        }
        std::mem::take(
            &mut *self
                .0
                .captured
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }
}

impl IsTerminal for GuestOutput {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestOutput {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(self.clone())
    }

    fn async_stream(&self) -> Box<dyn tokio::io::AsyncWrite + Send + Sync> {
        // Only the p2 stream is linked; this one discards.
        Box::new(tokio::io::sink())
    }
}

impl OutputStream for GuestOutput {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        if let Err(over) = self.0.crossing.add(bytes.len()) {
            return Err(StreamError::Trap(wasmtime::Error::new(over)));
        }
        self.0.written.store(true, Ordering::Relaxed);
        let mut c = self
            .0
            .captured
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let room = MAX_OUTPUT.saturating_sub(c.bytes.len()).min(bytes.len());
        c.bytes.extend_from_slice(&bytes[..room]);
        c.dropped += (bytes.len() - room) as u64;
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(64 * 1024)
    }
}

#[wasmtime_wasi::async_trait]
impl Pollable for GuestOutput {
    async fn ready(&mut self) {}
}

/// A pollable that is ready at once: time does not pass inside a hook.
struct Ready;

#[wasmtime_wasi::async_trait]
impl Pollable for Ready {
    async fn ready(&mut self) {}
}

/// A stable 64-bit hash (FNV-1a), for seeds that must not change between
/// builds or platforms.
fn fnv(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for &b in *part {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The seed of a doer instance: (run seed, path, attempt).
pub fn seed(run_seed: u64, path: &str, attempt: u32) -> u64 {
    fnv(&[
        &run_seed.to_le_bytes(),
        path.as_bytes(),
        &attempt.to_le_bytes(),
    ])
}

/// A WASI context that grants nothing and reads only what the host gives;
/// its wall clock reads `start` plus tyme.
pub fn context(
    tyme: &TymeCell,
    start: &WallStart,
    seed: u64,
    stdout: &GuestOutput,
    stderr: &GuestOutput,
) -> WasiCtx {
    WasiCtxBuilder::new()
        .wall_clock(WallTyme(tyme.clone(), start.clone()))
        .monotonic_clock(MonotonicTyme(tyme.clone()))
        .secure_random(StdRng::seed_from_u64(seed))
        .insecure_random(StdRng::seed_from_u64(seed ^ 0x5eed))
        .insecure_random_seed(u128::from(seed) << 64 | u128::from(!seed))
        .max_random_size(MAX_RANDOM)
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false)
        .build()
}

/// Adds WASI p2 to the linker, with clock pollables that are ready at once
/// and random requests over [`MAX_RANDOM`] refused with a typed error.
pub fn add_to_linker<T: WasiView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    linker.allow_shadowing(true);
    let mut clock = linker.instance("wasi:clocks/monotonic-clock@0.2.12")?;
    for name in ["subscribe-duration", "subscribe-instant"] {
        clock.func_wrap(
            name,
            |mut store: wasmtime::StoreContextMut<'_, T>,
             (_,): (u64,)|
             -> wasmtime::Result<(Resource<DynPollable>,)> {
                let table = store.data_mut().ctx().table;
                let ready = table.push(Ready)?;
                Ok((subscribe(table, ready)?,))
            },
        )?;
    }
    random::add_to_linker::<T, Guarded>(linker, |t| BoundedRandom(t.ctx().ctx.random()))?;
    insecure::add_to_linker::<T, Guarded>(linker, |t| BoundedRandom(t.ctx().ctx.random()))?;
    linker.allow_shadowing(false);
    Ok(())
}

/// WASI's random generators behind a size check of our own, so a request
/// over [`MAX_RANDOM`] fails with [`Limit::Random`]; under it, the bytes are
/// WASI's own (the same seeded generator, the same sequence).
struct BoundedRandom<'a>(&'a mut WasiRandomCtx);

impl BoundedRandom<'_> {
    fn check(len: u64) -> wasmtime::Result<()> {
        if len > MAX_RANDOM {
            return Err(wasmtime::Error::new(OverLimit(Limit::Random(MAX_RANDOM))));
        }
        Ok(())
    }
}

impl random::Host for BoundedRandom<'_> {
    fn get_random_bytes(&mut self, len: u64) -> wasmtime::Result<Vec<u8>> {
        Self::check(len)?;
        random::Host::get_random_bytes(self.0, len)
    }

    fn get_random_u64(&mut self) -> wasmtime::Result<u64> {
        random::Host::get_random_u64(self.0)
    }
}

impl insecure::Host for BoundedRandom<'_> {
    fn get_insecure_random_bytes(&mut self, len: u64) -> wasmtime::Result<Vec<u8>> {
        Self::check(len)?;
        insecure::Host::get_insecure_random_bytes(self.0, len)
    }

    fn get_insecure_random_u64(&mut self) -> wasmtime::Result<u64> {
        insecure::Host::get_insecure_random_u64(self.0)
    }
}

struct Guarded;

impl HasData for Guarded {
    type Data<'a> = BoundedRandom<'a>;
}
