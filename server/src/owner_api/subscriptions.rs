//! Subscriptions over HTTP: the owner's `/v1/subscriptions` (the rules are
//! `carnet_core::ledger::subscriptions`). No vendor scope reads them.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use carnet_core::intents::owner;
use carnet_core::ledger::subscriptions;
use carnet_schemas::{
    Intent, NewSubscription, PaymentProjection, PaymentQuery, Subscription, SubscriptionCancel,
    SubscriptionId, SubscriptionList, SubscriptionPatch, SubscriptionQuery,
};

use crate::error::ApiResult;
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;

/// Subscriptions, soonest next payment first.
#[utoipa::path(get, path = "/v1/subscriptions", tag = "subscriptions", params(SubscriptionQuery),
    security(("owner" = [])),
    responses((status = 200, description = "The subscriptions asked for, with their state, next payment, renewal and notice deadline today", body = SubscriptionList)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<SubscriptionQuery>,
) -> ApiResult<Json<SubscriptionList>> {
    let items = s
        .blocking(move |s| Ok(subscriptions::list(&s.store, &s.keys, &q, s.now())?))
        .await?;
    Ok(Json(SubscriptionList { items }))
}

/// Record a subscription or a contract.
#[utoipa::path(post, path = "/v1/subscriptions", tag = "subscriptions", request_body = NewSubscription,
    security(("owner" = [])),
    responses((status = 201, description = "Created", body = Subscription)))]
pub async fn create(
    _: Owner,
    State(s): State<AppState>,
    Json(new): Json<NewSubscription>,
) -> ApiResult<impl IntoResponse> {
    let created = subscriptions::create(&s.store, &s.keys, new, s.now()).await?;
    let location = format!("/v1/subscriptions/{}", created.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
    ))
}

/// The payments of the next 12 months, and their totals per month and for the 12 months, per
/// currency.
#[utoipa::path(get, path = "/v1/subscriptions/payments", tag = "subscriptions", params(PaymentQuery),
    security(("owner" = [])),
    responses((status = 200, description = "The projection", body = PaymentProjection)))]
pub async fn payments(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<PaymentQuery>,
) -> ApiResult<Json<PaymentProjection>> {
    let p = s
        .blocking(move |s| Ok(subscriptions::payments(&s.store, &s.keys, &q, s.now())?))
        .await?;
    Ok(Json(p))
}

/// One subscription.
#[utoipa::path(get, path = "/v1/subscriptions/{id}", tag = "subscriptions",
    params(("id" = SubscriptionId, Path, description = "Subscription id")),
    security(("owner" = [])),
    responses((status = 200, description = "The subscription", body = Subscription)))]
pub async fn show(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<SubscriptionId>,
) -> ApiResult<Json<Subscription>> {
    Ok(Json(subscriptions::show(&s.store, &s.keys, &id, s.now())?))
}

/// Change some fields of a subscription (`null` clears an optional one; the vendor stays).
#[utoipa::path(patch, path = "/v1/subscriptions/{id}", tag = "subscriptions", request_body = SubscriptionPatch,
    params(("id" = SubscriptionId, Path, description = "Subscription id")),
    security(("owner" = [])),
    responses((status = 200, description = "The subscription as changed", body = Subscription)))]
pub async fn edit(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<SubscriptionId>,
    Json(patch): Json<SubscriptionPatch>,
) -> ApiResult<Json<Subscription>> {
    Ok(Json(
        subscriptions::edit(&s.store, &s.keys, &id, patch, s.now()).await?,
    ))
}

/// Delete a subscription.
#[utoipa::path(delete, path = "/v1/subscriptions/{id}", tag = "subscriptions",
    params(("id" = SubscriptionId, Path, description = "Subscription id")),
    security(("owner" = [])),
    responses((status = 204, description = "Deleted")))]
pub async fn remove(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<SubscriptionId>,
) -> ApiResult<StatusCode> {
    subscriptions::delete(&s.store, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Cancel a subscription: no payment after `at` (default today).
#[utoipa::path(post, path = "/v1/subscriptions/{id}/cancel", tag = "subscriptions", request_body = SubscriptionCancel,
    params(("id" = SubscriptionId, Path, description = "Subscription id")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "Cancelled", body = Subscription),
        (status = 409, description = "The subscription is already cancelled", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn cancel(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<SubscriptionId>,
    Json(body): Json<SubscriptionCancel>,
) -> ApiResult<Json<Subscription>> {
    Ok(Json(
        subscriptions::cancel(&s.store, &s.keys, &id, body, s.now()).await?,
    ))
}

/// Draft an intent that asks the market before the subscription renews: in its category, its
/// current price as `max_price`, a window from now to the end of the notice deadline's day
/// (in the owner's time zone). It stays a draft: activating it is the owner's choice (`POST
/// /v1/intents/{id}/activate`).
#[utoipa::path(post, path = "/v1/subscriptions/{id}/shop", tag = "subscriptions",
    params(("id" = SubscriptionId, Path, description = "Subscription id")),
    security(("owner" = [])),
    responses(
        (status = 201, description = "The draft intent", body = Intent),
        (status = 409, description = "The subscription has no category, no notice deadline (no notice days, or cancelled), or its notice deadline has passed", body = carnet_schemas::Problem, content_type = "application/problem+json"),
        (status = 422, description = "The intent would be refused (its window would already be over)", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn shop(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<SubscriptionId>,
) -> ApiResult<impl IntoResponse> {
    let now = s.now();
    let fields = subscriptions::shop(&s.store, &s.keys, &id, now)?;
    let intent: Intent = owner::create(&s, fields).await?;
    let location = format!("/v1/intents/{}", intent.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(intent),
    ))
}
