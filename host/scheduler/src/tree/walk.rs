//! The scheduler's working state and the pass over a queue.
//!
//! `Scheduler` owns the tree, the tymist and the trace. A tick is one
//! `Scheduler::walk` of the root queue; a DoDoer's turn walks its own queue. The
//! lifecycle transitions (enter, complete, close, fail) live in
//! `lifecycle.rs`; the tree edits (extend, remove) in `edit.rs`.

use std::collections::BTreeMap;
use std::collections::VecDeque;
use std::rc::Rc;

use crate::log::{Level, LogLine, Logger, stderr_logger};
use crate::supervision::Supervision;
use crate::trace::{Event, Line, TraceSink};
use crate::tree::arena::{Arena, Body, Cold, Doom, GroupState, Phase, TreeNode};
use crate::tree::crew::{Out, Pool, Settings};
use crate::tree::doer::{Context, Doer, Failure, HookResult};
use crate::tree::id::DoerId;
use crate::tree::queue::{Due, Entry, Queue};
use crate::tyme::Tymist;

/// A failure that escalated to the root and ended the run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("doer {doer} failed: {reason}")]
pub struct Escalated {
    /// Path of the top-level doer whose failure reached the root.
    pub doer: String,
    /// Its reason (nested escalations read `child <path>: <reason>`).
    pub reason: String,
}

pub(crate) struct Scheduler {
    pub arena: Arena,
    pub root: DoerId,
    pub paths: BTreeMap<Rc<str>, DoerId>,
    pub tymist: Tymist,
    pub trace: Option<Box<dyn TraceSink>>,
    pub logger: Logger,
    /// Walk every deed, as hio does, instead of using the due index.
    pub plain: bool,
    /// Ticks start when I/O is ready (`Wake::Io`): a deed with tock 0 is
    /// due again at the next tick, whenever it comes.
    pub wake_io: bool,
    /// Whether the tree has been entered (extend then enters at once).
    pub entered: bool,
    pub escalated: Option<Escalated>,
    /// Failures of enter or recur so far.
    pub failures: u64,
    /// Set when any node is doomed since the root pass began (walks then
    /// check their DoDoer's doom after each deed).
    pub doom_pending: bool,
    /// The groups mid-pass, innermost last, with the deed whose turn it is.
    frames: Vec<(DoerId, Option<DoerId>)>,
    /// Whether the tick began early (a service ended the wait).
    pub tick_early: bool,
    /// Whether any crew was ever inserted (the walk then starts them).
    pub has_crews: bool,
    /// The threads crews run on (none: on this thread).
    pub pool: Option<Rc<Pool>>,
    /// In a crew's scheduler: the cadence of the crew's tock-0 children.
    root_tock: Option<f64>,
    due_pool: Vec<Vec<Entry>>,
    staged_pool: Vec<Vec<(Due, Entry)>>,
}

impl Scheduler {
    pub fn new(tock: f64, supervision: Supervision) -> Scheduler {
        let mut arena = Arena::default();
        let root = arena.insert(TreeNode {
            path: Rc::from(""),
            parent: None,
            cold: Box::new(Cold {
                spec: None,
                restarts: VecDeque::new(),
                crew: None,
            }),
            tock,
            retyme: 0.0,
            pos: 0,
            ticket: 0,
            attempt: 0,
            state: Phase::Live,
            on_path: false,
            crew: false,
            doom: None,
            body: Body::Group(Box::new(GroupState {
                queue: Queue::default(),
                always: false,
                supervision,
            })),
        });
        Scheduler {
            arena,
            root,
            paths: BTreeMap::new(),
            tymist: Tymist::new(tock),
            trace: None,
            logger: stderr_logger(),
            plain: false,
            wake_io: false,
            entered: false,
            escalated: None,
            failures: 0,
            doom_pending: false,
            frames: Vec::new(),
            tick_early: false,
            has_crews: false,
            pool: None,
            root_tock: None,
            due_pool: Vec::new(),
            staged_pool: Vec::new(),
        }
    }

    pub fn tyme(&self) -> f64 {
        self.tymist.tyme()
    }

    pub fn node(&self, id: DoerId) -> Option<&TreeNode> {
        self.arena.get(id)
    }

    pub fn node_mut(&mut self, id: DoerId) -> Option<&mut TreeNode> {
        self.arena.get_mut(id)
    }

    pub fn path(&self, id: DoerId) -> &str {
        self.arena.get(id).map_or("", |n| &n.path)
    }

    pub fn parent(&self, id: DoerId) -> DoerId {
        self.arena
            .get(id)
            .and_then(|n| n.parent)
            .unwrap_or(self.root)
    }

    pub fn find(&self, path: &str) -> Option<DoerId> {
        if path.is_empty() {
            // A crew's doers do not see outside their crew.
            return (!self.in_crew()).then_some(self.root);
        }
        if self.in_crew() && *self.path(self.root) == *path {
            return Some(self.root);
        }
        self.paths.get(path).copied()
    }

    pub fn queue(&self, gid: DoerId) -> Option<&Queue> {
        self.arena
            .get(gid)
            .and_then(TreeNode::group)
            .map(|g| &g.queue)
    }

    pub fn queue_mut(&mut self, gid: DoerId) -> Option<&mut Queue> {
        self.arena
            .get_mut(gid)
            .and_then(TreeNode::group_mut)
            .map(|g| &mut g.queue)
    }

    /// The cadence a tock-0 child of `gid` runs at.
    pub fn parent_tock(&self, gid: DoerId) -> f64 {
        if gid == self.root {
            self.root_tock.unwrap_or_else(|| self.tymist.tock())
        } else {
            self.arena.get(gid).map_or(0.0, |n| n.tock)
        }
    }

    /// Writes one trace record for `id` (no-op with the trace off).
    pub fn emit(&mut self, id: DoerId, event: Event, reason: Option<&str>) {
        let Some(sink) = self.trace.as_mut() else {
            return;
        };
        let Some(node) = self.arena.get(id) else {
            return;
        };
        sink.record(&Line {
            tyme: self.tymist.tyme(),
            doer: &node.path,
            event,
            reason,
            ran: !node.poisoned(),
            attempt: node.attempt(),
            done: None,
        });
    }

    pub fn log(&mut self, id: DoerId, level: Level, message: &str) {
        let tyme = self.tymist.tyme();
        let path = self.arena.get(id).map(|n| Rc::clone(&n.path));
        (self.logger)(&LogLine {
            tyme,
            path: path.as_deref().unwrap_or(""),
            level,
            message,
        });
    }

    /// Calls a hook of leaf `id` with its doer taken out of the tree, so the
    /// hook may edit the tree. `None` when no code can run (no instance, or
    /// the instance is poisoned).
    pub fn call<T>(
        &mut self,
        id: DoerId,
        hook: impl FnOnce(&mut dyn Doer, &mut Context<'_>) -> HookResult<T>,
    ) -> Option<HookResult<T>> {
        let node = self.arena.get_mut(id)?;
        let Body::Leaf(slot) = &mut node.body else {
            return None;
        };
        let mut doer = slot.take()?;
        let result = if doer.poisoned() {
            None
        } else {
            let mut cx = Context {
                sched: self,
                me: id,
            };
            Some(hook(doer.as_mut(), &mut cx))
        };
        // The node is on the call path, so it cannot have been dropped.
        if let Some(Body::Leaf(slot)) = self.arena.get_mut(id).map(|n| &mut n.body) {
            *slot = Some(doer);
        }
        result
    }

    /// Indexes `id` under its current retyme in its parent's queue.
    pub fn schedule(&mut self, id: DoerId) {
        if self.plain {
            return;
        }
        let Some(node) = self.arena.get_mut(id) else {
            return;
        };
        let (retyme, entry, parent) = (node.retyme, node.reindex(id).1, node.parent);
        if let Some(q) = parent.and_then(|p| self.queue_mut(p)) {
            q.schedule(retyme, entry);
        }
    }

    /// The deed whose turn it is in group `gid`, if `gid` is mid-pass.
    pub fn running_in(&self, gid: DoerId) -> Option<DoerId> {
        self.frames
            .iter()
            .rev()
            .find(|f| f.0 == gid)
            .and_then(|f| f.1)
    }

    /// One pass over the queue of group `gid` at the current tyme.
    pub fn walk(&mut self, gid: DoerId) {
        let tyme = self.tyme();
        let parent_tock = if self.wake_io {
            0.0
        } else {
            self.parent_tock(gid)
        };
        let mut due = self.due_pool.pop().unwrap_or_default();
        let plain = self.plain;
        let mut sorted = true;
        if let Some(q) = self.queue_mut(gid) {
            if plain {
                due.extend(q.ids().into_iter().map(|id| Entry::new(id, 0, 0)));
            } else {
                sorted = q.take_due(tyme, &mut due);
            }
        }
        if !sorted {
            self.sort_by_pos(&mut due);
        }
        let mut staged = self.staged_pool.pop().unwrap_or_default();
        self.frames.push((gid, None));
        let mut next = 0;
        while next < due.len() {
            if self.doom_pending && self.arena.get(gid).is_none_or(|g| g.doom.is_some()) {
                break;
            }
            let entry = due[next];
            if self.has_crews {
                self.start_crews(&due[next..], tyme);
            }
            next += 1;
            self.visit(entry, tyme, parent_tock, &mut staged);
        }
        // A pass cut short (its DoDoer failed or was removed) keeps the
        // deeds it did not reach; crews started with the last one taken
        // finish their turn.
        for &entry in &due[next..] {
            if self.has_crews && self.crew_started(entry.id) {
                self.visit(entry, tyme, parent_tock, &mut staged);
            } else if !plain
                && let Some(node) = self.arena.get(entry.id)
                && node.ticket == entry.ticket
            {
                staged.push((Due(node.retyme), entry));
            }
        }
        self.frames.pop();
        if let Some(q) = self.queue_mut(gid) {
            q.schedule_all(&mut staged);
        }
        staged.clear();
        due.clear();
        self.staged_pool.push(staged);
        self.due_pool.push(due);
    }

    /// Starts the turns of the crews due at the head of `due`, together:
    /// each runs on its thread while the walk takes them in order. Those on
    /// other threads are sent their turn first, then those on this thread
    /// run theirs.
    fn start_crews(&mut self, due: &[Entry], tyme: f64) {
        let tick = crate::services::Tick {
            tyme,
            early: self.tick_early,
        };
        let mut here = Vec::new();
        for entry in due {
            let Some(node) = self.arena.get(entry.id) else {
                continue;
            };
            if (!self.plain && node.ticket != entry.ticket) || node.retyme > tyme {
                continue; // skipped by the walk: look past it
            }
            if !node.crew || node.state != Phase::Live || node.doom.is_some() {
                break;
            }
            match &node.cold.crew {
                Some(link) if link.borrow().is_remote() => link.borrow_mut().start(tick),
                Some(link) => here.push(Rc::clone(link)),
                None => break,
            }
        }
        for link in here {
            link.borrow_mut().start(tick);
        }
    }

    /// Whether `id` is a crew whose turn was started and not taken.
    fn crew_started(&self, id: DoerId) -> bool {
        self.arena
            .get(id)
            .filter(|n| n.crew)
            .and_then(|n| n.cold.crew.as_ref())
            .is_some_and(|l| l.borrow().started())
    }

    /// Makes this the scheduler of the crew at `path`, whose tock-0
    /// children run at `tock` (the Doist's when 0 and at the top).
    pub fn set_crew_root(&mut self, path: &str, tock: f64) {
        let root = self.root;
        if let Some(r) = self.arena.get_mut(root) {
            r.path = Rc::from(path);
        }
        self.root_tock = Some(tock);
    }

    /// Whether this is a crew's scheduler.
    pub fn in_crew(&self) -> bool {
        self.root_tock.is_some()
    }

    /// How a crew entered now sets up its scheduler.
    pub fn crew_settings(&self) -> Settings {
        Settings {
            trace: self.trace.is_some(),
            plain: self.plain,
            wake_io: self.wake_io,
            tock: self.tymist.tock(),
        }
    }

    /// Writes what a crew wrote, here, in order.
    pub fn splice(&mut self, out: Out, failures: u64) {
        if let Some(sink) = self.trace.as_mut() {
            for r in &out.records {
                sink.record(&r.as_line());
            }
        }
        for l in &out.logs {
            (self.logger)(&LogLine {
                tyme: l.tyme,
                path: &l.path,
                level: l.level,
                message: &l.message,
            });
        }
        self.failures += failures;
    }

    /// Puts due entries in queue order, with fresh positions.
    fn sort_by_pos(&self, due: &mut [Entry]) {
        let pos = |e: &Entry| self.arena.get(e.id).map_or(0, |n| n.pos);
        if !due.is_sorted_by_key(pos) {
            due.sort_by_cached_key(pos);
        }
    }

    /// One deed's turn, if it is still the deed the entry was made for and
    /// is due. The common case (a live leaf, trace off, not done, nothing
    /// pending) costs two lookups and the call.
    fn visit(&mut self, entry: Entry, tyme: f64, parent_tock: f64, staged: &mut Vec<(Due, Entry)>) {
        let plain = self.plain;
        let fast = self.trace.is_none();
        let Some(node) = self.arena.get_mut(entry.id) else {
            return;
        };
        if !plain && node.ticket != entry.ticket {
            return; // stale: the deed was rescheduled or replaced
        }
        if node.retyme > tyme {
            if !plain {
                staged.push((Due(node.retyme), entry));
            }
            return;
        }
        if let Some(top) = self.frames.last_mut() {
            top.1 = Some(entry.id);
        }
        let again = if fast
            && node.state == Phase::Live
            && let Body::Leaf(slot) = &mut node.body
            && let Some(mut doer) = slot.take()
        {
            node.on_path = true;
            let result = doer.recur(
                &mut Context {
                    sched: self,
                    me: entry.id,
                },
                tyme,
            );
            // The node is on the call path, so it is still there.
            let Some(node) = self.arena.get_mut(entry.id) else {
                return;
            };
            node.on_path = false;
            if let Body::Leaf(slot) = &mut node.body {
                *slot = Some(doer);
            }
            if let Ok(false) = result
                && node.doom.is_none()
            {
                node.retyme = if node.tock == 0.0 {
                    tyme + parent_tock
                } else {
                    node.retyme + node.tock
                };
                staged.push(node.reindex(entry.id));
                return;
            }
            self.end_turn(entry.id, result, tyme, parent_tock)
        } else {
            self.run_deed(entry.id, tyme, parent_tock)
        };
        if let Some(again) = again {
            staged.push(again);
        }
    }

    /// Runs deed `id`'s turn. Returns its next due entry if it stays in the
    /// queue and has not been rescheduled already.
    pub(crate) fn run_deed(
        &mut self,
        id: DoerId,
        tyme: f64,
        parent_tock: f64,
    ) -> Option<(Due, Entry)> {
        let node = self.arena.get_mut(id)?;
        match node.state {
            Phase::Live => {}
            Phase::Restarting => {
                self.restart_instance(id);
                if self.arena.get(id)?.state != Phase::Live {
                    return None; // failed again: already dropped or rescheduled
                }
            }
            // Not entered yet (its DoDoer is still entering): keep it.
            Phase::Fresh => return Some(node.reindex(id)),
            Phase::Closing => return None,
        }
        let node = self.arena.get_mut(id)?;
        node.on_path = true;
        let is_group = matches!(node.body, Body::Group(_));
        self.emit(id, Event::Recur, None);
        let result = if is_group {
            self.walk(id);
            let g = self.arena.get(id).and_then(TreeNode::group)?;
            Ok(g.queue.is_empty() && !g.always)
        } else {
            self.call(id, |d, cx| d.recur(cx, tyme))
                .unwrap_or_else(|| Err(Failure::from("no instance to run")))
        };
        self.arena.get_mut(id)?.on_path = false;
        self.end_turn(id, result, tyme, parent_tock)
    }

    /// What follows a recur: done, failed, removed meanwhile, or due again.
    fn end_turn(
        &mut self,
        id: DoerId,
        result: HookResult<bool>,
        tyme: f64,
        parent_tock: f64,
    ) -> Option<(Due, Entry)> {
        let node = self.arena.get_mut(id)?;
        match (result, node.doom.take().map(|d| *d)) {
            (Ok(false), None) => {
                node.retyme = if node.tock == 0.0 {
                    tyme + parent_tock
                } else {
                    node.retyme + node.tock
                };
                return Some(node.reindex(id));
            }
            (Err(f), _) => self.fail(id, f.0),
            (_, Some(Doom::Fail(reason))) => self.fail(id, reason),
            (Ok(true), _) => self.complete(id),
            (Ok(false), Some(Doom::Remove)) => self.close(id),
        }
        None
    }
}
