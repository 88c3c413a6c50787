//! Promises in the web app: the Kept / Broken buttons' handlers and the "Add promise" form
//! (the fields of `carnet promise add`); what lists them is `promise_list`. The rules are the core's (`ledger::promises`); a form it refuses
//! comes back (422) with what was typed.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use carnet_core::ledger::promises::{self, Settle};
use carnet_schemas::{
    InteractionId, Line, NewPromise, PromiseBroken, PromiseId, PromiseKept, Text, Vendor,
};
use maud::{Markup, html};

use super::failed;
use super::records::{date, sent_back, value, vendor, vendor_form, vendor_form_page};
use super::shell::{self, Errors, Input, field, optional, required};
use super::signed::{Posted, Signed, see_other};
use super::vendors::refused;
use crate::state::AppState;

/// Where a Kept / Broken button brings back: the promise's vendor page when it was pressed
/// there (`?back=vendor`), else Today.
async fn settle(s: &AppState, raw: &str, query: Option<&str>, how: Settle) -> Response {
    let Ok(id) = raw.parse::<PromiseId>() else {
        return shell::problem(
            StatusCode::NOT_FOUND,
            "No such promise",
            "This promise is not in your Carnet. Nothing was changed.",
        );
    };
    match promises::settle(&s.store, &s.keys, &s.index, &id, how, s.now()).await {
        Ok(p) if query == Some("back=vendor") => {
            see_other(&format!("/app/vendors/{}#promises", p.fields.vendor_id))
        }
        Ok(_) => see_other("/app/#promises"),
        Err(e) => failed(e),
    }
}

/// `POST /app/promises/{id}/kept` (kept now).
pub async fn kept(
    State(s): State<AppState>,
    Path(raw): Path<String>,
    RawQuery(q): RawQuery,
    _: Posted,
) -> Response {
    let how = Settle::Kept(PromiseKept::default());
    settle(&s, &raw, q.as_deref(), how).await
}

/// `POST /app/promises/{id}/broken`.
pub async fn broken(
    State(s): State<AppState>,
    Path(raw): Path<String>,
    RawQuery(q): RawQuery,
    _: Posted,
) -> Response {
    let how = Settle::Broken(PromiseBroken::default());
    settle(&s, &raw, q.as_deref(), how).await
}

fn form(signed: &Signed, v: &Vendor, values: &[(String, String)], errors: &Errors) -> Markup {
    let val = |k: &str| value(values, k);
    let fields = html! {
        (field("What", "what", Input::Area, val("what"), errors, Some("What they committed to.")))
        (field("Due", "due", Input::Date, val("due"), errors, Some("The day it is due (YYYY-MM-DD); open after it, it is late.")))
        (field("By", "by", Input::Text, val("by"), errors, Some("Who made it (a person, a department).")))
        (field("Interaction", "interaction", Input::Text, val("interaction"), errors, Some("The id of the interaction it was made in (int_…), if any.")))
    };
    vendor_form(signed, v, "promises", "Add promise", errors, fields)
}

/// `GET /app/vendors/{id}/promises/new`.
pub async fn new_form(
    signed: Signed,
    State(s): State<AppState>,
    Path(raw): Path<String>,
) -> Response {
    vendor_form_page(signed, &s, &raw, "Add promise", form).await
}

/// `POST /app/vendors/{id}/promises/new`.
pub async fn create(State(s): State<AppState>, Path(raw): Path<String>, p: Posted) -> Response {
    let v = match vendor(&s, &raw).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut errors = Errors::default();
    let what = required::<Text>(&mut errors, "what", "What they promised", p.get("what"));
    let due = date(&mut errors, "due", p.get("due"));
    if due.is_none() && p.get("due").trim().is_empty() {
        errors.add("due", "The day it is due");
    }
    let by = optional::<Line>(&mut errors, "by", p.get("by"));
    let interaction_id =
        optional::<InteractionId>(&mut errors, "interaction", p.get("interaction"));
    if let (Some(what), Some(due), true) = (what, due, errors.is_empty()) {
        let new = NewPromise {
            vendor_id: v.id.clone(),
            what,
            due,
            by,
            interaction_id,
        };
        match promises::create(&s.store, &s.keys, &s.index, new, s.now()).await {
            Ok(_) => return see_other(&format!("/app/vendors/{}#promises", v.id)),
            Err(e) => {
                if let Some(e) = refused(&mut errors, e, "") {
                    return failed(e);
                }
            }
        }
    }
    let body = form(&p.signed, &v, &p.fields, &errors);
    sent_back(&p.signed, "Add promise", body)
}
