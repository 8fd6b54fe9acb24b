//! What to build a doer from: a [`Spec`] names a leaf doer and how to make
//! an instance of it (again, on restart), or a DoDoer and its children.

use std::fmt;
use std::rc::Rc;

use crate::tree::dodoer::DoDoer;
use crate::tree::doer::Doer;

/// What a factory knows about the instance it makes.
#[derive(Debug, Clone, Copy)]
pub struct Birth<'a> {
    /// The doer's path in the tree.
    pub path: &'a str,
    /// 0 for the first instance, n for the n-th restart (seeds include it).
    pub attempt: u32,
}

/// Makes a fresh doer instance; an error is a failure of the doer's `enter`.
pub type Factory = Rc<dyn Fn(&Birth<'_>) -> Result<Box<dyn Doer>, String>>;

/// The blueprint of one node of the tree.
///
/// ```
/// use hio_scheduler::{DoDoer, Recorder, Spec};
/// let leaf = Recorder::spec("worker", 0.0, 3);
/// let group: Spec = DoDoer::new("group").tock(0.0625).doer(leaf).into();
/// assert_eq!(group.name(), "group");
/// ```
#[derive(Clone)]
pub struct Spec {
    pub(crate) name: String,
    pub(crate) tock: f64,
    pub(crate) kind: SpecKind,
}

#[derive(Clone)]
pub(crate) enum SpecKind {
    Leaf(Factory),
    Group(DoDoer),
    Crew(crate::tree::crew::Crew),
}

impl Spec {
    /// A leaf whose every instance is a clone of `doer`.
    pub fn doer<D: Doer + Clone + 'static>(name: impl Into<String>, tock: f64, doer: D) -> Spec {
        Spec::with_factory(name, tock, move |_| Ok(Box::new(doer.clone())))
    }

    /// A leaf whose instances `factory` makes (it sees the path and attempt).
    pub fn with_factory<F>(name: impl Into<String>, tock: f64, factory: F) -> Spec
    where
        F: Fn(&Birth<'_>) -> Result<Box<dyn Doer>, String> + 'static,
    {
        Spec {
            name: name.into(),
            tock,
            kind: SpecKind::Leaf(Rc::new(factory)),
        }
    }

    /// The node's name (one path segment).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The node's initial tock.
    pub fn tock(&self) -> f64 {
        self.tock
    }

    /// Whether this is a DoDoer (a crew is one).
    pub fn is_group(&self) -> bool {
        matches!(self.kind, SpecKind::Group(_) | SpecKind::Crew(_))
    }

    /// Whether this is a crew.
    pub fn is_crew(&self) -> bool {
        matches!(self.kind, SpecKind::Crew(_))
    }
}

impl fmt::Debug for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Spec");
        s.field("name", &self.name).field("tock", &self.tock);
        match &self.kind {
            SpecKind::Group(g) => {
                s.field("group", g);
            }
            SpecKind::Crew(c) => {
                s.field("crew", c);
            }
            SpecKind::Leaf(_) => {}
        }
        s.finish()
    }
}

/// Whether `name` is a valid path segment: `[A-Za-z0-9_.-]{1,64}`.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::valid_name;

    #[test]
    fn names_follow_the_manifest_rule() {
        assert!(valid_name("a"));
        assert!(valid_name("worker-1.v2_x"));
        assert!(valid_name(&"x".repeat(64)));
        assert!(!valid_name(""));
        assert!(!valid_name(&"x".repeat(65)));
        assert!(!valid_name("a/b"));
        assert!(!valid_name("é"));
        assert!(!valid_name("a b"));
    }
}
