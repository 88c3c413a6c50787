//! The ledger forms reached from a vendor's page: a purchase (the fields of `carnet purchase
//! add`), an incident (those of `carnet incident open`), and sharing an interaction with its
//! vendor or no longer. The rules are the core's (`ledger::purchases`, `ledger::incidents`,
//! `ledger::interactions::share`); a form it refuses comes back (422) with what was typed.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use carnet_core::ledger::{self, Incidents, Purchases, Vendors, interactions};
use carnet_schemas::{
    Amount, Currency, InteractionId, Line, NewIncident, PurchaseFields, Text, Vendor,
};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use maud::{Markup, html};

use super::failed;
use super::shell::{self, Errors, Input, Nav, csrf, field};
use super::shell::{optional, required};
use super::signed::{Posted, Signed, see_other};
use super::vendor_page::{no_vendor, vendor_id};
use super::vendors::refused;
use crate::state::AppState;

/// The vendor a form is for, or the page that says it is not there.
pub(super) async fn vendor(s: &AppState, raw: &str) -> Result<Vendor, Response> {
    let id = vendor_id(raw).ok_or_else(no_vendor)?;
    let s2 = s.clone();
    match s2
        .blocking(move |s| Ok(ledger::show::<Vendors>(&s.store, &s.keys, &id)?))
        .await
    {
        Ok(v) => Ok(v),
        Err(e) => Err(failed(e)),
    }
}

pub(super) fn value<'a>(values: &'a [(String, String)], k: &str) -> &'a str {
    values
        .iter()
        .find(|(f, _)| f == k)
        .map_or("", |(_, v)| v.as_str())
}

pub(super) fn date(errors: &mut Errors, name: &str, raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        Ok(d) => Some(d),
        Err(_) => {
            errors.add(
                name,
                format!("“{raw}” is not a day: write it YYYY-MM-DD (2026-12-15)."),
            );
            None
        }
    }
}

/// A time as the form's field gives it: RFC 3339, a time without offset (taken as UTC, as
/// the field says), or a day (its start, UTC).
pub(super) fn time(errors: &mut Errors, name: &str, raw: &str) -> Option<DateTime<FixedOffset>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t);
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(raw, format) {
            return Some(t.and_utc().fixed_offset());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|t| t.and_utc().fixed_offset());
    }
    errors.add(
        name,
        format!("“{raw}” is not a time: write it 2026-12-15T14:30 (UTC) or 2026-12-15."),
    );
    None
}

/// A form's `item`, `amount` and `currency` (upper-cased), each required; `what` says what
/// the item is.
pub(super) fn priced(
    errors: &mut Errors,
    p: &Posted,
    what: &str,
) -> (Option<Line>, Option<Amount>, Option<Currency>) {
    let item = required::<Line>(errors, "item", what, p.get("item"));
    let amount = required::<Amount>(errors, "amount", "An amount", p.get("amount"));
    let currency = required::<Currency>(
        errors,
        "currency",
        "A currency",
        &p.get("currency").trim().to_uppercase(),
    );
    (item, amount, currency)
}

pub(super) fn sent_back(signed: &Signed, title: &str, body: Markup) -> Response {
    shell::page_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        signed,
        Nav::Vendors,
        title,
        body,
    )
}

/// The frame of a form that adds a record to vendor `v`: who it is with, what is wrong, the
/// fields, and the submit (`label`) posted to `/app/vendors/{id}/{what}/new`.
pub(super) fn vendor_form(
    signed: &Signed,
    v: &Vendor,
    what: &str,
    label: &str,
    errors: &Errors,
    fields: Markup,
) -> Markup {
    html! {
        p { "With " a href={ "/app/vendors/" (v.id) } { (v.fields.name) } "." }
        (errors.summary())
        form method="post" action={ "/app/vendors/" (v.id) "/" (what) "/new" } {
            (csrf(signed))
            (fields)
            div.actions { button type="submit" { (label) } a href={ "/app/vendors/" (v.id) } { "Cancel" } }
        }
    }
}

/// The page of an empty form (`form`) adding a record to the vendor of path `raw`.
pub(super) async fn vendor_form_page(
    signed: Signed,
    s: &AppState,
    raw: &str,
    title: &str,
    form: impl Fn(&Signed, &Vendor, &[(String, String)], &Errors) -> Markup,
) -> Response {
    let v = match vendor(s, raw).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let body = form(&signed, &v, &[], &Errors::default());
    shell::page(&signed, Nav::Vendors, title, body)
}

fn purchase_form(
    signed: &Signed,
    v: &Vendor,
    values: &[(String, String)],
    errors: &Errors,
) -> Markup {
    let val = |k: &str| value(values, k);
    let fields = html! {
        (field("Item", "item", Input::Text, val("item"), errors, Some("What you bought.")))
        (field("Amount", "amount", Input::Amount, val("amount"), errors, Some("What you paid, as a decimal number with at most the currency's decimals (699.90).")))
        (field("Currency", "currency", Input::Text, val("currency"), errors, Some("ISO 4217 code: EUR, USD, …")))
        (field("At", "at", Input::Date, val("at"), errors, Some("The day of the purchase (YYYY-MM-DD); today if left empty.")))
        (field("Warranty until", "warranty_until", Input::Date, val("warranty_until"), errors, Some("The last day under warranty (YYYY-MM-DD).")))
        (field("Receipt", "receipt", Input::Text, val("receipt"), errors, Some("Receipt or order reference.")))
    };
    vendor_form(signed, v, "purchases", "Add purchase", errors, fields)
}

/// `GET /app/vendors/{id}/purchases/new`.
pub async fn new_purchase(
    signed: Signed,
    State(s): State<AppState>,
    Path(raw): Path<String>,
) -> Response {
    vendor_form_page(signed, &s, &raw, "Add purchase", purchase_form).await
}

/// `POST /app/vendors/{id}/purchases/new`.
pub async fn create_purchase(
    State(s): State<AppState>,
    Path(raw): Path<String>,
    p: Posted,
) -> Response {
    let v = match vendor(&s, &raw).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut errors = Errors::default();
    let (item, amount, currency) = priced(&mut errors, &p, "What you bought");
    let at = date(&mut errors, "at", p.get("at"));
    let warranty_until = date(&mut errors, "warranty_until", p.get("warranty_until"));
    let receipt = optional::<Line>(&mut errors, "receipt", p.get("receipt"));
    if let (Some(item), Some(amount), Some(currency), true) =
        (item, amount, currency, errors.is_empty())
    {
        let fields = PurchaseFields {
            vendor_id: v.id.clone(),
            item,
            amount,
            currency,
            date: at,
            warranty_until,
            receipt,
            import_key: None,
        };
        match ledger::create::<Purchases>(&s.store, &s.keys, &s.index, fields, s.now()).await {
            Ok(_) => return see_other(&format!("/app/vendors/{}#timeline", v.id)),
            Err(e) => {
                if let Some(e) = refused(&mut errors, e, "") {
                    return failed(e);
                }
            }
        }
    }
    let body = purchase_form(&p.signed, &v, &p.fields, &errors);
    sent_back(&p.signed, "Add purchase", body)
}

fn incident_form(
    signed: &Signed,
    v: &Vendor,
    values: &[(String, String)],
    errors: &Errors,
) -> Markup {
    let val = |k: &str| value(values, k);
    let fields = html! {
        (field("Description", "description", Input::Area, val("description"), errors, Some("What went wrong.")))
        (field("At", "at", Input::DateTime, val("at"), errors, Some("When it started (UTC); now if left empty.")))
    };
    vendor_form(signed, v, "incidents", "Add incident", errors, fields)
}

/// `GET /app/vendors/{id}/incidents/new`.
pub async fn new_incident(
    signed: Signed,
    State(s): State<AppState>,
    Path(raw): Path<String>,
) -> Response {
    vendor_form_page(signed, &s, &raw, "Add incident", incident_form).await
}

/// `POST /app/vendors/{id}/incidents/new`.
pub async fn create_incident(
    State(s): State<AppState>,
    Path(raw): Path<String>,
    p: Posted,
) -> Response {
    let v = match vendor(&s, &raw).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut errors = Errors::default();
    let description = required::<Text>(
        &mut errors,
        "description",
        "What went wrong",
        p.get("description"),
    );
    let opened_at = time(&mut errors, "at", p.get("at"));
    if let (Some(description), true) = (description, errors.is_empty()) {
        let new = NewIncident {
            vendor_id: v.id.clone(),
            description,
            opened_at,
        };
        match ledger::create::<Incidents>(&s.store, &s.keys, &s.index, new, s.now()).await {
            Ok(_) => return see_other(&format!("/app/vendors/{}#timeline", v.id)),
            Err(e) => {
                if let Some(e) = refused(&mut errors, e, "") {
                    return failed(e);
                }
            }
        }
    }
    let body = incident_form(&p.signed, &v, &p.fields, &errors);
    sent_back(&p.signed, "Add incident", body)
}

async fn set_shared(s: &AppState, raw: &str, shared: bool) -> Response {
    let Ok(id) = raw.parse::<InteractionId>() else {
        return shell::problem(
            StatusCode::NOT_FOUND,
            "No such interaction",
            "This interaction is not in your Carnet. Nothing was changed.",
        );
    };
    match interactions::share(&s.store, &s.keys, &s.index, &id, shared, s.now()).await {
        Ok(i) => see_other(&format!("/app/vendors/{}#timeline", i.fields.vendor_id)),
        Err(e) => failed(e),
    }
}

/// `POST /app/interactions/{id}/share`.
pub async fn share(State(s): State<AppState>, Path(raw): Path<String>, _: Posted) -> Response {
    set_shared(&s, &raw, true).await
}

/// `POST /app/interactions/{id}/unshare`.
pub async fn unshare(State(s): State<AppState>, Path(raw): Path<String>, _: Posted) -> Response {
    set_shared(&s, &raw, false).await
}
