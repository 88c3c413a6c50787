//! Vendors over HTTP: the owner's `/v1/vendors` (the rules, such as unique names, are
//! `carnet_core::ledger::vendors`).

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use carnet_core::ledger::{self, Vendors, index, listing, vendors};
use carnet_schemas::{Page, PageQuery, Problem, Vendor, VendorDetail, VendorFields, VendorId};

use crate::error::ApiResult;
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;

/// List vendors, by name.
#[utoipa::path(get, path = "/v1/vendors", tag = "vendors", params(PageQuery),
    security(("owner" = [])),
    responses((status = 200, description = "One page of vendors", body = Page<Vendor>)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<PageQuery>,
) -> ApiResult<Json<Page<Vendor>>> {
    let page = s
        .blocking(move |s| {
            crate::paging::keyset(
                q.limit,
                q.cursor.as_deref(),
                |(name, id): &(String, String)| Some((name.clone(), index::rid(id)?)),
                |after, limit| {
                    let p = listing::vendor_page(&s.store, &s.keys, &s.index, after, limit)?;
                    Ok((p.items, p.next))
                },
            )
        })
        .await?;
    Ok(Json(page))
}

/// Add a vendor.
#[utoipa::path(post, path = "/v1/vendors", tag = "vendors", request_body = VendorFields,
    security(("owner" = [])),
    responses(
        (status = 201, description = "Created", body = Vendor),
        (status = 409, description = "A vendor with this name exists", body = Problem, content_type = "application/problem+json")))]
pub async fn create(
    _: Owner,
    State(s): State<AppState>,
    Json(fields): Json<VendorFields>,
) -> ApiResult<impl IntoResponse> {
    let vendor = ledger::create::<Vendors>(&s.store, &s.keys, &s.index, fields, s.now()).await?;
    let location = format!("/v1/vendors/{}", vendor.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(vendor),
    ))
}

/// A vendor, the loyalty facts derived from the ledger, and its local scorecard.
#[utoipa::path(get, path = "/v1/vendors/{id}", tag = "vendors",
    params(("id" = VendorId, Path, description = "Vendor id")),
    security(("owner" = [])),
    responses((status = 200, description = "The vendor", body = VendorDetail)))]
pub async fn show(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<VendorId>,
) -> ApiResult<Json<VendorDetail>> {
    let detail = s
        .blocking(move |s| Ok(vendors::detail(&s.store, &s.keys, &s.index, &id, s.now())?))
        .await?;
    Ok(Json(detail))
}

/// Replace what is kept about a vendor.
#[utoipa::path(put, path = "/v1/vendors/{id}", tag = "vendors", request_body = VendorFields,
    params(("id" = VendorId, Path, description = "Vendor id")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "Updated", body = Vendor),
        (status = 409, description = "Another vendor has this name", body = Problem, content_type = "application/problem+json")))]
pub async fn replace(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<VendorId>,
    Json(fields): Json<VendorFields>,
) -> ApiResult<Json<Vendor>> {
    let vendor =
        ledger::replace::<Vendors>(&s.store, &s.keys, &s.index, &id, fields, s.now()).await?;
    Ok(Json(vendor))
}

/// Remove a vendor and its whole ledger (interactions, purchases, incidents), its client,
/// grants and tokens (which stop working at once). Its receipts and access-log entries stay.
#[utoipa::path(delete, path = "/v1/vendors/{id}", tag = "vendors",
    params(("id" = VendorId, Path, description = "Vendor id")),
    security(("owner" = [])),
    responses((status = 204, description = "Removed")))]
pub async fn remove(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<VendorId>,
) -> ApiResult<StatusCode> {
    vendors::delete(&s.store, &s.index, &s.access, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
