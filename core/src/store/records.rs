//! Rows of sealed records: a few lines of SQL per operation, the row mapping beside them.
//! Table names come from `Table` (static strings), never from input.

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OptionalExtension, Row as SqlRow, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::Result;
use crate::crypto::{Keys, Sealable, Sealed, Table};

/// A stored record: clear identity and timestamps, sealed content.
#[derive(Debug)]
pub struct Row<T> {
    pub id: String,
    pub vendor_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sealed: Sealed<T>,
}

pub fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

fn has_vendor(table: Table) -> bool {
    matches!(
        table,
        Table::Interactions
            | Table::Purchases
            | Table::Incidents
            | Table::Promises
            | Table::Subscriptions
    )
}

pub(super) fn columns(table: Table) -> &'static str {
    if has_vendor(table) {
        "id, vendor_id, created_at, updated_at, blob"
    } else {
        "id, NULL, created_at, updated_at, blob"
    }
}

pub(super) fn map_row<T>(r: &SqlRow<'_>) -> rusqlite::Result<Row<T>> {
    Ok(Row {
        id: r.get(0)?,
        vendor_id: r.get(1)?,
        created_at: from_millis(r.get(2)?),
        updated_at: from_millis(r.get(3)?),
        sealed: Sealed::from_stored(r.get(4)?),
    })
}

pub fn insert<T: Sealable>(conn: &Connection, row: &Row<T>) -> Result<()> {
    let table = T::TABLE.name();
    if has_vendor(T::TABLE) {
        conn.prepare_cached(&format!(
            "INSERT INTO main.{table} (id, vendor_id, created_at, updated_at, blob) VALUES (?1, ?2, ?3, ?4, ?5)"
        ))?
        .execute(params![
            row.id,
            row.vendor_id,
            millis(row.created_at),
            millis(row.updated_at),
            row.sealed.as_bytes()
        ])?;
    } else {
        conn.prepare_cached(&format!(
            "INSERT INTO main.{table} (id, created_at, updated_at, blob) VALUES (?1, ?2, ?3, ?4)"
        ))?
        .execute(params![
            row.id,
            millis(row.created_at),
            millis(row.updated_at),
            row.sealed.as_bytes()
        ])?;
    }
    Ok(())
}

/// Replaces a record's content; `false` if there is no such row.
pub fn update<T: Sealable>(
    conn: &Connection,
    id: &str,
    updated_at: DateTime<Utc>,
    sealed: &Sealed<T>,
) -> Result<bool> {
    let table = T::TABLE.name();
    let n = conn
        .prepare_cached(&format!(
            "UPDATE main.{table} SET updated_at = ?2, blob = ?3 WHERE id = ?1"
        ))?
        .execute(params![id, millis(updated_at), sealed.as_bytes()])?;
    Ok(n == 1)
}

/// Inserts or replaces a singleton record (the profile).
pub fn upsert<T: Sealable>(conn: &Connection, row: &Row<T>) -> Result<()> {
    let table = T::TABLE.name();
    conn.prepare_cached(&format!(
        "INSERT INTO main.{table} (id, created_at, updated_at, blob) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at, blob = excluded.blob"
    ))?
    .execute(params![
        row.id,
        millis(row.created_at),
        millis(row.updated_at),
        row.sealed.as_bytes()
    ])?;
    Ok(())
}

/// Deletes a record; `false` if there was none.
pub fn delete(conn: &Connection, table: Table, id: &str) -> Result<bool> {
    let table = table.name();
    let n = conn
        .prepare_cached(&format!("DELETE FROM main.{table} WHERE id = ?1"))?
        .execute([id])?;
    Ok(n == 1)
}

pub fn get<T: Sealable>(conn: &Connection, id: &str) -> Result<Option<Row<T>>> {
    let (table, cols) = (T::TABLE.name(), columns(T::TABLE));
    Ok(conn
        .prepare_cached(&format!("SELECT {cols} FROM {table} WHERE id = ?1"))?
        .query_row([id], map_row)
        .optional()?)
}

pub fn exists(conn: &Connection, table: Table, id: &str) -> Result<bool> {
    let table = table.name();
    Ok(conn
        .prepare_cached(&format!("SELECT 1 FROM {table} WHERE id = ?1"))?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// All records of a table, or those of one vendor.
pub fn list<T: Sealable>(conn: &Connection, vendor_id: Option<&str>) -> Result<Vec<Row<T>>> {
    let (table, cols) = (T::TABLE.name(), columns(T::TABLE));
    let rows = match vendor_id {
        Some(v) if has_vendor(T::TABLE) => conn
            .prepare_cached(&format!("SELECT {cols} FROM {table} WHERE vendor_id = ?1"))?
            .query_map([v], map_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
        _ => conn
            .prepare_cached(&format!("SELECT {cols} FROM {table}"))?
            .query_map([], map_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
    };
    Ok(rows)
}

/// The interactions shared with `vendor_id`, changed at or after `since`.
pub fn list_shared<T: Sealable>(
    conn: &Connection,
    vendor_id: &str,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<Row<T>>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, vendor_id, created_at, updated_at, blob FROM interactions
             WHERE vendor_id = ?1 AND shared = 1 AND updated_at >= ?2",
        )?
        .query_map(params![vendor_id, since.map_or(i64::MIN, millis)], map_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Sets the clear `shared` flag of an interaction (what a vendor may later read).
pub fn set_shared(conn: &Connection, id: &str, shared: bool) -> Result<()> {
    conn.prepare_cached("UPDATE main.interactions SET shared = ?2 WHERE id = ?1")?
        .execute(params![id, shared])?;
    Ok(())
}

/// A value in the `meta` table.
pub fn meta_get(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// A `meta` value whose row MAC is not checked: for the canary, which is sealed (so
/// authenticated by itself) and read before the key is proved, and for the public receipt
/// keys a sealed server serves.
pub fn meta_get_unchecked(conn: &Connection, key: &str) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached("SELECT value FROM main.meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

/// A `meta` value kept sealed as JSON under `key`: `None` when there is none, `Some(None)` when
/// it does not open or does not read as a `T`.
pub fn meta_get_sealed<T: DeserializeOwned>(
    conn: &Connection,
    keys: &Keys,
    key: &str,
) -> Result<Option<Option<T>>> {
    Ok(meta_get(conn, key)?.map(|blob| {
        keys.seal()
            .open_bytes(Table::Meta, key, &blob)
            .ok()
            .and_then(|json| serde_json::from_slice(&json).ok())
    }))
}

/// Keeps `value` sealed as JSON under `key` in `meta`.
pub fn meta_put_sealed<T: Serialize>(
    conn: &Connection,
    keys: &Keys,
    key: &str,
    value: &T,
) -> Result<()> {
    let json = serde_json::to_vec(value).unwrap_or_default();
    meta_put(conn, key, &keys.seal().seal_bytes(Table::Meta, key, &json))
}

pub fn meta_put(conn: &Connection, key: &str, value: &[u8]) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO main.meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// Owner-token hashes.
pub fn owner_token_hashes(conn: &Connection) -> Result<Vec<Vec<u8>>> {
    Ok(conn
        .prepare_cached("SELECT hash FROM owner_tokens")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Replaces every owner token by one (init, rotation).
pub fn replace_owner_token(conn: &Connection, hash: &[u8], now: DateTime<Utc>) -> Result<()> {
    conn.execute("DELETE FROM main.owner_tokens", [])?;
    conn.execute(
        "INSERT INTO main.owner_tokens (hash, created_at) VALUES (?1, ?2)",
        params![hash, millis(now)],
    )?;
    Ok(())
}
