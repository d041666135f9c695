//! The declaration's own fixed phrases in Finnish, Swedish and English.
//!
//! A sibling of [`crate::texts`] rather than part of it: these are the privacy notice's
//! words, not the banner's, so they stay out of the banner's WebAssembly and out of
//! [`Config::shown_hash`](crate::Config::shown_hash), which proves what the banner showed.
//! The declaration still uses the banner's texts (category titles, column headings,
//! lifetimes, the settings control's name) so that the notice and the banner say the same.
//!
//! Finnish follows the register of a clinic's tietosuojaseloste: complete sentences,
//! passive voice where a Finnish notice uses it, the law named by its Finnish title.

use crate::lang::Lang;

macro_rules! phrases {
    ($($(#[$doc:meta])* $key:ident { fi: $fi:literal, sv: $sv:literal, en: $en:literal $(,)? })*) => {
        /// The key of one fixed phrase of the declaration.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub(crate) enum Phrase {
            $($(#[$doc])* $key,)*
        }

        impl Phrase {
            /// Every phrase, for the completeness tests.
            #[cfg(test)]
            pub(crate) const ALL: &'static [Phrase] = &[$(Phrase::$key,)*];

            /// The phrase in `lang`.
            pub(crate) const fn get(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $(
                        (Phrase::$key, Lang::Fi) => $fi,
                        (Phrase::$key, Lang::Sv) => $sv,
                        (Phrase::$key, Lang::En) => $en,
                    )*
                }
            }
        }
    };
}

phrases! {
    /// The section's heading.
    Title {
        fi: "Evästeet",
        sv: "Kakor",
        en: "Cookies",
    }
    /// What cookies are, and that only necessary ones are used without consent.
    Intro {
        fi: "Sivustollamme käytetään evästeitä ja muita vastaavia tekniikoita. Eväste on pieni tekstitiedosto, jonka selaimesi tallentaa päätelaitteellesi. Välttämättömiä evästeitä käytetään aina, koska sivusto ei toimi ilman niitä. Muita evästeitä käytetään vain, jos annat niihin suostumuksesi. Suostumuksen antaminen on vapaaehtoista, ja voit käyttää sivustoa myös ilman sitä.",
        sv: "På vår webbplats används kakor (cookies) och liknande tekniker. En kaka är en liten textfil som din webbläsare sparar på din enhet. Nödvändiga kakor används alltid, eftersom webbplatsen inte fungerar utan dem. Andra kakor används bara om du samtycker till dem. Samtycket är frivilligt, och du kan använda webbplatsen även utan det.",
        en: "Our website uses cookies and similar technologies. A cookie is a small text file that your browser stores on your device. Necessary cookies are always in use, because the site cannot work without them. Other cookies are used only if you consent to them. Giving consent is voluntary, and you can use the site without it.",
    }
    /// The legal basis of the necessary category.
    BasisNecessary {
        fi: "Välttämättömien evästeiden käyttöön ei tarvita suostumustasi, koska sivustoa ei voida tarjota ilman niitä (laki sähköisen viestinnän palveluista 205 §).",
        sv: "För nödvändiga kakor behövs inte ditt samtycke, eftersom webbplatsen inte kan tillhandahållas utan dem (lagen om tjänster inom elektronisk kommunikation 205 §).",
        en: "Necessary cookies do not need your consent, because the site cannot be provided without them (Finnish Act on Electronic Communications Services, section 205).",
    }
    /// The legal basis of every other category.
    BasisConsent {
        fi: "Näitä evästeitä käytetään vain suostumuksellasi. Käsittelyn oikeusperuste on suostumus (EU:n yleisen tietosuoja-asetuksen 6 artiklan 1 kohdan a alakohta).",
        sv: "De här kakorna används bara med ditt samtycke. Den rättsliga grunden för behandlingen är samtycke (artikel 6.1 a i EU:s allmänna dataskyddsförordning).",
        en: "These cookies are used only with your consent. The legal basis for the processing is consent (Article 6(1)(a) of the EU General Data Protection Regulation).",
    }
    /// A category without services.
    NoServices {
        fi: "Tähän ryhmään ei tällä hetkellä kuulu palveluita.",
        sv: "Den här kategorin omfattar för närvarande inga tjänster.",
        en: "There are currently no services in this category.",
    }
    /// Label of the hosts a service loads from.
    Hosts {
        fi: "Palvelimet, joihin selaimesi ottaa yhteyttä",
        sv: "Servrar som din webbläsare ansluter till",
        en: "Servers your browser connects to",
    }
    /// Label of a service's transfer outside the EU/EEA, and the heading of the summary.
    TransferLabel {
        fi: "Tietojen siirto EU:n ja ETA:n ulkopuolelle",
        sv: "Överföring utanför EU och EES",
        en: "Transfers outside the EU and EEA",
    }
    /// A service whose data stays in the EU/EEA.
    TransferNone {
        fi: "Tietoja ei siirretä EU:n tai Euroopan talousalueen ulkopuolelle.",
        sv: "Uppgifterna överförs inte utanför EU eller Europeiska ekonomiska samarbetsområdet.",
        en: "Data is not transferred outside the EU or the European Economic Area.",
    }
    /// A service whose data may leave the EU/EEA.
    TransferYes {
        fi: "Tietoja voidaan siirtää EU:n tai Euroopan talousalueen ulkopuolelle.",
        sv: "Uppgifter kan överföras utanför EU eller Europeiska ekonomiska samarbetsområdet.",
        en: "Data may be transferred outside the EU or the European Economic Area.",
    }
    /// The receiving countries; `{countries}` from the config.
    TransferCountries {
        fi: "Kohdemaat: {countries}.",
        sv: "Mottagarländer: {countries}.",
        en: "Receiving countries: {countries}.",
    }
    /// Safeguard: the EU-US Data Privacy Framework.
    SafeguardDpf {
        fi: "Siirto perustuu EU:n ja Yhdysvaltojen väliseen tietosuojakehykseen (EU–US Data Privacy Framework), jonka tietosuojan tason Euroopan komissio on todennut riittäväksi.",
        sv: "Överföringen grundar sig på dataskyddsramen mellan EU och USA (EU–US Data Privacy Framework), som Europeiska kommissionen har bedömt ge en adekvat skyddsnivå.",
        en: "The transfer relies on the EU–US Data Privacy Framework, which the European Commission has found to protect personal data adequately.",
    }
    /// Safeguard: another adequacy decision.
    SafeguardAdequacy {
        fi: "Siirto perustuu Euroopan komission päätökseen, jonka mukaan kohdemaan tietosuojan taso on riittävä.",
        sv: "Överföringen grundar sig på Europeiska kommissionens beslut om att mottagarlandet har en adekvat skyddsnivå.",
        en: "The transfer relies on a decision of the European Commission that the receiving country protects personal data adequately.",
    }
    /// Safeguard: standard contractual clauses.
    SafeguardScc {
        fi: "Siirrossa käytetään Euroopan komission hyväksymiä vakiosopimuslausekkeita.",
        sv: "Vid överföringen används standardavtalsklausuler som Europeiska kommissionen har antagit.",
        en: "The transfer is made under standard contractual clauses adopted by the European Commission.",
    }
    /// Safeguard: binding corporate rules.
    SafeguardBcr {
        fi: "Siirto perustuu palveluntarjoajan sitoviin yrityssääntöihin.",
        sv: "Överföringen grundar sig på leverantörens bindande företagsbestämmelser.",
        en: "The transfer relies on the provider's binding corporate rules.",
    }
    /// Summary when some services transfer; `{services}` lists them.
    TransfersSome {
        fi: "Seuraavien palveluiden kautta tietoja voidaan siirtää EU:n tai Euroopan talousalueen ulkopuolelle: {services}. Siirron peruste on kerrottu kunkin palvelun kohdalla.",
        sv: "Via följande tjänster kan uppgifter överföras utanför EU eller Europeiska ekonomiska samarbetsområdet: {services}. Grunden för överföringen anges för varje tjänst.",
        en: "Through the following services, data may be transferred outside the EU or the European Economic Area: {services}. The basis of each transfer is given under the service.",
    }
    /// Summary when no service transfers.
    TransfersNone {
        fi: "Evästeiden avulla kerättyjä tietoja ei siirretä EU:n tai Euroopan talousalueen ulkopuolelle.",
        sv: "Uppgifter som samlas in med kakor överförs inte utanför EU eller Europeiska ekonomiska samarbetsområdet.",
        en: "Data collected with cookies is not transferred outside the EU or the European Economic Area.",
    }
    /// Caption of a service's cookie table; `{service}` is its name.
    CookiesOf {
        fi: "Palvelun {service} evästeet",
        sv: "Kakor som {service} använder",
        en: "Cookies set by {service}",
    }
    /// A service that stores no cookies.
    NoCookies {
        fi: "Palvelu ei tallenna evästeitä selaimeesi.",
        sv: "Tjänsten sparar inga kakor i din webbläsare.",
        en: "The service stores no cookies in your browser.",
    }
    /// Domain column of a cookie set on the site's own host.
    OwnDomain {
        fi: "Sivuston oma verkkotunnus",
        sv: "Webbplatsens egen domän",
        en: "This site's own domain",
    }
    /// Note under the tables when a name has a wildcard.
    WildcardNote {
        fi: "Tähdellä (*) merkitty evästeen nimen osa vaihtelee.",
        sv: "Den del av kakans namn som är markerad med en asterisk (*) varierar.",
        en: "The part of a cookie name marked with an asterisk (*) varies.",
    }
    /// Heading of the withdrawal part.
    WithdrawalTitle {
        fi: "Suostumuksen antaminen ja peruminen",
        sv: "Att ge och återkalla samtycke",
        en: "Giving and withdrawing consent",
    }
    /// How to withdraw; `{settings}` is the banner's settings control.
    Withdrawal {
        fi: "Voit muuttaa valintojasi tai perua suostumuksesi milloin tahansa yhtä helposti kuin annoit sen: avaa {settings} ja tallenna uudet valintasi. Kun perut suostumuksen, kyseisten palveluiden sivustollemme tallentamat evästeet poistetaan selaimestasi, eikä palveluita enää ladata. Suostumuksen peruminen ei vaikuta ennen perumista tapahtuneen käsittelyn lainmukaisuuteen. Voit myös poistaa evästeet selaimesi asetuksista.",
        sv: "Du kan ändra dina val eller återkalla ditt samtycke när som helst, lika enkelt som du gav det: öppna {settings} och spara dina nya val. När du återkallar samtycket tas de kakor som tjänsterna har sparat via vår webbplats bort från din webbläsare, och tjänsterna läses inte längre in. Återkallandet påverkar inte lagligheten av behandling som skett innan samtycket återkallades. Du kan också ta bort kakor i webbläsarens inställningar.",
        en: "You can change your choices or withdraw your consent at any time, as easily as you gave it: open {settings} and save your new choices. When you withdraw consent, the cookies those services stored through our site are deleted from your browser, and the services are no longer loaded. Withdrawing consent does not affect the lawfulness of processing before the withdrawal. You can also delete cookies in your browser's settings.",
    }
    /// Where the choice is kept and for how long; `{cookie}` and `{days}`.
    Remembered {
        fi: "Valintasi tallennetaan selaimesi evästeeseen {cookie}. Valinta on voimassa {days}, minkä jälkeen kysymme sitä uudelleen. Kysymme valintaasi uudelleen myös, jos evästekäytäntömme muuttuu.",
        sv: "Ditt val sparas i kakan {cookie} i din webbläsare. Valet gäller i {days}, och därefter frågar vi dig igen. Vi frågar också igen om vår kakpolicy ändras.",
        en: "Your choice is stored in the cookie {cookie} in your browser. It is kept for {days}, after which we ask again. We also ask again if our cookie policy changes.",
    }
    /// `{days}` when accepting and refusing last differently long.
    DaysSplit {
        fi: "{accept}, jos sallit evästeitä, ja {refuse}, jos kieltäydyt niistä",
        sv: "{accept} om du tillåter kakor och {refuse} om du avböjer dem",
        en: "{accept} if you allow cookies and {refuse} if you refuse them",
    }
    /// The consent record, when the site keeps one.
    Record {
        fi: "Jokainen valintasi kirjataan suostumusrekisteriin satunnaisella tunnisteella, jotta voimme osoittaa, mihin olet suostunut. Tunniste näkyy evästeasetuksissa, ja sen avulla voit pyytää kirjatut tietosi nähtäväksi tai poistettavaksi. Rekisteriin ei tallenneta IP-osoitettasi.",
        sv: "Varje val du gör registreras i ett samtyckesregister med en slumpmässig identifierare, så att vi kan visa vad du har samtyckt till. Identifieraren visas i inställningarna för kakor, och med den kan du begära att få se eller radera de registrerade uppgifterna. Din IP-adress sparas inte i registret.",
        en: "Each choice you make is recorded in a consent log under a random identifier, so that we can show what you consented to. The identifier is shown in the cookie settings, and with it you can ask to see or delete what was recorded. Your IP address is not stored in the log.",
    }
    /// The policy revision; `{revision}`.
    Revision {
        fi: "Evästekäytännön versio {revision}.",
        sv: "Kakpolicyns version {revision}.",
        en: "Cookie policy version {revision}.",
    }
    /// The policy revision and its date; `{revision}` and `{date}`.
    RevisionDated {
        fi: "Evästekäytännön versio {revision}, päivitetty {date}.",
        sv: "Kakpolicyns version {revision}, uppdaterad {date}.",
        en: "Cookie policy version {revision}, updated {date}.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placeholders(text: &str) -> Vec<&str> {
        let mut found: Vec<&str> = text
            .match_indices('{')
            .filter_map(|(start, _)| {
                text[start..]
                    .find('}')
                    .map(|end| &text[start..=start + end])
            })
            .collect();
        found.sort_unstable();
        found
    }

    #[test]
    fn every_phrase_is_translated_in_every_language() {
        let mut missing = Vec::new();
        for &phrase in Phrase::ALL {
            for lang in Lang::ALL {
                let text = phrase.get(lang);
                if text.trim().is_empty() || text.contains("TODO") || text.contains("FIXME") {
                    missing.push(format!("{lang}.{phrase:?}"));
                }
            }
        }
        assert!(missing.is_empty(), "untranslated: {missing:?}");
    }

    #[test]
    fn translations_are_not_english_left_in_place() {
        for &phrase in Phrase::ALL {
            let en = phrase.get(Lang::En);
            assert_ne!(
                phrase.get(Lang::Fi),
                en,
                "fi.{phrase:?} is the English text"
            );
            assert_ne!(
                phrase.get(Lang::Sv),
                en,
                "sv.{phrase:?} is the English text"
            );
        }
    }

    #[test]
    fn placeholders_agree_and_texts_are_tidy() {
        for &phrase in Phrase::ALL {
            let en = placeholders(phrase.get(Lang::En));
            for lang in Lang::ALL {
                let text = phrase.get(lang);
                assert_eq!(placeholders(text), en, "{lang}.{phrase:?}");
                assert_eq!(text, text.trim(), "{lang}.{phrase:?} has outer whitespace");
                assert!(!text.contains("  "), "{lang}.{phrase:?} has a double space");
                // Renderers escape the phrases' literal parts, but markup here would be a bug.
                assert!(!text.contains(['<', '>', '&']), "{lang}.{phrase:?}");
            }
        }
    }
}
