//! Rows of the webhook outbox.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::Result;
use super::records::{from_millis, millis};
use super::state::{self, state_column};
use crate::crypto::Sealed;

state_column! {
    /// Where an event is in its delivery.
    pub enum OutboxState in "outbox" {
        /// Not delivered yet: tried again at `next_attempt_at`.
        Pending = "pending",
        Delivered = "delivered",
        /// Not sent (no live grant covering it, no webhook URL…).
        Dropped = "dropped",
        /// Given up after three days of failures.
        Failed = "failed",
    }
}

#[derive(Debug)]
pub struct OutboxRow<T> {
    pub id: String,
    pub vendor_id: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub attempts: u32,
    pub state: OutboxState,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub sealed: Sealed<T>,
}

const COLUMNS: &str = "id, vendor_id, created_at, updated_at, next_attempt_at, attempts, state, last_status, last_error, delivered_at, blob";

fn map<T>(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxRow<T>> {
    let id: String = r.get(0)?;
    Ok(OutboxRow {
        state: state::get(r, 6, &id)?,
        id,
        vendor_id: r.get(1)?,
        created_at: from_millis(r.get(2)?),
        updated_at: from_millis(r.get(3)?),
        next_attempt_at: from_millis(r.get(4)?),
        attempts: r.get(5)?,
        last_status: r.get(7)?,
        last_error: r.get(8)?,
        delivered_at: r.get::<_, Option<i64>>(9)?.map(from_millis),
        sealed: Sealed::from_stored(r.get(10)?),
    })
}

pub fn insert<T>(
    c: &Connection,
    id: &str,
    vendor_id: &str,
    now: DateTime<Utc>,
    sealed: &Sealed<T>,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO main.outbox (id, vendor_id, created_at, updated_at, next_attempt_at, attempts, state, blob)
         VALUES (?1, ?2, ?3, ?3, ?3, 0, ?5, ?4)",
    )?
    .execute(params![
        id,
        vendor_id,
        millis(now),
        sealed.as_bytes(),
        OutboxState::Pending
    ])?;
    Ok(())
}

/// Pending deliveries due at `now`, oldest first.
pub fn due<T>(c: &Connection, now: DateTime<Utc>, limit: u32) -> Result<Vec<OutboxRow<T>>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE state = ?3 AND next_attempt_at <= ?1
         ORDER BY next_attempt_at, created_at LIMIT ?2"
    ))?
    .query_map(params![millis(now), limit, OutboxState::Pending], map)?
    .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The next time anything pending is due.
pub fn next_due(c: &Connection) -> Result<Option<DateTime<Utc>>> {
    Ok(
        c.prepare_cached("SELECT min(next_attempt_at) FROM outbox WHERE state = ?1")?
            .query_row([OutboxState::Pending], |r| r.get::<_, Option<i64>>(0))
            .optional()?
            .flatten()
            .map(from_millis),
    )
}

/// Records an attempt's outcome.
#[allow(clippy::too_many_arguments)]
pub fn record_attempt(
    c: &Connection,
    id: &str,
    state: OutboxState,
    attempts: u32,
    next_attempt_at: DateTime<Utc>,
    status: Option<u16>,
    error: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    c.prepare_cached(
        "UPDATE main.outbox SET state = ?2, attempts = ?3, next_attempt_at = ?4, last_status = ?5,
         last_error = ?6, updated_at = ?7,
         delivered_at = CASE WHEN ?8 THEN ?7 ELSE delivered_at END
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        state,
        attempts,
        millis(next_attempt_at),
        status,
        error,
        millis(now),
        state == OutboxState::Delivered
    ])?;
    Ok(())
}

/// Recent deliveries, newest first, all or one vendor's.
pub fn recent<T>(c: &Connection, vendor_id: Option<&str>, limit: u32) -> Result<Vec<OutboxRow<T>>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE ?1 IS NULL OR vendor_id = ?1
         ORDER BY created_at DESC, id LIMIT ?2"
    ))?
    .query_map(params![vendor_id, limit], map)?
    .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Marks an intent's expiry announced; `false` if it already was.
pub fn announce_expiry(c: &Connection, intent_id: &str) -> Result<bool> {
    Ok(c.prepare_cached(
        "UPDATE main.intents SET expiry_announced = 1 WHERE id = ?1 AND expiry_announced = 0",
    )?
    .execute([intent_id])?
        == 1)
}

/// Marks an intent's activation announced; `false` if it already was.
pub fn announce_activation(c: &Connection, intent_id: &str) -> Result<bool> {
    Ok(c.prepare_cached(
        "UPDATE main.intents SET activation_announced = 1 WHERE id = ?1 AND activation_announced = 0",
    )?
    .execute([intent_id])?
        == 1)
}
