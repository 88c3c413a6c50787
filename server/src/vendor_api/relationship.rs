//! `GET /v1/vendor/relationship`: the loyalty facts of this vendor's own relationship, as the
//! vendor may see them: counts, dates and sums of its purchases and incidents; interactions
//! (count, average sentiment, last contact) only from those shared with it; never the owner's
//! satisfaction ratings (`average_satisfaction` is always null).

use axum::extract::State;
use carnet_schemas::{Scope, VendorRelationship};

use super::Vendor;
use crate::error::ApiResult;
use crate::extract::Json;
use crate::owner_api::loyalty;
use crate::state::AppState;
use carnet_core::access::pseudonym::customer_ref;

/// This vendor's relationship with the consumer.
#[utoipa::path(get, path = "/v1/vendor/relationship", tag = "vendor",
    security(("vendor" = ["relationship:read"])),
    responses((status = 200, description = "Loyalty facts of this relationship", body = VendorRelationship)))]
pub async fn relationship(
    v: Vendor,
    State(s): State<AppState>,
) -> ApiResult<Json<VendorRelationship>> {
    v.require(&s, "GET /v1/vendor/relationship", Scope::RelationshipRead)?;
    let vendor = v.0.vendor_id.clone();
    let loyalty = s
        .blocking(move |s| {
            s.store
                .read(|c| loyalty::compute_view(c, &s.keys, &vendor, loyalty::View::Vendor))
        })
        .await?;
    v.log(
        &s,
        "GET /v1/vendor/relationship",
        Some(Scope::RelationshipRead),
        vec![],
        200,
    );
    Ok(Json(VendorRelationship {
        customer_ref: customer_ref(&s.keys, &v.0.vendor_id),
        loyalty,
    }))
}
