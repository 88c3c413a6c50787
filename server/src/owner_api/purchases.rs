//! Purchases: what was bought, for how much (exact decimal strings), and until when it is
//! under warranty.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use carnet_schemas::ids::PurchaseKind;
use carnet_schemas::{Page, Purchase, PurchaseFields, PurchaseId, VendorFilter};
use chrono::Datelike;

use super::{Opened, open};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;
use carnet_core::store::records::{self, Row};
use carnet_core::vault::Table;

fn check_dates(f: &PurchaseFields) -> ApiResult<()> {
    if let (Some(w), Some(d)) = (f.warranty_until, f.date)
        && w < d
    {
        return Err(ApiError::invalid(
            "warranty_until",
            format!("the warranty ends ({w}) before the purchase date ({d})"),
        ));
    }
    Ok(())
}

fn to_wire(o: Opened<PurchaseKind, PurchaseFields>) -> Purchase {
    Purchase {
        id: o.id,
        created_at: o.row.created_at,
        updated_at: o.row.updated_at,
        fields: o.fields,
    }
}

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
            let rows = s.store.read(|c| {
                records::list::<PurchaseFields>(c, q.vendor.as_ref().map(|v| v.as_str()))
            })?;
            let mut items = Vec::with_capacity(rows.len());
            for row in rows {
                let o = open::<PurchaseKind, _>(&s.keys, row)?;
                let day = o.fields.date.map_or(0, |d| i64::from(d.num_days_from_ce()));
                let key = (-day, -o.row.created_at.timestamp_millis(), o.id.to_string());
                items.push((key, to_wire(o)));
            }
            crate::paging::paginate(items, q.limit, q.cursor.as_deref())
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
    Json(mut fields): Json<PurchaseFields>,
) -> ApiResult<impl IntoResponse> {
    let id: PurchaseId = s.new_id();
    let now = s.now();
    fields.date.get_or_insert(now.date_naive());
    check_dates(&fields)?;
    let sealed = s.keys.seal().seal(id.as_str(), &fields);
    let (vendor, row_id) = (fields.vendor_id.clone(), id.to_string());
    s.store
        .write(move |c| {
            if !records::exists(c, Table::Vendors, vendor.as_str())? {
                return Err(ApiError::invalid(
                    "vendor_id",
                    format!("there is no vendor {vendor}"),
                ));
            }
            records::insert(
                c,
                &Row {
                    id: row_id,
                    vendor_id: Some(vendor.to_string()),
                    created_at: now,
                    updated_at: now,
                    sealed,
                },
            )?;
            Ok(())
        })
        .await?;
    let location = format!("/v1/purchases/{id}");
    let created = Purchase {
        id,
        created_at: now,
        updated_at: now,
        fields,
    };
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
    let row = s
        .store
        .read(|c| records::get::<PurchaseFields>(c, id.as_str()))?
        .ok_or_else(|| ApiError::not_found("purchase", id.as_str()))?;
    Ok(Json(to_wire(open(&s.keys, row)?)))
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
    Json(mut fields): Json<PurchaseFields>,
) -> ApiResult<Json<Purchase>> {
    let now = s.now();
    let (state, pid) = (s.clone(), id.clone());
    let (created_at, fields) = s
        .store
        .write(move |c| {
            let row = records::get::<PurchaseFields>(c, pid.as_str())?
                .ok_or_else(|| ApiError::not_found("purchase", pid.as_str()))?;
            let old = open::<PurchaseKind, _>(&state.keys, row)?;
            if old.fields.vendor_id != fields.vendor_id {
                return Err(ApiError::invalid(
                    "vendor_id",
                    "a purchase stays with its vendor; record a new one instead",
                ));
            }
            fields.date = fields.date.or(old.fields.date);
            check_dates(&fields)?;
            let sealed = state.keys.seal().seal(pid.as_str(), &fields);
            records::update(c, pid.as_str(), now, &sealed)?;
            Ok((old.row.created_at, fields))
        })
        .await?;
    Ok(Json(Purchase {
        id,
        created_at,
        updated_at: now,
        fields,
    }))
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
    super::delete(&s, Table::Purchases, id).await
}
