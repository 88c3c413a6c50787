//! `GET /v1/vendor/interactions`: the exchanges the owner marked as shared with this vendor
//! (the history a new account manager can be handed), oldest change first, for incremental
//! pulls with `updated_since`. What is in a vendor's view is `carnet_core::ledger::shared`.

use axum::extract::State;
use carnet_core::ledger::shared;
use carnet_schemas::{InteractionId, Page, SharedInteraction, VendorListQuery};

use super::{Returned, Vendor};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::paging::{CursorSigner, paginate_signed};
use crate::state::AppState;

/// Interactions shared with this vendor.
#[utoipa::path(get, path = "/v1/vendor/interactions", tag = "vendor", params(VendorListQuery),
    security(("vendor" = ["interactions:read"])),
    responses((status = 200, description = "One page of shared interactions, by last change", body = Page<SharedInteraction>)))]
pub async fn interactions(
    v: Vendor,
    State(s): State<AppState>,
    Query(q): Query<VendorListQuery>,
) -> ApiResult<(Returned, Json<Page<SharedInteraction>>)> {
    let vendor = v.0.vendor_id.clone();
    let page = s
        .blocking(move |s| {
            let since = q.updated_since.map(|t| t.to_utc());
            let items = shared::list(&s.store, &s.keys, &vendor, since)?;
            let signer = CursorSigner::new(&s.keys, vendor.as_str(), "interactions");
            paginate_signed(items, q.limit, q.cursor.as_deref(), &signer)
        })
        .await?;
    let ids: Vec<String> = page.items.iter().map(|i| i.id.to_string()).collect();
    Ok((Returned::ids(ids), Json(page)))
}

/// One shared interaction; 404 for anything outside this vendor's view.
#[utoipa::path(get, path = "/v1/vendor/interactions/{id}", tag = "vendor",
    params(("id" = InteractionId, Path, description = "Interaction id")),
    security(("vendor" = ["interactions:read"])),
    responses((status = 200, description = "The interaction", body = SharedInteraction)))]
pub async fn interaction(
    v: Vendor,
    State(s): State<AppState>,
    Path(id): Path<InteractionId>,
) -> ApiResult<Json<SharedInteraction>> {
    // Not found and not shared look the same: the vendor learns nothing about other records.
    shared::show(&s.store, &s.keys, &v.0.vendor_id, &id)?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("interaction", id.as_str()))
}
