//! Rows of documents (`documents`) and their sealed chunks (`document_chunks`), migration
//! 0012. A few lines of SQL each; the sealing and the rules are the `documents` service's. Reads of
//! `documents` go through the TEMP view that hides rows whose MAC fails; writes name `main.`.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::Result;
use super::records::{from_millis, millis};

/// A document's row: clear identity, attachment, size and times; sealed description.
#[derive(Debug, Clone)]
pub struct DocumentRow {
    pub id: String,
    pub vendor_id: String,
    pub purchase_id: Option<String>,
    pub incident_id: Option<String>,
    pub interaction_id: Option<String>,
    pub size: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub blob: Vec<u8>,
}

const COLUMNS: &str =
    "id, vendor_id, purchase_id, incident_id, interaction_id, size, created_at, updated_at, blob";

fn map(r: &rusqlite::Row<'_>) -> rusqlite::Result<DocumentRow> {
    Ok(DocumentRow {
        id: r.get(0)?,
        vendor_id: r.get(1)?,
        purchase_id: r.get(2)?,
        incident_id: r.get(3)?,
        interaction_id: r.get(4)?,
        size: r.get::<_, i64>(5)?.max(0) as u64,
        created_at: from_millis(r.get(6)?),
        updated_at: from_millis(r.get(7)?),
        blob: r.get(8)?,
    })
}

/// The vendor of a record of `table` (`purchases`, `incidents`, `interactions`), if it exists.
pub fn vendor_of(conn: &Connection, table: &'static str, id: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached(&format!("SELECT vendor_id FROM {table} WHERE id = ?1"))?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

/// Inserts a document's row in state `uploading`, size 0.
pub fn insert_uploading(conn: &Connection, row: &DocumentRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO main.documents (id, vendor_id, purchase_id, incident_id, interaction_id,
             state, size, created_at, updated_at, blob)
         VALUES (?1, ?2, ?3, ?4, ?5, 'uploading', 0, ?6, ?6, ?7)",
    )?
    .execute(params![
        row.id,
        row.vendor_id,
        row.purchase_id,
        row.incident_id,
        row.interaction_id,
        millis(row.created_at),
        row.blob
    ])?;
    Ok(())
}

/// Stores sealed chunks of document `id` and sets its size so far; `false` if the document is
/// gone (deleted meanwhile, or its vendor was).
pub fn append_chunks(
    conn: &Connection,
    id: &str,
    chunks: &[(u64, Vec<u8>)],
    size: u64,
) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE main.documents SET size = ?2 WHERE id = ?1 AND state = 'uploading'",
        )?
        .execute(params![id, size as i64])?;
    if n == 0 {
        return Ok(false);
    }
    let mut insert = conn.prepare_cached(
        "INSERT INTO main.document_chunks (document_id, position, blob) VALUES (?1, ?2, ?3)",
    )?;
    for (position, blob) in chunks {
        insert.execute(params![id, *position as i64, blob])?;
    }
    Ok(true)
}

/// Marks an upload complete with its final size and sealed description; `false` if gone.
pub fn complete(conn: &Connection, id: &str, size: u64, blob: &[u8]) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE main.documents SET state = 'complete', size = ?2, blob = ?3
             WHERE id = ?1 AND state = 'uploading'",
        )?
        .execute(params![id, size as i64, blob])?;
    Ok(n == 1)
}

/// Replaces a complete document's sealed description; `false` if there is none.
pub fn update_blob(conn: &Connection, id: &str, now: DateTime<Utc>, blob: &[u8]) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "UPDATE main.documents SET blob = ?3, updated_at = ?2 WHERE id = ?1 AND state = 'complete'",
        )?
        .execute(params![id, millis(now), blob])?;
    Ok(n == 1)
}

/// Deletes a document and its chunks (by cascade), whatever its state; `false` if none.
pub fn delete(conn: &Connection, id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM main.documents WHERE id = ?1")?
        .execute([id])?
        == 1)
}

/// Deletes every upload left `uploading` (a crash cut it); how many.
pub fn purge_uploading(conn: &Connection) -> Result<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM main.documents WHERE state = 'uploading'")?
        .execute([])?)
}

/// A complete document's row.
pub fn get(conn: &Connection, id: &str) -> Result<Option<DocumentRow>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM documents WHERE id = ?1 AND state = 'complete'"
        ))?
        .query_row([id], map)
        .optional()?)
}

/// Complete documents, all or one vendor's, oldest first.
pub fn list(conn: &Connection, vendor_id: Option<&str>) -> Result<Vec<DocumentRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM documents WHERE state = 'complete' AND (?1 IS NULL OR vendor_id = ?1)
         ORDER BY created_at, id"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_map([vendor_id], map)?
        .collect::<rusqlite::Result<_>>()?)
}

/// The bytes every document holds or is uploading, but `except` (what counts against the
/// quota).
pub fn used_bytes(conn: &Connection, except: &str) -> Result<u64> {
    let n: i64 = conn
        .prepare_cached("SELECT coalesce(sum(size), 0) FROM main.documents WHERE id != ?1")?
        .query_row([except], |r| r.get(0))?;
    Ok(n.max(0) as u64)
}

/// The sealed chunk at `position` of document `id`, if there is one.
pub fn chunk(conn: &Connection, id: &str, position: u64) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached(
            "SELECT blob FROM document_chunks WHERE document_id = ?1 AND position = ?2",
        )?
        .query_row(params![id, position as i64], |r| r.get(0))
        .optional()?)
}

/// Whether interaction `id` belongs to `vendor_id` and is shared with it (its clear,
/// MAC-checked columns).
pub fn interaction_shared_with(conn: &Connection, id: &str, vendor_id: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM interactions WHERE id = ?1 AND vendor_id = ?2 AND shared = 1",
        )?
        .query_row([id, vendor_id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Ids of every complete document, oldest first (for export, backup checks, search).
pub fn ids(conn: &Connection) -> Result<Vec<String>> {
    Ok(conn
        .prepare_cached(
            "SELECT id FROM documents WHERE state = 'complete' ORDER BY created_at, id",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?)
}
