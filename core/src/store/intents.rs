//! Rows of intents and offers. The state is a clear column; content is sealed by the caller.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::Result;
use super::records::{from_millis, millis};
use super::state::{self, state_column};
use crate::crypto::Sealed;

state_column! {
    /// The states an intent is stored in (`expired` is never stored: it is read from the
    /// window).
    pub enum StoredIntentState in "intents" {
        Draft = "draft",
        Active = "active",
        Fulfilled = "fulfilled",
        Withdrawn = "withdrawn",
    }
}

state_column! {
    /// The states an offer is stored in (`expired` is read from its window and its intent's).
    pub enum StoredOfferState in "offers" {
        Pending = "pending",
        Accepted = "accepted",
        Declined = "declined",
    }
}

#[derive(Debug)]
pub struct IntentRow<T> {
    pub id: String,
    pub state: StoredIntentState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sealed: Sealed<T>,
}

pub(super) fn map_intent<T>(r: &rusqlite::Row<'_>) -> rusqlite::Result<IntentRow<T>> {
    let id: String = r.get(0)?;
    Ok(IntentRow {
        state: state::get(r, 1, &id)?,
        id,
        created_at: from_millis(r.get(2)?),
        updated_at: from_millis(r.get(3)?),
        sealed: Sealed::from_stored(r.get(4)?),
    })
}

pub(super) const INTENT_COLUMNS: &str = "id, state, created_at, updated_at, blob";

pub fn insert_intent<T>(c: &Connection, r: &IntentRow<T>) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO main.intents (id, state, created_at, updated_at, blob) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        r.id,
        r.state,
        millis(r.created_at),
        millis(r.updated_at),
        r.sealed.as_bytes()
    ])?;
    Ok(())
}

pub fn update_intent<T>(
    c: &Connection,
    id: &str,
    state: StoredIntentState,
    updated_at: DateTime<Utc>,
    sealed: &Sealed<T>,
) -> Result<()> {
    c.prepare_cached(
        "UPDATE main.intents SET state = ?2, updated_at = ?3, blob = ?4 WHERE id = ?1",
    )?
    .execute(params![id, state, millis(updated_at), sealed.as_bytes()])?;
    Ok(())
}

pub fn set_intent_state(
    c: &Connection,
    id: &str,
    state: StoredIntentState,
    updated_at: DateTime<Utc>,
) -> Result<()> {
    c.prepare_cached("UPDATE main.intents SET state = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, state, millis(updated_at)])?;
    Ok(())
}

pub fn intent<T>(c: &Connection, id: &str) -> Result<Option<IntentRow<T>>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {INTENT_COLUMNS} FROM intents WHERE id = ?1"
    ))?
    .query_row([id], map_intent)
    .optional()?)
}

/// All intents, or those in one stored state.
pub fn intents<T>(c: &Connection, state: Option<StoredIntentState>) -> Result<Vec<IntentRow<T>>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {INTENT_COLUMNS} FROM intents WHERE ?1 IS NULL OR state = ?1"
    ))?
    .query_map([state], map_intent)?
    .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Offers received (from vendors of the vault and through the market relay), per intent id.
pub fn offer_counts(c: &Connection) -> Result<Vec<(String, u32)>> {
    Ok(c.prepare_cached(
        "SELECT intent_id, count(*) FROM
                 (SELECT intent_id FROM offers UNION ALL SELECT intent_id FROM relay_offers)
             GROUP BY intent_id",
    )?
    .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
    .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Offers intent `intent_id` received, both kinds together (what `max_offers` bounds).
pub fn offer_count(c: &Connection, intent_id: &str) -> Result<u32> {
    Ok(c.prepare_cached(
        "SELECT (SELECT count(*) FROM offers WHERE intent_id = ?1)
                  + (SELECT count(*) FROM relay_offers WHERE intent_id = ?1)",
    )?
    .query_row([intent_id], |r| r.get(0))?)
}

#[derive(Debug)]
pub struct OfferRow<T> {
    pub id: String,
    pub intent_id: String,
    pub vendor_id: String,
    pub state: StoredOfferState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sealed: Sealed<T>,
}

pub(super) fn map_offer<T>(r: &rusqlite::Row<'_>) -> rusqlite::Result<OfferRow<T>> {
    let id: String = r.get(0)?;
    Ok(OfferRow {
        state: state::get(r, 3, &id)?,
        id,
        intent_id: r.get(1)?,
        vendor_id: r.get(2)?,
        created_at: from_millis(r.get(4)?),
        updated_at: from_millis(r.get(5)?),
        sealed: Sealed::from_stored(r.get(6)?),
    })
}

pub(super) const OFFER_COLUMNS: &str =
    "id, intent_id, vendor_id, state, created_at, updated_at, blob";

pub fn insert_offer<T>(c: &Connection, r: &OfferRow<T>) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO main.offers (id, intent_id, vendor_id, state, created_at, updated_at, blob)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        r.id,
        r.intent_id,
        r.vendor_id,
        r.state,
        millis(r.created_at),
        millis(r.updated_at),
        r.sealed.as_bytes()
    ])?;
    Ok(())
}

pub fn update_offer<T>(
    c: &Connection,
    id: &str,
    state: StoredOfferState,
    updated_at: DateTime<Utc>,
    sealed: &Sealed<T>,
) -> Result<()> {
    c.prepare_cached(
        "UPDATE main.offers SET state = ?2, updated_at = ?3, blob = ?4 WHERE id = ?1",
    )?
    .execute(params![id, state, millis(updated_at), sealed.as_bytes()])?;
    Ok(())
}

pub fn offer<T>(c: &Connection, id: &str) -> Result<Option<OfferRow<T>>> {
    Ok(
        c.prepare_cached(&format!("SELECT {OFFER_COLUMNS} FROM offers WHERE id = ?1"))?
            .query_row([id], map_offer)
            .optional()?,
    )
}

/// Offers, all or one intent's, newest first.
pub fn offers<T>(c: &Connection, intent_id: Option<&str>) -> Result<Vec<OfferRow<T>>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {OFFER_COLUMNS} FROM offers WHERE ?1 IS NULL OR intent_id = ?1
         ORDER BY created_at DESC, id"
    ))?
    .query_map([intent_id], map_offer)?
    .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The offers one vendor made, newest first.
pub fn offers_of_vendor<T>(c: &Connection, vendor_id: &str) -> Result<Vec<OfferRow<T>>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {OFFER_COLUMNS} FROM offers WHERE vendor_id = ?1 ORDER BY created_at DESC, id"
    ))?
    .query_map([vendor_id], map_offer)?
    .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// The offers stored as waiting for the owner's answer (`pending`), oldest first.
pub fn pending_offers<T>(c: &Connection) -> Result<Vec<OfferRow<T>>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {OFFER_COLUMNS} FROM offers WHERE state = ?1 ORDER BY created_at, id"
    ))?
    .query_map([StoredOfferState::Pending], map_offer)?
    .collect::<rusqlite::Result<Vec<_>>>()?)
}
