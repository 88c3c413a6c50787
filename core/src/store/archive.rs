//! Rows as the export archive needs them: every table walked in a stable order one row at a
//! time (never collected, so an export of 100,000 records holds one at a time), counts, and
//! the inserts an import makes with every column as the archive gives it.

use carnet_schemas::ArchiveCounts;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Row as SqlRow, params};

use super::access::{
    ACCESS_COLUMNS, ACCESS_FROM, AccessRow, CLIENT_COLUMNS, ClientRow, GRANT_COLUMNS, GrantRow,
    RECEIPT_COLUMNS, ReceiptRow, map_access, map_client, map_grant, map_receipt,
};
use super::intents::{INTENT_COLUMNS, IntentRow, OFFER_COLUMNS, OfferRow, map_intent, map_offer};
use super::records::{self, Row, from_millis, millis};
use super::relay::{
    OFFER_COLUMNS as RELAY_OFFER_COLUMNS, RelayOfferRow, map_offer as map_relay_offer,
};
use super::{Result, StoreError};
use crate::crypto::{Sealable, Table};

/// Runs `sql` and hands each mapped row to `f`, in order, stopping at the first error.
fn each<T, E>(
    c: &Connection,
    sql: &str,
    map: impl Fn(&SqlRow<'_>) -> rusqlite::Result<T>,
    mut f: impl FnMut(T) -> Result<(), E>,
) -> Result<(), E>
where
    E: From<StoreError>,
{
    let mut stmt = c.prepare(sql).map_err(StoreError::from)?;
    let mut rows = stmt.query([]).map_err(StoreError::from)?;
    while let Some(r) = rows.next().map_err(StoreError::from)? {
        f(map(r).map_err(StoreError::from)?)?;
    }
    Ok(())
}

/// Every record of a ledger table (vendors, interactions, purchases, incidents), by id.
pub fn each_record<T: Sealable, E: From<StoreError>>(
    c: &Connection,
    f: impl FnMut(Row<T>) -> Result<(), E>,
) -> Result<(), E> {
    let sql = format!(
        "SELECT {} FROM {} ORDER BY id",
        records::columns(T::TABLE),
        T::TABLE.name()
    );
    each(c, &sql, records::map_row, f)
}

/// An intent row with whether its activation and expiry were announced to vendors.
pub struct IntentArchiveRow<T> {
    pub row: IntentRow<T>,
    pub activation_announced: bool,
    pub expiry_announced: bool,
}

pub fn each_intent<T, E: From<StoreError>>(
    c: &Connection,
    f: impl FnMut(IntentArchiveRow<T>) -> Result<(), E>,
) -> Result<(), E> {
    each(
        c,
        &format!(
            "SELECT {INTENT_COLUMNS}, activation_announced, expiry_announced
             FROM intents ORDER BY id"
        ),
        |r| {
            Ok(IntentArchiveRow {
                row: map_intent(r)?,
                activation_announced: r.get(5)?,
                expiry_announced: r.get(6)?,
            })
        },
        f,
    )
}

pub fn each_offer<T, E: From<StoreError>>(
    c: &Connection,
    f: impl FnMut(OfferRow<T>) -> Result<(), E>,
) -> Result<(), E> {
    let sql = format!("SELECT {OFFER_COLUMNS} FROM offers ORDER BY id");
    each(c, &sql, map_offer, f)
}

/// Every offer that came through the market relay, by id.
pub fn each_market_offer<E: From<StoreError>>(
    c: &Connection,
    f: impl FnMut(RelayOfferRow) -> Result<(), E>,
) -> Result<(), E> {
    let sql = format!("SELECT {RELAY_OFFER_COLUMNS} FROM relay_offers ORDER BY id");
    each(c, &sql, map_relay_offer, f)
}

pub fn each_client<T, E: From<StoreError>>(
    c: &Connection,
    f: impl FnMut(ClientRow<T>) -> Result<(), E>,
) -> Result<(), E> {
    let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients ORDER BY id");
    each(c, &sql, map_client, f)
}

/// A grant row with its last change.
pub struct GrantArchiveRow<T> {
    pub row: GrantRow<T>,
    pub updated_at: DateTime<Utc>,
}

pub fn each_grant<T, E: From<StoreError>>(
    c: &Connection,
    f: impl FnMut(GrantArchiveRow<T>) -> Result<(), E>,
) -> Result<(), E> {
    each(
        c,
        &format!("SELECT {GRANT_COLUMNS}, updated_at FROM grants ORDER BY id"),
        |r| {
            Ok(GrantArchiveRow {
                row: map_grant(r)?,
                updated_at: from_millis(r.get(6)?),
            })
        },
        f,
    )
}

pub fn each_receipt<T, E: From<StoreError>>(
    c: &Connection,
    f: impl FnMut(ReceiptRow<T>) -> Result<(), E>,
) -> Result<(), E> {
    let sql = format!("SELECT {RECEIPT_COLUMNS} FROM receipts ORDER BY id");
    each(c, &sql, map_receipt, f)
}

/// The access log in log order.
pub fn each_access<T, E: From<StoreError>>(
    c: &Connection,
    f: impl FnMut(AccessRow<T>) -> Result<(), E>,
) -> Result<(), E> {
    let sql = format!("SELECT {ACCESS_COLUMNS} FROM {ACCESS_FROM} ORDER BY l.seq");
    each(c, &sql, map_access, f)
}

/// The vendors whose receipt keys an archive carries: every vendor, and every vendor that
/// has receipts (receipts outlive their vendor).
pub fn receipt_key_vendors(c: &Connection) -> Result<Vec<String>> {
    Ok(
        c.prepare("SELECT id FROM vendors UNION SELECT vendor_id FROM receipts ORDER BY 1")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?,
    )
}

/// Rows per table.
pub fn counts(c: &Connection) -> Result<ArchiveCounts> {
    let n = |table: &str| -> Result<u64> {
        Ok(
            c.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| {
                r.get::<_, i64>(0)
            })? as u64,
        )
    };
    Ok(ArchiveCounts {
        vendors: n("vendors")?,
        incidents: n("incidents")?,
        purchases: n("purchases")?,
        interactions: n("interactions")?,
        promises: n("promises")?,
        subscriptions: n("subscriptions")?,
        intents: n("intents")?,
        offers: n("offers")?,
        market_offers: n("relay_offers")?,
        clients: n("clients")?,
        grants: n("grants")?,
        receipts: n("receipts")?,
        access_log: n("access_log")?,
        documents: n("documents WHERE state = 'complete'")?,
    })
}

/// Whether a row with this id exists in `table` (the access log's ids included, stored or
/// derived from their position).
pub fn exists(c: &Connection, table: Table, id: &str) -> Result<bool> {
    if table == Table::AccessLog {
        return super::access::access_id_exists(c, id);
    }
    Ok(
        c.prepare_cached(&format!("SELECT 1 FROM {} WHERE id = ?1", table.name()))?
            .query_row([id], |_| Ok(()))
            .optional()?
            .is_some(),
    )
}

/// An intent with its announcement flags.
pub fn insert_intent(c: &Connection, r: &IntentArchiveRow<impl Sized>) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO main.intents (id, state, created_at, updated_at, blob, activation_announced,
                              expiry_announced)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        r.row.id,
        r.row.state,
        millis(r.row.created_at),
        millis(r.row.updated_at),
        r.row.sealed.as_bytes(),
        r.activation_announced,
        r.expiry_announced
    ])?;
    Ok(())
}

/// A grant with its change and revocation times.
pub fn insert_grant(c: &Connection, g: &GrantArchiveRow<impl Sized>) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO main.grants (id, vendor_id, created_at, updated_at, expires_at, revoked_at, blob)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        g.row.id,
        g.row.vendor_id,
        millis(g.row.created_at),
        millis(g.updated_at),
        millis(g.row.expires_at),
        g.row.revoked_at.map(millis),
        g.row.sealed.as_bytes()
    ])?;
    Ok(())
}
