//! How subscriptions show: a list with each one's price, next payment and notice deadline,
//! and its Cancel / Ask the market buttons (the Subscriptions page, a vendor's page); the
//! projected totals per currency; Today's renewals. Markup only: it reads nothing and changes
//! nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use carnet_schemas::{PaymentProjection, Subscription, SubscriptionState, VendorId};
use chrono::NaiveDate;
use maud::{Markup, html};

use super::shell::{button_form, csrf, empty};
use super::signed::Signed;
use super::today::vendor_link;

fn price(s: &Subscription) -> String {
    let f = &s.fields;
    format!("{} {} / {}", f.amount, f.currency, f.every.as_str())
}

/// Subscriptions, each with its dates and buttons (Ask the market only while it can be: a
/// category, and a notice deadline from `today` on); a button brings back to the vendor's
/// page if `on_vendor_page`, else to the Subscriptions page.
pub(super) fn list(
    signed: &Signed,
    items: &[Subscription],
    names: &HashMap<VendorId, String>,
    today: NaiveDate,
    on_vendor_page: bool,
) -> Markup {
    let back = if on_vendor_page { "?back=vendor" } else { "" };
    html! {
        ul.items {
            @for s in items {
                li id=(s.id) {
                    strong { (s.fields.item) } " " span.tag { (price(s)) } " "
                    @match s.state {
                        SubscriptionState::Active => {},
                        st => span.tag.bad { (st.as_str()) },
                    }
                    div.meta {
                        @if !on_vendor_page { (vendor_link(names, &s.fields.vendor_id)) " · " }
                        @match s.next_payment {
                            Some(d) => { "next payment " (d) },
                            None => "no payment ahead",
                        }
                        @if let Some(d) = s.notice_deadline { " · notice deadline " strong { (d) } }
                        @if let Some(e) = s.fields.ends { " · term ends " (e) }
                        @if let Some(c) = s.fields.cancelled_at { " · cancelled as of " (c) }
                    }
                    @if s.state == SubscriptionState::Active {
                        div.actions {
                            @if s.fields.category.is_some() && s.notice_deadline.is_some_and(|d| d >= today) {
                                (button_form(signed, &format!("/app/subscriptions/{}/shop{back}", s.id), "Ask the market", "secondary"))
                            }
                            form.inline method="post" action={ "/app/subscriptions/" (s.id) "/cancel" (back) } {
                                (csrf(signed))
                                button.danger type="submit"
                                    data-confirm="Cancel this subscription as of today? Nothing is paid after today." { "Cancel" }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The projection's totals: the 12 months per currency, then each month, a column per
/// currency.
pub(super) fn totals(p: &PaymentProjection) -> Markup {
    let currencies: BTreeSet<&str> = p.months.iter().map(|t| t.currency.as_str()).collect();
    let mut by_month: BTreeMap<&str, HashMap<&str, &str>> = BTreeMap::new();
    for t in &p.months {
        by_month
            .entry(t.month.as_deref().unwrap_or_default())
            .or_default()
            .insert(t.currency.as_str(), t.amount.as_str());
    }
    html! {
        @if p.year.is_empty() {
            (empty("No payment in the next 12 months."))
        } @else {
            p { "From " (p.from) " through " (p.through) ", per currency (never added together):" }
            div.facts {
                @for t in &p.year { div { strong { (t.amount) " " (t.currency) } "next 12 months" } }
            }
            table {
                thead { tr { th scope="col" { "Month" } @for c in &currencies { th scope="col" { (c) } } } }
                tbody {
                    @for (month, totals) in &by_month {
                        tr {
                            th scope="row" { (month) }
                            @for c in &currencies { td { (totals.get(c).copied().unwrap_or("—")) } }
                        }
                    }
                }
            }
        }
    }
}

/// Today's renewals: active subscriptions whose notice deadline is near.
pub(super) fn renewals(items: &[Subscription], names: &HashMap<VendorId, String>) -> Markup {
    html! {
        @if items.is_empty() { (empty("No notice deadline within 30 days.")) }
        ul.items {
            @for s in items {
                li {
                    a href={ "/app/subscriptions#" (s.id) } { (s.fields.item) }
                    " — " (vendor_link(names, &s.fields.vendor_id))
                    @if let Some(d) = s.notice_deadline { " " span.tag.late { "give notice by " (d) } }
                    div.meta {
                        "renews " (s.renewal.map(|d| d.to_string()).unwrap_or_default())
                        " at " (price(s))
                    }
                }
            }
        }
    }
}
