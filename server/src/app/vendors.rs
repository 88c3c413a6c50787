//! **Vendors**: the list (by name, filtered by the beginning of the name, a page at a time)
//! with what the ledger index tells of each (counts, last contact, customer since: nothing
//! opened but the vendors shown), and adding a vendor with the fields of `carnet vendor add`.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use carnet_core::ledger::index::{Tally, rid};
use carnet_core::ledger::{self, LedgerError, Vendors, listing};
use carnet_schemas::{Category, Channel, Line, Page, Text, Vendor, VendorFields, WebUrl};
use chrono::DateTime;
use maud::{Markup, html};

use super::failed;
use super::shell::{self, Errors, Input, Nav, csrf, day, empty, field, minute, optional, required};
use super::signed::{Posted, Signed, see_other};
use crate::state::AppState;

/// Vendors on a page of the list.
const PAGE: u32 = 50;

/// The value of `name` in a query string.
pub(super) fn query_value(raw: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// `GET /app/vendors`.
pub async fn list(signed: Signed, State(s): State<AppState>, RawQuery(raw): RawQuery) -> Response {
    let filter = query_value(raw.as_deref(), "q").unwrap_or_default();
    let cursor = query_value(raw.as_deref(), "cursor");
    let prefix = filter.trim().to_owned();
    let found = s
        .blocking(move |s| {
            let page: Page<Vendor> = crate::paging::keyset(
                Some(PAGE),
                cursor.as_deref(),
                |(name, id): &(String, String)| Some((name.clone(), rid(id)?)),
                |after, limit| {
                    let p =
                        listing::vendors_named(&s.store, &s.keys, &s.index, &prefix, after, limit)?;
                    Ok((p.items, p.next))
                },
            )?;
            let ids: Vec<_> = page.items.iter().map(|v| v.id.clone()).collect();
            let tallies = listing::tallies(&s.index, &ids)?;
            Ok((page, tallies))
        })
        .await;
    let (page, tallies) = match found {
        Ok(found) => found,
        Err(e) => return failed(e),
    };
    let next = page.next_cursor.as_deref().map(|c| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        if !filter.is_empty() {
            q.append_pair("q", &filter);
        }
        q.append_pair("cursor", c);
        format!("/app/vendors?{}", q.finish())
    });
    let body = html! {
        div.actions {
            a.button href="/app/vendors/new" { "Add vendor" }
            a.button.secondary href="/app/subscriptions" { "Subscriptions" }
        }
        form.filter method="get" action="/app/vendors" role="search" {
            div.field {
                label for="f-q" { "Filter" }
                small.hint id="f-q-hint" { "The beginning of a vendor's name." }
                input id="f-q" type="search" name="q" value=(filter) aria-describedby="f-q-hint";
            }
            button type="submit" { "Filter" }
            @if !filter.is_empty() { " " a href="/app/vendors" { "Show all" } }
        }
        @if page.items.is_empty() {
            @if filter.is_empty() {
                (empty("No vendor yet: add the first one."))
            } @else {
                (empty(&format!("No vendor's name begins with “{filter}”.")))
            }
        } @else {
            div.scroll {
                table {
                    caption.hidden { "Vendors, by name" }
                    thead { tr {
                        th scope="col" { "Name" }
                        th scope="col" { "Categories" }
                        th scope="col" { "Interactions" }
                        th scope="col" { "Purchases" }
                        th scope="col" { "Incidents" }
                        th scope="col" { "Last contact" }
                        th scope="col" { "Customer since" }
                    } }
                    tbody {
                        @for (v, t) in page.items.iter().zip(&tallies) { (row(v, t)) }
                    }
                }
            }
        }
        @if let Some(next) = &next {
            nav.pager aria-label="Pages" { span {} a href=(next) rel="next" { "Next page" } }
        }
    };
    shell::page(&signed, Nav::Vendors, "Vendors", body)
}

fn row(v: &Vendor, t: &Tally) -> Markup {
    let cats: Vec<&str> = v.fields.categories.iter().map(Category::as_str).collect();
    html! {
        tr {
            th scope="row" { a href={ "/app/vendors/" (v.id) } { (v.fields.name) } }
            td { (cats.join(", ")) }
            td { (t.interactions) }
            td { (t.purchases) }
            td { (t.incidents) }
            td { @match t.last_contact.and_then(|(ms, _)| DateTime::from_timestamp_millis(ms)) {
                Some(at) => (day(&at)),
                None => "never",
            } }
            td { @match t.first_purchase { Some(d) => (d), None => "no purchase yet" } }
        }
    }
}

/// The channels a vendor may prefer, for a choice (none first).
pub(super) fn channel_choices() -> Vec<(&'static str, &'static str)> {
    let mut c = vec![("", "(none)")];
    c.extend(Channel::ALL.iter().map(|ch| (ch.as_str(), ch.as_str())));
    c
}

fn form(signed: &Signed, values: &[(String, String)], errors: &Errors) -> Markup {
    let v = |k: &str| {
        values
            .iter()
            .find(|(f, _)| f == k)
            .map_or("", |(_, v)| v.as_str())
    };
    let channels = channel_choices();
    html! {
        (errors.summary())
        form method="post" action="/app/vendors/new" {
            (csrf(signed))
            (field("Name", "name", Input::Text, v("name"), errors, Some("Unique among your vendors.")))
            (field("Website", "website", Input::Text, v("website"), errors, Some("https://…")))
            (field("Categories", "categories", Input::Text, v("categories"), errors, Some("What you buy there, as dotted categories separated by spaces (home.appliances).")))
            (field("Accounts", "accounts", Input::Area, v("accounts"), errors, Some("Your account references there (customer numbers, logins), one per line.")))
            (field("Note", "note", Input::Area, v("note"), errors, None))
            (field("Channel", "channel", Input::Choice(&channels), v("channel"), errors, Some("The channel you prefer this vendor to use.")))
            (field("Contact policy", "contact_policy", Input::Area, v("contact_policy"), errors, Some("How and how often this vendor may contact you.")))
            div.actions { button type="submit" { "Add vendor" } a href="/app/vendors" { "Cancel" } }
        }
    }
}

/// `GET /app/vendors/new`.
pub async fn new_form(signed: Signed) -> Response {
    let body = form(&signed, &[], &Errors::default());
    shell::page(&signed, Nav::Vendors, "Add vendor", body)
}

/// What the core refused in a sent form, said beside its field (`None`: not the form's fault).
pub(super) fn refused(
    errors: &mut Errors,
    e: LedgerError,
    conflict_field: &str,
) -> Option<LedgerError> {
    match e {
        LedgerError::Invalid { field, message } => errors.add(field, message),
        LedgerError::Conflict { detail, hint } => {
            errors.add(conflict_field, format!("{detail} ({hint})"));
        }
        other => return Some(other),
    }
    None
}

/// `POST /app/vendors/new`.
pub async fn create(State(s): State<AppState>, p: Posted) -> Response {
    let mut errors = Errors::default();
    let name = required::<Line>(&mut errors, "name", "A name", p.get("name"));
    let website = optional::<WebUrl>(&mut errors, "website", p.get("website"));
    let mut categories = Vec::new();
    for c in p
        .get("categories")
        .split([' ', ','])
        .filter(|c| !c.is_empty())
    {
        match c.parse::<Category>() {
            Ok(c) => categories.push(c),
            Err(e) => {
                errors.add("categories", e.0);
                break;
            }
        }
    }
    let mut accounts = Vec::new();
    for a in p
        .get("accounts")
        .lines()
        .map(str::trim)
        .filter(|a| !a.is_empty())
    {
        match a.parse::<Line>() {
            Ok(a) => accounts.push(a),
            Err(e) => {
                errors.add("accounts", e.0);
                break;
            }
        }
    }
    let note = optional::<Text>(&mut errors, "note", p.get("note"));
    let channel = optional::<Channel>(&mut errors, "channel", p.get("channel"));
    let contact_policy = optional::<Text>(&mut errors, "contact_policy", p.get("contact_policy"));
    if let (Some(name), true) = (name, errors.is_empty()) {
        let fields = VendorFields {
            name,
            website,
            categories,
            accounts,
            note,
            channel,
            contact_policy,
            directory_id: None,
        };
        match ledger::create::<Vendors>(&s.store, &s.keys, &s.index, fields, s.now()).await {
            Ok(v) => return see_other(&format!("/app/vendors/{}", v.id)),
            Err(e) => {
                if let Some(e) = refused(&mut errors, e, "name") {
                    return failed(e);
                }
            }
        }
    }
    let body = form(&p.signed, &p.fields, &errors);
    shell::page_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        &p.signed,
        Nav::Vendors,
        "Add vendor",
        body,
    )
}

/// A time as the vendor page shows it.
pub(super) fn when(t: &DateTime<chrono::FixedOffset>) -> String {
    minute(&t.to_utc())
}
