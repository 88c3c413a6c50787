//! Offers over HTTP: the owner's `/v1/offers` (the rules are `carnet_core::intents::offers`).

use axum::extract::State;
use carnet_core::intents::offers;
use carnet_schemas::{AcceptOffer, DeclineOffer, Offer, OfferId, OfferQuery};

use crate::error::ApiResult;
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;

/// Offers, newest first, all or one intent's.
#[utoipa::path(get, path = "/v1/offers", tag = "intents", params(OfferQuery),
    security(("owner" = [])),
    responses((status = 200, description = "Offers", body = Vec<Offer>)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<OfferQuery>,
) -> ApiResult<Json<Vec<Offer>>> {
    let offers = s
        .blocking(move |s| Ok(offers::list(s, q.intent.as_ref())?))
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
    Ok(Json(offers::show(&s, &id)?))
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
    Ok(Json(offers::accept(&s, &id, how).await?))
}

/// Decline an offer, optionally saying why.
#[utoipa::path(post, path = "/v1/offers/{id}/decline", tag = "intents", request_body = DeclineOffer,
    params(("id" = OfferId, Path, description = "Offer id")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "Declined", body = Offer),
        (status = 409, description = "Not pending (accepted, declined or expired)", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn decline(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<OfferId>,
    Json(why): Json<DeclineOffer>,
) -> ApiResult<Json<Offer>> {
    Ok(Json(offers::decline(&s, &id, why).await?))
}
