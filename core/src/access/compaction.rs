//! Compaction of repeated identical reads. The first read is logged and chained at once, like
//! any access; identical reads after it (same vendor, client, grant, endpoint, scope, ids,
//! status and withheld fields) within `access_log_compact_window` of it are only counted, in a
//! run kept in the sealed head (`chain::Run`), which is saved in the same transaction as each
//! batch of entries. When the window passes (at the next access, the janitor, or an owner's
//! read of the log), the run is closed by one entry that says "the same, N more times, from
//! t1 to t2", chained like any other. So the count is sealed and chained, and a crash loses no
//! more of it than of entries (the last few milliseconds). A read that differs in anything, or
//! comes after the window, starts a new entry.

use carnet_schemas::Repeats;
use chrono::{DateTime, Utc};
use data_encoding::BASE64URL_NOPAD;
use rusqlite::Connection;

use super::chain::{self, Head, Run};
use super::log::{AccessEvent, AccessRecord};
use super::record;
use crate::crypto::Keys;
use crate::store::StoreError;
use crate::store::access::{self as rows, AccessRow};

/// Runs kept open at most; past it the oldest is closed.
pub const MAX_RUNS: usize = 64;

/// What makes reads identical, as a digest; `None` for what is never compacted (anything but
/// a successful or refused read: token issuance, writes).
pub fn key(e: &AccessEvent) -> Option<String> {
    if !e.endpoint.starts_with("GET ") {
        return None;
    }
    let mut d = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [e.vendor_id.as_str(), e.client_id.as_str()] {
        d.update(&(part.len() as u64).to_be_bytes());
        d.update(part.as_bytes());
    }
    d.update(&record::encode(e));
    Some(BASE64URL_NOPAD.encode(d.finish().as_ref()))
}

/// Counts `e` in its open run if it has one (returns `true`: nothing to append).
pub fn count(head: &mut Head, key: &str, at: DateTime<Utc>) -> bool {
    match head.runs.iter_mut().find(|r| r.key == key) {
        Some(run) => {
            run.count += 1;
            run.from.get_or_insert(at);
            run.to = Some(at);
            true
        }
        None => false,
    }
}

/// Opens a run after the entry `seq` just appended for `e`; closes the oldest run when too
/// many are open.
pub fn open(
    c: &Connection,
    keys: &Keys,
    head: &mut Head,
    key: String,
    seq: i64,
    e: &AccessEvent,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    head.runs.push(Run {
        key,
        seq,
        vendor_id: e.vendor_id.to_string(),
        client_id: e.client_id.to_string(),
        started: at,
        count: 0,
        from: None,
        to: None,
    });
    if head.runs.len() > MAX_RUNS {
        let oldest = head
            .runs
            .iter()
            .min_by_key(|r| r.started)
            .map(|r| r.key.clone());
        close(c, keys, head, |r| Some(&r.key) == oldest.as_ref())?;
    }
    Ok(())
}

/// Closes the runs `ended` picks: each that counted reads gets its closing entry.
pub fn close(
    c: &Connection,
    keys: &Keys,
    head: &mut Head,
    ended: impl Fn(&Run) -> bool,
) -> Result<(), StoreError> {
    if !head.runs.iter().any(&ended) {
        return Ok(());
    }
    let (closing, open): (Vec<Run>, Vec<Run>) = std::mem::take(&mut head.runs)
        .into_iter()
        .partition(|r| ended(r));
    head.runs = open;
    for run in closing {
        let (Some(from), Some(to)) = (run.from, run.to) else {
            continue;
        };
        // The content is the first read's (one indexed read); if that entry no longer opens
        // (pruned, or altered), the count is still kept.
        let first = rows::access_entry::<AccessRecord>(c, run.seq)?
            .and_then(|r| record::open(keys, &r.id, &r.sealed).ok());
        let mut content = first.unwrap_or_else(|| AccessRecord {
            grant_id: None,
            endpoint: String::new(),
            scope: String::new(),
            ids: Vec::new(),
            status: 0,
            withheld: Default::default(),
            repeats: None,
        });
        content.repeats = Some(Repeats {
            first_seq: run.seq,
            count: run.count,
            from,
        });
        let id = rows::new_entry_id(c, head.last_seq + 1)?;
        let mut row = AccessRow {
            seq: 0,
            at: to,
            vendor_id: run.vendor_id,
            client_id: run.client_id,
            sealed: record::seal_record(keys, &id, &content),
            id,
            mac: Vec::new(),
        };
        chain::link(keys, head, &mut row);
        rows::append_access(c, &row)?;
    }
    Ok(())
}
