//! Promises over HTTP: the owner's `/v1/promises` (the rules are
//! `carnet_core::ledger::promises`).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use carnet_core::ledger::promises::{self, Settle};
use carnet_schemas::{
    NewPromise, Promise, PromiseBroken, PromiseId, PromiseKept, PromiseList, PromiseQuery,
};

use crate::error::ApiResult;
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;

/// Promises, soonest due first.
#[utoipa::path(get, path = "/v1/promises", tag = "promises", params(PromiseQuery),
    security(("owner" = [])),
    responses((status = 200, description = "The promises asked for", body = PromiseList)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<PromiseQuery>,
) -> ApiResult<Json<PromiseList>> {
    let items = s
        .blocking(move |s| Ok(promises::list(&s.store, &s.keys, &s.index, &q, s.now())?))
        .await?;
    Ok(Json(PromiseList { items }))
}

/// Record what a vendor promised.
#[utoipa::path(post, path = "/v1/promises", tag = "promises", request_body = NewPromise,
    security(("owner" = [])),
    responses((status = 201, description = "Created", body = Promise)))]
pub async fn create(
    _: Owner,
    State(s): State<AppState>,
    Json(new): Json<NewPromise>,
) -> ApiResult<impl IntoResponse> {
    let created = promises::create(&s.store, &s.keys, &s.index, new, s.now()).await?;
    let location = format!("/v1/promises/{}", created.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
    ))
}

/// One promise.
#[utoipa::path(get, path = "/v1/promises/{id}", tag = "promises",
    params(("id" = PromiseId, Path, description = "Promise id")),
    security(("owner" = [])),
    responses((status = 200, description = "The promise", body = Promise)))]
pub async fn show(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<PromiseId>,
) -> ApiResult<Json<Promise>> {
    Ok(Json(promises::show(&s.store, &s.keys, &id, s.now())?))
}

/// Delete a promise (it leaves the vendor's promise record).
#[utoipa::path(delete, path = "/v1/promises/{id}", tag = "promises",
    params(("id" = PromiseId, Path, description = "Promise id")),
    security(("owner" = [])),
    responses((status = 204, description = "Deleted")))]
pub async fn remove(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<PromiseId>,
) -> ApiResult<StatusCode> {
    promises::delete(&s.store, &s.index, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Mark an open promise kept (at `at`, or now).
#[utoipa::path(post, path = "/v1/promises/{id}/kept", tag = "promises", request_body = PromiseKept,
    params(("id" = PromiseId, Path, description = "Promise id")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "Kept", body = Promise),
        (status = 409, description = "The promise is already kept or broken", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn kept(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<PromiseId>,
    Json(body): Json<PromiseKept>,
) -> ApiResult<Json<Promise>> {
    let how = Settle::Kept(body);
    Ok(Json(
        promises::settle(&s.store, &s.keys, &s.index, &id, how, s.now()).await?,
    ))
}

/// Mark an open promise broken (now, with an optional note).
#[utoipa::path(post, path = "/v1/promises/{id}/broken", tag = "promises", request_body = PromiseBroken,
    params(("id" = PromiseId, Path, description = "Promise id")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "Broken", body = Promise),
        (status = 409, description = "The promise is already kept or broken", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn broken(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<PromiseId>,
    Json(body): Json<PromiseBroken>,
) -> ApiResult<Json<Promise>> {
    let how = Settle::Broken(body);
    Ok(Json(
        promises::settle(&s.store, &s.keys, &s.index, &id, how, s.now()).await?,
    ))
}
