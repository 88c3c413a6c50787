//! Offers, as the owner reads and answers them. Accepting one records the purchase with that
//! vendor (so it counts in the loyalty facts) and fulfils the intent unless asked to keep it
//! open.

use std::collections::HashMap;

use axum::extract::State;
use carnet_schemas::{
    AcceptOffer, DeclineOffer, IntentFields, IntentId, IntentState, Line, Offer, OfferId,
    OfferQuery, OfferState, PurchaseFields, PurchaseId,
};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;
use carnet_core::intents::{OfferRecord, effective_state};
use carnet_core::store::intents::{
    self as rows, IntentRow, OfferRow, StoredIntentState, StoredOfferState,
};
use carnet_core::store::records::{self, Row};
use carnet_core::vault::Keys;
use carnet_core::webhooks;

struct Stored {
    id: IntentId,
    row: IntentRow<IntentFields>,
    fields: IntentFields,
}

impl Stored {
    fn state(&self, now: DateTime<Utc>) -> IntentState {
        effective_state(self.row.state, &self.fields, now)
    }
}

fn get_intent(conn: &Connection, keys: &Keys, id: &IntentId) -> ApiResult<Stored> {
    let row = rows::intent::<IntentFields>(conn, id.as_str())?
        .ok_or_else(|| ApiError::not_found("intent", id.as_str()))?;
    let fields = keys.seal().open(&row.id, &row.sealed)?;
    Ok(Stored {
        id: id.clone(),
        row,
        fields,
    })
}

/// An offer's state at `now`: a pending offer is expired once its own `valid_through` has
/// passed or its intent is no longer active.
pub(crate) fn offer_state(
    stored: StoredOfferState,
    record: &OfferRecord,
    intent_state: IntentState,
    now: DateTime<Utc>,
) -> OfferState {
    match stored {
        StoredOfferState::Accepted => OfferState::Accepted,
        StoredOfferState::Declined => OfferState::Declined,
        StoredOfferState::Pending
            if intent_state != IntentState::Active
                || record.fields.valid_through.is_some_and(|t| now >= t) =>
        {
            OfferState::Expired
        }
        StoredOfferState::Pending => OfferState::Pending,
    }
}

struct Loaded {
    row: OfferRow<OfferRecord>,
    record: OfferRecord,
    intent: Stored,
}

fn load(c: &Connection, keys: &Keys, id: &OfferId) -> ApiResult<Loaded> {
    let row = rows::offer::<OfferRecord>(c, id.as_str())?
        .ok_or_else(|| ApiError::not_found("offer", id.as_str()))?;
    let record: OfferRecord = keys.seal().open(&row.id, &row.sealed)?;
    let intent_id = row
        .intent_id
        .parse()
        .map_err(|_| ApiError::Internal("bad intent id".into()))?;
    let intent = get_intent(c, keys, &intent_id)?;
    Ok(Loaded {
        row,
        record,
        intent,
    })
}

fn to_wire(l: Loaded, now: DateTime<Utc>) -> ApiResult<Offer> {
    let intent_state = l.intent.state(now);
    wire(l.row, l.record, l.intent.id, intent_state, now)
}

fn wire(
    row: OfferRow<OfferRecord>,
    record: OfferRecord,
    intent_id: IntentId,
    intent_state: IntentState,
    now: DateTime<Utc>,
) -> ApiResult<Offer> {
    let bad = || ApiError::Internal("offer row does not parse".into());
    Ok(Offer {
        id: row.id.parse().map_err(|_| bad())?,
        intent_id,
        vendor_id: row.vendor_id.parse().map_err(|_| bad())?,
        state: offer_state(row.state, &record, intent_state, now),
        created_at: row.created_at,
        updated_at: row.updated_at,
        fields: record.fields,
        decline_reason: record.decline_reason,
        purchase_id: record.purchase_id,
    })
}

/// Offers, newest first, all or one intent's.
#[utoipa::path(get, path = "/v1/offers", tag = "intents", params(OfferQuery),
    security(("owner" = [])),
    responses((status = 200, description = "Offers", body = Vec<Offer>)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<OfferQuery>,
) -> ApiResult<Json<Vec<Offer>>> {
    let now = s.now();
    let offers = s
        .blocking(move |s| {
            s.store.read(|c| {
                if let Some(intent) = &q.intent {
                    // An unknown intent is a mistake worth saying, not an empty list.
                    get_intent(c, &s.keys, intent)?;
                }
                let rows = rows::offers::<OfferRecord>(c, q.intent.as_ref().map(|i| i.as_str()))?;
                // Each intent is opened once, however many offers it has.
                let mut intents: HashMap<String, (IntentId, IntentState)> = HashMap::new();
                let mut out = Vec::with_capacity(rows.len());
                for row in rows {
                    let record: OfferRecord = s.keys.seal().open(&row.id, &row.sealed)?;
                    let (intent_id, intent_state) = match intents.get(&row.intent_id) {
                        Some(known) => known.clone(),
                        None => {
                            let id = row
                                .intent_id
                                .parse()
                                .map_err(|_| ApiError::Internal("bad intent id".into()))?;
                            let intent = get_intent(c, &s.keys, &id)?;
                            let known = (id, intent.state(now));
                            intents.insert(row.intent_id.clone(), known.clone());
                            known
                        }
                    };
                    out.push(wire(row, record, intent_id, intent_state, now)?);
                }
                Ok::<_, ApiError>(out)
            })
        })
        .await?;
    Ok(Json(offers))
}

/// One offer.
#[utoipa::path(get, path = "/v1/offers/{id}", tag = "intents",
    params(("id" = OfferId, Path, description = "Offer id")),
    security(("owner" = [])),
    responses((status = 200, description = "The offer", body = Offer)))]
pub async fn show(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<OfferId>,
) -> ApiResult<Json<Offer>> {
    let loaded = s.store.read(|c| load(c, &s.keys, &id))?;
    Ok(Json(to_wire(loaded, s.now())?))
}

fn must_be_pending(l: &Loaded, now: DateTime<Utc>) -> ApiResult<()> {
    match offer_state(l.row.state, &l.record, l.intent.state(now), now) {
        OfferState::Pending => Ok(()),
        other => Err(ApiError::conflict(
            format!("offer {} is {other}, not pending", l.row.id),
            "only pending offers on an active intent can be accepted or declined",
        )),
    }
}

/// Accept an offer: records the purchase with that vendor and fulfils the intent (unless
/// `keep_open`).
#[utoipa::path(post, path = "/v1/offers/{id}/accept", tag = "intents", request_body = AcceptOffer,
    params(("id" = OfferId, Path, description = "Offer id")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "Accepted; `purchase_id` is the purchase recorded", body = Offer),
        (status = 409, description = "Not pending (accepted, declined or expired)", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn accept(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<OfferId>,
    Json(how): Json<AcceptOffer>,
) -> ApiResult<Json<Offer>> {
    let now = s.now();
    let purchase_id: PurchaseId = s.new_id();
    let state = s.clone();
    let (offer, intent) = s
        .store
        .write(move |c| {
            let mut l = load(c, &state.keys, &id)?;
            must_be_pending(&l, now)?;
            let fields = PurchaseFields {
                vendor_id: l
                    .row
                    .vendor_id
                    .parse()
                    .map_err(|_| ApiError::Internal("bad vendor id".into()))?,
                item: l.intent.fields.title.clone(),
                amount: l.record.fields.price.clone(),
                currency: l.record.fields.price_currency.clone(),
                date: Some(how.date.unwrap_or_else(|| now.date_naive())),
                warranty_until: None,
                receipt: Line::try_from(format!("offer {}", l.row.id)).ok(),
            };
            records::insert(
                c,
                &Row {
                    id: purchase_id.to_string(),
                    vendor_id: Some(l.row.vendor_id.clone()),
                    created_at: now,
                    updated_at: now,
                    sealed: state.keys.seal().seal(purchase_id.as_str(), &fields),
                },
            )?;
            l.record.purchase_id = Some(purchase_id);
            let sealed = state.keys.seal().seal(&l.row.id, &l.record);
            rows::update_offer(c, &l.row.id, StoredOfferState::Accepted, now, &sealed)?;
            l.row.state = StoredOfferState::Accepted;
            l.row.updated_at = now;
            let vendor_id: carnet_schemas::VendorId = l
                .row
                .vendor_id
                .parse()
                .map_err(|_| ApiError::Internal("bad vendor id".into()))?;
            let offer_id: OfferId = l
                .row
                .id
                .parse()
                .map_err(|_| ApiError::Internal("bad offer id".into()))?;
            webhooks::offer_event(
                c,
                &state,
                &webhooks::OfferAnswer {
                    accepted: true,
                    vendor: &vendor_id,
                    offer: &offer_id,
                    intent: &l.intent.id,
                    reason: None,
                },
                now,
            )?;
            if !how.keep_open {
                rows::set_intent_state(c, l.intent.id.as_str(), StoredIntentState::Fulfilled, now)?;
                l.intent.row.state = StoredIntentState::Fulfilled;
                webhooks::intent_event(
                    c,
                    &state,
                    webhooks::IntentEvent::Fulfilled,
                    &l.intent.id,
                    &l.intent.fields,
                    now,
                    now,
                )?;
            }
            let intent = (
                l.intent.id.clone(),
                l.intent.row.state,
                l.intent.fields.clone(),
            );
            Ok::<_, ApiError>((to_wire(l, now)?, intent))
        })
        .await?;
    let (intent_id, intent_state, fields) = intent;
    s.intents.set(&intent_id, intent_state, &fields, now);
    s.webhook_wake.notify_one();
    Ok(Json(offer))
}

/// Decline an offer, optionally saying why.
#[utoipa::path(post, path = "/v1/offers/{id}/decline", tag = "intents", request_body = DeclineOffer,
    params(("id" = OfferId, Path, description = "Offer id")),
    security(("owner" = [])),
    responses((status = 200, description = "Declined", body = Offer)))]
pub async fn decline(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<OfferId>,
    Json(why): Json<DeclineOffer>,
) -> ApiResult<Json<Offer>> {
    let now = s.now();
    let state = s.clone();
    let offer = s
        .store
        .write(move |c| {
            let mut l = load(c, &state.keys, &id)?;
            must_be_pending(&l, now)?;
            let (vendor_id, offer_id) = (
                l.row.vendor_id.parse::<carnet_schemas::VendorId>(),
                l.row.id.parse::<OfferId>(),
            );
            if let (Ok(vendor), Ok(offer)) = (&vendor_id, &offer_id) {
                webhooks::offer_event(
                    c,
                    &state,
                    &webhooks::OfferAnswer {
                        accepted: false,
                        vendor,
                        offer,
                        intent: &l.intent.id,
                        reason: why.reason.as_ref().map(|r| r.as_str()),
                    },
                    now,
                )?;
            }
            l.record.decline_reason = why.reason;
            let sealed = state.keys.seal().seal(&l.row.id, &l.record);
            rows::update_offer(c, &l.row.id, StoredOfferState::Declined, now, &sealed)?;
            l.row.state = StoredOfferState::Declined;
            l.row.updated_at = now;
            to_wire(l, now)
        })
        .await?;
    s.webhook_wake.notify_one();
    Ok(Json(offer))
}
