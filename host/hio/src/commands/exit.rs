//! The command's exit statuses, and how a command reports the error that
//! ends it: one line on stderr, `hio: ` and the message.

use hio::manifest::BuildError;

use crate::commands::output::Closed;

/// Normal end.
pub const OK: u8 = 0;
/// A failure escalated to the root (or, for `replay` and `sim`, a run that
/// diverged or a seed that failed).
pub const ESCALATED: u8 = 1;
/// A usage or manifest error.
pub const USAGE: u8 = 2;
/// A plugin load error.
pub const LOAD: u8 = 3;
/// Interrupted (SIGINT, SIGTERM).
pub const INTERRUPTED: u8 = 130;
/// stdout or stderr was closed under the run (as a shell reports a process
/// that SIGPIPE ended).
pub const OUTPUT_CLOSED: u8 = 141;

/// Reports `message` on stderr and returns `status`.
pub fn fail(status: u8, message: impl std::fmt::Display) -> u8 {
    // The message may quote a guest or a manifest: escaped, like the log.
    let message = message.to_string();
    Closed::default().eprintln(format_args!("hio: {}", hio::Escaped(&message)));
    status
}

/// Reports why a manifest could not be built: a usage error, or a plugin
/// that would not load.
pub fn build_error(e: BuildError) -> u8 {
    match e {
        BuildError::Manifest(m) => fail(USAGE, m),
        BuildError::Load(l) => fail(LOAD, l),
    }
}
