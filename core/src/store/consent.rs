//! Rows of the consent flow: authorization codes and refresh tokens taken exactly once (one
//! atomic `UPDATE … RETURNING` each, so a second attempt can tell it came second), token
//! families, and vendor invitations. A credential taken by `UPDATE … RETURNING` reads
//! `main` directly, so each such statement checks the row's MAC itself (`integrity::ok`).

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};

use super::records::{from_millis, millis};
use super::{Result, integrity};
use crate::crypto::Sealed;

pub struct CodeRow<T> {
    pub hash: Vec<u8>,
    pub client_id: String,
    pub grant_id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub sealed: Sealed<T>,
}

pub fn insert_code<T>(c: &Connection, r: &CodeRow<T>) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO main.codes (hash, client_id, grant_id, created_at, expires_at, blob)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        r.hash,
        r.client_id,
        r.grant_id,
        millis(r.created_at),
        millis(r.expires_at),
        r.sealed.as_bytes()
    ])?;
    Ok(())
}

/// What taking a code or a refresh token found.
pub enum Taken<R> {
    /// First use: the row, now marked used.
    Fresh(R),
    /// Used before: the family of tokens it produced (to revoke).
    Reused(Option<String>),
    /// Revoked, or never issued.
    Unknown,
}

/// Marks a code used and returns it, if this is its first use.
pub fn take_code<T>(c: &Connection, hash: &[u8], now: DateTime<Utc>) -> Result<Taken<CodeRow<T>>> {
    let fresh = c
        .prepare_cached(&format!(
            "UPDATE main.codes SET used_at = ?2 WHERE hash = ?1 AND used_at IS NULL AND {}
             RETURNING hash, client_id, grant_id, created_at, expires_at, blob",
            integrity::ok("codes")
        ))?
        .query_row(params![hash, millis(now)], |r| {
            Ok(CodeRow {
                hash: r.get(0)?,
                client_id: r.get(1)?,
                grant_id: r.get(2)?,
                created_at: from_millis(r.get(3)?),
                expires_at: from_millis(r.get(4)?),
                sealed: Sealed::from_stored(r.get(5)?),
            })
        })
        .optional()?;
    if let Some(row) = fresh {
        return Ok(Taken::Fresh(row));
    }
    let used: Option<Option<String>> = c
        .prepare_cached("SELECT family FROM codes WHERE hash = ?1")?
        .query_row([hash], |r| r.get(0))
        .optional()?;
    Ok(match used {
        Some(family) => Taken::Reused(family),
        None => Taken::Unknown,
    })
}

/// Deletes the codes nothing needs any more: unused ones that expired before
/// `unused_before`, used ones that expired before `used_before` (kept as long as the tokens
/// they produced may live, so a replay still revokes them). A code lasts a minute; one
/// presented after its row went is refused as unknown.
pub fn purge_codes(
    c: &Connection,
    unused_before: DateTime<Utc>,
    used_before: DateTime<Utc>,
) -> Result<usize> {
    Ok(c.prepare_cached(
        "DELETE FROM main.codes
         WHERE expires_at < ?1 AND (used_at IS NULL OR expires_at < ?2)",
    )?
    .execute(params![millis(unused_before), millis(used_before)])?)
}

pub fn set_code_family(c: &Connection, hash: &[u8], family: &str) -> Result<()> {
    c.prepare_cached("UPDATE main.codes SET family = ?2 WHERE hash = ?1")?
        .execute(params![hash, family])?;
    Ok(())
}

/// A refresh token taken for rotation.
pub struct RefreshRow<T> {
    pub client_id: String,
    pub grant_id: String,
    pub scopes: u8,
    pub expires_at: DateTime<Utc>,
    pub family: Option<String>,
    pub sealed: Sealed<T>,
}

/// Marks a live refresh token used and returns it, if this is its first use.
pub fn take_refresh<T>(
    c: &Connection,
    hash: &[u8],
    now: DateTime<Utc>,
) -> Result<Taken<RefreshRow<T>>> {
    let fresh = c
        .prepare_cached(&format!(
            "UPDATE main.tokens SET used_at = ?2
             WHERE hash = ?1 AND kind = 'refresh' AND used_at IS NULL AND revoked_at IS NULL
               AND {}
             RETURNING client_id, grant_id, scopes, expires_at, family, blob",
            integrity::ok("tokens")
        ))?
        .query_row(params![hash, millis(now)], |r| {
            Ok(RefreshRow {
                client_id: r.get(0)?,
                grant_id: r.get(1)?,
                scopes: r.get(2)?,
                expires_at: from_millis(r.get(3)?),
                family: r.get(4)?,
                sealed: Sealed::from_stored(r.get(5)?),
            })
        })
        .optional()?;
    if let Some(row) = fresh {
        return Ok(Taken::Fresh(row));
    }
    let used: Option<(Option<i64>, Option<String>)> = c
        .prepare_cached("SELECT used_at, family FROM tokens WHERE hash = ?1 AND kind = 'refresh'")?
        .query_row([hash], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(match used {
        Some((Some(_), family)) => Taken::Reused(family),
        _ => Taken::Unknown,
    })
}

/// A refresh token's row as it stands, used or not: what introspection describes and what
/// revocation checks the owner of. The one read of a refresh-token row outside `take_refresh`.
pub struct RefreshState<T> {
    pub row: RefreshRow<T>,
    pub created_at: DateTime<Utc>,
    pub used: bool,
    pub revoked: bool,
}

/// The refresh token with this hash, if one was issued (and not yet purged).
pub fn refresh_token<T>(c: &Connection, hash: &[u8]) -> Result<Option<RefreshState<T>>> {
    Ok(c.prepare_cached(
        "SELECT client_id, grant_id, scopes, expires_at, family, blob, created_at, used_at, revoked_at
         FROM tokens WHERE hash = ?1 AND kind = 'refresh'",
    )?
    .query_row([hash], |r| {
        Ok(RefreshState {
            row: RefreshRow {
                client_id: r.get(0)?,
                grant_id: r.get(1)?,
                scopes: r.get(2)?,
                expires_at: from_millis(r.get(3)?),
                family: r.get(4)?,
                sealed: Sealed::from_stored(r.get(5)?),
            },
            created_at: from_millis(r.get(6)?),
            used: r.get::<_, Option<i64>>(7)?.is_some(),
            revoked: r.get::<_, Option<i64>>(8)?.is_some(),
        })
    })
    .optional()?)
}

/// Revokes every token of a family.
pub fn revoke_family(c: &Connection, family: &str, now: DateTime<Utc>) -> Result<()> {
    c.prepare_cached(
        "UPDATE main.tokens SET revoked_at = ?2 WHERE family = ?1 AND revoked_at IS NULL",
    )?
    .execute(params![family, millis(now)])?;
    Ok(())
}

pub fn insert_invite(
    c: &Connection,
    hash: &[u8],
    vendor_id: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO main.invites (hash, vendor_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![hash, vendor_id, millis(now), millis(expires_at)])?;
    Ok(())
}

/// Uses an invitation once: the vendor it was made for, if it is unused and unexpired.
pub fn take_invite(c: &Connection, hash: &[u8], now: DateTime<Utc>) -> Result<Option<String>> {
    Ok(c.prepare_cached(&format!(
        "UPDATE main.invites SET used_at = ?2
         WHERE hash = ?1 AND used_at IS NULL AND expires_at > ?2 AND {}
         RETURNING vendor_id",
        integrity::ok("invites")
    ))?
    .query_row(params![hash, millis(now)], |r| r.get(0))
    .optional()?)
}

/// Revokes a client's own refresh token and its family; the family, if it was found.
pub fn revoke_refresh(
    c: &Connection,
    hash: &[u8],
    client_id: &str,
    now: DateTime<Utc>,
) -> Result<Option<Option<String>>> {
    let family: Option<Option<String>> = c
        .prepare_cached(&format!(
            "UPDATE main.tokens SET revoked_at = coalesce(revoked_at, ?3)
             WHERE hash = ?1 AND client_id = ?2 AND kind = 'refresh' AND {}
             RETURNING family",
            integrity::ok("tokens")
        ))?
        .query_row(params![hash, client_id, millis(now)], |r| r.get(0))
        .optional()?;
    if let Some(Some(f)) = &family {
        revoke_family(c, f, now)?;
    }
    Ok(family)
}
