//! Where and how the consent cookie itself is stored: the config's `cookie` settings.

use crate::prelude::*;
use serde::Serialize;

use crate::cookie_decl::SameSite;

/// Where and how the consent cookie itself is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConsentCookie {
    pub(super) name: Box<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) domain: Option<Box<str>>,
    pub(super) path: Box<str>,
    pub(super) same_site: SameSite,
}

impl ConsentCookie {
    /// The cookie's name; `consent` by default.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Its `Domain`, if set (to share the decision with subdomains).
    #[must_use]
    pub fn domain(&self) -> Option<&str> {
        self.domain.as_deref()
    }
    /// Its `Path`; `/` by default.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }
    /// Its `SameSite`; `lax` by default.
    #[must_use]
    pub fn same_site(&self) -> SameSite {
        self.same_site
    }
}
