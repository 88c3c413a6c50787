//! **A vendor's page**: what is kept about it, its loyalty facts, its scorecard, its
//! pictures, its live grant (revoke), its latest accesses, and ONE timeline, newest first, a page at a time, of
//! its interactions (share, unshare), purchases, incidents, grants and receipts. Read through
//! the ledger index: the facts' interaction part and the sentiment chart come from it, the
//! timeline opens only the records it shows; purchases, incidents, grants and receipts (few
//! per vendor) are opened whole. Its documents (`documents::section`): list and upload.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use carnet_core::audit;
use carnet_core::grants;
use carnet_core::ledger::index::{Moment, rid};
use carnet_core::ledger::listing::{self, Event};
use carnet_core::ledger::{self, Vendors, loyalty, promises, receipts, scorecard, subscriptions};
use carnet_schemas::{
    AccessQuery, Followup, Grant, GrantState, IncidentStatus, Loyalty, Page, Promise, PromiseQuery,
    PromiseStateFilter, Receipt, SubscriptionQuery, VendorId,
};
use chrono::{Duration, Utc};
use maud::{Markup, html};

use super::charts;
use super::documents;
use super::failed;
use super::promise_list;
use super::shell::{self, Nav, day, empty, minute};
use super::signed::Signed;
use super::subscription_list;
use super::vendors::{query_value, when};
use crate::state::AppState;

/// Timeline entries on a page.
const PAGE: u32 = 25;
/// Latest accesses shown.
const ACCESSES: u32 = 5;

/// One entry of the timeline.
enum Shown {
    Ledger(Event),
    Grant(Grant),
    Receipt(Receipt),
}

/// The place of a grant or receipt in the timeline: by its time, after the ledger's records.
fn moment(at: chrono::DateTime<Utc>, rank: u8, id: &str) -> Moment {
    Moment {
        neg_ms: -at.timestamp_millis(),
        rank,
        key: (0, 0, rid(id).unwrap_or_default()),
    }
}

/// A vendor id from a path; `None` for text that cannot be one.
pub(super) fn vendor_id(raw: &str) -> Option<VendorId> {
    raw.parse().ok()
}

/// `GET /app/vendors/{id}`.
pub async fn show(
    signed: Signed,
    State(s): State<AppState>,
    Path(raw): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(id) = vendor_id(&raw) else {
        return no_vendor();
    };
    let cursor = query_value(query.as_deref(), "cursor");
    let now = s.now();
    let today = match ledger::profile::today(&s.store, &s.keys, now) {
        Ok(d) => d,
        Err(e) => return failed(e),
    };
    let vid = id.clone();
    let read = s
        .blocking(move |s| {
            let vendor = ledger::show::<Vendors>(&s.store, &s.keys, &vid)?;
            let (facts, purchases) = loyalty::outline(&s.store, &s.keys, &s.index, &vid, today)?;
            let card = scorecard::of(&s.store, &s.keys, &s.index, &vid, vendor.created_at, now)?;
            let q = PromiseQuery {
                vendor: Some(vid.clone()),
                state: Some(PromiseStateFilter::Open),
            };
            let open = promises::list(&s.store, &s.keys, &s.index, &q, now)?;
            let subs = SubscriptionQuery {
                vendor: Some(vid.clone()),
                state: None,
            };
            let subs = subscriptions::list(&s.store, &s.keys, &subs, now)?;
            let sentiments = listing::sentiments(&s.index, &vid, Some(now - Duration::days(400)))?;
            let grants = grants::list(s, Some(&vid))?;
            let receipts = receipts::list(&s.store, &s.keys, Some(&vid))?;
            let mut others: Vec<(Moment, Shown)> = grants
                .iter()
                .map(|g| {
                    (
                        moment(g.created_at, 3, g.id.as_str()),
                        Shown::Grant(g.clone()),
                    )
                })
                .chain(
                    receipts
                        .into_iter()
                        .map(|r| (moment(r.created_at, 4, r.id.as_str()), Shown::Receipt(r))),
                )
                .collect();
            others.sort_by_key(|(m, _)| *m);
            let page: Page<(Moment, Shown)> = crate::paging::keyset(
                Some(PAGE),
                cursor.as_deref(),
                |m: &Moment| Some(*m),
                |after: Option<Moment>, limit| {
                    let p = listing::timeline(&s.store, &s.keys, &s.index, &vid, after, limit)?;
                    let mut all: Vec<(Moment, Shown)> = p
                        .items
                        .into_iter()
                        .map(|(m, e)| (m, Shown::Ledger(e)))
                        .collect();
                    let mut more = p.next.is_some();
                    all.extend(
                        others
                            .into_iter()
                            .filter(|(m, _)| after.is_none_or(|a| *m > a)),
                    );
                    all.sort_by_key(|(m, _)| *m);
                    if all.len() > limit {
                        all.truncate(limit);
                        more = true;
                    }
                    let next = more.then(|| all.last().map(|(m, _)| *m)).flatten();
                    Ok((all, next))
                },
            )?;
            let live = grants.into_iter().find(|g| g.state == GrantState::Live);
            let docs = carnet_core::documents::list(&s.store, &s.keys, Some(&vid))?;
            Ok((
                vendor,
                (facts, open, card, subs, docs),
                purchases,
                sentiments,
                page,
                live,
            ))
        })
        .await;
    let (vendor, (facts, open, card, subs, docs), purchases, sentiments, page, live) = match read {
        Ok(read) => read,
        Err(e) => return failed(e),
    };
    let accesses = audit::entries(
        &s,
        AccessQuery {
            vendor: Some(id.clone()),
            limit: Some(ACCESSES),
            ..AccessQuery::default()
        },
    )
    .await
    .map(|p| p.items)
    .unwrap_or_default();
    let per_day = match audit::per_day(&s, &id, now - Duration::days(30)).await {
        Ok(days) => days,
        Err(e) => return failed(e),
    };
    let f = &vendor.fields;
    let next = page
        .next_cursor
        .as_deref()
        .map(|c| format!("/app/vendors/{id}?cursor={c}#timeline"));
    let body = html! {
        div.actions {
            a.button href={ "/app/interactions/new?vendor=" (id) } { "Add interaction" }
            a.button.secondary href={ "/app/vendors/" (id) "/purchases/new" } { "Add purchase" }
            a.button.secondary href={ "/app/vendors/" (id) "/incidents/new" } { "Add incident" }
            a.button.secondary href={ "/app/vendors/" (id) "/promises/new" } { "Add promise" }
            a.button.secondary href={ "/app/vendors/" (id) "/subscriptions/new" } { "Add subscription" }
        }
        section aria-labelledby="about" {
            h2 #about { "About" }
            dl {
                @if let Some(w) = &f.website { dt { "Website" } dd { (shell::vendor_link(w.as_str())) } }
                @if !f.categories.is_empty() {
                    dt { "Categories" }
                    dd { @for c in &f.categories { span.tag { (c.as_str()) } " " } }
                }
                @if !f.accounts.is_empty() {
                    dt { "Accounts" }
                    dd { @for (i, a) in f.accounts.iter().enumerate() { @if i > 0 { ", " } (a) } }
                }
                @if let Some(c) = f.channel { dt { "Channel" } dd { (c.as_str()) } }
                @if let Some(c) = &f.contact_policy { dt { "Contact policy" } dd { (c) } }
                @if let Some(n) = &f.note { dt { "Note" } dd { (n) } }
                dt { "Added" } dd { (day(&vendor.created_at)) }
            }
        }
        section aria-labelledby="facts" {
            h2 #facts { "Loyalty" }
            (facts_of(&facts, now))
        }
        section aria-labelledby="scorecard" {
            h2 #scorecard { "Scorecard" }
            (super::scorecard::facts(&card))
        }
        section aria-labelledby="promises" {
            h2 #promises { "Promises" }
            @if let Some(r) = &facts.promises { (promise_list::record(r)) }
            h3 { "Open promises" }
            @if open.is_empty() { (empty("No open promise from this vendor.")) }
            (promise_list::open_list(&signed, &open_items(&open, &vendor), today, true))
        }
        section aria-labelledby="subscriptions" {
            h2 #subscriptions { "Subscriptions" }
            @if subs.is_empty() { (empty("No subscription or contract with this vendor.")) }
            (subscription_list::list(&signed, &subs, &Default::default(), today, true))
            p { a href="/app/subscriptions" { "Every subscription, and the payments ahead" } }
        }
        section aria-labelledby="access" {
            h2 #access { "Access" }
            @match &live {
                Some(g) => div.card {
                    p {
                        "This vendor may read your Carnet until " (minute(&g.expires_at)) ": "
                        @for (i, sc) in g.fields.scopes.iter().enumerate() { @if i > 0 { ", " } (sc.describe()) }
                        "."
                    }
                    form.inline method="post" action={ "/app/grants/" (g.id) "/revoke" } {
                        (shell::csrf(&signed))
                        button.danger type="submit"
                            data-confirm="Revoke this vendor's access? Its tokens stop working at once." { "Revoke access" }
                    }
                },
                None => p { "This vendor has no live grant: it cannot read anything of yours." },
            }
            h3 { "Latest accesses" }
            @if accesses.is_empty() { (empty("This vendor has not read anything yet.")) }
            ul.items {
                @for a in &accesses {
                    li { code { (a.endpoint) } div.meta { (minute(&a.at)) " · " (a.status) } }
                }
            }
            p { a href={ "/app/access?vendor=" (id) } { "Every access of this vendor" } }
        }
        section aria-labelledby="pictures" {
            h2 #pictures { "Pictures" }
            div.two {
                div { h3 { "Spend per month" } (charts::spend_per_month(&purchases, now)) }
                div { h3 { "Sentiment per month" } (charts::sentiment_per_month(&sentiments, now)) }
            }
            h3 { "Accesses per day" }
            (charts::accesses_per_day(&per_day, now))
        }
        section aria-labelledby="timeline" {
            h2 #timeline { "Timeline" }
            @if page.items.is_empty() { (empty("Nothing recorded with this vendor yet.")) }
            ul.items {
                @for (_, e) in &page.items { li { (entry(&signed, e)) } }
            }
            @if cursor_given(query.as_deref()) || next.is_some() {
                nav.pager aria-label="Timeline pages" {
                    @if cursor_given(query.as_deref()) { a href={ "/app/vendors/" (id) "#timeline" } { "Newest" } } @else { span {} }
                    @if let Some(n) = &next { a href=(n) rel="next" { "Older" } }
                }
            }
        }
        (documents::section(&signed, &id, &docs, &attachable(&page.items), s.settings.documents.max_bytes >> 20))
    };
    shell::page(&signed, Nav::Vendors, f.name.as_str(), body)
}

/// The records of the timeline's page a document may be attached to: (id, label).
fn attachable(items: &[(Moment, Shown)]) -> Vec<(String, String)> {
    items
        .iter()
        .filter_map(|(_, e)| match e {
            Shown::Ledger(Event::Interaction(i)) => Some((
                i.id.to_string(),
                format!("interaction: {}", listing::short(i.fields.summary.as_str())),
            )),
            Shown::Ledger(Event::Purchase(p)) => Some((
                p.id.to_string(),
                format!("purchase: {}", listing::short(p.fields.item.as_str())),
            )),
            Shown::Ledger(Event::Incident(i)) => Some((
                i.id.to_string(),
                format!(
                    "incident: {}",
                    listing::short(i.fields.description.as_str())
                ),
            )),
            _ => None,
        })
        .collect()
}

/// Open promises as the list shows them (as follow-up items).
fn open_items(open: &[Promise], v: &carnet_schemas::Vendor) -> Vec<Followup> {
    open.iter()
        .map(|p| promises::as_followup(p.clone(), v.fields.name.clone()))
        .collect()
}

fn cursor_given(query: Option<&str>) -> bool {
    query_value(query, "cursor").is_some()
}

fn facts_of(l: &Loyalty, now: chrono::DateTime<Utc>) -> Markup {
    let spent: Vec<String> = l
        .total_spent
        .iter()
        .map(|(c, a)| format!("{a} {c}"))
        .collect();
    let tenure = l.customer_since.map(|d| {
        let days = (now.date_naive() - d).num_days().max(0);
        match days {
            0..=60 => format!("{days} days"),
            61..=730 => format!("{} months", days / 30),
            _ => format!("{} years", days / 365),
        }
    });
    html! {
        div.facts {
            div { strong { (l.purchases) } "purchases" }
            div { strong { @if spent.is_empty() { "0" } @else { (spent.join(", ")) } } "spent" }
            div {
                strong { @match &tenure { Some(t) => (t), None => "—" } }
                @match l.customer_since { Some(d) => { "customer since " (d) }, None => "no purchase yet" }
            }
            div { strong { (l.interactions) } "interactions" }
            div {
                strong { @match &l.last_contact { Some(t) => (t.format("%Y-%m-%d")), None => "never" } }
                "last contact"
            }
            div {
                strong { @match l.average_sentiment { Some(s) => (format!("{s:+.2}")), None => "—" } }
                "average sentiment (−2…+2)"
            }
            div { strong { (l.incidents) } "incidents, " (l.incidents_resolved) " resolved" }
            div {
                strong { @match l.average_satisfaction { Some(s) => (format!("{s:.1}")), None => "—" } }
                "satisfaction with resolutions (0…10)"
            }
        }
    }
}

fn entry(signed: &Signed, e: &Shown) -> Markup {
    match e {
        Shown::Ledger(Event::Interaction(i)) => {
            let f = &i.fields;
            let (action, label) = if f.shared {
                ("unshare", "Stop sharing")
            } else {
                ("share", "Share with the vendor")
            };
            html! {
                span.tag { "interaction" } " "
                strong { (f.summary) }
                @if f.shared { " " span.tag.good { "shared" } }
                @if let Some(s) = f.sentiment {
                    " " span.tag.bad[s.get() < 0] .good[s.get() > 0] { "sentiment " (format!("{:+}", s.get())) }
                }
                div.meta {
                    (f.channel.as_str())
                    @if let Some(at) = &f.at { " · " (when(at)) }
                    @if let Some(w) = &f.with { " · with " (w) }
                }
                @if let Some(t) = &f.they_said { p { "They said: " (t) } }
                @if let Some(o) = &f.outcome { p { "Outcome: " (o) } }
                @if let Some(n) = &f.next_step {
                    p { "Next: " (n) @if let Some(d) = f.next_due { " (due " (d) ")" } @if f.next_done { " — done" } }
                }
                div.actions {
                    (shell::button_form(signed, &format!("/app/interactions/{}/{action}", i.id), label, "secondary"))
                }
            }
        }
        Shown::Ledger(Event::Purchase(p)) => {
            let f = &p.fields;
            html! {
                span.tag { "purchase" } " "
                strong { (f.item) } " — " (f.amount.as_str()) " " (f.currency.as_str())
                div.meta {
                    @if let Some(d) = f.date { (d) }
                    @if let Some(w) = f.warranty_until { " · warranty until " (w) }
                    @if let Some(r) = &f.receipt { " · receipt " (r) }
                }
            }
        }
        Shown::Ledger(Event::Incident(i)) => {
            let f = &i.fields;
            html! {
                span.tag { "incident" } " "
                strong { (f.description) } " "
                @match f.status {
                    IncidentStatus::Open => span.tag.late { "open" },
                    IncidentStatus::Resolved => span.tag.good { "resolved" },
                }
                div.meta {
                    "opened " (when(&f.opened_at))
                    @if let Some(t) = &f.resolved_at { " · resolved " (minute(t)) }
                    @if let Some(s) = f.satisfaction { " · satisfaction " (s.get()) "/10" }
                }
                @if let Some(r) = &f.resolution { p { "Resolution: " (r) } }
            }
        }
        Shown::Grant(g) => html! {
            span.tag { "grant" } " "
            strong { "Access granted" } " "
            @match g.state {
                GrantState::Live => span.tag.good { "live" },
                GrantState::Expired => span.tag { "expired" },
                GrantState::Revoked => span.tag.bad { "revoked" },
            }
            div.meta {
                (minute(&g.created_at)) " · until " (minute(&g.expires_at))
                @if let Some(r) = &g.revoked_at { " · revoked " (minute(r)) }
            }
            p {
                @for (i, sc) in g.fields.scopes.iter().enumerate() { @if i > 0 { ", " } (sc.describe()) }
            }
        },
        Shown::Receipt(r) => html! {
            span.tag { "receipt" } " "
            strong { "Consent receipt" } " " code { (r.id) }
            div.meta { (minute(&r.created_at)) " · for grant " code { (r.grant_id) } }
        },
    }
}

/// The page for a vendor that is not there (or an id that cannot be one).
pub(super) fn no_vendor() -> Response {
    shell::problem(
        StatusCode::NOT_FOUND,
        "No such vendor",
        "This vendor is not in your Carnet (it may have been removed).",
    )
}
