//! `GET /v1/vendor/promises`: this vendor's promise record with the consumer (`promises:read`):
//! how many of its promises were kept, broken, are open or late, and its median delay in days.
//! Counts and days only: never what was promised, by whom, nor the owner's notes.

use axum::extract::State;
use carnet_core::ledger::promises;
use carnet_schemas::VendorPromises;

use super::Vendor;
use crate::error::ApiResult;
use crate::extract::Json;
use crate::state::AppState;

/// This vendor's promise record.
#[utoipa::path(get, path = "/v1/vendor/promises", tag = "vendor",
    security(("vendor" = ["promises:read"])),
    responses((status = 200, description = "This vendor's promise record", body = VendorPromises)))]
pub async fn promises(v: Vendor, State(s): State<AppState>) -> ApiResult<Json<VendorPromises>> {
    let vendor = v.0.vendor_id.clone();
    let record = s
        .blocking(move |s| Ok(promises::for_vendor(&s.store, &s.keys, &vendor, s.now())?))
        .await?;
    Ok(Json(record))
}
