//! A site's policy as the rules read it: from a validated [`Config`](crate::Config) (the server, the CLI) or
//! from its [`CompiledPolicy`] (a runtime that holds no config, the banner).
//!
//! Every rule of [`policy`](crate::policy) and every step of [`decision`](crate::decision)
//! that the browser needs is written once, generic over [`SitePolicy`], so the two sources
//! cannot drift: a test compiles configs and compares the answers of both.

use crate::compiled::{CompiledPolicy, CookieEntry, CookieSettings};
use crate::index::{CategoryIndex, ServiceIndex};
use crate::state::{Choices, DAY, MAX_CATEGORIES, ServiceSet};

/// A site's policy: [`Config`](crate::Config) or [`CompiledPolicy`]. Sealed: the rules rely on what the two
/// guarantee (validated ids, the necessary category first).
pub trait SitePolicy: sealed::Sealed {}

impl SitePolicy for CompiledPolicy<'_> {}

pub(crate) mod sealed {
    use super::*;

    /// What the rules read; crate-internal, so the methods can change with the rules.
    /// `pub` only because a sealed trait must be: its module is private, so nothing outside
    /// the crate can name it, call its methods or see [`Params`] through it.
    #[allow(private_interfaces)]
    pub trait Sealed {
        /// The parameters the rules run on.
        fn params(&self) -> Params;
        fn category_index(&self, id: &str) -> Option<CategoryIndex>;
        fn service_index(&self, id: &str) -> Option<ServiceIndex>;
        /// Whether the service is kept off the page at `path` (`exclude_paths`).
        fn excluded(&self, service: ServiceIndex, path: &str) -> bool;
        fn cookie(&self) -> CookieSettings<'_>;
        /// The acceptance and refusal lifetimes, in days.
        fn lifetime_days(&self) -> (u16, u16);
        /// Calls `f` with every declared cookie of every service, in config order.
        fn each_cookie(&self, f: &mut dyn EachCookie);
        /// Consent Mode: whether it is on, its `wait_for_update` and each signal's categories.
        fn consent_mode(&self) -> (bool, u32, [u32; 7]);
        /// The services of a category, as a bit set.
        fn services_of(&self, category: CategoryIndex) -> ServiceSet;
    }
}

#[allow(private_interfaces)]
impl sealed::Sealed for CompiledPolicy<'_> {
    fn params(&self) -> Params {
        Params::from_compiled(self)
    }

    #[inline(always)]
    fn category_index(&self, id: &str) -> Option<CategoryIndex> {
        CompiledPolicy::category_index(self, id)
    }

    #[inline(always)]
    fn service_index(&self, id: &str) -> Option<ServiceIndex> {
        CompiledPolicy::service_index(self, id)
    }

    fn excluded(&self, service: ServiceIndex, path: &str) -> bool {
        self.service_excluded_on(service, path)
    }

    // Always inlined, as the inherent `cookie`, `consent_mode` and `services_of`: the
    // callers read what they need in place, where a call returned it through memory (17, 101
    // and 12 B gzip of the banner's module, measured).
    #[inline(always)]
    fn cookie(&self) -> CookieSettings<'_> {
        CompiledPolicy::cookie(self)
    }

    fn lifetime_days(&self) -> (u16, u16) {
        CompiledPolicy::lifetime_days(self)
    }

    fn each_cookie(&self, f: &mut dyn EachCookie) {
        self.each_service_cookie(f);
    }

    #[inline(always)]
    fn consent_mode(&self) -> (bool, u32, [u32; 7]) {
        (
            self.consent_mode_enabled(),
            self.wait_for_update_ms(),
            self.consent_mode_masks(),
        )
    }

    // What the rules' parameters already hold, not a second reading of the services'
    // categories (57 B gzip less in the banner's module, measured); only a decision asks.
    #[inline(always)]
    fn services_of(&self, category: CategoryIndex) -> ServiceSet {
        self.params()
            .category_services
            .get(category.get())
            .copied()
            .unwrap_or_default()
    }
}

/// What [`each_cookie`](sealed::Sealed::each_cookie) calls with each declared cookie: any
/// `FnMut(ServiceIndex, CookieEntry)`. A trait of its own rather than `dyn FnMut`, whose
/// vtable also holds a `call_once` shim that nothing calls (18 B gzip of the banner's
/// module, measured).
pub(crate) trait EachCookie {
    fn cookie(&mut self, service: ServiceIndex, cookie: CookieEntry<'_>);
}

impl<F: FnMut(ServiceIndex, CookieEntry<'_>)> EachCookie for F {
    fn cookie(&mut self, service: ServiceIndex, cookie: CookieEntry<'_>) {
        self(service, cookie);
    }
}

/// Everything the rules need from a config, computed once (for the server-side check): the
/// same from a [`Config`](crate::Config) and from its [compiled policy](crate::compiled::CompiledPolicy).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Params {
    pub(crate) revision: u32,
    pub(crate) fingerprint: u32,
    pub(crate) n_categories: u8,
    pub(crate) n_services: u8,
    pub(crate) accept_secs: i64,
    pub(crate) refuse_secs: i64,
    pub(crate) gpc_mask: u32,
    pub(crate) honour_dnt: bool,
    pub(crate) necessary: Choices,
    /// Every category and service of the config.
    pub(crate) everything: Choices,
    /// The services of each category, as bit sets.
    pub(crate) category_services: [ServiceSet; MAX_CATEGORIES],
}

impl Params {
    /// The parameters of a compiled policy: what a browser that holds no config runs the
    /// rules over. Equal to [`Params::new`] of the config it was compiled from (tested).
    pub(crate) fn from_compiled(policy: &crate::compiled::CompiledPolicy<'_>) -> Self {
        let mut category_services = [ServiceSet::EMPTY; MAX_CATEGORIES];
        let mut n_services = 0u8;
        for (i, category) in policy.service_categories().enumerate() {
            // The format checks every service's category; `get_mut` keeps a panicking index
            // (and `core::fmt`, which its message needs) out of the banner's module.
            if let Some(set) = category_services.get_mut(category.get()) {
                *set = set.or(ServiceSet::bit(i as u8));
            }
            n_services += 1;
        }
        let n_categories = policy.category_count() as u8;
        let everything = Choices::all(n_categories, n_services);
        let (accept_days, refuse_days) = policy.lifetime_days();
        Self {
            revision: policy.revision(),
            fingerprint: policy.fingerprint(),
            n_categories,
            n_services,
            accept_secs: i64::from(accept_days) * DAY,
            refuse_secs: i64::from(refuse_days) * DAY,
            gpc_mask: policy.gpc_mask(),
            honour_dnt: policy.honour_dnt(),
            // The necessary category is the first (the format checks it), with its services.
            necessary: Choices {
                categories: 1,
                services: category_services[0],
            },
            everything,
            category_services,
        }
    }
}
