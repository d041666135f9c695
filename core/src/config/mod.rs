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

use crate::json::Value;
use serde::{Serialize, Serializer};
use time::Date;

pub use crate::consent_mode_config::ConsentModeConfig;
use crate::cookie_decl::CookieDecl;
use crate::digest::Digest;
use crate::id::{CategoryId, ServiceId};
pub use crate::index::{CategoryIndex, ServiceIndex};
use crate::lang::Lang;
use crate::localized::Localized;
use crate::state::{Choices, Revision};
use crate::texts::{TextKey, Texts};
use crate::transfer::Transfer;

// The model (the config, its categories and services) is here; the rest is one concept a
// file, its public items re-exported below so that the paths stay `config::X`. `validate`
// reads a config from JSON and reports every problem; `cookie` and `lifetimes` are the
// consent cookie's settings and how long decisions stand; `fingerprint` (with the site id
// that is part of it) and `shown` are the config's two hashes; `site_policy` is the config
// as the rules see it.
mod cookie;
mod fingerprint;
mod lifetimes;
mod shown;
mod site_policy;
mod validate;

pub use cookie::ConsentCookie;
pub use fingerprint::MAX_SITE_LEN;
pub use lifetimes::{DEFAULT_LIFETIME_DAYS, Lifetimes, MAX_LIFETIME_DAYS};
pub use validate::{ConfigError, Problem, ProblemKind, TextShape};

use fingerprint::{SITE_ID_RULE, fingerprint, is_site_id};
use shown::ShownHashes;
use validate::Validator;

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
    /// excluded path, below it, or it followed by `.` or `;` (`/ajanvaraus` excludes
    /// `/ajanvaraus`, `/ajanvaraus/vahvistus`, `/ajanvaraus.html` and
    /// `/ajanvaraus;jsessionid=1`, not `/ajanvaraukset`). A query or fragment in `path` is
    /// ignored, and so are the differences a lenient server ignores when it routes a path:
    /// letter case, runs of `/`, and escaped letters, digits, `-._~` and `/` (`/Ajanvaraus`,
    /// `//ajanvaraus` and `/%61janvaraus` are excluded too). That only ever excludes more.
    ///
    /// ```
    /// let config = consent_core::Config::from_json(consent_core::EXAMPLE_CONFIG)?;
    /// let pixel = config.service(config.service_index("facebook-pixel").unwrap()).unwrap();
    /// assert!(pixel.is_excluded_on("/ajanvaraus?aika=10"));
    /// assert!(pixel.is_excluded_on("/Ajanvaraus"));
    /// assert!(pixel.is_excluded_on("/ajanvaraus.html"));
    /// assert!(!pixel.is_excluded_on("/"));
    /// # Ok::<(), consent_core::ConfigError>(())
    /// ```
    #[must_use]
    pub fn is_excluded_on(&self, path: &str) -> bool {
        let keys = self
            .exclude_paths
            .iter()
            .map(|p| crate::compiled::exclude_path_key(p));
        crate::compiled::excluded(keys, path)
    }
    /// Whether its data leaves the EU/EEA, and on what safeguard.
    #[must_use]
    pub fn transfer(&self) -> &Transfer {
        &self.transfer
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

/// The most bytes a config file may hold: 8 MiB, some hundred times a large site's config
/// (the example clinic's is 7 kB). A file a reader finds longer is another file, or no
/// file at all (`/dev/zero`): a reader reads at most one byte more than this, then hands what
/// it read to [`json_text`], which refuses it.
pub const MAX_FILE_LEN: usize = 8 << 20;

/// The JSON text of a config file's bytes: UTF-8, without the byte order mark that editors
/// on Windows write first (no part of the JSON). Every reader of a config file goes through
/// this, so that one file reads alike everywhere.
///
/// # Errors
/// A [`ConfigError`] with one problem of the whole document: more than [`MAX_FILE_LEN`]
/// bytes ([`ProblemKind::TooLarge`]), or a [syntax](ProblemKind::Syntax) problem: UTF-16
/// text, or the line and column of the first byte that is not UTF-8 (a file saved as
/// Latin-1, say).
pub fn json_text(bytes: &[u8]) -> Result<&str, ConfigError> {
    if bytes.len() > MAX_FILE_LEN {
        return Err(ConfigError::whole(ProblemKind::TooLarge(MAX_FILE_LEN)));
    }
    crate::json::text(bytes).map_err(ConfigError::syntax)
}

impl Config {
    /// Parses and validates a config.
    ///
    /// # Errors
    /// A [`ConfigError`] listing every problem found, each with its path.
    pub fn from_json(json: &str) -> Result<Self, ConfigError> {
        #[cfg(feature = "serde_json")]
        let value = serde_json::from_str::<Value>(json).map_err(|e| e.to_string());
        #[cfg(not(feature = "serde_json"))]
        let value = crate::json::parse(json).map_err(|e| e.message(json));
        let value = value.map_err(ConfigError::syntax)?;
        Self::validate(&value)
    }

    /// Parses and validates a config file's bytes, as every command that reads one does:
    /// [`json_text`], then [`Config::from_json`].
    ///
    /// # Errors
    /// A [`ConfigError`]: the bytes are not UTF-8 (where), or the config's problems.
    ///
    /// # Example
    /// ```
    /// use consent_core::Config;
    ///
    /// let mut file = b"\xEF\xBB\xBF".to_vec(); // a byte order mark, as Notepad writes
    /// file.extend_from_slice(consent_core::EXAMPLE_CONFIG.as_bytes());
    /// assert_eq!(Config::from_slice(&file)?, Config::from_json(consent_core::EXAMPLE_CONFIG)?);
    ///
    /// let latin1 = b"{\"revision\": 1,\n \"privacy_notice\": \"/tietosuoja\xE4\"}";
    /// let problem = Config::from_slice(latin1).unwrap_err().to_string();
    /// assert!(problem.ends_with("not valid JSON: invalid UTF-8 at line 2 column 32: save the file as UTF-8"));
    /// # Ok::<(), consent_core::ConfigError>(())
    /// ```
    pub fn from_slice(bytes: &[u8]) -> Result<Self, ConfigError> {
        Self::from_json(json_text(bytes)?)
    }

    /// Validates a config already parsed as JSON.
    ///
    /// A `serde_json::Value` has already kept only the last of a key given twice, which
    /// [`Config::from_json`] refuses: read a config's text with that, or [`Config::from_slice`].
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
            // A config that validates compiles: the browser reads nothing else.
            Some(config) if v.problems.is_empty() => match crate::compile::compile(&config) {
                Ok(_) => Ok(config),
                Err(e) => Err(ConfigError::whole(ProblemKind::Compile(e))),
            },
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
        let asks = crate::texts::Asks::of(self.categories.iter().map(|c| c.id().as_str()));
        let marketing = self.gpc_mask() != 0
            || self
                .categories
                .iter()
                .any(|c| c.id().as_str() == "marketing");
        Texts::new(lang, &self.texts[lang.index()], asks, marketing)
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
}

#[cfg(feature = "serde_json")]
impl<'de> serde::Deserialize<'de> for Config {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Read into the validator's tree, which refuses a key given twice (a
        // `serde_json::Value` would keep the last).
        let value = Value::deserialize(d)?;
        Config::validate(&value).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transfer::Safeguard;
    use time::Month;

    #[test]
    fn a_file_longer_than_any_config_is_refused_whole() {
        let mut bytes = vec![b' '; MAX_FILE_LEN];
        assert_eq!(json_text(&bytes).map(str::len), Ok(MAX_FILE_LEN));
        bytes.push(b' ');
        let err = json_text(&bytes).unwrap_err();
        assert_eq!(err.problems().len(), 1);
        assert_eq!(
            *err.problems()[0].kind(),
            ProblemKind::TooLarge(MAX_FILE_LEN)
        );
        assert_eq!(
            err.problems()[0].to_string(),
            "larger than 8388608 bytes, more than any config holds: is this the config file?"
        );
    }

    #[test]
    fn a_field_given_twice_is_refused_never_the_first_dropped() {
        let example = crate::EXAMPLE_CONFIG;
        let at = example.find("\"hosts\"").unwrap_or_else(|| unreachable!());
        let twice = [
            &example[..at],
            "\"hosts\": [\"evil.example\"], ",
            &example[at..],
        ]
        .concat();
        let line = 1 + example[..at].matches('\n').count();
        let want = [
            "duplicate key \"hosts\" at line ",
            &line.to_string(),
            " column",
        ]
        .concat();
        let err = Config::from_json(&twice)
            .map(|_| ())
            .unwrap_err()
            .to_string();
        assert!(err.contains(&want), "{err}");
        #[cfg(feature = "serde_json")]
        {
            let err = serde_json::from_str::<Config>(&twice)
                .map(|_| ())
                .unwrap_err();
            assert!(err.to_string().contains(&want), "{err}");
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
}
