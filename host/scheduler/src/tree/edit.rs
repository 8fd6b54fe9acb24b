//! Tree edits at run time: `extend` and `remove`, with hio's placement rules.

use std::collections::{BTreeSet, VecDeque};
use std::rc::Rc;

use crate::tree::arena::{Body, Cold, GroupState, Phase, TreeNode};
use crate::tree::doer::TreeError;
use crate::tree::id::DoerId;
use crate::tree::queue::Queue;
use crate::tree::spec::{Spec, SpecKind, valid_name};
use crate::tree::walk::Scheduler;

impl Scheduler {
    /// Adds `specs` to group `gid`: just before its running deed when it is
    /// mid-pass, else at its end, due now. With `enter`, and once the tree
    /// has been entered, they are entered at once. All or nothing: a bad name
    /// or tock adds none.
    pub fn extend(
        &mut self,
        gid: DoerId,
        specs: Vec<Spec>,
        enter: bool,
    ) -> Result<Vec<DoerId>, TreeError> {
        if gid == DoerId::OUTSIDE {
            return Err(TreeError::other_crew(""));
        }
        if self.arena.get(gid).is_some_and(|n| n.crew) {
            return Err(TreeError::other_crew(self.path(gid)));
        }
        let group = self
            .arena
            .get(gid)
            .filter(|n| n.group().is_some() && matches!(n.state, Phase::Live | Phase::Fresh))
            .ok_or_else(|| TreeError::NoGroup(self.path(gid).to_owned()))?;
        let parent_path = group.path.to_string();
        let mut names = BTreeSet::new();
        for spec in &specs {
            check_spec(spec)?;
            let taken = self
                .paths
                .contains_key(child_path(&parent_path, &spec.name).as_str());
            if taken || !names.insert(spec.name.as_str()) {
                return Err(TreeError::Duplicate {
                    parent: parent_path,
                    name: spec.name.clone(),
                });
            }
        }
        let before = self.running_in(gid);
        let ids: Vec<DoerId> = specs.iter().map(|s| self.insert(gid, s, before)).collect();
        if enter && self.entered {
            for &id in &ids {
                if self.arena.get(gid).is_none_or(|g| g.doom.is_some()) {
                    break;
                }
                self.enter_node(id);
            }
        }
        Ok(ids)
    }

    /// Creates the node for `spec` (and its children) in group `gid`'s queue,
    /// due at the current tyme, not entered. The spec has been checked.
    pub fn insert(&mut self, gid: DoerId, spec: &Spec, before: Option<DoerId>) -> DoerId {
        let pos = self.free_pos(gid, before);
        let path: Rc<str> = Rc::from(child_path(self.path(gid), &spec.name));
        let body = match &spec.kind {
            SpecKind::Leaf(_) | SpecKind::Crew(_) => Body::Leaf(None),
            SpecKind::Group(d) => Body::Group(Box::new(GroupState {
                queue: Queue::default(),
                always: d.always,
                supervision: d.supervision.clone(),
            })),
        };
        let id = self.arena.insert(TreeNode {
            path: Rc::clone(&path),
            parent: Some(gid),
            cold: Box::new(Cold {
                spec: Some(spec.clone()),
                restarts: VecDeque::new(),
                crew: None,
            }),
            tock: spec.tock,
            retyme: self.tyme(),
            pos,
            ticket: 0,
            attempt: 0,
            state: Phase::Fresh,
            on_path: false,
            crew: spec.is_crew(),
            doom: None,
            body,
        });
        self.has_crews |= spec.is_crew();
        self.paths.insert(path, id);
        if let Some(q) = self.queue_mut(gid) {
            q.insert(pos, id);
        }
        self.schedule(id);
        if let SpecKind::Group(d) = &spec.kind {
            for child in &d.doers {
                self.insert(id, child, None);
            }
        }
        id
    }

    /// A free position in `gid`'s queue before `before` (or at the end),
    /// renumbering the queue when no gap is left.
    fn free_pos(&mut self, gid: DoerId, before: Option<DoerId>) -> u64 {
        let before_pos = || before.and_then(|b| self.arena.get(b)).map(|n| n.pos);
        let want = before_pos();
        if let Some(pos) = self.queue(gid).and_then(|q| q.free_pos(want)) {
            return pos;
        }
        let moved = self.queue_mut(gid).map(Queue::renumber).unwrap_or_default();
        for (id, pos) in moved {
            if let Some(n) = self.arena.get_mut(id) {
                n.pos = pos;
            }
        }
        let want = before.and_then(|b| self.arena.get(b)).map(|n| n.pos);
        // Renumbering leaves a gap before every deed and after the last.
        self.queue(gid)
            .and_then(|q| q.free_pos(want))
            .unwrap_or(u64::MAX)
    }

    /// Closes the given doers, back of each queue first. A doer on the call
    /// path is closed when its running recur returns; gone ones are skipped.
    pub fn remove(&mut self, ids: &[DoerId]) {
        let mut live: Vec<(DoerId, u64, DoerId)> = ids
            .iter()
            .filter(|&&id| id != self.root)
            .filter_map(|&id| {
                let n = self.arena.get(id)?;
                Some((n.parent?, n.pos, id))
            })
            .collect();
        live.sort();
        live.dedup();
        for &(_, _, id) in live.iter().rev() {
            self.close(id);
        }
    }
}

fn child_path(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_owned()
    } else {
        format!("{parent}/{name}")
    }
}

/// Checks names, tocks and sibling uniqueness of a spec and its subtree.
pub(crate) fn check_spec(spec: &Spec) -> Result<(), TreeError> {
    if !valid_name(&spec.name) {
        return Err(TreeError::BadName(spec.name.clone()));
    }
    if !(spec.tock.is_finite() && spec.tock >= 0.0) {
        return Err(TreeError::BadTock(spec.tock));
    }
    if let SpecKind::Group(d) = &spec.kind {
        let mut names = BTreeSet::new();
        for child in &d.doers {
            check_spec(child)?;
            if !names.insert(child.name.as_str()) {
                return Err(TreeError::Duplicate {
                    parent: spec.name.clone(),
                    name: child.name.clone(),
                });
            }
        }
    }
    Ok(())
}
