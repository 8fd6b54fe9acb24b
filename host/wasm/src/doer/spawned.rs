//! What a doer's calls asked of the tree: the children it spawns (beside
//! it, in its parent, through its [`Spawner`](super::Spawner)) and removes,
//! and its children closing with it.

use hio_scheduler::{Context, DoerId, Level};

use super::PluginDoer;

impl PluginDoer {
    /// Makes the spawns and removals the call asked for. A child goes beside
    /// this doer, in its parent, named `<this doer's name>.<name>`.
    pub(super) fn deliver_children(&mut self, cx: &mut Context<'_>) {
        if self.poisoned {
            // Its `exit` will not run: its children go now, and the spawns
            // it asked for are not made.
            let data = &mut self.mine;
            let cancelled = std::mem::take(&mut data.children.spawned);
            data.children.removed.clear();
            if let Some(net) = &data.net {
                for cid in cancelled.iter().filter_map(|r| r.conn) {
                    net.access.net.close(cid);
                }
            }
            self.remove_children(cx);
            return;
        }
        let data = &mut self.mine;
        if data.children.spawned.is_empty() && data.children.removed.is_empty() {
            return;
        }
        let spawned = std::mem::take(&mut data.children.spawned);
        let removed = std::mem::take(&mut data.children.removed);
        let me = data.name.clone();
        for name in removed {
            if let Some(id) = self.children.remove(&name) {
                cx.remove(&[id]);
            }
        }
        let parent = cx.parent();
        for req in spawned {
            let full = format!("{me}.{}", req.name);
            let spawned = match &self.spawner {
                Some(spawner) => spawner.child(&req.plugin, &full, req.options, req.conn),
                None => Err(format!("plugin {:?} is not granted", req.plugin)),
            }
            .and_then(|spec| cx.extend(parent, vec![spec]).map_err(|e| e.to_string()));
            match spawned {
                Ok(ids) => {
                    if let Some(&id) = ids.first() {
                        self.children.insert(req.name, id);
                    }
                }
                Err(e) => {
                    self.mine.children.alive.remove(&req.name);
                    if let (Some(cid), Some(net)) = (req.conn, &self.mine.net) {
                        net.access.net.close(cid);
                    }
                    cx.log(Level::Warn, &format!("spawn of {full:?} failed: {e}"));
                }
            }
        }
    }

    /// Removes every live child it spawned.
    pub(super) fn remove_children(&mut self, cx: &mut Context<'_>) {
        self.prune_children(cx);
        let ids: Vec<DoerId> = std::mem::take(&mut self.children).into_values().collect();
        self.mine.children.alive.clear();
        if !ids.is_empty() {
            cx.remove(&ids);
        }
    }

    /// Forgets children that are no longer in the tree (done, failed and
    /// isolated, or removed by someone else), so their names are free again.
    pub(super) fn prune_children(&mut self, cx: &Context<'_>) {
        if self.children.is_empty() {
            return;
        }
        let parent = cx.path().rsplit_once('/').map_or("", |(p, _)| p).to_owned();
        let me = self.mine.name.clone();
        let gone: Vec<String> = self
            .children
            .iter()
            .filter(|(name, id)| {
                let path = if parent.is_empty() {
                    format!("{me}.{name}")
                } else {
                    format!("{parent}/{me}.{name}")
                };
                cx.find(&path) != Some(**id)
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in gone {
            self.children.remove(&name);
            self.mine.children.alive.remove(&name);
        }
    }
}
