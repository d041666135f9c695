//! The banner's texts for one language, as data: what a static site serves beside its
//! [compiled policy](crate::compiled), one file per language, so that a first visit loads
//! only the page's language and a returning visitor with a valid decision loads none.
//!
//! It holds every string the banner draws in that language, overrides applied: the
//! interface texts it draws ([`BANNER_KEYS`]), the privacy notice's address, and each category with its
//! services and their cookies (lifetimes written out in the language). The policy's positions
//! are the bundle's: the n-th category here is the n-th of the policy.

use crate::prelude::*;

use serde::Serialize;

use crate::config::Config;
use crate::lang::Lang;
use crate::texts::TextKey;

#[derive(Serialize)]
struct Bundle<'a> {
    lang: &'a str,
    revision: u32,
    langs: Vec<LangName>,
    t: Texts<'a>,
    privacy: &'a str,
    categories: Vec<CategoryTexts<'a>>,
}

#[derive(Serialize)]
struct LangName {
    code: &'static str,
    name: &'static str,
}

/// The interface texts the banner's script draws (`wasm/js/banner.js`), and only those: the
/// rest (the lifetimes' templates, the categories' built-in titles, the no-JavaScript
/// layer's) are already applied here or drawn by the server, and every first visit downloads
/// this file.
pub const BANNER_KEYS: &[TextKey] = &[
    TextKey::BannerLabel,
    TextKey::BannerTitle,
    TextKey::BannerDescription,
    TextKey::AcceptAll,
    TextKey::RejectAll,
    TextKey::Settings,
    TextKey::PrivacyNotice,
    TextKey::PreferencesTitle,
    TextKey::PreferencesDescription,
    TextKey::Save,
    TextKey::Close,
    TextKey::AlwaysOn,
    TextKey::Services,
    TextKey::CookieName,
    TextKey::CookieLifetime,
    TextKey::CookiePurpose,
    TextKey::Provider,
    TextKey::ProviderPrivacy,
    TextKey::Saved,
    TextKey::GpcNotice,
    TextKey::PlaceholderText,
    TextKey::PlaceholderCategoryText,
    TextKey::PlaceholderButton,
    TextKey::ConsentId,
    TextKey::Language,
];

/// The interface texts as an object keyed by [`TextKey::as_str`]: [`BANNER_KEYS`].
struct Texts<'a>(crate::texts::Texts<'a>);

impl Serialize for Texts<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(BANNER_KEYS.len()))?;
        for key in BANNER_KEYS {
            map.serialize_entry(key.as_str(), self.0.get(*key))?;
        }
        map.end()
    }
}

#[derive(Serialize)]
struct CategoryTexts<'a> {
    id: &'a str,
    title: &'a str,
    description: &'a str,
    necessary: bool,
    services: Vec<ServiceTexts<'a>>,
}

#[derive(Serialize)]
struct ServiceTexts<'a> {
    id: &'a str,
    name: &'a str,
    provider: &'a str,
    purpose: &'a str,
    privacy: Option<&'a str>,
    cookies: Vec<CookieTexts<'a>>,
}

#[derive(Serialize)]
struct CookieTexts<'a> {
    name: &'a str,
    lifetime: String,
    purpose: &'a str,
}

/// The banner's texts in `lang` as compact JSON.
///
/// # Example
/// ```
/// let config = consent_core::Config::from_json(consent_core::EXAMPLE_CONFIG)?;
/// let sv = consent_core::bundle::texts_json(&config, consent_core::Lang::Sv);
/// assert!(sv.starts_with(r#"{"lang":"sv","revision":1,"#));
/// assert!(sv.contains(r#""reject_all":"Avvisa alla""#));
/// # Ok::<(), consent_core::ConfigError>(())
/// ```
#[must_use]
pub fn texts_json(config: &Config, lang: Lang) -> String {
    let t = config.texts(lang);
    let bundle = Bundle {
        lang: lang.as_str(),
        revision: config.revision().get(),
        langs: config
            .languages()
            .iter()
            .map(|l| LangName {
                code: l.as_str(),
                name: l.native_name(),
            })
            .collect(),
        t: Texts(config.texts(lang)),
        privacy: config.privacy_notice(lang),
        categories: config
            .categories()
            .iter()
            .map(|c| CategoryTexts {
                id: c.id().as_str(),
                title: c.title(&t),
                description: c.description(&t),
                necessary: c.is_necessary(),
                services: c
                    .services()
                    .iter()
                    .map(|s| ServiceTexts {
                        id: s.id().as_str(),
                        name: s.name(lang),
                        provider: s.provider(),
                        purpose: s.purpose().get(lang),
                        privacy: s.privacy_url(),
                        cookies: s
                            .cookies()
                            .iter()
                            .map(|k| CookieTexts {
                                name: k.name().as_str(),
                                lifetime: t.lifetime(k.lifetime()),
                                purpose: k.description().get(lang),
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    };
    // Only strings, bools, numbers, options, sequences and maps: nothing the writer refuses.
    crate::json_write::to_string(&bundle).unwrap_or_default()
}

/// The name of the compiled policy among a site's banner files.
pub const POLICY_FILE: &str = "policy.bin";

/// The name of the texts of `lang` among a site's banner files: `texts-fi.json`.
#[must_use]
pub fn texts_file(lang: Lang) -> String {
    format!("texts-{}.json", lang.as_str())
}

/// Every file a site serves for its banner beside `dist/`, by name: the compiled policy
/// ([`POLICY_FILE`]) and the texts of each language the config offers ([`texts_file`]).
/// `consent banner build` writes them; `consent serve` serves them under `/consent/`.
///
/// # Errors
/// A [`CompileError`](crate::compile::CompileError) when the config does not fit the format.
///
/// # Example
/// ```
/// let config = consent_core::Config::from_json(consent_core::EXAMPLE_CONFIG)?;
/// let names: Vec<String> = consent_core::bundle::files(&config)?.into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names, ["policy.bin", "texts-fi.json", "texts-sv.json", "texts-en.json"]);
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
pub fn files(config: &Config) -> Result<Vec<(String, Vec<u8>)>, crate::compile::CompileError> {
    let mut files = vec![(POLICY_FILE.to_owned(), crate::compile::compile(config)?)];
    for lang in config.languages() {
        files.push((texts_file(*lang), texts_json(config, *lang).into_bytes()));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_language_has_the_banners_texts_and_every_category_in_policy_order() {
        let config =
            Config::from_json(crate::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"));
        for lang in config.languages() {
            let text = texts_json(&config, *lang);
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(v["lang"], lang.as_str());
            for key in BANNER_KEYS {
                assert_eq!(
                    v["t"][key.as_str()],
                    config.texts(*lang).get(*key),
                    "{key:?}"
                );
            }
            let keys = v["t"].as_object().map_or(0, serde_json::Map::len);
            assert_eq!(keys, BANNER_KEYS.len(), "only what the banner draws");
            let ids: Vec<&str> = v["categories"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap())
                .collect();
            let want: Vec<&str> = config
                .categories()
                .iter()
                .map(|c| c.id().as_str())
                .collect();
            assert_eq!(ids, want);
            let cookie = &v["categories"][1]["services"][0]["cookies"][0];
            assert!(
                cookie["lifetime"].as_str().is_some_and(|l| !l.is_empty()),
                "{cookie}"
            );
        }
        assert_ne!(texts_json(&config, Lang::Fi), texts_json(&config, Lang::En));
    }
}
