//! Rows of the market relay (migration 0013): each announced intent's relay row
//! (`relay_intents`) and the offers that came back through the relay (`relay_offers`). The
//! relay's outbox is `outbox::Outbox::Relay`. Reads go through the TEMP views that hide rows
//! whose MAC fails; writes name `main.`.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::Result;
use super::intents::StoredOfferState;
use super::records::{from_millis, millis};

/// An intent's relay row: its bucket, last revision, whether it ended, its sealed keys.
#[derive(Debug, Clone)]
pub struct RelayIntentRow {
    pub intent_id: String,
    pub bucket: String,
    pub revision: u64,
    pub ended: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub blob: Vec<u8>,
}

const INTENT_COLUMNS: &str = "intent_id, bucket, revision, ended, created_at, updated_at, blob";

fn map_intent(r: &rusqlite::Row<'_>) -> rusqlite::Result<RelayIntentRow> {
    Ok(RelayIntentRow {
        intent_id: r.get(0)?,
        bucket: r.get(1)?,
        revision: r.get::<_, i64>(2)?.max(0) as u64,
        ended: r.get(3)?,
        created_at: from_millis(r.get(4)?),
        updated_at: from_millis(r.get(5)?),
        blob: r.get(6)?,
    })
}

/// The relay row of intent `intent_id`, if it was ever announced.
pub fn intent(c: &Connection, intent_id: &str) -> Result<Option<RelayIntentRow>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {INTENT_COLUMNS} FROM relay_intents WHERE intent_id = ?1"
    ))?
    .query_row([intent_id], map_intent)
    .optional()?)
}

/// The relay row whose offers arrive on `bucket`.
pub fn intent_of_bucket(c: &Connection, bucket: &str) -> Result<Option<RelayIntentRow>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {INTENT_COLUMNS} FROM relay_intents WHERE bucket = ?1"
    ))?
    .query_row([bucket], map_intent)
    .optional()?)
}

/// Every relay row (the buckets carnetd listens on).
pub fn intents(c: &Connection) -> Result<Vec<RelayIntentRow>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {INTENT_COLUMNS} FROM relay_intents ORDER BY created_at, intent_id"
    ))?
    .query_map([], map_intent)?
    .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Inserts an intent's first relay row.
pub fn insert_intent(c: &Connection, row: &RelayIntentRow) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO main.relay_intents (intent_id, bucket, revision, ended, created_at,
             updated_at, blob)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        row.intent_id,
        row.bucket,
        row.revision as i64,
        row.ended,
        millis(row.created_at),
        millis(row.updated_at),
        row.blob
    ])?;
    Ok(())
}

/// Records revision `revision` of an intent's announcements, and whether it was terminal.
pub fn set_revision(
    c: &Connection,
    intent_id: &str,
    revision: u64,
    ended: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    c.prepare_cached(
        "UPDATE main.relay_intents SET revision = ?2, ended = ?3, updated_at = ?4
         WHERE intent_id = ?1",
    )?
    .execute(params![intent_id, revision as i64, ended, millis(now)])?;
    Ok(())
}

/// An offer that came through the relay: its directory vendor and that vendor's own offer id
/// (unique together), its state, and the sealed record (terms, proof, vendor at receipt).
#[derive(Debug, Clone)]
pub struct RelayOfferRow {
    pub id: String,
    pub intent_id: String,
    pub directory_vendor: String,
    pub remote_id: String,
    pub state: StoredOfferState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub blob: Vec<u8>,
}

pub(super) const OFFER_COLUMNS: &str =
    "id, intent_id, directory_vendor, remote_id, state, created_at, updated_at, blob";

pub(super) fn map_offer(r: &rusqlite::Row<'_>) -> rusqlite::Result<RelayOfferRow> {
    Ok(RelayOfferRow {
        id: r.get(0)?,
        intent_id: r.get(1)?,
        directory_vendor: r.get(2)?,
        remote_id: r.get(3)?,
        state: r.get(4)?,
        created_at: from_millis(r.get(5)?),
        updated_at: from_millis(r.get(6)?),
        blob: r.get(7)?,
    })
}

/// Whether directory vendor `vendor` already sent an offer under its id `remote_id` (kept for
/// good: a replay is recognised after any restart).
pub fn has_offer(c: &Connection, vendor: &str, remote_id: &str) -> Result<bool> {
    Ok(c.prepare_cached(
        "SELECT 1 FROM relay_offers WHERE directory_vendor = ?1 AND remote_id = ?2",
    )?
    .query_row([vendor, remote_id], |_| Ok(()))
    .optional()?
    .is_some())
}

/// Stores an offer just taken.
pub fn insert_offer(c: &Connection, row: &RelayOfferRow) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO main.relay_offers (id, intent_id, directory_vendor, remote_id, state,
             created_at, updated_at, blob)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        row.id,
        row.intent_id,
        row.directory_vendor,
        row.remote_id,
        row.state,
        millis(row.created_at),
        millis(row.updated_at),
        row.blob
    ])?;
    Ok(())
}

/// One offer that came through the relay.
pub fn offer(c: &Connection, id: &str) -> Result<Option<RelayOfferRow>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {OFFER_COLUMNS} FROM relay_offers WHERE id = ?1"
    ))?
    .query_row([id], map_offer)
    .optional()?)
}

/// Offers that came through the relay, all or one intent's, newest first.
pub fn offers(c: &Connection, intent_id: Option<&str>) -> Result<Vec<RelayOfferRow>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {OFFER_COLUMNS} FROM relay_offers WHERE ?1 IS NULL OR intent_id = ?1
         ORDER BY created_at DESC, id"
    ))?
    .query_map([intent_id], map_offer)?
    .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Records the owner's answer to an offer (and its record as changed).
pub fn update_offer(
    c: &Connection,
    id: &str,
    state: StoredOfferState,
    now: DateTime<Utc>,
    blob: &[u8],
) -> Result<()> {
    c.prepare_cached(
        "UPDATE main.relay_offers SET state = ?2, updated_at = ?3, blob = ?4 WHERE id = ?1",
    )?
    .execute(params![id, state, millis(now), blob])?;
    Ok(())
}
