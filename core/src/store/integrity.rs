//! Where the row MACs of `vault::rowmac` apply, and how carnetd's connections enforce them
//! without every query doing it by hand.
//!
//! `PROTECTED` lists each table whose clear columns decide access, and those columns (all of
//! them but the sealed `blob`, which its AEAD already authenticates). Every carnetd connection
//! gets two SQL functions over the row key held in a `RowKey` slot (set at unlock, cleared at
//! lock; without it they fail, so nothing is read or written unchecked):
//!
//! - `carnet_row_mac(table, c1, c2, …)`: the MAC of a row;
//! - `carnet_row_ok(table, mac, c1, c2, …)`: whether a row's MAC holds; a row that fails is
//!   named in the log (table and id, never content).
//!
//! Both are `SQLITE_DIRECTONLY`: triggers or views stored in the file (which anyone who can
//! write it could add) cannot call them, and carnetd refuses a file that holds triggers at all.
//! On each connection carnetd then creates, in its private TEMP schema (never in the file):
//!
//! - a view per protected table with the table's own name, which TEMP shadows: every
//!   unqualified `SELECT … FROM grants` reads only rows whose MAC holds. Writes name
//!   `main.grants` explicitly (a view cannot be written), and `UPDATE … RETURNING` of a
//!   credential (codes, refresh tokens, invites) checks `ok(table)` itself;
//! - (writer) triggers that MAC every inserted row, and re-MAC an updated row only if its
//!   old MAC held: an update cannot bless what someone changed behind carnetd's back. In
//!   `meta`, where carnetd always writes the whole value, an update is blessed as written.
//!
//! Upgrades: migration 6 adds the `mac` columns; the first unlock afterwards MACs every row
//! (`seal_all`) and records that it did inside the sealed canary (`vault::prove_key`), so
//! from then on a missing MAC is a failure, not "not upgraded yet".

use std::sync::{Arc, RwLock};

use rusqlite::Connection;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;

use super::Result;
use crate::crypto::RowMac;

/// A table whose clear columns are MAC'd, and those columns; the first is the row's id.
pub struct Protected {
    pub table: &'static str,
    pub columns: &'static [&'static str],
}

/// Never reorder or change a list: stored MACs would stop matching. A column added by a later
/// migration to one of these tables joins its list in that same release, with `seal_all`
/// re-run by the upgrade.
pub const PROTECTED: &[Protected] = &[
    Protected {
        table: "meta",
        columns: &["key", "value"],
    },
    Protected {
        table: "owner_tokens",
        columns: &["hash", "created_at"],
    },
    Protected {
        table: "clients",
        columns: &[
            "id",
            "vendor_id",
            "secret_hash",
            "verified",
            "created_at",
            "updated_at",
        ],
    },
    Protected {
        table: "grants",
        columns: &[
            "id",
            "vendor_id",
            "created_at",
            "updated_at",
            "expires_at",
            "revoked_at",
        ],
    },
    Protected {
        table: "tokens",
        columns: &[
            "hash",
            "kind",
            "client_id",
            "grant_id",
            "scopes",
            "created_at",
            "expires_at",
            "revoked_at",
            "family",
            "used_at",
        ],
    },
    Protected {
        table: "codes",
        columns: &[
            "hash",
            "client_id",
            "grant_id",
            "created_at",
            "expires_at",
            "used_at",
            "family",
        ],
    },
    Protected {
        table: "invites",
        columns: &["hash", "vendor_id", "created_at", "expires_at", "used_at"],
    },
    Protected {
        table: "receipts",
        columns: &["id", "vendor_id", "grant_id", "created_at", "updated_at"],
    },
    Protected {
        table: "intents",
        columns: &[
            "id",
            "state",
            "created_at",
            "updated_at",
            "activation_announced",
            "expiry_announced",
        ],
    },
    Protected {
        table: "offers",
        columns: &[
            "id",
            "intent_id",
            "vendor_id",
            "state",
            "created_at",
            "updated_at",
        ],
    },
    Protected {
        table: "interactions",
        columns: &["id", "vendor_id", "shared", "created_at", "updated_at"],
    },
    Protected {
        table: "purchases",
        columns: &["id", "vendor_id", "created_at", "updated_at"],
    },
    Protected {
        table: "incidents",
        columns: &["id", "vendor_id", "created_at", "updated_at"],
    },
    Protected {
        table: "outbox",
        columns: &[
            "id",
            "vendor_id",
            "created_at",
            "updated_at",
            "next_attempt_at",
            "attempts",
            "state",
            "last_status",
            "last_error",
            "delivered_at",
        ],
    },
    Protected {
        table: "promises",
        columns: &["id", "vendor_id", "created_at", "updated_at"],
    },
    Protected {
        table: "notify_channels",
        columns: &["id", "created_at", "updated_at"],
    },
    Protected {
        table: "notify_outbox",
        columns: &[
            "id",
            "channel_id",
            "created_at",
            "updated_at",
            "next_attempt_at",
            "attempts",
            "state",
            "last_status",
            "last_error",
            "delivered_at",
        ],
    },
    Protected {
        table: "subscriptions",
        columns: &["id", "vendor_id", "created_at", "updated_at"],
    },
    Protected {
        table: "documents",
        columns: &[
            "id",
            "vendor_id",
            "purchase_id",
            "incident_id",
            "interaction_id",
            "state",
            "size",
            "created_at",
            "updated_at",
        ],
    },
    Protected {
        table: "relay_intents",
        columns: &[
            "intent_id",
            "bucket",
            "revision",
            "ended",
            "created_at",
            "updated_at",
        ],
    },
    Protected {
        table: "relay_outbox",
        columns: &[
            "id",
            "intent_id",
            "created_at",
            "updated_at",
            "next_attempt_at",
            "attempts",
            "state",
            "last_status",
            "last_error",
            "delivered_at",
        ],
    },
    Protected {
        table: "relay_offers",
        columns: &[
            "id",
            "intent_id",
            "directory_vendor",
            "remote_id",
            "state",
            "created_at",
            "updated_at",
        ],
    },
];

/// Tables where an update always writes the whole protected value (so it is blessed as
/// written, even over a row that failed).
const REPLACED_WHOLE: &[&str] = &["meta"];

fn spec(table: &str) -> &'static Protected {
    PROTECTED
        .iter()
        .find(|p| p.table == table)
        .unwrap_or_else(|| panic!("{table} is not a protected table"))
}

/// The row key of an open vault, shared by every connection's SQL functions.
#[derive(Clone, Default)]
pub struct RowKey(Arc<RwLock<Option<Arc<RowMac>>>>);

impl RowKey {
    pub fn set(&self, key: Option<RowMac>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = key.map(Arc::new);
    }

    fn get(&self) -> rusqlite::Result<Arc<RowMac>> {
        self.0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| {
                rusqlite::Error::UserFunctionError(
                    "the vault is locked: rows cannot be checked or written without its key".into(),
                )
            })
    }
}

/// How a row is named in the log and in reports: its id, or a hash column in base64url (the
/// id its sealed blob is bound to).
fn row_name(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Blob(b) => data_encoding::BASE64URL_NOPAD.encode(b),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Null => "(null)".into(),
        ValueRef::Real(r) => r.to_string(),
    }
}

fn values<'a>(ctx: &'a Context<'_>, from: usize) -> impl Iterator<Item = ValueRef<'a>> {
    (from..ctx.len()).map(|i| ctx.get_raw(i))
}

/// Registers `carnet_row_mac` and `carnet_row_ok` on a connection.
pub(super) fn register(conn: &Connection, key: &RowKey) -> rusqlite::Result<()> {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DIRECTONLY;
    let k = key.clone();
    conn.create_scalar_function("carnet_row_mac", -1, flags, move |ctx| {
        let table = ctx.get::<String>(0)?;
        Ok(k.get()?.sign(&table, values(ctx, 1)))
    })?;
    let k = key.clone();
    conn.create_scalar_function("carnet_row_ok", -1, flags, move |ctx| {
        let table = ctx.get::<String>(0)?;
        let mac = ctx.get::<Option<Vec<u8>>>(1)?;
        let ok = k.get()?.verify(&table, mac.as_deref(), values(ctx, 2));
        if !ok {
            tracing::error!(
                table = %table,
                row = %row_name(ctx.get_raw(2)),
                "a row failed its integrity check (changed without the vault key): refused; `carnet audit verify` lists such rows"
            );
        }
        Ok(ok)
    })?;
    Ok(())
}

/// `carnet_row_ok(…)` over `table`'s columns, for a query's WHERE on `main.table`.
pub fn ok(table: &str) -> String {
    let p = spec(table);
    format!(
        "carnet_row_ok('{}', mac, {})",
        p.table,
        p.columns.join(", ")
    )
}

fn mac_of(p: &Protected, prefix: &str) -> String {
    let cols: Vec<String> = p.columns.iter().map(|c| format!("{prefix}{c}")).collect();
    format!("carnet_row_mac('{}', {})", p.table, cols.join(", "))
}

/// Triggers stored in the file. carnetd creates none there (a file holding one is refused):
/// one would run inside carnetd's own writes.
pub(super) fn foreign_triggers(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    conn.prepare("SELECT name FROM main.sqlite_master WHERE type = 'trigger' ORDER BY name")?
        .query_map([], |r| r.get(0))?
        .collect()
}

/// The TEMP views that hide every row whose MAC fails (readers and writer).
pub(super) fn guard_reads(conn: &Connection) -> rusqlite::Result<()> {
    let mut sql = String::new();
    for p in PROTECTED {
        sql.push_str(&format!(
            "CREATE TEMP VIEW {t} AS SELECT * FROM main.{t} WHERE {ok};\n",
            t = p.table,
            ok = ok(p.table)
        ));
    }
    conn.execute_batch(&sql)
}

/// The TEMP triggers that MAC what the writer inserts and updates.
pub(super) fn guard_writes(conn: &Connection) -> rusqlite::Result<()> {
    let mut sql = String::new();
    for p in PROTECTED {
        let t = p.table;
        let old_ok = format!(
            "carnet_row_ok('{t}', OLD.mac, {})",
            p.columns
                .iter()
                .map(|c| format!("OLD.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let new_mac = if REPLACED_WHOLE.contains(&t) {
            mac_of(p, "NEW.")
        } else {
            format!(
                "CASE WHEN {old_ok} THEN {} ELSE OLD.mac END",
                mac_of(p, "NEW.")
            )
        };
        sql.push_str(&format!(
            "CREATE TEMP TRIGGER carnet_mac_insert_{t} AFTER INSERT ON main.{t} BEGIN
                 UPDATE main.{t} SET mac = {ins} WHERE rowid = NEW.rowid;
             END;
             CREATE TEMP TRIGGER carnet_mac_update_{t} AFTER UPDATE OF {cols} ON main.{t} BEGIN
                 UPDATE main.{t} SET mac = {new_mac} WHERE rowid = NEW.rowid;
             END;\n",
            ins = mac_of(p, "NEW."),
            cols = p.columns.join(", "),
        ));
    }
    conn.execute_batch(&sql)
}

/// MACs every row as it stands (the first unlock after the upgrade that added the MACs).
pub fn seal_all(conn: &Connection) -> Result<u64> {
    let mut n = 0;
    for p in PROTECTED {
        n += conn.execute(
            &format!("UPDATE main.{} SET mac = {}", p.table, mac_of(p, "")),
            [],
        )? as u64;
    }
    Ok(n)
}

/// A row whose MAC fails.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TamperedRow {
    pub table: &'static str,
    pub id: String,
}

/// What `check` found.
#[derive(Debug, Default)]
pub struct Checked {
    pub rows: u64,
    pub tampered: Vec<TamperedRow>,
}

/// Checks every protected row of the database behind `conn` (any connection: this reads
/// `main` directly and computes the MACs here).
pub fn check(conn: &Connection, key: &RowMac) -> Result<Checked> {
    let mut out = Checked::default();
    for p in PROTECTED {
        let mut stmt = conn.prepare(&format!(
            "SELECT mac, {} FROM main.{} ORDER BY rowid",
            p.columns.join(", "),
            p.table
        ))?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            out.rows += 1;
            let mac: Option<Vec<u8>> = r.get(0)?;
            let vals = (1..=p.columns.len()).map(|i| r.get_ref(i));
            let vals: Vec<ValueRef<'_>> = vals.collect::<rusqlite::Result<_>>()?;
            if !key.verify(p.table, mac.as_deref(), vals.iter().copied()) {
                out.tampered.push(TamperedRow {
                    table: p.table,
                    id: row_name(vals[0]),
                });
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Keys, VaultKey};
    use crate::store::{Store, StoreError, Synchronous, records};

    fn raw(store: &Store) -> Connection {
        Connection::open(store.path()).unwrap()
    }

    #[tokio::test]
    async fn an_update_re_macs_only_a_row_whose_old_mac_held() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("carnet.db"), Synchronous::Normal).unwrap();
        let keys = Keys::new(VaultKey::generate().unwrap());
        store.set_row_key(Some(RowMac::new(&keys)));
        for hash in [b"a".to_vec(), b"b".to_vec()] {
            store
                .write(move |c| {
                    c.execute(
                        "INSERT INTO main.owner_tokens (hash, created_at) VALUES (?1, 1)",
                        [hash],
                    )
                    .map_err(StoreError::from)
                })
                .await
                .unwrap();
        }
        let key = RowMac::new(&keys);
        assert!(store.read(|c| check(c, &key)).unwrap().tampered.is_empty());
        assert_eq!(store.read(records::owner_token_hashes).unwrap().len(), 2);

        // Changed behind carnetd's back, then updated by carnetd: still refused.
        raw(&store)
            .execute(
                "UPDATE owner_tokens SET created_at = 7 WHERE hash = x'61'",
                [],
            )
            .unwrap();
        store
            .write(|c| {
                c.execute("UPDATE main.owner_tokens SET created_at = 8", [])
                    .map_err(StoreError::from)
            })
            .await
            .unwrap();
        let found = store.read(|c| check(c, &key)).unwrap();
        assert_eq!(found.rows, 2, "the two tokens (every other table is empty)");
        assert_eq!(
            found.tampered,
            vec![TamperedRow {
                table: "owner_tokens",
                id: data_encoding::BASE64URL_NOPAD.encode(b"a"),
            }]
        );
        assert_eq!(
            store.read(records::owner_token_hashes).unwrap(),
            vec![b"b".to_vec()]
        );

        // A missing MAC is a failure too; without the key nothing is read at all.
        raw(&store)
            .execute("UPDATE owner_tokens SET mac = NULL WHERE hash = x'62'", [])
            .unwrap();
        assert!(store.read(records::owner_token_hashes).unwrap().is_empty());
        store.set_row_key(None);
        assert!(store.read(records::owner_token_hashes).is_err());
        store.close();
    }
}
