//! Snapshots of carnet.db for `carnetd backup` and `carnetd restore`: the online copy, the
//! checks a copy must pass before it is called a backup or put back in place, and telling
//! whether a carnetd has the database open. Only sealed rows are copied; nothing here sees a
//! key, and nothing here ever writes to the live database.
//!
//! The copy holds one read transaction on the source from the first page to the last, so it
//! is one consistent snapshot and never restarts however fast carnetd writes. In WAL mode a
//! reader never blocks the writer: carnetd keeps committing (into the WAL, which cannot be
//! checkpointed past the snapshot until the copy ends).

use std::path::Path;
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, ErrorCode, OpenFlags};

use super::{APPLICATION_ID, CANARY_ID, SCHEMA_VERSION};

/// Pages copied per step (1 MiB at SQLite's default page size). Between steps the copy pauses
/// briefly, so a large vault does not take carnetd's disk for itself (1 s per GiB).
const PAGES_PER_STEP: i32 = 256;
const PAUSE: Duration = Duration::from_millis(1);
/// A step can only be busy on the destination's locks, which nobody else holds; give up
/// rather than spin if that ever stops being true.
const MAX_BUSY_STEPS: u32 = 5_000;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("not a Carnet database ({0})")]
    NotCarnet(String),
    #[error(
        "written by a newer carnetd (schema {found}; this binary knows up to {SCHEMA_VERSION})"
    )]
    Newer { found: i64 },
    #[error("it fails SQLite's integrity check: {0}")]
    Damaged(String),
    #[error("it is not a finished vault (no key canary)")]
    Unfinished,
    /// Reading the source went wrong.
    #[error("{0}")]
    Source(rusqlite::Error),
    /// Writing or re-reading the copy went wrong.
    #[error("{0}")]
    Copy(rusqlite::Error),
}

impl SnapshotError {
    /// Whether SQLite ran out of disk space while writing the copy.
    pub fn is_disk_full(&self) -> bool {
        matches!(self, SnapshotError::Copy(e) if e.sqlite_error_code() == Some(ErrorCode::DiskFull))
    }

    /// Whether SQLite could not write or create the copy's file.
    pub fn is_not_writable(&self) -> bool {
        matches!(self, SnapshotError::Copy(e) if matches!(
            e.sqlite_error_code(),
            Some(ErrorCode::ReadOnly | ErrorCode::CannotOpen | ErrorCode::PermissionDenied)
        ))
    }
}

/// What a checked copy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub schema: i64,
}

/// The schema version, refusing what is not Carnet's or is newer than this binary.
fn check_identity(
    conn: &Connection,
    wrap: fn(rusqlite::Error) -> SnapshotError,
) -> Result<i64, SnapshotError> {
    let app_id: i64 = conn
        .pragma_query_value(None, "application_id", |r| r.get(0))
        .map_err(|e| SnapshotError::NotCarnet(e.to_string()))?;
    if app_id != APPLICATION_ID {
        return Err(SnapshotError::NotCarnet(
            "its application id is not Carnet's".into(),
        ));
    }
    let schema: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(wrap)?;
    if schema > SCHEMA_VERSION {
        return Err(SnapshotError::Newer { found: schema });
    }
    Ok(schema)
}

/// Copies the live database at `source` into `dest`, an empty file the caller created, and
/// returns the schema version of the snapshot. `dest` is left in rollback-journal mode, so it
/// is one self-contained file. The caller checks the copy and syncs it.
pub fn copy(source: &Path, dest: &Path) -> Result<i64, SnapshotError> {
    use SnapshotError::{Copy, Source};
    // Read-write without create: a reader of a WAL database may have to recover it, and a
    // missing file must not become an empty database. `query_only` keeps it a reader.
    let src = Connection::open_with_flags(
        source,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(Source)?;
    src.busy_timeout(Duration::from_secs(10)).map_err(Source)?;
    src.pragma_update(None, "query_only", "ON")
        .map_err(Source)?;
    // The snapshot starts at this read; every page copied below comes from it.
    src.execute_batch("BEGIN").map_err(Source)?;
    src.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| SnapshotError::NotCarnet(e.to_string()))?;
    let schema = check_identity(&src, Source)?;

    let mut dst = Connection::open_with_flags(
        dest,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW,
    )
    .map_err(Copy)?;
    // The copy is a temporary file until it has been checked: it needs no journal of its own,
    // and it is synced once, by the caller, at the end.
    dst.pragma_update(None, "journal_mode", "MEMORY")
        .map_err(Copy)?;
    dst.pragma_update(None, "synchronous", "OFF")
        .map_err(Copy)?;
    {
        let backup = Backup::new(&src, &mut dst).map_err(Copy)?;
        let mut busy = 0;
        loop {
            match backup.step(PAGES_PER_STEP).map_err(Copy)? {
                StepResult::Done => break,
                StepResult::More => std::thread::sleep(PAUSE),
                StepResult::Busy | StepResult::Locked => {
                    busy += 1;
                    if busy > MAX_BUSY_STEPS {
                        return Err(Copy(rusqlite::Error::SqliteFailure(
                            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                            Some("the copy stayed locked".into()),
                        )));
                    }
                    std::thread::sleep(PAUSE);
                }
                _ => std::thread::sleep(PAUSE),
            }
        }
    }
    src.execute_batch("COMMIT").map_err(Source)?;
    drop(src);
    // The pages say "WAL" as the source's do; a backup is better as one file.
    dst.pragma_update(None, "journal_mode", "DELETE")
        .map_err(Copy)?;
    dst.close().map_err(|(_, e)| Copy(e))?;
    Ok(schema)
}

/// Checks a copy: Carnet's, not newer than this binary, intact (`PRAGMA integrity_check`),
/// and a finished vault (its key canary is there). Opens it read-only, never through a link.
pub fn check(path: &Path) -> Result<Checked, SnapshotError> {
    use SnapshotError::Copy;
    let conn = open_read_only(path).map_err(Copy)?;
    let schema = check_identity(&conn, Copy)?;
    let mut stmt = conn.prepare("PRAGMA integrity_check(10)").map_err(Copy)?;
    let problems = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| SnapshotError::Damaged(e.to_string()))?;
    if problems != ["ok"] {
        return Err(SnapshotError::Damaged(problems.join("; ")));
    }
    let canary: i64 = conn
        .query_row(
            "SELECT count(*) FROM meta WHERE key = ?1",
            [CANARY_ID],
            |r| r.get(0),
        )
        .map_err(|e| SnapshotError::NotCarnet(e.to_string()))?;
    if canary != 1 {
        return Err(SnapshotError::Unfinished);
    }
    Ok(Checked { schema })
}

/// Opens a copy to read it, never through a link.
pub fn open_read_only(path: &Path) -> Result<Connection, rusqlite::Error> {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW,
    )
}

/// Whether another process (a running carnetd) has the database at `path` open. Every
/// connection to a WAL database holds a shared lock on it while open, so an exclusive lock
/// is refused exactly when someone else is connected. Asking leaves the file as it was: a WAL
/// left by a killed carnetd is not checkpointed into it on close (`carnetd rekey` asks, and
/// must not change carnet.db).
pub fn in_use(path: &Path) -> Result<bool, rusqlite::Error> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW,
    )?;
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
        true,
    )?;
    conn.busy_timeout(Duration::ZERO)?;
    conn.pragma_update(None, "locking_mode", "EXCLUSIVE")?;
    match conn.execute_batch("BEGIN EXCLUSIVE") {
        Ok(()) => {
            conn.execute_batch("ROLLBACK")?;
            Ok(false)
        }
        Err(e)
            if matches!(
                e.sqlite_error_code(),
                Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
            ) =>
        {
            Ok(true)
        }
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    fn live_db(path: &Path) -> Connection {
        let c = Connection::open(path).unwrap();
        c.pragma_update(None, "journal_mode", "WAL").unwrap();
        c.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        c.execute_batch(
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
             INSERT INTO meta VALUES ('canary', x'00');
             CREATE TABLE t (n INTEGER PRIMARY KEY, pad BLOB NOT NULL);
             BEGIN;
             WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < 4000)
             INSERT INTO t SELECT n, randomblob(1000) FROM s;
             COMMIT;",
        )
        .unwrap();
        c
    }

    /// Many steps while another connection commits between them: the copy still finishes,
    /// and holds exactly the rows of one moment.
    #[test]
    fn a_copy_is_one_snapshot_under_concurrent_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("live.db");
        let _keep_open = live_db(&db);
        let stop = Arc::new(AtomicBool::new(false));
        let writer = {
            let (db, stop) = (db.clone(), stop.clone());
            std::thread::spawn(move || {
                let c = Connection::open(&db).unwrap();
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    c.execute("INSERT INTO t (pad) VALUES (randomblob(1000))", [])
                        .unwrap();
                    n += 1;
                }
                n
            })
        };
        let dest = dir.path().join("copy.db");
        std::fs::File::create(&dest).unwrap();
        let schema = copy(&db, &dest);
        stop.store(true, Ordering::Relaxed);
        let written = writer.join().unwrap();
        assert_eq!(schema.unwrap(), 0);
        assert_eq!(check(&dest).unwrap(), Checked { schema: 0 });
        let copied = open_read_only(&dest).unwrap();
        let (rows, max): (i64, i64) = copied
            .query_row("SELECT count(*), max(n) FROM t", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        // Rows are numbered in commit order: a snapshot has no gap.
        assert_eq!(rows, max);
        assert!(rows >= 4000 && rows <= 4000 + written, "{rows} rows");
        let mode: String = copied
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "delete");
    }

    #[test]
    fn in_use_sees_another_connection() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("live.db");
        let open = live_db(&db);
        assert!(in_use(&db).unwrap());
        drop(open);
        assert!(!in_use(&db).unwrap());
    }
}
