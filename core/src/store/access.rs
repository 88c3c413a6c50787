//! Rows of vendor access: clients, grants, tokens, receipts and the access log. Secrets are
//! only ever hashes here; content is sealed by the caller.

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::Result;
use super::records::{from_millis, millis};
use crate::crypto::Sealed;

/// A client row. `T` is the sealed client record.
#[derive(Debug)]
pub struct ClientRow<T> {
    pub id: String,
    pub vendor_id: String,
    pub secret_hash: Vec<u8>,
    /// Connected by the owner (`false`: registered itself through `/oauth/register`).
    pub verified: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sealed: Sealed<T>,
}

pub fn insert_client<T>(c: &Connection, r: &ClientRow<T>) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO main.clients (id, vendor_id, secret_hash, created_at, updated_at, blob, verified)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        r.id,
        r.vendor_id,
        r.secret_hash,
        millis(r.created_at),
        millis(r.updated_at),
        r.sealed.as_bytes(),
        r.verified
    ])?;
    Ok(())
}

pub(super) fn map_client<T>(r: &rusqlite::Row<'_>) -> rusqlite::Result<ClientRow<T>> {
    Ok(ClientRow {
        id: r.get(0)?,
        vendor_id: r.get(1)?,
        secret_hash: r.get(2)?,
        created_at: from_millis(r.get(3)?),
        updated_at: from_millis(r.get(4)?),
        sealed: Sealed::from_stored(r.get(5)?),
        verified: r.get(6)?,
    })
}

pub(super) const CLIENT_COLUMNS: &str =
    "id, vendor_id, secret_hash, created_at, updated_at, blob, verified";

pub fn client<T>(c: &Connection, id: &str) -> Result<Option<ClientRow<T>>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {CLIENT_COLUMNS} FROM clients WHERE id = ?1"
    ))?
    .query_row([id], map_client)
    .optional()?)
}

pub fn client_of_vendor<T>(c: &Connection, vendor_id: &str) -> Result<Option<ClientRow<T>>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {CLIENT_COLUMNS} FROM clients WHERE vendor_id = ?1"
    ))?
    .query_row([vendor_id], map_client)
    .optional()?)
}

pub fn clients<T>(c: &Connection) -> Result<Vec<ClientRow<T>>> {
    Ok(
        c.prepare_cached(&format!("SELECT {CLIENT_COLUMNS} FROM clients"))?
            .query_map([], map_client)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
    )
}

pub fn update_client_secret(
    c: &Connection,
    id: &str,
    secret_hash: &[u8],
    now: DateTime<Utc>,
) -> Result<()> {
    c.prepare_cached("UPDATE main.clients SET secret_hash = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, secret_hash, millis(now)])?;
    Ok(())
}

pub fn update_client_blob<T>(
    c: &Connection,
    id: &str,
    sealed: &Sealed<T>,
    now: DateTime<Utc>,
) -> Result<()> {
    c.prepare_cached("UPDATE main.clients SET blob = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, sealed.as_bytes(), millis(now)])?;
    Ok(())
}

pub fn delete_client(c: &Connection, id: &str) -> Result<bool> {
    Ok(c.prepare_cached("DELETE FROM main.clients WHERE id = ?1")?
        .execute([id])?
        == 1)
}

/// A grant row. `T` is the sealed grant content.
#[derive(Debug)]
pub struct GrantRow<T> {
    pub id: String,
    pub vendor_id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub sealed: Sealed<T>,
}

pub(super) const GRANT_COLUMNS: &str = "id, vendor_id, created_at, expires_at, revoked_at, blob";

pub(super) fn map_grant<T>(r: &rusqlite::Row<'_>) -> rusqlite::Result<GrantRow<T>> {
    Ok(GrantRow {
        id: r.get(0)?,
        vendor_id: r.get(1)?,
        created_at: from_millis(r.get(2)?),
        expires_at: from_millis(r.get(3)?),
        revoked_at: r.get::<_, Option<i64>>(4)?.map(from_millis),
        sealed: Sealed::from_stored(r.get(5)?),
    })
}

pub fn insert_grant<T>(c: &Connection, g: &GrantRow<T>) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO main.grants (id, vendor_id, created_at, updated_at, expires_at, revoked_at, blob)
         VALUES (?1, ?2, ?3, ?3, ?4, NULL, ?5)",
    )?
    .execute(params![
        g.id,
        g.vendor_id,
        millis(g.created_at),
        millis(g.expires_at),
        g.sealed.as_bytes()
    ])?;
    Ok(())
}

pub fn grant<T>(c: &Connection, id: &str) -> Result<Option<GrantRow<T>>> {
    Ok(
        c.prepare_cached(&format!("SELECT {GRANT_COLUMNS} FROM grants WHERE id = ?1"))?
            .query_row([id], map_grant)
            .optional()?,
    )
}

/// All grants, or one vendor's.
pub fn grants<T>(c: &Connection, vendor_id: Option<&str>) -> Result<Vec<GrantRow<T>>> {
    let rows = match vendor_id {
        Some(v) => c
            .prepare_cached(&format!(
                "SELECT {GRANT_COLUMNS} FROM grants WHERE vendor_id = ?1"
            ))?
            .query_map([v], map_grant)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
        None => c
            .prepare_cached(&format!("SELECT {GRANT_COLUMNS} FROM grants"))?
            .query_map([], map_grant)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
    };
    Ok(rows)
}

/// Grants neither revoked nor expired at `now`.
pub fn live_grants<T>(c: &Connection, now: DateTime<Utc>) -> Result<Vec<GrantRow<T>>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {GRANT_COLUMNS} FROM grants WHERE revoked_at IS NULL AND expires_at > ?1"
    ))?
    .query_map([millis(now)], map_grant)?
    .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Revokes a live grant and every token issued under it; `false` if it was not live (an
/// expired grant stays "expired", a revoked one keeps its revocation time).
pub fn revoke_grant(c: &Connection, id: &str, now: DateTime<Utc>) -> Result<bool> {
    let n = c
        .prepare_cached(
            "UPDATE main.grants SET revoked_at = ?2, updated_at = ?2
             WHERE id = ?1 AND revoked_at IS NULL AND expires_at > ?2",
        )?
        .execute(params![id, millis(now)])?;
    // Found through the client's index (a grant's tokens are its vendor's client's): tokens
    // have no index by grant, which every issuance would pay for at a random place.
    c.prepare_cached(
        "UPDATE main.tokens SET revoked_at = ?2
         WHERE client_id IN (SELECT c.id FROM clients c JOIN grants g ON g.vendor_id = c.vendor_id
                             WHERE g.id = ?1)
           AND grant_id = ?1 AND revoked_at IS NULL",
    )?
    .execute(params![id, millis(now)])?;
    Ok(n == 1)
}

/// Rewrites a live grant's content and end (a widening); `false` if it is no longer live.
pub fn update_grant<T>(
    c: &Connection,
    id: &str,
    expires_at: DateTime<Utc>,
    sealed: &Sealed<T>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let n = c
        .prepare_cached(
            "UPDATE main.grants SET blob = ?2, expires_at = ?3, updated_at = ?4
             WHERE id = ?1 AND revoked_at IS NULL AND expires_at > ?4",
        )?
        .execute(params![
            id,
            sealed.as_bytes(),
            millis(expires_at),
            millis(now)
        ])?;
    Ok(n == 1)
}

/// A token row. `T` is the sealed list of categories it covers.
#[derive(Debug)]
pub struct TokenRow<T> {
    pub hash: Vec<u8>,
    pub refresh: bool,
    /// The family of an authorization-code grant's tokens (`None` for client credentials).
    pub family: Option<String>,
    pub client_id: String,
    pub grant_id: String,
    pub scopes: u8,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub sealed: Sealed<T>,
}

pub fn insert_token<T>(c: &Connection, t: &TokenRow<T>) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO main.tokens (hash, kind, client_id, grant_id, scopes, created_at, expires_at, revoked_at, blob, family)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9)",
    )?
    .execute(params![
        t.hash,
        if t.refresh { "refresh" } else { "access" },
        t.client_id,
        t.grant_id,
        t.scopes,
        millis(t.created_at),
        millis(t.expires_at),
        t.sealed.as_bytes(),
        t.family
    ])?;
    Ok(())
}

/// Calls `each` with every token that may still be used at `now` (the grant is checked
/// separately), one row at a time: a restart never holds them all, nor reads a dead one.
pub fn live_tokens<T, E: From<super::StoreError>>(
    c: &Connection,
    now: DateTime<Utc>,
    mut each: impl FnMut(TokenRow<T>) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let mut stmt = c
        .prepare_cached(
            "SELECT hash, kind, client_id, grant_id, scopes, created_at, expires_at, blob, family
             FROM tokens WHERE expires_at > ?1 AND revoked_at IS NULL AND used_at IS NULL",
        )
        .map_err(super::StoreError::from)?;
    let rows = stmt
        .query_map([millis(now)], |r| {
            Ok(TokenRow {
                hash: r.get(0)?,
                refresh: r.get::<_, String>(1)? == "refresh",
                client_id: r.get(2)?,
                grant_id: r.get(3)?,
                scopes: r.get(4)?,
                created_at: from_millis(r.get(5)?),
                expires_at: from_millis(r.get(6)?),
                sealed: Sealed::from_stored(r.get(7)?),
                family: r.get(8)?,
            })
        })
        .map_err(super::StoreError::from)?;
    for row in rows {
        each(row.map_err(super::StoreError::from)?)?;
    }
    Ok(())
}

pub fn revoke_token(c: &Connection, hash: &[u8], now: DateTime<Utc>) -> Result<()> {
    c.prepare_cached(
        "UPDATE main.tokens SET revoked_at = ?2 WHERE hash = ?1 AND revoked_at IS NULL",
    )?
    .execute(params![hash, millis(now)])?;
    Ok(())
}

pub fn revoke_client_tokens(c: &Connection, client_id: &str, now: DateTime<Utc>) -> Result<()> {
    c.prepare_cached(
        "UPDATE main.tokens SET revoked_at = ?2 WHERE client_id = ?1 AND revoked_at IS NULL",
    )?
    .execute(params![client_id, millis(now)])?;
    Ok(())
}

/// Deletes the token rows nothing needs any more: those that expired before `before` (they
/// can never be used again), and revoked ones never used — a revoked access token, or a
/// refresh token revoked before it was used, is refused the same whether its row is there or
/// not. A used refresh token stays until it expires: its replay is what revokes its family.
pub fn purge_tokens(c: &Connection, before: DateTime<Utc>) -> Result<usize> {
    let expired = c
        .prepare_cached("DELETE FROM main.tokens WHERE expires_at < ?1")?
        .execute([millis(before)])?;
    let revoked = c
        .prepare_cached("DELETE FROM main.tokens WHERE revoked_at IS NOT NULL AND used_at IS NULL")?
        .execute([])?;
    Ok(expired + revoked)
}

/// A receipt row. `T` is the sealed signed receipt.
#[derive(Debug)]
pub struct ReceiptRow<T> {
    pub id: String,
    pub vendor_id: String,
    pub grant_id: String,
    pub created_at: DateTime<Utc>,
    pub sealed: Sealed<T>,
}

pub fn insert_receipt<T>(c: &Connection, r: &ReceiptRow<T>) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO main.receipts (id, vendor_id, grant_id, created_at, updated_at, blob)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
    )?
    .execute(params![
        r.id,
        r.vendor_id,
        r.grant_id,
        millis(r.created_at),
        r.sealed.as_bytes()
    ])?;
    Ok(())
}

pub(super) const RECEIPT_COLUMNS: &str = "id, vendor_id, grant_id, created_at, blob";

pub(super) fn map_receipt<T>(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReceiptRow<T>> {
    Ok(ReceiptRow {
        id: r.get(0)?,
        vendor_id: r.get(1)?,
        grant_id: r.get(2)?,
        created_at: from_millis(r.get(3)?),
        sealed: Sealed::from_stored(r.get(4)?),
    })
}

pub fn receipts<T>(c: &Connection, vendor_id: Option<&str>) -> Result<Vec<ReceiptRow<T>>> {
    let map = map_receipt::<T>;
    let sql = format!("SELECT {RECEIPT_COLUMNS} FROM receipts");
    let rows = match vendor_id {
        Some(v) => c
            .prepare_cached(&format!(
                "{sql} WHERE vendor_id = ?1 ORDER BY created_at DESC, id"
            ))?
            .query_map([v], map)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
        None => c
            .prepare_cached(&format!("{sql} ORDER BY created_at DESC, id"))?
            .query_map([], map)?
            .collect::<rusqlite::Result<Vec<_>>>()?,
    };
    Ok(rows)
}

/// Vendors that have receipts (their receipt keys are published).
pub fn receipt_vendors(c: &Connection) -> Result<Vec<String>> {
    Ok(
        c.prepare_cached("SELECT DISTINCT vendor_id FROM receipts ORDER BY vendor_id")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?,
    )
}

/// An access-log row. `T` is the sealed entry.
#[derive(Debug)]
pub struct AccessRow<T> {
    pub seq: i64,
    /// The entry's id: stored for entries written before schema 8 (or imported with another
    /// id), otherwise `derived_entry_id(seq)`.
    pub id: String,
    pub at: DateTime<Utc>,
    pub vendor_id: String,
    pub client_id: String,
    pub sealed: Sealed<T>,
    /// The chain MAC (see `access::chain`); empty on entries written before the chain.
    pub mac: Vec<u8>,
}

/// The id of the entry at position `seq` when it stores none: the position (big-endian)
/// then two zero bytes, in the usual id alphabet and length. Entries written before schema 8
/// had random bytes there and keep their stored id.
pub fn derived_entry_id(seq: i64) -> String {
    let mut bytes = [0u8; carnet_schemas::ids::ID_RANDOM_BYTES];
    bytes[..8].copy_from_slice(&seq.to_be_bytes());
    data_encoding::BASE32HEX_NOPAD
        .encode(&bytes)
        .to_ascii_lowercase()
}

/// The id of a new entry at `seq`: its position's, unless an imported entry already holds
/// that id (imports keep the archive's ids); then the position with random bytes, stored.
pub fn new_entry_id(c: &Connection, seq: i64) -> Result<String> {
    let mut id = derived_entry_id(seq);
    let mut taken = c.prepare_cached("SELECT 1 FROM access_log WHERE id = ?1")?;
    while taken.query_row([&id], |_| Ok(())).optional()?.is_some() {
        let mut bytes = [0u8; carnet_schemas::ids::ID_RANDOM_BYTES];
        bytes[..8].copy_from_slice(&seq.to_be_bytes());
        crate::credential::fill_random(&mut bytes[8..]);
        id = data_encoding::BASE32HEX_NOPAD
            .encode(&bytes)
            .to_ascii_lowercase();
    }
    Ok(id)
}

/// The party (vendor and client) an entry names, added the first time it is seen.
fn party(c: &Connection, vendor_id: &str, client_id: &str) -> Result<i64> {
    let found = c
        .prepare_cached("SELECT pid FROM access_parties WHERE vendor_id = ?1 AND client_id = ?2")?
        .query_row([vendor_id, client_id], |r| r.get(0))
        .optional()?;
    if let Some(pid) = found {
        return Ok(pid);
    }
    c.prepare_cached("INSERT INTO main.access_parties (vendor_id, client_id) VALUES (?1, ?2)")?
        .execute([vendor_id, client_id])?;
    Ok(c.last_insert_rowid())
}

/// Appends an entry at the position `r.seq` the chain gave it; its id is stored only when it
/// is not the one its position gives.
pub fn append_access<T>(c: &Connection, r: &AccessRow<T>) -> Result<()> {
    let party = party(c, &r.vendor_id, &r.client_id)?;
    let id = (r.id != derived_entry_id(r.seq)).then_some(r.id.as_str());
    c.prepare_cached(
        "INSERT INTO main.access_log (seq, at, party, blob, mac, id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        r.seq,
        millis(r.at),
        party,
        r.sealed.as_bytes(),
        r.mac,
        id
    ])?;
    Ok(())
}

/// The columns `map_access` reads, from `access_log l JOIN access_parties p`.
pub(super) const ACCESS_COLUMNS: &str =
    "l.seq, l.id, l.at, p.vendor_id, p.client_id, l.blob, l.mac";

/// `FROM` for `ACCESS_COLUMNS` (`CROSS JOIN`: the log is always the outer loop, so a scan
/// in log order streams instead of sorting).
pub(super) const ACCESS_FROM: &str = "access_log l CROSS JOIN access_parties p ON p.pid = l.party";

/// An access-log row; an entry not chained yet has an empty MAC.
pub fn map_access<T>(r: &rusqlite::Row<'_>) -> rusqlite::Result<AccessRow<T>> {
    let seq = r.get(0)?;
    Ok(AccessRow {
        seq,
        id: r
            .get::<_, Option<String>>(1)?
            .unwrap_or_else(|| derived_entry_id(seq)),
        at: from_millis(r.get(2)?),
        vendor_id: r.get(3)?,
        client_id: r.get(4)?,
        sealed: Sealed::from_stored(r.get(5)?),
        mac: r.get::<_, Option<Vec<u8>>>(6)?.unwrap_or_default(),
    })
}

/// The position `id` is derived from, if it is one `derived_entry_id` makes.
pub fn derived_position(id: &str) -> Option<i64> {
    let bytes = data_encoding::BASE32HEX_NOPAD
        .decode(id.to_ascii_uppercase().as_bytes())
        .ok()?;
    let seq = i64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
    (derived_entry_id(seq) == id).then_some(seq)
}

/// Whether an entry has this id (stored, or derived from its position).
pub fn access_id_exists(c: &Connection, id: &str) -> Result<bool> {
    let stored = c
        .prepare_cached("SELECT 1 FROM access_log WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some();
    if stored {
        return Ok(true);
    }
    let Some(seq) = derived_position(id) else {
        return Ok(false);
    };
    Ok(
        c.prepare_cached("SELECT 1 FROM access_log WHERE seq = ?1 AND id IS NULL")?
            .query_row([seq], |_| Ok(()))
            .optional()?
            .is_some(),
    )
}

/// Every entry in log order, to be stepped one row at a time (`map_access` reads a row):
/// checking the chain never holds more than one entry.
pub fn access_chain_statement(c: &Connection) -> Result<rusqlite::CachedStatement<'_>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {ACCESS_COLUMNS} FROM {ACCESS_FROM} ORDER BY l.seq"
    ))?)
}

/// The entry at position `seq`.
pub fn access_entry<T>(c: &Connection, seq: i64) -> Result<Option<AccessRow<T>>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {ACCESS_COLUMNS} FROM {ACCESS_FROM} WHERE l.seq = ?1"
    ))?
    .query_row([seq], map_access)
    .optional()?)
}

/// At most `limit` entries after position `after`, in log order.
pub fn access_chunk<T>(c: &Connection, after: i64, limit: usize) -> Result<Vec<AccessRow<T>>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {ACCESS_COLUMNS} FROM {ACCESS_FROM} WHERE l.seq > ?1 ORDER BY l.seq LIMIT ?2"
    ))?
    .query_map(params![after, limit as i64], map_access)?
    .collect::<rusqlite::Result<Vec<_>>>()?)
}

/// Removes every entry up to position `seq` (retention, behind its checkpoint).
pub fn delete_access_through(c: &Connection, seq: i64) -> Result<usize> {
    Ok(
        c.prepare_cached("DELETE FROM main.access_log WHERE seq <= ?1")?
            .execute([seq])?,
    )
}

pub fn set_access_mac(c: &Connection, seq: i64, mac: &[u8]) -> Result<()> {
    c.prepare_cached("UPDATE main.access_log SET mac = ?2 WHERE seq = ?1")?
        .execute(params![seq, mac])?;
    Ok(())
}
