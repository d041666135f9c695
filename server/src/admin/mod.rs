//! The clinic's dashboard: what staff look at daily, in Finnish, Swedish or English.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /admin[?lang=]` | open data-subject requests (overdue first), consent rates per category over time (a chart and a table), the register's contacts per channel and status, the log's integrity and size; a search by consent id, the statistics' export, logout |
//! | `GET /admin/consent?id=[&lang=]` | the records of one consent id |
//! | `GET /admin/logout[?lang=]` | 401 and a page saying the browser forgot the password (403 to another site's page) |
//! | `GET /admin/admin.css`, `/admin/favicon.svg` | the stylesheet and the icon |
//!
//! The pages are rendered on the server with maud (every value escaped) and inline SVG; they
//! need no script, and their Content-Security-Policy ([`CSP`]) allows none, nor any inline
//! style. The language is `?lang=`, else the first of `Accept-Language` we have, else the
//! config's default ([`lang_of`]); every link keeps it.
//!
//! Staff log in with HTTP Basic (any user name, the admin token as the password), or send
//! `Authorization: Bearer <token>`. The browser sends that login with every request to the
//! server, those another site's page makes included, so a request from another site's page
//! other than a navigation to a page of its own (an image, a frame, a script, a `fetch`:
//! `Sec-Fetch-*`) is answered 403 before any work: the pages walk the whole log.
//!
//! # The log's check
//! The dashboard walks the whole log on every visit ([`crate::verify`]), so that an edit
//! anywhere in it shows the next time staff look; against the server's head file too
//! ([`Settings::head_file`](crate::api::Settings::head_file)), as `consent verify` does, so
//! that the whole database rolled back to an older copy under a running server is a break
//! there, not a chain that verifies.
//!
//! 1. Served by [`crate::listen::serve`], the walk stops when the request's time is nearly
//!    up ([`walk_budget`]): a log too long to walk in time (millions of decisions) gives the
//!    rest of the dashboard all the same, its overdue requests first, and the log's section
//!    says how many entries were checked, without a break, and that `consent verify` checks
//!    them all ([`LogStatus::Unchecked`]). It never says the chain verifies.
//! 2. A router served otherwise (no [`crate::listen::Deadline`]) walks to the end.
//!
//! # Logout
//! HTTP Basic has no logout: the browser keeps the password and sends it with every request
//! until it is closed. `/admin/logout` does what the browsers allow:
//!
//! 1. It answers 401 *without* a `WWW-Authenticate` challenge. A browser that sent the
//!    password drops it from its cache (Chromium does), and with no challenge it shows the
//!    page instead of asking for a password again.
//! 2. The page says so, and links back to `/admin`, whose 401 brings the login prompt back.
//! 3. A request that another site's page made (`Sec-Fetch-Site` other than `same-origin` or
//!    `none`: an image, a link, a form there), or a script (`Sec-Fetch-Mode` other than
//!    `navigate`: a `fetch` or an image of the site's own pages, which share the origin
//!    behind the documented proxy), is answered 403, which leaves the login as it is: nobody
//!    can log staff out behind their back.
//!
//! Caveats: a browser may keep the password anyway (no standard says it must forget it), so
//! the page tells staff on a shared computer to close the browser. A client sending a Bearer
//! token forgets nothing: it simply stops sending it. A browser that sends no
//! `Sec-Fetch-Site` (those before 2020-2023) is logged out by any request, as before.
//!
//! # Example
//! ```
//! use consent_core::{Config, Lang};
//! use consent_server::admin::{self, Dashboard, LogStatus, RegisterCounts};
//! use consent_server::stats::Stats;
//!
//! let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
//! let stats = Stats::new(&[], &config);
//! let now = time::OffsetDateTime::UNIX_EPOCH;
//! let log = LogStatus::Verified { entries: 0, erased: 0, purged: 0 };
//! let register = RegisterCounts::default();
//! let dashboard = Dashboard { config: &config, stats: &stats, log: &log, requests: &[], register: &register, now };
//! let html = admin::page(&dashboard, Lang::En);
//! assert!(html.contains("No cookie decisions recorded yet."));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use consent_core::register::{MarketingChannel, MarketingStatus};
use consent_core::{Config, ConsentId, Lang};
use maud::{DOCTYPE, Markup, html};
use time::OffsetDateTime;

use crate::register::requests::{Request, Subject};
use crate::stats::{Stats, Timeline};
use crate::store::{Entry, StateRow};

mod chart;
mod texts;

use chart::percent;
use texts::Texts;

/// What `verify` said of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogStatus {
    /// The chain verified.
    Verified {
        /// Entries checked: the log's size.
        entries: u64,
        /// Of which erased.
        erased: u64,
        /// Entries purged before them (retention), which a signed checkpoint stands for.
        purged: u64,
    },
    /// The chain is broken, or could not be read: what `verify` said.
    Broken(String),
    /// The walk did not reach the log's end in the time the page had (see the module's "The
    /// log's check"): no break among the entries checked, the rest unchecked.
    Unchecked {
        /// Entries checked before the time ran out.
        entries: u64,
    },
}

/// Contacts of the customer register per channel and status: how many contacts stand at
/// each status on each channel by their latest decision.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RegisterCounts {
    /// Indexed by [`MarketingChannel::ALL`], then [`MarketingStatus::ALL`].
    counts: [[u64; 6]; 3],
}

impl RegisterCounts {
    /// Counts the rows of the latest-state table. A row this version cannot read is left
    /// out: `verify` reports it (the dashboard shows the verify result beside the counts).
    #[must_use]
    pub fn from_rows(rows: &[StateRow]) -> Self {
        let mut counts = Self::default();
        for row in rows {
            let channel = MarketingChannel::ALL
                .iter()
                .position(|c| c.as_str() == row.channel);
            let status = MarketingStatus::ALL
                .iter()
                .position(|s| s.as_str() == row.status);
            if let (Some(c), Some(s)) = (channel, status) {
                counts.counts[c][s] += 1;
            }
        }
        counts
    }

    /// Contacts at `status` on `channel`.
    #[must_use]
    pub fn get(&self, channel: MarketingChannel, status: MarketingStatus) -> u64 {
        let c = MarketingChannel::ALL.iter().position(|&x| x == channel);
        let s = MarketingStatus::ALL.iter().position(|&x| x == status);
        match (c, s) {
            (Some(c), Some(s)) => self.counts[c][s],
            _ => 0,
        }
    }

    /// Contacts on `channel`, at any status.
    #[must_use]
    pub fn channel_total(&self, channel: MarketingChannel) -> u64 {
        MarketingStatus::ALL
            .iter()
            .map(|&s| self.get(channel, s))
            .sum()
    }

    /// Whether the register holds no decision at all.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.counts.iter().flatten().all(|&n| n == 0)
    }
}

/// Everything the dashboard shows.
#[derive(Clone, Copy, Debug)]
pub struct Dashboard<'a> {
    /// The site's config: the categories and their titles.
    pub config: &'a Config,
    /// The cookie decisions' statistics.
    pub stats: &'a Stats,
    /// What `verify` said.
    pub log: &'a LogStatus,
    /// Data-subject requests; closed ones are left out.
    pub requests: &'a [Request],
    /// The register's counts.
    pub register: &'a RegisterCounts,
    /// Now: what deadlines are counted from, and when the log was checked.
    pub now: OffsetDateTime,
}

/// What a search by consent id found.
#[derive(Clone, Debug)]
pub enum Lookup {
    /// The text searched for is not a consent id.
    NotAnId(String),
    /// The id's records (none when the log holds nothing for it), oldest first, and the
    /// data-subject requests about it.
    Found {
        /// The id.
        id: ConsentId,
        /// Its records.
        entries: Vec<Entry>,
    },
}

/// What is kept back from the request's time for the rest of the dashboard (its other
/// queries, the page) once the log's walk stops.
const AFTER_WALK: std::time::Duration = std::time::Duration::from_secs(5);

/// How long the log's walk may take with `remaining` of the request's time left: all but
/// 5 s of it, or half of it when it is short (the module's "The log's check").
#[must_use]
pub fn walk_budget(remaining: std::time::Duration) -> std::time::Duration {
    remaining.saturating_sub(AFTER_WALK).max(remaining / 2)
}

/// The Content-Security-Policy of every admin page: nothing but its own stylesheet and
/// icon, no script at all, forms posted only here, never framed.
pub const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                       frame-ancestors 'none'; base-uri 'none'";

/// The dashboard's language: `query` (`?lang=`) when it is one of ours, else the first of
/// `accept_language` we have, else `default`.
#[must_use]
pub fn lang_of(query: Option<&str>, accept_language: Option<&str>, default: Lang) -> Lang {
    if let Some(lang) = query.and_then(|q| q.parse().ok()) {
        return lang;
    }
    accept_language
        .and_then(|v| {
            let tags = v
                .split(',')
                .map(|t| t.split(';').next().unwrap_or("").trim());
            Lang::negotiate(tags, &Lang::ALL)
        })
        .unwrap_or(default)
}

/// The dashboard as a whole HTML document in `lang`.
#[must_use]
pub fn page(d: &Dashboard<'_>, lang: Lang) -> String {
    let t = Texts::of(lang);
    let body = html! {
        h1 { (t.title) }
        (tools(t))
        (requests_section(t, d))
        (rates_section(t, d))
        (register_section(t, d.register))
        (log_section(t, d.log, d.now))
    };
    layout(t, t.title, "/admin?", body)
}

/// The records of a consent id, or why the text searched for is not one.
#[must_use]
pub fn consent_page(config: &Config, lookup: &Lookup, lang: Lang) -> String {
    let t = Texts::of(lang);
    let here = match lookup {
        Lookup::Found { id, .. } => format!("/admin/consent?id={id}&"),
        Lookup::NotAnId(_) => "/admin/consent?".to_owned(),
    };
    let body = html! {
        h1 { (t.found_title) }
        p { a href=(format!("/admin?lang={}", lang.as_str())) { (t.back) } }
        (search_form(t, match lookup { Lookup::NotAnId(s) => s.as_str(), Lookup::Found { .. } => "" }))
        @match lookup {
            Lookup::NotAnId(text) => p.broken role="alert" { (t.not_an_id) " " code { (text) } },
            Lookup::Found { id, entries } => {
                p { code.id { (id.to_string()) } }
                @if entries.is_empty() {
                    p { (t.nothing_found) }
                } @else {
                    p { (t.records.of(len(entries.len()))) }
                    (records_table(config, t, entries))
                    p { a href=(format!("/consent/{id}")) { (t.as_json) } }
                }
            }
        }
    };
    layout(t, t.found_title, &here, body)
}

/// The page `/admin/logout` answers with (see the module's "Logout").
#[must_use]
pub fn logout_page(lang: Lang) -> String {
    let t = Texts::of(lang);
    html! {
        (DOCTYPE)
        html lang=(lang.as_str()) {
            head { (head(t.logged_out)) }
            body {
                main #main {
                    h1 { (t.logged_out) }
                    p { (t.logged_out_text) }
                    p { (t.logged_out_caveat) }
                    p { a.button href=(format!("/admin?lang={}", lang.as_str())) { (t.log_in_again) } }
                }
            }
        }
    }
    .into_string()
}

fn head(title: &str) -> Markup {
    html! {
        meta charset="utf-8";
        meta name="viewport" content="width=device-width, initial-scale=1";
        title { (title) }
        link rel="icon" href="/admin/favicon.svg" type="image/svg+xml";
        link rel="stylesheet" href="/admin/admin.css";
    }
}

/// A page of the dashboard: the bar (languages, logout), the sections' navigation, `body`.
/// `here` is this page's address up to its `lang=` (ending in `?` or `&`).
fn layout(t: &Texts, title: &str, here: &str, body: Markup) -> String {
    let lang = t.lang.as_str();
    html! {
        (DOCTYPE)
        html lang=(lang) {
            head {
                @if title == t.title { (head(title)) } @else { (head(&format!("{title} – {}", t.title))) }
            }
            body {
                a.skip href="#main" { (t.skip) }
                header.top {
                    div.bar {
                        a.brand href=(format!("/admin?lang={lang}")) { (t.title) }
                        nav.langs aria-label=(t.language) {
                            ul {
                                @for l in Lang::ALL {
                                    li {
                                        a href=(format!("{here}lang={}", l.as_str())) lang=(l.as_str())
                                            hreflang=(l.as_str())
                                            aria-current=[(l == t.lang).then_some("page")] {
                                            (l.native_name())
                                        }
                                    }
                                }
                            }
                        }
                        a.logout href=(format!("/admin/logout?lang={lang}")) { (t.logout) }
                    }
                    nav.sections aria-label=(t.nav) {
                        ul {
                            li { a href=(format!("/admin?lang={lang}#requests")) { (t.requests_nav) } }
                            li { a href=(format!("/admin?lang={lang}#rates")) { (t.rates_nav) } }
                            li { a href=(format!("/admin?lang={lang}#register")) { (t.register_nav) } }
                            li { a href=(format!("/admin?lang={lang}#log")) { (t.log_nav) } }
                        }
                    }
                }
                main #main { (body) }
            }
        }
    }
    .into_string()
}

/// The search by consent id and the export links.
fn tools(t: &Texts) -> Markup {
    html! {
        div.tools {
            (search_form(t, ""))
            section.export aria-labelledby="export" {
                h2 #export { (t.export) }
                ul {
                    li { a href="/stats?format=csv" download="consent-stats.csv" { (t.export_csv) } }
                    li { a href="/stats?format=json" download="consent-stats.json" { (t.export_json) } }
                }
            }
        }
    }
}

fn search_form(t: &Texts, value: &str) -> Markup {
    html! {
        form.search method="get" action="/admin/consent" role="search" {
            label for="search-id" { (t.search_label) }
            p #search-hint .hint { (t.search_hint) }
            div.field {
                input #search-id type="search" name="id" value=(value) required
                    autocomplete="off" spellcheck="false" aria-describedby="search-hint";
                input type="hidden" name="lang" value=(t.lang.as_str());
                button type="submit" { (t.search_button) }
            }
        }
    }
}

/// Open requests, the overdue ones first (the most overdue at the top), then by deadline.
fn open_requests(requests: &[Request], today: time::Date) -> Vec<&Request> {
    let mut open: Vec<&Request> = requests.iter().filter(|r| r.closed.is_none()).collect();
    open.sort_by_key(|r| (!r.is_overdue(today), r.deadline(), r.id));
    open
}

fn requests_section(t: &Texts, d: &Dashboard<'_>) -> Markup {
    let today = d.now.date();
    let open = open_requests(d.requests, today);
    let overdue = open.iter().filter(|r| r.is_overdue(today)).count();
    let lang = t.lang.as_str();
    html! {
        section #requests aria-labelledby="requests-h" {
            h2 #requests-h { (t.requests) }
            @if open.is_empty() {
                p { (t.no_requests) }
            } @else {
                @if overdue > 0 {
                    div.alert role="alert" {
                        p { strong { (t.overdue.of(len(overdue))) } " " (t.overdue_law) }
                    }
                }
                p.caption #requests-caption { (t.requests_caption) }
                ol.requests aria-labelledby="requests-caption" {
                    @for r in &open {
                        li.request.overdue[r.is_overdue(today)] {
                            p.what {
                                span.kind { (t.kind(r.kind)) }
                                " "
                                span.left { (t.left(r.days_left(today))) }
                            }
                            dl {
                                div { dt { "#" } dd { (r.id) } }
                                div { dt { (t.deadline_col) } dd { (t.date(r.deadline())) @if r.extended { " " (t.extended) } } }
                                div { dt { (t.received_col) } dd { (t.date(r.received)) } }
                                div { dt { (t.identity_col) } dd { (t.identity(r.identity)) } }
                                div.about {
                                    dt { (t.about_col) }
                                    dd {
                                        @match r.subject {
                                            Subject::Consent(id) => a href=(format!("/admin/consent?id={id}&lang={lang}")) { code { (id.to_string()) } },
                                            Subject::Contact(_) => code { (r.subject.to_string()) },
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The categories charted: all but necessary, which is always 100 %, with their titles in
/// the page's language.
fn charted<'c>(config: &'c Config, t: &Texts) -> Vec<(&'c str, String)> {
    let texts = config.texts(t.lang);
    config
        .categories()
        .iter()
        .filter(|c| !c.is_necessary())
        .map(|c| {
            let title = c.title(&texts);
            let title = if title.is_empty() {
                c.id().as_str()
            } else {
                title
            };
            (c.id().as_str(), title.to_owned())
        })
        .collect()
}

fn rates_section(t: &Texts, d: &Dashboard<'_>) -> Markup {
    let timeline = Timeline::of(d.stats);
    let categories = charted(d.config, t);
    let rate = |id: &str| d.stats.acceptance.get(id).copied().unwrap_or(0.0);
    html! {
        section #rates aria-labelledby="rates-h" {
            h2 #rates-h { (t.rates) }
            p { (t.rates_intro) }
            @if timeline.points.is_empty() {
                p { (t.no_decisions) }
            } @else {
                @let first = timeline.points.first().map(|p| t.period_name(timeline.period, p.start)).unwrap_or_default();
                @let last = timeline.points.last().map(|p| t.period_name(timeline.period, p.start)).unwrap_or_default();
                p.summary {
                    (t.decisions.of(len(usize::try_from(d.stats.total).unwrap_or(usize::MAX))))
                    ", " (first) @if timeline.points.len() > 1 { "–" (last) } ", " (t.period(timeline.period)) "."
                }
                div.charts {
                    @for (id, title) in &categories {
                        figure.chart-box {
                            figcaption {
                                span.cat { (title) }
                                " "
                                span.overall { (percent(rate(id))) " " (t.overall) }
                            }
                            (chart::chart(t, &timeline, id, title, rate(id)))
                        }
                    }
                }
                div.scroll role="region" aria-labelledby="rates-caption" tabindex="0" {
                    table.numbers {
                        caption #rates-caption { (t.table_caption) ", " (t.period(timeline.period)) }
                        thead {
                            tr {
                                th scope="col" { (t.period_col) }
                                th scope="col" { (t.decisions_col) }
                                @for (_, title) in &categories { th scope="col" { (title) } }
                            }
                        }
                        tbody {
                            @for p in &timeline.points {
                                tr {
                                    th.period scope="row" { (t.period_name(timeline.period, p.start)) }
                                    td { (p.decisions) }
                                    @for (id, _) in &categories {
                                        @if p.decisions == 0 {
                                            td { span.none { "–" } span.sr { (t.no_data) } }
                                        } @else {
                                            td { (percent(p.acceptance.get(*id).copied().unwrap_or(0.0))) }
                                        }
                                    }
                                }
                            }
                        }
                        tfoot {
                            tr {
                                th scope="row" { (t.all_periods) }
                                td { (d.stats.total) }
                                @for (id, _) in &categories { td { (percent(rate(id))) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn register_section(t: &Texts, counts: &RegisterCounts) -> Markup {
    html! {
        section #register aria-labelledby="register-h" {
            h2 #register-h { (t.register) }
            @if counts.is_empty() {
                p { (t.no_register) }
            } @else {
                p { (t.register_intro) }
                div.scroll role="region" aria-labelledby="register-caption" tabindex="0" {
                    table.numbers {
                        caption #register-caption { (t.register_caption) }
                        thead {
                            tr {
                                th scope="col" { (t.status_col) }
                                @for c in MarketingChannel::ALL { th scope="col" { (t.channel(c)) } }
                            }
                        }
                        tbody {
                            @for s in MarketingStatus::ALL {
                                tr {
                                    th scope="row" { (t.status(s)) }
                                    @for c in MarketingChannel::ALL { td { (counts.get(c, s)) } }
                                }
                            }
                        }
                        tfoot {
                            tr {
                                th scope="row" { (t.total) }
                                @for c in MarketingChannel::ALL { td { (counts.channel_total(c)) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn log_section(t: &Texts, log: &LogStatus, now: OffsetDateTime) -> Markup {
    html! {
        section #log aria-labelledby="log-h" {
            h2 #log-h { (t.log) }
            @match log {
                LogStatus::Verified { entries, erased, purged } => {
                    p.ok { (t.log_ok) }
                    dl.facts {
                        div { dt { (t.log_entries) } dd { (entries) } }
                        div { dt { (t.log_erased) } dd { (erased) } }
                        div { dt { (t.log_purged) } dd { (purged) } }
                        div { dt { (t.log_checked) } dd { (t.time(now)) } }
                    }
                },
                LogStatus::Broken(why) => div.alert role="alert" {
                    p { strong { (t.log_broken) } " " (why) }
                },
                LogStatus::Unchecked { entries } => div.alert role="status" {
                    p {
                        strong { (t.log_unchecked) } " "
                        (t.log_unchecked_so_far.of(i64::try_from(*entries).unwrap_or(i64::MAX)))
                    }
                },
            }
        }
    }
}

fn records_table(config: &Config, t: &Texts, entries: &[Entry]) -> Markup {
    let texts = config.texts(t.lang);
    let title = |id: &str| {
        config
            .categories()
            .iter()
            .find(|c| c.id().as_str() == id)
            .map(|c| c.title(&texts))
            .filter(|s| !s.is_empty())
            .unwrap_or(id)
            .to_owned()
    };
    html! {
        ol.records {
            @for e in entries {
                li.request {
                    @match e.record().and_then(Result::ok) {
                        Some(r) => {
                            p.what { span.kind { (t.method(r.action())) } " " span.left { (t.time(r.time())) } }
                            dl {
                                div { dt { "#" } dd { (e.seq) } }
                                div {
                                    dt { (t.granted_col) }
                                    dd {
                                        (r.categories().iter().filter(|c| c.granted).map(|c| title(c.id.as_str())).collect::<Vec<_>>().join(", "))
                                    }
                                }
                                div { dt { (t.language) } dd { (r.lang().native_name()) } }
                                @if let Some(page) = r.page_url() {
                                    div.about { dt { (t.page_col) } dd { code { (page.to_string()) } } }
                                }
                            }
                        },
                        None => {
                            p.what { span.kind { (t.erased) } " " span.left { (t.time(e.time)) } }
                            dl { div { dt { "#" } dd { (e.seq) } } }
                        },
                    }
                }
            }
        }
    }
}

/// A count for [`texts::Plural`].
fn len(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The icon `/admin/favicon.svg` (and, for the server's other pages, `/consent/favicon.svg`
/// and `/favicon.ico`) serves: a check mark on the dashboard's blue.
pub const FAVICON: &str = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">\
<rect width=\"32\" height=\"32\" rx=\"6\" fill=\"#0b5fa5\"/>\
<path d=\"M8 17l5 5 11-12\" fill=\"none\" stroke=\"#fff\" stroke-width=\"4\"/></svg>";

/// The stylesheet `/admin/admin.css` serves.
pub const STYLESHEET: &str = include_str!("admin.css");

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StatsRow;

    fn config() -> Config {
        Config::from_json(consent_core::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn row(day: &str, granted: &str, count: u64) -> StatsRow {
        StatsRow::from_columns(day, "custom", 1, granted, count as i64)
            .unwrap_or_else(|e| unreachable!("{e}"))
    }

    fn render(c: &Config, stats: &Stats, log: &LogStatus, lang: Lang) -> String {
        let register = RegisterCounts::default();
        page(
            &Dashboard {
                config: c,
                stats,
                log,
                requests: &[],
                register: &register,
                now: OffsetDateTime::UNIX_EPOCH,
            },
            lang,
        )
    }

    #[test]
    fn a_chart_per_category_with_a_bar_per_day() {
        let c = config();
        let rows = [
            row("2026-11-01", "necessary,analytics", 3),
            row("2026-11-01", "necessary", 1),
            row("2026-11-02", "necessary,analytics,marketing", 2),
        ];
        let stats = Stats::new(&rows, &c);
        let log = LogStatus::Verified {
            entries: 6,
            erased: 1,
            purged: 0,
        };
        let html = render(&c, &stats, &log, Lang::En);
        assert_eq!(
            html.matches("<svg class=\"chart\"").count(),
            2,
            "analytics, marketing"
        );
        assert!(!html.contains(r#"data-category="necessary""#));
        // Two days, two bars each; marketing's first day is a 0 % hairline.
        assert_eq!(html.matches("<rect class=\"bar\"").count(), 4, "{html}");
        assert!(html.contains("75\u{a0}%"), "{html}");
        assert!(
            html.contains("6 decisions, 2026-11-01–2026-11-02, per day."),
            "{html}"
        );
        assert!(!html.contains("style="), "no inline style for a strict CSP");
        // SVG elements in HTML must be closed explicitly, or the parser nests what follows.
        for tag in ["line", "rect", "text"] {
            assert_eq!(
                html.matches(&format!("<{tag} ")).count(),
                html.matches(&format!("</{tag}>")).count(),
                "{tag}"
            );
        }
    }

    #[test]
    fn a_broken_log_is_an_alert_and_text_is_escaped() {
        let c = config();
        let html = render(
            &c,
            &Stats::new(&[], &c),
            &LogStatus::Broken("record 7: <edited>".into()),
            Lang::Fi,
        );
        assert!(html.contains(r#"role="alert""#));
        assert!(html.contains("record 7: &lt;edited&gt;"));
        assert!(html.contains("Evästepäätöksiä ei ole vielä tallennettu."));
        assert!(html.contains(r#"<html lang="fi">"#));
    }

    #[test]
    fn a_log_not_walked_to_its_end_is_never_said_to_verify() {
        let c = config();
        let stats = Stats::new(&[], &c);
        let html = render(
            &c,
            &stats,
            &LogStatus::Unchecked { entries: 1200 },
            Lang::En,
        );
        assert!(!html.contains("The chain verifies"), "{html}");
        assert!(
            html.contains(
                "<strong>Not checked in full: the log is too long to check while the page \
                 loads.</strong> Its first 1200 records verify; check the whole log with \
                 consent verify."
            ),
            "{html}"
        );
        let fi = render(&c, &stats, &LogStatus::Unchecked { entries: 1 }, Lang::Fi);
        assert!(fi.contains("Ensimmäinen tietue on eheä"), "{fi}");
    }

    #[test]
    fn the_walk_leaves_time_for_the_rest_of_the_page() {
        let s = std::time::Duration::from_secs;
        assert_eq!(walk_budget(s(30)), s(25));
        assert_eq!(walk_budget(s(2)), s(1));
        assert_eq!(walk_budget(s(0)), s(0));
    }

    #[test]
    fn the_language_is_the_query_else_accept_language_else_the_default() {
        assert_eq!(lang_of(Some("sv"), Some("en"), Lang::Fi), Lang::Sv);
        assert_eq!(
            lang_of(Some("de"), Some("de-DE, en;q=0.8"), Lang::Fi),
            Lang::En
        );
        assert_eq!(lang_of(None, Some("de"), Lang::Fi), Lang::Fi);
        assert_eq!(lang_of(None, None, Lang::Sv), Lang::Sv);
    }
}
