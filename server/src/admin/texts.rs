//! Every text of the dashboard in Finnish, Swedish and English, in one place.
//!
//! Counts go through [`Plural`], so that one record is "1 record" and never "1 records".
//! Values from the log or the config are never part of these texts: the page puts them in
//! beside the texts, and maud escapes them.

use consent_core::Lang;
use consent_core::Method;
use consent_core::register::{MarketingChannel, MarketingStatus};
use consent_core::requests::{Identity, RequestKind};
use time::{Date, Month, OffsetDateTime};

use crate::stats::Period;

/// A count's two forms, with `{n}` where the number goes: Finnish, Swedish and English all
/// have one form for 1 and another for every other number.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Plural {
    one: &'static str,
    other: &'static str,
}

impl Plural {
    /// The form for `n`, with `n` in it.
    pub(crate) fn of(self, n: impl Into<i64>) -> String {
        let n = n.into();
        let form = if n == 1 { self.one } else { self.other };
        form.replace("{n}", &n.to_string())
    }
}

const fn p(one: &'static str, other: &'static str) -> Plural {
    Plural { one, other }
}

/// The dashboard's fixed texts in one language.
#[derive(Debug)]
pub(crate) struct Texts {
    pub(crate) lang: Lang,
    pub(crate) title: &'static str,
    pub(crate) skip: &'static str,
    pub(crate) nav: &'static str,
    pub(crate) language: &'static str,
    pub(crate) logout: &'static str,
    pub(crate) search_label: &'static str,
    pub(crate) search_hint: &'static str,
    pub(crate) search_button: &'static str,
    pub(crate) export: &'static str,
    pub(crate) export_csv: &'static str,
    pub(crate) export_json: &'static str,

    pub(crate) rates: &'static str,
    pub(crate) rates_nav: &'static str,
    pub(crate) rates_intro: &'static str,
    pub(crate) no_decisions: &'static str,
    pub(crate) decisions: Plural,
    pub(crate) overall: &'static str,
    /// "{category}, {period}, {from} to {to}: ..." for the chart's text alternative.
    pub(crate) chart_label: &'static str,
    pub(crate) table_caption: &'static str,
    pub(crate) period_col: &'static str,
    pub(crate) decisions_col: &'static str,
    pub(crate) all_periods: &'static str,
    pub(crate) no_data: &'static str,
    periods: [&'static str; 3],
    week: &'static str,
    months: [&'static str; 12],

    pub(crate) requests: &'static str,
    pub(crate) requests_nav: &'static str,
    pub(crate) no_requests: &'static str,
    pub(crate) overdue: Plural,
    pub(crate) overdue_law: &'static str,
    pub(crate) requests_caption: &'static str,
    pub(crate) about_col: &'static str,
    pub(crate) received_col: &'static str,
    pub(crate) deadline_col: &'static str,
    pub(crate) identity_col: &'static str,
    pub(crate) extended: &'static str,
    pub(crate) days_left: Plural,
    pub(crate) days_late: Plural,
    pub(crate) due_today: &'static str,
    kinds: [&'static str; 5],
    identities: [&'static str; 5],

    pub(crate) register: &'static str,
    pub(crate) register_nav: &'static str,
    pub(crate) register_intro: &'static str,
    pub(crate) register_caption: &'static str,
    pub(crate) status_col: &'static str,
    pub(crate) total: &'static str,
    pub(crate) no_register: &'static str,
    channels: [&'static str; 3],
    statuses: [&'static str; 6],

    pub(crate) log: &'static str,
    pub(crate) log_nav: &'static str,
    pub(crate) log_ok: &'static str,
    pub(crate) log_broken: &'static str,
    pub(crate) log_entries: &'static str,
    pub(crate) log_erased: &'static str,
    pub(crate) log_purged: &'static str,
    pub(crate) log_checked: &'static str,
    pub(crate) log_unchecked: &'static str,
    pub(crate) log_unchecked_so_far: Plural,

    pub(crate) found_title: &'static str,
    pub(crate) not_an_id: &'static str,
    pub(crate) nothing_found: &'static str,
    pub(crate) records: Plural,
    pub(crate) granted_col: &'static str,
    pub(crate) page_col: &'static str,
    pub(crate) erased: &'static str,
    pub(crate) as_json: &'static str,
    pub(crate) back: &'static str,
    methods: [&'static str; 5],

    pub(crate) logged_out: &'static str,
    pub(crate) logged_out_text: &'static str,
    pub(crate) logged_out_caveat: &'static str,
    pub(crate) log_in_again: &'static str,
}

impl Texts {
    /// The texts in `lang`.
    pub(crate) fn of(lang: Lang) -> &'static Texts {
        match lang {
            Lang::Fi => &FI,
            Lang::Sv => &SV,
            Lang::En => &EN,
        }
    }

    /// A day as people of the language write it.
    pub(crate) fn date(&self, day: Date) -> String {
        match self.lang {
            Lang::Fi => format!("{}.{}.{}", day.day(), u8::from(day.month()), day.year()),
            Lang::Sv | Lang::En => day.to_string(),
        }
    }

    /// A time of the log (UTC), to the minute.
    pub(crate) fn time(&self, t: OffsetDateTime) -> String {
        format!(
            "{} {:02}:{:02} UTC",
            self.date(t.date()),
            t.hour(),
            t.minute()
        )
    }

    /// "per day", "per week" or "per month".
    pub(crate) fn period(&self, period: Period) -> &'static str {
        match period {
            Period::Day => self.periods[0],
            Period::Week => self.periods[1],
            Period::Month => self.periods[2],
        }
    }

    /// The name of the period starting on `start`: a date, a week or a month.
    pub(crate) fn period_name(&self, period: Period, start: Date) -> String {
        match period {
            Period::Day => self.date(start),
            Period::Week => {
                let (year, week, _) = start.to_iso_week_date();
                self.week
                    .replace("{w}", &week.to_string())
                    .replace("{y}", &year.to_string())
            }
            Period::Month => format!("{} {}", self.month(start.month()), start.year()),
        }
    }

    fn month(&self, month: Month) -> &'static str {
        self.months[usize::from(u8::from(month)) - 1]
    }

    pub(crate) fn kind(&self, kind: RequestKind) -> &'static str {
        self.kinds[match kind {
            RequestKind::Access => 0,
            RequestKind::Rectification => 1,
            RequestKind::Erasure => 2,
            RequestKind::Objection => 3,
            RequestKind::Restriction => 4,
        }]
    }

    pub(crate) fn identity(&self, identity: Identity) -> &'static str {
        self.identities[match identity {
            Identity::Pending => 0,
            Identity::InPerson => 1,
            Identity::StrongAuthentication => 2,
            Identity::KnownContact => 3,
            Identity::Failed => 4,
        }]
    }

    pub(crate) fn channel(&self, channel: MarketingChannel) -> &'static str {
        self.channels[match channel {
            MarketingChannel::Email => 0,
            MarketingChannel::Sms => 1,
            MarketingChannel::Post => 2,
        }]
    }

    pub(crate) fn status(&self, status: MarketingStatus) -> &'static str {
        self.statuses[match status {
            MarketingStatus::Consented => 0,
            MarketingStatus::SoftOptIn => 1,
            MarketingStatus::Refused => 2,
            MarketingStatus::Withdrawn => 3,
            MarketingStatus::Objected => 4,
            MarketingStatus::Suppressed => 5,
        }]
    }

    pub(crate) fn method(&self, method: Method) -> &'static str {
        self.methods[match method {
            Method::AcceptAll => 0,
            Method::RejectAll => 1,
            Method::Custom => 2,
            Method::Withdraw => 3,
            Method::Gpc => 4,
        }]
    }

    /// What is left of a request's month on `days_left`.
    pub(crate) fn left(&self, days_left: i64) -> String {
        match days_left {
            0 => self.due_today.to_owned(),
            n if n < 0 => self.days_late.of(-n),
            n => self.days_left.of(n),
        }
    }
}

const FI: Texts = Texts {
    lang: Lang::Fi,
    title: "Suostumusten hallinta",
    skip: "Siirry sisältöön",
    nav: "Osiot",
    language: "Kieli",
    logout: "Kirjaudu ulos",
    search_label: "Hae suostumustunnisteella",
    search_hint: "32 merkkiä, numerot 0–9 ja kirjaimet a–f, esimerkiksi kävijän Omat tiedot -sivulta.",
    search_button: "Hae",
    export: "Vie tilastot",
    export_csv: "CSV (taulukkolaskenta)",
    export_json: "JSON",

    rates: "Suostumusaste kategorioittain",
    rates_nav: "Suostumukset",
    rates_intro: "Osuus evästepäätöksistä, joissa kävijä salli kategorian. Välttämättömät evästeet ovat aina käytössä, joten niitä ei näytetä.",
    no_decisions: "Evästepäätöksiä ei ole vielä tallennettu.",
    decisions: p("{n} päätös", "{n} päätöstä"),
    overall: "kaikkiaan",
    chart_label: "{c}: suostumusaste {p}, {a}–{b}. Kaikkiaan {t}. Luvut ovat taulukossa alla.",
    table_caption: "Päätökset ja suostumusaste",
    period_col: "Jakso",
    decisions_col: "Päätök\u{ad}siä",
    all_periods: "Yhteensä",
    no_data: "ei päätöksiä",
    periods: ["päivittäin", "viikoittain", "kuukausittain"],
    week: "vk {w}/{y}",
    months: [
        "tammi", "helmi", "maalis", "huhti", "touko", "kesä", "heinä", "elo", "syys", "loka",
        "marras", "joulu",
    ],

    requests: "Avoimet rekisteröityjen pyynnöt",
    requests_nav: "Pyynnöt",
    no_requests: "Ei avoimia pyyntöjä.",
    overdue: p("{n} pyyntö myöhässä.", "{n} pyyntöä myöhässä."),
    overdue_law: "Pyyntöön on vastattava kuukauden kuluessa (tietosuoja-asetus, 12 artiklan 3 kohta).",
    requests_caption: "Myöhässä olevat ensin, sitten lähimmän määräajan mukaan",
    about_col: "Kenestä",
    received_col: "Saapui",
    deadline_col: "Määräaika",
    identity_col: "Henkilöllisyys",
    extended: "(jatkettu)",
    days_left: p("{n} päivä jäljellä", "{n} päivää jäljellä"),
    days_late: p("{n} päivä myöhässä", "{n} päivää myöhässä"),
    due_today: "erääntyy tänään",
    kinds: ["Tarkastus", "Oikaisu", "Poisto", "Vastustus", "Rajoitus"],
    identities: [
        "tarkistamatta",
        "tarkistettu paikan päällä",
        "vahva tunnistus",
        "rekisterin yhteystieto",
        "ei vahvistettu",
    ],

    register: "Suoramarkkinointirekisteri",
    register_nav: "Rekisteri",
    register_intro: "Yhteystiedot kanavittain viimeisimmän päätöksen mukaan.",
    register_caption: "Yhteystiedot kanavan ja tilan mukaan",
    status_col: "Tila",
    total: "Yhteensä",
    no_register: "Rekisterissä ei ole vielä päätöksiä.",
    channels: ["Sähköposti", "Teksti\u{ad}viesti", "Posti"],
    statuses: [
        "Suostumus",
        "Asiakassuhde (soft opt-in)",
        "Kieltäytynyt",
        "Suostumus peruttu",
        "Kielto",
        "Poistettu ja estetty",
    ],

    log: "Lokin eheys",
    log_nav: "Loki",
    log_ok: "Ketju on eheä: yhtään tietuetta ei ole muutettu eikä poistettu luvatta.",
    log_broken: "Ketju ei ole eheä:",
    log_entries: "Tietueita lokissa",
    log_erased: "Joista poistettu pyynnöstä",
    log_purged: "Karsittu säilytysajan päätyttyä",
    log_checked: "Tarkistettu",
    log_unchecked: "Lokia ei ehditty tarkistaa kokonaan sivun latautuessa.",
    log_unchecked_so_far: p(
        "Ensimmäinen tietue on eheä; tarkista koko loki komennolla consent verify.",
        "Ensimmäiset {n} tietuetta ovat eheitä; tarkista koko loki komennolla consent verify.",
    ),

    found_title: "Suostumustunnisteen tiedot",
    not_an_id: "Tämä ei ole suostumustunniste:",
    nothing_found: "Tällä tunnisteella ei ole tietueita.",
    records: p("{n} tietue", "{n} tietuetta"),
    granted_col: "Sallitut",
    page_col: "Sivu",
    erased: "poistettu pyynnöstä",
    as_json: "Samat tiedot JSON-muodossa",
    back: "Takaisin yleiskuvaan",
    methods: [
        "Hyväksyi kaikki",
        "Hylkäsi kaikki",
        "Omat valinnat",
        "Perui suostumuksen",
        "GPC-signaali",
    ],

    logged_out: "Olet kirjautunut ulos",
    logged_out_text: "Selain unohti tämän sivun salasanan.",
    logged_out_caveat: "Kaikki selaimet eivät unohda HTTP-kirjautumista heti. Jos käytät yhteistä tietokonetta, sulje selain varmuuden vuoksi.",
    log_in_again: "Kirjaudu uudelleen",
};

const SV: Texts = Texts {
    lang: Lang::Sv,
    title: "Översikt över samtycken",
    skip: "Hoppa till innehållet",
    nav: "Avsnitt",
    language: "Språk",
    logout: "Logga ut",
    search_label: "Sök med samtyckes-id",
    search_hint: "32 tecken, siffrorna 0–9 och bokstäverna a–f, till exempel från besökarens sida Mina uppgifter.",
    search_button: "Sök",
    export: "Exportera statistiken",
    export_csv: "CSV (kalkylblad)",
    export_json: "JSON",

    rates: "Andel samtycken per kategori",
    rates_nav: "Samtycken",
    rates_intro: "Andelen cookiebeslut där besökaren tillät kategorin. Nödvändiga cookies är alltid på och visas inte.",
    no_decisions: "Inga cookiebeslut har sparats ännu.",
    decisions: p("{n} beslut", "{n} beslut"),
    overall: "totalt",
    chart_label: "{c}: andel samtycken {p}, {a}–{b}. Totalt {t}. Siffrorna finns i tabellen nedan.",
    table_caption: "Beslut och andel samtycken",
    period_col: "Period",
    decisions_col: "Beslut",
    all_periods: "Totalt",
    no_data: "inga beslut",
    periods: ["per dag", "per vecka", "per månad"],
    week: "v. {w} {y}",
    months: [
        "jan", "feb", "mars", "april", "maj", "juni", "juli", "aug", "sep", "okt", "nov", "dec",
    ],

    requests: "Öppna begäranden från registrerade",
    requests_nav: "Begäranden",
    no_requests: "Inga öppna begäranden.",
    overdue: p("{n} begäran är försenad.", "{n} begäranden är försenade."),
    overdue_law: "En begäran ska besvaras inom en månad (dataskyddsförordningen, artikel 12.3).",
    requests_caption: "Försenade först, sedan efter närmaste tidsfrist",
    about_col: "Gäller",
    received_col: "Mottagen",
    deadline_col: "Tidsfrist",
    identity_col: "Identitet",
    extended: "(förlängd)",
    days_left: p("{n} dag kvar", "{n} dagar kvar"),
    days_late: p("{n} dag försenad", "{n} dagar försenad"),
    due_today: "förfaller i dag",
    kinds: ["Insyn", "Rättelse", "Radering", "Invändning", "Begränsning"],
    identities: [
        "inte kontrollerad",
        "kontrollerad på plats",
        "stark autentisering",
        "registrets kontaktuppgift",
        "inte bekräftad",
    ],

    register: "Register för direktmarknadsföring",
    register_nav: "Registret",
    register_intro: "Kontaktuppgifter per kanal enligt det senaste beslutet.",
    register_caption: "Kontaktuppgifter per kanal och status",
    status_col: "Status",
    total: "Totalt",
    no_register: "Registret har inga beslut ännu.",
    channels: ["E-post", "Sms", "Post"],
    statuses: [
        "Samtycke",
        "Kundrelation (soft opt-in)",
        "Nekat",
        "Samtycke återkallat",
        "Förbud",
        "Raderad och spärrad",
    ],

    log: "Loggens integritet",
    log_nav: "Loggen",
    log_ok: "Kedjan är intakt: ingen post har ändrats eller tagits bort obehörigt.",
    log_broken: "Kedjan är inte intakt:",
    log_entries: "Poster i loggen",
    log_erased: "Varav raderade på begäran",
    log_purged: "Gallrade efter lagringstiden",
    log_checked: "Kontrollerad",
    log_unchecked: "Loggen hann inte kontrolleras helt medan sidan laddades.",
    log_unchecked_so_far: p(
        "Den första posten är intakt; kontrollera hela loggen med kommandot consent verify.",
        "De första {n} posterna är intakta; kontrollera hela loggen med kommandot consent verify.",
    ),

    found_title: "Uppgifter om samtyckes-id",
    not_an_id: "Detta är inte ett samtyckes-id:",
    nothing_found: "Det finns inga poster med detta id.",
    records: p("{n} post", "{n} poster"),
    granted_col: "Tillåtna",
    page_col: "Sida",
    erased: "raderat på begäran",
    as_json: "Samma uppgifter som JSON",
    back: "Tillbaka till översikten",
    methods: [
        "Godkände alla",
        "Avvisade alla",
        "Egna val",
        "Återkallade samtycke",
        "GPC-signal",
    ],

    logged_out: "Du har loggat ut",
    logged_out_text: "Webbläsaren glömde lösenordet till den här sidan.",
    logged_out_caveat: "Alla webbläsare glömmer inte en HTTP-inloggning genast. Stäng webbläsaren för säkerhets skull om du använder en delad dator.",
    log_in_again: "Logga in igen",
};

const EN: Texts = Texts {
    lang: Lang::En,
    title: "Consent dashboard",
    skip: "Skip to content",
    nav: "Sections",
    language: "Language",
    logout: "Log out",
    search_label: "Search by consent id",
    search_hint: "32 characters, digits 0–9 and letters a–f, as on the visitor's My data page.",
    search_button: "Search",
    export: "Export the statistics",
    export_csv: "CSV (spreadsheet)",
    export_json: "JSON",

    rates: "Consent rate per category",
    rates_nav: "Consent rates",
    rates_intro: "The share of cookie decisions in which the visitor allowed the category. Necessary cookies are always on and not shown.",
    no_decisions: "No cookie decisions recorded yet.",
    decisions: p("{n} decision", "{n} decisions"),
    overall: "overall",
    chart_label: "{c}: consent rate {p}, {a} to {b}. Overall {t}. The numbers are in the table below.",
    table_caption: "Decisions and consent rates",
    period_col: "Period",
    decisions_col: "Decisions",
    all_periods: "All",
    no_data: "no decisions",
    periods: ["per day", "per week", "per month"],
    week: "week {w}, {y}",
    months: [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ],

    requests: "Open data-subject requests",
    requests_nav: "Requests",
    no_requests: "No open requests.",
    overdue: p("{n} request is overdue.", "{n} requests are overdue."),
    overdue_law: "A request must be answered within a month (GDPR, Article 12(3)).",
    requests_caption: "Overdue first, then by the nearest deadline",
    about_col: "About",
    received_col: "Received",
    deadline_col: "Deadline",
    identity_col: "Identity",
    extended: "(extended)",
    days_left: p("{n} day left", "{n} days left"),
    days_late: p("{n} day overdue", "{n} days overdue"),
    due_today: "due today",
    kinds: [
        "Access",
        "Rectification",
        "Erasure",
        "Objection",
        "Restriction",
    ],
    identities: [
        "not checked",
        "checked in person",
        "strong authentication",
        "the register's contact",
        "not confirmed",
    ],

    register: "Direct-marketing register",
    register_nav: "Register",
    register_intro: "Contacts per channel, by their latest decision.",
    register_caption: "Contacts per channel and status",
    status_col: "Status",
    total: "Total",
    no_register: "The register holds no decisions yet.",
    channels: ["E-mail", "Text message", "Post"],
    statuses: [
        "Consented",
        "Customer (soft opt-in)",
        "Refused",
        "Consent withdrawn",
        "Objected",
        "Erased and suppressed",
    ],

    log: "Log integrity",
    log_nav: "Log",
    log_ok: "The chain verifies: no record was changed or removed without leaving a trace.",
    log_broken: "The chain does not verify:",
    log_entries: "Records in the log",
    log_erased: "Of which erased on request",
    log_purged: "Purged after the retention period",
    log_checked: "Checked",
    log_unchecked: "Not checked in full: the log is too long to check while the page loads.",
    log_unchecked_so_far: p(
        "Its first record verifies; check the whole log with consent verify.",
        "Its first {n} records verify; check the whole log with consent verify.",
    ),

    found_title: "Records of a consent id",
    not_an_id: "This is not a consent id:",
    nothing_found: "No records have this consent id.",
    records: p("{n} record", "{n} records"),
    granted_col: "Allowed",
    page_col: "Page",
    erased: "erased on request",
    as_json: "The same as JSON",
    back: "Back to the overview",
    methods: [
        "Accepted all",
        "Rejected all",
        "Own choices",
        "Withdrew consent",
        "GPC signal",
    ],

    logged_out: "You are logged out",
    logged_out_text: "Your browser has forgotten the password for this page.",
    logged_out_caveat: "Not every browser forgets an HTTP login at once. On a shared computer, close the browser to be sure.",
    log_in_again: "Log in again",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_is_singular_and_the_rest_plural() {
        assert_eq!(EN.records.of(1), "1 record");
        assert_eq!(EN.records.of(0), "0 records");
        assert_eq!(FI.decisions.of(1), "1 päätös");
        assert_eq!(FI.decisions.of(3), "3 päätöstä");
        assert_eq!(SV.left(-1), "1 dag försenad");
        assert_eq!(EN.left(0), "due today");
    }

    #[test]
    fn periods_are_named_in_each_language() {
        let day = Date::from_calendar_date(2026, Month::November, 5).unwrap_or(Date::MIN);
        assert_eq!(FI.period_name(Period::Day, day), "5.11.2026");
        assert_eq!(SV.period_name(Period::Week, day), "v. 45 2026");
        assert_eq!(EN.period_name(Period::Month, day), "Nov 2026");
    }
}
