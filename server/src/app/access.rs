//! **Vendors' access**: what each vendor may see (grants, in plain words, with Revoke), the
//! consent receipts signed for them, and the access log (a page at a time, by vendor if asked)
//! with its verification. Through the same core calls as `/v1/grants`, `/v1/receipts` and
//! `/v1/access-log`; never changes anything but a grant's revocation and a check's request.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use carnet_core::audit;
use carnet_core::grants;
use carnet_core::ledger::receipts;
use carnet_schemas::{
    AccessEntry, AccessQuery, Category, Grant, GrantId, GrantState, Receipt, VendorId,
};
use maud::{Markup, html};

use super::failed;
use super::intent_form::withhold_name;
use super::intents::{confirm_form, not_found_page, parse_id};
use super::shell::{self, Nav, button_form, empty, minute};
use super::signed::{Posted, Signed, see_other};
use super::today::{vendor_link, vendor_names, verification};
use crate::state::AppState;

/// Access-log entries on one page.
const LOG_PAGE: u32 = 50;

fn categories(list: &[Category], all: bool) -> String {
    if all {
        "every category".to_owned()
    } else {
        list.iter()
            .map(Category::as_str)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn grant_state(g: &Grant) -> Markup {
    match g.state {
        GrantState::Live => html! { span.tag.good { "live" } },
        GrantState::Expired => html! { span.tag { "expired" } },
        GrantState::Revoked => html! { span.tag.late { "revoked" } },
    }
}

/// `GET /app/access[?vendor=…][&cursor=…]`.
pub async fn show(signed: Signed, State(s): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let mut vendor = None;
    let mut cursor = None;
    for (k, v) in url::form_urlencoded::parse(q.unwrap_or_default().as_bytes()) {
        match (k.as_ref(), v.is_empty()) {
            ("vendor", false) => match v.parse::<VendorId>() {
                Ok(id) => vendor = Some(id),
                Err(_) => {
                    return shell::problem(
                        StatusCode::BAD_REQUEST,
                        "No such vendor",
                        "The vendor filter is not a vendor id (ven_…). Pick one from the list.",
                    );
                }
            },
            ("cursor", false) => cursor = Some(v.into_owned()),
            _ => {}
        }
    }
    let log = audit::entries(
        &s,
        AccessQuery {
            vendor: vendor.clone(),
            since: None,
            limit: Some(LOG_PAGE),
            cursor: cursor.clone(),
        },
    )
    .await;
    let log = match log {
        Ok(page) => page,
        Err(e) => return failed(e),
    };
    let check = audit::verify(&s, false).await;
    let shown_vendor = vendor.clone();
    let read = s
        .blocking(move |s| {
            let grants = grants::list(s, None)?;
            let receipts = receipts::list(&s.store, &s.keys, None)?;
            let names = vendor_names(
                s,
                grants
                    .iter()
                    .map(|g| g.fields.vendor_id.clone())
                    .chain(receipts.iter().map(|r| r.vendor_id.clone()))
                    .chain(log.items.iter().map(|a| a.vendor_id.clone()))
                    .chain(shown_vendor),
            );
            Ok((grants, receipts, names, log))
        })
        .await;
    let (grants, receipts, names, log) = match read {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    let mut vendors: Vec<(&VendorId, &String)> = names.iter().collect();
    vendors.sort_by(|a, b| (a.1.to_lowercase(), a.0).cmp(&(b.1.to_lowercase(), b.0)));
    let filter = |cursor: Option<&str>| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if let Some(v) = &vendor {
            q.append_pair("vendor", v.as_str());
        }
        if let Some(c) = cursor {
            q.append_pair("cursor", c);
        }
        match q.finish() {
            q if q.is_empty() => "/app/access#log".to_owned(),
            q => format!("/app/access?{q}#log"),
        }
    };

    let body = html! {
        nav.actions aria-label="On this page" {
            a.button.secondary href="#grants" { "Grants" }
            a.button.secondary href="#receipts" { "Receipts" }
            a.button.secondary href="#log" { "Access log" }
        }
        section aria-labelledby="grants" {
            h2 #grants { "What vendors may see" }
            @if grants.is_empty() { (empty("No vendor has been granted anything.")) }
            ul.items {
                @for g in &grants { li { (grant_item(&signed, g, &names)) } }
            }
        }
        section aria-labelledby="receipts" {
            h2 #receipts { "Consent receipts" }
            p.hint { "Each grant is recorded in a signed consent receipt (Kantara v1.1), which anyone can check offline against the published receipt keys." }
            @if receipts.is_empty() { (empty("No receipt yet.")) }
            ul.items {
                @for r in &receipts { li { (receipt_item(r, &names)) } }
            }
        }
        section aria-labelledby="log" {
            h2 #log { "Access log" }
            div #verify { (verification(&check)) }
            (button_form(&signed, "/app/access/verify", "Check the access log now", "secondary"))
            form.filter method="get" action="/app/access#log" {
                div.field {
                    label for="f-vendor" { "Vendor" }
                    select id="f-vendor" name="vendor" {
                        option value="" selected[vendor.is_none()] { "All vendors" }
                        @for (id, name) in &vendors {
                            option value=(id) selected[vendor.as_ref() == Some(*id)] { (name) }
                        }
                    }
                }
                div.actions { button.secondary type="submit" { "Filter" } }
            }
            @if log.items.is_empty() {
                @if cursor.is_some() { (empty("No older access.")) }
                @else if vendor.is_some() { (empty("This vendor has read nothing.")) }
                @else { (empty("No vendor has read anything yet.")) }
            }
            ul.items {
                @for a in &log.items { li { (entry_item(a, &names)) } }
            }
            nav.pager aria-label="Access log pages" {
                @if cursor.is_some() { a href=(filter(None)) { "Newest" } } @else { span {} }
                @if let Some(next) = &log.next_cursor { a href=(filter(Some(next))) { "Older" } }
            }
        }
    };
    shell::page(&signed, Nav::Access, "Vendors' access", body)
}

fn grant_item(signed: &Signed, g: &Grant, names: &HashMap<VendorId, String>) -> Markup {
    let f = &g.fields;
    let vendor = names
        .get(&f.vendor_id)
        .map_or(f.vendor_id.as_str(), String::as_str);
    html! {
        div id={ "grant-" (g.id) } {
            strong { (vendor_link(names, &f.vendor_id)) } " " (grant_state(g))
            p { "May:" }
            ul { @for scope in &f.scopes { li { (scope.describe()) " " small { "(" (scope.as_str()) ")" } } } }
            div.meta {
                "In " (categories(&f.categories, f.all_categories)) " · "
                @match g.state {
                    GrantState::Revoked => { "revoked " (g.revoked_at.as_ref().map_or(String::new(), minute)) }
                    GrantState::Expired => { "ended " (minute(&g.expires_at)) }
                    GrantState::Live => { "until " (minute(&g.expires_at)) }
                }
            }
            @if let Some(p) = &f.purpose { div.meta { "Purpose: " (p) } }
            div.meta { "Given " (minute(&g.created_at)) " (" (f.collection_method) ")" }
            @if g.state == GrantState::Live {
                div.actions {
                    (confirm_form(signed, &format!("/app/grants/{}/revoke", g.id), "Revoke", "danger",
                        &format!("Revoke {vendor}'s access? Its tokens stop working at once.")))
                }
            }
        }
    }
}

fn receipt_item(r: &Receipt, names: &HashMap<VendorId, String>) -> Markup {
    let c = &r.receipt.carnet;
    html! {
        div id={ "receipt-" (r.id) } {
            strong { (minute(&r.created_at)) } " · " (vendor_link(names, &r.vendor_id))
            div.meta {
                (c.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))
                " in " (categories(&c.categories, c.all_categories))
                ", until " (minute(&c.expires_at))
            }
            div.meta { "Receipt " code { (r.id) } " for grant " code { (r.grant_id) } " · " (r.receipt.collection_method) }
            details {
                summary { "The signed receipt" }
                p { code { (r.jws) } }
            }
        }
    }
}

fn entry_item(a: &AccessEntry, names: &HashMap<VendorId, String>) -> Markup {
    let refused = a.status >= 400;
    html! {
        div id={ "access-" (a.seq) } {
            (vendor_link(names, &a.vendor_id)) " " code { (a.endpoint) }
            " " @if refused { span.tag.bad { (a.status) } } @else { span.tag { (a.status) } }
            div.meta {
                (minute(&a.at))
                @if !a.scope.is_empty() { " · scope " (a.scope) }
                @if let Some(r) = &a.repeats { " · and " (r.count) " more times since " (minute(&r.from)) }
            }
            @if !a.ids.is_empty() {
                div.meta { "Read: " (a.ids.join(", ")) }
            }
            @for (intent, fields) in &a.withheld {
                div.meta {
                    "Withheld from " (intent) ": "
                    (fields.iter().map(|f| withhold_name(*f)).collect::<Vec<_>>().join(", "))
                }
            }
        }
    }
}

/// `POST /app/grants/{id}/revoke`: its tokens stop working before the answer; back to the
/// access page (or to `next`, a page of this app).
pub async fn revoke(State(s): State<AppState>, Path(raw): Path<String>, p: Posted) -> Response {
    let Some(id) = parse_id::<GrantId>(&raw) else {
        return not_found_page();
    };
    if let Err(e) = grants::revoke(&s, &id).await {
        return failed(e);
    }
    let next = p.get("next");
    if next.starts_with("/app/") && !next.contains("//") && !next.contains('\\') {
        see_other(next)
    } else {
        see_other("/app/access#grants")
    }
}

/// `POST /app/access/verify`: asks for a fresh check of the access log.
pub async fn verify(State(s): State<AppState>, _: Posted) -> Response {
    match audit::request_verification(&s).await {
        Ok(_) => see_other("/app/access#verify"),
        Err(e) => failed(e),
    }
}
