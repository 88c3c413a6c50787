//! `GET /v1/vendor/profile`: what the owner discloses about themselves.

use axum::extract::State;
use carnet_schemas::{ProfileFields, Scope, VendorProfile};

use super::Vendor;
use crate::error::ApiResult;
use crate::extract::Json;
use crate::owner_api::profile::PROFILE_ID;
use crate::state::AppState;
use carnet_core::access::pseudonym::customer_ref;
use carnet_core::store::records;

/// The owner's disclosed profile.
#[utoipa::path(get, path = "/v1/vendor/profile", tag = "vendor",
    security(("vendor" = ["profile:read"])),
    responses((status = 200, description = "The profile", body = VendorProfile)))]
pub async fn profile(v: Vendor, State(s): State<AppState>) -> ApiResult<Json<VendorProfile>> {
    v.require(&s, "GET /v1/vendor/profile", Scope::ProfileRead)?;
    let fields = match s
        .store
        .read(|c| records::get::<ProfileFields>(c, PROFILE_ID))?
    {
        Some(row) => s.keys.seal().open(&row.id, &row.sealed)?,
        None => ProfileFields::default(),
    };
    v.log(
        &s,
        "GET /v1/vendor/profile",
        Some(Scope::ProfileRead),
        vec![],
        200,
    );
    Ok(Json(VendorProfile {
        customer_ref: customer_ref(&s.keys, &v.0.vendor_id),
        display_name: fields.display_name,
        locale: fields.locale,
        city: fields.city,
        postal_code: fields.postal_code,
    }))
}
