//! **Offers** on an intent's page, and the owner's answers, as `carnet offer accept|decline`:
//! accepting records the purchase with that vendor (and fulfils the intent unless kept open),
//! declining may say why. An offer's text and link are the vendor's: the text is escaped, the
//! link is one only when it is http(s) (`shell::vendor_link`).

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use carnet_core::intents::offers;
use carnet_schemas::{AcceptOffer, DeclineOffer, Offer, OfferId, OfferState, Text, VendorId};
use chrono::Utc;
use maud::{Markup, html};

use super::failed;
use super::intents::{not_found_page, parse_id};
use super::shell::{self, csrf, minute};
use super::signed::{Posted, Signed, see_other};
use super::today::vendor_link;
use crate::state::AppState;

fn state_tag(state: OfferState) -> Markup {
    let class = match state {
        OfferState::Pending => "tag",
        OfferState::Accepted => "tag good",
        OfferState::Declined | OfferState::Expired => "tag late",
    };
    html! { span class=(class) { (state.as_str()) } }
}

/// One offer, with Accept and Decline while it is pending.
pub(super) fn card(signed: &Signed, o: &Offer, names: &HashMap<VendorId, String>) -> Markup {
    let f = &o.fields;
    html! {
        div.card id={ "offer-" (o.id) } {
            p {
                strong { (f.price) " " (f.price_currency) }
                " from " (vendor_link(names, &o.vendor_id)) " "
                (state_tag(o.state))
                @if o.over_budget { " " span.tag.bad { "over budget" } }
            }
            p.text { (f.description) }
            @if let Some(url) = &f.url { p { (shell::vendor_link(url.as_str())) } }
            p.meta {
                "Received " (minute(&o.created_at))
                @if let Some(t) = f.valid_through { " · valid through " (minute(&t.with_timezone(&Utc))) }
            }
            @if let Some(reason) = &o.decline_reason { p.meta { "Declined because: " (reason) } }
            @if let Some(purchase) = &o.purchase_id {
                div.card.ok role="status" {
                    p {
                        "Purchase " code { (purchase) } " recorded: " (f.price) " " (f.price_currency)
                        " with " (vendor_link(names, &o.vendor_id)) "."
                    }
                    p { a href={ "/app/vendors/" (o.vendor_id) } { "See it on the vendor's page" } }
                }
            }
            @if o.state == OfferState::Pending {
                form method="post" action={ "/app/offers/" (o.id) "/accept" } {
                    (csrf(signed))
                    (checkbox_for(o, "keep_open", "Keep open (the intent stays active, to buy more)"))
                    div.actions { button type="submit" { "Accept" } }
                }
                details {
                    summary { "Decline" }
                    form method="post" action={ "/app/offers/" (o.id) "/decline" } {
                        (csrf(signed))
                        div.field {
                            label for={ "reason-" (o.id) } { "Reason" }
                            small.hint { "Optional: why, for your records (the vendor is told)." }
                            textarea id={ "reason-" (o.id) } name="reason" rows="2" {}
                        }
                        div.actions { button.danger type="submit" { "Decline" } }
                    }
                }
            }
        }
    }
}

/// A checkbox whose id is this offer's (several offers share a page).
fn checkbox_for(o: &Offer, name: &str, label: &str) -> Markup {
    let id = format!("{name}-{}", o.id);
    html! {
        div.check {
            input id=(id) type="checkbox" name=(name) value="yes";
            label for=(id) { (label) }
        }
    }
}

/// Back to the offer on its intent's page.
fn back(o: &Offer) -> Response {
    see_other(&format!("/app/intents/{}#offer-{}", o.intent_id, o.id))
}

/// `POST /app/offers/{id}/accept`: records the purchase, as `carnet offer accept`.
pub async fn accept(State(s): State<AppState>, Path(raw): Path<String>, p: Posted) -> Response {
    let Some(id) = parse_id::<OfferId>(&raw) else {
        return not_found_page();
    };
    let how = AcceptOffer {
        keep_open: !p.get("keep_open").is_empty(),
        date: None,
    };
    match offers::accept(&s, &id, how).await {
        Ok(o) => back(&o),
        Err(e) => failed(e),
    }
}

/// `POST /app/offers/{id}/decline`, with an optional reason.
pub async fn decline(State(s): State<AppState>, Path(raw): Path<String>, p: Posted) -> Response {
    let Some(id) = parse_id::<OfferId>(&raw) else {
        return not_found_page();
    };
    let reason = match p.get("reason").trim() {
        "" => None,
        r => match r.parse::<Text>() {
            Ok(t) => Some(t),
            Err(e) => {
                return shell::problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "The reason cannot be kept",
                    &format!("Reason: {}. Nothing was declined.", e.0),
                );
            }
        },
    };
    match offers::decline(&s, &id, DeclineOffer { reason }).await {
        Ok(o) => back(&o),
        Err(e) => failed(e),
    }
}
