//! Grants over HTTP: the owner's `/v1/grants` (the rules are `carnet_core::grants`).

use axum::extract::State;
use axum::http::StatusCode;
use carnet_core::grants;
use carnet_schemas::{Grant, GrantId, GrantWidening, NewGrant, VendorOnly};

use crate::error::ApiResult;
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;

/// Grant a vendor access (replacing its live grant, if any) and sign a consent receipt.
#[utoipa::path(post, path = "/v1/grants", tag = "grants", request_body = NewGrant,
    security(("owner" = [])),
    responses((status = 201, description = "Granted", body = Grant)))]
pub async fn create(
    _: Owner,
    State(s): State<AppState>,
    Json(new): Json<NewGrant>,
) -> ApiResult<(StatusCode, Json<Grant>)> {
    let grant = grants::give(&s, new, "owner-cli").await?;
    Ok((StatusCode::CREATED, Json(grant)))
}

/// Grants, newest first (live, expired and revoked).
#[utoipa::path(get, path = "/v1/grants", tag = "grants", params(VendorOnly),
    security(("owner" = [])),
    responses((status = 200, description = "Grants", body = Vec<Grant>)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<VendorOnly>,
) -> ApiResult<Json<Vec<Grant>>> {
    let grants = grants::list(&s, q.vendor.as_ref())?;
    Ok(Json(grants))
}

/// One grant.
#[utoipa::path(get, path = "/v1/grants/{id}", tag = "grants",
    params(("id" = GrantId, Path, description = "Grant id")),
    security(("owner" = [])),
    responses((status = 200, description = "The grant", body = Grant)))]
pub async fn show(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<GrantId>,
) -> ApiResult<Json<Grant>> {
    Ok(Json(grants::show(&s, &id)?))
}

/// Widen a live grant: add scopes and categories, or end it later (never sooner). The grant
/// keeps its id and its tokens, and gets a new signed consent receipt for what it now allows.
#[utoipa::path(post, path = "/v1/grants/{id}/widen", tag = "grants", request_body = GrantWidening,
    params(("id" = GrantId, Path, description = "Grant id")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "Widened; `receipt_id` names the new receipt", body = Grant),
        (status = 409, description = "The grant is revoked or expired", body = carnet_schemas::Problem, content_type = "application/problem+json"),
        (status = 422, description = "It would shorten the grant, or adds nothing", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn widen(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<GrantId>,
    Json(w): Json<GrantWidening>,
) -> ApiResult<Json<Grant>> {
    Ok(Json(grants::widen(&s, &id, w, "owner-cli").await?))
}

/// Revoke a grant: its tokens stop working before this answer returns.
#[utoipa::path(post, path = "/v1/grants/{id}/revoke", tag = "grants",
    params(("id" = GrantId, Path, description = "Grant id")),
    security(("owner" = [])),
    responses((status = 200, description = "Revoked (or already ended)", body = Grant)))]
pub async fn revoke(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<GrantId>,
) -> ApiResult<Json<Grant>> {
    Ok(Json(grants::revoke(&s, &id).await?))
}
