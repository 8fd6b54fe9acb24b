//! The host log: levels, one line's fields and format, and where lines go.
//!
//! The scheduler writes a log line when a doer's hook fails and when a doer
//! (through its [`Context`](crate::Context)) asks it to; the Wasm host
//! forwards guests' log calls and output the same way. A [`Logger`] decides
//! where lines go (stderr by default; the harness keeps them).

/// Log levels, as the WIT `log` interface has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Something failed.
    Error,
    /// Something looks wrong.
    Warn,
    /// Normal operation.
    Info,
    /// Detail for debugging.
    Debug,
    /// Finest detail.
    Trace,
}

impl Level {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
            Level::Trace => "trace",
        }
    }
}

/// One line of the host log.
#[derive(Debug, Clone, Copy)]
pub struct LogLine<'a> {
    /// Tyme it was written.
    pub tyme: f64,
    /// The doer it concerns (empty for the host itself).
    pub path: &'a str,
    /// Its level.
    pub level: Level,
    /// The text.
    pub message: &'a str,
}

impl std::fmt::Display for LogLine<'_> {
    /// `<tyme> <path> <level> <message>`, the log's line format.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {} {}",
            fmt_tyme(self.tyme),
            self.path,
            self.level.as_str(),
            self.message
        )
    }
}

/// Where log lines go.
pub type Logger = Box<dyn FnMut(&LogLine<'_>)>;

/// Writes `<tyme> <path> <level> <message>` to stderr.
pub fn stderr_logger() -> Logger {
    Box::new(|l| eprintln!("{l}"))
}

/// Prints a tyme as the trace does.
pub fn fmt_tyme(tyme: f64) -> String {
    serde_json::to_string(&tyme).unwrap_or_else(|_| tyme.to_string())
}
