//! `GET /v1/vendor/relationship`: the loyalty facts of this vendor's own relationship, as the
//! vendor may see them: counts, dates and sums of its purchases and incidents; interactions
//! (count, average sentiment, last contact) only from those shared with it; never the owner's
//! satisfaction ratings (`average_satisfaction` is always null).

use axum::extract::State;
use carnet_core::ledger::loyalty;
use carnet_schemas::VendorRelationship;

use super::Vendor;
use crate::error::ApiResult;
use crate::extract::Json;
use crate::state::AppState;

/// This vendor's relationship with the consumer.
#[utoipa::path(get, path = "/v1/vendor/relationship", tag = "vendor",
    security(("vendor" = ["relationship:read"])),
    responses((status = 200, description = "Loyalty facts of this relationship", body = VendorRelationship)))]
pub async fn relationship(
    v: Vendor,
    State(s): State<AppState>,
) -> ApiResult<Json<VendorRelationship>> {
    let vendor = v.0.vendor_id.clone();
    let relationship = s
        .blocking(move |s| Ok(loyalty::relationship(&s.store, &s.keys, &vendor)?))
        .await?;
    Ok(Json(relationship))
}
