//! The data of one doer's `Store`: its WASI context, the state each
//! interface keeps for it (the interfaces see it through their views,
//! `iface/`), and what the host shares with it for the length of one hook
//! call (tyme, tock, log lines).

use wasmtime::StoreLimits;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use crate::charge::{Crossing, Metered};
use crate::failure::{Limit, OverLimit};
use crate::iface::children::ChildState;
use crate::iface::decks::Refusals;
use crate::iface::handles::NetDoer;
use crate::iface::log::Lines;
use crate::iface::tcp::Listeners;
use crate::tape::Tape;
use crate::wasi::{GuestOutput, TymeCell};
use hio_scheduler::DeckAccess;

/// Store data of a component instance: what the instance owns, and the
/// state of the doer whose call runs ([`DoerData`]).
pub struct StoreData {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limits: Limiter,
    /// Tyme and the calling doer's tock as the host set them for the call.
    pub(crate) tyme: TymeCell,
    /// A limit the doer went over during this call: the call's failure.
    pub(crate) violation: Option<Limit>,
    /// Bytes this hook call has handed the host, against its limit.
    pub(crate) crossing: Crossing,
    pub(crate) stdout: GuestOutput,
    pub(crate) stderr: GuestOutput,
    /// The run's wire log, if it keeps or replays one.
    pub(crate) tape: Option<Tape>,
    /// The doer whose call runs: its own for an instance of one doer; in
    /// a shared instance each doer's is swapped in for its call, so every
    /// host call acts for the caller, with its grants.
    pub(crate) doer: Box<DoerData>,
}

/// What the host keeps for one doer: its identity, its grants, and what
/// its calls leave the host.
pub struct DoerData {
    /// The tock the guest set during the call, if it did.
    pub(crate) tock_set: Option<f64>,
    pub(crate) logs: Lines,
    /// Refused deck calls already logged.
    pub(crate) refusals: Refusals,
    pub(crate) decks: DeckAccess,
    /// Largest deck item this doer may push or pull.
    pub(crate) message: u64,
    /// The doer's own name (the last segment of its path).
    pub(crate) name: String,
    /// The doer's path.
    pub(crate) path: String,
    /// Its network grants and its claim on the run's network.
    pub(crate) net: Option<NetDoer>,
    /// The listeners it holds handles to.
    pub(crate) listeners: Listeners,
    /// Its children, and the spawns and removals asked for this call.
    pub(crate) children: ChildState,
}

impl DoerData {
    /// The state of no doer: what a shared instance's store holds between
    /// its doers' calls (and what a call outside any doer's would see).
    pub(crate) fn none() -> DoerData {
        DoerData {
            tock_set: None,
            logs: Default::default(),
            refusals: Default::default(),
            decks: DeckAccess::default(),
            message: 0,
            name: String::new(),
            path: String::new(),
            net: None,
            listeners: Default::default(),
            children: Default::default(),
        }
    }
}

/// The store's resource limiter: wasmtime's for tables and instances, our
/// own memory cap (so going over it is a typed error), and the peak memory
/// seen.
pub struct Limiter {
    pub(crate) inner: StoreLimits,
    /// The doer's linear memory cap in bytes.
    pub(crate) memory: u64,
    pub(crate) peak: usize,
}

impl wasmtime::ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired as u64 > self.memory {
            return Err(wasmtime::Error::new(OverLimit(Limit::Memory(self.memory))));
        }
        // wasmtime's limiter refuses only past the module's own maximum:
        // that is this doer's memory limit too.
        let over = || wasmtime::Error::new(OverLimit(Limit::Memory(self.memory)));
        let allowed = self
            .inner
            .memory_growing(current, desired, maximum)
            .map_err(|_| over())?;
        if allowed {
            self.peak = self.peak.max(desired);
        }
        Ok(allowed)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.memory_grow_failed(error)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.inner.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

impl WasiView for StoreData {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl Metered for StoreData {
    fn crossing(&self) -> &Crossing {
        &self.crossing
    }
}
