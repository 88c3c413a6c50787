//! Purchases over HTTP: the owner's `/v1/purchases` (the rules are
//! `carnet_core::ledger::purchases`).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use carnet_core::ledger::{self, Paged, Purchases, listing};
use carnet_schemas::{Page, Purchase, PurchaseFields, PurchaseId, VendorFilter};

use crate::error::ApiResult;
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;

/// Purchases, most recent first.
#[utoipa::path(get, path = "/v1/purchases", tag = "purchases", params(VendorFilter),
    security(("owner" = [])),
    responses((status = 200, description = "One page of purchases, most recent first", body = Page<Purchase>)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<VendorFilter>,
) -> ApiResult<Json<Page<Purchase>>> {
    let page = s
        .blocking(move |s| {
            crate::paging::keyset(
                q.limit,
                q.cursor.as_deref(),
                Purchases::index_key,
                |after, limit| {
                    let p = listing::page::<Purchases>(
                        &s.store, &s.keys, &s.index, &q.vendor, after, limit,
                    )?;
                    Ok((p.items, p.next))
                },
            )
        })
        .await?;
    Ok(Json(page))
}

/// Record a purchase.
#[utoipa::path(post, path = "/v1/purchases", tag = "purchases", request_body = PurchaseFields,
    security(("owner" = [])),
    responses((status = 201, description = "Created", body = Purchase)))]
pub async fn create(
    _: Owner,
    State(s): State<AppState>,
    Json(fields): Json<PurchaseFields>,
) -> ApiResult<impl IntoResponse> {
    let created = ledger::create::<Purchases>(&s.store, &s.keys, &s.index, fields, s.now()).await?;
    let location = format!("/v1/purchases/{}", created.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(created),
    ))
}

/// One purchase.
#[utoipa::path(get, path = "/v1/purchases/{id}", tag = "purchases",
    params(("id" = PurchaseId, Path, description = "Purchase id")),
    security(("owner" = [])),
    responses((status = 200, description = "The purchase", body = Purchase)))]
pub async fn show(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<PurchaseId>,
) -> ApiResult<Json<Purchase>> {
    Ok(Json(ledger::show::<Purchases>(&s.store, &s.keys, &id)?))
}

/// Replace a purchase (its vendor cannot change; a missing `date` keeps the old one).
#[utoipa::path(put, path = "/v1/purchases/{id}", tag = "purchases", request_body = PurchaseFields,
    params(("id" = PurchaseId, Path, description = "Purchase id")),
    security(("owner" = [])),
    responses((status = 200, description = "Updated", body = Purchase)))]
pub async fn replace(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<PurchaseId>,
    Json(fields): Json<PurchaseFields>,
) -> ApiResult<Json<Purchase>> {
    let updated =
        ledger::replace::<Purchases>(&s.store, &s.keys, &s.index, &id, fields, s.now()).await?;
    Ok(Json(updated))
}

/// Delete a purchase.
#[utoipa::path(delete, path = "/v1/purchases/{id}", tag = "purchases",
    params(("id" = PurchaseId, Path, description = "Purchase id")),
    security(("owner" = [])),
    responses((status = 204, description = "Deleted")))]
pub async fn remove(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<PurchaseId>,
) -> ApiResult<StatusCode> {
    ledger::delete::<Purchases>(&s.store, &s.index, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
