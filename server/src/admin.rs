//! The admin page: acceptance per category over time as a chart, decisions per day, and the
//! log's verify status, rendered on the server as plain HTML and inline SVG.
//!
//! `GET /admin` serves it behind the admin token: `Authorization: Bearer <token>`, or HTTP
//! Basic with the token as the password, so a browser can open it with its own login prompt.
//! It needs no script and no inline style.
//!
//! # Example
//! ```
//! use consent_core::Config;
//! use consent_server::admin::{self, LogStatus};
//! use consent_server::stats::Stats;
//!
//! let config = Config::from_json(consent_core::EXAMPLE_CONFIG)?;
//! let stats = Stats::new(&[], &config);
//! let html = admin::page(&config, &stats, &LogStatus::Verified { entries: 0, erased: 0 }, &[]);
//! assert!(html.contains("No decisions yet"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use consent_core::Config;
use maud::{DOCTYPE, Markup, PreEscaped, html};

use crate::register::requests::Request;
use crate::stats::Stats;

/// What `verify` said of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogStatus {
    /// The chain verified.
    Verified {
        /// Entries checked.
        entries: u64,
        /// Of which erased.
        erased: u64,
    },
    /// The chain is broken, or could not be read: what `verify` said.
    Broken(String),
}

/// The chart's size, in SVG user units.
const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 44.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 10.0;
const RIGHT: f64 = 12.0;

/// Line colours (Okabe-Ito, distinguishable with colour-blindness) and dash patterns, so the
/// lines differ by more than colour.
const STROKES: [(&str, &str); 4] = [
    ("#0072B2", ""),
    ("#D55E00", "6 3"),
    ("#009E73", "2 3"),
    ("#CC79A7", "8 3 2 3"),
];

/// The admin page as a whole HTML document. `extra` sections (such as open data-subject
/// requests) are added after the log status.
#[must_use]
pub fn page(config: &Config, stats: &Stats, log: &LogStatus, extra: &[Markup]) -> String {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Consent log – admin" }
                link rel="stylesheet" href="/admin/admin.css";
            }
            body {
                main {
                    h1 { "Consent log" }
                    section aria-labelledby="log" {
                        h2 #log { "Log integrity" }
                        @match log {
                            LogStatus::Verified { entries, erased } => p.ok {
                                "The chain verifies: " (entries) " records (" (erased) " erased)."
                            },
                            LogStatus::Broken(why) => p.broken role="alert" { "The chain does not verify: " (why) },
                        }
                    }
                    section aria-labelledby="acc" {
                        h2 #acc { "Acceptance per category" }
                        @if stats.total == 0 {
                            p { "No decisions yet." }
                        } @else {
                            p { (stats.total) " decisions in all." }
                            (chart(config, stats))
                            (table(config, stats))
                        }
                    }
                    @for section in extra { (section) }
                }
            }
        }
    }
    .into_string()
}

/// The stylesheet `/admin/admin.css` serves.
pub const STYLESHEET: &str = "body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1a1a1a}\
main{max-width:60rem;margin:0 auto;padding:1rem}\
.ok{color:#05612e}.broken{color:#a30000;font-weight:600}\
svg{max-width:100%;height:auto}\
table{border-collapse:collapse;margin-top:1rem}\
th,td{border-bottom:1px solid #ccc;padding:.25rem .75rem;text-align:right}\
th:first-child,td:first-child{text-align:left}\
.legend{display:flex;gap:1rem;list-style:none;padding:0}\
.legend svg{vertical-align:middle}\
tr.overdue td,tr.overdue th{color:#a30000;font-weight:600}";

/// The categories the chart draws: all but necessary, which is always 100 %.
fn charted(config: &Config) -> impl Iterator<Item = (usize, &str)> {
    config
        .categories()
        .iter()
        .filter(|c| !c.is_necessary())
        .map(|c| c.id().as_str())
        .enumerate()
}

fn chart(config: &Config, stats: &Stats) -> Markup {
    let days = &stats.acceptance_per_day;
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let x = |i: usize| {
        if days.len() <= 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (days.len() - 1) as f64
        }
    };
    let y = |rate: f64| TOP + plot_h * (1.0 - rate.clamp(0.0, 1.0));
    let first = days.first().map_or("", |d| d.day.as_str());
    let last = days.last().map_or("", |d| d.day.as_str());
    let label = format!("Share of decisions granting each category per day, {first} to {last}");
    html! {
        figure {
            svg viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(label) {
                @for pct in [0u8, 25, 50, 75, 100] {
                    @let yy = y(f64::from(pct) / 100.0);
                    line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(yy) y2=(yy) stroke="#ddd" {}
                    text x=(LEFT - 6.0) y=(yy + 4.0) text-anchor="end" font-size="11" { (pct) "%" }
                }
                @if days.len() == 1 {
                    text x=(x(0)) y=(HEIGHT - 8.0) font-size="11" text-anchor="middle" { (first) }
                } @else {
                    text x=(LEFT) y=(HEIGHT - 8.0) font-size="11" { (first) }
                }
                @if days.len() > 1 {
                    text x=(WIDTH - RIGHT) y=(HEIGHT - 8.0) font-size="11" text-anchor="end" { (last) }
                }
                @for (i, id) in charted(config) {
                    @let (colour, dash) = STROKES[i % STROKES.len()];
                    @let points = days.iter().enumerate().map(|(n, d)| {
                        format!("{:.1},{:.1}", x(n), y(d.acceptance.get(id).copied().unwrap_or(0.0)))
                    }).collect::<Vec<_>>().join(" ");
                    polyline points=(points) fill="none" stroke=(colour) stroke-width="2"
                        stroke-dasharray=(dash) data-category=(id) {}
                    @for (n, d) in days.iter().enumerate() {
                        circle cx=(format!("{:.1}", x(n)))
                            cy=(format!("{:.1}", y(d.acceptance.get(id).copied().unwrap_or(0.0))))
                            r="3" fill=(colour) {
                            title { (id) " " (d.day) ": " (percent(d.acceptance.get(id).copied().unwrap_or(0.0))) }
                        }
                    }
                }
            }
            figcaption {
                ul.legend {
                    @for (i, id) in charted(config) {
                        @let (colour, dash) = STROKES[i % STROKES.len()];
                        li {
                            svg width="28" height="10" aria-hidden="true" {
                                line x1="0" x2="28" y1="5" y2="5" stroke=(colour) stroke-width="2" stroke-dasharray=(dash) {}
                            }
                            " " (id)
                        }
                    }
                }
            }
        }
    }
}

fn table(config: &Config, stats: &Stats) -> Markup {
    html! {
        table {
            caption { "Decisions and acceptance per day (UTC)" }
            thead {
                tr {
                    th scope="col" { "Day" }
                    th scope="col" { "Decisions" }
                    @for (_, id) in charted(config) { th scope="col" { (id) } }
                }
            }
            tbody {
                @for d in &stats.acceptance_per_day {
                    tr {
                        th scope="row" { (d.day) }
                        td { (d.decisions) }
                        @for (_, id) in charted(config) {
                            td { (percent(d.acceptance.get(id).copied().unwrap_or(0.0))) }
                        }
                    }
                }
            }
            tfoot {
                tr {
                    th scope="row" { "All days" }
                    td { (stats.total) }
                    @for (_, id) in charted(config) {
                        td { (percent(stats.acceptance.get(id).copied().unwrap_or(0.0))) }
                    }
                }
            }
        }
    }
}

/// The open data-subject requests, soonest deadline first, overdue ones marked: a section
/// for [`page`]'s `extra`.
#[must_use]
pub fn requests_section(requests: &[Request], today: time::Date) -> Markup {
    let mut open: Vec<&Request> = requests.iter().filter(|r| r.closed.is_none()).collect();
    open.sort_by_key(|r| (r.deadline(), r.id));
    let overdue = open.iter().filter(|r| r.is_overdue(today)).count();
    html! {
        section aria-labelledby="dsr" {
            h2 #dsr { "Open data-subject requests" }
            @if open.is_empty() {
                p { "None open." }
            } @else {
                @if overdue > 0 {
                    p.broken role="alert" { (overdue) " overdue: the law gives one month (GDPR art. 12(3))." }
                }
                table {
                    caption { "Answer each within a month of receiving it (" (today) ")" }
                    thead {
                        tr {
                            th scope="col" { "#" }
                            th scope="col" { "Request" }
                            th scope="col" { "About" }
                            th scope="col" { "Received" }
                            th scope="col" { "Deadline" }
                            th scope="col" { "Days left" }
                        }
                    }
                    tbody {
                        @for r in &open {
                            tr.overdue[r.is_overdue(today)] {
                                th scope="row" { (r.id) }
                                td { (r.kind.as_str()) }
                                td { code { (r.subject.to_string()) } }
                                td { (r.received) }
                                td { (r.deadline()) @if r.extended { " (extended)" } }
                                td { (r.days_left(today)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn percent(share: f64) -> PreEscaped<String> {
    PreEscaped(format!("{:.0}&nbsp;%", share * 100.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StatsRow;

    fn config() -> Config {
        Config::from_json(consent_core::EXAMPLE_CONFIG).unwrap()
    }

    fn row(day: &str, granted: &str, count: u64) -> StatsRow {
        StatsRow {
            day: day.into(),
            action: "custom".into(),
            revision: 1,
            granted: granted.into(),
            count,
        }
    }

    #[test]
    fn chart_has_a_line_per_category_with_a_point_per_day() {
        let c = config();
        let rows = [
            row("2026-11-01", "necessary,analytics", 3),
            row("2026-11-01", "necessary", 1),
            row("2026-11-02", "necessary,analytics,marketing", 2),
        ];
        let stats = Stats::new(&rows, &c);
        let html = page(
            &c,
            &stats,
            &LogStatus::Verified {
                entries: 6,
                erased: 1,
            },
            &[],
        );
        assert_eq!(html.matches("<polyline").count(), 2, "analytics, marketing");
        assert!(!html.contains(r#"data-category="necessary""#));
        // Two days: the analytics line goes from 75 % to 100 %.
        let analytics = html
            .split(r#"data-category="analytics""#)
            .next()
            .and_then(|s| s.rsplit("points=\"").next())
            .unwrap();
        let ys: Vec<f64> = analytics
            .split(['"', ' '])
            .take(2)
            .map(|p| p.split(',').nth(1).unwrap().parse().unwrap())
            .collect();
        assert_eq!(ys.len(), 2);
        assert!(
            ys[0] > ys[1],
            "75 % is lower on the chart than 100 %: {ys:?}"
        );
        assert!(html.contains("75&nbsp;%"));
        assert!(html.contains("The chain verifies: 6 records (1 erased)"));
        assert!(!html.contains("style="), "no inline style for a strict CSP");
        // SVG elements in HTML must be closed explicitly, or the parser nests what follows.
        assert_eq!(
            html.matches("<line").count(),
            html.matches("</line>").count()
        );
        assert_eq!(
            html.matches("<polyline").count(),
            html.matches("</polyline>").count()
        );
    }

    #[test]
    fn a_broken_log_is_an_alert_and_text_is_escaped() {
        let c = config();
        let html = page(
            &c,
            &Stats::new(&[], &c),
            &LogStatus::Broken("record 7: <edited>".into()),
            &[],
        );
        assert!(html.contains(r#"role="alert""#));
        assert!(html.contains("record 7: &lt;edited&gt;"));
        assert!(html.contains("No decisions yet."));
    }
}
