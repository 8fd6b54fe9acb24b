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
    /// `<tyme> <path> <level> <message>`, the log's line format; the
    /// message as [`write_text`] writes it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} {} ",
            fmt_tyme(self.tyme),
            self.path,
            self.level.as_str(),
        )?;
        write_text(f, self.message)
    }
}

// What a line break in a message becomes: the break, then this indent.
const CONTINUATION: &str = "\n    ";

/// Whether `c` is written escaped: a control character, or one of
/// Unicode's bidirectional overrides (which reorder what a terminal shows).
fn escaped(c: char) -> bool {
    c != '\n' && (c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
}

/// Writes a message of the log: control characters (and bidirectional
/// overrides) escaped as Rust writes them (`\u{1b}`, `\r`, `\t`), and each
/// line break followed by four spaces. A message may span lines, but none of
/// them starts like a log line, so no text can pass for another doer's line
/// or drive a terminal.
///
/// ```
/// let line = hio_scheduler::LogLine {
///     tyme: 0.5, path: "a", level: hio_scheduler::Level::Info,
///     message: "hi\n0.5 b info forged\u{1b}[2J",
/// };
/// assert_eq!(line.to_string(), "0.5 a info hi\n    0.5 b info forged\\u{1b}[2J");
/// ```
pub fn write_text(f: &mut impl std::fmt::Write, text: &str) -> std::fmt::Result {
    if !text.chars().any(|c| c == '\n' || escaped(c)) {
        return f.write_str(text);
    }
    for c in text.chars() {
        if c == '\n' {
            f.write_str(CONTINUATION)?;
        } else if escaped(c) {
            write!(f, "{}", c.escape_default())?;
        } else {
            f.write_char(c)?;
        }
    }
    Ok(())
}

/// Displays text as [`write_text`] writes it: for any text from outside the
/// host (a guest, a manifest) printed where a person reads.
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(pub &'a str);

impl std::fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write_text(f, self.0)
    }
}

/// Cuts `text` to at most `max` bytes (at a character boundary) and says
/// how much was cut: `<kept> [… N bytes cut]`.
///
/// ```
/// assert_eq!(hio_scheduler::cut("abcdef", 4), "abcd [… 2 bytes cut]");
/// assert_eq!(hio_scheduler::cut("abc", 4), "abc");
/// ```
pub fn cut(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    std::borrow::Cow::Owned(format!(
        "{} [… {} bytes cut]",
        &text[..end],
        text.len() - end
    ))
}

/// Where log lines go.
pub type Logger = Box<dyn FnMut(&LogLine<'_>)>;

/// Writes `<tyme> <path> <level> <message>` to stderr.
pub fn stderr_logger() -> Logger {
    // A closed stderr drops the line rather than panic.
    Box::new(|l| {
        use std::io::Write;
        let _ = writeln!(std::io::stderr().lock(), "{l}");
    })
}

/// [`cut`] for text the caller owns: returned as it is when it fits.
pub fn cut_owned(text: String, max: usize) -> String {
    if text.len() <= max {
        return text;
    }
    cut(&text, max).into_owned()
}

/// Prints a tyme as the trace does.
pub fn fmt_tyme(tyme: f64) -> String {
    serde_json::to_string(&tyme).unwrap_or_else(|_| tyme.to_string())
}
