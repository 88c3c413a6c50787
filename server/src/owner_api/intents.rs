//! Intents over HTTP: the owner's `/v1/intents` (the rules are `carnet_core::intents::owner`).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use carnet_core::intents::owner;
use carnet_schemas::{Intent, IntentFields, IntentId, IntentQuery};

use crate::error::ApiResult;
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;

/// Write an intent (a draft; activate it to publish).
#[utoipa::path(post, path = "/v1/intents", tag = "intents", request_body = IntentFields,
    security(("owner" = [])),
    responses((status = 201, description = "Created, as a draft", body = Intent)))]
pub async fn create(
    _: Owner,
    State(s): State<AppState>,
    Json(fields): Json<IntentFields>,
) -> ApiResult<impl IntoResponse> {
    let intent = owner::create(&s, fields).await?;
    let location = format!("/v1/intents/{}", intent.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(intent),
    ))
}

/// Intents, newest first.
#[utoipa::path(get, path = "/v1/intents", tag = "intents", params(IntentQuery),
    security(("owner" = [])),
    responses((status = 200, description = "Intents", body = Vec<Intent>)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<IntentQuery>,
) -> ApiResult<Json<Vec<Intent>>> {
    let list = s.blocking(move |s| Ok(owner::list(s, q.state)?)).await?;
    Ok(Json(list))
}

/// One intent.
#[utoipa::path(get, path = "/v1/intents/{id}", tag = "intents",
    params(("id" = IntentId, Path, description = "Intent id")),
    security(("owner" = [])),
    responses((status = 200, description = "The intent", body = Intent)))]
pub async fn show(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<IntentId>,
) -> ApiResult<Json<Intent>> {
    Ok(Json(owner::show(&s, &id)?))
}

/// Edit a draft or active intent (vendors see the change at their next pull).
#[utoipa::path(put, path = "/v1/intents/{id}", tag = "intents", request_body = IntentFields,
    params(("id" = IntentId, Path, description = "Intent id")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "Updated", body = Intent),
        (status = 409, description = "Fulfilled, withdrawn or expired intents are final", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn replace(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<IntentId>,
    Json(fields): Json<IntentFields>,
) -> ApiResult<Json<Intent>> {
    Ok(Json(owner::edit(&s, &id, fields).await?))
}

/// Publish a draft: granted vendors see it inside its window.
#[utoipa::path(post, path = "/v1/intents/{id}/activate", tag = "intents",
    params(("id" = IntentId, Path, description = "Intent id")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "Active", body = Intent),
        (status = 409, description = "Only a draft can be activated, inside its window", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn activate(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<IntentId>,
) -> ApiResult<Json<Intent>> {
    Ok(Json(owner::activate(&s, &id).await?))
}

/// Withdraw: no vendor sees it any more.
#[utoipa::path(post, path = "/v1/intents/{id}/withdraw", tag = "intents",
    params(("id" = IntentId, Path, description = "Intent id")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "Withdrawn", body = Intent),
        (status = 409, description = "Only an active intent can be withdrawn (fulfilled, withdrawn and expired are final)", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn withdraw(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<IntentId>,
) -> ApiResult<Json<Intent>> {
    Ok(Json(owner::withdraw(&s, &id).await?))
}

/// Mark it bought: no vendor sees it any more.
#[utoipa::path(post, path = "/v1/intents/{id}/fulfil", tag = "intents",
    params(("id" = IntentId, Path, description = "Intent id")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "Fulfilled", body = Intent),
        (status = 409, description = "Only an active intent can be fulfilled (fulfilled, withdrawn and expired are final)", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn fulfil(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<IntentId>,
) -> ApiResult<Json<Intent>> {
    Ok(Json(owner::fulfil(&s, &id).await?))
}
