//! Consent receipts over HTTP, as the owner sees them (every vendor's): `/v1/receipts`.

use axum::extract::State;
use carnet_core::ledger::receipts;
use carnet_schemas::{Receipt, VendorOnly};

use crate::error::ApiResult;
use crate::extract::{Json, Owner, Query};
use crate::state::AppState;

/// Consent receipts, newest first.
#[utoipa::path(get, path = "/v1/receipts", tag = "grants", params(VendorOnly),
    security(("owner" = [])),
    responses((status = 200, description = "Receipts", body = Vec<Receipt>)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<VendorOnly>,
) -> ApiResult<Json<Vec<Receipt>>> {
    let list = s
        .blocking(move |s| Ok(receipts::list(&s.store, &s.keys, q.vendor.as_ref())?))
        .await?;
    Ok(Json(list))
}
