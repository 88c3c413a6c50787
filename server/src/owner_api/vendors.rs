//! Vendors: who the owner deals with. Names are unique (exact match), so the CLI can take a
//! name wherever it takes an id.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use carnet_schemas::ids::VendorKind;
use carnet_schemas::{
    Line, Page, PageQuery, Problem, Vendor, VendorDetail, VendorFields, VendorId,
};
use rusqlite::Connection;

use super::{Opened, loyalty, open};
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;
use carnet_core::store::records::{self, Row};
use carnet_core::vault::{Keys, Table};

pub(crate) fn all(
    conn: &Connection,
    keys: &Keys,
) -> ApiResult<Vec<Opened<VendorKind, VendorFields>>> {
    records::list::<VendorFields>(conn, None)?
        .into_iter()
        .map(|r| open(keys, r).map_err(ApiError::from))
        .collect()
}

pub(crate) fn get(
    conn: &Connection,
    keys: &Keys,
    id: &VendorId,
) -> ApiResult<Opened<VendorKind, VendorFields>> {
    let row = records::get::<VendorFields>(conn, id.as_str())?
        .ok_or_else(|| ApiError::not_found("vendor", id.as_str()))?;
    Ok(open(keys, row)?)
}

fn to_wire(o: Opened<VendorKind, VendorFields>) -> Vendor {
    Vendor {
        id: o.id,
        created_at: o.row.created_at,
        updated_at: o.row.updated_at,
        fields: o.fields,
    }
}

fn ensure_unique_name(
    conn: &Connection,
    keys: &Keys,
    name: &Line,
    except: Option<&VendorId>,
) -> ApiResult<()> {
    let clash = all(conn, keys)?
        .into_iter()
        .find(|v| v.fields.name == *name && Some(&v.id) != except);
    match clash {
        Some(v) => Err(ApiError::conflict(
            format!(
                "a vendor named {:?} already exists ({})",
                name.as_str(),
                v.id
            ),
            "vendor names are unique: choose another name, or edit the existing vendor",
        )),
        None => Ok(()),
    }
}

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
            let items = s
                .store
                .read(|c| all(c, &s.keys))?
                .into_iter()
                .map(|v| {
                    (
                        (v.fields.name.as_str().to_lowercase(), v.id.to_string()),
                        to_wire(v),
                    )
                })
                .collect();
            crate::paging::paginate(items, q.limit, q.cursor.as_deref())
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
    let id: VendorId = s.new_id();
    let now = s.now();
    let sealed = s.keys.seal().seal(id.as_str(), &fields);
    let (keys, name, row_id) = (s.keys.clone(), fields.name.clone(), id.to_string());
    s.store
        .write(move |c| {
            ensure_unique_name(c, &keys, &name, None)?;
            records::insert(
                c,
                &Row {
                    id: row_id,
                    vendor_id: None,
                    created_at: now,
                    updated_at: now,
                    sealed,
                },
            )?;
            Ok::<_, ApiError>(())
        })
        .await?;
    let location = format!("/v1/vendors/{id}");
    let vendor = Vendor {
        id,
        created_at: now,
        updated_at: now,
        fields,
    };
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(vendor),
    ))
}

/// A vendor and the loyalty facts derived from the ledger.
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
        .blocking(move |s| {
            s.store.read(|c| {
                let vendor = to_wire(get(c, &s.keys, &id)?);
                let loyalty = loyalty::compute(c, &s.keys, &id)?;
                Ok(VendorDetail { vendor, loyalty })
            })
        })
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
    let now = s.now();
    let sealed = s.keys.seal().seal(id.as_str(), &fields);
    let (keys, name, vid) = (s.keys.clone(), fields.name.clone(), id.clone());
    let created_at = s
        .store
        .write(move |c| {
            let existing = records::get::<VendorFields>(c, vid.as_str())?
                .ok_or_else(|| ApiError::not_found("vendor", vid.as_str()))?;
            ensure_unique_name(c, &keys, &name, Some(&vid))?;
            records::update(c, vid.as_str(), now, &sealed)?;
            Ok::<_, ApiError>(existing.created_at)
        })
        .await?;
    Ok(Json(Vendor {
        id,
        created_at,
        updated_at: now,
        fields,
    }))
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
    let status = super::delete(&s, Table::Vendors, id.clone()).await?;
    // The database dropped its client, grants and tokens with it; so does the in-memory view.
    s.access.remove_vendor(&id);
    Ok(status)
}
