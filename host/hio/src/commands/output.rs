//! The command's own outputs, stdout and stderr, written so that a closed
//! one never panics: the first write that finds its reader gone (a broken
//! pipe, as in `hio run m.toml 2>&1 | head -1`) raises a flag, and the run
//! ends at the next step the way an interrupt ends it (the tree closed, the
//! trace flushed where it still can be), with exit status 141.

use std::fmt::Display;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Raised once stdout or stderr has been found closed.
#[derive(Debug, Clone, Default)]
pub struct Closed(Arc<AtomicBool>);

impl Closed {
    /// Whether an output was found closed.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// Notes a write's result: a broken pipe raises the flag. Any write
    /// error is otherwise dropped: there is nowhere left to report it.
    fn note<T>(&self, result: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &result
            && e.kind() == io::ErrorKind::BrokenPipe
        {
            self.0.store(true, Ordering::Relaxed);
        }
        result
    }

    /// Writes one line to stderr.
    pub fn eprintln(&self, line: impl Display) {
        let mut err = io::stderr().lock();
        let _ = self.note(writeln!(err, "{line}"));
    }

    /// Writes text to stdout.
    pub fn print(&self, text: impl Display) {
        let mut out = io::stdout().lock();
        let _ = self.note(write!(out, "{text}").and_then(|()| out.flush()));
    }

    /// Wraps a writer so that a broken pipe on it raises this flag.
    pub fn watch<W: Write>(&self, inner: W) -> Watched<W> {
        Watched {
            inner,
            closed: self.clone(),
        }
    }
}

/// A writer whose broken pipe raises a [`Closed`] flag.
#[derive(Debug)]
pub struct Watched<W> {
    inner: W,
    closed: Closed,
}

impl<W: Write> Write for Watched<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.closed.note(self.inner.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.closed.note(self.inner.flush())
    }
}
