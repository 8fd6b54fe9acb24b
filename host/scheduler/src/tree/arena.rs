//! The doer tree as an arena of nodes addressed by generation-checked ids.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use crate::supervision::Supervision;
use crate::tree::crew::Link;
use crate::tree::doer::Doer;
use crate::tree::id::DoerId;
use crate::tree::queue::{Due, Entry, Queue};
use crate::tree::spec::Spec;

/// Lifecycle state of a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Inserted, not entered yet.
    Fresh,
    /// Entered, runs when due.
    Live,
    /// Failed; a fresh instance is entered when its back-off has passed.
    Restarting,
    /// Being closed; further removals and failures are ignored.
    Closing,
}

/// What to do with a node once control returns to its queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Doom {
    /// Removed while running: close it.
    Remove,
    /// A child escalated: fail with this reason.
    Fail(String),
}

/// A leaf holds its doer instance; a group (DoDoer or the Doist's root) its queue.
pub(crate) enum Body {
    Leaf(Option<Box<dyn Doer>>),
    Group(Box<GroupState>),
}

/// A DoDoer's own state.
pub(crate) struct GroupState {
    pub queue: Queue,
    pub always: bool,
    pub supervision: Supervision,
}

pub(crate) struct TreeNode {
    pub path: Rc<str>,
    pub parent: Option<DoerId>,
    /// What the walk never touches.
    pub cold: Box<Cold>,
    pub tock: f64,
    pub retyme: f64,
    pub pos: u64,
    /// Bumped each time the deed is indexed; older index entries are stale.
    pub ticket: u32,
    pub attempt: u32,
    pub state: Phase,
    /// On the path of hook calls now running (its removal must wait).
    pub on_path: bool,
    /// A crew: its subtree runs in a scheduler of its own.
    pub crew: bool,
    pub doom: Option<Box<Doom>>,
    pub body: Body,
}

impl TreeNode {
    pub fn group(&self) -> Option<&GroupState> {
        match &self.body {
            Body::Group(g) => Some(g),
            Body::Leaf(_) => None,
        }
    }

    pub fn group_mut(&mut self) -> Option<&mut GroupState> {
        match &mut self.body {
            Body::Group(g) => Some(g),
            Body::Leaf(_) => None,
        }
    }

    /// Records carry `ran:false` once the instance can run no guest code.
    pub fn poisoned(&self) -> bool {
        match &self.body {
            Body::Leaf(Some(d)) => d.poisoned(),
            Body::Leaf(None) => true,
            Body::Group(_) => false,
        }
    }

    /// A new index entry under the current retyme; older ones go stale.
    pub fn reindex(&mut self, id: DoerId) -> (Due, Entry) {
        self.ticket = self.ticket.wrapping_add(1);
        (Due(self.retyme), Entry::new(id, self.ticket, self.pos))
    }

    pub fn attempt(&self) -> Option<u32> {
        (self.attempt > 0).then_some(self.attempt)
    }
}

/// TreeNode state kept out of the walk's way.
pub(crate) struct Cold {
    /// What to make a fresh instance from (none for the root).
    pub spec: Option<Spec>,
    /// Tymes of restarts still inside the supervision window.
    pub restarts: VecDeque<f64>,
    /// A crew's link to where it runs (while it is entered).
    pub crew: Option<Rc<RefCell<Link>>>,
}

struct Slot {
    generation: u32,
    node: Option<TreeNode>,
}

/// Owner of every node.
#[derive(Default)]
pub(crate) struct Arena {
    slots: Vec<Slot>,
    free: Vec<u32>,
}

impl Arena {
    pub fn insert(&mut self, node: TreeNode) -> DoerId {
        if let Some(idx) = self.free.pop() {
            let slot = &mut self.slots[idx as usize];
            slot.node = Some(node);
            DoerId {
                idx,
                generation: slot.generation,
            }
        } else {
            // More than u32::MAX live doers cannot fit in memory anyway.
            let idx = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
            self.slots.push(Slot {
                generation: 0,
                node: Some(node),
            });
            DoerId { idx, generation: 0 }
        }
    }

    pub fn get(&self, id: DoerId) -> Option<&TreeNode> {
        let slot = self.slots.get(id.idx as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.node.as_ref()
    }

    pub fn get_mut(&mut self, id: DoerId) -> Option<&mut TreeNode> {
        let slot = self.slots.get_mut(id.idx as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        slot.node.as_mut()
    }

    pub fn remove(&mut self, id: DoerId) -> Option<TreeNode> {
        let slot = self.slots.get_mut(id.idx as usize)?;
        if slot.generation != id.generation {
            return None;
        }
        let node = slot.node.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(id.idx);
        Some(node)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn node_stays_small() {
        // The walk touches one node per deed; keep it within two cache lines.
        assert!(
            std::mem::size_of::<super::TreeNode>() <= 128,
            "{}",
            std::mem::size_of::<super::TreeNode>()
        );
    }
}
