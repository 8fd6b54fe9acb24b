//! Host side of the `children` interface: the children a doer spawns are
//! queued in its store and made (or removed) when its hook returns, by its
//! instance (`doer.rs`); a connection it hands one goes with the
//! request.

use std::collections::BTreeSet;

use hio_io::ConnId;
use wasmtime::component::{HasData, Resource};

use super::handles::Handles;
use super::tcp::Listeners;
use crate::bindings::hio::doer::children::Host;
use crate::bindings::hio::doer::types::{Scalar, Value};
use crate::resources::ConnRes;

/// A spawn a hook asked for, made when the hook returns.
pub(crate) struct SpawnRequest {
    pub name: String,
    pub plugin: String,
    pub options: Vec<(String, Value)>,
    pub conn: Option<ConnId>,
}

/// A doer's children as its store keeps them.
#[derive(Default)]
pub(crate) struct ChildState {
    /// Plugins it may spawn, as its grant names them.
    pub spawnable: BTreeSet<String>,
    /// Children it may have alive at once.
    pub max: u32,
    /// Names of its live children (as it named them).
    pub alive: BTreeSet<String>,
    /// Spawns asked for during this call.
    pub spawned: Vec<SpawnRequest>,
    /// Removals asked for during this call.
    pub removed: Vec<String>,
    /// The connection its parent handed it, until it takes it.
    pub handed: Option<ConnId>,
}

/// The view of a doer's store `children` is implemented on.
pub(crate) struct ChildrenView<'a> {
    /// Its handles (a connection goes to a child) and network.
    pub handles: Handles<'a>,
    /// The doer's own name (the last segment of its path).
    pub name: &'a str,
    /// Its children.
    pub children: &'a mut ChildState,
    /// Its listeners (a connection may go back to one).
    pub listeners: &'a mut Listeners,
}

/// `children` in the linker: calls on a [`ChildrenView`].
pub(crate) struct Children;

impl HasData for Children {
    type Data<'a> = ChildrenView<'a>;
}

impl ChildrenView<'_> {
    /// Refuses a spawn for `why`: the connection handed with it closes.
    fn refuse(&self, conn: Option<ConnId>, why: String) -> Result<(), String> {
        if let (Some(cid), Some(net)) = (conn, self.handles.net()) {
            net.close(cid);
        }
        Err(why)
    }
}

impl Host for ChildrenView<'_> {
    fn spawn(
        &mut self,
        name: String,
        plugin: String,
        options: Vec<(String, Value)>,
        conn: Option<Resource<ConnRes>>,
    ) -> Result<(), String> {
        self.handles
            .cross(name.len() + plugin.len() + options_size(&options));
        // The handle is the child's now, whatever happens: on a refusal
        // the connection closes, except at the children limit, where an
        // accepted connection goes back to the front of its listener's
        // queue (back pressure: the next `accept` gives it again).
        let handed = conn.and_then(|r| self.handles.table.delete(r).ok());
        let conn = handed.as_ref().map(|c| c.0);
        let full = format!("{}.{name}", self.name);
        if !hio_scheduler::valid_name(&name) || !hio_scheduler::valid_name(&full) {
            return self.refuse(
                conn,
                format!(
                    "bad child name {name:?}: the child's name {full:?} must match [A-Za-z0-9_.-]{{1,64}}"
                ),
            );
        }
        if self.children.alive.contains(&name) {
            return self.refuse(conn, format!("a child named {name:?} is alive already"));
        }
        if self.children.alive.len() >= self.children.max as usize {
            let why = format!("limit reached: children ({} alive)", self.children.max);
            // Decided by what the doer did (accepted it from a listener it
            // still holds), never by the network's state, so a replay
            // answers as the recording did; the listener then gives nothing
            // more this call, so a doer that ignores the error cannot spin.
            if let Some(ConnRes(cid, Some(lid))) = handed
                && self.listeners.held.contains(&lid)
            {
                self.listeners.held_back.insert(lid);
                if let Some(net) = self.handles.net()
                    && !net.requeue(cid)
                {
                    net.close(cid);
                }
                return Err(format!(
                    "{why}; the connection waits in its listener's queue"
                ));
            }
            return self.refuse(conn, why);
        }
        if !self.children.spawnable.contains(&plugin) {
            return self.refuse(
                conn,
                format!("not granted: spawning plugin {plugin:?} (grant it in grants.spawn)"),
            );
        }
        self.children.alive.insert(name.clone());
        self.children.spawned.push(SpawnRequest {
            name,
            plugin,
            options,
            conn,
        });
        Ok(())
    }

    fn remove(&mut self, name: String) -> Result<(), String> {
        self.handles.cross(name.len());
        if !self.children.alive.remove(&name) {
            return Err(format!("no child named {name:?}"));
        }
        // Spawned in this same call: it is not made at all.
        if let Some(i) = self.children.spawned.iter().position(|r| r.name == name) {
            let req = self.children.spawned.remove(i);
            if let (Some(cid), Some(net)) = (req.conn, self.handles.net()) {
                net.close(cid);
            }
            return Ok(());
        }
        self.children.removed.push(name);
        Ok(())
    }

    fn handed(&mut self) -> Option<Resource<ConnRes>> {
        let cid = self.children.handed.take()?;
        self.handles
            .push(ConnRes(cid, None), |net, cid| net.close(cid))
            .ok()
    }
}

/// The bytes a spawn's options hand the host.
fn options_size(options: &[(String, Value)]) -> usize {
    let scalar = |s: &Scalar| match s {
        Scalar::Text(t) => t.len(),
        _ => 8,
    };
    options
        .iter()
        .map(|(k, v)| {
            k.len()
                + match v {
                    Value::Scalar(s) => scalar(s),
                    Value::List(l) => l.iter().map(scalar).sum(),
                }
        })
        .sum()
}
