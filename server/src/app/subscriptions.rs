//! Subscriptions in the web app: the Subscriptions page (each one's next payment and notice
//! deadline, the projected totals per currency), the "Add subscription" form (the fields of
//! `carnet subscription add`), and the Cancel and Ask the market buttons (`subscription
//! shop`: a draft intent, then its page). The rules are the core's
//! (`ledger::subscriptions`); a form it refuses comes back (422) with what was typed.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use carnet_core::intents::owner;
use carnet_core::ledger::subscriptions;
use carnet_schemas::{
    Category, NewSubscription, PaymentQuery, Period, SubscriptionCancel, SubscriptionId,
    SubscriptionQuery, Text, Vendor,
};
use maud::{Markup, html};

use super::failed;
use super::records::{date, priced, sent_back, value, vendor, vendor_form, vendor_form_page};
use super::shell::{self, Errors, Input, Nav, field, optional};
use super::signed::{Posted, Signed, see_other};
use super::subscription_list;
use super::today::vendor_names;
use super::vendors::refused;
use crate::state::AppState;

const PERIODS: [(&str, &str); 4] = [
    ("month", "Every month"),
    ("week", "Every week"),
    ("quarter", "Every quarter"),
    ("year", "Every year"),
];

/// `GET /app/subscriptions`.
pub async fn list(signed: Signed, State(s): State<AppState>) -> Response {
    let now = s.now();
    let read = s
        .blocking(move |s| {
            let all = subscriptions::list(&s.store, &s.keys, &SubscriptionQuery::default(), now)?;
            let p = subscriptions::payments(&s.store, &s.keys, &PaymentQuery::default(), now)?;
            let today = carnet_core::ledger::profile::today(&s.store, &s.keys, now)?;
            Ok((all, p, today))
        })
        .await;
    let (all, projection, today) = match read {
        Ok(r) => r,
        Err(e) => return failed(e),
    };
    let names = vendor_names(&s, all.iter().map(|x| x.fields.vendor_id.clone()));
    let body = html! {
        p.hint { "Add one from its vendor's page. Payments fall on the first payment's day plus whole periods; the notice deadline is the renewal (the end of the term, else the next payment) minus the days of notice." }
        section aria-labelledby="all" {
            h2 #all { "Subscriptions and contracts" }
            @if all.is_empty() { (shell::empty("No subscription recorded yet.")) }
            (subscription_list::list(&signed, &all, &names, today, false))
        }
        section aria-labelledby="projected" {
            h2 #projected { "Projected payments" }
            (subscription_list::totals(&projection))
        }
    };
    shell::page(&signed, Nav::Vendors, "Subscriptions", body)
}

fn no_subscription() -> Response {
    shell::problem(
        StatusCode::NOT_FOUND,
        "No such subscription",
        "This subscription is not in your Carnet. Nothing was changed.",
    )
}

/// Where a button brings back: the vendor's page (`?back=vendor`), else Subscriptions.
fn back(query: Option<&str>, s: &carnet_schemas::Subscription) -> Response {
    if query == Some("back=vendor") {
        see_other(&format!(
            "/app/vendors/{}#subscriptions",
            s.fields.vendor_id
        ))
    } else {
        see_other(&format!("/app/subscriptions#{}", s.id))
    }
}

/// `POST /app/subscriptions/{id}/cancel` (no payment after today).
pub async fn cancel(
    State(s): State<AppState>,
    Path(raw): Path<String>,
    RawQuery(q): RawQuery,
    _: Posted,
) -> Response {
    let Ok(id) = raw.parse::<SubscriptionId>() else {
        return no_subscription();
    };
    let body = SubscriptionCancel::default();
    match subscriptions::cancel(&s.store, &s.keys, &id, body, s.now()).await {
        Ok(sub) => back(q.as_deref(), &sub),
        Err(e) => failed(e),
    }
}

/// `POST /app/subscriptions/{id}/shop`: a draft intent, then its page (to activate it).
pub async fn shop(State(s): State<AppState>, Path(raw): Path<String>, _: Posted) -> Response {
    let Ok(id) = raw.parse::<SubscriptionId>() else {
        return no_subscription();
    };
    let now = s.now();
    let fields = match subscriptions::shop(&s.store, &s.keys, &id, now) {
        Ok(f) => f,
        Err(e) => return failed(e),
    };
    match owner::create(&s, fields).await {
        Ok(intent) => see_other(&format!("/app/intents/{}", intent.id)),
        Err(e) => failed(e),
    }
}

fn form(signed: &Signed, v: &Vendor, values: &[(String, String)], errors: &Errors) -> Markup {
    let val = |k: &str| value(values, k);
    let every = match val("every") {
        "" => "month",
        e => e,
    };
    let fields = html! {
        (field("Item", "item", Input::Text, val("item"), errors, Some("What is paid for.")))
        (field("Amount", "amount", Input::Amount, val("amount"), errors, Some("What one payment costs, with at most the currency's decimals (29.99).")))
        (field("Currency", "currency", Input::Text, val("currency"), errors, Some("ISO 4217 code: EUR, USD, …")))
        (field("Every", "every", Input::Choice(&PERIODS), every, errors, None))
        (field("Next payment", "next", Input::Date, val("next"), errors, Some("The day of the next payment (YYYY-MM-DD); later ones fall on it plus whole periods.")))
        (field("Notice days", "notice_days", Input::Number, val("notice_days"), errors, Some("Days of notice the contract asks before its renewal.")))
        (field("Term ends", "ends", Input::Date, val("ends"), errors, Some("The last day of the current term (YYYY-MM-DD), if the contract has one.")))
        (field("Category", "category", Input::Text, val("category"), errors, Some("Where to ask the market before renewing, e.g. telecom.internet.")))
        (field("Note", "note", Input::Area, val("note"), errors, None))
    };
    vendor_form(
        signed,
        v,
        "subscriptions",
        "Add subscription",
        errors,
        fields,
    )
}

/// `GET /app/vendors/{id}/subscriptions/new`.
pub async fn new_form(
    signed: Signed,
    State(s): State<AppState>,
    Path(raw): Path<String>,
) -> Response {
    vendor_form_page(signed, &s, &raw, "Add subscription", form).await
}

fn period(errors: &mut Errors, raw: &str) -> Option<Period> {
    match raw {
        "week" => Some(Period::Week),
        "month" | "" => Some(Period::Month),
        "quarter" => Some(Period::Quarter),
        "year" => Some(Period::Year),
        other => {
            errors.add(
                "every",
                format!("“{other}” is not a period: week, month, quarter or year"),
            );
            None
        }
    }
}

/// `POST /app/vendors/{id}/subscriptions/new`.
pub async fn create(State(s): State<AppState>, Path(raw): Path<String>, p: Posted) -> Response {
    let v = match vendor(&s, &raw).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut errors = Errors::default();
    let (item, amount, currency) = priced(&mut errors, &p, "What is paid for");
    let every = period(&mut errors, p.get("every").trim());
    let next = date(&mut errors, "next", p.get("next"));
    if next.is_none() && p.get("next").trim().is_empty() {
        errors.add("next", "The day of the next payment");
    }
    let notice_days = optional::<u32>(&mut errors, "notice_days", p.get("notice_days"));
    let ends = date(&mut errors, "ends", p.get("ends"));
    let category = optional::<Category>(&mut errors, "category", p.get("category"));
    let note = optional::<Text>(&mut errors, "note", p.get("note"));
    if let (Some(item), Some(amount), Some(currency), Some(every), Some(next), true) =
        (item, amount, currency, every, next, errors.is_empty())
    {
        let new = NewSubscription {
            vendor_id: v.id.clone(),
            item,
            amount,
            currency,
            every,
            next,
            notice_days,
            ends,
            category,
            note,
        };
        match subscriptions::create(&s.store, &s.keys, new, s.now()).await {
            Ok(_) => return see_other(&format!("/app/vendors/{}#subscriptions", v.id)),
            Err(e) => {
                if let Some(e) = refused(&mut errors, e, "") {
                    return failed(e);
                }
            }
        }
    }
    let body = form(&p.signed, &v, &p.fields, &errors);
    sent_back(&p.signed, "Add subscription", body)
}
