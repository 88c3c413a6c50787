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
    include_str!("../../migrations/0008_access_log_layout.sql"),
    include_str!("../../migrations/0009_promises.sql"),
    include_str!("../../migrations/0010_subscriptions.sql"),
    include_str!("../../migrations/0011_notify.sql"),
    include_str!("../../migrations/0012_documents.sql"),
    include_str!("../../migrations/0013_relay.sql"),
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

#[cfg(test)]
mod tests {
    use rusqlite::params;

    use super::*;
    use crate::crypto::Sealed;
    use crate::store::access::{
        self, AccessRow, access_id_exists, derived_entry_id, derived_position, new_entry_id,
    };

    /// A database at schema 6 (the access log's layout before 0008) with three entries, the
    /// first pruned, and entries from two clients of one vendor.
    fn schema_6() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..6] {
            c.execute_batch(sql).unwrap();
        }
        c.pragma_update(None, "user_version", 6).unwrap();
        for (seq, id, client) in [
            (1, "0000000000001abc", "cli_a"),
            (2, "0000000000002xyz", "cli_a"),
            (3, "0000000000003000", "cli_b"),
        ] {
            c.execute(
                "INSERT INTO access_log (seq, id, at, vendor_id, client_id, blob, mac)
                 VALUES (?1, ?2, ?1, 'ven_a', ?3, x'0102', ?4)",
                params![seq, id, client, vec![seq as u8; 32]],
            )
            .unwrap();
        }
        c.execute("DELETE FROM access_log WHERE seq = 3", [])
            .unwrap();
        c
    }

    #[test]
    fn the_compact_layout_keeps_old_entries_as_they_were_and_never_reuses_a_position() {
        let c = schema_6();
        migrate(&c, "test").unwrap();
        type Row = (i64, Option<String>, String, String, Vec<u8>);
        let rows: Vec<Row> = c
            .prepare(
                "SELECT l.seq, l.id, p.vendor_id, p.client_id, l.mac
                 FROM access_log l JOIN access_parties p ON p.pid = l.party ORDER BY l.seq",
            )
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            rows,
            vec![
                (
                    1,
                    Some("0000000000001abc".into()),
                    "ven_a".into(),
                    "cli_a".into(),
                    vec![1; 32]
                ),
                (
                    2,
                    Some("0000000000002xyz".into()),
                    "ven_a".into(),
                    "cli_a".into(),
                    vec![2; 32]
                ),
            ]
        );
        // The pruned position 3 stays used: the sequence went over with the table.
        let next: i64 = c
            .query_row(
                "SELECT seq FROM sqlite_sequence WHERE name = 'access_log'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(next, 3);
        c.execute(
            "INSERT INTO access_log (at, party, blob) VALUES (0, 1, x'00')",
            [],
        )
        .unwrap();
        assert_eq!(c.last_insert_rowid(), 4);
    }

    #[test]
    fn a_new_entry_stores_no_id_unless_an_imported_one_holds_its_positions() {
        let c = Connection::open_in_memory().unwrap();
        migrate(&c, "test").unwrap();
        let row = |seq: i64, id: String| AccessRow::<()> {
            seq,
            id,
            at: chrono::DateTime::from_timestamp_millis(0).unwrap(),
            vendor_id: "ven_a".into(),
            client_id: "cli_a".into(),
            sealed: Sealed::from_stored(vec![1]),
            mac: vec![0; 16],
        };
        // Entry 1 is new; entry 2 was imported with the id position 3 gives.
        access::append_access(&c, &row(1, new_entry_id(&c, 1).unwrap())).unwrap();
        access::append_access(&c, &row(2, derived_entry_id(3))).unwrap();
        let stored: Vec<Option<String>> = c
            .prepare("SELECT id FROM access_log ORDER BY seq")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(stored, vec![None, Some(derived_entry_id(3))]);
        assert!(access_id_exists(&c, &derived_entry_id(1)).unwrap());
        assert!(access_id_exists(&c, &derived_entry_id(3)).unwrap());
        assert!(!access_id_exists(&c, &derived_entry_id(2)).unwrap());
        // Position 3's own id is taken: its entry gets another, with the same position.
        let third = new_entry_id(&c, 3).unwrap();
        assert_ne!(third, derived_entry_id(3));
        assert_eq!(&third[..12], &derived_entry_id(3)[..12]);
        assert_eq!(derived_position(&third), None);
        access::append_access(&c, &row(3, third.clone())).unwrap();
        assert!(access_id_exists(&c, &third).unwrap());
        assert_eq!(derived_position(&derived_entry_id(3)), Some(3));
        assert_eq!(derived_position("not an id"), None);
    }
}
