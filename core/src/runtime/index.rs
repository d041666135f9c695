//! Positions of categories and services in a site's policy: what a [`Choices`](crate::Choices)
//! set and every rule index by. The same in a [`Config`](crate::Config) and in its
//! [compiled policy](crate::compiled::CompiledPolicy).

/// The position of a category in the site's policy; index 0 is always `necessary`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CategoryIndex(pub(crate) u8);

impl CategoryIndex {
    /// The strictly necessary category.
    pub const NECESSARY: CategoryIndex = CategoryIndex(0);

    /// The strictly necessary category's id, which every policy has.
    pub const NECESSARY_ID: &'static str = "necessary";

    /// The position, from 0.
    #[must_use]
    pub const fn get(self) -> usize {
        self.0 as usize
    }
}

/// The position of a service in the site's policy, counted across all categories in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceIndex(pub(crate) u8);

impl ServiceIndex {
    /// The position, from 0.
    #[must_use]
    pub const fn get(self) -> usize {
        self.0 as usize
    }
}
