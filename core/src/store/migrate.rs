//! Append-only numbered migrations, applied in order on open. A database whose version is
//! higher than the last migration here was written by a newer carnetd and is refused.

use rusqlite::Connection;

use super::{Result, StoreError};

/// Migration files in order; the schema version is the number applied. Never edit one that
/// has shipped: add the next file.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_vault.sql"),
    include_str!("../../migrations/0002_vendor_access.sql"),
    include_str!("../../migrations/0003_intents.sql"),
    include_str!("../../migrations/0004_consent.sql"),
    include_str!("../../migrations/0005_webhooks.sql"),
    include_str!("../../migrations/0006_row_macs.sql"),
    include_str!("../../migrations/0007_token_housekeeping.sql"),
];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

pub fn migrate(conn: &Connection, shown_path: &str) -> Result<()> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > SCHEMA_VERSION {
        return Err(StoreError::Newer {
            path: shown_path.to_owned(),
            found: current,
            known: SCHEMA_VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = i as i64 + 1;
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "applied database migration");
    }
    Ok(())
}
