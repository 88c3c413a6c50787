//! The access log and row integrity over HTTP, as the owner reads them (the rules are
//! `carnet_core::audit`).

use axum::extract::State;
use axum::http::StatusCode;
use carnet_core::audit;
use carnet_schemas::{AccessEntry, AccessQuery, Page, VerifyQuery};

use crate::error::ApiResult;
use crate::extract::{Json, Owner, Query};
use crate::state::AppState;

/// Access-log entries, newest first.
#[utoipa::path(get, path = "/v1/access-log", tag = "grants", params(AccessQuery),
    security(("owner" = [])),
    responses((status = 200, description = "One page of entries, newest first", body = Page<AccessEntry>)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<AccessQuery>,
) -> ApiResult<Json<Page<AccessEntry>>> {
    Ok(Json(audit::entries(&s, q).await?))
}

/// Whether the access log is whole and unaltered (its HMAC chain, pruning checkpoint and sealed
/// head), as the last full check found it. carnetd checks the log in the background after it
/// starts and when asked (`POST`); `in_progress` says a check runs, `wait=true` answers once it
/// ends (or after 20 s).
#[utoipa::path(get, path = "/v1/access-log/verify", tag = "grants", params(VerifyQuery),
    security(("owner" = [])),
    responses((status = 200, description = "The last check's result: `ok`, or the first entry that does not check out", body = carnet_schemas::AuditVerification)))]
pub async fn verify(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<VerifyQuery>,
) -> Json<carnet_schemas::AuditVerification> {
    Json(audit::verify(&s, q.wait.unwrap_or(false)).await)
}

/// Ask for a fresh full check of the access log, covering every access made so far; it runs
/// in the background (`GET /v1/access-log/verify` shows `in_progress` until it ends).
#[utoipa::path(post, path = "/v1/access-log/verify", tag = "grants",
    security(("owner" = [])),
    responses((status = 202, description = "The check runs; the body is the last result, `in_progress`", body = carnet_schemas::AuditVerification)))]
pub async fn request_verification(
    _: Owner,
    State(s): State<AppState>,
) -> ApiResult<(StatusCode, Json<carnet_schemas::AuditVerification>)> {
    Ok((
        StatusCode::ACCEPTED,
        Json(audit::request_verification(&s).await?),
    ))
}

/// Check every row whose clear columns decide access against its MAC (made with the vault key):
/// a row changed behind carnetd's back is refused wherever it would be used, and listed here.
#[utoipa::path(get, path = "/v1/integrity", tag = "grants",
    security(("owner" = [])),
    responses((status = 200, description = "`ok`, or every row whose MAC fails", body = carnet_schemas::RowVerification)))]
pub async fn integrity(
    _: Owner,
    State(s): State<AppState>,
) -> ApiResult<Json<carnet_schemas::RowVerification>> {
    Ok(Json(audit::integrity(&s).await?))
}
