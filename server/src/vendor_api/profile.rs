//! `GET /v1/vendor/profile`: what the owner discloses about themselves.

use axum::extract::State;
use carnet_core::ledger::profile;
use carnet_schemas::VendorProfile;

use super::Vendor;
use crate::error::ApiResult;
use crate::extract::Json;
use crate::state::AppState;

/// The owner's disclosed profile.
#[utoipa::path(get, path = "/v1/vendor/profile", tag = "vendor",
    security(("vendor" = ["profile:read"])),
    responses((status = 200, description = "The profile", body = VendorProfile)))]
pub async fn profile(v: Vendor, State(s): State<AppState>) -> ApiResult<Json<VendorProfile>> {
    Ok(Json(profile::for_vendor(
        &s.store,
        &s.keys,
        &v.0.vendor_id,
    )?))
}
