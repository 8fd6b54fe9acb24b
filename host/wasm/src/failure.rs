//! Why a call into a doer failed, as a value.
//!
//! Every failure at the Wasm boundary is sorted into a [`CallFailure`] from
//! wasmtime's typed errors (a [`Trap`], an exit status, the typed errors the
//! host's own limiter and host functions raise), never from message text.
//! Its `Display` is the `reason` the trace and the log carry, word for word
//! as `docs/security.md` lists them.

use std::fmt;
use std::time::Duration;

use wasmtime::Trap;
use wasmtime::component::ResourceTableError;

use crate::budget::Budget;

/// Why one hook call (or an instantiation) failed.
#[derive(Debug, Clone, PartialEq)]
pub enum CallFailure {
    /// The hook returned an error: the guest's own text.
    Guest(String),
    /// The guest trapped (a Wasm trap that is not a limit).
    Trap(Trap),
    /// The guest called WASI `exit` with a failure status.
    Exit(i32),
    /// The doer went over one of its limits.
    Limit(Limit),
    /// Making the instance failed (its start function, or a limit it hit
    /// while starting).
    Instantiate(Box<CallFailure>),
    /// Any other error wasmtime reported (instantiation, a host import
    /// failing), in its words.
    Host(String),
}

/// A limit a doer went over, with its value.
#[derive(Debug, Clone, PartialEq)]
pub enum Limit {
    /// Fuel per hook call.
    Fuel(u64),
    /// Linear memory, in bytes.
    Memory(u64),
    /// Host-side handles (WASI resources) held at once.
    Handles(u32),
    /// The Wasm stack (engine-wide).
    Stack,
    /// The real-mode watchdog's wall time per hook call; `None` for an
    /// interrupt with no watchdog set.
    WallTime(Option<Duration>),
    /// One random request, in bytes.
    Random(u64),
    /// Bytes one hook call may hand the host (`limits.host_bytes`).
    HostBytes(u64),
    /// One deck message, in bytes: the host refused it and the guest got
    /// `too-large`.
    Message {
        /// `push` or `pull`.
        dir: &'static str,
        /// The deck.
        deck: String,
        /// The message's size.
        size: u64,
        /// The doer's `limits.message`.
        limit: u64,
    },
}

impl fmt::Display for CallFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallFailure::Guest(text) | CallFailure::Host(text) => f.write_str(text),
            CallFailure::Trap(trap) => write!(f, "{trap}"),
            CallFailure::Exit(status) => write!(f, "exit({status})"),
            CallFailure::Limit(limit) => write!(f, "{limit}"),
            CallFailure::Instantiate(inner) => write!(f, "instantiate: {inner}"),
        }
    }
}

impl fmt::Display for Limit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Limit::Fuel(n) => write!(f, "out of fuel (limit {n} per hook call)"),
            Limit::Memory(n) => write!(f, "memory limit exceeded (limit {n} bytes)"),
            Limit::Handles(n) => write!(f, "handle limit exceeded (limit {n} handles)"),
            Limit::Stack => f.write_str("wasm stack overflow"),
            Limit::WallTime(Some(budget)) => write!(
                f,
                "wall-time budget exceeded (watchdog {} ms per hook call, real mode)",
                budget.as_millis()
            ),
            Limit::WallTime(None) => f.write_str("interrupted"),
            Limit::Random(n) => write!(f, "random request over {} KiB", n / 1024),
            Limit::HostBytes(n) => write!(
                f,
                "host calls over the doer's limit of bytes per hook call (limits.host_bytes = {n} bytes)"
            ),
            Limit::Message {
                dir,
                deck,
                size,
                limit,
            } => write!(
                f,
                "{dir} on deck {deck:?}: message of {size} bytes over the doer's limit \
                 (limits.message = {limit} bytes)"
            ),
        }
    }
}

/// The typed error the host raises inside a call when a doer goes over a
/// limit it checks itself (memory growth, random requests); wasmtime
/// carries it out of the call, where [`CallFailure::from_error`] finds it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct OverLimit(pub Limit);

/// Longest failure reason kept from a guest, in bytes; the rest is cut and
/// counted (`[… N bytes cut]`), so a reason stays one short trace field and
/// log line however long the guest made it.
pub const MAX_REASON: usize = 1024;

impl CallFailure {
    /// A failure in the guest's own words, cut to [`MAX_REASON`] bytes.
    pub fn guest(reason: String) -> CallFailure {
        CallFailure::Guest(hio_scheduler::cut_owned(reason, MAX_REASON))
    }

    /// Sorts an error out of a call into the component.
    pub(crate) fn from_error(e: &wasmtime::Error, budget: &Budget) -> CallFailure {
        if let Some(exit) = e.downcast_ref::<wasmtime_wasi::I32Exit>() {
            return CallFailure::Exit(exit.0);
        }
        if let Some(OverLimit(limit)) = e.downcast_ref::<OverLimit>() {
            return CallFailure::Limit(limit.clone());
        }
        if let Some(ResourceTableError::Full) = e.downcast_ref::<ResourceTableError>() {
            return CallFailure::Limit(Limit::Handles(budget.handles));
        }
        if let Some(trap) = e.downcast_ref::<Trap>() {
            return match trap {
                Trap::OutOfFuel => CallFailure::Limit(Limit::Fuel(budget.fuel)),
                Trap::StackOverflow => CallFailure::Limit(Limit::Stack),
                Trap::Interrupt => {
                    CallFailure::Limit(Limit::WallTime(budget.watch.map(|w| w.budget)))
                }
                other => CallFailure::Trap(*other),
            };
        }
        CallFailure::Host(hio_scheduler::cut_owned(format!("{e:#}"), MAX_REASON))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_keep_the_documented_words() {
        let cases = [
            (
                CallFailure::Limit(Limit::Fuel(10)),
                "out of fuel (limit 10 per hook call)",
            ),
            (
                CallFailure::Limit(Limit::Memory(1024)),
                "memory limit exceeded (limit 1024 bytes)",
            ),
            (
                CallFailure::Limit(Limit::Handles(8)),
                "handle limit exceeded (limit 8 handles)",
            ),
            (CallFailure::Limit(Limit::Stack), "wasm stack overflow"),
            (
                CallFailure::Limit(Limit::WallTime(Some(Duration::from_millis(250)))),
                "wall-time budget exceeded (watchdog 250 ms per hook call, real mode)",
            ),
            (CallFailure::Limit(Limit::WallTime(None)), "interrupted"),
            (
                CallFailure::Limit(Limit::Random(64 * 1024)),
                "random request over 64 KiB",
            ),
            (CallFailure::Exit(1), "exit(1)"),
            (CallFailure::Guest("fail_at 2".into()), "fail_at 2"),
            (
                CallFailure::Trap(Trap::UnreachableCodeReached),
                &Trap::UnreachableCodeReached.to_string(),
            ),
        ];
        for (failure, words) in cases {
            assert_eq!(failure.to_string(), words);
        }
    }

    #[test]
    fn typed_errors_are_sorted_without_reading_their_text() {
        let limits = &Budget {
            fuel: 5,
            memory: 1 << 20,
            message: 1024,
            handles: 3,
            watch: None,
        };
        let e = wasmtime::Error::new(OverLimit(Limit::Memory(4096))).context("any words");
        assert_eq!(
            CallFailure::from_error(&e, limits),
            CallFailure::Limit(Limit::Memory(4096))
        );
        let e = wasmtime::Error::new(ResourceTableError::Full);
        assert_eq!(
            CallFailure::from_error(&e, limits),
            CallFailure::Limit(Limit::Handles(3))
        );
        let e = wasmtime::Error::new(Trap::OutOfFuel);
        assert_eq!(
            CallFailure::from_error(&e, limits),
            CallFailure::Limit(Limit::Fuel(5))
        );
        let e = wasmtime::Error::msg("resource table has no free keys");
        assert!(matches!(
            CallFailure::from_error(&e, limits),
            CallFailure::Host(_)
        ));
    }
}
