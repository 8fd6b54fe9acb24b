//! What a doer pays for the host's work on its behalf.
//!
//! Every host call that lifts, copies or keeps bytes for a doer (a log
//! message, a deck's name and item, guest output) charges the calling hook
//! call twice over:
//!
//! - in fuel, [`FUEL_PER_BYTE`] per byte, taken from the fuel the call has
//!   left (run out and the call fails `out of fuel`), so in simulated time a
//!   call's fuel bounds the host's work for it as it bounds the guest's;
//! - against the doer's `limits.host_bytes`, the bytes one hook call may hand
//!   the host in all (default [`DEFAULT_HOST_BYTES`]); past it the call
//!   fails, naming the limit.
//!
//! Guest output is counted against `host_bytes` only: WASI's streams give
//! the host no handle on the store's fuel.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use wasmtime::{StoreContextMut, Trap};

use crate::failure::{Limit, OverLimit};

/// Fuel a host call costs per byte it lifts, copies or keeps.
pub const FUEL_PER_BYTE: u64 = 1;

/// Default bytes one hook call may hand the host (`limits.host_bytes`).
pub const DEFAULT_HOST_BYTES: u64 = 4 << 20;

/// Bumped by every host call that leaves the host something to do when the
/// hook returns. Every such call but one hands bytes over first (log lines,
/// deck items, output, network bytes, spawns and removals: limits gone over
/// are found there too), and [`Crossing::add`] bumps it; the one that does
/// not, `set-tock`, calls [`touch`], as does every log line kept. A hook call that leaves it unchanged (a quiet call, the
/// common case) has nothing to deliver, and the host touches none of the
/// doer's store data for it: at 10,000 doers each line not touched is a
/// cache miss saved. Another thread's activity only makes a quiet call
/// look busy, which costs the slow path, never a loss.
static ACTIVITY: AtomicU64 = AtomicU64::new(0);

/// The process's activity count (see [`ACTIVITY`]).
pub(crate) fn activity() -> u64 {
    ACTIVITY.load(Ordering::Relaxed)
}

/// Notes that the running hook call left the host something to deliver.
pub(crate) fn touch() {
    ACTIVITY.fetch_add(1, Ordering::Relaxed);
}

/// The bytes one hook call has handed the host so far, against its limit;
/// shared by the store's data and the guest's output streams.
#[derive(Debug, Clone)]
pub struct Crossing(Arc<(AtomicU64, u64)>);

impl Crossing {
    /// A count of zero against `limit` bytes per hook call.
    pub fn new(limit: u64) -> Crossing {
        Crossing(Arc::new((AtomicU64::new(0), limit)))
    }

    /// Starts a hook call's count afresh.
    pub fn reset(&self) {
        self.0.0.store(0, Ordering::Relaxed);
    }

    /// Adds `bytes`; over the limit, the error that fails the call.
    pub fn add(&self, bytes: usize) -> Result<(), OverLimit> {
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        touch();
        let before = self.0.0.fetch_add(bytes, Ordering::Relaxed);
        if before.saturating_add(bytes) > self.0.1 {
            return Err(OverLimit(Limit::HostBytes(self.0.1)));
        }
        Ok(())
    }
}

/// Store data that counts the bytes its hook calls hand the host.
pub(crate) trait Metered {
    /// The running hook call's count.
    fn crossing(&self) -> &Crossing;
}

/// Charges the calling hook call for `bytes` of host work: counted against
/// `limits.host_bytes`, and paid in fuel.
pub(crate) fn charge<T: Metered>(
    store: &mut StoreContextMut<'_, T>,
    bytes: usize,
) -> wasmtime::Result<()> {
    store.data().crossing().add(bytes)?;
    let cost = u64::try_from(bytes)
        .unwrap_or(u64::MAX)
        .saturating_mul(FUEL_PER_BYTE);
    let fuel = store.get_fuel()?;
    if cost > fuel {
        store.set_fuel(0)?;
        return Err(wasmtime::Error::new(Trap::OutOfFuel));
    }
    store.set_fuel(fuel - cost)?;
    Ok(())
}

/// The bytes a host call counts without charging fuel (it has no handle on
/// the store's fuel: a call on a network handle), and where going over the
/// limit is noted: the call then fails when it returns.
pub(crate) struct Meter<'a> {
    /// The running hook call's count.
    pub crossing: &'a Crossing,
    /// The call's failure, if it went over a limit.
    pub violation: &'a mut Option<Limit>,
}

impl Meter<'_> {
    /// Counts `bytes` the guest handed over against `limits.host_bytes`;
    /// past it the call fails when it returns.
    pub fn cross(&mut self, bytes: usize) {
        if let Err(over) = self.crossing.add(bytes) {
            self.violation.get_or_insert(over.0);
        }
    }
}
