//! The config as a site's policy (the rules' view of it, beside its compiled form): its
//! `SitePolicy` implementation and the parameters the rules take from it.

use super::{CategoryIndex, Config, ServiceIndex};
use crate::state::{MAX_CATEGORIES, ServiceSet};

impl crate::site::SitePolicy for Config {}

#[allow(private_interfaces)]
impl crate::site::sealed::Sealed for Config {
    fn params(&self) -> crate::site::Params {
        crate::site::Params::new(self)
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

    fn cookie(&self) -> crate::compiled::CookieSettings<'_> {
        let c = Config::cookie(self);
        crate::compiled::CookieSettings {
            name: c.name(),
            path: c.path(),
            domain: c.domain(),
            same_site: c.same_site(),
            always_secure: crate::compiled::secure_prefix(c.name()).is_some(),
        }
    }

    fn lifetime_days(&self) -> (u16, u16) {
        let l = self.lifetimes();
        (l.accept_days(), l.refuse_days())
    }

    fn each_cookie(&self, f: &mut dyn crate::site::EachCookie) {
        for (si, _, service) in self.services() {
            for c in service.cookies() {
                f.cookie(
                    si,
                    crate::compiled::CookieEntry {
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

    fn services_of(&self, category: CategoryIndex) -> ServiceSet {
        Config::services_of(self, category)
            .fold(ServiceSet::EMPTY, |set, s| set.or(ServiceSet::bit(s.0)))
    }
}

impl crate::site::Params {
    pub(crate) fn new(config: &Config) -> Self {
        let mut category_services = [ServiceSet::EMPTY; MAX_CATEGORIES];
        for (service, category, _) in config.services() {
            let set = &mut category_services[category.get()];
            *set = set.or(ServiceSet::bit(service.0));
        }
        Self {
            revision: config.revision().get(),
            fingerprint: config.fingerprint(),
            n_categories: config.categories().len() as u8,
            n_services: config.service_count() as u8,
            accept_secs: i64::from(config.lifetimes().accept_days()) * crate::state::DAY,
            refuse_secs: i64::from(config.lifetimes().refuse_days()) * crate::state::DAY,
            gpc_mask: config.gpc_mask(),
            honour_dnt: config.honour_dnt(),
            necessary: config.necessary_only(),
            everything: config.everything(),
            category_services,
        }
    }
}
