//! The access log, as the owner reads it: who pulled what, when, under which grant.

use axum::extract::State;
use carnet_schemas::{AccessEntry, AccessQuery, DEFAULT_PAGE, MAX_PAGE, Page};

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner, Query};
use crate::state::AppState;
use carnet_core::access::log::AccessRecord;
use carnet_core::store::access as rows;

/// Access-log entries, newest first.
#[utoipa::path(get, path = "/v1/access-log", tag = "grants", params(AccessQuery),
    security(("owner" = [])),
    responses((status = 200, description = "One page of entries, newest first", body = Page<AccessEntry>)))]
pub async fn list(
    _: Owner,
    State(s): State<AppState>,
    Query(q): Query<AccessQuery>,
) -> ApiResult<Json<Page<AccessEntry>>> {
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::bad_request(
            format!("limit {limit} is out of range"),
            format!("use a limit from 1 to {MAX_PAGE}"),
        ));
    }
    let before = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| {
            ApiError::bad_request(
                "the cursor is not one this server issued for this listing",
                "pass `next_cursor` from the previous page unchanged",
            )
        })?),
    };
    // Entries still buffered are appended first: the owner sees every access made so far.
    s.access_log.flush(&s.store, &s.keys).await?;
    let page = s
        .blocking(move |s| {
            let rows = s.store.read(|c| {
                rows::access_entries::<AccessRecord>(
                    c,
                    q.vendor.as_ref().map(|v| v.as_str()),
                    q.since.map(|t| t.to_utc()),
                    before,
                    limit + 1,
                )
            })?;
            let more = rows.len() > limit as usize;
            let rows: Vec<_> = rows.into_iter().take(limit as usize).collect();
            let next_cursor = more
                .then(|| rows.last().map(|r| r.seq.to_string()))
                .flatten();
            let mut items = Vec::with_capacity(rows.len());
            for row in rows {
                // An entry altered behind the server's back may no longer read: it is left out
                // (and logged) rather than failing the listing; `verify` judges the log.
                let read = s
                    .keys
                    .seal()
                    .open::<AccessRecord>(&row.id, &row.sealed)
                    .ok()
                    .zip(row.vendor_id.parse().ok())
                    .zip(row.client_id.parse().ok());
                let Some(((r, vendor_id), client_id)) = read else {
                    tracing::error!(
                        entry = row.seq,
                        "an access-log entry does not read: it was altered; `carnet audit verify` checks the log"
                    );
                    continue;
                };
                items.push(AccessEntry {
                    seq: row.seq,
                    at: row.at,
                    vendor_id,
                    client_id,
                    grant_id: r.grant_id,
                    endpoint: r.endpoint,
                    scope: r.scope,
                    ids: r.ids,
                    status: r.status,
                    withheld: r.withheld,
                });
            }
            Ok(Page { items, next_cursor })
        })
        .await?;
    Ok(Json(page))
}

/// Check that the access log is whole and unaltered (its HMAC chain and sealed head).
#[utoipa::path(get, path = "/v1/access-log/verify", tag = "grants",
    security(("owner" = [])),
    responses((status = 200, description = "`ok`, or the first entry that does not check out", body = carnet_schemas::AuditVerification)))]
pub async fn verify(
    _: Owner,
    State(s): State<AppState>,
) -> ApiResult<Json<carnet_schemas::AuditVerification>> {
    s.access_log.flush(&s.store, &s.keys).await?;
    let result = s
        .blocking(|s| {
            s.store
                .read(|c| carnet_core::access::chain::verify(c, &s.keys))
                .map_err(ApiError::from)
        })
        .await?;
    Ok(Json(result))
}

/// Check every row whose clear columns decide access against its MAC (made with the vault key):
/// a row changed behind carnetd's back is refused wherever it would be used, and listed here.
#[utoipa::path(get, path = "/v1/integrity", tag = "grants",
    security(("owner" = [])),
    responses((status = 200, description = "`ok`, or every row whose MAC fails", body = carnet_schemas::RowVerification)))]
pub async fn integrity(
    _: Owner,
    State(s): State<AppState>,
) -> ApiResult<Json<carnet_schemas::RowVerification>> {
    let checked = s
        .blocking(|s| {
            let key = carnet_core::vault::RowMac::new(&s.keys);
            s.store
                .read(|c| carnet_core::store::integrity::check(c, &key))
                .map_err(ApiError::from)
        })
        .await?;
    Ok(Json(carnet_schemas::RowVerification {
        ok: checked.tampered.is_empty(),
        rows: checked.rows,
        tampered: checked
            .tampered
            .into_iter()
            .map(|t| carnet_schemas::TamperedRow {
                table: t.table.to_owned(),
                id: t.id,
            })
            .collect(),
    }))
}
