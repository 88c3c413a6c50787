//! The Scorecard section of a vendor's page: the figures of `carnet_core::ledger::scorecard`
//! as facts, each with one line saying how it is computed. Shows; never computes.

use std::collections::BTreeMap;

use carnet_schemas::{Amount, Currency, Scorecard};
use maud::{Markup, html};

fn money(m: &BTreeMap<Currency, Amount>) -> String {
    if m.is_empty() {
        return "0".into();
    }
    let parts: Vec<String> = m.iter().map(|(c, a)| format!("{a} {c}")).collect();
    parts.join(", ")
}

fn or_dash(v: Option<String>) -> String {
    v.unwrap_or_else(|| "—".into())
}

/// The section's facts grid.
pub(super) fn facts(c: &Scorecard) -> Markup {
    html! {
        p.meta { "Computed from your own ledger; never sent to the vendor." }
        div.facts {
            div {
                strong { (or_dash(c.score.map(|s| format!("{s}/100")))) }
                "score: the mean of what is known of the four ratios below (promises, incidents, satisfaction ÷ 10, (sentiment + 2) ÷ 4)"
            }
            div {
                strong { (c.promises_kept) " of " (c.promises_settled) }
                "promises kept, of those kept or broken"
            }
            div {
                strong { (c.incidents_resolved) " of " (c.incidents) }
                "incidents resolved"
            }
            div {
                strong { (or_dash(c.median_days_to_resolution.map(|d| format!("{d:.1} days")))) }
                "median time from opening to resolution"
            }
            div {
                strong { (or_dash(c.average_satisfaction.map(|s| format!("{s:.1}")))) }
                "average satisfaction (0…10) of resolutions in the last 12 months"
            }
            div {
                strong { (or_dash(c.average_sentiment.map(|s| format!("{s:+.2}")))) }
                "average sentiment (−2…+2) of the last 12 months"
            }
            div {
                strong { (c.sentiment_trend.map_or("not enough data".into(), |t| format!("{t:+.2}"))) }
                "sentiment trend: the last 6 months' average minus the 6 months' before"
            }
            div { strong { (money(&c.spend_last_12_months)) } "spent in the last 12 months" }
            div { strong { (money(&c.spend_total)) } "spent in all" }
            div {
                strong { (c.tenure_months) " months" }
                "tenure: since the first purchase or since you added the vendor"
            }
        }
    }
}
