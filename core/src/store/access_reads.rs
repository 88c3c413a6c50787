//! What the owner reads back of the access log: entries newest first (all, or one vendor's),
//! and one vendor's entries' times. A vendor's entries are read per party (vendor and client
//! pair) through the party index. Never writes.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};

use super::Result;
use super::access::{ACCESS_COLUMNS, ACCESS_FROM, AccessRow, map_access};
use super::records::{from_millis, millis};

/// The parties (vendor and client pairs) of vendor `vendor_id`.
fn parties(c: &Connection, vendor_id: &str) -> Result<Vec<i64>> {
    Ok(
        c.prepare_cached("SELECT pid FROM access_parties WHERE vendor_id = ?1")?
            .query_map([vendor_id], |r| r.get::<_, i64>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?,
    )
}

/// Entries newest first, optionally one vendor's, at or after `since`, before `before_seq`.
/// A vendor's entries are read per party (vendor and client pair) through the party index,
/// each in log order, and merged.
pub fn access_entries<T>(
    c: &Connection,
    vendor_id: Option<&str>,
    since: Option<DateTime<Utc>>,
    before_seq: Option<i64>,
    limit: u32,
) -> Result<Vec<AccessRow<T>>> {
    let since = since.map(millis);
    let Some(vendor_id) = vendor_id else {
        return Ok(c
            .prepare_cached(&format!(
                "SELECT {ACCESS_COLUMNS} FROM {ACCESS_FROM}
                 WHERE (?1 IS NULL OR l.at >= ?1) AND (?2 IS NULL OR l.seq < ?2)
                 ORDER BY l.seq DESC LIMIT ?3"
            ))?
            .query_map(params![since, before_seq, limit], map_access)?
            .collect::<rusqlite::Result<Vec<_>>>()?);
    };
    let mut rows = Vec::new();
    for party in parties(c, vendor_id)? {
        rows.extend(
            c.prepare_cached(&format!(
                "SELECT {ACCESS_COLUMNS} FROM {ACCESS_FROM}
                 WHERE l.party = ?1 AND (?2 IS NULL OR l.at >= ?2) AND (?3 IS NULL OR l.seq < ?3)
                 ORDER BY l.seq DESC LIMIT ?4"
            ))?
            .query_map(params![party, since, before_seq, limit], map_access)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
        );
    }
    rows.sort_unstable_by_key(|r: &AccessRow<T>| std::cmp::Reverse(r.seq));
    rows.truncate(limit as usize);
    Ok(rows)
}

/// The times of vendor `vendor_id`'s entries at or after `since`, newest first: each party's
/// entries read back through the party index until one is older (nothing is opened).
pub fn access_times(
    c: &Connection,
    vendor_id: &str,
    since: DateTime<Utc>,
) -> Result<Vec<DateTime<Utc>>> {
    let since = millis(since);
    let mut times = Vec::new();
    for party in parties(c, vendor_id)? {
        let mut stmt =
            c.prepare_cached("SELECT at FROM access_log WHERE party = ?1 ORDER BY seq DESC")?;
        let mut rows = stmt.query([party])?;
        while let Some(row) = rows.next()? {
            let at: i64 = row.get(0)?;
            if at < since {
                break;
            }
            times.push(from_millis(at));
        }
    }
    times.sort_unstable_by(|a, b| b.cmp(a));
    Ok(times)
}
