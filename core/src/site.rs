//! A site's policy as the rules read it: from a validated [`Config`] (the server, the CLI) or
//! from its [`CompiledPolicy`] (a runtime that holds no config, the banner).
//!
//! Every rule of [`policy`](crate::policy) and every step of [`decision`](crate::decision)
//! that the browser needs is written once, generic over [`SitePolicy`], so the two sources
//! cannot drift: a test compiles configs and compares the answers of both.

use crate::compiled::{CompiledPolicy, CookieEntry, CookieSettings};
use crate::config::{CategoryIndex, Config, ServiceIndex};
use crate::policy::Params;

/// A site's policy: [`Config`] or [`CompiledPolicy`]. Sealed: the rules rely on what the two
/// guarantee (validated ids, the necessary category first).
pub trait SitePolicy: sealed::Sealed {}

impl SitePolicy for Config {}
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
        fn each_cookie(&self, f: &mut dyn FnMut(ServiceIndex, CookieEntry<'_>));
        /// Consent Mode: whether it is on, its `wait_for_update` and each signal's categories.
        fn consent_mode(&self) -> (bool, u32, [u32; 7]);
        /// The services of a category, as a bit set.
        fn services_of(&self, category: CategoryIndex) -> u128;
    }
}

#[allow(private_interfaces)]
impl sealed::Sealed for Config {
    fn params(&self) -> Params {
        Params::new(self)
    }

    fn category_index(&self, id: &str) -> Option<CategoryIndex> {
        Config::category_index(self, id)
    }

    fn service_index(&self, id: &str) -> Option<ServiceIndex> {
        Config::service_index(self, id)
    }

    fn excluded(&self, service: ServiceIndex, path: &str) -> bool {
        self.service(service)
            .is_some_and(|s| s.is_excluded_on(path))
    }

    fn cookie(&self) -> CookieSettings<'_> {
        let c = Config::cookie(self);
        CookieSettings {
            name: c.name(),
            path: c.path(),
            domain: c.domain(),
            same_site: c.same_site(),
        }
    }

    fn lifetime_days(&self) -> (u16, u16) {
        let l = self.lifetimes();
        (l.accept_days(), l.refuse_days())
    }

    fn each_cookie(&self, f: &mut dyn FnMut(ServiceIndex, CookieEntry<'_>)) {
        for (si, _, service) in self.services() {
            for c in service.cookies() {
                f(
                    si,
                    CookieEntry {
                        name: c.name().as_str(),
                        path: c.path(),
                        domain: c.domain(),
                    },
                );
            }
        }
    }

    fn consent_mode(&self) -> (bool, u32, [u32; 7]) {
        let m = Config::consent_mode(self);
        (m.enabled(), m.wait_for_update_ms(), m.masks)
    }

    fn services_of(&self, category: CategoryIndex) -> u128 {
        Config::services_of(self, category).fold(0, |set, s| set | 1 << s.get())
    }
}

#[allow(private_interfaces)]
impl sealed::Sealed for CompiledPolicy<'_> {
    fn params(&self) -> Params {
        Params::from_compiled(self)
    }

    fn category_index(&self, id: &str) -> Option<CategoryIndex> {
        CompiledPolicy::category_index(self, id)
    }

    fn service_index(&self, id: &str) -> Option<ServiceIndex> {
        CompiledPolicy::service_index(self, id)
    }

    fn excluded(&self, service: ServiceIndex, path: &str) -> bool {
        self.service(service)
            .is_some_and(|s| s.is_excluded_on(path))
    }

    fn cookie(&self) -> CookieSettings<'_> {
        CompiledPolicy::cookie(self)
    }

    fn lifetime_days(&self) -> (u16, u16) {
        CompiledPolicy::lifetime_days(self)
    }

    fn each_cookie(&self, f: &mut dyn FnMut(ServiceIndex, CookieEntry<'_>)) {
        for (i, service) in self.services().enumerate() {
            for c in service.cookies() {
                f(ServiceIndex(i as u8), c);
            }
        }
    }

    fn consent_mode(&self) -> (bool, u32, [u32; 7]) {
        (
            self.consent_mode_enabled(),
            self.wait_for_update_ms(),
            self.consent_mode_masks(),
        )
    }

    fn services_of(&self, category: CategoryIndex) -> u128 {
        self.indexed_services()
            .filter(|(_, s)| s.category == category)
            .fold(0, |set, (i, _)| set | 1 << i.get())
    }
}
