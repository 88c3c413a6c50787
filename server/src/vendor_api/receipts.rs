//! `GET /v1/vendor/receipts`: this vendor's consent receipts (any valid token).

use axum::extract::State;
use carnet_core::ledger::receipts;
use carnet_schemas::{Page, Receipt, VendorListQuery};

use super::{Returned, Vendor};
use crate::error::ApiResult;
use crate::extract::{Json, Query};
use crate::paging::{CursorSigner, paginate_signed};
use crate::state::AppState;

/// This vendor's consent receipts, oldest first.
#[utoipa::path(get, path = "/v1/vendor/receipts", tag = "vendor", params(VendorListQuery),
    security(("vendor" = [])),
    responses((status = 200, description = "One page of receipts", body = Page<Receipt>)))]
pub async fn receipts(
    v: Vendor,
    State(s): State<AppState>,
    Query(q): Query<VendorListQuery>,
) -> ApiResult<(Returned, Json<Page<Receipt>>)> {
    let vendor = v.0.vendor_id.clone();
    let since = q.updated_since.map(|t| t.to_utc());
    let items = s
        .blocking(move |s| Ok(receipts::of_vendor(&s.store, &s.keys, &vendor, since)?))
        .await?;
    let signer = CursorSigner::new(&s.keys, v.0.vendor_id.as_str(), "receipts");
    let page = paginate_signed(items, q.limit, q.cursor.as_deref(), &signer)?;
    let ids: Vec<String> = page.items.iter().map(|r| r.id.to_string()).collect();
    Ok((Returned::ids(ids), Json(page)))
}
