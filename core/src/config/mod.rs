//! The site's consent configuration, parsed from JSON and validated as a whole.
//!
//! [`Config::from_json`] reports every problem at once, each with its path
//! (`categories[2].services[0].cookies[1].name: empty`), and refuses configurations that
//! would be unlawful, such as a category other than `necessary` enabled by default.
//!
//! # Format
//! ```json
//! {
//!   "revision": 1,
//!   "revision_date": "2026-11-01",
//!   "languages": ["fi", "sv", "en"],
//!   "default_language": "fi",
//!   "privacy_notice": {"fi": "/tietosuoja", "sv": "/sv/dataskydd", "en": "/en/privacy"},
//!   "cookie": {"name": "consent", "domain": "klinikka.fi", "path": "/", "same_site": "lax"},
//!   "lifetime": {"accept_days": 182, "refuse_days": 182},
//!   "endpoint": "/consent",
//!   "honour_dnt": false,
//!   "consent_mode": {"enabled": true, "wait_for_update_ms": 500,
//!                    "signals": {"ad_storage": ["marketing"]}},
//!   "categories": [
//!     {"id": "necessary"},
//!     {"id": "analytics", "services": [{
//!       "id": "ga", "name": "Google Analytics", "provider": "Google Ireland Ltd",
//!       "purpose": {"fi": "...", "sv": "...", "en": "..."},
//!       "privacy_url": "https://policies.google.com/privacy",
//!       "hosts": ["www.googletagmanager.com"],
//!       "transfer": {"outside_eea": true, "safeguard": "dpf"},
//!       "cookies": [{"name": "_ga_*", "domain": ".klinikka.fi", "lifetime": "13mo",
//!                    "description": {"fi": "...", "sv": "...", "en": "..."}}]
//!     }]}
//!   ],
//!   "texts": {"fi": {"accept_all": "Hyväksy kaikki"}}
//! }
//! ```
//! Only `revision`, `privacy_notice` and `categories` are required. `revision_date` is the
//! day the revision took effect, shown in the cookie declaration; a service's `transfer` says
//! whether its data leaves the EU/EEA (see [`Transfer`]; without it, it does not). The
//! built-in categories `necessary`, `analytics`, `marketing` and `preferences` have built-in
//! titles and descriptions; other categories must give theirs in every language of
//! `languages`. `site` (letters, digits, `-`, `_`, `.`) binds decisions to one site: see
//! [`Config::site`]. A field the format does not have is a problem, named with the field it
//! is a near miss of (``categories[1].servcies: unknown field; did you mean `services`?``).
//!
//! # Languages and texts
//! `languages` lists the languages the site offers (`"fi"`, `"sv"`, `"en"`); without it the
//! site offers all three. `default_language` (the first of `languages` when absent) is shown
//! when none of the visitor's languages is offered. Every text a config gives (a purpose, a
//! cookie's description, a custom category's title and description, a transfer's countries)
//! is an object with the text in each of the site's languages, `{"fi": ..., "sv": ..., "en":
//! ...}`. A site with one language may write a plain string instead, the text in that
//! language:
//! ```json
//! {"revision": 1, "languages": ["en"], "privacy_notice": "/privacy", "categories": [
//!   {"id": "necessary"},
//!   {"id": "analytics", "services": [{"id": "stats", "name": "Site statistics",
//!     "provider": "Example Ltd", "purpose": "Counts visits to improve the site."}]}
//! ]}
//! ```
//! On a site with several languages a plain string is refused, with the path of the text,
//! rather than shown to every visitor in one language: consent has to be asked in words the
//! visitor reads. `privacy_notice` is the one exception: a plain string there is one address
//! for every language. A plain string is shorthand only: the config it gives is equal to the
//! one written with `{"en": ...}` and hashes the same ([`Config::shown_hash`]). Overrides
//! of the built-in texts stay keyed by language (`"texts": {"en": {"accept_all": "OK"}}`).

use crate::prelude::*;
use core::fmt;

use crate::json::{Map, Value};
use serde::{Serialize, Serializer};
use sha2::{Digest as _, Sha256};
use time::{Date, Month};

use crate::consent_mode::{ConsentModeConfig, Signal};
use crate::cookie_decl::{self, CookieDecl, CookiePattern, Lifetime, SameSite};
use crate::digest::Digest;
use crate::id::{CategoryId, ServiceId};
pub use crate::index::{CategoryIndex, ServiceIndex};
use crate::lang::Lang;
use crate::localized::Localized;
use crate::state::{Choices, MAX_CATEGORIES, MAX_SERVICES, Revision};
use crate::texts::{TextKey, Texts};
use crate::transfer::{Safeguard, Transfer};

/// CNIL's recommended lifetime of a decision, about six months.
pub const DEFAULT_LIFETIME_DAYS: u16 = 182;
/// The longest lifetime a config may set, thirteen months.
pub const MAX_LIFETIME_DAYS: u16 = 395;
const MAX_TEXT_LEN: usize = 4096;
const MAX_NAME_LEN: usize = 200;
const MAX_URL_LEN: usize = 2048;
const MAX_LIST: usize = 64;

/// A category of cookies and the services in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Category {
    id: CategoryId,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<Localized>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<Localized>,
    gpc: bool,
    services: Vec<Service>,
    #[serde(skip)]
    first_service: u8,
}

impl Category {
    /// The category's id.
    #[must_use]
    pub fn id(&self) -> &CategoryId {
        &self.id
    }

    /// Whether this is the strictly necessary category, always on.
    #[must_use]
    pub fn is_necessary(&self) -> bool {
        self.id.is_necessary()
    }

    /// Whether Global Privacy Control keeps this category off unless granted explicitly.
    /// Defaults to true for `marketing`, false for the others.
    #[must_use]
    pub fn gpc(&self) -> bool {
        self.gpc
    }

    /// The services in this category.
    #[must_use]
    pub fn services(&self) -> &[Service] {
        &self.services
    }

    /// The title in `lang`: the config's, else the built-in one of a built-in category.
    #[must_use]
    pub fn title<'a>(&'a self, texts: &Texts<'a>) -> &'a str {
        match (&self.title, builtin_keys(&self.id)) {
            (Some(title), _) => title.get(texts.lang()),
            (None, Some((key, _))) => texts.get(key),
            (None, None) => "",
        }
    }

    /// The description in `lang`: the config's, else the built-in one.
    #[must_use]
    pub fn description<'a>(&'a self, texts: &Texts<'a>) -> &'a str {
        match (&self.description, builtin_keys(&self.id)) {
            (Some(text), _) => text.get(texts.lang()),
            (None, Some((_, key))) => texts.get(key),
            (None, None) => "",
        }
    }
}

fn builtin_keys(id: &CategoryId) -> Option<(TextKey, TextKey)> {
    match id.as_str() {
        "necessary" => Some((TextKey::NecessaryTitle, TextKey::NecessaryDescription)),
        "analytics" => Some((TextKey::AnalyticsTitle, TextKey::AnalyticsDescription)),
        "marketing" => Some((TextKey::MarketingTitle, TextKey::MarketingDescription)),
        "preferences" => Some((
            TextKey::PreferencesCategoryTitle,
            TextKey::PreferencesCategoryDescription,
        )),
        _ => None,
    }
}

/// A service's display name: one for every language (a brand name such as "Google
/// Analytics", written as a plain string), or one per language (`{"fi": "Klinikan
/// verkkosivusto", "en": "The clinic's website"}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServiceName {
    /// The same name in every language.
    Same(Box<str>),
    /// A name per language.
    PerLanguage(Localized),
}

impl ServiceName {
    /// The name in `lang` (for a per-language name without `lang`: English, else any).
    #[must_use]
    pub fn get(&self, lang: Lang) -> &str {
        match self {
            ServiceName::Same(name) => name,
            ServiceName::PerLanguage(names) => names.get(lang),
        }
    }
}

/// Written as it was read: a string, or an object of languages (so a config's canonical
/// JSON, and the `shown_hash` over it, do not change for names that were always strings).
impl Serialize for ServiceName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ServiceName::Same(name) => serializer.serialize_str(name),
            ServiceName::PerLanguage(names) => names.serialize(serializer),
        }
    }
}

/// A third-party or first-party service that sets cookies or loads from other hosts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Service {
    id: ServiceId,
    name: ServiceName,
    provider: Box<str>,
    purpose: Localized,
    #[serde(skip_serializing_if = "Option::is_none")]
    privacy_url: Option<Box<str>>,
    hosts: Vec<Box<str>>,
    #[serde(skip_serializing_if = "Transfer::is_default")]
    transfer: Transfer,
    cookies: Vec<CookieDecl>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    exclude_paths: Vec<Box<str>>,
}

impl Service {
    /// The service's id.
    #[must_use]
    pub fn id(&self) -> &ServiceId {
        &self.id
    }
    /// Its display name in `lang`, such as "Google Analytics" (see [`ServiceName`]).
    #[must_use]
    pub fn name(&self, lang: Lang) -> &str {
        self.name.get(lang)
    }
    /// Its display name as the config gives it: one for all languages, or one per language.
    #[must_use]
    pub fn names(&self) -> &ServiceName {
        &self.name
    }
    /// Who provides it, such as "Google Ireland Ltd".
    #[must_use]
    pub fn provider(&self) -> &str {
        &self.provider
    }
    /// What it is used for.
    #[must_use]
    pub fn purpose(&self) -> &Localized {
        &self.purpose
    }
    /// The provider's privacy policy.
    #[must_use]
    pub fn privacy_url(&self) -> Option<&str> {
        self.privacy_url.as_deref()
    }
    /// Hosts the service loads from (`www.googletagmanager.com`, `*.facebook.net`).
    #[must_use]
    pub fn hosts(&self) -> &[Box<str>] {
        &self.hosts
    }
    /// Cookies the service sets.
    #[must_use]
    pub fn cookies(&self) -> &[CookieDecl] {
        &self.cookies
    }
    /// Paths where the service never runs, even with consent (`/ajanvaraus`): pages about
    /// health, say, where a clinic keeps marketing pixels off.
    #[must_use]
    pub fn exclude_paths(&self) -> &[Box<str>] {
        &self.exclude_paths
    }
    /// Whether the page at `path` is one where the service never runs: the path is an
    /// excluded path or below it (`/ajanvaraus` excludes `/ajanvaraus` and
    /// `/ajanvaraus/vahvistus`, not `/ajanvaraukset`). A query or fragment in `path` is
    /// ignored.
    ///
    /// ```
    /// let config = consent_core::Config::from_json(consent_core::EXAMPLE_CONFIG)?;
    /// let pixel = config.service(config.service_index("facebook-pixel").unwrap()).unwrap();
    /// assert!(pixel.is_excluded_on("/ajanvaraus?aika=10"));
    /// assert!(!pixel.is_excluded_on("/"));
    /// # Ok::<(), consent_core::ConfigError>(())
    /// ```
    #[must_use]
    pub fn is_excluded_on(&self, path: &str) -> bool {
        crate::compiled::excluded(self.exclude_paths.iter().map(|p| &**p), path)
    }
    /// Whether its data leaves the EU/EEA, and on what safeguard.
    #[must_use]
    pub fn transfer(&self) -> &Transfer {
        &self.transfer
    }
}

/// Where and how the consent cookie itself is stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConsentCookie {
    name: Box<str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<Box<str>>,
    path: Box<str>,
    same_site: SameSite,
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

/// How long a decision stands before the banner asks again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Lifetimes {
    accept_days: u16,
    refuse_days: u16,
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

/// A validated consent configuration.
///
/// # Example
/// ```
/// use consent_core::Config;
/// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
/// assert_eq!(config.categories()[0].id(), "necessary");
/// assert!(config.category_index("marketing").is_some());
/// // Serializing gives JSON that parses back to the same config.
/// assert_eq!(Config::from_json(&config.to_json())?, config);
/// # Ok::<(), consent_core::ConfigError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Config {
    revision: Revision,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "serialize_date"
    )]
    revision_date: Option<Date>,
    languages: Vec<Lang>,
    default_language: Lang,
    privacy_notice: Localized,
    cookie: ConsentCookie,
    lifetime: Lifetimes,
    #[serde(skip_serializing_if = "Option::is_none")]
    endpoint: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    site: Option<Box<str>>,
    honour_dnt: bool,
    consent_mode: ConsentModeConfig,
    categories: Vec<Category>,
    #[serde(serialize_with = "serialize_texts")]
    texts: [Vec<(TextKey, Box<str>)>; 3],
    #[serde(skip)]
    fingerprint: u32,
    #[serde(skip)]
    n_services: u8,
    /// [`Config::shown_hash`] per language, computed once, on first use: every decision
    /// record carries it, and hashing the whole config per record is wasted work; a banner
    /// that records nothing on a page view (a returning visitor) never computes it.
    #[serde(skip)]
    shown: ShownHashes,
}

/// The lazily computed [`Config::shown_hash`] of each language. Derived from the rest of the
/// config, so it takes no part in comparing configs. With std a `OnceLock`, so configs are
/// shared across threads; without (the banner: one thread) a `OnceCell`.
#[derive(Clone, Debug, Default)]
struct ShownHashes([Once<Digest>; 3]);

#[cfg(feature = "std")]
type Once<T> = std::sync::OnceLock<T>;
#[cfg(not(feature = "std"))]
type Once<T> = core::cell::OnceCell<T>;

impl PartialEq for ShownHashes {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Eq for ShownHashes {}

/// `YYYY-MM-DD`, the form [`Validator::date`] parses (time's own serde form is a tuple).
fn serialize_date<S: Serializer>(date: &Option<Date>, serializer: S) -> Result<S::Ok, S::Error> {
    let Some(d) = date else {
        return serializer.serialize_none();
    };
    // Digits by hand: `{:04}` would bring `core::fmt`'s padding into the banner's build.
    let mut text = String::with_capacity(10);
    let year = u64::try_from(d.year()).unwrap_or_default();
    crate::digits::push_padded(&mut text, year, 4);
    text.push('-');
    crate::digits::push_padded(&mut text, u8::from(d.month()).into(), 2);
    text.push('-');
    crate::digits::push_padded(&mut text, d.day().into(), 2);
    serializer.serialize_str(&text)
}

fn serialize_texts<S: Serializer>(
    texts: &[Vec<(TextKey, Box<str>)>; 3],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    struct Overrides<'a>(&'a [(TextKey, Box<str>)]);
    impl Serialize for Overrides<'_> {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let mut map = serializer.serialize_map(Some(self.0.len()))?;
            for (key, text) in self.0 {
                map.serialize_entry(key.as_str(), text)?;
            }
            map.end()
        }
    }
    let mut map = serializer.serialize_map(None)?;
    for lang in Lang::ALL {
        let overrides = &texts[lang.index()];
        if !overrides.is_empty() {
            map.serialize_entry(lang.as_str(), &Overrides(overrides))?;
        }
    }
    map.end()
}

impl Config {
    /// Parses and validates a config.
    ///
    /// # Errors
    /// A [`ConfigError`] listing every problem found, each with its path.
    pub fn from_json(json: &str) -> Result<Self, ConfigError> {
        #[cfg(feature = "serde_json")]
        let value = serde_json::from_str::<serde_json::Value>(json)
            .map(|v| Value::from(&v))
            .map_err(|e| e.to_string());
        #[cfg(not(feature = "serde_json"))]
        let value = crate::json::parse(json).map_err(|e| e.message(json));
        let value = value.map_err(|message| ConfigError {
            problems: vec![Problem {
                path: String::new(),
                kind: ProblemKind::Syntax(message),
                did_you_mean: None,
            }],
        })?;
        Self::validate(&value)
    }

    /// Validates a config already parsed as JSON.
    ///
    /// # Errors
    /// A [`ConfigError`] listing every problem found, each with its path.
    #[cfg(feature = "serde_json")]
    pub fn from_value(value: &serde_json::Value) -> Result<Self, ConfigError> {
        Self::validate(&value.into())
    }

    fn validate(value: &Value) -> Result<Self, ConfigError> {
        let mut v = Validator::default();
        let config = v.config(value);
        match config {
            Some(config) if v.problems.is_empty() => Ok(config),
            _ => Err(ConfigError {
                problems: v.problems,
            }),
        }
    }

    /// The config as JSON that [`Config::from_json`] parses back to an equal config.
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serializing these types cannot fail: no maps with non-string keys, no floats. The
        // writer is serde_json's format without serde_json (json_write's tests compare them),
        // so the browser build hashes the same bytes into `shown_hash` as the server.
        crate::json_write::to_string(self).unwrap_or_default()
    }

    /// The policy revision.
    #[must_use]
    pub fn revision(&self) -> Revision {
        self.revision
    }

    /// The day the policy revision took effect, if the config says.
    #[must_use]
    pub fn revision_date(&self) -> Option<Date> {
        self.revision_date
    }

    /// The languages the site offers, its default first if listed so.
    #[must_use]
    pub fn languages(&self) -> &[Lang] {
        &self.languages
    }

    /// The language used when none of the visitor's is offered.
    #[must_use]
    pub fn default_language(&self) -> Lang {
        self.default_language
    }

    /// The address of the privacy notice in `lang`.
    #[must_use]
    pub fn privacy_notice(&self, lang: Lang) -> &str {
        self.privacy_notice.get(lang)
    }

    /// The consent cookie's attributes.
    #[must_use]
    pub fn cookie(&self) -> &ConsentCookie {
        &self.cookie
    }

    /// How long decisions stand.
    #[must_use]
    pub fn lifetimes(&self) -> Lifetimes {
        self.lifetime
    }

    /// Where the banner sends decision records, if anywhere.
    #[must_use]
    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// The site this config belongs to, if it says: an opaque id that is part of the
    /// [fingerprint](Self::fingerprint), so a token made under another site's config does not
    /// apply here even when the categories and services are the same.
    ///
    /// In the browser the banner has no key and cannot tell another server's signature from
    /// its own; the site id is what keeps a consent token copied from another site (or set
    /// by one sharing the parent domain) from granting anything. consent-server derives one
    /// from its key (`consent site-id`).
    #[must_use]
    pub fn site(&self) -> Option<&str> {
        self.site.as_deref()
    }

    /// This config for `site` (see [`site`](Self::site)): the fingerprint and the hashes of
    /// what is shown change with it.
    ///
    /// # Errors
    /// A [`ConfigError`] with the problem at `site` when `site` is empty, longer than
    /// [`MAX_SITE_LEN`], or holds anything but ASCII letters, digits, `-`, `_` and `.`.
    ///
    /// # Example
    /// ```
    /// use consent_core::Config;
    /// let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
    /// let ours = config.clone().with_site("k7Qz-0aXb1c_")?;
    /// assert_eq!(ours.site(), Some("k7Qz-0aXb1c_"));
    /// assert_ne!(ours.fingerprint(), config.fingerprint());
    /// assert!(config.with_site("two words").is_err());
    /// # Ok::<(), consent_core::ConfigError>(())
    /// ```
    pub fn with_site(mut self, site: &str) -> Result<Self, ConfigError> {
        if !is_site_id(site) {
            let kind = if site.is_empty() {
                ProblemKind::Empty
            } else if site.len() > MAX_SITE_LEN {
                ProblemKind::TooMany(MAX_SITE_LEN)
            } else {
                ProblemKind::Invalid(SITE_ID_RULE)
            };
            return Err(ConfigError {
                problems: vec![Problem {
                    path: "site".into(),
                    kind,
                    did_you_mean: None,
                }],
            });
        }
        self.site = Some(site.into());
        self.fingerprint = fingerprint(&self.categories, self.site.as_deref());
        self.shown = ShownHashes::default();
        Ok(self)
    }

    /// Whether `DNT: 1` counts as Global Privacy Control.
    #[must_use]
    pub fn honour_dnt(&self) -> bool {
        self.honour_dnt
    }

    /// The Google Consent Mode settings.
    #[must_use]
    pub fn consent_mode(&self) -> &ConsentModeConfig {
        &self.consent_mode
    }

    /// The categories, `necessary` first.
    #[must_use]
    pub fn categories(&self) -> &[Category] {
        &self.categories
    }

    /// The category at `index`.
    #[must_use]
    pub fn category(&self, index: CategoryIndex) -> Option<&Category> {
        self.categories.get(index.get())
    }

    /// The index of the category with this id.
    #[must_use]
    pub fn category_index(&self, id: &str) -> Option<CategoryIndex> {
        let i = self.categories.iter().position(|c| c.id == id)?;
        Some(CategoryIndex(i as u8))
    }

    /// The index of the service with this id.
    #[must_use]
    pub fn service_index(&self, id: &str) -> Option<ServiceIndex> {
        self.services()
            .find(|(_, _, s)| s.id == id)
            .map(|(i, _, _)| i)
    }

    /// The service at `index`.
    #[must_use]
    pub fn service(&self, index: ServiceIndex) -> Option<&Service> {
        self.services().nth(index.get()).map(|(_, _, s)| s)
    }

    /// Every category with its index, in config order.
    pub fn indexed_categories(&self) -> impl Iterator<Item = (CategoryIndex, &Category)> + '_ {
        self.categories
            .iter()
            .enumerate()
            .map(|(i, c)| (CategoryIndex(i as u8), c))
    }

    /// Every service with its index and its category's index, in config order.
    pub fn services(&self) -> impl Iterator<Item = (ServiceIndex, CategoryIndex, &Service)> + '_ {
        self.categories.iter().enumerate().flat_map(|(ci, c)| {
            c.services.iter().enumerate().map(move |(si, s)| {
                (
                    ServiceIndex(c.first_service + si as u8),
                    CategoryIndex(ci as u8),
                    s,
                )
            })
        })
    }

    /// The indexes of a category's services.
    pub fn services_of(&self, category: CategoryIndex) -> impl Iterator<Item = ServiceIndex> + '_ {
        let (first, n) = self
            .category(category)
            .map_or((0, 0), |c| (c.first_service, c.services.len() as u8));
        (first..first + n).map(ServiceIndex)
    }

    /// The number of services across all categories.
    #[must_use]
    pub fn service_count(&self) -> usize {
        usize::from(self.n_services)
    }

    /// Everything granted: what "Accept all" gives without GPC.
    #[must_use]
    pub fn everything(&self) -> Choices {
        Choices::all(self.categories.len() as u8, self.n_services)
    }

    /// The necessary category and its services, and nothing else.
    #[must_use]
    pub fn necessary_only(&self) -> Choices {
        Choices::none().with_category(self, CategoryIndex::NECESSARY, true)
    }

    /// The categories Global Privacy Control keeps off, as a bit set.
    pub(crate) fn gpc_mask(&self) -> u32 {
        self.categories
            .iter()
            .enumerate()
            .filter(|(_, c)| c.gpc)
            .fold(0, |mask, (i, _)| mask | 1 << i)
    }

    /// The texts in `lang` with this config's overrides.
    #[must_use]
    pub fn texts(&self, lang: Lang) -> Texts<'_> {
        Texts::new(lang, &self.texts[lang.index()])
    }

    /// A 32-bit fingerprint of the ids of categories and services in order. A token made under
    /// a config with other ids or order does not apply, even at the same revision.
    #[must_use]
    pub fn fingerprint(&self) -> u32 {
        self.fingerprint
    }

    /// SHA-256 of exactly what a visitor was shown in `lang`: this config and every text,
    /// overrides applied. Decision records carry it as proof of what was shown.
    #[must_use]
    pub fn shown_hash(&self, lang: Lang) -> Digest {
        *self.shown.0[lang.index()].get_or_init(|| self.compute_shown_hash(lang))
    }

    fn compute_shown_hash(&self, lang: Lang) -> Digest {
        let mut h = Sha256::new();
        h.update(b"consent-shown-v1\0");
        h.update(self.to_json().as_bytes());
        h.update(b"\0");
        h.update(lang.as_str().as_bytes());
        let texts = self.texts(lang);
        for &key in TextKey::ALL {
            h.update(b"\0");
            h.update(key.as_str().as_bytes());
            h.update(b"=");
            h.update(texts.get(key).as_bytes());
        }
        Digest::from_bytes(h.finalize().into())
    }
}

#[cfg(feature = "serde_json")]
impl<'de> serde::Deserialize<'de> for Config {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Config::from_value(&value).map_err(serde::de::Error::custom)
    }
}

/// The longest [`Config::site`].
pub const MAX_SITE_LEN: usize = 64;
const SITE_ID_RULE: &str = "a site id is letters, digits, '-', '_' and '.' only";

fn is_site_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_SITE_LEN
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn fingerprint(categories: &[Category], site: Option<&str>) -> u32 {
    let mut h = Sha256::new();
    h.update(b"consent-fingerprint-v1\0");
    // Without a site the fingerprint is what it was before sites existed, so tokens made
    // then still apply.
    if let Some(site) = site {
        h.update(b"site=");
        h.update(site.as_bytes());
        h.update(b";");
    }
    for c in categories {
        h.update(c.id.as_str().as_bytes());
        h.update(b":");
        for s in &c.services {
            h.update(s.id.as_str().as_bytes());
            h.update(b",");
        }
        h.update(b";");
    }
    let d = h.finalize();
    u32::from_le_bytes([d[0], d[1], d[2], d[3]])
}

/// One thing wrong with a config, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    path: String,
    kind: ProblemKind,
    did_you_mean: Option<&'static str>,
}

impl Problem {
    /// Where: `categories[2].services[0].cookies[1].name`; empty for the whole document.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What.
    #[must_use]
    pub fn kind(&self) -> &ProblemKind {
        &self.kind
    }

    /// For an [unknown field](ProblemKind::UnknownField), the known field its name is a near
    /// miss of (`servics` for `services`), if one is close enough to suggest. Always `None`
    /// without the `std` feature.
    #[must_use]
    pub fn did_you_mean(&self) -> Option<&'static str> {
        self.did_you_mean
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `write_str` and direct calls only, here and in what it calls: `{}` would bring
        // `core::fmt`'s padding into the banner's build.
        if !self.path.is_empty() {
            f.write_str(&self.path)?;
            f.write_str(": ")?;
        }
        fmt::Display::fmt(&self.kind, f)?;
        if let Some(known) = self.did_you_mean {
            f.write_str("; did you mean `")?;
            f.write_str(known)?;
            f.write_str("`?")?;
        }
        Ok(())
    }
}

/// What is wrong at a [`Problem`]'s path.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemKind {
    /// The document is not JSON; serde_json's message with line and column.
    Syntax(String),
    /// A required field is absent.
    Missing,
    /// A string or list is empty.
    Empty,
    /// The value has the wrong JSON type.
    WrongType(&'static str),
    /// A field the format does not have (a typo?).
    UnknownField,
    /// An id, name or value that appears twice.
    Duplicate,
    /// A list or string longer than allowed.
    TooMany(usize),
    /// A value outside what the format allows, and why.
    Invalid(&'static str),
    /// An invalid identifier.
    Id(crate::id::IdError),
    /// An invalid cookie name, domain, path or lifetime.
    Cookie(crate::cookie_decl::CookieDeclError),
    /// A text missing in one of the site's languages.
    MissingTranslation,
    /// A text (a purpose, a title, a description) not given in the shape the site's
    /// languages call for: see [`TextShape`].
    Text(TextShape),
    /// A setting the law does not allow, and why.
    Unlawful(&'static str),
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProblemKind::Syntax(msg) => {
                f.write_str("not valid JSON: ")?;
                f.write_str(msg)
            }
            ProblemKind::Missing => f.write_str("missing"),
            ProblemKind::Empty => f.write_str("empty"),
            ProblemKind::WrongType(expected) => {
                f.write_str("expected ")?;
                f.write_str(expected)
            }
            ProblemKind::UnknownField => f.write_str("unknown field"),
            ProblemKind::Duplicate => f.write_str("duplicate"),
            ProblemKind::TooMany(max) => {
                f.write_str("too long: at most ")?;
                f.write_str(crate::digits::Decimal::new(*max as u64).as_str())
            }
            ProblemKind::Invalid(why) => f.write_str(why),
            ProblemKind::Id(e) => fmt::Display::fmt(e, f),
            ProblemKind::Cookie(e) => fmt::Display::fmt(e, f),
            ProblemKind::MissingTranslation => f.write_str("missing translation"),
            ProblemKind::Text(shape) => fmt::Display::fmt(shape, f),
            ProblemKind::Unlawful(why) => {
                f.write_str("not allowed: ")?;
                f.write_str(why)
            }
        }
    }
}

/// What a text field expected, given the site's languages: its [`ProblemKind::Text`].
///
/// A text is an object with one string per language (`{"fi": ..., "sv": ..., "en": ...}`,
/// every language of the config's `languages`), or, on a site with one language, a plain
/// string: the text in that language.
///
/// # Example
/// ```
/// use consent_core::Config;
/// let err = Config::from_json(r#"{"revision": 1, "privacy_notice": "/p", "categories": [
///     {"id": "necessary"}, {"id": "research", "title": "Research", "description": 7}]}"#)
///     .unwrap_err();
/// let lines: Vec<String> = err.problems().iter().map(|p| p.to_string()).collect();
/// assert_eq!(lines, [
///     r#"categories[1].title: expected a text: an object of languages {"fi": ..., "sv": ..., "en": ...}; a plain string is for a site with one language in "languages""#,
///     r#"categories[1].description: expected a text: an object of languages {"fi": ..., "sv": ..., "en": ...}"#,
/// ]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextShape {
    languages: Vec<Lang>,
    got_string: bool,
}

impl TextShape {
    /// The site's languages, each of which the text must be given in.
    #[must_use]
    pub fn languages(&self) -> &[Lang] {
        &self.languages
    }

    /// Whether the text was a plain string, which only a site with one language may write.
    #[must_use]
    pub fn got_string(&self) -> bool {
        self.got_string
    }
}

impl fmt::Display for TextShape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let one = self.languages.len() == 1;
        f.write_str(if one {
            "expected a text: a string, or an object of languages {"
        } else {
            "expected a text: an object of languages {"
        })?;
        for (i, lang) in self.languages.iter().enumerate() {
            f.write_str(if i == 0 { "\"" } else { ", \"" })?;
            f.write_str(lang.as_str())?;
            f.write_str("\": ...")?;
        }
        f.write_str("}")?;
        if self.got_string && !one {
            f.write_str("; a plain string is for a site with one language in \"languages\"")?;
        }
        Ok(())
    }
}

/// Every problem found in a config.
///
/// # Example
/// ```
/// use consent_core::Config;
/// let err = Config::from_json(r#"{"revision": 0, "privacy_notice": "/p",
///     "categories": [{"id": "necessary"}, {"id": "analytics", "enabled_by_default": true}]}"#)
///     .unwrap_err();
/// let lines: Vec<String> = err.problems().iter().map(|p| p.to_string()).collect();
/// assert_eq!(lines, [
///     "revision: must be at least 1",
///     "categories[1].enabled_by_default: not allowed: only necessary may be on before the visitor decides",
/// ]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    problems: Vec<Problem>,
}

impl ConfigError {
    /// The problems, in document order.
    #[must_use]
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        f.write_str("invalid consent config (")?;
        f.write_str(crate::digits::Decimal::new(n as u64).as_str())?;
        f.write_str(if n == 1 { " problem)" } else { " problems)" })?;
        for p in &self.problems {
            f.write_str("\n  ")?;
            fmt::Display::fmt(p, f)?;
        }
        Ok(())
    }
}

impl core::error::Error for ConfigError {}

/// Walks the JSON once, collecting every problem instead of stopping at the first.
#[derive(Default)]
struct Validator {
    problems: Vec<Problem>,
    languages: Vec<Lang>,
}

// Paths are built without `format!`, whose machinery the browser build leaves out.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        let mut out = String::with_capacity(path.len() + 1 + key.len());
        out.push_str(path);
        out.push('.');
        out.push_str(key);
        out
    }
}

fn index(path: &str, i: usize) -> String {
    let mut out = String::with_capacity(path.len() + 5);
    out.push_str(path);
    out.push('[');
    out.push_str(crate::digits::Decimal::new(i as u64).as_str());
    out.push(']');
    out
}

/// The keys of a text given per language.
const LANGUAGE_KEYS: [&str; 3] = [Lang::Fi.as_str(), Lang::Sv.as_str(), Lang::En.as_str()];

/// The names of the texts a config may override.
const TEXT_KEYS: [&str; TextKey::ALL.len()] = {
    let mut names = [""; TextKey::ALL.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = TextKey::ALL[i].as_str();
        i += 1;
    }
    names
};

/// The one of `known` that `key` is a near miss of: a typo (`servics`), a transposition
/// (`servcies`) or another case (`Services`), within a third of the key's length, as rustc
/// judges its own suggestions. The closest wins, the first listed of equals.
#[cfg(feature = "std")]
fn did_you_mean(key: &str, known: &[&'static str]) -> Option<&'static str> {
    // Known names are ASCII: Unicode's case tables would only grow the Node build.
    let key = key.to_ascii_lowercase();
    let max = key.chars().count().max(3) / 3;
    known
        .iter()
        .map(|k| (strsim::osa_distance(&key, k), *k))
        .filter(|&(d, _)| d <= max)
        .min_by_key(|&(d, _)| d)
        .map(|(_, k)| k)
}

/// Without std (the banner's build, which reads a compiled policy, not a config) there is no
/// strsim, and no suggestion.
#[cfg(not(feature = "std"))]
fn did_you_mean(_: &str, _: &[&'static str]) -> Option<&'static str> {
    None
}

impl Validator {
    fn report(&mut self, path: String, kind: ProblemKind) {
        self.problems.push(Problem {
            path,
            kind,
            did_you_mean: None,
        });
    }

    /// `key` at `path` is none of `known`: reported with the near miss it may be.
    fn unknown(&mut self, path: String, key: &str, known: &[&'static str]) {
        self.problems.push(Problem {
            path,
            kind: ProblemKind::UnknownField,
            did_you_mean: did_you_mean(key, known),
        });
    }

    /// An object with only `known` fields (unknown ones are reported); `shape` says what
    /// was expected when it is not an object (`"a category: an object such as ..."`).
    fn object<'v>(
        &mut self,
        value: &'v Value,
        path: &str,
        shape: &'static str,
        known: &[&'static str],
    ) -> Option<&'v Map> {
        let Some(map) = value.as_object() else {
            self.report(path.to_owned(), ProblemKind::WrongType(shape));
            return None;
        };
        for key in map.keys() {
            if !known.contains(&key.as_str()) {
                self.unknown(join(path, key), key, known);
            }
        }
        Some(map)
    }

    fn field<'v>(
        &mut self,
        map: &'v Map,
        path: &str,
        key: &str,
        required: bool,
    ) -> Option<&'v Value> {
        match map.get(key) {
            Some(Value::Null) | None => {
                if required {
                    self.report(join(path, key), ProblemKind::Missing);
                }
                None
            }
            Some(v) => Some(v),
        }
    }

    fn string<'v>(&mut self, value: &'v Value, path: String, max: usize) -> Option<&'v str> {
        match value.as_str() {
            None => self.report(path, ProblemKind::WrongType("a string")),
            Some(s) if s.trim().is_empty() => self.report(path, ProblemKind::Empty),
            Some(s) if s.len() > max => self.report(path, ProblemKind::TooMany(max)),
            Some(s) if s.chars().any(|c| c.is_control() && c != '\n') => self.report(
                path,
                ProblemKind::Invalid("control characters are not allowed"),
            ),
            Some(s) => return Some(s),
        }
        None
    }

    fn str_field<'v>(
        &mut self,
        map: &'v Map,
        path: &str,
        key: &str,
        required: bool,
        max: usize,
    ) -> Option<&'v str> {
        let value = self.field(map, path, key, required)?;
        self.string(value, join(path, key), max)
    }

    fn bool_field(&mut self, map: &Map, path: &str, key: &str) -> Option<bool> {
        let value = self.field(map, path, key, false)?;
        match value.as_bool() {
            Some(b) => Some(b),
            None => {
                self.report(join(path, key), ProblemKind::WrongType("true or false"));
                None
            }
        }
    }

    fn uint_field(
        &mut self,
        map: &Map,
        path: &str,
        key: &str,
        required: bool,
        range: (u64, u64),
        why: &'static str,
    ) -> Option<u64> {
        let value = self.field(map, path, key, required)?;
        match value.as_u64() {
            Some(n) if n >= range.0 && n <= range.1 => Some(n),
            Some(_) => {
                self.report(join(path, key), ProblemKind::Invalid(why));
                None
            }
            None if value.is_i64() => {
                self.report(join(path, key), ProblemKind::Invalid(why));
                None
            }
            None => {
                self.report(join(path, key), ProblemKind::WrongType("a whole number"));
                None
            }
        }
    }

    fn array<'v>(
        &mut self,
        map: &'v Map,
        path: &str,
        key: &str,
        required: bool,
        max: usize,
    ) -> &'v [Value] {
        let Some(value) = self.field(map, path, key, required) else {
            return &[];
        };
        match value.as_array() {
            None => {
                self.report(join(path, key), ProblemKind::WrongType("a list"));
                &[]
            }
            Some(items) if items.len() > max => {
                self.report(join(path, key), ProblemKind::TooMany(max));
                &[]
            }
            Some(items) => items,
        }
    }

    /// A text: an object with every language of the site, or on a site with one language a
    /// plain string, the text in that language.
    fn localized(&mut self, value: &Value, path: String, max: usize) -> Option<Localized> {
        match (value, self.languages.as_slice()) {
            (Value::Object(_), _) => {}
            (Value::String(_), &[only]) => {
                let s = self.string(value, path, max)?;
                return Some(Localized::new().with(only, s));
            }
            _ => {
                let shape = TextShape {
                    languages: self.languages.clone(),
                    got_string: value.is_string(),
                };
                self.report(path, ProblemKind::Text(shape));
                return None;
            }
        }
        let map = self.object(value, &path, "an object of languages", &LANGUAGE_KEYS)?;
        let mut out = Localized::new();
        for (key, v) in map {
            // Unknown keys were reported by `object`.
            if let Ok(lang) = key.parse::<Lang>() {
                if let Some(s) = self.string(v, join(&path, key), max) {
                    out.set(lang, s);
                }
            }
        }
        for lang in self.languages.clone() {
            if out.exact(lang).is_none() && map.get(lang.as_str()).is_none() {
                self.report(join(&path, lang.as_str()), ProblemKind::MissingTranslation);
            }
        }
        Some(out)
    }

    /// A service's name: a plain string for every language, or an object with every language
    /// of the site.
    fn service_name(&mut self, value: &Value, path: String) -> Option<ServiceName> {
        if value.is_string() {
            return self
                .string(value, path, MAX_NAME_LEN)
                .map(|s| ServiceName::Same(s.into()));
        }
        if !matches!(value, Value::Object(_)) {
            self.report(
                path,
                ProblemKind::WrongType(
                    "a name: a string for every language, or an object of languages",
                ),
            );
            return None;
        }
        self.localized(value, path, MAX_NAME_LEN)
            .map(ServiceName::PerLanguage)
    }

    fn url(&mut self, value: &Value, path: String) -> Option<Box<str>> {
        let s = self.string(value, path.clone(), MAX_URL_LEN)?;
        let ok_scheme = s.starts_with("https://")
            || s.starts_with("http://")
            || (s.starts_with('/') && !s.starts_with("//"));
        if !ok_scheme {
            self.report(
                path,
                ProblemKind::Invalid(
                    "expected an https:// or http:// address, or a path starting with /",
                ),
            );
            return None;
        }
        if s.bytes()
            .any(|b| b.is_ascii_whitespace() || b == b'"' || b == b'<' || b == b'>')
        {
            self.report(
                path,
                ProblemKind::Invalid("address holds spaces, quotes or angle brackets"),
            );
            return None;
        }
        Some(s.into())
    }

    fn config(&mut self, value: &Value) -> Option<Config> {
        let map = self.object(
            value,
            "",
            "a config: an object such as {\"revision\": 1, \"privacy_notice\": ..., \"categories\": [...]}",
            &[
                "revision",
                "revision_date",
                "languages",
                "default_language",
                "privacy_notice",
                "cookie",
                "lifetime",
                "endpoint",
                "site",
                "honour_dnt",
                "consent_mode",
                "categories",
                "texts",
                "$schema",
            ],
        )?;
        let revision = self
            .uint_field(
                map,
                "",
                "revision",
                true,
                (1, u64::from(u32::MAX)),
                "must be at least 1",
            )
            .and_then(|n| Revision::new(n as u32));
        let revision_date = self.date_field(map, "revision_date");
        self.languages = self.languages_field(map);
        let default_language = self.default_language(map);
        let privacy_notice = self.privacy_notice(map);
        let cookie = self.cookie(map);
        let lifetime = self.lifetime(map);
        let endpoint = self
            .field(map, "", "endpoint", false)
            .and_then(|v| self.url(v, "endpoint".into()));
        let site = self
            .str_field(map, "", "site", false, MAX_SITE_LEN)
            .and_then(|s| {
                if is_site_id(s) {
                    Some(Box::<str>::from(s))
                } else {
                    self.report("site".into(), ProblemKind::Invalid(SITE_ID_RULE));
                    None
                }
            });
        let honour_dnt = self.bool_field(map, "", "honour_dnt").unwrap_or(false);
        let categories = self.categories(map, cookie.as_ref().map(|c| &*c.name));
        let consent_mode = self.consent_mode(map, &categories);
        let texts = self.texts(map);

        let n_services = categories.iter().map(|c| c.services.len()).sum::<usize>();
        Some(Config {
            revision: revision?,
            revision_date: revision_date?,
            languages: self.languages.clone(),
            default_language,
            privacy_notice: privacy_notice?,
            cookie: cookie?,
            lifetime: lifetime?,
            endpoint,
            honour_dnt,
            consent_mode: consent_mode?,
            fingerprint: fingerprint(&categories, site.as_deref()),
            site,
            n_services: u8::try_from(n_services).ok()?,
            categories,
            texts,
            shown: ShownHashes::default(),
        })
    }

    fn languages_field(&mut self, map: &Map) -> Vec<Lang> {
        if map.get("languages").is_none_or(Value::is_null) {
            return Lang::ALL.to_vec();
        }
        let items = self.array(map, "", "languages", false, 3);
        if items.is_empty()
            && map
                .get("languages")
                .is_some_and(|v| v.as_array().is_some_and(Vec::is_empty))
        {
            self.report("languages".into(), ProblemKind::Empty);
        }
        let mut langs = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = index("languages", i);
            match item.as_str().map(|s| (s, s.parse::<Lang>())) {
                Some((s, Ok(lang))) if s == lang.as_str() => {
                    if langs.contains(&lang) {
                        self.report(path, ProblemKind::Duplicate);
                    } else {
                        langs.push(lang);
                    }
                }
                _ => self.report(
                    path,
                    ProblemKind::Invalid("expected \"fi\", \"sv\" or \"en\""),
                ),
            }
        }
        if langs.is_empty() {
            Lang::ALL.to_vec()
        } else {
            langs
        }
    }

    fn default_language(&mut self, map: &Map) -> Lang {
        let first = self.languages.first().copied().unwrap_or(Lang::Fi);
        let Some(s) = self.str_field(map, "", "default_language", false, 8) else {
            return first;
        };
        match s.parse::<Lang>() {
            Ok(lang) if s == lang.as_str() && self.languages.contains(&lang) => lang,
            Ok(_) | Err(_) => {
                self.report(
                    "default_language".into(),
                    ProblemKind::Invalid("must be one of languages"),
                );
                first
            }
        }
    }

    fn privacy_notice(&mut self, map: &Map) -> Option<Localized> {
        let value = self.field(map, "", "privacy_notice", true)?;
        if value.is_string() {
            let url = self.url(value, "privacy_notice".into())?;
            return Some(
                Lang::ALL
                    .into_iter()
                    .fold(Localized::new(), |l, lang| l.with(lang, &*url)),
            );
        }
        if value.as_object().is_none() {
            self.report(
                "privacy_notice".into(),
                ProblemKind::WrongType(
                    "an address (a path such as /privacy, or an https:// URL), or an object of languages {\"fi\": ..., \"sv\": ..., \"en\": ...}",
                ),
            );
            return None;
        }
        let localized = self.localized(value, "privacy_notice".into(), MAX_URL_LEN)?;
        let mut ok = true;
        for lang in localized.langs().collect::<Vec<_>>() {
            let v = Value::String(localized.get(lang).to_owned());
            ok &= self
                .url(&v, join("privacy_notice", lang.as_str()))
                .is_some();
        }
        ok.then_some(localized)
    }

    fn cookie(&mut self, map: &Map) -> Option<ConsentCookie> {
        let mut cookie = ConsentCookie {
            name: "consent".into(),
            domain: None,
            path: "/".into(),
            same_site: SameSite::Lax,
        };
        let Some(value) = self.field(map, "", "cookie", false) else {
            return Some(cookie);
        };
        let obj = self.object(
            value,
            "cookie",
            "the consent cookie's settings: an object such as {\"name\": \"consent\", \"same_site\": \"lax\"}",
            &["name", "domain", "path", "same_site"],
        )?;
        let mut ok = true;
        if let Some(name) = self.str_field(obj, "cookie", "name", false, MAX_NAME_LEN) {
            match CookiePattern::new(name) {
                Ok(p) if p.is_exact() => cookie.name = name.into(),
                Ok(_) => {
                    ok = false;
                    self.report(
                        "cookie.name".into(),
                        ProblemKind::Invalid("the consent cookie's name cannot hold '*'"),
                    )
                }
                Err(e) => {
                    ok = false;
                    self.report("cookie.name".into(), ProblemKind::Cookie(e))
                }
            }
        }
        if let Some(domain) = self.str_field(obj, "cookie", "domain", false, 253) {
            match cookie_decl::validate_domain(domain) {
                Ok(()) => cookie.domain = Some(domain.into()),
                Err(e) => {
                    ok = false;
                    self.report("cookie.domain".into(), ProblemKind::Cookie(e))
                }
            }
        }
        if let Some(path) = self.str_field(obj, "cookie", "path", false, 1024) {
            match cookie_decl::validate_path(path) {
                Ok(()) => cookie.path = path.into(),
                Err(e) => {
                    ok = false;
                    self.report("cookie.path".into(), ProblemKind::Cookie(e))
                }
            }
        }
        if let Some(s) = self.str_field(obj, "cookie", "same_site", false, 8) {
            match s.parse() {
                Ok(same_site) => cookie.same_site = same_site,
                Err(_) => {
                    ok = false;
                    self.report(
                        "cookie.same_site".into(),
                        ProblemKind::Invalid("expected \"strict\", \"lax\" or \"none\""),
                    )
                }
            }
        }
        ok.then_some(cookie)
    }

    fn lifetime(&mut self, map: &Map) -> Option<Lifetimes> {
        let mut lifetimes = Lifetimes {
            accept_days: DEFAULT_LIFETIME_DAYS,
            refuse_days: DEFAULT_LIFETIME_DAYS,
        };
        let Some(value) = self.field(map, "", "lifetime", false) else {
            return Some(lifetimes);
        };
        let obj = self.object(
            value,
            "lifetime",
            "an object such as {\"accept_days\": 182, \"refuse_days\": 182}",
            &["accept_days", "refuse_days"],
        )?;
        let range = (1, u64::from(MAX_LIFETIME_DAYS));
        let why = "must be from 1 to 395 days (13 months)";
        let accept = self.uint_field(obj, "lifetime", "accept_days", false, range, why);
        let refuse = self.uint_field(obj, "lifetime", "refuse_days", false, range, why);
        let bad = |key| obj.get(key).is_some_and(|v| !v.is_null());
        if (bad("accept_days") && accept.is_none()) || (bad("refuse_days") && refuse.is_none()) {
            return None;
        }
        lifetimes.accept_days = accept.map_or(DEFAULT_LIFETIME_DAYS, |n| n as u16);
        lifetimes.refuse_days = refuse.map_or(DEFAULT_LIFETIME_DAYS, |n| n as u16);
        Some(lifetimes)
    }

    fn categories(&mut self, map: &Map, consent_cookie: Option<&str>) -> Vec<Category> {
        let items = self.array(map, "", "categories", true, MAX_CATEGORIES);
        if map
            .get("categories")
            .is_some_and(|v| v.as_array().is_some_and(Vec::is_empty))
        {
            self.report("categories".into(), ProblemKind::Empty);
        }
        let mut categories: Vec<Category> = Vec::new();
        let mut service_ids: Vec<ServiceId> = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let path = index("categories", i);
            let Some(category) = self.category(item, &path, i, &mut service_ids, consent_cookie)
            else {
                continue;
            };
            if categories.iter().any(|c| c.id == category.id) {
                self.report(join(&path, "id"), ProblemKind::Duplicate);
                continue;
            }
            categories.push(category);
        }
        if !items.is_empty()
            && categories.first().is_none_or(|c| !c.is_necessary())
            && !self
                .problems
                .iter()
                .any(|p| p.path.starts_with("categories[0]"))
        {
            self.report(
                "categories[0].id".into(),
                ProblemKind::Invalid("the first category must be \"necessary\""),
            );
        }
        if service_ids.len() > MAX_SERVICES {
            self.report(
                "categories".into(),
                ProblemKind::Invalid("more than 128 services in all"),
            );
        }
        let mut first = 0usize;
        for c in &mut categories {
            c.first_service = first.min(MAX_SERVICES) as u8;
            first += c.services.len();
        }
        categories
    }

    fn category(
        &mut self,
        value: &Value,
        path: &str,
        position: usize,
        service_ids: &mut Vec<ServiceId>,
        consent_cookie: Option<&str>,
    ) -> Option<Category> {
        let obj = self.object(
            value,
            path,
            "a category: an object such as {\"id\": \"analytics\", \"services\": [...]}",
            &[
                "id",
                "title",
                "description",
                "enabled_by_default",
                "gpc",
                "services",
            ],
        )?;
        let id = self
            .str_field(obj, path, "id", true, 64)
            .and_then(|s| match CategoryId::new(s) {
                Ok(id) => Some(id),
                Err(e) => {
                    self.report(join(path, "id"), ProblemKind::Id(e));
                    None
                }
            });
        if let Some(id) = &id {
            if id.is_necessary() && position != 0 {
                self.report(
                    join(path, "id"),
                    ProblemKind::Invalid("\"necessary\" must be the first category"),
                );
            }
        }
        let necessary = id.as_ref().is_some_and(CategoryId::is_necessary);
        if self.bool_field(obj, path, "enabled_by_default") == Some(true) && !necessary {
            self.report(
                join(path, "enabled_by_default"),
                ProblemKind::Unlawful("only necessary may be on before the visitor decides"),
            );
        }
        let gpc = self.bool_field(obj, path, "gpc");
        if gpc == Some(true) && necessary {
            self.report(
                join(path, "gpc"),
                ProblemKind::Invalid("the necessary category cannot be switched off by GPC"),
            );
        }
        let builtin = id.as_ref().and_then(builtin_keys).is_some();
        let title = match self.field(obj, path, "title", !builtin && id.is_some()) {
            Some(v) => self.localized(v, join(path, "title"), MAX_NAME_LEN),
            None => None,
        };
        let description = match self.field(obj, path, "description", !builtin && id.is_some()) {
            Some(v) => self.localized(v, join(path, "description"), MAX_TEXT_LEN),
            None => None,
        };
        let mut services = Vec::new();
        let items = self.array(obj, path, "services", false, MAX_LIST);
        for (i, item) in items.iter().enumerate() {
            let spath = index(&join(path, "services"), i);
            if let Some(service) = self.service(item, &spath, necessary, consent_cookie) {
                if service_ids.contains(&service.id) {
                    self.report(join(&spath, "id"), ProblemKind::Duplicate);
                    continue;
                }
                service_ids.push(service.id.clone());
                services.push(service);
            }
        }
        let id = id?;
        let gpc = gpc.unwrap_or(id == "marketing");
        Some(Category {
            id,
            title,
            description,
            gpc,
            services,
            first_service: 0,
        })
    }

    fn service(
        &mut self,
        value: &Value,
        path: &str,
        necessary: bool,
        consent_cookie: Option<&str>,
    ) -> Option<Service> {
        let obj = self.object(
            value,
            path,
            "a service: an object with \"id\", \"name\", \"provider\" and \"purpose\"",
            &[
                "id",
                "name",
                "provider",
                "purpose",
                "privacy_url",
                "hosts",
                "transfer",
                "cookies",
                "exclude_paths",
            ],
        )?;
        let id = self
            .str_field(obj, path, "id", true, 64)
            .and_then(|s| match ServiceId::new(s) {
                Ok(id) => Some(id),
                Err(e) => {
                    self.report(join(path, "id"), ProblemKind::Id(e));
                    None
                }
            });
        let name = self
            .field(obj, path, "name", true)
            .and_then(|v| self.service_name(v, join(path, "name")));
        let provider = self.str_field(obj, path, "provider", true, MAX_NAME_LEN);
        let purpose = self
            .field(obj, path, "purpose", true)
            .and_then(|v| self.localized(v, join(path, "purpose"), MAX_TEXT_LEN));
        let privacy_url = self
            .field(obj, path, "privacy_url", false)
            .and_then(|v| self.url(v, join(path, "privacy_url")));
        let mut hosts: Vec<Box<str>> = Vec::new();
        for (i, item) in self
            .array(obj, path, "hosts", false, MAX_LIST)
            .iter()
            .enumerate()
        {
            let hpath = index(&join(path, "hosts"), i);
            let Some(host) = self.string(item, hpath.clone(), 253) else {
                continue;
            };
            let bare = host.strip_prefix("*.").unwrap_or(host);
            match cookie_decl::validate_domain(bare) {
                Ok(()) if !bare.starts_with('.') => {
                    if hosts.iter().any(|h| **h == *host) {
                        self.report(hpath, ProblemKind::Duplicate);
                    } else {
                        hosts.push(host.into());
                    }
                }
                _ => self.report(
                    hpath,
                    ProblemKind::Invalid(
                        "expected a host name such as www.example.com or *.example.com",
                    ),
                ),
            }
        }
        let transfer = match self.field(obj, path, "transfer", false) {
            None => Some(Transfer::default()),
            Some(v) => self.transfer(v, &join(path, "transfer")),
        };
        let mut cookies: Vec<CookieDecl> = Vec::new();
        for (i, item) in self
            .array(obj, path, "cookies", false, MAX_LIST)
            .iter()
            .enumerate()
        {
            let cpath = index(&join(path, "cookies"), i);
            if let Some(cookie) = self.cookie_decl(item, &cpath, necessary, consent_cookie) {
                if cookies.iter().any(|c| {
                    c.name == cookie.name && c.domain == cookie.domain && c.path == cookie.path
                }) {
                    self.report(join(&cpath, "name"), ProblemKind::Duplicate);
                } else {
                    cookies.push(cookie);
                }
            }
        }
        let mut exclude_paths: Vec<Box<str>> = Vec::new();
        for (i, item) in self
            .array(obj, path, "exclude_paths", false, MAX_LIST)
            .iter()
            .enumerate()
        {
            let ppath = index(&join(path, "exclude_paths"), i);
            let Some(p) = self.string(item, ppath.clone(), 256) else {
                continue;
            };
            if !p.starts_with('/') || p.contains(['?', '#', ' ']) {
                self.report(
                    ppath,
                    ProblemKind::Invalid(
                        "expected a path on this site such as /ajanvaraus (no query or fragment)",
                    ),
                );
            } else if exclude_paths.iter().any(|e| **e == *p) {
                self.report(ppath, ProblemKind::Duplicate);
            } else {
                exclude_paths.push(p.into());
            }
        }
        if necessary && !exclude_paths.is_empty() {
            self.report(
                join(path, "exclude_paths"),
                ProblemKind::Invalid("a necessary service runs on every page"),
            );
        }
        Some(Service {
            id: id?,
            name: name?,
            provider: provider?.into(),
            purpose: purpose?,
            privacy_url,
            hosts,
            transfer: transfer?,
            cookies,
            exclude_paths,
        })
    }

    /// A date as `YYYY-MM-DD`: `Some(None)` when absent, `None` when invalid (reported).
    fn date_field(&mut self, map: &Map, key: &str) -> Option<Option<Date>> {
        let Some(value) = self.field(map, "", key, false) else {
            return Some(None);
        };
        let s = self.string(value, key.to_owned(), 10)?;
        match parse_date(s) {
            Some(date) => Some(Some(date)),
            None => {
                self.report(
                    key.to_owned(),
                    ProblemKind::Invalid("expected a date as YYYY-MM-DD, such as 2026-11-01"),
                );
                None
            }
        }
    }

    fn transfer(&mut self, value: &Value, path: &str) -> Option<Transfer> {
        let obj = self.object(
            value,
            path,
            "a transfer: an object such as {\"outside_eea\": true, \"safeguard\": \"dpf\"}",
            &["outside_eea", "safeguard", "countries"],
        )?;
        let outside_eea = match self.field(obj, path, "outside_eea", true)?.as_bool() {
            Some(b) => b,
            None => {
                self.report(
                    join(path, "outside_eea"),
                    ProblemKind::WrongType("true or false"),
                );
                return None;
            }
        };
        let safeguard = match self.str_field(obj, path, "safeguard", false, 16) {
            None => None,
            Some(s) => match s.parse::<Safeguard>() {
                Ok(g) => Some(g),
                Err(_) => {
                    self.report(
                        join(path, "safeguard"),
                        ProblemKind::Invalid("expected \"dpf\", \"adequacy\", \"scc\" or \"bcr\""),
                    );
                    return None;
                }
            },
        };
        let countries = match self.field(obj, path, "countries", false) {
            None => None,
            Some(v) => Some(self.localized(v, join(path, "countries"), MAX_NAME_LEN)?),
        };
        if outside_eea && safeguard.is_none() {
            self.report(
                join(path, "safeguard"),
                ProblemKind::Unlawful(
                    "a transfer outside the EU/EEA needs a safeguard: \"dpf\", \"adequacy\", \"scc\" or \"bcr\"",
                ),
            );
            return None;
        }
        if !outside_eea {
            for key in ["safeguard", "countries"] {
                if obj.get(key).is_some_and(|v| !v.is_null()) {
                    self.report(
                        join(path, key),
                        ProblemKind::Invalid(
                            "only for a transfer outside the EU/EEA (outside_eea: true)",
                        ),
                    );
                }
            }
        }
        Some(Transfer {
            outside_eea,
            safeguard: safeguard.filter(|_| outside_eea),
            countries: countries.filter(|_| outside_eea),
        })
    }

    fn cookie_decl(
        &mut self,
        value: &Value,
        path: &str,
        necessary: bool,
        consent_cookie: Option<&str>,
    ) -> Option<CookieDecl> {
        let obj = self.object(
            value,
            path,
            "a cookie: an object with \"name\", \"lifetime\" and \"description\"",
            &["name", "domain", "path", "lifetime", "description"],
        )?;
        let name = match obj.get("name").and_then(Value::as_str) {
            Some("") => {
                self.report(join(path, "name"), ProblemKind::Empty);
                None
            }
            _ => self
                .str_field(obj, path, "name", true, MAX_NAME_LEN + 1)
                .and_then(|s| match CookiePattern::new(s) {
                    Ok(p) => Some(p),
                    Err(e) => {
                        self.report(join(path, "name"), ProblemKind::Cookie(e));
                        None
                    }
                }),
        };
        if let (Some(name), Some(consent)) = (&name, consent_cookie) {
            if !necessary && name.matches(consent) {
                self.report(
                    join(path, "name"),
                    ProblemKind::Invalid(
                        "matches the consent cookie, which a withdrawal must not delete",
                    ),
                );
            }
        }
        let domain = self
            .str_field(obj, path, "domain", false, 253)
            .and_then(|d| match cookie_decl::validate_domain(d) {
                Ok(()) => Some(Box::<str>::from(d)),
                Err(e) => {
                    self.report(join(path, "domain"), ProblemKind::Cookie(e));
                    None
                }
            });
        let cpath = match self.str_field(obj, path, "path", false, 1024) {
            None => Some(Box::<str>::from("/")),
            Some(p) => match cookie_decl::validate_path(p) {
                Ok(()) => Some(p.into()),
                Err(e) => {
                    self.report(join(path, "path"), ProblemKind::Cookie(e));
                    None
                }
            },
        };
        let lifetime = self
            .str_field(obj, path, "lifetime", true, 16)
            .and_then(|s| match s.parse::<Lifetime>() {
                Ok(l) => Some(l),
                Err(e) => {
                    self.report(join(path, "lifetime"), ProblemKind::Cookie(e));
                    None
                }
            });
        let description = self
            .field(obj, path, "description", true)
            .and_then(|v| self.localized(v, join(path, "description"), MAX_TEXT_LEN));
        Some(CookieDecl {
            name: name?,
            domain,
            path: cpath?,
            lifetime: lifetime?,
            description: description?,
        })
    }

    fn consent_mode(&mut self, map: &Map, categories: &[Category]) -> Option<ConsentModeConfig> {
        let has_preferences = categories.iter().any(|c| c.id == "preferences");
        let mut mapping: [Vec<CategoryId>; 7] = Default::default();
        for signal in Signal::ALL {
            mapping[signal as usize] = signal
                .default_categories(has_preferences)
                .iter()
                .filter(|id| categories.iter().any(|c| c.id == **id))
                .filter_map(|id| CategoryId::new(id).ok())
                .collect();
        }
        let mut mode = ConsentModeConfig {
            enabled: false,
            wait_for_update_ms: 500,
            mapping,
            masks: [0; 7],
        };
        if let Some(value) = self.field(map, "", "consent_mode", false) {
            let obj = self.object(
                value,
                "consent_mode",
                "an object such as {\"enabled\": true}",
                &["enabled", "wait_for_update_ms", "signals"],
            )?;
            mode.enabled = self
                .bool_field(obj, "consent_mode", "enabled")
                .unwrap_or(false);
            if let Some(ms) = self.uint_field(
                obj,
                "consent_mode",
                "wait_for_update_ms",
                false,
                (0, 10_000),
                "must be from 0 to 10000",
            ) {
                mode.wait_for_update_ms = ms as u32;
            }
            if let Some(signals) = self.field(obj, "consent_mode", "signals", false) {
                let known: Vec<&'static str> = Signal::ALL.iter().map(|s| s.as_str()).collect();
                let signals = self.object(
                    signals,
                    "consent_mode.signals",
                    "an object of signals, each a list of category ids: {\"ad_storage\": [\"marketing\"]}",
                    &known,
                )?;
                for (name, ids) in signals {
                    let Ok(signal) = name.parse::<Signal>() else {
                        continue;
                    };
                    let spath = join("consent_mode.signals", name);
                    let Some(ids) = ids.as_array() else {
                        self.report(spath, ProblemKind::WrongType("a list of category ids"));
                        continue;
                    };
                    let mut list = Vec::new();
                    for (i, id) in ids.iter().enumerate() {
                        match id
                            .as_str()
                            .and_then(|s| categories.iter().find(|c| c.id == s))
                        {
                            Some(c) => list.push(c.id.clone()),
                            None => self.report(
                                index(&spath, i),
                                ProblemKind::Invalid("not a category of this config"),
                            ),
                        }
                    }
                    mode.mapping[signal as usize] = list;
                }
            }
        }
        for signal in Signal::ALL {
            mode.masks[signal as usize] = mode.mapping[signal as usize]
                .iter()
                .filter_map(|id| categories.iter().position(|c| c.id == *id))
                .fold(0, |m, i| m | 1 << i);
        }
        Some(mode)
    }

    fn texts(&mut self, map: &Map) -> [Vec<(TextKey, Box<str>)>; 3] {
        let mut out: [Vec<(TextKey, Box<str>)>; 3] = Default::default();
        let Some(value) = self.field(map, "", "texts", false) else {
            return out;
        };
        let Some(langs) = self.object(
            value,
            "texts",
            "an object of languages, each an object of texts: {\"fi\": {\"accept_all\": ...}}",
            &LANGUAGE_KEYS,
        ) else {
            return out;
        };
        for (lang_name, overrides) in langs {
            let Ok(lang) = lang_name.parse::<Lang>() else {
                continue;
            };
            let lpath = join("texts", lang_name);
            let Some(overrides) = overrides.as_object() else {
                self.report(
                    lpath,
                    ProblemKind::WrongType("an object of texts such as {\"accept_all\": ...}"),
                );
                continue;
            };
            // Kept in key order (Texts looks them up by binary search) by inserting each in
            // place: a sort's generic code is 4.7 kB of the browser build.
            let list = &mut out[lang.index()];
            for (key_name, text) in overrides {
                let kpath = join(&lpath, key_name);
                let Ok(key) = key_name.parse::<TextKey>() else {
                    self.unknown(kpath, key_name, &TEXT_KEYS);
                    continue;
                };
                if let Some(text) = self.string(text, kpath, MAX_TEXT_LEN) {
                    // After any equal key, as the stable sort this replaces put it.
                    let at = list.partition_point(|(k, _)| *k <= key);
                    list.insert(at, (key, text.into()));
                }
            }
        }
        out
    }
}

/// Parses exactly `YYYY-MM-DD`, years 2000 to 9999.
fn parse_date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    let digits = |r: core::ops::Range<usize>| {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse::<u16>().ok())
            .flatten()
    };
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    if year < 2000 {
        return None;
    }
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(i32::from(year), month, u8::try_from(day).ok()?).ok()
}

// The config as a site's policy (the rules' view of it, beside its compiled form).
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
        }
    }

    fn lifetime_days(&self) -> (u16, u16) {
        let l = self.lifetimes();
        (l.accept_days(), l.refuse_days())
    }

    fn each_cookie(&self, f: &mut dyn FnMut(ServiceIndex, crate::compiled::CookieEntry<'_>)) {
        for (si, _, service) in self.services() {
            for c in service.cookies() {
                f(
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

    fn services_of(&self, category: CategoryIndex) -> u128 {
        Config::services_of(self, category).fold(0, |set, s| set | 1 << s.get())
    }
}

impl crate::site::Params {
    pub(crate) fn new(config: &Config) -> Self {
        let mut category_services = [0u128; MAX_CATEGORIES];
        for (service, category, _) in config.services() {
            category_services[category.get()] |= 1 << service.get();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(json: &str) -> Vec<String> {
        match Config::from_json(json) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems().iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_service_name_is_one_for_all_languages_or_one_per_language() {
        let example = |name: &str| {
            crate::EXAMPLE_CONFIG.replacen(
                r#""name": {"fi": "Klinikan verkkosivusto", "sv": "Klinikens webbplats", "en": "Clinic website"}"#,
                &format!(r#""name": {name}"#),
                1,
            )
        };
        let c = Config::from_json(crate::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"));
        let site = &c.categories()[0].services()[0];
        assert_eq!(site.name(Lang::Fi), "Klinikan verkkosivusto");
        assert_eq!(site.name(Lang::Sv), "Klinikens webbplats");
        assert_eq!(site.name(Lang::En), "Clinic website");
        // A brand name, the same everywhere, stays a string in the canonical JSON.
        let json = example(r#""Vet Clinic""#);
        let c = Config::from_json(&json).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(c.categories()[0].services()[0].name(Lang::Sv), "Vet Clinic");
        assert!(c.to_json().contains(r#""name":"Vet Clinic""#));
        assert_eq!(
            problems(&example(r#"{"fi": "Klinikka"}"#)),
            [
                "categories[0].services[0].name.sv: missing translation",
                "categories[0].services[0].name.en: missing translation"
            ]
        );
        assert_eq!(
            problems(&example("7")),
            [
                "categories[0].services[0].name: expected a name: a string for every language, or an object of languages"
            ]
        );
        assert_eq!(
            problems(&example(r#""""#)),
            ["categories[0].services[0].name: empty"]
        );
    }

    #[test]
    fn minimal_config_gets_defaults() {
        let c = Config::from_json(
            r#"{"revision": 3, "privacy_notice": "/p", "categories": [{"id": "necessary"}]}"#,
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(c.revision().get(), 3);
        assert_eq!(c.languages(), Lang::ALL);
        assert_eq!(c.default_language(), Lang::Fi);
        assert_eq!(c.cookie().name(), "consent");
        assert_eq!(c.cookie().same_site(), SameSite::Lax);
        assert_eq!(c.lifetimes().accept_days(), 182);
        assert_eq!(c.lifetimes().refuse_days(), 182);
        assert!(!c.consent_mode().enabled());
        assert_eq!(
            c.everything(),
            Choices {
                categories: 1,
                services: 0
            }
        );
    }

    #[test]
    fn exclude_paths_are_paths_matched_by_segment() {
        let got = problems(
            r#"{"revision": 1, "privacy_notice": "/p", "categories": [
                {"id": "necessary", "services": [{"id": "session", "name": "S", "provider": "P",
                    "purpose": {"fi": "x", "sv": "x", "en": "x"}, "exclude_paths": ["/a"]}]},
                {"id": "marketing", "services": [{"id": "px", "name": "Px", "provider": "P",
                    "purpose": {"fi": "x", "sv": "x", "en": "x"},
                    "exclude_paths": ["booking", "/b?x=1", "/c", "/c", 7]}]}
            ]}"#,
        );
        assert_eq!(
            got,
            [
                "categories[0].services[0].exclude_paths: a necessary service runs on every page",
                "categories[1].services[0].exclude_paths[0]: expected a path on this site such as /ajanvaraus (no query or fragment)",
                "categories[1].services[0].exclude_paths[1]: expected a path on this site such as /ajanvaraus (no query or fragment)",
                "categories[1].services[0].exclude_paths[3]: duplicate",
                "categories[1].services[0].exclude_paths[4]: expected a string",
            ]
        );
        let c = Config::from_json(crate::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"));
        let pixel = c
            .service_index("facebook-pixel")
            .and_then(|i| c.service(i))
            .unwrap_or_else(|| unreachable!());
        for (path, excluded) in [
            ("/ajanvaraus", true),
            ("/ajanvaraus/", true),
            ("/ajanvaraus/vahvistus", true),
            ("/ajanvaraus#top", true),
            ("/ajanvaraukset", false),
            ("/", false),
            ("/sv/tidsbokning", true),
            ("/en/", false),
        ] {
            assert_eq!(pixel.is_excluded_on(path), excluded, "{path}");
        }
        let ga = c
            .service_index("ga")
            .and_then(|i| c.service(i))
            .unwrap_or_else(|| unreachable!());
        assert!(!ga.is_excluded_on("/ajanvaraus"));
    }

    #[test]
    fn reports_every_problem_with_its_path() {
        let got = problems(
            r#"{
            "revision": "one",
            "languages": ["fi", "de"],
            "privacy_notice": "javascript:alert(1)",
            "cookie": {"same_site": "loose"},
            "lifetime": {"accept_days": 400},
            "categories": [
                {"id": "necessary"},
                {"id": "Analytics"},
                {"id": "marketing", "enabled_by_default": true, "services": [
                    {"id": "fb", "name": "", "provider": "Meta", "purpose": {"fi": "x"},
                     "cookies": [{"name": "_fbp", "lifetime": "3mo", "description": {"fi": "x"}},
                                 {"name": "", "lifetime": "forever", "description": {"fi": "x"}}]}
                ]},
                {"id": "custom", "title": {"fi": "Oma"}, "description": {"fi": "Kuvaus"}, "colour": "red"}
            ],
            "texts": {"fi": {"accept": "Hyväksy"}}
        }"#,
        );
        assert_eq!(
            got,
            [
                "revision: expected a whole number",
                "languages[1]: expected \"fi\", \"sv\" or \"en\"",
                "privacy_notice: expected an https:// or http:// address, or a path starting with /",
                "cookie.same_site: expected \"strict\", \"lax\" or \"none\"",
                "lifetime.accept_days: must be from 1 to 395 days (13 months)",
                "categories[1].id: must start with a lowercase letter a-z",
                "categories[2].enabled_by_default: not allowed: only necessary may be on before the visitor decides",
                "categories[2].services[0].name: empty",
                "categories[2].services[0].cookies[1].name: empty",
                "categories[2].services[0].cookies[1].lifetime: invalid lifetime: expected \"session\", \"<n>d\", \"<n>mo\" or \"<n>y\" (n from 1 to 9999)",
                "categories[3].colour: unknown field",
                "texts.fi.accept: unknown field",
            ]
        );
    }

    #[test]
    fn syntax_error_names_line_and_column() {
        let got = problems("{\n  \"revision\": 1,\n  oops\n}");
        assert_eq!(got.len(), 1);
        assert!(
            got[0].starts_with("not valid JSON: key must be a string at line 3 column 3"),
            "{got:?}"
        );
    }

    #[test]
    fn every_site_language_needs_a_translation() {
        let got = problems(
            r#"{"revision": 1, "privacy_notice": "/p", "languages": ["fi", "sv"], "categories": [
            {"id": "necessary"},
            {"id": "research", "title": {"fi": "Tutkimus"}, "description": {"fi": "K", "sv": "B"}}
        ]}"#,
        );
        assert_eq!(got, ["categories[1].title.sv: missing translation"]);
    }

    #[test]
    fn necessary_must_come_first_and_ids_be_unique() {
        let got = problems(
            r#"{"revision": 1, "privacy_notice": "/p", "categories": [
            {"id": "analytics"}, {"id": "necessary"}, {"id": "analytics"}
        ]}"#,
        );
        assert_eq!(
            got,
            [
                "categories[1].id: \"necessary\" must be the first category",
                "categories[2].id: duplicate",
                "categories[0].id: the first category must be \"necessary\"",
            ]
        );
    }

    #[test]
    fn service_ids_are_unique_across_categories() {
        let svc = r#"{"id": "ga", "name": "GA", "provider": "Google", "purpose": {"fi": "a", "sv": "b", "en": "c"}}"#;
        let json = format!(
            r#"{{"revision": 1, "privacy_notice": "/p", "categories": [
            {{"id": "necessary"}}, {{"id": "analytics", "services": [{svc}]}}, {{"id": "marketing", "services": [{svc}]}}]}}"#
        );
        assert_eq!(problems(&json), ["categories[2].services[0].id: duplicate"]);
    }

    #[test]
    fn a_declared_cookie_may_not_match_the_consent_cookie() {
        let got = problems(
            r#"{"revision": 1, "privacy_notice": "/p", "categories": [{"id": "necessary"},
            {"id": "analytics", "services": [{"id": "x", "name": "X", "provider": "X",
              "purpose": {"fi": "a", "sv": "b", "en": "c"},
              "cookies": [{"name": "cons*", "lifetime": "1d", "description": {"fi": "a", "sv": "b", "en": "c"}}]}]}]}"#,
        );
        assert_eq!(
            got,
            [
                "categories[1].services[0].cookies[0].name: matches the consent cookie, which a withdrawal must not delete"
            ]
        );
    }

    #[test]
    fn consent_mode_mapping_must_name_categories() {
        let got = problems(
            r#"{"revision": 1, "privacy_notice": "/p", "categories": [{"id": "necessary"}],
            "consent_mode": {"enabled": true, "signals": {"ad_storage": ["marketing"], "ads": []}}}"#,
        );
        assert_eq!(
            got,
            [
                "consent_mode.signals.ads: unknown field",
                "consent_mode.signals.ad_storage[0]: not a category of this config"
            ]
        );
    }

    #[test]
    fn transfers_and_revision_date_are_checked_with_their_paths() {
        let svc = |transfer: &str| {
            format!(
                r#"{{"id": "s{}", "name": "S", "provider": "P", "purpose": {{"fi": "a", "sv": "b", "en": "c"}}, "transfer": {transfer}}}"#,
                transfer.len()
            )
        };
        let services = [
            svc(r#"{"outside_eea": true}"#),
            svc(r#"{"outside_eea": true, "safeguard": "shield"}"#),
            svc(r#"{"outside_eea": false, "safeguard": "scc"}"#),
            svc(r#"{"outside_eea": "yes"}"#),
            svc(r#"{"safeguard": "dpf", "to": "US"}"#),
            svc(r#"{"outside_eea": true, "safeguard": "scc", "countries": {"fi": "Intia"}}"#),
        ]
        .join(",");
        let json = format!(
            r#"{{"revision": 1, "revision_date": "2026-02-30", "privacy_notice": "/p",
                "categories": [{{"id": "necessary"}}, {{"id": "analytics", "services": [{services}]}}]}}"#
        );
        assert_eq!(
            problems(&json),
            [
                "revision_date: expected a date as YYYY-MM-DD, such as 2026-11-01",
                "categories[1].services[0].transfer.safeguard: not allowed: a transfer outside the EU/EEA needs a safeguard: \"dpf\", \"adequacy\", \"scc\" or \"bcr\"",
                "categories[1].services[1].transfer.safeguard: expected \"dpf\", \"adequacy\", \"scc\" or \"bcr\"",
                "categories[1].services[2].transfer.safeguard: only for a transfer outside the EU/EEA (outside_eea: true)",
                "categories[1].services[3].transfer.outside_eea: expected true or false",
                "categories[1].services[4].transfer.to: unknown field",
                "categories[1].services[4].transfer.outside_eea: missing",
                "categories[1].services[5].transfer.countries.sv: missing translation",
                "categories[1].services[5].transfer.countries.en: missing translation",
            ]
        );
        for bad in [
            "2026-1-01",
            "1999-12-31",
            "2026-11-01T00:00",
            "２０２６-11-01",
            "2026-13-01",
        ] {
            let json = format!(
                r#"{{"revision": 1, "revision_date": "{bad}", "privacy_notice": "/p", "categories": [{{"id": "necessary"}}]}}"#
            );
            assert_eq!(problems(&json).len(), 1, "{bad}");
        }
    }

    #[test]
    fn transfers_and_dates_round_trip_and_default_to_none() {
        let a = Config::from_json(crate::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            a.revision_date(),
            Date::from_calendar_date(2026, Month::November, 1).ok()
        );
        let back = Config::from_json(&a.to_json()).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(back, a);
        let site = a.service(ServiceIndex(0)).unwrap_or_else(|| unreachable!());
        assert!(!site.transfer().outside_eea());
        assert!(!a.to_json().contains("\"outside_eea\":false"));
        let pixel = a
            .service_index("facebook-pixel")
            .and_then(|i| a.service(i))
            .unwrap_or_else(|| unreachable!());
        assert_eq!(pixel.transfer().safeguard(), Some(Safeguard::Dpf));
        assert_eq!(
            pixel.transfer().countries().map(|c| c.get(Lang::Sv)),
            Some("USA")
        );
    }

    #[test]
    fn not_an_object_at_all() {
        assert_eq!(
            problems("[]"),
            [
                r#"expected a config: an object such as {"revision": 1, "privacy_notice": ..., "categories": [...]}"#
            ]
        );
        assert_eq!(
            problems("{}"),
            [
                "revision: missing",
                "privacy_notice: missing",
                "categories: missing"
            ]
        );
    }

    #[test]
    fn site_is_part_of_the_fingerprint_and_checked_with_its_path() {
        let plain =
            Config::from_json(crate::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(plain.site(), None);
        let mut v: serde_json::Value =
            serde_json::from_str(crate::EXAMPLE_CONFIG).unwrap_or_default();
        v["site"] = "klinikka.fi".into();
        let a = Config::from_value(&v).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(a.site(), Some("klinikka.fi"));
        assert_ne!(a.fingerprint(), plain.fingerprint());
        assert_ne!(a.shown_hash(Lang::Fi), plain.shown_hash(Lang::Fi));
        // Setting the site on a parsed config gives exactly the config parsed with it.
        let b = plain
            .clone()
            .with_site("klinikka.fi")
            .unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(a, b);
        assert_eq!(a.to_json(), b.to_json());
        v["site"] = "other.fi".into();
        let c = Config::from_value(&v).unwrap_or_else(|e| unreachable!("{e}"));
        assert_ne!(a.fingerprint(), c.fingerprint());
        for (bad, message) in [
            ("", "site: empty"),
            (
                "two words",
                "site: a site id is letters, digits, '-', '_' and '.' only",
            ),
            (
                "é",
                "site: a site id is letters, digits, '-', '_' and '.' only",
            ),
        ] {
            v["site"] = bad.into();
            let e = Config::from_value(&v)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains(message), "{bad:?}: {e}");
            let e = plain
                .clone()
                .with_site(bad)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains(message), "with_site({bad:?}): {e}");
        }
        let long = "a".repeat(MAX_SITE_LEN + 1);
        assert!(plain.clone().with_site(&long).is_err());
        assert!(plain.with_site(&long[1..]).is_ok());
    }

    #[test]
    fn fingerprint_follows_ids_and_order() {
        let a = Config::from_json(crate::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"));
        let mut v: serde_json::Value =
            serde_json::from_str(crate::EXAMPLE_CONFIG).unwrap_or_default();
        if let Some(c) = v["categories"].as_array_mut() {
            c.swap(1, 2);
        }
        let b = Config::from_value(&v).unwrap_or_else(|e| unreachable!("{e}"));
        assert_ne!(a.fingerprint(), b.fingerprint());
        v["revision"] = 9.into();
        let c = Config::from_value(&v).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(b.fingerprint(), c.fingerprint());
    }

    #[test]
    fn shown_hash_changes_with_language_and_texts() {
        let a = Config::from_json(crate::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"));
        assert_ne!(a.shown_hash(Lang::Fi), a.shown_hash(Lang::Sv));
        let mut v: serde_json::Value =
            serde_json::from_str(crate::EXAMPLE_CONFIG).unwrap_or_default();
        v["texts"] = serde_json::json!({"fi": {"accept_all": "Hyväksyn"}});
        let b = Config::from_value(&v).unwrap_or_else(|e| unreachable!("{e}"));
        assert_ne!(a.shown_hash(Lang::Fi), b.shown_hash(Lang::Fi));
        // The same config and language always hash the same (browser and server agree).
        let again = Config::from_json(&a.to_json()).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(a.shown_hash(Lang::En), again.shown_hash(Lang::En));
    }

    /// A one-language site: every text a plain string (in `en`, as `languages` says).
    const ONE_LANGUAGE: &str = r#"{"revision": 1, "languages": ["en"], "privacy_notice": "/privacy",
        "categories": [{"id": "necessary"},
            {"id": "research", "title": "Research", "description": "Studies of how the site is used.",
             "services": [{"id": "ga", "name": "Google Analytics", "provider": "Google Ireland Ltd",
                "purpose": "Counts visits.",
                "transfer": {"outside_eea": true, "safeguard": "dpf", "countries": "the United States"},
                "cookies": [{"name": "_ga", "lifetime": "13mo", "description": "Tells visitors apart."}]}]}]}"#;

    #[test]
    fn a_one_language_site_writes_plain_strings() {
        let plain = Config::from_json(ONE_LANGUAGE).unwrap_or_else(|e| unreachable!("{e}"));
        let text = |s: &str| format!("{{\"en\": \"{s}\"}}");
        let objects = ONE_LANGUAGE
            .replace("\"Research\"", &text("Research"))
            .replace(
                "\"Studies of how the site is used.\"",
                &text("Studies of how the site is used."),
            )
            .replace("\"Counts visits.\"", &text("Counts visits."))
            .replace("\"the United States\"", &text("the United States"))
            .replace("\"Tells visitors apart.\"", &text("Tells visitors apart."));
        assert_ne!(objects, ONE_LANGUAGE);
        let objects = Config::from_json(&objects).unwrap_or_else(|e| unreachable!("{e}"));
        // The same config, so the same record hashes: a plain string is only shorthand.
        assert_eq!(plain, objects);
        assert_eq!(plain.to_json(), objects.to_json());
        assert_eq!(plain.shown_hash(Lang::En), objects.shown_hash(Lang::En));
        let back = Config::from_json(&plain.to_json()).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(back, plain);
        let texts = plain.texts(Lang::En);
        let research = &plain.categories()[1];
        assert_eq!(research.title(&texts), "Research");
        assert_eq!(
            research.services()[0].purpose().get(Lang::En),
            "Counts visits."
        );
        assert_eq!(research.services()[0].purpose().exact(Lang::Fi), None);
        assert_eq!(
            research.services()[0].cookies()[0]
                .description()
                .get(Lang::En),
            "Tells visitors apart."
        );
        // Plain strings are checked as strings are.
        let empty = ONE_LANGUAGE.replace("\"Counts visits.\"", "\" \"");
        assert_eq!(
            problems(&empty),
            ["categories[1].services[0].purpose: empty"]
        );
    }

    #[test]
    fn a_plain_string_on_a_site_of_several_languages_says_what_is_expected() {
        let two = ONE_LANGUAGE.replace(r#"["en"]"#, r#"["fi", "en"]"#);
        let many = r#"{"fi": ..., "en": ...}; a plain string is for a site with one language in "languages""#;
        assert_eq!(
            problems(&two),
            [
                format!("categories[1].title: expected a text: an object of languages {many}"),
                format!(
                    "categories[1].description: expected a text: an object of languages {many}"
                ),
                format!(
                    "categories[1].services[0].purpose: expected a text: an object of languages {many}"
                ),
                format!(
                    "categories[1].services[0].transfer.countries: expected a text: an object of languages {many}"
                ),
                format!(
                    "categories[1].services[0].cookies[0].description: expected a text: an object of languages {many}"
                ),
            ]
        );
        // Without "languages" the site has all three.
        let all = ONE_LANGUAGE.replace(r#""languages": ["en"], "#, "");
        assert_eq!(
            problems(&all)[0],
            r#"categories[1].title: expected a text: an object of languages {"fi": ..., "sv": ..., "en": ...}; a plain string is for a site with one language in "languages""#
        );
        // Neither a string nor an object: the one-language site is told both shapes.
        let number = ONE_LANGUAGE.replace("\"Counts visits.\"", "7");
        assert_eq!(
            problems(&number),
            [
                r#"categories[1].services[0].purpose: expected a text: a string, or an object of languages {"en": ...}"#
            ]
        );
        let err = Config::from_json(&number)
            .err()
            .unwrap_or_else(|| unreachable!());
        let ProblemKind::Text(shape) = err.problems()[0].kind() else {
            unreachable!("{err}")
        };
        assert_eq!(shape.languages(), [Lang::En]);
        assert!(!shape.got_string());
    }

    #[test]
    fn every_object_says_which_object() {
        let got = problems(
            r#"{"revision": 1, "privacy_notice": 5, "cookie": [], "lifetime": 1,
                "consent_mode": {"signals": 2}, "texts": {"fi": 3}, "categories": [
                {"id": "necessary"},
                5,
                {"id": "analytics", "services": [7, {"id": "x", "name": "X", "provider": "P",
                    "purpose": {"fi": "a", "sv": "b", "en": "c"}, "transfer": true, "cookies": [8]}]}]}"#,
        );
        assert_eq!(
            got,
            [
                r#"privacy_notice: expected an address (a path such as /privacy, or an https:// URL), or an object of languages {"fi": ..., "sv": ..., "en": ...}"#,
                r#"cookie: expected the consent cookie's settings: an object such as {"name": "consent", "same_site": "lax"}"#,
                r#"lifetime: expected an object such as {"accept_days": 182, "refuse_days": 182}"#,
                r#"categories[1]: expected a category: an object such as {"id": "analytics", "services": [...]}"#,
                r#"categories[2].services[0]: expected a service: an object with "id", "name", "provider" and "purpose""#,
                r#"categories[2].services[1].transfer: expected a transfer: an object such as {"outside_eea": true, "safeguard": "dpf"}"#,
                r#"categories[2].services[1].cookies[0]: expected a cookie: an object with "name", "lifetime" and "description""#,
                r#"consent_mode.signals: expected an object of signals, each a list of category ids: {"ad_storage": ["marketing"]}"#,
                r#"texts.fi: expected an object of texts such as {"accept_all": ...}"#,
            ]
        );
    }

    #[test]
    fn a_near_miss_of_a_known_field_is_named() {
        let got = problems(
            r#"{"revision": 1, "privacy_notice": "/p", "categorys": [], "Languages": ["fi"],
                "texts": {"sw": {}, "fi": {"accept_al": "Hyväksy", "accept": "Hyväksy"}}}"#,
        );
        assert_eq!(
            got,
            [
                "Languages: unknown field; did you mean `languages`?",
                "categorys: unknown field; did you mean `categories`?",
                "categories: missing",
                "texts.sw: unknown field; did you mean `sv`?",
                // Too far from any known name to guess.
                "texts.fi.accept: unknown field",
                "texts.fi.accept_al: unknown field; did you mean `accept_all`?",
            ]
        );
        let got = problems(
            r#"{"revision": 1, "privacy_notice": "/p", "categories": [{"id": "necessary",
                "servcies": [], "colour": "red"}]}"#,
        );
        assert_eq!(
            got,
            [
                "categories[0].colour: unknown field",
                "categories[0].servcies: unknown field; did you mean `services`?",
            ]
        );
        let err = Config::from_json(r#"{"revison": 1}"#)
            .err()
            .unwrap_or_else(|| unreachable!());
        assert_eq!(err.problems()[0].did_you_mean(), Some("revision"));
        assert_eq!(*err.problems()[0].kind(), ProblemKind::UnknownField);
    }
}
