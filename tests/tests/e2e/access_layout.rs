//! The access log's compact layout (schema 8): a vault whose log was written in the layout
//! before (a stored id, vendor and client ids per row, 0002 + 0005) upgrades in place; every
//! old entry then lists, verifies and exports as it did, and new entries chain after them
//! without storing an id. An attacker who edits the party table, or the party an entry
//! names, is caught by `carnet audit verify`.

use std::path::Path;

use carnet_core::store::access::derived_entry_id;
use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, TestServer};
use serde_json::Value;

use crate::export::{Key, export};

/// Turns the access log back into the layout before schema 8 (and the schema version with it,
/// to 7; the tables of later schemas, empty here, go too): every entry with its id stored, its
/// vendor and client ids in its row, `access_parties` gone. Everything else (the chain's MACs,
/// the head, the checkpoint) is kept as it is.
pub(crate) fn downgrade_access_log(c: &rusqlite::Connection) {
    for table in ["promises", "subscriptions"] {
        let count: i64 = c
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(count, 0, "a vault of schema 7 holds no {table}");
        c.execute_batch(&format!("DROP TABLE {table};")).unwrap();
    }
    c.execute_batch(
        "DROP TABLE relay_offers; DROP TABLE relay_outbox; DROP TABLE relay_intents;
         DROP TABLE document_chunks; DROP TABLE documents;
         DROP TABLE notify_outbox; DROP TABLE notify_channels;",
    )
    .unwrap();
    c.execute_batch(
        "CREATE TABLE access_log_old (
             seq       INTEGER PRIMARY KEY AUTOINCREMENT,
             id        TEXT NOT NULL UNIQUE,
             at        INTEGER NOT NULL,
             vendor_id TEXT NOT NULL,
             client_id TEXT NOT NULL,
             blob      BLOB NOT NULL,
             mac       BLOB
         ) STRICT;",
    )
    .unwrap();
    type OldRow = (
        i64,
        Option<String>,
        i64,
        String,
        String,
        Vec<u8>,
        Option<Vec<u8>>,
    );
    let rows: Vec<OldRow> = c
        .prepare(
            "SELECT l.seq, l.id, l.at, p.vendor_id, p.client_id, l.blob, l.mac
             FROM access_log l JOIN access_parties p ON p.pid = l.party ORDER BY l.seq",
        )
        .unwrap()
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for (seq, id, at, vendor, client, blob, mac) in rows {
        let id = id.unwrap_or_else(|| derived_entry_id(seq));
        c.execute(
            "INSERT INTO access_log_old VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            rusqlite::params![seq, id, at, vendor, client, blob, mac],
        )
        .unwrap();
    }
    c.execute_batch(
        "DROP TABLE access_log;
         DROP TABLE access_parties;
         ALTER TABLE access_log_old RENAME TO access_log;
         CREATE INDEX access_log_by_vendor ON access_log(vendor_id, seq);",
    )
    .unwrap();
    c.pragma_update(None, "user_version", 7).unwrap();
}

fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("carnet.db")).unwrap()
}

/// What the owner sees of the log: the listing, one vendor's listing, the check, and the
/// exported entries.
fn seen(
    s: &TestServer,
    v: &VendorApp,
    key: &Key,
    out: &Path,
) -> (Vec<Value>, Vec<Value>, Value, Value) {
    let listing = s.list_all("/v1/access-log");
    let vendor = s.list_all(&format!("/v1/access-log?vendor={}", v.vendor_id));
    let mut checked = s.check_access_log();
    for timing in ["checked_at", "duration_ms"] {
        checked.as_object_mut().unwrap().remove(timing);
    }
    let doc: Value = serde_json::from_slice(&export(s, out, key)).unwrap();
    (listing, vendor, checked, doc["access_log"].clone())
}

#[test]
fn a_log_in_the_old_layout_upgrades_and_every_entry_lists_verifies_and_exports_as_before() {
    let s = TestServer::spawn_logging_every_read();
    let acme = VendorApp::connect(&s, "Acme");
    acme.grant(&s, &["intents:read", "profile:read"], None);
    let bolt = VendorApp::connect(&s, "Bolt");
    bolt.grant(&s, &["profile:read"], None);
    acme.alternating_reads(6);
    let t = bolt.token();
    assert_eq!(bolt.get(&t, "/v1/vendor/profile").status, 200);
    let keys = tempfile::tempdir().unwrap();
    let key = Key::new(keys.path(), "key.txt");
    let before = seen(&s, &acme, &key, &keys.path().join("a.age"));
    assert_eq!(before.2["ok"], true, "{}", before.2);
    let old_entries = before.2["entries"].as_u64().unwrap();
    assert!(old_entries >= 8, "{}", before.2);
    let dir = s.stop();
    downgrade_access_log(&db(dir.path()));
    let vendor_column: i64 = db(dir.path())
        .query_row(
            "SELECT count(*) FROM pragma_table_info('access_log') WHERE name = 'vendor_id'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(vendor_column, 1, "the log is in the old layout");

    let s = TestServer::restart_logging_every_read(dir);
    let acme = VendorApp {
        base: s.base.clone(),
        ..acme
    };
    let after = seen(&s, &acme, &key, &keys.path().join("b.age"));
    assert_eq!(after.0, before.0, "the listing");
    assert_eq!(after.1, before.1, "one vendor's listing");
    assert_eq!(after.2, before.2, "the check");
    assert_eq!(after.3, before.3, "the exported entries");
    assert_eq!(
        db(s.path())
            .query_row(
                "SELECT count(*) FROM access_log WHERE id IS NULL",
                [],
                |r| { r.get::<_, i64>(0) }
            )
            .unwrap(),
        0,
        "old entries keep their stored id"
    );

    // New entries chain after the old ones, store no id, and carry 16-byte MACs.
    acme.alternating_reads(3);
    let checked = s.check_access_log();
    assert_eq!(checked["ok"], true, "{checked}");
    assert!(
        checked["entries"].as_u64().unwrap() >= old_entries + 3,
        "{checked}"
    );
    let listing = s.list_all("/v1/access-log");
    assert_eq!(&listing[listing.len() - before.0.len()..], &before.0[..]);
    let (stored_id, mac_len, parties): (Option<String>, i64, i64) = db(s.path())
        .query_row(
            "SELECT id, length(mac), (SELECT count(*) FROM access_parties)
             FROM access_log ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!(stored_id, None);
    assert_eq!(mac_len, 16);
    assert_eq!(parties, 2, "one row per vendor and client");
    // In the archive, a new entry's id is its position's; old ones export as before.
    let doc: Value = serde_json::from_slice(&export(&s, &keys.path().join("c.age"), &key)).unwrap();
    let exported = doc["access_log"].as_array().unwrap();
    let newest = exported.last().unwrap();
    assert_eq!(
        newest["id"],
        derived_entry_id(newest["seq"].as_i64().unwrap()),
        "a new entry's id is its position's"
    );
    assert_eq!(
        &exported[..before.3.as_array().unwrap().len()],
        before.3.as_array().unwrap()
    );
}
