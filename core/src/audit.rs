//! The access log and the row MACs as the owner checks them: one page of entries (newest
//! first, everything made so far included), the chain's verification, and every row whose MAC
//! fails. Never fails a listing for an entry altered behind carnetd's back: it is left out and
//! logged, and `verify` judges the log.

use std::collections::BTreeMap;

use carnet_schemas::{
    AccessEntry, AccessQuery, AuditVerification, DEFAULT_PAGE, MAX_PAGE, Page, RowVerification,
    TamperedRow, VendorId,
};
use chrono::{DateTime, NaiveDate, Utc};

use crate::access::log::AccessRecord;
use crate::context::Core;
use crate::crypto::RowMac;
use crate::store::StoreError;
use crate::store::access_reads as reads;

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("limit {0} is out of range")]
    Limit(u32),
    /// A cursor this server did not issue for this listing.
    #[error("the cursor is not one this server issued for this listing")]
    Cursor,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One page of access-log entries, newest first.
pub async fn entries(core: &Core, q: AccessQuery) -> Result<Page<AccessEntry>, AuditError> {
    let limit = q.limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(AuditError::Limit(limit));
    }
    let before = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(c.parse::<i64>().map_err(|_| AuditError::Cursor)?),
    };
    // Entries still buffered are appended first: the owner sees every access made so far.
    core.access_log
        .flush(&core.store, &core.keys, core.now())
        .await?;
    core.blocking(move |s| {
            let rows = s.store.read(|c| {
                reads::access_entries::<AccessRecord>(
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
                let read = crate::access::record::open(&s.keys, &row.id, &row.sealed)
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
                    repeats: r.repeats,
                });
            }
            Ok(Page { items, next_cursor })
        })
        .await
}

/// How many access-log entries of `vendor` each day (UTC) from `since` on, days without
/// any left out: from the entries' times, none opened (an entry that stands for repeated
/// reads counts once).
pub async fn per_day(
    core: &Core,
    vendor: &VendorId,
    since: DateTime<Utc>,
) -> Result<BTreeMap<NaiveDate, u64>, AuditError> {
    core.access_log
        .flush(&core.store, &core.keys, core.now())
        .await?;
    let vendor = vendor.to_string();
    core.blocking(move |s| {
        let times = s.store.read(|c| reads::access_times(c, &vendor, since))?;
        let mut days = BTreeMap::new();
        for t in times {
            *days.entry(t.date_naive()).or_insert(0) += 1;
        }
        Ok(days)
    })
    .await
}

/// How long `verify` waits for a running check when asked to.
pub const VERIFY_WAIT: std::time::Duration = std::time::Duration::from_secs(20);

/// Whether the access log is whole and unaltered (its HMAC chain, checkpoint and sealed head),
/// as the last full check found it; with `wait`, once the running check ends (or `VERIFY_WAIT`
/// passes).
pub async fn verify(core: &Core, wait: bool) -> AuditVerification {
    if wait {
        core.log_check.wait(VERIFY_WAIT).await
    } else {
        core.log_check.current()
    }
}

/// Asks for a fresh full check, covering every access made so far (the buffer is appended
/// first); answers at once, `in_progress`.
pub async fn request_verification(core: &Core) -> Result<AuditVerification, StoreError> {
    core.access_log
        .flush(&core.store, &core.keys, core.now())
        .await?;
    core.verify_access_log_later();
    Ok(core.log_check.current())
}

/// Every row whose clear columns decide access, checked against its MAC.
pub async fn integrity(core: &Core) -> Result<RowVerification, StoreError> {
    let checked = core
        .blocking(|s| {
            let key = RowMac::new(&s.keys);
            s.store.read(|c| crate::store::integrity::check(c, &key))
        })
        .await?;
    Ok(RowVerification {
        ok: checked.tampered.is_empty(),
        rows: checked.rows,
        tampered: checked
            .tampered
            .into_iter()
            .map(|t| TamperedRow {
                table: t.table.to_owned(),
                id: t.id,
            })
            .collect(),
    })
}
