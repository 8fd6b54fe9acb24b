//! A run's lifecycle trace (the JSON lines `hio run --trace` writes) read
//! back, drawn as a timeline in the Chrome trace event format (Perfetto,
//! chrome://tracing), and summed up per doer.
//!
//! In the timeline each doer is a thread, named by its path, in the order
//! it first appears; each attempt of a doer (a restart starts a new one) is
//! a span from its first hook to its `exit`; every hook is an instant
//! event on it, a failure's reason in its arguments. Tyme is the clock: one
//! second of tyme is one second on the timeline.
//!
//! Both are streamed: [`TraceLines`] reads a trace a line at a time,
//! [`ChromeTrace`] writes each event as its record comes and [`Summary`]
//! adds it up, so a trace of any length goes through in memory that grows
//! with its doers, not with its records. What each keeps:
//!
//! - per doer ever seen, its track number (a path and a counter): a doer
//!   that exited can come back on the same path (a restart, a second run,
//!   a new doer of the same name) and goes on its own track again;
//! - per live doer, the span it has open;
//! - for `--stats`, one row of counts per doer.
//!
//! The reader is `read.rs`, the timeline `chrome.rs`, the summary
//! `summary.rs`.

mod chrome;
mod read;
mod summary;

pub use self::chrome::{ChromeTrace, chrome_trace, chrome_trace_with};
pub use self::read::{BadLine, ReadError, TraceLines, read};
pub use self::summary::{DoerSummary, Summary, summary};
