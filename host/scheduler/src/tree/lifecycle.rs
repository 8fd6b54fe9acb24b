//! Lifecycle transitions of a node: enter, complete (clean, exit), close
//! (cease, exit), fail (abort, exit, then the parent's supervision policy).
//!
//! Every transition writes its trace records before calling the hooks, and a
//! node on the call path is never torn down under a running hook: its removal
//! or failure is recorded as a [`Doom`] and carried out when the call returns.

use std::cell::RefCell;
use std::rc::Rc;

use crate::log::Level;
use crate::supervision::Policy;
use crate::trace::Event;
use crate::tree::arena::{Body, Doom, Phase};
use crate::tree::crew::{CrewDoer, Link};
use crate::tree::doer::Failure;
use crate::tree::id::DoerId;
use crate::tree::spec::{Birth, SpecKind};
use crate::tree::walk::Scheduler;

impl Scheduler {
    /// Enters a fresh node: a leaf gets an instance and its `enter` runs; a
    /// DoDoer's `enter` record is followed by its children's entering.
    pub fn enter_node(&mut self, id: DoerId) {
        let Some(node) = self.arena.get_mut(id) else {
            return;
        };
        if node.state != Phase::Fresh {
            return;
        }
        node.state = Phase::Live;
        node.on_path = true;
        let result = match &node.body {
            Body::Group(g) => {
                let children = g.queue.ids();
                self.emit(id, Event::Enter, None);
                for child in children {
                    if self.arena.get(id).is_none_or(|n| n.doom.is_some()) {
                        break;
                    }
                    self.enter_node(child);
                }
                Ok(())
            }
            Body::Leaf(_) => self.enter_leaf(id),
        };
        let Some(node) = self.arena.get_mut(id) else {
            return;
        };
        node.on_path = false;
        match (result, node.doom.take().map(|d| *d)) {
            (Err(f), _) => self.fail(id, f.0),
            (Ok(()), Some(Doom::Fail(reason))) => self.fail(id, reason),
            (Ok(()), Some(Doom::Remove)) => self.close(id),
            (Ok(()), None) => {}
        }
    }

    fn enter_leaf(&mut self, id: DoerId) -> Result<(), Failure> {
        let node = self.arena.get_mut(id).ok_or(Failure::from("gone"))?;
        let made = match node.cold.spec.as_ref().map(|s| &s.kind) {
            Some(SpecKind::Leaf(factory)) => factory(&Birth {
                path: &node.path,
                attempt: node.attempt,
            }),
            Some(SpecKind::Crew(c)) => {
                let link = Rc::new(RefCell::new(Link::new(self.pool.as_deref())));
                let splice = c.on_splice.clone();
                node.cold.crew = Some(Rc::clone(&link));
                Ok(Box::new(CrewDoer { link, splice }) as Box<dyn crate::Doer>)
            }
            _ => Err("no doer to make".to_owned()),
        };
        match made {
            Ok(doer) => {
                node.body = Body::Leaf(Some(doer));
                self.emit(id, Event::Enter, None);
                self.call(id, |d, cx| d.enter(cx))
                    .unwrap_or_else(|| Err(Failure::from("instance poisoned")))
            }
            Err(reason) => {
                // No instance: the record says no guest code ran.
                node.body = Body::Leaf(None);
                self.emit(id, Event::Enter, None);
                Err(Failure(reason))
            }
        }
    }

    /// Enters the deeds of group `gid` in queue order, stopping at a failure
    /// that escalated to the root (a Doist's, or a crew's, first entering).
    pub fn enter_all(&mut self, gid: DoerId) {
        for id in self.queue(gid).map(|q| q.ids()).unwrap_or_default() {
            if self.escalated.is_some() {
                break;
            }
            self.enter_node(id);
        }
    }

    /// Closes the deeds of group `gid`, back of the queue first (the end of
    /// a run, or of a crew).
    pub fn close_all(&mut self, gid: DoerId) {
        for id in self
            .queue(gid)
            .map(|q| q.ids())
            .unwrap_or_default()
            .into_iter()
            .rev()
        {
            self.close(id);
        }
    }

    /// A restarting deed whose back-off has passed gets a fresh instance.
    pub fn restart_instance(&mut self, id: DoerId) {
        let Some(node) = self.arena.get_mut(id) else {
            return;
        };
        node.state = Phase::Fresh;
        let Some(spec) = node.cold.spec.clone() else {
            return;
        };
        node.tock = spec.tock;
        if let SpecKind::Group(group) = &spec.kind {
            for child in &group.doers {
                self.insert(id, child, None);
            }
        }
        self.enter_node(id);
    }

    /// The doer reported done: `clean`, then `exit`, then it is dropped.
    pub fn complete(&mut self, id: DoerId) {
        self.wind_down(id, Event::Clean, None);
        self.drop_node(id);
    }

    /// Closes a doer that is not done: `cease`, its children back to front,
    /// then `exit`. A doer on the call path is marked and closed on return.
    pub fn close(&mut self, id: DoerId) {
        let Some(node) = self.arena.get_mut(id) else {
            return;
        };
        match node.state {
            Phase::Live if node.on_path => {
                if node.doom.is_none() {
                    node.doom = Some(Box::new(Doom::Remove));
                    self.doom_pending = true;
                }
                return;
            }
            Phase::Live => {}
            // Never entered, or waiting to restart: nothing ran, nothing to say.
            Phase::Fresh | Phase::Restarting => {
                self.drop_node(id);
                return;
            }
            Phase::Closing => return,
        }
        self.wind_down(id, Event::Cease, None);
        self.drop_node(id);
    }

    /// Writes `event` (clean, cease or abort) and runs its hook; a DoDoer
    /// then closes its children; `exit` follows, carrying the reason when
    /// the hook failed.
    fn wind_down(&mut self, id: DoerId, event: Event, reason: Option<&str>) {
        let Some(node) = self.arena.get_mut(id) else {
            return;
        };
        node.state = Phase::Closing;
        node.on_path = true;
        let is_group = matches!(node.body, Body::Group(_));
        self.emit(id, event, reason);
        let mut failed = None;
        if is_group {
            for child in self
                .queue(id)
                .map(|q| q.ids())
                .unwrap_or_default()
                .into_iter()
                .rev()
            {
                self.close(child);
            }
        } else {
            let hook = self.call(id, |d, cx| match event {
                Event::Clean => d.clean(cx),
                Event::Cease => d.cease(cx),
                _ => d.abort(cx, reason.unwrap_or_default()),
            });
            if let Some(Err(f)) = hook {
                self.log(id, Level::Error, &format!("{} failed: {f}", event.as_str()));
                failed = Some(f.0);
            }
        }
        self.emit(id, Event::Exit, failed.as_deref());
        if !is_group && let Some(Err(f)) = self.call(id, |d, cx| d.exit(cx)) {
            self.log(id, Level::Error, &format!("exit failed: {f}"));
        }
        if let Some(node) = self.arena.get_mut(id) {
            node.on_path = false;
            node.doom = None;
        }
    }

    /// `enter` or `recur` failed: `abort` with the reason, `exit`, then the
    /// parent's policy decides.
    pub fn fail(&mut self, id: DoerId, reason: String) {
        let Some(node) = self.arena.get(id) else {
            return;
        };
        let Some(parent) = node.parent else {
            return;
        };
        let path = node.path.to_string();
        self.failures += 1;
        self.log(id, Level::Error, &format!("failed: {reason}"));
        self.wind_down(id, Event::Abort, Some(&reason));
        let tyme = self.tyme();
        let default_backoff = match self.parent_tock(parent) {
            t if t > 0.0 => t,
            _ => self.tymist.tock(),
        };
        let Some(sup) = self
            .arena
            .get(parent)
            .and_then(|p| p.group())
            .map(|g| g.supervision.clone())
        else {
            self.drop_node(id);
            return;
        };
        if sup.policy == Policy::Restart
            && let Some(node) = self.arena.get_mut(id)
            && let Some(backoff) = sup.next_restart(&mut node.cold.restarts, tyme, default_backoff)
        {
            node.state = Phase::Restarting;
            node.attempt += 1;
            node.retyme = tyme + backoff;
            node.body = match std::mem::replace(&mut node.body, Body::Leaf(None)) {
                Body::Group(mut g) => {
                    g.queue.clear_index();
                    Body::Group(g)
                }
                Body::Leaf(_) => Body::Leaf(None),
            };
            node.cold.crew = None;
            self.schedule(id);
            return;
        }
        self.drop_node(id);
        if sup.policy != Policy::Isolate {
            self.escalate(parent, path, reason);
        }
    }

    /// A child of `gid` failed past its policy: `gid` fails in turn.
    fn escalate(&mut self, gid: DoerId, child: String, reason: String) {
        if gid == self.root {
            if self.escalated.is_none() {
                self.escalated = Some(crate::tree::walk::Escalated {
                    doer: child,
                    reason,
                });
            }
            if let Some(root) = self.arena.get_mut(gid) {
                root.doom = Some(Box::new(Doom::Fail(String::new())));
                self.doom_pending = true;
            }
            return;
        }
        let reason = format!("child {child}: {reason}");
        let Some(node) = self.arena.get_mut(gid) else {
            return;
        };
        if node.state != Phase::Live {
            return;
        }
        if node.on_path {
            node.doom = Some(Box::new(Doom::Fail(reason)));
            self.doom_pending = true;
        } else {
            self.fail(gid, reason);
        }
    }

    /// Removes a node (and anything left under it) from the tree.
    pub fn drop_node(&mut self, id: DoerId) {
        let Some(node) = self.arena.remove(id) else {
            return;
        };
        self.paths.remove(&node.path);
        if let Some(q) = node.parent.and_then(|p| self.queue_mut(p)) {
            q.remove(node.pos);
        }
        if let Body::Group(g) = node.body {
            for child in g.queue.ids() {
                self.drop_node(child);
            }
        }
    }
}
