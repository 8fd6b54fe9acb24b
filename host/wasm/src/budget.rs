//! What one hook call may spend: the [`Budget`] a doer instance refills
//! its store from before every call (the refill is the instance's, in
//! `doer.rs`).

use std::time::Duration;

/// The real-mode watchdog as one doer sees it: the epoch deadline each
/// hook call gets, and the wall time that stands for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Watch {
    /// Epoch ticks per hook call.
    pub ticks: u64,
    /// The budget, for the failure reason.
    pub budget: Duration,
}

/// What one hook call may spend.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Budget {
    /// Fuel per hook call.
    pub fuel: u64,
    /// Linear memory cap in bytes.
    pub memory: u64,
    /// Largest message in bytes (reported by the deck calls themselves).
    pub message: u64,
    /// Host-side handles.
    pub handles: u32,
    /// Wall-time budget per hook call (real mode only).
    pub watch: Option<Watch>,
}
