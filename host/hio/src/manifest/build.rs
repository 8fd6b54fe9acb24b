//! A checked [`Manifest`] to a ready [`Doist`]: plugins loaded once each,
//! every doer's options passed through its plugin's `validate`, and the tree
//! of specs added. Nothing runs until all of that has passed.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;

use super::{Manifest, ManifestError, Node};
use hio_scheduler::DoDoer;
use hio_scheduler::Doist;
use hio_scheduler::Spec;
use hio_scheduler::{DeckAccess, Decks};
use hio_wasm::{InstanceConfig, LoadError, Plugin, PluginHost, StatsHandle};

/// Why a manifest could not be turned into a run.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A plugin refused its options (a manifest error: exit status 2).
    #[error("{0}")]
    Manifest(ManifestError),
    /// A plugin could not be loaded (exit status 3).
    #[error("{0}")]
    Load(#[from] LoadError),
}

/// A run ready to go.
pub struct Built {
    /// The Doist with the whole tree added (not entered yet).
    pub doist: Doist,
    /// The run's decks.
    pub decks: Decks,
    /// Per-doer call figures.
    pub stats: StatsHandle,
}

struct Builder<'a> {
    manifest: &'a Manifest,
    host: &'a PluginHost,
    plugins: BTreeMap<PathBuf, Rc<Plugin>>,
    decks: Decks,
    stats: StatsHandle,
    time_calls: bool,
}

impl Builder<'_> {
    fn plugin(&mut self, path: &PathBuf) -> Result<Rc<Plugin>, BuildError> {
        if let Some(p) = self.plugins.get(path) {
            return Ok(Rc::clone(p));
        }
        let p = Rc::new(self.host.load(path)?);
        self.plugins.insert(path.clone(), Rc::clone(&p));
        Ok(p)
    }

    fn spec(&mut self, node: &Node) -> Result<Spec, BuildError> {
        match node {
            Node::Leaf(leaf) => {
                let plugin = self.plugin(&leaf.plugin)?;
                let cfg = InstanceConfig {
                    seed: self.manifest.seed,
                    fuel: leaf.limits.fuel,
                    memory: leaf.limits.memory,
                    message: leaf.limits.message,
                    handles: leaf.limits.handles,
                    host_bytes: leaf.limits.host_bytes,
                    table_elements: self.host.limits().max_table_elements,
                    decks: DeckAccess::granted(
                        &self.decks,
                        leaf.grants.clone(),
                        leaf.limits.message,
                    ),
                    stats: self.stats.clone(),
                    time_calls: self.time_calls,
                };
                plugin.validate(&leaf.options, &cfg).map_err(|msg| {
                    BuildError::Manifest(ManifestError {
                        file: self.manifest.path.clone(),
                        line: leaf.line,
                        key: format!("{}.options", leaf.key),
                        message: format!("rejected by {}: {msg}", leaf.plugin.display()),
                    })
                })?;
                Ok(plugin.spec(&leaf.name, leaf.tock, leaf.options.clone(), cfg))
            }
            Node::Group(g) => {
                let children = g
                    .doers
                    .iter()
                    .map(|c| self.spec(c))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(DoDoer::new(g.name.clone())
                    .tock(g.tock)
                    .always(g.always)
                    .supervision(g.supervision.clone())
                    .doers(children)
                    .into())
            }
        }
    }
}

/// Loads the manifest's plugins on `host`, validates every doer's options
/// and builds the Doist. With `time_calls` the wall time spent in each
/// doer's guest code is measured (for `--stats`).
pub fn build(
    manifest: &Manifest,
    host: &PluginHost,
    time_calls: bool,
) -> Result<Built, BuildError> {
    let mut b = Builder {
        manifest,
        host,
        plugins: BTreeMap::new(),
        decks: Decks::new(manifest.decks.clone()),
        stats: StatsHandle::default(),
        time_calls,
    };
    let specs = manifest
        .doers
        .iter()
        .map(|n| b.spec(n))
        .collect::<Result<Vec<_>, _>>()?;
    let mut doist = Doist::new(manifest.tock)
        .real(manifest.real)
        .wake(manifest.wake)
        .supervision(manifest.supervision.clone());
    doist.set_limit(manifest.limit);
    for spec in specs {
        // Names were checked by the manifest parser.
        doist.add(spec).map_err(|e| {
            BuildError::Manifest(ManifestError {
                file: manifest.path.clone(),
                line: 0,
                key: "doers".into(),
                message: e.to_string(),
            })
        })?;
    }
    Ok(Built {
        doist,
        decks: b.decks,
        stats: b.stats,
    })
}
