//! The banner's texts for one language, as data: what a static site serves beside its
//! [compiled policy](crate::compiled), two files per language, so that a first visit loads
//! only what the first layer draws in the page's language, and a returning visitor with a
//! valid decision loads nothing.
//!
//! Every string the banner draws in a language, overrides applied, is in one of the two:
//! - the first layer's texts ([`texts_file`]: [`FIRST_LAYER_KEYS`] and the privacy notice's
//!   address), which every first visit loads;
//! - the details ([`details_file`]: the rest of the interface texts, [`DETAILS_KEYS`], the
//!   languages offered, and each category with its services and their cookies, lifetimes
//!   written out in the language), which only the preferences and an embed's placeholder
//!   draw, loaded when one of them is drawn.
//!
//! The policy's positions are the details': the n-th category there is the n-th of the
//! policy.

use crate::prelude::*;

use serde::Serialize;

use crate::config::Config;
use crate::lang::Lang;
use crate::texts::TextKey;

/// The first layer's file.
#[derive(Serialize)]
struct FirstLayer<'a> {
    lang: &'a str,
    revision: u32,
    t: Texts<'a>,
    privacy: &'a str,
}

/// The details' file.
#[derive(Serialize)]
struct Details<'a> {
    lang: &'a str,
    revision: u32,
    langs: Vec<LangName>,
    t: Texts<'a>,
    categories: Vec<CategoryTexts<'a>>,
}

#[derive(Serialize)]
struct LangName {
    code: &'static str,
    name: &'static str,
}

/// The interface texts the banner's script draws (`wasm/js/banner.js`) in its first layer
/// (and as the floating button's label, and after a decision); every first visit downloads
/// them. The other texts the script draws are [`DETAILS_KEYS`]; the rest (the lifetimes'
/// templates, the categories' built-in titles, the no-JavaScript layer's) are already
/// applied in the files or drawn by the server.
pub const FIRST_LAYER_KEYS: &[TextKey] = &[
    TextKey::BannerLabel,
    TextKey::BannerTitle,
    TextKey::BannerDescription,
    TextKey::AcceptAll,
    TextKey::RejectAll,
    TextKey::Settings,
    TextKey::PrivacyNotice,
    TextKey::PreferencesTitle,
    TextKey::Saved,
    TextKey::GpcNotice,
];

/// The interface texts only the preferences and an embed's placeholder draw.
pub const DETAILS_KEYS: &[TextKey] = &[
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
    TextKey::PlaceholderText,
    TextKey::PlaceholderCategoryText,
    TextKey::PlaceholderButton,
    TextKey::ConsentId,
    TextKey::Language,
];

/// Interface texts as an object keyed by [`TextKey::as_str`]: those of the keys given.
struct Texts<'a>(crate::texts::Texts<'a>, &'static [TextKey]);

impl Serialize for Texts<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.1.len()))?;
        for key in self.1 {
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

/// The first layer's texts in `lang` as compact JSON.
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
    let file = FirstLayer {
        lang: lang.as_str(),
        revision: config.revision().get(),
        t: Texts(config.texts(lang), FIRST_LAYER_KEYS),
        privacy: config.privacy_notice(lang),
    };
    // Only strings and numbers: nothing the writer refuses.
    crate::json_write::to_string(&file).unwrap_or_default()
}

/// The details in `lang` as compact JSON: what the preferences and an embed's placeholder
/// draw besides the first layer's texts.
///
/// # Example
/// ```
/// let config = consent_core::Config::from_json(consent_core::EXAMPLE_CONFIG)?;
/// let en = consent_core::bundle::details_json(&config, consent_core::Lang::En);
/// assert!(en.contains(r#""categories":[{"id":"necessary","#));
/// # Ok::<(), consent_core::ConfigError>(())
/// ```
#[must_use]
pub fn details_json(config: &Config, lang: Lang) -> String {
    let t = config.texts(lang);
    let bundle = Details {
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
        t: Texts(config.texts(lang), DETAILS_KEYS),
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

/// The name of the details of `lang` among a site's banner files: `details-fi.json`.
#[must_use]
pub fn details_file(lang: Lang) -> String {
    format!("details-{}.json", lang.as_str())
}

/// Every file a site serves for its banner beside `dist/`, by name: the compiled policy
/// ([`POLICY_FILE`]), then the first layer's texts ([`texts_file`]) and the details
/// ([`details_file`]) of each language the config offers.
/// `consent banner build` writes them; `consent serve` serves them under `/consent/`.
///
/// # Errors
/// A [`CompileError`](crate::compile::CompileError) when the config does not fit the format.
///
/// # Example
/// ```
/// let config = consent_core::Config::from_json(consent_core::EXAMPLE_CONFIG)?;
/// let names: Vec<String> = consent_core::bundle::files(&config)?.into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names[..3], ["policy.bin", "texts-fi.json", "details-fi.json"]);
/// assert_eq!(names.len(), 7);
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
pub fn files(config: &Config) -> Result<Vec<(String, Vec<u8>)>, crate::compile::CompileError> {
    let mut files = vec![(POLICY_FILE.to_owned(), crate::compile::compile(config)?)];
    for lang in config.languages() {
        files.push((texts_file(*lang), texts_json(config, *lang).into_bytes()));
        files.push((
            details_file(*lang),
            details_json(config, *lang).into_bytes(),
        ));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_language_has_the_banners_texts_once_and_every_category_in_policy_order() {
        let config =
            Config::from_json(crate::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"));
        for lang in config.languages() {
            let first: serde_json::Value =
                serde_json::from_str(&texts_json(&config, *lang)).unwrap();
            let details: serde_json::Value =
                serde_json::from_str(&details_json(&config, *lang)).unwrap();
            for v in [&first, &details] {
                assert_eq!(v["lang"], lang.as_str());
                assert_eq!(v["revision"], config.revision().get());
            }
            for (v, keys) in [(&first, FIRST_LAYER_KEYS), (&details, DETAILS_KEYS)] {
                for key in keys {
                    assert_eq!(
                        v["t"][key.as_str()],
                        config.texts(*lang).get(*key),
                        "{key:?}"
                    );
                }
                let n = v["t"].as_object().map_or(0, serde_json::Map::len);
                assert_eq!(n, keys.len(), "only what the banner draws");
            }
            // Each text in one file: the script merges the two.
            assert!(FIRST_LAYER_KEYS.iter().all(|k| !DETAILS_KEYS.contains(k)));
            assert_eq!(first["privacy"], config.privacy_notice(*lang));
            assert!(
                first.get("categories").is_none(),
                "a first visit loads no details"
            );
            let ids: Vec<&str> = details["categories"]
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
            let cookie = &details["categories"][1]["services"][0]["cookies"][0];
            assert!(
                cookie["lifetime"].as_str().is_some_and(|l| !l.is_empty()),
                "{cookie}"
            );
        }
        assert_ne!(texts_json(&config, Lang::Fi), texts_json(&config, Lang::En));
    }
}
