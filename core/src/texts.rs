//! Every string the banner and the preferences dialog show, in Finnish, Swedish and English.
//!
//! Built-in texts are written for a Finnish clinic's visitors: plain, polite, second person
//! singular in Finnish and Swedish (as Finnish public services write), no legalese. A config
//! overrides any of them per language (see [`Config`](crate::Config)); [`Texts`] resolves the
//! override first, then the built-in text.

use crate::prelude::*;
use core::fmt;
use core::str::FromStr;

use serde::{Serialize, Serializer};

use crate::cookie_decl::Lifetime;
use crate::lang::Lang;

macro_rules! texts {
    ($($(#[$doc:meta])* $key:ident $name:literal { fi: $fi:literal, sv: $sv:literal, en: $en:literal $(,)? })*) => {
        /// The key of one user-visible string.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum TextKey {
            $($(#[$doc])* $key,)*
        }

        impl TextKey {
            /// Every key, in the order used for hashing the texts shown.
            pub const ALL: &'static [TextKey] = &[$(TextKey::$key,)*];

            /// The snake_case name used in config overrides.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(TextKey::$key => $name,)*
                }
            }

            /// The built-in text for this key in `lang`.
            #[must_use]
            pub const fn builtin(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $(
                        (TextKey::$key, Lang::Fi) => $fi,
                        (TextKey::$key, Lang::Sv) => $sv,
                        (TextKey::$key, Lang::En) => $en,
                    )*
                }
            }
        }

        impl FromStr for TextKey {
            type Err = UnknownTextKey;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok(TextKey::$key),)*
                    _ => Err(UnknownTextKey),
                }
            }
        }
    };
}

texts! {
    /// Accessible name of the first layer.
    BannerLabel "banner_label" {
        fi: "Evästeilmoitus",
        sv: "Meddelande om kakor",
        en: "Cookie notice",
    }
    /// Heading of the first layer.
    BannerTitle "banner_title" {
        fi: "Evästeet ja yksityisyytesi",
        sv: "Kakor och din integritet",
        en: "Cookies and your privacy",
    }
    /// Body of the first layer. The built-in text names the optional categories the config
    /// has ([`Texts::get`] picks it; this one is for a config with `analytics` and
    /// `marketing`).
    BannerDescription "banner_description" {
        fi: "Käytämme välttämättömiä evästeitä, jotta sivusto toimii. Haluaisimme käyttää myös analytiikka- ja markkinointievästeitä sivuston kehittämiseen ja mainontaan, mutta vain, jos annat siihen luvan. Voit muuttaa valintaasi milloin tahansa.",
        sv: "Vi använder nödvändiga kakor för att webbplatsen ska fungera. Vi vill också använda kakor för analys och marknadsföring för att utveckla webbplatsen och för annonsering, men bara om du godkänner det. Du kan ändra ditt val när som helst.",
        en: "We use necessary cookies to make this site work. We would also like to use analytics and marketing cookies to improve the site and for advertising, but only if you allow it. You can change your choice at any time.",
    }
    /// Button that grants every category.
    AcceptAll "accept_all" {
        fi: "Hyväksy kaikki",
        sv: "Godkänn alla",
        en: "Accept all",
    }
    /// Button that refuses every category but necessary.
    RejectAll "reject_all" {
        fi: "Hylkää kaikki",
        sv: "Avvisa alla",
        en: "Reject all",
    }
    /// First-layer button that opens the preferences.
    Settings "settings" {
        fi: "Asetukset",
        sv: "Inställningar",
        en: "Settings",
    }
    /// Link to the site's privacy notice.
    PrivacyNotice "privacy_notice" {
        fi: "Tietosuojaseloste",
        sv: "Dataskyddsbeskrivning",
        en: "Privacy notice",
    }
    /// Heading of the preferences dialog.
    PreferencesTitle "preferences_title" {
        fi: "Evästeasetukset",
        sv: "Inställningar för kakor",
        en: "Cookie settings",
    }
    /// Body of the preferences dialog.
    PreferencesDescription "preferences_description" {
        fi: "Valitse, mihin tarkoituksiin sallit evästeiden käytön. Välttämättömät evästeet ovat aina käytössä, koska sivusto ei toimi ilman niitä. Voit muuttaa valintojasi milloin tahansa evästeasetuksista.",
        sv: "Välj för vilka ändamål du tillåter kakor. Nödvändiga kakor används alltid, eftersom webbplatsen inte fungerar utan dem. Du kan när som helst ändra dina val i inställningarna för kakor.",
        en: "Choose which purposes you allow cookies for. Necessary cookies are always on, because the site cannot work without them. You can change your choices at any time in the cookie settings.",
    }
    /// Button that saves the choices made in the preferences.
    Save "save" {
        fi: "Tallenna valinnat",
        sv: "Spara mina val",
        en: "Save choices",
    }
    /// Button that closes the preferences without deciding.
    Close "close" {
        fi: "Sulje",
        sv: "Stäng",
        en: "Close",
    }
    /// Label of the locked switch of the necessary category.
    AlwaysOn "always_on" {
        fi: "Aina käytössä",
        sv: "Alltid på",
        en: "Always on",
    }
    /// Heading of a category's list of services.
    Services "services" {
        fi: "Palvelut",
        sv: "Tjänster",
        en: "Services",
    }
    /// Control that expands a category's services and cookies.
    ShowDetails "show_details" {
        fi: "Näytä tiedot",
        sv: "Visa detaljer",
        en: "Show details",
    }
    /// Control that collapses them again.
    HideDetails "hide_details" {
        fi: "Piilota tiedot",
        sv: "Dölj detaljer",
        en: "Hide details",
    }
    /// Column heading: cookie name.
    CookieName "cookie_name" {
        fi: "Eväste",
        sv: "Kaka",
        en: "Cookie",
    }
    /// Column heading: cookie domain.
    CookieDomain "cookie_domain" {
        fi: "Verkkotunnus",
        sv: "Domän",
        en: "Domain",
    }
    /// Column heading: how long the cookie is kept.
    CookieLifetime "cookie_lifetime" {
        fi: "Säilytysaika",
        sv: "Lagringstid",
        en: "Lifetime",
    }
    /// Column heading: what the cookie is for.
    CookiePurpose "cookie_purpose" {
        fi: "Käyttötarkoitus",
        sv: "Ändamål",
        en: "Purpose",
    }
    /// Label before a service's provider.
    Provider "provider" {
        fi: "Palveluntarjoaja",
        sv: "Leverantör",
        en: "Provider",
    }
    /// Link to a provider's privacy policy.
    ProviderPrivacy "provider_privacy" {
        fi: "Palveluntarjoajan tietosuojaseloste",
        sv: "Leverantörens integritetspolicy",
        en: "Provider's privacy policy",
    }
    /// Lifetime of a session cookie.
    LifetimeSession "lifetime_session" {
        fi: "Selainistunnon ajan",
        sv: "Tills webbläsaren stängs",
        en: "Until the browser is closed",
    }
    /// Lifetime of one day; `{n}` is the number.
    LifetimeDay "lifetime_day" {
        fi: "{n} päivä",
        sv: "{n} dag",
        en: "{n} day",
    }
    /// Lifetime of several days; `{n}` is the number.
    LifetimeDays "lifetime_days" {
        fi: "{n} päivää",
        sv: "{n} dagar",
        en: "{n} days",
    }
    /// Lifetime of one month; `{n}` is the number.
    LifetimeMonth "lifetime_month" {
        fi: "{n} kuukausi",
        sv: "{n} månad",
        en: "{n} month",
    }
    /// Lifetime of several months; `{n}` is the number.
    LifetimeMonths "lifetime_months" {
        fi: "{n} kuukautta",
        sv: "{n} månader",
        en: "{n} months",
    }
    /// Lifetime of one year; `{n}` is the number.
    LifetimeYear "lifetime_year" {
        fi: "{n} vuosi",
        sv: "{n} år",
        en: "{n} year",
    }
    /// Lifetime of several years; `{n}` is the number.
    LifetimeYears "lifetime_years" {
        fi: "{n} vuotta",
        sv: "{n} år",
        en: "{n} years",
    }
    /// Title of the strictly necessary category.
    NecessaryTitle "necessary_title" {
        fi: "Välttämättömät",
        sv: "Nödvändiga",
        en: "Necessary",
    }
    /// What the strictly necessary category is, and why it cannot be switched off.
    NecessaryDescription "necessary_description" {
        fi: "Nämä evästeet tarvitaan sivuston perustoimintoihin, kuten tietoturvaan ja evästevalintojesi muistamiseen. Niitä ei voi poistaa käytöstä.",
        sv: "De här kakorna behövs för webbplatsens grundläggande funktioner, till exempel säkerhet och för att komma ihåg dina val om kakor. De kan inte stängas av.",
        en: "These cookies are needed for the site's basic functions, such as security and remembering your cookie choices. They cannot be switched off.",
    }
    /// Title of the analytics category.
    AnalyticsTitle "analytics_title" {
        fi: "Analytiikka",
        sv: "Analys",
        en: "Analytics",
    }
    /// What the analytics category is for.
    AnalyticsDescription "analytics_description" {
        fi: "Analytiikkaevästeiden avulla saamme tietoa siitä, miten sivustoa käytetään, jotta voimme kehittää sitä.",
        sv: "Med analyskakor får vi veta hur webbplatsen används, så att vi kan utveckla den.",
        en: "Analytics cookies tell us how the site is used, so that we can improve it.",
    }
    /// Title of the marketing category.
    MarketingTitle "marketing_title" {
        fi: "Markkinointi",
        sv: "Marknadsföring",
        en: "Marketing",
    }
    /// What the marketing category is for.
    MarketingDescription "marketing_description" {
        fi: "Markkinointievästeiden avulla mainoskumppanimme voivat näyttää sinulle kiinnostavampia mainoksia ja mitata mainontamme tuloksia. Ne voivat seurata selaamistasi myös muilla sivustoilla.",
        sv: "Med marknadsföringskakor kan våra annonspartner visa dig mer relevanta annonser och mäta hur vår annonsering fungerar. De kan följa din surfning även på andra webbplatser.",
        en: "Marketing cookies let our advertising partners show you more relevant ads and measure how our advertising performs. They may follow your browsing on other sites too.",
    }
    /// Title of the preferences (functional) category.
    PreferencesCategoryTitle "preferences_category_title" {
        fi: "Mieltymykset",
        sv: "Preferenser",
        en: "Preferences",
    }
    /// What the preferences category is for.
    PreferencesCategoryDescription "preferences_category_description" {
        fi: "Näiden evästeiden avulla sivusto muistaa valintasi, kuten kielen tai toimipisteen, ja on sinulle sujuvampi käyttää.",
        sv: "Med de här kakorna kommer webbplatsen ihåg dina val, till exempel språk eller mottagning, så att den blir smidigare att använda.",
        en: "These cookies let the site remember your choices, such as language or clinic location, to make it easier to use.",
    }
    /// The always-present control that reopens the preferences.
    OpenPreferences "open_preferences" {
        fi: "Evästeasetukset",
        sv: "Inställningar för kakor",
        en: "Cookie settings",
    }
    /// Announced to screen readers after a decision is saved.
    Saved "saved" {
        fi: "Valintasi on tallennettu.",
        sv: "Dina val har sparats.",
        en: "Your choices have been saved.",
    }
    /// Shown when the browser sends Global Privacy Control (this one on a site with
    /// marketing; [`Texts::get`] picks it).
    GpcNotice "gpc_notice" {
        fi: "Selaimesi pyytää, ettei tietojasi käytetä markkinointiin (Global Privacy Control). Markkinointievästeet pysyvät pois päältä, ellet itse salli niitä.",
        sv: "Din webbläsare ber att dina uppgifter inte används för marknadsföring (Global Privacy Control). Kakor för marknadsföring förblir avstängda om du inte själv tillåter dem.",
        en: "Your browser asks that your data is not used for marketing (Global Privacy Control). Marketing cookies stay off unless you switch them on yourself.",
    }
    /// Placeholder over an embed (video, map) that needs consent; `{service}` is filled in
    /// (and `{category}`, for a site's own text). Its button allows that service alone.
    PlaceholderText "placeholder_text" {
        fi: "Tämä sisältö tulee palvelusta {service}, joka asettaa omia evästeitään. Näet sen, kun sallit palvelun {service}.",
        sv: "Innehållet kommer från {service}, som sätter egna kakor. Du ser det när du tillåter {service}.",
        en: "This content comes from {service}, which sets its own cookies. You can see it once you allow {service}.",
    }
    /// Placeholder over an embed that names no service, only its category; `{category}` is
    /// filled in. Its button allows the whole category.
    PlaceholderCategoryText "placeholder_category_text" {
        fi: "Tämä sisältö asettaa evästeitä luokassa ”{category}”. Näet sen, kun sallit ne.",
        sv: "Innehållet sätter kakor i kategorin ”{category}”. Du ser det när du tillåter dem.",
        en: "This content sets cookies in the “{category}” category. You can see it once you allow them.",
    }
    /// Button on the placeholder that grants consent in place.
    PlaceholderButton "placeholder_button" {
        fi: "Salli ja näytä",
        sv: "Tillåt och visa",
        en: "Allow and show",
    }
    /// Label before the visitor's consent id.
    ConsentId "consent_id" {
        fi: "Suostumuksesi tunniste",
        sv: "Ditt samtyckes-id",
        en: "Your consent ID",
    }
    /// Label of the language switcher.
    Language "language" {
        fi: "Kieli",
        sv: "Språk",
        en: "Language",
    }
}

impl fmt::Display for TextKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for TextKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// The error for a text key that does not exist.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnknownTextKey;

impl fmt::Display for UnknownTextKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("unknown text key")
    }
}

impl core::error::Error for UnknownTextKey {}

/// Which built-in first-layer description fits a config: it names the optional categories
/// the visitor is asked about, and no other. `preferences` (remembering choices) is not
/// named, as it never was; a category of the site's own (not one of the built-in ids) gets
/// the text that names none and points to the settings, since no built-in words describe it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Asks {
    /// `analytics` and `marketing`.
    AnalyticsAndMarketing,
    /// `analytics`, not `marketing`.
    Analytics,
    /// `marketing`, not `analytics`.
    Marketing,
    /// Neither, or a category of the site's own.
    Other,
}

impl Asks {
    /// The variant for a config whose categories have these ids.
    pub(crate) fn of<'a>(ids: impl IntoIterator<Item = &'a str>) -> Self {
        let (mut analytics, mut marketing, mut own) = (false, false, false);
        for id in ids {
            match id {
                "analytics" => analytics = true,
                "marketing" => marketing = true,
                "necessary" | "preferences" => {}
                _ => own = true,
            }
        }
        match (analytics, marketing, own) {
            (true, true, false) => Self::AnalyticsAndMarketing,
            (true, false, false) => Self::Analytics,
            (false, true, false) => Self::Marketing,
            _ => Self::Other,
        }
    }

    /// The built-in first-layer description in `lang`.
    const fn banner_description(self, lang: Lang) -> &'static str {
        match (self, lang) {
            (Self::AnalyticsAndMarketing, _) => TextKey::BannerDescription.builtin(lang),
            (Self::Analytics, Lang::Fi) => {
                "Käytämme välttämättömiä evästeitä, jotta sivusto toimii. Haluaisimme käyttää myös analytiikkaevästeitä sivuston kehittämiseen, mutta vain, jos annat siihen luvan. Voit muuttaa valintaasi milloin tahansa."
            }
            (Self::Analytics, Lang::Sv) => {
                "Vi använder nödvändiga kakor för att webbplatsen ska fungera. Vi vill också använda analyskakor för att utveckla webbplatsen, men bara om du godkänner det. Du kan ändra ditt val när som helst."
            }
            (Self::Analytics, Lang::En) => {
                "We use necessary cookies to make this site work. We would also like to use analytics cookies to improve the site, but only if you allow it. You can change your choice at any time."
            }
            (Self::Marketing, Lang::Fi) => {
                "Käytämme välttämättömiä evästeitä, jotta sivusto toimii. Haluaisimme käyttää myös markkinointievästeitä mainontaan, mutta vain, jos annat siihen luvan. Voit muuttaa valintaasi milloin tahansa."
            }
            (Self::Marketing, Lang::Sv) => {
                "Vi använder nödvändiga kakor för att webbplatsen ska fungera. Vi vill också använda marknadsföringskakor för annonsering, men bara om du godkänner det. Du kan ändra ditt val när som helst."
            }
            (Self::Marketing, Lang::En) => {
                "We use necessary cookies to make this site work. We would also like to use marketing cookies for advertising, but only if you allow it. You can change your choice at any time."
            }
            (Self::Other, Lang::Fi) => {
                "Käytämme välttämättömiä evästeitä, jotta sivusto toimii. Haluaisimme käyttää myös muita evästeitä, jotka on kuvattu evästeasetuksissa, mutta vain, jos annat siihen luvan. Voit muuttaa valintaasi milloin tahansa."
            }
            (Self::Other, Lang::Sv) => {
                "Vi använder nödvändiga kakor för att webbplatsen ska fungera. Vi vill också använda andra kakor, som beskrivs i inställningarna för kakor, men bara om du godkänner det. Du kan ändra ditt val när som helst."
            }
            (Self::Other, Lang::En) => {
                "We use necessary cookies to make this site work. We would also like to use other cookies, described in the cookie settings, but only if you allow it. You can change your choice at any time."
            }
        }
    }
}

/// The built-in Global Privacy Control note for a config none of whose categories GPC keeps
/// off and none named `marketing`: the note must not speak of marketing cookies staying off
/// on a site that has none.
const fn gpc_notice_without_marketing(lang: Lang) -> &'static str {
    match lang {
        Lang::Fi => {
            "Selaimesi pyytää, ettei tietojasi käytetä markkinointiin (Global Privacy Control). Tämä sivusto ei käytä evästeitä markkinointiin."
        }
        Lang::Sv => {
            "Din webbläsare ber att dina uppgifter inte används för marknadsföring (Global Privacy Control). Den här webbplatsen använder inga kakor för marknadsföring."
        }
        Lang::En => {
            "Your browser asks that your data is not used for marketing (Global Privacy Control). This site uses no cookies for marketing."
        }
    }
}

/// The texts of one language, with a config's overrides applied.
///
/// # Example
/// ```
/// use consent_core::{Config, Lang, TextKey};
/// let config = Config::from_json(r#"{
///     "revision": 1,
///     "privacy_notice": "/tietosuoja",
///     "categories": [{"id": "necessary"}],
///     "texts": {"fi": {"accept_all": "Hyväksy"}}
/// }"#)?;
/// let fi = config.texts(Lang::Fi);
/// assert_eq!(fi.get(TextKey::AcceptAll), "Hyväksy");
/// assert_eq!(fi.get(TextKey::RejectAll), "Hylkää kaikki");
/// assert_eq!(fi.lifetime(consent_core::Lifetime::Months(13)), "13 kuukautta");
/// # Ok::<(), consent_core::ConfigError>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Texts<'a> {
    lang: Lang,
    overrides: &'a [(TextKey, Box<str>)],
    asks: Asks,
    marketing: bool,
}

impl<'a> Texts<'a> {
    /// Texts in `lang` with `overrides`, which must be sorted by key, for a config whose
    /// first layer `asks` about these categories, and which has `marketing` (a category named
    /// so, or one Global Privacy Control keeps off).
    pub(crate) fn new(
        lang: Lang,
        overrides: &'a [(TextKey, Box<str>)],
        asks: Asks,
        marketing: bool,
    ) -> Self {
        Self {
            lang,
            overrides,
            asks,
            marketing,
        }
    }

    /// The language of these texts.
    #[must_use]
    pub fn lang(&self) -> Lang {
        self.lang
    }

    /// The text for `key`: the config's override if it has one, else the built-in text. The
    /// built-in [`BannerDescription`](TextKey::BannerDescription) names the config's optional
    /// categories: analytics and marketing, one of them, or (for a category of the site's
    /// own) neither, pointing to the settings. The built-in
    /// [`GpcNotice`](TextKey::GpcNotice) of a config with no marketing (no category named
    /// `marketing`, none Global Privacy Control keeps off) says the site uses no cookies for
    /// marketing, instead of that they stay off.
    #[must_use]
    pub fn get(&self, key: TextKey) -> &'a str {
        match self.overrides.binary_search_by_key(&key, |(k, _)| *k) {
            Ok(i) => &self.overrides[i].1,
            Err(_) if key == TextKey::BannerDescription => self.asks.banner_description(self.lang),
            Err(_) if key == TextKey::GpcNotice && !self.marketing => {
                gpc_notice_without_marketing(self.lang)
            }
            Err(_) => key.builtin(self.lang),
        }
    }

    /// A cookie lifetime in words, with the number and the right plural form.
    #[must_use]
    pub fn lifetime(&self, lifetime: Lifetime) -> String {
        let (n, one, many) = match lifetime {
            Lifetime::Session => return self.get(TextKey::LifetimeSession).to_owned(),
            Lifetime::Days(n) => (n, TextKey::LifetimeDay, TextKey::LifetimeDays),
            Lifetime::Months(n) => (n, TextKey::LifetimeMonth, TextKey::LifetimeMonths),
            Lifetime::Years(n) => (n, TextKey::LifetimeYear, TextKey::LifetimeYears),
        };
        let key = if n == 1 { one } else { many };
        fill(
            self.get(key),
            "{n}",
            crate::digits::Decimal::new(n.into()).as_str(),
        )
    }
}

/// `template` with every `placeholder` (such as `{service}`, which must start with `{`)
/// replaced by `value`: the same text as `template.replace(placeholder, value)`.
///
/// Texts hold `{n}`, `{service}` and `{category}`. This scans for `{` only, without the
/// generic substring searcher `str::replace` links (3 kB of the browser build).
///
/// # Example
/// ```
/// use consent_core::texts::fill;
/// assert_eq!(fill("{service} ({category})", "{service}", "YouTube"), "YouTube ({category})");
/// ```
#[must_use]
pub fn fill(template: &str, placeholder: &str, value: &str) -> String {
    let mut out = String::with_capacity(template.len() + value.len());
    let mut rest = template;
    while let Some(i) = rest.bytes().position(|b| b == b'{') {
        out.push_str(rest.get(..i).unwrap_or_default());
        let from = rest.get(i..).unwrap_or_default();
        // `{` is one byte, so both cuts are on character boundaries.
        rest = match from
            .strip_prefix(placeholder)
            .filter(|_| !placeholder.is_empty())
        {
            Some(after) => {
                out.push_str(value);
                after
            }
            None => {
                out.push('{');
                from.get(1..).unwrap_or_default()
            }
        };
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fill_is_replace(template in "[{}nab ]{0,12}", value in "[{}nx]{0,3}") {
            prop_assert_eq!(fill(&template, "{n}", &value), template.replace("{n}", &value));
        }
    }

    /// Placeholders such as `{n}` in `text`, in order.
    fn placeholders(text: &str) -> Vec<&str> {
        text.match_indices('{')
            .filter_map(|(start, _)| {
                text[start..]
                    .find('}')
                    .map(|end| &text[start..=start + end])
            })
            .collect()
    }

    #[test]
    fn every_key_is_translated_in_every_language() {
        let mut missing = Vec::new();
        for &key in TextKey::ALL {
            for lang in Lang::ALL {
                let text = key.builtin(lang);
                if text.trim().is_empty() || text.contains("TODO") || text.contains("FIXME") {
                    missing.push(format!("{lang}.{key}"));
                }
            }
        }
        assert!(missing.is_empty(), "untranslated: {missing:?}");
    }

    #[test]
    fn translations_are_not_english_left_in_place() {
        // Single words that are the same in the languages would be listed here.
        let same_on_purpose: &[TextKey] = &[];
        for &key in TextKey::ALL {
            if same_on_purpose.contains(&key) {
                continue;
            }
            let en = key.builtin(Lang::En);
            assert_ne!(key.builtin(Lang::Fi), en, "fi.{key} is the English text");
            assert_ne!(key.builtin(Lang::Sv), en, "sv.{key} is the English text");
        }
    }

    #[test]
    fn placeholders_agree_across_languages() {
        for &key in TextKey::ALL {
            let en = placeholders(key.builtin(Lang::En));
            for lang in [Lang::Fi, Lang::Sv] {
                let mut got = placeholders(key.builtin(lang));
                let mut want = en.clone();
                got.sort_unstable();
                want.sort_unstable();
                assert_eq!(got, want, "{lang}.{key}");
            }
        }
    }

    #[test]
    fn texts_are_tidy() {
        for &key in TextKey::ALL {
            for lang in Lang::ALL {
                let text = key.builtin(lang);
                assert_eq!(text, text.trim(), "{lang}.{key} has outer whitespace");
                assert!(!text.contains("  "), "{lang}.{key} has a double space");
                assert!(!text.contains('<'), "{lang}.{key} looks like markup");
            }
        }
    }

    #[test]
    fn keys_round_trip_and_are_unique() {
        let mut names: Vec<_> = TextKey::ALL.iter().map(|k| k.as_str()).collect();
        for &key in TextKey::ALL {
            assert_eq!(key.as_str().parse::<TextKey>(), Ok(key));
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), TextKey::ALL.len());
        assert_eq!("accept".parse::<TextKey>(), Err(UnknownTextKey));
    }

    #[test]
    fn lifetime_plurals() {
        let fi = Texts::new(Lang::Fi, &[], Asks::AnalyticsAndMarketing, true);
        let sv = Texts::new(Lang::Sv, &[], Asks::AnalyticsAndMarketing, true);
        let en = Texts::new(Lang::En, &[], Asks::AnalyticsAndMarketing, true);
        assert_eq!(fi.lifetime(Lifetime::Days(1)), "1 päivä");
        assert_eq!(fi.lifetime(Lifetime::Days(30)), "30 päivää");
        assert_eq!(fi.lifetime(Lifetime::Years(2)), "2 vuotta");
        assert_eq!(sv.lifetime(Lifetime::Months(13)), "13 månader");
        assert_eq!(sv.lifetime(Lifetime::Years(1)), "1 år");
        assert_eq!(
            en.lifetime(Lifetime::Session),
            "Until the browser is closed"
        );
        assert_eq!(en.lifetime(Lifetime::Months(1)), "1 month");
    }

    #[test]
    fn the_first_layer_names_only_the_categories_the_config_has() {
        let asks = |ids: &[&str]| Asks::of(ids.iter().copied());
        assert_eq!(
            asks(&["necessary", "analytics", "marketing", "preferences"]),
            Asks::AnalyticsAndMarketing
        );
        assert_eq!(asks(&["necessary", "analytics"]), Asks::Analytics);
        assert_eq!(
            asks(&["necessary", "marketing", "preferences"]),
            Asks::Marketing
        );
        assert_eq!(asks(&["necessary", "analytics", "ads"]), Asks::Other);
        assert_eq!(asks(&["necessary", "preferences"]), Asks::Other);
        let variants = [
            Asks::AnalyticsAndMarketing,
            Asks::Analytics,
            Asks::Marketing,
            Asks::Other,
        ];
        // (analytics, marketing) words, per language.
        let words = |lang| match lang {
            Lang::Fi => ("analytiikka", "markkinointi"),
            Lang::Sv => ("analys", "marknadsföring"),
            Lang::En => ("analytics", "marketing"),
        };
        for lang in Lang::ALL {
            let (a, m) = words(lang);
            for asks in variants {
                let text = Texts::new(lang, &[], asks, true).get(TextKey::BannerDescription);
                let (has_a, has_m) = match asks {
                    Asks::AnalyticsAndMarketing => (true, true),
                    Asks::Analytics => (true, false),
                    Asks::Marketing => (false, true),
                    Asks::Other => (false, false),
                };
                assert_eq!(text.contains(a), has_a, "{lang} {asks:?}: {text}");
                assert_eq!(text.contains(m), has_m, "{lang} {asks:?}: {text}");
                assert_eq!(text, text.trim(), "{lang} {asks:?}");
                assert!(!text.contains("  "), "{lang} {asks:?}");
                if lang != Lang::En {
                    let en = Texts::new(Lang::En, &[], asks, true).get(TextKey::BannerDescription);
                    assert_ne!(text, en, "{lang} {asks:?} is the English text");
                }
            }
        }
        // Chosen by the config's categories, where its texts are resolved.
        let config = crate::Config::from_json(
            r#"{"revision": 1, "privacy_notice": "/p",
                "categories": [{"id": "necessary"}, {"id": "analytics"}]}"#,
        )
        .expect("valid");
        for lang in Lang::ALL {
            let text = config.texts(lang).get(TextKey::BannerDescription);
            assert!(!text.contains(words(lang).1), "{lang}: {text}");
            // The GPC note says there is no marketing, not that it stays off.
            let gpc = config.texts(lang).get(TextKey::GpcNotice);
            assert_ne!(gpc, TextKey::GpcNotice.builtin(lang), "{lang}");
            assert_eq!(gpc, gpc_notice_without_marketing(lang), "{lang}");
        }
        let example = crate::Config::from_json(crate::EXAMPLE_CONFIG).expect("valid");
        for lang in Lang::ALL {
            let t = example.texts(lang);
            assert_eq!(t.get(TextKey::GpcNotice), TextKey::GpcNotice.builtin(lang));
            assert_eq!(
                t.get(TextKey::BannerDescription),
                TextKey::BannerDescription.builtin(lang)
            );
            if lang != Lang::En {
                assert_ne!(
                    gpc_notice_without_marketing(lang),
                    gpc_notice_without_marketing(Lang::En),
                    "{lang} is the English text"
                );
            }
        }
        // An override still wins.
        let overrides = [(TextKey::BannerDescription, Box::<str>::from("Oma teksti."))];
        let fi = Texts::new(Lang::Fi, &overrides, Asks::Analytics, false);
        assert_eq!(fi.get(TextKey::BannerDescription), "Oma teksti.");
    }

    #[test]
    fn overrides_win() {
        let overrides = [(TextKey::AcceptAll, Box::<str>::from("Sallin kaiken"))];
        let fi = Texts::new(Lang::Fi, &overrides, Asks::AnalyticsAndMarketing, true);
        assert_eq!(fi.get(TextKey::AcceptAll), "Sallin kaiken");
        assert_eq!(fi.get(TextKey::Save), "Tallenna valinnat");
    }
}
