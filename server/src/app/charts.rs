//! A vendor's pictures, drawn here as small SVG (no script, no library, no inline style: only
//! presentation attributes): spend per month, sentiment per month, accesses per day. Each has
//! a title and description for screen readers and the same figures as a visually hidden
//! table. They are drawn from what the caller already holds (the purchases loyalty opened,
//! the sentiments the index keeps, the access log's counts per day): nothing is read here.

use std::collections::BTreeMap;

use carnet_schemas::{Currency, PurchaseFields};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use maud::{Markup, html};
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

const WIDTH: f64 = 360.0;
const HEIGHT: f64 = 150.0;
/// Room under the plot for the labels.
const FOOT: f64 = 20.0;
const TOP: f64 = 8.0;
const INK: &str = "#1f4e79";
const GRID: &str = "#8a8a8a";

/// The 12 months ending with `now`'s, oldest first, as (year, month).
pub fn last_months(now: DateTime<Utc>, n: u32) -> Vec<(i32, u32)> {
    let (mut y, mut m) = (now.year(), now.month());
    let mut out = Vec::with_capacity(n as usize);
    for _ in 0..n {
        out.push((y, m));
        if m == 1 {
            y -= 1;
            m = 12;
        } else {
            m -= 1;
        }
    }
    out.reverse();
    out
}

fn month_label(y: i32, m: u32) -> String {
    format!("{y}-{m:02}")
}

/// One bar per label; `shown` is each value as the hidden table says it.
fn bars(id: &str, title: &str, desc: &str, rows: &[(String, f64, String)]) -> Markup {
    let max = rows.iter().map(|r| r.1).fold(0.0_f64, f64::max);
    let n = rows.len().max(1) as f64;
    let slot = WIDTH / n;
    let plot = HEIGHT - FOOT - TOP;
    let every = if rows.len() > 12 { 5 } else { 2 };
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img"
                aria-labelledby={ (id) "-t " (id) "-d" } {
                title id={ (id) "-t" } { (title) }
                desc id={ (id) "-d" } { (desc) }
                line x1="0" y1=(HEIGHT - FOOT) x2=(WIDTH) y2=(HEIGHT - FOOT) stroke=(GRID) stroke-width="1" {}
                @for (i, (label, value, _)) in rows.iter().enumerate() {
                    @let h = if max > 0.0 { value / max * plot } else { 0.0 };
                    @let x = i as f64 * slot + slot * 0.15;
                    rect x=(fmt(x)) y=(fmt(HEIGHT - FOOT - h)) width=(fmt(slot * 0.7)) height=(fmt(h)) fill=(INK) {}
                    @if i % every == 0 || i + 1 == rows.len() {
                        @let (x, anchor) = label_at(i, rows.len(), slot);
                        text x=(fmt(x)) y=(fmt(HEIGHT - 5.0)) font-size="9" text-anchor=(anchor) fill="#333" { (short(label)) }
                    }
                }
            }
            (table(title, rows))
        }
    }
}

/// The figures of a chart, for those who do not see it.
fn table(title: &str, rows: &[(String, f64, String)]) -> Markup {
    html! {
        table.hidden {
            caption { (title) }
            tr { th scope="col" { "Period" } th scope="col" { "Value" } }
            @for (label, _, shown) in rows {
                tr { th scope="row" { (label) } td { (shown) } }
            }
        }
    }
}

/// A month label without its year, a day without its month.
/// Where the label of slot `i` of `n` goes: centred under it, but the first and the last
/// kept inside the picture.
fn label_at(i: usize, n: usize, slot: f64) -> (f64, &'static str) {
    if i == 0 {
        (0.0, "start")
    } else if i + 1 == n {
        (n as f64 * slot, "end")
    } else {
        (i as f64 * slot + slot / 2.0, "middle")
    }
}

fn short(label: &str) -> &str {
    label.get(5..).unwrap_or(label)
}

fn fmt(v: f64) -> String {
    format!("{v:.1}")
}

/// Spend per month over the last 12 months, one chart per currency spent in them.
pub fn spend_per_month(purchases: &[PurchaseFields], now: DateTime<Utc>) -> Markup {
    let months = last_months(now, 12);
    let first = months[0];
    let mut sums: BTreeMap<&Currency, BTreeMap<(i32, u32), Decimal>> = BTreeMap::new();
    for p in purchases {
        let Some(d) = p.date else { continue };
        let ym = (d.year(), d.month());
        if ym < first || ym > months[months.len() - 1] {
            continue;
        }
        // An amount that does not parse is refused by loyalty's total already.
        let Ok(amount) = Decimal::from_str_exact(p.amount.as_str()) else {
            continue;
        };
        let sum = sums.entry(&p.currency).or_default().entry(ym).or_default();
        *sum = sum.checked_add(amount).unwrap_or(*sum);
    }
    html! {
        @if sums.is_empty() {
            p.empty { "No purchase in the last 12 months." }
        }
        @for (currency, by_month) in &sums {
            @let rows: Vec<(String, f64, String)> = months.iter().map(|(y, m)| {
                let sum = by_month.get(&(*y, *m)).copied().unwrap_or_default();
                (month_label(*y, *m), sum.to_f64().unwrap_or(0.0), format!("{sum} {currency}"))
            }).collect();
            @let total: Decimal = by_month.values().copied().sum();
            (bars(
                &format!("spend-{currency}"),
                &format!("Spend per month, {currency}"),
                &format!("{total} {currency} over the last 12 months, by month (bars)."),
                &rows,
            ))
        }
    }
}

/// The average sentiment (−2…+2) of each of the last 12 months' interactions that have one:
/// a point per month with interactions, joined by a line.
pub fn sentiment_per_month(sentiments: &[(DateTime<Utc>, i8)], now: DateTime<Utc>) -> Markup {
    let months = last_months(now, 12);
    let mut sums: BTreeMap<(i32, u32), (i64, i64)> = BTreeMap::new();
    for (t, s) in sentiments {
        let e = sums.entry((t.year(), t.month())).or_default();
        e.0 += i64::from(*s);
        e.1 += 1;
    }
    let averages: Vec<Option<f64>> = months
        .iter()
        .map(|ym| sums.get(ym).map(|(s, n)| *s as f64 / *n as f64))
        .collect();
    let slot = WIDTH / months.len() as f64;
    let plot = HEIGHT - FOOT - TOP;
    let y_of = |v: f64| TOP + (2.0 - v) / 4.0 * plot;
    let points: Vec<(f64, f64)> = averages
        .iter()
        .enumerate()
        .filter_map(|(i, a)| a.map(|v| (i as f64 * slot + slot / 2.0, y_of(v))))
        .collect();
    let path: String = points
        .iter()
        .map(|(x, y)| format!("{},{}", fmt(*x), fmt(*y)))
        .collect::<Vec<_>>()
        .join(" ");
    let with = averages.iter().filter(|a| a.is_some()).count();
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-labelledby="sentiment-t sentiment-d" {
                title id="sentiment-t" { "Sentiment per month" }
                desc id="sentiment-d" {
                    "Average sentiment of the interactions, from −2 to +2, for each of the last 12 months ("
                    (with) " with a sentiment)."
                }
                @for (v, label) in [(-2.0, "−2"), (0.0, "0"), (2.0, "+2")] {
                    line x1="0" y1=(fmt(y_of(v))) x2=(WIDTH) y2=(fmt(y_of(v))) stroke=(GRID)
                        stroke-width="1" stroke-dasharray=[(v != 0.0).then_some("3 3")] {}
                    text x="2" y=(fmt(y_of(v) - 2.0)) font-size="9" fill="#333" { (label) }
                }
                @if points.len() > 1 {
                    polyline points=(path) fill="none" stroke=(INK) stroke-width="2" {}
                }
                @for (x, y) in &points {
                    circle cx=(fmt(*x)) cy=(fmt(*y)) r="4" fill=(INK) {}
                }
                @for (i, (y, m)) in months.iter().enumerate() {
                    @if i % 2 == 0 || i + 1 == months.len() {
                        @let (x, anchor) = label_at(i, months.len(), slot);
                        text x=(fmt(x)) y=(fmt(HEIGHT - 5.0)) font-size="9" text-anchor=(anchor) fill="#333" { (short(&month_label(*y, *m))) }
                    }
                }
            }
            @let rows: Vec<(String, f64, String)> = months.iter().zip(&averages).map(|((y, m), a)| {
                (month_label(*y, *m), 0.0, a.map_or("no sentiment recorded".to_owned(), |v| format!("{v:+.2}")))
            }).collect();
            (table("Sentiment per month", &rows))
        }
    }
}

/// Access-log entries per day over the last 30 days (today included).
pub fn accesses_per_day(days: &BTreeMap<NaiveDate, u64>, now: DateTime<Utc>) -> Markup {
    let today = now.date_naive();
    let rows: Vec<(String, f64, String)> = (0..30)
        .rev()
        .map(|back| {
            let day = today - Duration::days(back);
            let n = days.get(&day).copied().unwrap_or(0);
            (day.to_string(), n as f64, n.to_string())
        })
        .collect();
    let total: u64 = rows.iter().map(|r| r.1 as u64).sum();
    bars(
        "accesses",
        "Accesses per day",
        &format!(
            "{total} access-log entries in the last 30 days, by day (bars); repeated identical reads count once."
        ),
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_months_end_with_this_one_across_a_new_year() {
        let now = DateTime::parse_from_rfc3339("2026-02-10T00:00:00Z")
            .unwrap()
            .to_utc();
        let m = last_months(now, 12);
        assert_eq!(m.len(), 12);
        assert_eq!(m[0], (2025, 3));
        assert_eq!(m[11], (2026, 2));
    }

    fn purchase(day: &str, amount: &str, currency: &str) -> PurchaseFields {
        PurchaseFields {
            vendor_id: "ven_0000000000000000".parse().unwrap(),
            item: "thing".parse().unwrap(),
            amount: amount.parse().unwrap(),
            currency: currency.parse().unwrap(),
            date: Some(day.parse().unwrap()),
            warranty_until: None,
            receipt: None,
            import_key: None,
        }
    }

    #[test]
    fn spend_is_summed_exactly_per_month_and_currency_within_the_last_twelve_months() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T00:00:00Z")
            .unwrap()
            .to_utc();
        let html = spend_per_month(
            &[
                purchase("2026-11-02", "0.10", "EUR"),
                purchase("2026-11-30", "0.20", "EUR"),
                purchase("2025-12-31", "1000", "EUR"),
                purchase("2026-01-15", "5", "USD"),
            ],
            now,
        )
        .into_string();
        assert_eq!(html.matches("<svg").count(), 2, "one chart per currency");
        assert!(html.contains("<td>0.30 EUR</td>"), "{html}");
        assert!(
            html.contains("0.30 EUR over the last 12 months"),
            "a year ago is out"
        );
        assert!(html.contains("<td>5 USD</td>"));
        let none = spend_per_month(&[purchase("2024-01-01", "1", "EUR")], now).into_string();
        assert!(!none.contains("<svg"));
    }

    #[test]
    fn sentiment_is_averaged_per_month_and_accesses_counted_per_day() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T12:00:00Z")
            .unwrap()
            .to_utc();
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
        let html = sentiment_per_month(
            &[
                (at("2026-12-01T00:00:00Z"), 2),
                (at("2026-12-05T00:00:00Z"), -1),
                (at("2026-10-05T00:00:00Z"), -2),
            ],
            now,
        )
        .into_string();
        assert!(html.contains("<td>+0.50</td>") && html.contains("<td>-2.00</td>"));
        assert_eq!(html.matches("<circle").count(), 2);
        let mut days = BTreeMap::new();
        days.insert(now.date_naive(), 3);
        days.insert(now.date_naive() - Duration::days(40), 9);
        let html = accesses_per_day(&days, now).into_string();
        assert!(
            html.contains("3 access-log entries in the last 30 days"),
            "{html}"
        );
        assert_eq!(html.matches("<rect").count(), 30);
    }
}
