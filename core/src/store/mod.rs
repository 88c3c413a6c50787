//! The SQLite store: one file, WAL, append-only migrations, one writer thread that batches
//! concurrent writes into one transaction (group commit), and a few reader connections.
//! It never sees plaintext: record content arrives and leaves as `Sealed<T>`. The only key it
//! holds is the row-MAC key of an open vault (`integrity::RowKey`), which its connections use
//! to MAC the clear columns of every row they write and to refuse rows whose MAC fails.

pub mod access;
pub mod access_reads;
pub mod archive;
pub mod consent;
pub mod documents;
pub mod integrity;
pub mod intents;
mod migrate;
pub mod outbox;
pub mod records;
pub mod relay;
pub mod snapshot;
pub mod state;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use rusqlite::{Connection, OpenFlags};

pub use migrate::SCHEMA_VERSION;
pub use writer::Writer;

/// `PRAGMA synchronous` for the writer. FULL (the default) makes a 2xx mean "on disk".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    #[default]
    Full,
    Normal,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "{path} is not a Carnet database ({reason}); point --data-dir at a Carnet data directory or move the file away"
    )]
    NotCarnet { path: String, reason: String },
    #[error(
        "{path} was written by a newer carnetd (schema {found}; this binary knows up to {known}): upgrade carnetd, or restore a backup made by this version"
    )]
    Newer {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("the database writer has stopped; restart carnetd (see its log for the cause)")]
    WriterGone,
    /// A read run off the async workers did not finish (it panicked or was cancelled).
    #[error("a read task failed: {0}")]
    Task(String),
    #[error("the write was not committed: {0}")]
    Commit(String),
    #[error(
        "{path} holds triggers carnetd never creates ({names}): someone changed the file to run their SQL inside carnetd's writes. Restore a backup (`carnetd restore`), or inspect and drop them with sqlite3"
    )]
    ForeignTriggers { path: String, names: String },
}

impl StoreError {
    /// Whether this is a constraint violation (a foreign key or uniqueness the caller broke).
    pub fn is_constraint(&self) -> bool {
        matches!(self, StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The `meta` row of the canary: a sealed constant that proves the vault key belongs to this
/// database (see `vault::prove_key`).
pub const CANARY_ID: &str = "canary";

/// Identifies Carnet's files (`PRAGMA application_id`, "CRNT").
const APPLICATION_ID: i64 = 0x4352_4E54;
const READERS: usize = 4;
/// The page cache of a scan's own connection (`Store::scan`), in KiB.
pub const SCAN_CACHE_KIB: i64 = 256;
/// How far the writer may fall behind before `write_behind` waits (about 30 ms of token
/// inserts on the project's machine; see `write_behind`).
pub const WRITE_BEHIND_LIMIT: usize = 512;

pub struct Store {
    path: PathBuf,
    writer: Writer,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    row_key: integrity::RowKey,
}

fn configure(conn: &Connection, sync: Synchronous) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(
        None,
        "synchronous",
        match sync {
            Synchronous::Full => "FULL",
            Synchronous::Normal => "NORMAL",
        },
    )?;
    Ok(())
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path, sync: Synchronous) -> Result<Store> {
        let shown = path.display().to_string();
        let not_carnet = |e: rusqlite::Error| StoreError::NotCarnet {
            path: shown.clone(),
            reason: e.to_string(),
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // The first real read tells a foreign or damaged file apart.
        let app_id: i64 = conn
            .pragma_query_value(None, "application_id", |r| r.get(0))
            .map_err(not_carnet)?;
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(not_carnet)?;
        if app_id != APPLICATION_ID && !(app_id == 0 && tables == 0) {
            return Err(StoreError::NotCarnet {
                path: shown,
                reason: "its application id is not Carnet's".into(),
            });
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        configure(&conn, sync)?;
        if app_id == 0 {
            conn.pragma_update(None, "application_id", APPLICATION_ID)?;
        }
        migrate::migrate(&conn, &shown)?;
        let foreign = integrity::foreign_triggers(&conn)?;
        if !foreign.is_empty() {
            return Err(StoreError::ForeignTriggers {
                path: shown,
                names: foreign.join(", "),
            });
        }
        let row_key = integrity::RowKey::default();
        integrity::register(&conn, &row_key)?;
        integrity::guard_reads(&conn)?;
        integrity::guard_writes(&conn)?;
        set_private(path);

        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let r = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            configure(&r, sync)?;
            integrity::register(&r, &row_key)?;
            integrity::guard_reads(&r)?;
            r.pragma_update(None, "query_only", "ON")?;
            readers.push(Mutex::new(r));
        }
        Ok(Store {
            path: path.to_owned(),
            writer: Writer::start(conn),
            readers,
            next_reader: AtomicUsize::new(0),
            row_key,
        })
    }

    /// Gives the connections the row-MAC key of the vault (at unlock), or takes it away (at
    /// lock). Without it, reading or writing a protected table fails.
    pub fn set_row_key(&self, key: Option<crate::crypto::RowMac>) {
        self.row_key.set(key);
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` in the next write batch's transaction; returns once that batch is committed.
    /// An error from `f` rolls back `f`'s own changes only.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Connection) -> Result<T, E> + Send + 'static,
    {
        self.writer.write(f).await
    }

    /// Queues a write now (ordered before anything queued later) and returns its completion.
    pub fn submit<T, F>(&self, f: F) -> Result<tokio::sync::oneshot::Receiver<Result<T>>>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.writer.submit(f)
    }

    /// Queues a write without waiting for it to commit: it commits with the next batch, in
    /// order with every write queued after it, and failures are logged. When the writer is
    /// behind by more than `WRITE_BEHIND_LIMIT` writes, this waits for its write after all:
    /// callers that write faster than the disk can commit are slowed down to its pace,
    /// instead of a queue (and the writes a crash would lose) growing without limit.
    ///
    /// The write is queued when this is called, not when the returned future is awaited, so
    /// it is ordered before anything the caller does next.
    pub fn write_behind<F>(&self, what: &'static str, f: F) -> impl Future<Output = ()> + use<F>
    where
        F: FnOnce(&Connection) -> Result<()> + Send + 'static,
    {
        async fn report(what: &str, answer: tokio::sync::oneshot::Receiver<Result<()>>) {
            if let Ok(Err(e)) = answer.await {
                tracing::error!(error = %e, "{what} failed");
            }
        }
        let wait = match self.writer.submit(f) {
            Ok(answer) if self.writer.backlog() > WRITE_BEHIND_LIMIT => Some(answer),
            Ok(answer) => {
                tokio::spawn(report(what, answer));
                None
            }
            Err(e) => {
                tracing::error!(error = %e, "{what} failed");
                None
            }
        };
        async move {
            if let Some(answer) = wait {
                report(what, answer).await;
            }
        }
    }

    /// How many writes are queued or running.
    pub fn backlog(&self) -> usize {
        self.writer.backlog()
    }

    /// Runs a long scan (the access log's check) on a connection of its own, opened for it
    /// and closed after: one read transaction (one snapshot), a page cache of at most
    /// `SCAN_CACHE_KIB`, and the shared readers stay free. Whatever the scan reads, its memory
    /// is given back when it ends.
    pub fn scan<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        let c = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(StoreError::from)?;
        c.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(StoreError::from)?;
        c.pragma_update(None, "cache_size", -SCAN_CACHE_KIB)
            .map_err(StoreError::from)?;
        let snapshot = c.unchecked_transaction().map_err(StoreError::from)?;
        let out = f(&snapshot);
        drop(snapshot);
        out
    }

    /// Runs a read on one of the reader connections, on the calling thread. Keep it short
    /// (indexed lookups); wrap long scans in `spawn_blocking`.
    pub fn read<T, E>(&self, f: impl FnOnce(&Connection) -> Result<T, E>) -> Result<T, E> {
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        for i in 0..READERS {
            if let Ok(conn) = self.readers[(start + i) % READERS].try_lock() {
                return f(&conn);
            }
        }
        let conn = self.readers[start % READERS]
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        f(&conn)
    }

    /// Stops the writer after the batches already queued are committed.
    pub fn close(&self) {
        self.writer.stop();
    }
}

/// The database and its WAL hold only sealed content, but there is no reason for others to
/// read them either.
fn set_private(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600));
    }
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::task::{Context, Waker};

    use super::*;

    /// Polls `f` once: whether it finished without waiting.
    fn done_at_once(f: impl Future<Output = ()>) -> bool {
        let mut f = pin!(f);
        f.as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
            .is_ready()
    }

    #[tokio::test]
    async fn write_behind_waits_only_when_the_writer_is_far_behind() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("carnet.db"), Synchronous::Normal).unwrap();

        // Not behind: queued and left to commit.
        assert!(done_at_once(store.write_behind("a test write", |_| Ok(()))));
        store.write(|_| Ok::<_, StoreError>(())).await.unwrap();

        // Hold the writer, and queue more than the limit behind it.
        let (release, held) = std::sync::mpsc::channel::<()>();
        let _holding = store
            .submit(move |_| {
                let _ = held.recv();
                Ok(())
            })
            .unwrap();
        let queued: Vec<_> = (0..WRITE_BEHIND_LIMIT)
            .map(|_| store.submit(|_| Ok(())).unwrap())
            .collect();
        assert!(store.backlog() > WRITE_BEHIND_LIMIT);

        // Far behind: the caller waits for its own write, which needs the writer back.
        let paced = store.write_behind("a paced write", |c| {
            c.execute_batch("CREATE TABLE paced (x INTEGER)")
                .map_err(StoreError::from)
        });
        let mut paced = pin!(paced);
        assert!(
            paced
                .as_mut()
                .poll(&mut Context::from_waker(Waker::noop()))
                .is_pending()
        );
        release.send(()).unwrap();
        paced.await;
        for q in queued {
            q.await.unwrap().unwrap();
        }
        assert_eq!(store.backlog(), 0);
        let exists: i64 = store
            .read(|c| {
                c.query_row(
                    "SELECT count(*) FROM sqlite_master WHERE name = 'paced'",
                    [],
                    |r| r.get(0),
                )
            })
            .unwrap();
        assert_eq!(
            exists, 1,
            "the paced write committed before the caller went on"
        );
    }
}
