//! [`DoerId`]: how the running tree names a doer.

/// Names a doer (leaf or DoDoer) in a running tree.
///
/// Ids are never confused: once a doer is gone its id stays dead even when
/// its slot is reused, so removing a doer that is already gone does nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DoerId {
    pub(super) idx: u32,
    pub(super) generation: u32,
}

impl DoerId {
    /// What a crew's doer gets for the Doist's root: outside its crew, so
    /// never found in its crew's tree.
    pub(crate) const OUTSIDE: DoerId = DoerId {
        idx: u32::MAX,
        generation: u32::MAX,
    };
}
