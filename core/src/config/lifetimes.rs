//! How long a decision stands before the banner asks again: the config's `lifetime`
//! settings and their bounds.

use serde::Serialize;

/// CNIL's recommended lifetime of a decision, about six months.
pub const DEFAULT_LIFETIME_DAYS: u16 = 182;
/// The longest lifetime a config may set, thirteen months.
pub const MAX_LIFETIME_DAYS: u16 = 395;

/// How long a decision stands before the banner asks again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Lifetimes {
    pub(super) accept_days: u16,
    pub(super) refuse_days: u16,
}

impl Lifetimes {
    /// For a decision that grants anything beyond necessary, in days.
    #[must_use]
    pub fn accept_days(&self) -> u16 {
        self.accept_days
    }
    /// For a decision that grants nothing beyond necessary, in days.
    #[must_use]
    pub fn refuse_days(&self) -> u16 {
        self.refuse_days
    }
}
