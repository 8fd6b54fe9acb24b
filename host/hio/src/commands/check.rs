//! `hio check MANIFEST`: a manifest checked without running it: parsed,
//! every plugin loaded and each doer's options passed through its
//! plugin's validate.

use std::io::{self, Write};
use std::path::PathBuf;

use hio::manifest::{Manifest, build};

use crate::commands::exit::{LOAD, OK, USAGE, build_error, fail};
use crate::commands::flags::{CacheArgs, plugin_host};

/// The arguments of `hio check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// The manifest.
    manifest: PathBuf,
    #[command(flatten)]
    cache: CacheArgs,
}

/// `hio check`: the exit status.
pub fn check(args: CheckArgs) -> u8 {
    let path = &args.manifest;
    let manifest = match Manifest::load(path) {
        Ok(m) => m,
        Err(e) => return fail(USAGE, e),
    };
    let host = match plugin_host(&args.cache.choose(), manifest.engine_for_run()) {
        Ok(h) => h,
        Err(e) => return fail(LOAD, e),
    };
    if let Err(e) = build(&manifest, &host, false) {
        return build_error(e);
    }
    let leaves = manifest.leaves();
    let plugins: std::collections::BTreeSet<_> = leaves.iter().map(|l| &l.plugin).collect();
    let mut out = io::stdout().lock();
    let _ = writeln!(
        out,
        "{}: ok: {} doers, {} plugins, {} decks; tock {}, limit {}, seed {}",
        path.display(),
        leaves.len(),
        plugins.len(),
        manifest.decks.len(),
        manifest.tock,
        manifest.end.map_or("none".to_owned(), |l| l.to_string()),
        manifest.seed
    );
    let _ = writeln!(
        out,
        "enforced: fuel per hook call, linear memory, message size, handles, connections, \
         buffers, timeouts and children per doer; Wasm stack, table elements and memory \
         slot per engine; deck, network and spawn grants; in real mode a wall-time \
         watchdog per hook call"
    );
    let instances = manifest.instance_plan();
    let shared: Vec<_> = instances.iter().filter(|i| i.share.is_some()).collect();
    let _ = writeln!(
        out,
        "instances: {} for {} doers, {} shared",
        instances.len(),
        leaves.len(),
        shared.len()
    );
    for plan in shared {
        let file = plan
            .plugin
            .file_name()
            .unwrap_or_default()
            .to_string_lossy();
        let _ = writeln!(
            out,
            "  share {:?} of {file}: {}",
            plan.share.as_deref().unwrap_or_default(),
            plan.doers.join(", ")
        );
    }
    let crews = manifest.crews();
    if !crews.is_empty() {
        let _ = writeln!(
            out,
            "crews: {} ({}), on the threads --threads gives",
            crews.len(),
            crews.join(", ")
        );
        let between = manifest.decks_between_crews();
        if !between.is_empty() {
            let _ = writeln!(
                out,
                "  decks between crews, delivered at each tick's end: {}",
                between.join(", ")
            );
        }
    }
    OK
}
