//! **Offers** on an intent's page, and the owner's answers, as `carnet offer accept|decline`:
//! accepting records the purchase with that vendor (and fulfils the intent unless kept open),
//! declining may say why. An offer's text and link are the vendor's: the text is escaped, the
//! link is one only when it is http(s) (`shell::vendor_link`). The card and Today's line are
//! drawn from `Shown`, what a vendor's offer and a market offer (`market_offers`) share; this
//! module never reads a market offer itself.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use carnet_core::intents::offers;
use carnet_schemas::{
    AcceptOffer, Amount, Currency, DeclineOffer, IntentId, Offer, OfferId, OfferState, PurchaseId,
    Text, VendorId,
};
use chrono::{DateTime, Utc};
use maud::{Markup, html};

use super::failed;
use super::intents::{not_found_page, parse_id};
use super::shell::{self, csrf, minute};
use super::signed::{Posted, Signed, see_other};
use super::today::vendor_link;
use crate::state::AppState;

/// What an offer card shows, whichever way the offer came (a granted vendor, or the market
/// relay): built by `Shown::local` here and `market_offers::shown`.
pub(super) struct Shown<'a> {
    /// The offer's id (`ofr_…` or `mof_…`), its card's anchor `offer-{id}`.
    pub id: &'a str,
    pub intent_id: &'a IntentId,
    /// Where its Accept and Decline forms post (`{actions}/accept`, `{actions}/decline`).
    pub actions: String,
    /// Who made it, as shown (a link to the vault's vendor, or the directory's name, marked).
    pub vendor: Markup,
    pub state: OfferState,
    pub over_budget: bool,
    pub price: &'a Amount,
    pub currency: &'a Currency,
    pub description: Option<&'a Text>,
    /// A link the vendor gave (shown as a link only when http(s)).
    pub url: Option<&'a str>,
    pub created_at: DateTime<Utc>,
    pub valid_through: Option<DateTime<Utc>>,
    pub decline_reason: Option<&'a Text>,
    pub purchase_id: Option<&'a PurchaseId>,
    /// The vault's vendor the purchase went to, for the link to its page.
    pub vendor_id: Option<&'a VendorId>,
    /// What the Decline form says becomes of the reason.
    pub reason_hint: &'static str,
}

impl<'a> Shown<'a> {
    /// A granted vendor's offer.
    pub(super) fn local(o: &'a Offer, names: &HashMap<VendorId, String>) -> Shown<'a> {
        let f = &o.fields;
        Shown {
            id: o.id.as_str(),
            intent_id: &o.intent_id,
            actions: format!("/app/offers/{}", o.id),
            vendor: vendor_link(names, &o.vendor_id),
            state: o.state,
            over_budget: o.over_budget,
            price: &f.price,
            currency: &f.price_currency,
            description: Some(&f.description),
            url: f.url.as_ref().map(|u| u.as_str()),
            created_at: o.created_at,
            valid_through: f.valid_through.map(|t| t.with_timezone(&Utc)),
            decline_reason: o.decline_reason.as_ref(),
            purchase_id: o.purchase_id.as_ref(),
            vendor_id: Some(&o.vendor_id),
            reason_hint: "Optional: why, for your records (the vendor is told).",
        }
    }
}

fn state_tag(state: OfferState) -> Markup {
    let class = match state {
        OfferState::Pending => "tag",
        OfferState::Accepted => "tag good",
        OfferState::Declined | OfferState::Expired => "tag late",
    };
    html! { span class=(class) { (state.as_str()) } }
}

/// One offer, with Accept and Decline while it is pending.
pub(super) fn card(signed: &Signed, o: &Shown) -> Markup {
    html! {
        div.card id={ "offer-" (o.id) } {
            p {
                strong { (o.price) " " (o.currency) }
                " from " (o.vendor) " "
                (state_tag(o.state))
                @if o.over_budget { " " span.tag.bad { "over budget" } }
            }
            @if let Some(d) = o.description { p.text { (d) } }
            @if let Some(url) = o.url { p { (shell::vendor_link(url)) } }
            p.meta {
                "Received " (minute(&o.created_at))
                @if let Some(t) = o.valid_through { " · valid through " (minute(&t)) }
            }
            @if let Some(reason) = o.decline_reason { p.meta { "Declined because: " (reason) } }
            @if let Some(purchase) = o.purchase_id {
                div.card.ok role="status" {
                    p {
                        "Purchase " code { (purchase) } " recorded: " (o.price) " " (o.currency)
                        " with " (o.vendor) "."
                    }
                    @if let Some(v) = o.vendor_id {
                        p { a href={ "/app/vendors/" (v) } { "See it on the vendor's page" } }
                    }
                }
            }
            @if o.state == OfferState::Pending {
                form method="post" action={ (o.actions) "/accept" } {
                    (csrf(signed))
                    (checkbox_for(o.id, "keep_open", "Keep open (the intent stays active, to buy more)"))
                    div.actions { button type="submit" { "Accept" } }
                }
                details {
                    summary { "Decline" }
                    form method="post" action={ (o.actions) "/decline" } {
                        (csrf(signed))
                        div.field {
                            label for={ "reason-" (o.id) } { "Reason" }
                            small.hint { (o.reason_hint) }
                            textarea id={ "reason-" (o.id) } name="reason" rows="2" {}
                        }
                        div.actions { button.danger type="submit" { "Decline" } }
                    }
                }
            }
        }
    }
}

/// One waiting offer in Today's list: its price (a link to its intent's page), who made it.
pub(super) fn waiting_item(o: &Shown) -> Markup {
    html! {
        li {
            a href={ "/app/intents/" (o.intent_id) "#offer-" (o.id) } { (o.price) " " (o.currency) }
            " from " (o.vendor)
            @if o.over_budget { " " span.tag.bad { "over budget" } }
            @if let Some(d) = o.description { div.meta { (d) } }
        }
    }
}

/// A checkbox whose id is this offer's (several offers share a page).
fn checkbox_for(offer: &str, name: &str, label: &str) -> Markup {
    let id = format!("{name}-{offer}");
    html! {
        div.check {
            input id=(id) type="checkbox" name=(name) value="yes";
            label for=(id) { (label) }
        }
    }
}

/// Back to the offer `offer` on its intent's page.
pub(super) fn back(intent: &IntentId, offer: &str) -> Response {
    see_other(&format!("/app/intents/{intent}#offer-{offer}"))
}

/// How an Accept form asks: `keep_open` when its box is ticked.
pub(super) fn accept_how(p: &Posted) -> AcceptOffer {
    AcceptOffer {
        keep_open: !p.get("keep_open").is_empty(),
        date: None,
    }
}

/// A Decline form's optional reason, or the page saying why it cannot be kept.
pub(super) fn decline_why(p: &Posted) -> Result<DeclineOffer, Box<Response>> {
    let reason = match p.get("reason").trim() {
        "" => None,
        r => match r.parse::<Text>() {
            Ok(t) => Some(t),
            Err(e) => {
                return Err(Box::new(shell::problem(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "The reason cannot be kept",
                    &format!("Reason: {}. Nothing was declined.", e.0),
                )));
            }
        },
    };
    Ok(DeclineOffer { reason })
}

/// `POST /app/offers/{id}/accept`: records the purchase, as `carnet offer accept`.
pub async fn accept(State(s): State<AppState>, Path(raw): Path<String>, p: Posted) -> Response {
    let Some(id) = parse_id::<OfferId>(&raw) else {
        return not_found_page();
    };
    match offers::accept(&s, &id, accept_how(&p)).await {
        Ok(o) => back(&o.intent_id, o.id.as_str()),
        Err(e) => failed(e),
    }
}

/// `POST /app/offers/{id}/decline`, with an optional reason.
pub async fn decline(State(s): State<AppState>, Path(raw): Path<String>, p: Posted) -> Response {
    let Some(id) = parse_id::<OfferId>(&raw) else {
        return not_found_page();
    };
    let why = match decline_why(&p) {
        Ok(why) => why,
        Err(page) => return *page,
    };
    match offers::decline(&s, &id, why).await {
        Ok(o) => back(&o.intent_id, o.id.as_str()),
        Err(e) => failed(e),
    }
}
