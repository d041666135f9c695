//! The cookie section of a privacy notice, generated from the config.
//!
//! The section a Finnish clinic puts in its tietosuojaseloste under "Evästeet": what cookies
//! are, each category with its purpose and legal basis, each service with its provider, the
//! servers it loads from and whether its data leaves the EU/EEA, each cookie with name,
//! domain, lifetime and purpose, how to withdraw consent, and the policy revision and date.
//! Made from the same [`Config`] the banner shows, so the notice and the banner cannot
//! disagree.
//!
//! ```
//! use consent_core::declaration::{Declaration, Format};
//! use consent_core::{Config, Lang};
//!
//! let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
//! let fi = Declaration::new(&config, Lang::Fi, None)?;
//! let html = fi.render(Format::Html);
//! assert!(html.starts_with(r#"<section class="consent-declaration" lang="fi">"#));
//! assert!(html.contains("<td>13 kuukautta</td>"));
//! assert!(html.contains("EU–US Data Privacy Framework"));
//! // The example config has its revision date; a config without one takes the caller's.
//! assert!(fi.render(Format::Markdown).contains("Evästekäytännön versio 1, päivitetty 1.11.2026."));
//! # Ok::<(), consent_core::Error>(())
//! ```
//!
//! | format | what | for |
//! | --- | --- | --- |
//! | [`Format::Html`] | a `<section>` with headings `h2`-`h4`, a `<dl>` per service and a `<table>` (with `caption` and `th scope`) per service's cookies; class names `consent-declaration*` to style | pasting into a notice, or the server's `GET /consent/declaration` |
//! | [`Format::Markdown`] | CommonMark with pipe tables | static site generators |
//! | [`Format::Json`] | the same content as data, with the config's codes (`13mo`, `dpf`) beside the words | rendering it yourself |
//!
//! Caveats:
//! 1. Text from the config is untrusted: HTML escapes it, Markdown backslash-escapes it, and
//!    only `http(s)://` addresses and paths (as config validation allows) become links.
//! 2. The core has no clock: the date is the config's `revision_date`, else the one the
//!    caller passes, else only the revision is shown.
//! 3. In HTML the "cookie settings" words are a `<button data-consent-open>`, which the banner
//!    turns into the control that reopens its preferences; without the banner it does nothing.

use crate::prelude::*;
mod html;
mod markdown;
mod phrases;

use core::fmt;
use core::str::FromStr;

use serde::{Serialize, Serializer};
use time::Date;

use crate::config::Config;
use crate::cookie_decl::Lifetime;
use crate::lang::Lang;
use crate::texts::{TextKey, Texts};
use crate::transfer::Safeguard;

use phrases::Phrase;

/// An output format of the declaration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// An HTML fragment, `<section class="consent-declaration">`.
    Html,
    /// CommonMark.
    Markdown,
    /// JSON data.
    Json,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 3] = [Format::Html, Format::Markdown, Format::Json];

    /// The short name: `html`, `md` or `json`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Markdown => "md",
            Format::Json => "json",
        }
    }

    /// The media type to serve it with.
    #[must_use]
    pub const fn content_type(self) -> &'static str {
        match self {
            Format::Html => "text/html; charset=utf-8",
            Format::Markdown => "text/markdown; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a format other than `html`, `md` (`markdown`) or `json`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseFormatError;

impl fmt::Display for ParseFormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown format: expected html, md (or markdown) or json")
    }
}

impl core::error::Error for ParseFormatError {}

impl FromStr for Format {
    type Err = ParseFormatError;

    /// `html`, `md` (or `markdown`) or `json`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "markdown" {
            return Ok(Format::Markdown);
        }
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or(ParseFormatError)
    }
}

/// Why a declaration cannot be made.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeclarationError {
    /// The config does not offer this language, so its own texts are not given in it.
    LanguageNotOffered {
        /// The language asked for.
        lang: Lang,
        /// The config's languages.
        offered: Vec<Lang>,
    },
}

impl fmt::Display for DeclarationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeclarationError::LanguageNotOffered { lang, offered } => {
                write!(f, "language {lang} is not one of the config's languages (")?;
                for (i, l) in offered.iter().enumerate() {
                    let sep = if i == 0 { "" } else { ", " };
                    write!(f, "{sep}{l}")?;
                }
                f.write_str(")")
            }
        }
    }
}

impl core::error::Error for DeclarationError {}

/// The cookie section of the privacy notice in one language, ready to render.
///
/// Serializing it gives [`Format::Json`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Declaration {
    lang: Lang,
    revision: u32,
    #[serde(serialize_with = "iso_date")]
    date: Option<Date>,
    title: String,
    intro: String,
    categories: Vec<CategoryDecl>,
    transfers: TransfersDecl,
    withdrawal: WithdrawalDecl,
    #[serde(skip_serializing_if = "Option::is_none")]
    wildcard_note: Option<String>,
    revision_text: String,
    labels: Labels,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct CategoryDecl {
    id: String,
    title: String,
    description: String,
    necessary: bool,
    legal_basis: String,
    services: Vec<ServiceDecl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    no_services: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct ServiceDecl {
    id: String,
    name: String,
    provider: String,
    purpose: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    privacy_url: Option<String>,
    hosts: Vec<String>,
    transfer: TransferDecl,
    cookies_caption: String,
    cookies: Vec<CookieRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    no_cookies: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct TransferDecl {
    outside_eea: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    safeguard: Option<Safeguard>,
    #[serde(skip_serializing_if = "Option::is_none")]
    countries: Option<String>,
    text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct CookieRow {
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<String>,
    domain_text: String,
    path: String,
    lifetime: Lifetime,
    lifetime_text: String,
    purpose: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct TransfersDecl {
    title: String,
    services: Vec<String>,
    text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct WithdrawalDecl {
    title: String,
    text: String,
    settings_label: String,
    consent_cookie: String,
    kept_for: String,
    remembered: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    record: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
struct Labels {
    cookie: String,
    domain: String,
    lifetime: String,
    purpose: String,
    provider: String,
    provider_privacy: String,
    hosts: String,
    transfer: String,
}

fn iso_date<S: Serializer>(date: &Option<Date>, serializer: S) -> Result<S::Ok, S::Error> {
    match date {
        Some(d) => serializer.collect_str(&IsoDate(*d)),
        None => serializer.serialize_none(),
    }
}

/// `YYYY-MM-DD`.
struct IsoDate(Date);

impl fmt::Display for IsoDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        write!(
            f,
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        )
    }
}

/// A date as a reader of `lang` writes it: `1.11.2026` in Finnish and Finland-Swedish,
/// `1 November 2026` in English.
fn local_date(date: Date, lang: Lang) -> String {
    match lang {
        Lang::Fi | Lang::Sv => format!("{}.{}.{}", date.day(), u8::from(date.month()), date.year()),
        Lang::En => format!("{} {} {}", date.day(), date.month(), date.year()),
    }
}

/// Calls `text` with each literal part of `template` and `arg` with each `{name}` in it.
fn fill<O>(
    template: &str,
    out: &mut O,
    mut text: impl FnMut(&mut O, &str),
    mut arg: impl FnMut(&mut O, &str),
) {
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        text(out, &rest[..open]);
        arg(out, &rest[open + 1..open + close]);
        rest = &rest[open + close + 1..];
    }
    text(out, rest);
}

/// `template` with each `{name}` replaced by its value in `args`.
fn fill_plain(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    fill(
        template,
        &mut out,
        |o, t| o.push_str(t),
        |o, name| {
            let value = args.iter().find(|(n, _)| *n == name).map_or("", |(_, v)| v);
            o.push_str(value);
        },
    );
    out
}

/// Names joined as a reader of `lang` lists them: "A, B ja C".
fn list(names: &[String], lang: Lang) -> String {
    let and = match lang {
        Lang::Fi => " ja ",
        Lang::Sv => " och ",
        Lang::En => " and ",
    };
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{}{and}{last}", init.join(", ")),
    }
}

impl Declaration {
    /// Makes the declaration of `config` in `lang`.
    ///
    /// `date` is shown as the revision's date when the config has no `revision_date`.
    ///
    /// # Errors
    /// [`DeclarationError::LanguageNotOffered`] when `lang` is not one of the config's
    /// languages: its purposes and descriptions are not given in it.
    pub fn new(config: &Config, lang: Lang, date: Option<Date>) -> Result<Self, DeclarationError> {
        if !config.languages().contains(&lang) {
            return Err(DeclarationError::LanguageNotOffered {
                lang,
                offered: config.languages().to_vec(),
            });
        }
        let texts = config.texts(lang);
        let p = |phrase: Phrase| phrase.get(lang).to_owned();
        let categories: Vec<CategoryDecl> = config
            .categories()
            .iter()
            .map(|c| CategoryDecl {
                id: c.id().as_str().to_owned(),
                title: c.title(&texts).to_owned(),
                description: c.description(&texts).to_owned(),
                necessary: c.is_necessary(),
                legal_basis: p(if c.is_necessary() {
                    Phrase::BasisNecessary
                } else {
                    Phrase::BasisConsent
                }),
                services: c
                    .services()
                    .iter()
                    .map(|s| service(s, lang, &texts))
                    .collect(),
                no_services: c.services().is_empty().then(|| p(Phrase::NoServices)),
            })
            .collect();
        let transferring: Vec<String> = categories
            .iter()
            .flat_map(|c| &c.services)
            .filter(|s| s.transfer.outside_eea)
            .map(|s| format!("{} ({})", s.name, s.provider))
            .collect();
        let transfers_text = if transferring.is_empty() {
            p(Phrase::TransfersNone)
        } else {
            fill_plain(
                Phrase::TransfersSome.get(lang),
                &[("services", &list(&transferring, lang))],
            )
        };
        let wildcard = categories
            .iter()
            .flat_map(|c| &c.services)
            .flat_map(|s| &s.cookies)
            .any(|c| c.name.contains('*'));
        let date = config.revision_date().or(date);
        let revision = config.revision().get();
        Ok(Declaration {
            lang,
            revision,
            date,
            title: p(Phrase::Title),
            intro: p(Phrase::Intro),
            categories,
            transfers: TransfersDecl {
                title: p(Phrase::TransferLabel),
                services: transferring,
                text: transfers_text,
            },
            withdrawal: withdrawal(config, lang, &texts),
            wildcard_note: wildcard.then(|| p(Phrase::WildcardNote)),
            revision_text: revision_text(revision, date, lang),
            labels: Labels {
                cookie: texts.get(TextKey::CookieName).to_owned(),
                domain: texts.get(TextKey::CookieDomain).to_owned(),
                lifetime: texts.get(TextKey::CookieLifetime).to_owned(),
                purpose: texts.get(TextKey::CookiePurpose).to_owned(),
                provider: texts.get(TextKey::Provider).to_owned(),
                provider_privacy: texts.get(TextKey::ProviderPrivacy).to_owned(),
                hosts: p(Phrase::Hosts),
                transfer: p(Phrase::TransferLabel),
            },
        })
    }

    /// The language it is written in.
    #[must_use]
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The revision's date shown: the config's, else the one given to [`Declaration::new`].
    #[must_use]
    pub fn date(&self) -> Option<Date> {
        self.date
    }

    /// Renders it in `format`.
    #[must_use]
    pub fn render(&self, format: Format) -> String {
        match format {
            Format::Html => html::render(self),
            Format::Markdown => markdown::render(self),
            Format::Json => self.to_json(),
        }
    }

    /// The declaration as JSON: pretty-printed with the `serde_json` feature (the default),
    /// compact without it (the browser build).
    #[must_use]
    pub fn to_json(&self) -> String {
        // Serializing these types cannot fail: string keys only, no floats.
        #[cfg(feature = "serde_json")]
        let json = serde_json::to_string_pretty(self);
        #[cfg(not(feature = "serde_json"))]
        let json = crate::json_write::to_string(self);
        json.unwrap_or_default()
    }
}

fn service(s: &crate::config::Service, lang: Lang, texts: &Texts<'_>) -> ServiceDecl {
    let t = s.transfer();
    let mut transfer_text = String::new();
    if t.outside_eea() {
        transfer_text.push_str(Phrase::TransferYes.get(lang));
        if let Some(countries) = t.countries() {
            transfer_text.push(' ');
            transfer_text.push_str(&fill_plain(
                Phrase::TransferCountries.get(lang),
                &[("countries", countries.get(lang))],
            ));
        }
        if let Some(g) = t.safeguard() {
            let phrase = match g {
                Safeguard::Dpf => Phrase::SafeguardDpf,
                Safeguard::Adequacy => Phrase::SafeguardAdequacy,
                Safeguard::Scc => Phrase::SafeguardScc,
                Safeguard::Bcr => Phrase::SafeguardBcr,
            };
            transfer_text.push(' ');
            transfer_text.push_str(phrase.get(lang));
        }
    } else {
        transfer_text.push_str(Phrase::TransferNone.get(lang));
    }
    ServiceDecl {
        id: s.id().as_str().to_owned(),
        name: s.name(lang).to_owned(),
        provider: s.provider().to_owned(),
        purpose: s.purpose().get(lang).to_owned(),
        privacy_url: s.privacy_url().map(str::to_owned),
        hosts: s.hosts().iter().map(|h| h.to_string()).collect(),
        transfer: TransferDecl {
            outside_eea: t.outside_eea(),
            safeguard: t.safeguard(),
            countries: t.countries().map(|c| c.get(lang).to_owned()),
            text: transfer_text,
        },
        cookies_caption: fill_plain(Phrase::CookiesOf.get(lang), &[("service", s.name(lang))]),
        cookies: s
            .cookies()
            .iter()
            .map(|c| CookieRow {
                name: c.name().as_str().to_owned(),
                domain: c.domain().map(str::to_owned),
                domain_text: c
                    .domain()
                    .map_or_else(|| Phrase::OwnDomain.get(lang).to_owned(), str::to_owned),
                path: c.path().to_owned(),
                lifetime: c.lifetime(),
                lifetime_text: texts.lifetime(c.lifetime()),
                purpose: c.description().get(lang).to_owned(),
            })
            .collect(),
        no_cookies: s
            .cookies()
            .is_empty()
            .then(|| Phrase::NoCookies.get(lang).to_owned()),
    }
}

fn withdrawal(config: &Config, lang: Lang, texts: &Texts<'_>) -> WithdrawalDecl {
    let settings = texts.get(TextKey::OpenPreferences);
    let lifetimes = config.lifetimes();
    let accept = texts.lifetime(Lifetime::Days(lifetimes.accept_days()));
    let kept_for = if lifetimes.accept_days() == lifetimes.refuse_days() {
        accept
    } else {
        let refuse = texts.lifetime(Lifetime::Days(lifetimes.refuse_days()));
        fill_plain(
            Phrase::DaysSplit.get(lang),
            &[("accept", &accept), ("refuse", &refuse)],
        )
    };
    let cookie = config.cookie().name();
    WithdrawalDecl {
        title: Phrase::WithdrawalTitle.get(lang).to_owned(),
        text: fill_plain(Phrase::Withdrawal.get(lang), &[("settings", settings)]),
        settings_label: settings.to_owned(),
        consent_cookie: cookie.to_owned(),
        remembered: fill_plain(
            Phrase::Remembered.get(lang),
            &[("cookie", cookie), ("days", &kept_for)],
        ),
        kept_for,
        record: config
            .endpoint()
            .map(|_| Phrase::Record.get(lang).to_owned()),
    }
}

fn revision_text(revision: u32, date: Option<Date>, lang: Lang) -> String {
    let revision = revision.to_string();
    match date {
        Some(d) => fill_plain(
            Phrase::RevisionDated.get(lang),
            &[("revision", &revision), ("date", &local_date(d, lang))],
        ),
        None => fill_plain(Phrase::Revision.get(lang), &[("revision", &revision)]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Month;

    fn example() -> Config {
        Config::from_json(crate::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"))
    }

    #[test]
    fn format_round_trips() {
        for f in Format::ALL {
            assert_eq!(f.to_string().parse::<Format>(), Ok(f));
        }
        assert_eq!(
            "markdown".parse::<Format>(),
            Ok(Format::Markdown),
            "the long name too"
        );
        assert_eq!("Markdown".parse::<Format>(), Err(ParseFormatError));
        assert_eq!("pdf".parse::<Format>(), Err(ParseFormatError));
    }

    #[test]
    fn fill_replaces_placeholders_and_keeps_unclosed_braces() {
        assert_eq!(
            fill_plain("a {x} b {y}.", &[("x", "1"), ("y", "2")]),
            "a 1 b 2."
        );
        assert_eq!(fill_plain("{x}", &[("x", "<")]), "<");
        assert_eq!(fill_plain("a {b", &[]), "a {b");
    }

    #[test]
    fn lists_read_naturally() {
        let names = ["A".to_owned(), "B".to_owned(), "C".to_owned()];
        assert_eq!(list(&names, Lang::Fi), "A, B ja C");
        assert_eq!(list(&names[..2], Lang::Sv), "A och B");
        assert_eq!(list(&names[..1], Lang::En), "A");
    }

    #[test]
    fn dates_per_language() {
        let d =
            Date::from_calendar_date(2026, Month::March, 5).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(local_date(d, Lang::Fi), "5.3.2026");
        assert_eq!(local_date(d, Lang::Sv), "5.3.2026");
        assert_eq!(local_date(d, Lang::En), "5 March 2026");
        assert_eq!(IsoDate(d).to_string(), "2026-03-05");
    }

    #[test]
    fn the_configs_date_wins_over_the_callers() {
        let config = example();
        let given = Date::from_calendar_date(2030, Month::January, 1).ok();
        let d = Declaration::new(&config, Lang::Fi, given).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(d.date(), config.revision_date());
        let mut v: serde_json::Value =
            serde_json::from_str(crate::EXAMPLE_CONFIG).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.remove("revision_date");
            o.remove("endpoint");
        }
        let undated = Config::from_value(&v).unwrap_or_else(|e| unreachable!("{e}"));
        let d = Declaration::new(&undated, Lang::En, given).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            d.revision_text,
            "Cookie policy version 1, updated 1 January 2030."
        );
        assert_eq!(
            d.withdrawal.record, None,
            "no endpoint, no consent log to mention"
        );
        let d = Declaration::new(&undated, Lang::Sv, None).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(d.revision_text, "Kakpolicyns version 1.");
    }

    #[test]
    fn a_language_the_config_does_not_offer_is_refused() {
        let config = Config::from_json(
            r#"{"revision": 1, "privacy_notice": "/p", "languages": ["fi", "en"],
                "categories": [{"id": "necessary"}]}"#,
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let err = Declaration::new(&config, Lang::Sv, None).err();
        assert_eq!(
            err.map(|e| e.to_string()).as_deref(),
            Some("language sv is not one of the config's languages (fi, en)")
        );
    }

    #[test]
    fn split_lifetimes_and_empty_categories() {
        let config = Config::from_json(
            r#"{"revision": 2, "privacy_notice": "/p", "languages": ["fi"],
                "lifetime": {"accept_days": 182, "refuse_days": 30},
                "categories": [{"id": "necessary"}, {"id": "analytics"}]}"#,
        )
        .unwrap_or_else(|e| unreachable!("{e}"));
        let d = Declaration::new(&config, Lang::Fi, None).unwrap_or_else(|e| unreachable!("{e}"));
        assert_eq!(
            d.withdrawal.kept_for,
            "182 päivää, jos sallit evästeitä, ja 30 päivää, jos kieltäydyt niistä"
        );
        assert_eq!(
            d.categories[1].no_services.as_deref(),
            Some("Tähän ryhmään ei tällä hetkellä kuulu palveluita.")
        );
        assert_eq!(d.transfers.text, Phrase::TransfersNone.get(Lang::Fi));
        assert_eq!(d.wildcard_note, None);
    }
}
