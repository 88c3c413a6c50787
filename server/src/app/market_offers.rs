//! **Market offers** in the web app: offers that came through the market relay (`mof_…`), on
//! their intent's page beside the granted vendors' (the same card, `offers::card`) and on
//! Today while pending, with the owner's answers as `carnet offer accept|decline` give them
//! (`carnet_core::intents::market`). The vendor is named as the market directory named it when
//! the offer arrived, marked as coming through the relay; a decline's reason stays in the
//! vault, and the page says so (the relay's answer carries the decision alone). Never reads
//! the directory nor talks to the relay itself.

use axum::extract::{Path, State};
use axum::response::Response;
use carnet_core::intents::market;
use carnet_schemas::{MarketOffer, MarketOfferId};
use maud::html;

use super::failed;
use super::intents::{not_found_page, parse_id};
use super::offers::{Shown, accept_how, back, decline_why};
use super::signed::Posted;
use crate::state::AppState;

/// What a market offer's card shows.
pub(super) fn shown(m: &MarketOffer) -> Shown<'_> {
    Shown {
        id: m.id.as_str(),
        intent_id: &m.intent_id,
        actions: format!("/app/market-offers/{}", m.id),
        vendor: html! {
            span { (m.vendor_name) } " " span.tag { "through the market relay" }
        },
        state: m.state,
        over_budget: m.over_budget,
        price: &m.price,
        currency: &m.price_currency,
        description: m.description.as_ref(),
        url: m.vendor_website.as_deref(),
        created_at: m.created_at,
        valid_through: Some(m.valid_through),
        decline_reason: m.decline_reason.as_ref(),
        purchase_id: m.purchase_id.as_ref(),
        vendor_id: m.vendor_id.as_ref(),
        reason_hint: "Optional: why, for your records. It stays in your vault: the market relay \
                      tells the vendor only that you declined, never why.",
    }
}

/// `POST /app/market-offers/{id}/accept`: records the purchase with the vault's vendor for the
/// directory vendor (added if needed) and answers "accepted" through the relay, as `carnet
/// offer accept mof_…`.
pub async fn accept(State(s): State<AppState>, Path(raw): Path<String>, p: Posted) -> Response {
    let Some(id) = parse_id::<MarketOfferId>(&raw) else {
        return not_found_page();
    };
    match market::accept(&s, &id, accept_how(&p)).await {
        Ok(m) => back(&m.intent_id, m.id.as_str()),
        Err(e) => failed(e),
    }
}

/// `POST /app/market-offers/{id}/decline`, with an optional reason kept in the vault alone.
pub async fn decline(State(s): State<AppState>, Path(raw): Path<String>, p: Posted) -> Response {
    let Some(id) = parse_id::<MarketOfferId>(&raw) else {
        return not_found_page();
    };
    let why = match decline_why(&p) {
        Ok(why) => why,
        Err(page) => return *page,
    };
    match market::decline(&s, &id, why).await {
        Ok(m) => back(&m.intent_id, m.id.as_str()),
        Err(e) => failed(e),
    }
}
