//! `GET /v1/vendor/interactions`: the exchanges the owner marked as shared with this vendor
//! (the history a new account manager can be handed), oldest change first, for incremental
//! pulls with `updated_since`.

use axum::extract::State;
use carnet_schemas::ids::InteractionKind;
use carnet_schemas::{
    InteractionFields, InteractionId, Page, Scope, SharedInteraction, VendorId, VendorListQuery,
};

use super::Vendor;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Path, Query};
use crate::owner_api::{Opened, open};
use crate::paging::{CursorSigner, paginate_signed};
use crate::state::AppState;
use carnet_core::access::pseudonym::customer_ref;
use carnet_core::store::records;

/// Interactions shared with this vendor.
#[utoipa::path(get, path = "/v1/vendor/interactions", tag = "vendor", params(VendorListQuery),
    security(("vendor" = ["interactions:read"])),
    responses((status = 200, description = "One page of shared interactions, by last change", body = Page<SharedInteraction>)))]
pub async fn interactions(
    v: Vendor,
    State(s): State<AppState>,
    Query(q): Query<VendorListQuery>,
) -> ApiResult<Json<Page<SharedInteraction>>> {
    v.require(&s, "GET /v1/vendor/interactions", Scope::InteractionsRead)?;
    let vendor = v.0.vendor_id.clone();
    let page = s
        .blocking(move |s| {
            let since = q.updated_since.map(|t| t.to_utc());
            let rows = s
                .store
                .read(|c| records::list_shared::<InteractionFields>(c, vendor.as_str(), since))?;
            let reference = customer_ref(&s.keys, &vendor);
            let mut items = Vec::with_capacity(rows.len());
            for row in rows {
                let o = open::<InteractionKind, _>(&s.keys, row)?;
                let key = (o.row.updated_at.timestamp_millis(), o.id.to_string());
                items.push((key, to_wire(o, reference.clone())));
            }
            let signer = CursorSigner::new(&s.keys, vendor.as_str(), "interactions");
            paginate_signed(items, q.limit, q.cursor.as_deref(), &signer)
        })
        .await?;
    let ids: Vec<String> = page.items.iter().map(|i| i.id.to_string()).collect();
    v.log(
        &s,
        "GET /v1/vendor/interactions",
        Some(Scope::InteractionsRead),
        ids,
        200,
    );
    Ok(Json(page))
}

fn to_wire(
    o: Opened<InteractionKind, InteractionFields>,
    customer_ref: String,
) -> SharedInteraction {
    let f = o.fields;
    SharedInteraction {
        id: o.id,
        customer_ref,
        updated_at: o.row.updated_at,
        at: f.at,
        channel: f.channel,
        summary: f.summary,
        with: f.with,
        expected: f.expected,
        i_said: f.i_said,
        they_said: f.they_said,
        outcome: f.outcome,
        sentiment: f.sentiment,
        next_step: f.next_step,
        next_due: f.next_due,
        next_done: f.next_done,
    }
}

/// Whether an interaction is in `vendor`'s view: its own, and shared.
fn visible(o: &Opened<InteractionKind, InteractionFields>, vendor: &VendorId) -> bool {
    o.fields.vendor_id == *vendor && o.fields.shared
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
    const ENDPOINT: &str = "GET /v1/vendor/interactions/{id}";
    v.require(&s, ENDPOINT, Scope::InteractionsRead)?;
    let row = s
        .store
        .read(|c| records::get::<InteractionFields>(c, id.as_str()))?;
    let found = match row {
        Some(row) => Some(open::<InteractionKind, _>(&s.keys, row)?),
        None => None,
    }
    .filter(|o| visible(o, &v.0.vendor_id));
    // Not found and not shared look the same: the vendor learns nothing about other records.
    let Some(o) = found else {
        v.log(
            &s,
            ENDPOINT,
            Some(Scope::InteractionsRead),
            vec![id.to_string()],
            404,
        );
        return Err(ApiError::not_found("interaction", id.as_str()));
    };
    v.log(
        &s,
        ENDPOINT,
        Some(Scope::InteractionsRead),
        vec![id.to_string()],
        200,
    );
    Ok(Json(to_wire(o, customer_ref(&s.keys, &v.0.vendor_id))))
}
