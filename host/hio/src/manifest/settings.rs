//! The run's settings at a manifest's root (`tock`, `limit`, `real`,
//! `wake`): read for a manifest, and for a wire log's header, which keeps
//! them and is held to the same rules.

use std::path::PathBuf;

use toml::Table;

use super::reader::{Ctx, KeyPath, ManifestError, Res};
use hio_scheduler::{DEFAULT_TOCK, Wake};

/// The run's settings a manifest's root sets (`tock`, `limit`, `real`,
/// `wake`), checked by the manifest's rules: a tock finite and > 0, a limit
/// finite and > 0 (or none), `wake = "io"` only with `real = true`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunSettings {
    /// Doist tock.
    pub tock: f64,
    /// The tyme the run ends at (the key `limit`), if set; not the doers'
    /// resource caps (`limits`).
    pub end: Option<f64>,
    /// Real mode.
    pub real: bool,
    /// Real-mode wake.
    pub wake: Wake,
}

impl RunSettings {
    /// Reads and checks these keys of `table` as a manifest's root keys
    /// are (absent ones get a manifest's defaults; other keys are not
    /// looked at): a wire log's header keeps them so, and a replay holds
    /// them to the same rules. `file` names the table in errors.
    pub fn from_table(
        table: &toml::Table,
        file: impl Into<PathBuf>,
    ) -> Result<RunSettings, ManifestError> {
        run_settings(&Ctx::without_text(file.into()), table, &KeyPath::default())
    }
}

/// The run's settings at the root `t`, read and checked.
pub(super) fn run_settings(cx: &Ctx<'_>, t: &Table, top: &KeyPath) -> Res<RunSettings> {
    let tock = cx.seconds(t, "tock", top, true)?.unwrap_or(DEFAULT_TOCK);
    let end = cx.seconds(t, "limit", top, true)?;
    let real = cx.boolean(t, "real", top)?.unwrap_or(false);
    let wake = match cx.string(t, "wake", top)? {
        None | Some("grid") => Wake::Grid,
        Some("io") if real => Wake::Io,
        Some("io") => return Err(cx.err(&top.key("wake"), "\"io\" needs real = true")),
        Some(other) => {
            return Err(cx.err(
                &top.key("wake"),
                format!("expected \"grid\" or \"io\", got {other:?}"),
            ));
        }
    };
    Ok(RunSettings {
        tock,
        end,
        real,
        wake,
    })
}
