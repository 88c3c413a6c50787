//! Grants: the owner lets a vendor do named things (scopes) in named categories for a limited
//! time. A vendor has at most one live grant: a new one replaces it. Every grant comes with a
//! signed consent receipt; revoking a grant stops its tokens before the answer returns.

use axum::extract::State;
use axum::http::StatusCode;
use carnet_schemas::{
    DEFAULT_GRANT_DAYS, Grant, GrantFields, GrantId, GrantState, MAX_GRANT_DAYS, NewGrant,
    ReceiptId, VendorFields, VendorId, VendorOnly,
};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::open;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner, Path, Query};
use crate::state::AppState;
use carnet_core::access::pseudonym::customer_ref;
use carnet_core::access::receipts::{self, ReceiptInput};
use carnet_core::access::{ReceiptRecord, grant_entry};
use carnet_core::store::access::{self as rows, GrantRow, ReceiptRow};
use carnet_core::store::records;

fn state_of(row: &GrantRow<GrantFields>, now: DateTime<Utc>) -> GrantState {
    if row.revoked_at.is_some() {
        GrantState::Revoked
    } else if now >= row.expires_at {
        GrantState::Expired
    } else {
        GrantState::Live
    }
}

fn to_wire(s: &AppState, row: GrantRow<GrantFields>, now: DateTime<Utc>) -> ApiResult<Grant> {
    let fields: GrantFields = s.keys.seal().open(&row.id, &row.sealed)?;
    let id = row
        .id
        .parse()
        .map_err(|_| ApiError::Internal("bad grant id".into()))?;
    Ok(Grant {
        id,
        state: state_of(&row, now),
        created_at: row.created_at,
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        fields,
    })
}

fn check(g: &NewGrant) -> ApiResult<u32> {
    if g.scopes.is_empty() {
        return Err(ApiError::invalid("scopes", "name at least one scope"));
    }
    match (g.categories.is_empty(), g.all_categories) {
        (true, false) => {
            return Err(ApiError::invalid(
                "categories",
                "name the categories the vendor may see, or set all_categories",
            ));
        }
        (false, true) => {
            return Err(ApiError::invalid(
                "all_categories",
                "give categories or all_categories, not both",
            ));
        }
        _ => {}
    }
    let days = g.days.unwrap_or(DEFAULT_GRANT_DAYS);
    if !(1..=MAX_GRANT_DAYS).contains(&days) {
        return Err(ApiError::invalid(
            "days",
            format!("a grant lasts 1 to {MAX_GRANT_DAYS} days, not {days}"),
        ));
    }
    Ok(days)
}

/// Live grants of a vendor, to be replaced by a new one.
fn live_of(conn: &Connection, vendor: &VendorId, now: DateTime<Utc>) -> ApiResult<Vec<String>> {
    Ok(rows::grants::<GrantFields>(conn, Some(vendor.as_str()))?
        .into_iter()
        .filter(|g| state_of(g, now) == GrantState::Live)
        .map(|g| g.id)
        .collect())
}

/// Grant a vendor access (replacing its live grant, if any) and sign a consent receipt.
#[utoipa::path(post, path = "/v1/grants", tag = "grants", request_body = NewGrant,
    security(("owner" = [])),
    responses((status = 201, description = "Granted", body = Grant)))]
pub async fn create(
    _: Owner,
    State(s): State<AppState>,
    Json(new): Json<NewGrant>,
) -> ApiResult<(StatusCode, Json<Grant>)> {
    let grant = give(&s, new, "owner-cli").await?;
    Ok((StatusCode::CREATED, Json(grant)))
}

/// Grants what `new` says (replacing the vendor's live grant) and signs its receipt; shared
/// by the owner API and the consent flow, which say how consent was collected.
pub(crate) async fn give(s: &AppState, new: NewGrant, collection_method: &str) -> ApiResult<Grant> {
    let days = check(&new)?;
    let now = s.now();
    let expires_at = now + chrono::Duration::days(i64::from(days));
    let grant_id: GrantId = s.new_id();
    let receipt_id: ReceiptId = s.new_id();
    let mut scopes = new.scopes.clone();
    scopes.sort();
    scopes.dedup();
    let mut categories = new.categories.clone();
    categories.sort();
    categories.dedup();
    let fields = GrantFields {
        vendor_id: new.vendor_id.clone(),
        scopes,
        categories,
        all_categories: new.all_categories,
        purpose: new.purpose,
        collection_method: collection_method.into(),
        receipt_id: receipt_id.clone(),
    };
    let state = s.clone();
    let (gid, f) = (grant_id.clone(), fields.clone());
    let replaced = s
        .store
        .write(move |c| {
            let vendor =
                records::get::<VendorFields>(c, f.vendor_id.as_str())?.ok_or_else(|| {
                    ApiError::invalid("vendor_id", format!("there is no vendor {}", f.vendor_id))
                })?;
            let vendor = open::<carnet_schemas::ids::VendorKind, _>(&state.keys, vendor)?.fields;
            let replaced = live_of(c, &f.vendor_id, now)?;
            for old in &replaced {
                rows::revoke_grant(c, old, now)?;
                if let Ok(gid) = old.parse() {
                    carnet_core::webhooks::grant_revoked(c, &state, &f.vendor_id, &gid, now)?;
                }
            }
            let receipt = receipts::build(ReceiptInput {
                grant_id: &gid,
                grant: &f,
                vendor: &vendor,
                customer_ref: customer_ref(&state.keys, &f.vendor_id),
                jurisdiction: &state.settings.jurisdiction,
                created_at: now,
                expires_at,
            });
            let jws = receipts::sign(&state.keys, &f.vendor_id, &receipt);
            rows::insert_receipt(
                c,
                &ReceiptRow {
                    id: f.receipt_id.to_string(),
                    vendor_id: f.vendor_id.to_string(),
                    grant_id: gid.to_string(),
                    created_at: now,
                    sealed: state
                        .keys
                        .seal()
                        .seal(f.receipt_id.as_str(), &ReceiptRecord { jws }),
                },
            )?;
            crate::oauth::publish_keys(c, &state.keys)?;
            rows::insert_grant(
                c,
                &GrantRow {
                    id: gid.to_string(),
                    vendor_id: f.vendor_id.to_string(),
                    created_at: now,
                    expires_at,
                    revoked_at: None,
                    sealed: state.keys.seal().seal(gid.as_str(), &f),
                },
            )?;
            Ok::<_, ApiError>(replaced)
        })
        .await?;
    for old in replaced.iter().filter_map(|id| id.parse().ok()) {
        s.access.revoke_grant(&old);
    }
    s.webhook_wake.notify_one();
    s.access
        .put_grant(grant_id.clone(), grant_entry(&fields, now, expires_at));
    Ok(Grant {
        id: grant_id,
        state: GrantState::Live,
        created_at: now,
        expires_at,
        revoked_at: None,
        fields,
    })
}

/// Grants, newest first (live, expired and revoked).
#[utoipa::path(get, path = "/v1/grants", tag = "grants", params(VendorOnly),
    security(("owner" = [])),
    responses((status = 200, description = "Grants", body = Vec<Grant>)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<VendorOnly>,
) -> ApiResult<Json<Vec<Grant>>> {
    let now = s.now();
    let rows = s
        .store
        .read(|c| rows::grants::<GrantFields>(c, q.vendor.as_ref().map(|v| v.as_str())))?;
    let mut grants = rows
        .into_iter()
        .map(|r| to_wire(&s, r, now))
        .collect::<ApiResult<Vec<_>>>()?;
    grants.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    Ok(Json(grants))
}

/// One grant.
#[utoipa::path(get, path = "/v1/grants/{id}", tag = "grants",
    params(("id" = GrantId, Path, description = "Grant id")),
    security(("owner" = [])),
    responses((status = 200, description = "The grant", body = Grant)))]
pub async fn show(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<GrantId>,
) -> ApiResult<Json<Grant>> {
    let row = s
        .store
        .read(|c| rows::grant::<GrantFields>(c, id.as_str()))?
        .ok_or_else(|| ApiError::not_found("grant", id.as_str()))?;
    Ok(Json(to_wire(&s, row, s.now())?))
}

/// Revoke a grant: its tokens stop working before this answer returns.
#[utoipa::path(post, path = "/v1/grants/{id}/revoke", tag = "grants",
    params(("id" = GrantId, Path, description = "Grant id")),
    security(("owner" = [])),
    responses((status = 200, description = "Revoked (or already ended)", body = Grant)))]
pub async fn revoke(
    _: Owner,
    State(s): State<AppState>,
    Path(id): Path<GrantId>,
) -> ApiResult<Json<Grant>> {
    let now = s.now();
    let gid = id.clone();
    let state = s.clone();
    let row = s
        .store
        .write(move |c| {
            let revoked = rows::revoke_grant(c, gid.as_str(), now)?;
            let row = rows::grant::<GrantFields>(c, gid.as_str())?
                .ok_or_else(|| ApiError::not_found("grant", gid.as_str()))?;
            if revoked && let Ok(vendor) = row.vendor_id.parse() {
                carnet_core::webhooks::grant_revoked(c, &state, &vendor, &gid, now)?;
            }
            Ok::<_, ApiError>(row)
        })
        .await?;
    s.access.revoke_grant(&id);
    s.webhook_wake.notify_one();
    Ok(Json(to_wire(&s, row, now)?))
}
