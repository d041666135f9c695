//! The consent-rate chart: one small bar chart per category ("small multiples"), so that no
//! series hides another, drawn as inline SVG on the server.
//!
//! Each chart has a bar per period of the [`Timeline`], at most 40 units wide, so one day of
//! data is one readable bar and two years are 25 monthly ones. Its viewBox is about as wide
//! as a phone's column, so its labels stay legible there. The SVG is an image with a text
//! alternative (`role="img"`, `aria-label`); the table beside it holds every number.

use maud::{Markup, html};

use super::texts::Texts;
use crate::stats::Timeline;

/// The chart's size, in SVG user units.
const WIDTH: f64 = 320.0;
const HEIGHT: f64 = 150.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 26.0;
/// The widest a bar gets, so one period is a bar, not a block.
const MAX_BAR: f64 = 40.0;
/// Up to this many bars carry their value above them; more would overlap.
const LABELLED: usize = 12;

/// One category's chart: `id` and `title` from the config, `overall` its rate over all
/// periods.
pub(crate) fn chart(t: &Texts, timeline: &Timeline, id: &str, title: &str, overall: f64) -> Markup {
    let points = &timeline.points;
    let n = points.len().max(1);
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / n as f64;
    let bar = (slot * 0.7).min(MAX_BAR);
    let x = |i: usize| LEFT + slot * i as f64 + (slot - bar) / 2.0;
    let y = |rate: f64| TOP + plot_h * (1.0 - rate.clamp(0.0, 1.0));
    let name = |i: usize| {
        points
            .get(i)
            .map(|p| t.period_name(timeline.period, p.start))
            .unwrap_or_default()
    };
    let first = name(0);
    let last = name(points.len().saturating_sub(1));
    let label = t
        .chart_label
        .replace("{c}", title)
        .replace("{p}", t.period(timeline.period))
        .replace("{a}", &first)
        .replace("{b}", &last)
        // One period: "1.11.2026–1.11.2026" would read as a range.
        .replace(&format!("{first}–{first}"), &first)
        .replace(&format!("{first} to {first}"), &first)
        .replace("{t}", &percent(overall));
    html! {
        svg.chart viewBox=(format!("0 0 {WIDTH} {HEIGHT}")) role="img" aria-label=(label)
            data-category=(id) {
            @for pct in [0u8, 50, 100] {
                @let yy = y(f64::from(pct) / 100.0);
                line x1=(LEFT) x2=(WIDTH - RIGHT) y1=(yy) y2=(yy) stroke="#c8c8c8" {}
                text x=(LEFT - 5.0) y=(yy + 4.0) text-anchor="end" font-size="11" fill="#3d3d3d" {
                    (pct) " %"
                }
            }
            @for (i, p) in points.iter().enumerate() {
                @if p.decisions > 0 {
                    @let rate = p.acceptance.get(id).copied().unwrap_or(0.0);
                    @let top = y(rate);
                    // A bar of 0 % is a hairline, so that "none" reads apart from "no data".
                    rect.bar x=(fmt(x(i))) y=(fmt(top.min(y(0.0) - 1.5))) width=(fmt(bar))
                        height=(fmt((y(0.0) - top).max(1.5))) fill="#0b5fa5" {
                        title { (name(i)) ": " (percent(rate)) }
                    }
                    @if points.len() <= LABELLED {
                        text x=(fmt(x(i) + bar / 2.0)) y=(fmt(top - 4.0)) text-anchor="middle"
                            font-size="11" fill="#1a1a1a" { (percent(rate)) }
                    }
                }
            }
            @if points.len() == 1 {
                text x=(fmt(x(0) + bar / 2.0)) y=(HEIGHT - 8.0) text-anchor="middle" font-size="11"
                    fill="#3d3d3d" { (first) }
            } @else {
                text x=(LEFT) y=(HEIGHT - 8.0) font-size="11" fill="#3d3d3d" { (first) }
                text x=(WIDTH - RIGHT) y=(HEIGHT - 8.0) text-anchor="end" font-size="11"
                    fill="#3d3d3d" { (last) }
            }
        }
    }
}

/// A coordinate, to a tenth of a unit.
fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

/// A share as a whole percentage with a (non-breaking) space before the sign, as all three
/// languages write it.
pub(crate) fn percent(share: f64) -> String {
    format!("{:.0}\u{a0}%", share * 100.0)
}
