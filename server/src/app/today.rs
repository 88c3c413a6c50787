//! **Today**: what needs the owner now. Follow-ups due within 7 days and late ones (as `carnet
//! followups`), promises late or due within 7 days (Kept / Broken), consent requests waiting (approve or deny right here), new offers (a granted vendor's or the
//! market relay's), intents
//! whose window closes within 3 days, warranties ending within 30 days, renewals whose notice
//! deadline falls within 30 days, the access log's
//! last check, and the last vendor accesses. Each list is short and read through the index.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::response::Response;
use carnet_core::consent::{approve as approve_request, deny as deny_request};
use carnet_core::intents::{market, offers, owner};
use carnet_core::ledger::{self, Vendors, followups, listing, promises, subscriptions};
use carnet_core::{audit, consent::Pending};
use carnet_schemas::{AccessQuery, Category, IntentState, InteractionId, OfferState, VendorId};
use chrono::{Duration, Utc};
use maud::{Markup, html};

use super::failed;
use super::offers::Shown;
use super::promise_list;
use super::shell::{self, Nav, button_form, csrf, empty, minute};
use super::signed::{Posted, Signed, see_other};
use crate::state::AppState;

/// How many of each list Today shows (the full lists are a tap away).
const SHOWN: usize = 10;
/// How many follow-ups Today shows, soonest due first (`carnet followups` lists them all).
const FOLLOWUPS: usize = 20;

/// The names of `ids`' vendors (a vendor deleted since is left out).
pub(super) fn vendor_names(
    s: &AppState,
    ids: impl IntoIterator<Item = VendorId>,
) -> HashMap<VendorId, String> {
    let mut names = HashMap::new();
    for id in ids {
        if names.contains_key(&id) {
            continue;
        }
        if let Ok(v) = ledger::show::<Vendors>(&s.store, &s.keys, &id) {
            names.insert(id, v.fields.name.as_str().to_owned());
        }
    }
    names
}

/// A vendor's name as a link to its page.
pub(super) fn vendor_link(names: &HashMap<VendorId, String>, id: &VendorId) -> Markup {
    html! {
        a href={ "/app/vendors/" (id) } { (names.get(id).map_or(id.as_str(), String::as_str)) }
    }
}

/// `GET /app/`.
pub async fn show(signed: Signed, State(s): State<AppState>) -> Response {
    let now = s.now();
    let today = match ledger::profile::today(&s.store, &s.keys, now) {
        Ok(d) => d,
        Err(e) => return failed(e),
    };
    let soon = today + Duration::days(7);
    let (due, promised, intents, (offers, relayed), (warranties, renewals)) = match s
        .blocking(move |s| {
            let due = followups::soonest(&s.store, &s.keys, &s.index, Some(soon), FOLLOWUPS)?;
            let promised = promises::due_items(&s.store, &s.keys, &s.index, Some(soon))?;
            let intents = owner::list(s, Some(IntentState::Active))?;
            let offers = offers::list(s, None)?;
            let relayed = market::list(s, None)?;
            let warranties = listing::warranties_ending(
                &s.store,
                &s.keys,
                &s.index,
                today,
                today + Duration::days(30),
                SHOWN,
            )?;
            let renewals = subscriptions::renewals_within(&s.store, &s.keys, 30, now)?;
            Ok((
                due,
                promised,
                intents,
                (offers, relayed),
                (warranties, renewals),
            ))
        })
        .await
    {
        Ok(found) => found,
        Err(e) => return failed(e),
    };
    let closing: Vec<_> = intents
        .into_iter()
        .filter(|i| {
            i.fields
                .valid_through
                .is_some_and(|t| t.with_timezone(&Utc) <= now + Duration::days(3))
        })
        .take(SHOWN)
        .collect();
    let offers: Vec<_> = offers
        .into_iter()
        .filter(|o| o.state == OfferState::Pending)
        .collect();
    let relayed: Vec<_> = relayed
        .into_iter()
        .filter(|m| m.state == OfferState::Pending)
        .collect();
    let accesses = audit::entries(
        &s,
        AccessQuery {
            limit: Some(5),
            ..AccessQuery::default()
        },
    )
    .await
    .map(|p| p.items)
    .unwrap_or_default();
    let check = audit::verify(&s, false).await;
    let waiting = s.consents.all_waiting(now);
    let names = vendor_names(
        &s,
        offers
            .iter()
            .map(|o| o.vendor_id.clone())
            .chain(warranties.iter().map(|p| p.fields.vendor_id.clone()))
            .chain(renewals.iter().map(|r| r.fields.vendor_id.clone()))
            .chain(accesses.iter().map(|a| a.vendor_id.clone())),
    );
    // Both kinds of waiting offer, newest first.
    let mut new_offers: Vec<_> = offers
        .iter()
        .map(|o| Shown::local(o, &names))
        .chain(relayed.iter().map(super::market_offers::shown))
        .collect();
    new_offers.sort_by_key(|o| std::cmp::Reverse(o.created_at));
    let (due, open) = due;
    let more = open.saturating_sub(due.len());
    let (late, upcoming): (Vec<_>, Vec<_>) = due
        .into_iter()
        .partition(|f| f.due.is_some_and(|d| d < today));

    let body = html! {
        @if !waiting.is_empty() {
            section aria-labelledby="consents" {
                h2 #consents { "Waiting for your consent" }
                @for p in &waiting { (consent_card(&signed, p)) }
            }
        }
        section aria-labelledby="followups" {
            h2 #followups { "Follow-ups" }
            @if late.is_empty() && upcoming.is_empty() {
                (empty("Nothing due within 7 days."))
            }
            ul.items {
                @for f in late.iter().chain(&upcoming) {
                    li {
                        strong { (f.next_step) }
                        " "
                        @if let Some(d) = f.due {
                            @if d < today { span.tag.late { "late, due " (d) } }
                            @else { span.tag { "due " (d) } }
                        } @else { span.tag { "no date" } }
                        div.meta {
                            a href={ "/app/vendors/" (f.vendor_id) } { (f.vendor_name) }
                            @if let Some(c) = f.channel { " · " (c.as_str()) }
                            " on " (f.at.format("%Y-%m-%d"))
                        }
                        @if let Some(i) = &f.interaction_id {
                            div.actions {
                                (button_form(&signed, &format!("/app/followups/{i}/done"), "Done", "secondary"))
                            }
                        }
                    }
                }
            }
            @if more > 0 {
                p.hint { "And " (more) " more, due later: " code { "carnet followups" } " lists them all." }
            }
        }
        section aria-labelledby="promises" {
            h2 #promises { "Promises" }
            @if promised.is_empty() { (empty("No promise late or due within 7 days.")) }
            (promise_list::open_list(&signed, &promised, today, false))
        }
        section aria-labelledby="offers" {
            h2 #offers { "New offers" }
            @if new_offers.is_empty() { (empty("No offer waiting for an answer.")) }
            ul.items {
                @for o in new_offers.iter().take(SHOWN) { (super::offers::waiting_item(o)) }
            }
            @if new_offers.len() > SHOWN {
                p.meta { (new_offers.len() - SHOWN) " more waiting on their intents' pages." }
            }
        }
        section aria-labelledby="closing" {
            h2 #closing { "Intents closing within 3 days" }
            @if closing.is_empty() { (empty("No active intent closes within 3 days.")) }
            ul.items {
                @for i in &closing {
                    li {
                        a href={ "/app/intents/" (i.id) } { (i.fields.title) }
                        @if let Some(t) = i.fields.valid_through {
                            " " span.tag { "closes " (minute(&t.with_timezone(&Utc))) }
                        }
                        div.meta { (i.fields.category) " · " (i.offers) " offer(s)" }
                    }
                }
            }
        }
        section aria-labelledby="warranties" {
            h2 #warranties { "Warranties ending within 30 days" }
            @if warranties.is_empty() { (empty("No warranty ends within 30 days.")) }
            ul.items {
                @for p in &warranties {
                    li {
                        (p.fields.item) " — " (vendor_link(&names, &p.fields.vendor_id))
                        @if let Some(w) = p.fields.warranty_until { " " span.tag.late { "ends " (w) } }
                    }
                }
            }
        }
        section aria-labelledby="renewals" {
            h2 #renewals { "Renewals: notice deadline within 30 days" }
            (super::subscription_list::renewals(&renewals, &names))
            p { a href="/app/subscriptions" { "Every subscription, and the payments ahead" } }
        }
        section aria-labelledby="log" {
            h2 #log { "Vendors' access" }
            (verification(&check))
            @if accesses.is_empty() { (empty("No vendor has read anything yet.")) }
            ul.items {
                @for a in &accesses {
                    li {
                        (vendor_link(&names, &a.vendor_id)) " " code { (a.endpoint) }
                        div.meta { (minute(&a.at)) " · " (a.status) }
                    }
                }
            }
            p { a href="/app/access" { "Everything vendors can see, and every access" } }
        }
    };
    shell::page(&signed, Nav::Today, "Today", body)
}

/// The access log's last full check, in words.
pub(super) fn verification(check: &carnet_schemas::AuditVerification) -> Markup {
    html! {
        @if check.in_progress {
            div.card role="status" { p { "The access log is being checked." } }
        } @else if check.ok {
            div.card.ok role="status" {
                p {
                    "The access log checked out"
                    @if let Some(at) = check.checked_at { " at " (minute(&at)) }
                    ": its " (check.entries) " entries then were whole and unaltered. Later entries are checked at the next verification."
                }
            }
        } @else if let Some(bad) = &check.first_bad {
            div.card.err role="alert" {
                p { strong { "The access log does not check out." } " Entry " (bad.seq) ": " (bad.reason) }
                p { "Someone changed carnet.db behind Carnet's back. Restore it from a backup; " code { "carnet log verify" } " says more." }
            }
        } @else {
            div.card role="status" { p { "The access log has not been checked yet since Carnet started." } }
        }
    }
}

/// A consent request waiting, with its answer right there.
fn consent_card(signed: &Signed, p: &Pending) -> Markup {
    let a = &p.asked;
    let categories: Vec<&str> = a
        .requested_categories
        .iter()
        .map(Category::as_str)
        .collect();
    html! {
        div.card {
            p { strong { (a.vendor_name) } " asks to access your Carnet (code " code { (p.short_code) } ")." }
            @if !a.verified {
                p.tag.bad { "Not verified: this application registered itself." }
            }
            @if let Some(other) = &a.looks_like {
                p role="alert" { strong { "Looks like your vendor “" (other) "”" } ", but is another application. Deny unless you know it is them." }
            }
            ul { @for scope in a.scopes.iter() { li { (scope.describe()) " " small { "(" (scope.as_str()) ")" } } } }
            form method="post" action={ "/app/consents/" (p.short_code) "/approve" } {
                (csrf(signed))
                div.field {
                    label for={ "cat-" (p.short_code) } { "Categories" }
                    small.hint { "Separated by spaces; a category includes the ones below it." }
                    input id={ "cat-" (p.short_code) } type="text" name="categories" value=(categories.join(" "));
                }
                (shell::checkbox("All categories", "all_categories", false))
                div.field {
                    label for={ "days-" (p.short_code) } { "For how many days" }
                    input id={ "days-" (p.short_code) } type="number" name="days" min="1" max=(carnet_schemas::MAX_GRANT_DAYS) value=(carnet_schemas::DEFAULT_GRANT_DAYS);
                }
                div.actions {
                    button type="submit" { "Allow" }
                }
            }
            (button_form(signed, &format!("/app/consents/{}/deny", p.short_code), "Deny", "danger"))
            p.hint { "The vendor's page continues by itself once you answer." }
        }
    }
}

/// `POST /app/followups/{id}/done`.
pub async fn followup_done(
    State(s): State<AppState>,
    Path(id): Path<InteractionId>,
    _: Posted,
) -> Response {
    match followups::done(&s.store, &s.keys, &s.index, &id, s.now()).await {
        Ok(_) => see_other("/app/#followups"),
        Err(e) => failed(e),
    }
}

fn waiting(s: &AppState, code: &str) -> Option<Pending> {
    s.consents.waiting(code, s.now())
}

fn gone() -> Response {
    shell::problem(
        axum::http::StatusCode::NOT_FOUND,
        "This request is no longer waiting",
        "It was answered, or it expired (consent requests last ten minutes). Nothing was changed.",
    )
}

/// `POST /app/consents/{code}/approve`.
pub async fn approve(State(s): State<AppState>, Path(code): Path<String>, p: Posted) -> Response {
    let Some(pending) = waiting(&s, &code) else {
        return gone();
    };
    let parsed: Result<Vec<Category>, _> = p
        .get("categories")
        .split_whitespace()
        .map(str::parse::<Category>)
        .collect();
    let all = !p.get("all_categories").is_empty();
    let categories = match parsed {
        Ok(c) if !c.is_empty() || all => c,
        Ok(_) => {
            return shell::problem(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "Pick at least one category",
                "Name the categories this vendor may see, or tick All categories. Nothing was granted.",
            );
        }
        Err(e) => {
            return shell::problem(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "A category is not valid",
                &format!("{} Nothing was granted.", e.0),
            );
        }
    };
    let days = p.get("days").parse::<u32>().ok();
    match approve_request(&s, &s.consents, &pending, categories, all, days, "web-app").await {
        Ok(_) => see_other("/app/"),
        Err(e) => failed(e),
    }
}

/// `POST /app/consents/{code}/deny`.
pub async fn deny(State(s): State<AppState>, Path(code): Path<String>, _: Posted) -> Response {
    let Some(pending) = waiting(&s, &code) else {
        return gone();
    };
    if deny_request(&s.consents, &pending.id).await {
        see_other("/app/")
    } else {
        gone()
    }
}
