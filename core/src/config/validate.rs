//! Reading a config: one walk over the JSON that checks every field, and the problems it
//! finds, each with its path and a message.

use crate::prelude::*;
use core::fmt;

use crate::json::{Map, Value};
use time::{Date, Month};

use super::fingerprint::{MAX_SITE_LEN, SITE_ID_RULE, fingerprint, is_site_id};
use super::shown::ShownHashes;
use super::{
    Category, Config, ConsentCookie, DEFAULT_LIFETIME_DAYS, Lifetimes, MAX_LIFETIME_DAYS, Service,
    ServiceName, builtin_keys,
};
use crate::consent_mode::Signal;
use crate::consent_mode_config::ConsentModeConfig;
use crate::cookie_decl::{self, CookieDecl, CookiePattern, Lifetime, SameSite};
use crate::id::{CategoryId, ServiceId};
use crate::lang::Lang;
use crate::localized::Localized;
use crate::state::{MAX_CATEGORIES, MAX_SERVICES, Revision};
use crate::texts::TextKey;
use crate::transfer::{Safeguard, Transfer};

const MAX_TEXT_LEN: usize = 4096;
const MAX_NAME_LEN: usize = 200;
const MAX_URL_LEN: usize = 2048;
const MAX_LIST: usize = 64;

/// One thing wrong with a config, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub(super) path: String,
    pub(super) kind: ProblemKind,
    pub(super) did_you_mean: Option<&'static str>,
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
    /// A config file longer than this many bytes ([`super::MAX_FILE_LEN`]).
    TooLarge(usize),
    /// A config whose every part is within its limits, but not all of them together: the
    /// compiled policy has no room for it.
    Compile(crate::compile::CompileError),
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
            ProblemKind::TooLarge(max) => {
                f.write_str("larger than ")?;
                f.write_str(crate::digits::Decimal::new(*max as u64).as_str())?;
                f.write_str(" bytes, more than any config holds: is this the config file?")
            }
            ProblemKind::Invalid(why) => f.write_str(why),
            ProblemKind::Id(e) => fmt::Display::fmt(e, f),
            ProblemKind::Cookie(e) => fmt::Display::fmt(e, f),
            ProblemKind::MissingTranslation => f.write_str("missing translation"),
            ProblemKind::Text(shape) => fmt::Display::fmt(shape, f),
            ProblemKind::Compile(e) => fmt::Display::fmt(e, f),
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
///     "revision: must be from 1 to 4294967295",
///     "categories[1].enabled_by_default: not allowed: only necessary may be on before the visitor decides",
/// ]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub(super) problems: Vec<Problem>,
}

impl ConfigError {
    /// The problems, in document order.
    #[must_use]
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// A document that is not JSON: one problem, of the whole document.
    pub(super) fn syntax(message: String) -> Self {
        Self::whole(ProblemKind::Syntax(message))
    }

    /// One problem, of the whole document.
    pub(super) fn whole(kind: ProblemKind) -> Self {
        ConfigError {
            problems: vec![Problem {
                path: String::new(),
                kind,
                did_you_mean: None,
            }],
        }
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
pub(super) struct Validator {
    pub(super) problems: Vec<Problem>,
    languages: Vec<Lang>,
}

// Paths are built without `format!`, whose machinery the browser build leaves out.
/// `path.key`. A key that is not letters, digits, `_` and `-` (an unknown field's, as the
/// config spells it) is written as a JSON string with its invisible characters escaped, so
/// that it reads as one name, `categories[0]."a.b"`, on one line: a newline in it would
/// otherwise print a line that reads as another problem, and an escape sequence would drive
/// the terminal.
fn join(path: &str, key: &str) -> String {
    let mut out = String::with_capacity(path.len() + 3 + key.len());
    out.push_str(path);
    if !path.is_empty() {
        out.push('.');
    }
    let plain = !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        out.push_str(key);
    } else {
        crate::json::push_quoted(&mut out, key);
    }
    out
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
        if !is_address(s) {
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

    pub(super) fn config(&mut self, value: &Value) -> Option<Config> {
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
                "must be from 1 to 4294967295",
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
        // Browsers refuse a `__Host-` cookie with a `Domain` or another `Path`, and any
        // prefixed cookie without `Secure`: every decision would be lost without a word. The
        // cookie line adds `Secure` for the prefixes as spelled here.
        let prefix = crate::compiled::secure_prefix(&cookie.name);
        let in_any_case = crate::compiled::SECURE_PREFIXES.iter().any(|p| {
            cookie
                .name
                .get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p))
        });
        if prefix.is_none() && in_any_case {
            ok = false;
            self.report(
                "cookie.name".into(),
                ProblemKind::Invalid("write the cookie name's prefix as __Secure- or __Host-"),
            );
        }
        if prefix == Some("__Host-") {
            if cookie.domain.is_some() {
                ok = false;
                self.report(
                    "cookie.domain".into(),
                    ProblemKind::Invalid(
                        "a cookie whose name starts with __Host- cannot have a domain (browsers refuse it)",
                    ),
                );
            }
            if &*cookie.path != "/" {
                ok = false;
                self.report(
                    "cookie.path".into(),
                    ProblemKind::Invalid(
                        "a cookie whose name starts with __Host- must have the path \"/\" (browsers refuse it otherwise)",
                    ),
                );
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

/// Whether `s` is an http(s) address with a host, or a path on this site. Browsers read a
/// backslash in such a URL as a slash, so a path starting `/\` leaves the site as `//` does.
fn is_address(s: &str) -> bool {
    match s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
    {
        Some(rest) => !rest.is_empty() && !rest.starts_with(['/', '\\', '?', '#']),
        None => s
            .strip_prefix('/')
            .is_some_and(|path| !path.starts_with(['/', '\\'])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Choices;

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
                services: crate::state::ServiceSet::EMPTY
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
            // Written as a server that routes them to the booking page reads them: a link
            // written so must not load the pixel there.
            ("/Ajanvaraus", true),
            ("/AJANVARAUS/vahvistus", true),
            ("//ajanvaraus", true),
            ("/sv//tidsbokning/", true),
            ("/%61janvaraus", true),
            ("/%61JANVARAUS%2Dx", false),
            ("/ajanvaraus%2Fx", true),
            ("/ajanvaraus%2", false),
            ("/ajanvaraus%", false),
            ("/%", false),
            ("/ajanvaraus%7e", false),
            ("/ajanvarau%73", true),
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
    fn a_host_prefixed_cookie_has_path_slash_and_no_domain() {
        let example = r#""cookie": {"name": "consent", "path": "/", "same_site": "lax"}"#;
        assert!(crate::EXAMPLE_CONFIG.contains(example));
        let with = |cookie: &str| {
            problems(&crate::EXAMPLE_CONFIG.replacen(example, &format!(r#""cookie": {cookie}"#), 1))
        };
        for name in [
            "__Host-consent",
            "__Secure-consent",
            "_Host-consent",
            "host-consent",
        ] {
            assert_eq!(with(&format!(r#"{{"name": "{name}"}}"#)), [""; 0], "{name}");
        }
        for name in ["__host-consent", "__SECURE-consent"] {
            assert_eq!(
                with(&format!(r#"{{"name": "{name}"}}"#)),
                ["cookie.name: write the cookie name's prefix as __Secure- or __Host-"],
                "{name}"
            );
        }
        assert_eq!(
            with(r#"{"name": "__Host-consent", "domain": "klinikka.fi", "path": "/ajanvaraus"}"#),
            [
                "cookie.domain: a cookie whose name starts with __Host- cannot have a domain (browsers refuse it)",
                "cookie.path: a cookie whose name starts with __Host- must have the path \"/\" (browsers refuse it otherwise)",
            ]
        );
        assert_eq!(
            with(r#"{"name": "__Host-consent", "path": "/x"}"#),
            [
                "cookie.path: a cookie whose name starts with __Host- must have the path \"/\" (browsers refuse it otherwise)"
            ]
        );
        // `__Secure-` binds only `Secure`, which the cookie line adds.
        assert_eq!(
            with(r#"{"name": "__Secure-consent", "domain": "klinikka.fi", "path": "/x"}"#),
            [""; 0]
        );
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
    fn an_address_on_this_site_stays_on_it_and_one_elsewhere_names_a_host() {
        // Browsers read a backslash in an http(s) URL as a slash: "/\evil.example" is
        // "//evil.example", another site, like the "//" the check already refused.
        let with = |address: &str| {
            crate::EXAMPLE_CONFIG
                .replacen(
                    r#""endpoint": "/consent""#,
                    &format!(r#""endpoint": "{address}""#),
                    1,
                )
                .replacen(
                    r#""fi": "/tietosuoja""#,
                    &format!(r#""fi": "{address}""#),
                    1,
                )
        };
        for address in [
            r"/\\evil.example",
            r"/\\/evil.example",
            "https://",
            "http:///x",
            "https://?x",
        ] {
            assert_eq!(
                problems(&with(address)),
                [
                    "privacy_notice.fi: expected an https:// or http:// address, or a path starting with /",
                    "endpoint: expected an https:// or http:// address, or a path starting with /",
                ],
                "{address}"
            );
        }
        for address in [
            "/consent/x",
            "/a\\\\b",
            "https://klinikka.fi/x",
            "http://localhost:8080",
        ] {
            assert_eq!(problems(&with(address)), Vec::<String>::new(), "{address}");
        }
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
    fn a_revision_out_of_range_says_the_range() {
        for revision in ["0", "4294967296", "18446744073709551615", "-1"] {
            let got =
                problems(&[r#"{"revision": "#, revision, r#", "privacy_notice": "/p"}"#].concat());
            assert_eq!(
                got.first().map(String::as_str),
                Some("revision: must be from 1 to 4294967295"),
                "{revision}"
            );
        }
    }

    #[test]
    fn an_unknown_fields_name_is_written_so_it_reads_as_one_name_on_one_line() {
        let got = problems(
            r#"{"revision": 1, "privacy_notice": "/p", "categories": [{"id": "necessary",
                "not\nfake.path: missing": 1, "\u001b]0;owned\u0007": 2,
                "colour\u202e": 3, "a.b": 4, "say \"hi\"": 5, "naïve": 6, "x-y_1": 7}],
                "texts": {"fi": {"\u200baccept_all": "Hyväksy"}}}"#,
        );
        assert_eq!(
            got,
            [
                "categories[0].\"\\u001b]0;owned\\u0007\": unknown field",
                "categories[0].\"a.b\": unknown field",
                "categories[0].\"colour\\u202e\": unknown field",
                "categories[0].\"naïve\": unknown field",
                "categories[0].\"not\\u000afake.path: missing\": unknown field",
                "categories[0].\"say \\\"hi\\\"\": unknown field",
                "categories[0].x-y_1: unknown field",
                "texts.fi.\"\\u200baccept_all\": unknown field; did you mean `accept_all`?",
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
