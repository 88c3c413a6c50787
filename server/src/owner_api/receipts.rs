//! Consent receipts, as the owner sees them (every vendor's).

use axum::extract::State;
use carnet_schemas::{Receipt, VendorId, VendorOnly};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner, Query};
use crate::state::AppState;
use carnet_core::access::{ReceiptRecord, receipts};
use carnet_core::store::access as rows;

/// Receipts, newest first, all or one vendor's (shared with the vendor API).
pub(crate) fn receipts_of(s: &AppState, vendor: Option<&VendorId>) -> ApiResult<Vec<Receipt>> {
    let rows = s
        .store
        .read(|c| rows::receipts::<ReceiptRecord>(c, vendor.map(|v| v.as_str())))?;
    rows.into_iter()
        .map(|row| {
            let record: ReceiptRecord = s.keys.seal().open(&row.id, &row.sealed)?;
            let bad = || ApiError::Internal(format!("receipt {} does not parse", row.id));
            Ok(Receipt {
                id: row.id.parse().map_err(|_| bad())?,
                vendor_id: row.vendor_id.parse().map_err(|_| bad())?,
                grant_id: row.grant_id.parse().map_err(|_| bad())?,
                created_at: row.created_at,
                receipt: receipts::payload(&record.jws).ok_or_else(bad)?,
                jws: record.jws,
            })
        })
        .collect()
}

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
        .blocking(move |s| receipts_of(s, q.vendor.as_ref()))
        .await?;
    Ok(Json(list))
}
