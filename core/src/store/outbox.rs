//! Rows of the three outboxes: the vendors' webhook events (`outbox`), the owner's reminders
//! (`notify_outbox`) and the market relay's announcements (`relay_outbox`), the same rows but
//! for whom they are addressed to (a vendor, a channel, an intent's announcements).

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

/// Which outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outbox {
    /// Webhook events to vendors (`vendor_id`).
    Vendors,
    /// Reminders to the owner's channels (`channel_id`).
    Owner,
    /// Announcements for the market relay (`intent_id`).
    Relay,
}

impl Outbox {
    fn table(self) -> &'static str {
        match self {
            Outbox::Vendors => "outbox",
            Outbox::Owner => "notify_outbox",
            Outbox::Relay => "relay_outbox",
        }
    }

    fn recipient(self) -> &'static str {
        match self {
            Outbox::Vendors => "vendor_id",
            Outbox::Owner => "channel_id",
            Outbox::Relay => "intent_id",
        }
    }

    fn columns(self) -> String {
        format!(
            "id, {}, created_at, updated_at, next_attempt_at, attempts, state, last_status, last_error, delivered_at, blob",
            self.recipient()
        )
    }
}

#[derive(Debug)]
pub struct OutboxRow<T> {
    pub id: String,
    /// The vendor (`Outbox::Vendors`) or the channel (`Outbox::Owner`) it goes to.
    pub recipient: String,
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

fn map<T>(r: &rusqlite::Row<'_>) -> rusqlite::Result<OutboxRow<T>> {
    let id: String = r.get(0)?;
    Ok(OutboxRow {
        state: state::get(r, 6, &id)?,
        id,
        recipient: r.get(1)?,
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
    b: Outbox,
    id: &str,
    recipient: &str,
    now: DateTime<Utc>,
    sealed: &Sealed<T>,
) -> Result<()> {
    c.prepare_cached(&format!(
        "INSERT INTO main.{} (id, {}, created_at, updated_at, next_attempt_at, attempts, state, blob)
         VALUES (?1, ?2, ?3, ?3, ?3, 0, ?5, ?4)",
        b.table(),
        b.recipient()
    ))?
    .execute(params![
        id,
        recipient,
        millis(now),
        sealed.as_bytes(),
        OutboxState::Pending
    ])?;
    Ok(())
}

/// Pending deliveries due at `now`, oldest first.
pub fn due<T>(
    c: &Connection,
    b: Outbox,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<OutboxRow<T>>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {} FROM {} WHERE state = ?3 AND next_attempt_at <= ?1
         ORDER BY next_attempt_at, created_at LIMIT ?2",
        b.columns(),
        b.table()
    ))?
    .query_map(params![millis(now), limit, OutboxState::Pending], map)?
    .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The next time anything pending is due.
pub fn next_due(c: &Connection, b: Outbox) -> Result<Option<DateTime<Utc>>> {
    Ok(c.prepare_cached(&format!(
        "SELECT min(next_attempt_at) FROM {} WHERE state = ?1",
        b.table()
    ))?
    .query_row([OutboxState::Pending], |r| r.get::<_, Option<i64>>(0))
    .optional()?
    .flatten()
    .map(from_millis))
}

/// An attempt's outcome, as a row records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub state: OutboxState,
    /// Attempts so far, this one included.
    pub attempts: u32,
    pub next_attempt_at: DateTime<Utc>,
    pub status: Option<u16>,
    /// A short reason when it failed.
    pub error: Option<&'static str>,
    /// When it was made.
    pub at: DateTime<Utc>,
}

/// Records an attempt's outcome.
pub fn record_attempt(c: &Connection, b: Outbox, id: &str, a: &Attempt) -> Result<()> {
    c.prepare_cached(&format!(
        "UPDATE main.{} SET state = ?2, attempts = ?3, next_attempt_at = ?4, last_status = ?5,
         last_error = ?6, updated_at = ?7,
         delivered_at = CASE WHEN ?8 THEN ?7 ELSE delivered_at END
         WHERE id = ?1",
        b.table()
    ))?
    .execute(params![
        id,
        a.state,
        a.attempts,
        millis(a.next_attempt_at),
        a.status,
        a.error,
        millis(a.at),
        a.state == OutboxState::Delivered
    ])?;
    Ok(())
}

/// Recent deliveries, newest first, all or one recipient's.
pub fn recent<T>(
    c: &Connection,
    b: Outbox,
    recipient: Option<&str>,
    limit: u32,
) -> Result<Vec<OutboxRow<T>>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {cols} FROM {t} WHERE ?1 IS NULL OR {r} = ?1
         ORDER BY created_at DESC, id LIMIT ?2",
        cols = b.columns(),
        t = b.table(),
        r = b.recipient()
    ))?
    .query_map(params![recipient, limit], map)?
    .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// A recipient's last attempted delivery (the latest row tried at least once).
pub fn last_attempted<T>(
    c: &Connection,
    b: Outbox,
    recipient: &str,
) -> Result<Option<OutboxRow<T>>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {cols} FROM {t} WHERE {r} = ?1 AND attempts > 0
         ORDER BY updated_at DESC, id LIMIT 1",
        cols = b.columns(),
        t = b.table(),
        r = b.recipient()
    ))?
    .query_row([recipient], map)
    .optional()?)
}

/// How many of a recipient's rows wait to be delivered.
pub fn pending_count(c: &Connection, b: Outbox, recipient: &str) -> Result<u32> {
    Ok(c.prepare_cached(&format!(
        "SELECT count(*) FROM {} WHERE {} = ?1 AND state = ?2",
        b.table(),
        b.recipient()
    ))?
    .query_row(params![recipient, OutboxState::Pending], |r| r.get(0))?)
}

/// Deletes a recipient's rows (its channel was removed).
pub fn delete_for(c: &Connection, b: Outbox, recipient: &str) -> Result<usize> {
    Ok(c.prepare_cached(&format!(
        "DELETE FROM main.{} WHERE {} = ?1",
        b.table(),
        b.recipient()
    ))?
    .execute([recipient])?)
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
