//! **Intents**: what the owner wants to buy, as `carnet intent …` does it: the list (by
//! state), a new intent (a draft, or saved and activated), one intent with its offers and the
//! moves its state allows, and its edit form. The rules (what may be written, which move from
//! which state) are `carnet_core::intents::owner`'s; offers are answered in `offers`.

use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use carnet_core::intents::{market, offers, owner};
use carnet_schemas::{Intent, IntentId, IntentState, PriceSpecification};
use chrono::Utc;
use maud::{Markup, html};

use super::failed;
use super::intent_form::{Draft, condition_name, refused, render, withhold_name};
use super::offers::Shown;
use super::shell::{self, Errors, Nav, button_form, csrf, empty, minute};
use super::signed::{Posted, Signed, see_other};
use crate::state::AppState;

const STATES: [IntentState; 5] = [
    IntentState::Draft,
    IntentState::Active,
    IntentState::Fulfilled,
    IntentState::Withdrawn,
    IntentState::Expired,
];

/// A form of one button that asks before it is sent (with JavaScript; without, it is sent).
pub(super) fn confirm_form(
    signed: &Signed,
    action: &str,
    label: &str,
    class: &str,
    confirm: &str,
) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (csrf(signed))
            button class=(class) type="submit" data-confirm=(confirm) { (label) }
        }
    }
}

/// The price range: `500–700 EUR`, `≤ 700 EUR`, `≥ 500 EUR`, or the currency alone.
pub(super) fn price_text(p: Option<&PriceSpecification>) -> String {
    p.map_or_else(|| "not said".to_owned(), ToString::to_string)
}

/// `from … through …` (UTC).
fn window(i: &Intent) -> String {
    let from = i
        .fields
        .valid_from
        .map_or("from when it is activated".to_owned(), |t| {
            format!("from {}", minute(&t.with_timezone(&Utc)))
        });
    match i.fields.valid_through {
        Some(t) => format!("{from} through {}", minute(&t.with_timezone(&Utc))),
        None => from,
    }
}

fn state_tag(state: IntentState) -> Markup {
    let class = match state {
        IntentState::Active => "tag good",
        IntentState::Expired | IntentState::Withdrawn => "tag late",
        IntentState::Draft | IntentState::Fulfilled => "tag",
    };
    html! { span class=(class) { (state.as_str()) } }
}

/// An id from the path (`None`: the page is not found).
pub(super) fn parse_id<T: std::str::FromStr>(raw: &str) -> Option<T> {
    raw.parse::<T>().ok()
}

/// A page for an id that cannot be one.
pub(super) fn not_found_page() -> Response {
    shell::problem(
        StatusCode::NOT_FOUND,
        "No such page",
        "This page does not exist in your Carnet (a link may be out of date).",
    )
}

/// `GET /app/intents[?state=…]`.
pub async fn list(signed: Signed, State(s): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let wanted = url::form_urlencoded::parse(q.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty());
    let state = match wanted.as_deref().map(str::parse::<IntentState>) {
        None => None,
        Some(Ok(st)) => Some(st),
        Some(Err(e)) => {
            return shell::problem(StatusCode::BAD_REQUEST, "No such state", &e.0);
        }
    };
    let intents = match s.blocking(move |s| Ok(owner::list(s, state)?)).await {
        Ok(i) => i,
        Err(e) => return failed(e),
    };
    let body = html! {
        p { a.button href="/app/intents/new" { "New intent" } }
        nav.actions aria-label="By state" {
            a.button.secondary[state.is_some()] href="/app/intents"
                aria-current=[state.is_none().then_some("page")] { "All" }
            @for st in STATES {
                a.button.secondary[state != Some(st)] href={ "/app/intents?state=" (st) }
                    aria-current=[(state == Some(st)).then_some("page")] { (st) }
            }
        }
        @if intents.is_empty() {
            @match state {
                Some(st) => (empty(&format!("No {st} intents."))),
                None => (empty("No intents yet: write what you want to buy, and granted vendors answer with offers.")),
            }
        }
        ul.items {
            @for i in &intents {
                li {
                    a href={ "/app/intents/" (i.id) } { (i.fields.title) } " " (state_tag(i.state))
                    div.meta { (i.fields.category) " · " (price_text(i.fields.price_specification.as_ref())) }
                    div.meta { (window(i)) " · " (i.offers) @if i.offers == 1 { " offer" } @else { " offers" } }
                }
            }
        }
    };
    shell::page(&signed, Nav::Intents, "Intents", body)
}

/// `GET /app/intents/new`.
pub async fn new_form(signed: Signed) -> Response {
    let form = render(
        &signed,
        "/app/intents/new",
        &Draft::new(),
        &Errors::default(),
        "Save as draft",
        true,
    );
    shell::page(&signed, Nav::Intents, "New intent", form)
}

/// The form sent back with what is wrong, as typed.
fn sent_back(
    signed: &Signed,
    title: &str,
    action: &str,
    d: &Draft,
    e: &Errors,
    save: &str,
    activate: bool,
) -> Response {
    shell::page_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        signed,
        Nav::Intents,
        title,
        render(signed, action, d, e, save, activate),
    )
}

/// `POST /app/intents/new`: writes a draft (and activates it with **Save and activate**).
pub async fn create(State(s): State<AppState>, p: Posted) -> Response {
    let d = Draft::posted(&p);
    let action = "/app/intents/new";
    let fields = match d.parse(None) {
        Ok(f) => f,
        Err(e) => {
            return sent_back(
                &p.signed,
                "New intent",
                action,
                &d,
                &e,
                "Save as draft",
                true,
            );
        }
    };
    let intent = match owner::create(&s, fields).await {
        Ok(i) => i,
        Err(e) => match refused(&e) {
            Some(errors) => {
                return sent_back(
                    &p.signed,
                    "New intent",
                    action,
                    &d,
                    &errors,
                    "Save as draft",
                    true,
                );
            }
            None => return failed(e),
        },
    };
    then_activate(&s, &p, &intent, "written").await
}

/// After a save: activates it when asked (**Save and activate**), then shows it.
async fn then_activate(s: &AppState, p: &Posted, i: &Intent, verb: &str) -> Response {
    if p.get("then") != "activate" || i.state != IntentState::Draft {
        return see_other(&format!("/app/intents/{}", i.id));
    }
    match owner::activate(s, &i.id).await {
        Ok(_) => see_other(&format!("/app/intents/{}", i.id)),
        Err(e) => {
            let why = e.to_string();
            shell::page_with(
                StatusCode::CONFLICT,
                &p.signed,
                Nav::Intents,
                "Saved, but not active",
                html! {
                    div.card.err role="alert" {
                        p { "The intent was " (verb) " and kept as a draft, but it could not be activated: " (why) "." }
                    }
                    p { a href={ "/app/intents/" (i.id) } { "See the intent" } }
                },
            )
        }
    }
}

/// `GET /app/intents/{id}`.
pub async fn show(signed: Signed, State(s): State<AppState>, Path(raw): Path<String>) -> Response {
    let Some(id) = parse_id::<IntentId>(&raw) else {
        return not_found_page();
    };
    let found = s
        .blocking(move |s| {
            let intent = owner::show(s, &id)?;
            let offers = offers::list(s, Some(&id))?;
            let relayed = market::list(s, Some(&id))?;
            let names = super::today::vendor_names(s, offers.iter().map(|o| o.vendor_id.clone()));
            Ok((intent, offers, relayed, names))
        })
        .await;
    let (i, offers, relayed, names) = match found {
        Ok(found) => found,
        Err(e) => return failed(e),
    };
    let f = &i.fields;
    let t = &f.terms;
    let at = |m: &str| format!("/app/intents/{}/{m}", i.id);
    let withheld: Vec<&str> = t.withhold.iter().map(|w| withhold_name(*w)).collect();
    let body = html! {
        p { (state_tag(i.state)) " " (f.category) }
        div.actions {
            @if owner::editable(i.state) {
                a.button.secondary href=(at("edit")) { "Edit" }
            }
            @if owner::Move::Activate.allowed_from(i.state) {
                (button_form(&signed, &at("activate"), "Activate", ""))
            }
            @if owner::Move::Fulfil.allowed_from(i.state) {
                (button_form(&signed, &at("fulfil"), "Fulfil", "secondary"))
            }
            @if owner::Move::Withdraw.allowed_from(i.state) {
                (confirm_form(&signed, &at("withdraw"), "Withdraw", "danger",
                    "Withdraw this intent? No vendor will see it any more, and its pending offers expire."))
            }
        }
        @if i.state == IntentState::Draft {
            p.hint { "A draft: no vendor sees it until you activate it." }
        }
        dl.facts {
            div { dt { "Price" } dd { (price_text(f.price_specification.as_ref())) } }
            @if let Some(q) = f.eligible_quantity { div { dt { "Quantity" } dd { (q) } } }
            @if let Some(a) = &f.area_served { div { dt { "Area" } dd { (a) } } }
            @if let Some(d) = &f.available_delivery_method { div { dt { "Delivery" } dd { (d) } } }
            @if let Some(c) = f.item_condition { div { dt { "Condition" } dd { (condition_name(c)) } } }
            div { dt { "Offers" } dd { (i.offers) " of at most " (f.max_offers.unwrap_or(carnet_schemas::DEFAULT_MAX_OFFERS)) } }
        }
        p { strong { "Window: " } (window(&i)) }
        @if let Some(d) = &f.description { p.text { (d) } }
        section aria-labelledby="terms" {
            h2 #terms { "Terms" }
            ul {
                li { "Purpose: " (t.purpose.as_ref().map_or("not said", |p| p.as_str())) }
                li { "Vendors keep what they read at most " (t.retention_days) " days" }
                li { "Resale " @if t.no_resale { "forbidden" } @else { "allowed" } }
                li { "Tracking " @if t.no_tracking { "forbidden" } @else { "allowed" } }
                li { "Withheld: " @if withheld.is_empty() { "nothing" } @else { (withheld.join(", ")) } }
            }
            p.meta { "Written " (minute(&i.created_at)) ", changed " (minute(&i.updated_at)) }
        }
        section aria-labelledby="offers" {
            h2 #offers { "Offers" }
            @if offers.is_empty() && relayed.is_empty() {
                @if i.state == IntentState::Active {
                    @if !f.relay.is_off() {
                        (empty("No offer yet: granted vendors, and the market relay's vendors it was announced to, answer while the window is open."))
                    } @else {
                        (empty("No offer yet: granted vendors answer while the window is open."))
                    }
                } @else {
                    (empty("No offer."))
                }
            }
            @for o in &offers { (super::offers::card(&signed, &Shown::local(o, &names))) }
            @for m in &relayed { (super::offers::card(&signed, &super::market_offers::shown(m))) }
        }
        p { a href="/app/intents" { "All intents" } }
    };
    shell::page(&signed, Nav::Intents, f.title.as_str(), body)
}

/// `GET /app/intents/{id}/edit`.
pub async fn edit_form(
    signed: Signed,
    State(s): State<AppState>,
    Path(raw): Path<String>,
) -> Response {
    let Some(id) = parse_id::<IntentId>(&raw) else {
        return not_found_page();
    };
    let i = match owner::show(&s, &id) {
        Ok(i) => i,
        Err(e) => return failed(e),
    };
    let form = render(
        &signed,
        &format!("/app/intents/{id}/edit"),
        &Draft::of(&i),
        &Errors::default(),
        "Save",
        i.state == IntentState::Draft,
    );
    shell::page(
        &signed,
        Nav::Intents,
        &format!("Edit “{}”", i.fields.title),
        form,
    )
}

/// `POST /app/intents/{id}/edit`: replaces the intent's content, as `carnet intent edit`.
pub async fn edit(State(s): State<AppState>, Path(raw): Path<String>, p: Posted) -> Response {
    let Some(id) = parse_id::<IntentId>(&raw) else {
        return not_found_page();
    };
    let before = match owner::show(&s, &id) {
        Ok(i) => i,
        Err(e) => return failed(e),
    };
    let d = Draft::posted(&p);
    let action = format!("/app/intents/{id}/edit");
    let title = format!("Edit “{}”", before.fields.title);
    let draft = before.state == IntentState::Draft;
    let fields = match d.parse(Some(&before.fields)) {
        Ok(f) => f,
        Err(e) => return sent_back(&p.signed, &title, &action, &d, &e, "Save", draft),
    };
    match owner::edit(&s, &id, fields).await {
        Ok(i) => then_activate(&s, &p, &i, "changed").await,
        Err(e) => match refused(&e) {
            Some(errors) => sent_back(&p.signed, &title, &action, &d, &errors, "Save", draft),
            None => failed(e),
        },
    }
}

async fn moved(s: &AppState, raw: &str, step: owner::Move) -> Response {
    let Some(id) = parse_id::<IntentId>(raw) else {
        return not_found_page();
    };
    let done = match step {
        owner::Move::Activate => owner::activate(s, &id).await,
        owner::Move::Withdraw => owner::withdraw(s, &id).await,
        owner::Move::Fulfil => owner::fulfil(s, &id).await,
    };
    match done {
        Ok(_) => see_other(&format!("/app/intents/{id}")),
        Err(e) => failed(e),
    }
}

/// `POST /app/intents/{id}/activate`.
pub async fn activate(State(s): State<AppState>, Path(raw): Path<String>, _: Posted) -> Response {
    moved(&s, &raw, owner::Move::Activate).await
}

/// `POST /app/intents/{id}/withdraw`.
pub async fn withdraw(State(s): State<AppState>, Path(raw): Path<String>, _: Posted) -> Response {
    moved(&s, &raw, owner::Move::Withdraw).await
}

/// `POST /app/intents/{id}/fulfil`.
pub async fn fulfil(State(s): State<AppState>, Path(raw): Path<String>, _: Posted) -> Response {
    moved(&s, &raw, owner::Move::Fulfil).await
}
