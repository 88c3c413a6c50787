//! The access log and row integrity over HTTP, as the owner reads them (the rules are
//! `carnet_core::audit`).

use axum::extract::State;
use carnet_core::audit;
use carnet_schemas::{AccessEntry, AccessQuery, Page};

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

/// Check that the access log is whole and unaltered (its HMAC chain and sealed head).
#[utoipa::path(get, path = "/v1/access-log/verify", tag = "grants",
    security(("owner" = [])),
    responses((status = 200, description = "`ok`, or the first entry that does not check out", body = carnet_schemas::AuditVerification)))]
pub async fn verify(
    _: Owner,
    State(s): State<AppState>,
) -> ApiResult<Json<carnet_schemas::AuditVerification>> {
    Ok(Json(audit::verify(&s).await?))
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
