//! Statistics over the log: decisions per day, action and revision, and acceptance per
//! category. Computed from the non-personal summaries, so erased decisions still count.

use std::collections::BTreeMap;

use consent_core::Config;
use serde::Serialize;
use time::{Date, Duration};

use crate::store::StatsRow;

/// The statistics `GET /stats` and `consent stats` report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stats {
    /// Decisions in all.
    pub total: u64,
    /// Decisions per UTC day, action and revision.
    pub per_day: Vec<DayRow>,
    /// Decisions per action.
    pub per_action: BTreeMap<String, u64>,
    /// Decisions per policy revision.
    pub per_revision: BTreeMap<u32, u64>,
    /// For each category of the config, the share of decisions that granted it (0 to 1).
    pub acceptance: BTreeMap<String, f64>,
    /// The same shares per UTC day, oldest first: acceptance over time.
    pub acceptance_per_day: Vec<DayAcceptance>,
}

/// Acceptance per category on one day.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DayAcceptance {
    /// The UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// Decisions that day.
    pub decisions: u64,
    /// For each category of the config, the share of that day's decisions that granted it.
    pub acceptance: BTreeMap<String, f64>,
}

/// `n` of `total` as a share from 0 to 1 (0 when there is nothing to share).
fn share(n: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        n as f64 / total as f64
    }
}

/// Decisions of one kind on one day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DayRow {
    /// The UTC day, `YYYY-MM-DD`.
    pub day: String,
    /// How they were given.
    pub action: String,
    /// Under which revision.
    pub revision: u32,
    /// How many.
    pub count: u64,
}

impl Stats {
    /// Aggregates a store's rows for the categories of `config`.
    #[must_use]
    pub fn new(rows: &[StatsRow], config: &Config) -> Self {
        let total = rows.iter().map(|r| r.count).sum();
        let mut per_day: BTreeMap<(Date, String, u32), u64> = BTreeMap::new();
        let mut per_action = BTreeMap::new();
        let mut per_revision = BTreeMap::new();
        let mut granted: BTreeMap<&str, u64> = BTreeMap::new();
        // Per day: decisions, and grants per category id.
        let mut days: BTreeMap<Date, (u64, BTreeMap<&str, u64>)> = BTreeMap::new();
        for r in rows {
            let day = days.entry(r.day).or_default();
            day.0 += r.count;
            for id in &r.granted {
                *day.1.entry(id.as_str()).or_default() += r.count;
            }
            let action = r.action.as_str().to_owned();
            *per_day
                .entry((r.day, action.clone(), r.revision))
                .or_default() += r.count;
            *per_action.entry(action).or_default() += r.count;
            *per_revision.entry(r.revision).or_default() += r.count;
            for id in &r.granted {
                *granted.entry(id.as_str()).or_default() += r.count;
            }
        }
        let acceptance = config
            .categories()
            .iter()
            .map(|c| {
                let n = granted.get(c.id().as_str()).copied().unwrap_or(0);
                (c.id().as_str().to_owned(), share(n, total))
            })
            .collect();
        let acceptance_per_day = days
            .into_iter()
            .map(|(day, (decisions, granted))| DayAcceptance {
                day: day.to_string(),
                decisions,
                acceptance: config
                    .categories()
                    .iter()
                    .map(|c| {
                        let n = granted.get(c.id().as_str()).copied().unwrap_or(0);
                        (c.id().as_str().to_owned(), share(n, decisions))
                    })
                    .collect(),
            })
            .collect();
        let per_day = per_day
            .into_iter()
            .map(|((day, action, revision), count)| DayRow {
                day: day.to_string(),
                action,
                revision,
                count,
            })
            .collect();
        Self {
            total,
            per_day,
            per_action,
            per_revision,
            acceptance,
            acceptance_per_day,
        }
    }

    /// The per-day rows as CSV with a header line.
    #[must_use]
    pub fn to_csv(&self) -> String {
        let mut out = String::from("day,action,revision,count\n");
        for r in &self.per_day {
            // Days, actions and revisions never hold commas or quotes: no escaping needed.
            out.push_str(&format!(
                "{},{},{},{}\n",
                r.day, r.action, r.revision, r.count
            ));
        }
        out
    }

    /// A plain-text report for a person at a terminal (`consent stats`): decisions per action
    /// and per revision, then acceptance per category, each day and over all days. Columns are
    /// aligned with spaces; nothing in it is meant to be parsed (JSON and CSV are).
    #[must_use]
    pub fn to_table(&self) -> String {
        if self.total == 0 {
            return "no decisions recorded\n".to_owned();
        }
        let mut out = format!("{} decisions\n\n", self.total);
        let counts = |head: &str, rows: Vec<(String, u64)>| {
            let mut table = vec![vec![head.to_owned(), "decisions".to_owned()]];
            table.extend(rows.into_iter().map(|(k, n)| vec![k, n.to_string()]));
            align(&table)
        };
        out.push_str(&counts(
            "action",
            self.per_action
                .iter()
                .map(|(k, &n)| (k.clone(), n))
                .collect(),
        ));
        out.push('\n');
        out.push_str(&counts(
            "revision",
            self.per_revision
                .iter()
                .map(|(k, &n)| (k.to_string(), n))
                .collect(),
        ));
        out.push_str("\nacceptance per category\n");
        out.push_str(&align(&self.acceptance_rows()));
        out
    }

    /// The acceptance table's rows: a header, one row per day, and the total.
    fn acceptance_rows(&self) -> Vec<Vec<String>> {
        let ids: Vec<&String> = self.acceptance.keys().collect();
        let row = |first: &str, n: u64, shares: &BTreeMap<String, f64>| {
            let mut row = vec![first.to_owned(), n.to_string()];
            row.extend(ids.iter().map(|id| percent(shares.get(*id).copied())));
            row
        };
        let mut rows = vec![["day", "decisions"].map(str::to_owned).to_vec()];
        rows[0].extend(ids.iter().map(|id| (*id).clone()));
        for d in &self.acceptance_per_day {
            rows.push(row(&d.day, d.decisions, &d.acceptance));
        }
        rows.push(row("all", self.total, &self.acceptance));
        rows
    }
}

/// How acceptance over time is grouped: by day, by ISO week (from Monday) or by calendar
/// month, chosen by the range the data spans so that a chart and its table stay readable
/// with one day of data or with years of it.
///
/// 1. Up to 31 days: by day (at most 31 periods).
/// 2. Up to 26 weeks (182 days): by week (at most 27 periods).
/// 3. Longer: by month (25 periods for two years).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    /// One UTC day.
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
}

impl Period {
    /// Every period, shortest first.
    pub const ALL: [Period; 3] = [Period::Day, Period::Week, Period::Month];

    /// The lowercase name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// The period for data from `first` to `last` (both included), by the rules above.
    #[must_use]
    pub fn for_range(first: Date, last: Date) -> Period {
        let days = (last - first).whole_days() + 1;
        if days <= 31 {
            Period::Day
        } else if days <= 26 * 7 {
            Period::Week
        } else {
            Period::Month
        }
    }

    /// The first day of the period that holds `day`.
    #[must_use]
    pub fn start(self, day: Date) -> Date {
        match self {
            Period::Day => day,
            Period::Week => {
                day - Duration::days(i64::from(day.weekday().number_days_from_monday()))
            }
            Period::Month => day.replace_day(1).unwrap_or(day),
        }
    }

    /// The first day of the period after the one starting on `start`.
    fn next(self, start: Date) -> Date {
        match self {
            Period::Day => start + Duration::days(1),
            Period::Week => start + Duration::days(7),
            // The last day of the month plus one: the first of the next.
            Period::Month => {
                let last = time::util::days_in_month(start.month(), start.year());
                start.replace_day(last).unwrap_or(start) + Duration::days(1)
            }
        }
    }
}

/// Acceptance per category in one period of a [`Timeline`].
#[derive(Clone, Debug, PartialEq)]
pub struct PeriodAcceptance {
    /// The period's first day.
    pub start: Date,
    /// Decisions in the period (0 for a period without any, between two with some).
    pub decisions: u64,
    /// For each category of the config, the share of the period's decisions that granted it
    /// (0 to 1; 0 when there were none).
    pub acceptance: BTreeMap<String, f64>,
}

/// Acceptance per category over time, grouped by a [`Period`] fitting the range: every
/// period from the first decision's to the last one's, oldest first, empty ones included so
/// that the time axis is even.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    /// How the days are grouped.
    pub period: Period,
    /// The periods, oldest first; none without decisions.
    pub points: Vec<PeriodAcceptance>,
}

impl Timeline {
    /// Groups `stats`' days by the period their range calls for. Days that are not dates
    /// (which no store writes) are left out.
    #[must_use]
    pub fn of(stats: &Stats) -> Timeline {
        let days: Vec<(Date, &DayAcceptance)> = stats
            .acceptance_per_day
            .iter()
            .filter_map(|d| parse_day(&d.day).map(|day| (day, d)))
            .collect();
        let (Some(first), Some(last)) = (days.first(), days.last()) else {
            return Timeline {
                period: Period::Day,
                points: Vec::new(),
            };
        };
        let period = Period::for_range(first.0, last.0);
        // Grants per period and category, counted back from each day's shares: a share is
        // n / d in f64, so (n / d) * d is within an ulp of n and rounds back to it exactly.
        let mut sums: BTreeMap<Date, (u64, BTreeMap<&str, u64>)> = BTreeMap::new();
        for (day, d) in &days {
            let sum = sums.entry(period.start(*day)).or_default();
            sum.0 += d.decisions;
            for (id, share) in &d.acceptance {
                let granted = (share * d.decisions as f64).round() as u64;
                *sum.1.entry(id.as_str()).or_default() += granted;
            }
        }
        let mut points = Vec::new();
        let mut start = period.start(first.0);
        while start <= last.0 {
            let (decisions, granted) = sums.remove(&start).unwrap_or_default();
            let acceptance = stats
                .acceptance
                .keys()
                .map(|id| {
                    let n = granted.get(id.as_str()).copied().unwrap_or(0);
                    (id.clone(), share(n, decisions))
                })
                .collect();
            points.push(PeriodAcceptance {
                start,
                decisions,
                acceptance,
            });
            start = period.next(start);
        }
        Timeline { period, points }
    }
}

/// A stored day, `YYYY-MM-DD`.
fn parse_day(day: &str) -> Option<Date> {
    Date::parse(
        day,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()
}

/// A share as a whole percentage, `-` for none.
fn percent(share: Option<f64>) -> String {
    share.map_or_else(|| "-".to_owned(), |s| format!("{:.0}%", s * 100.0))
}

/// Rows as lines of columns two spaces apart: the first column left-aligned, the numbers
/// right-aligned.
fn align(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width = |c: usize| {
        rows.iter()
            .filter_map(|r| r.get(c))
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..columns).map(width).collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if c == 0 {
                line.push_str(&format!("{cell:<w$}"));
            } else {
                line.push_str(&format!("  {cell:>w$}"));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_rows() {
        let config =
            Config::from_json(consent_core::EXAMPLE_CONFIG).unwrap_or_else(|e| unreachable!("{e}"));
        let row = |day: &str, action: &str, granted: &str, count| {
            StatsRow::from_columns(day, action, 1, granted, count)
                .unwrap_or_else(|e| unreachable!("{e}"))
        };
        let rows = [
            row(
                "2026-11-01",
                "accept_all",
                "necessary,analytics,marketing",
                3,
            ),
            row("2026-11-01", "custom", "necessary,analytics", 1),
            row("2026-11-02", "reject_all", "necessary", 4),
        ];
        let s = Stats::new(&rows, &config);
        assert_eq!(s.total, 8);
        assert_eq!(s.acceptance["analytics"], 0.5);
        assert_eq!(s.acceptance["marketing"], 0.375);
        assert_eq!(s.acceptance["necessary"], 1.0);
        assert_eq!(s.per_action["reject_all"], 4);
        assert_eq!(
            s.to_csv(),
            "day,action,revision,count\n2026-11-01,accept_all,1,3\n2026-11-01,custom,1,1\n2026-11-02,reject_all,1,4\n"
        );
        let days: Vec<(&str, u64, f64)> = s
            .acceptance_per_day
            .iter()
            .map(|d| (d.day.as_str(), d.decisions, d.acceptance["analytics"]))
            .collect();
        assert_eq!(days, [("2026-11-01", 4, 1.0), ("2026-11-02", 4, 0.0)]);
        assert_eq!(s.acceptance_per_day[0].acceptance["marketing"], 0.75);
        assert_eq!(Stats::new(&[], &config).acceptance["analytics"], 0.0);
        assert!(Stats::new(&[], &config).acceptance_per_day.is_empty());
        assert_eq!(
            s.to_table(),
            "8 decisions\n\n\
             action      decisions\n\
             accept_all          3\n\
             custom              1\n\
             reject_all          4\n\
             \n\
             revision  decisions\n\
             1                 8\n\
             \n\
             acceptance per category\n\
             day         decisions  analytics  marketing  necessary\n\
             2026-11-01          4       100%        75%       100%\n\
             2026-11-02          4         0%         0%       100%\n\
             all                 8        50%        38%       100%\n"
        );
        assert_eq!(
            Stats::new(&[], &config).to_table(),
            "no decisions recorded\n"
        );
    }

    #[test]
    fn periods_follow_the_range() {
        let d = |s: &str| parse_day(s).unwrap_or_else(|| unreachable!("{s}"));
        assert_eq!(
            Period::for_range(d("2026-11-01"), d("2026-11-01")),
            Period::Day
        );
        assert_eq!(
            Period::for_range(d("2026-11-01"), d("2026-12-01")),
            Period::Day
        );
        assert_eq!(
            Period::for_range(d("2026-11-01"), d("2026-12-02")),
            Period::Week
        );
        assert_eq!(
            Period::for_range(d("2025-01-01"), d("2026-12-31")),
            Period::Month
        );
        // 2026-11-05 is a Thursday; its ISO week starts on Monday the 2nd.
        assert_eq!(Period::Week.start(d("2026-11-05")), d("2026-11-02"));
        assert_eq!(Period::Month.start(d("2026-11-05")), d("2026-11-01"));
        assert_eq!(Period::Month.next(d("2026-12-01")), d("2027-01-01"));
        assert_eq!(Period::Month.next(d("2028-02-01")), d("2028-03-01"));
    }
}
