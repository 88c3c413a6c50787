//! The SQLite store: one file, WAL, append-only migrations, one writer thread that batches
//! concurrent writes into one transaction (group commit), and a few reader connections.
//! It never sees a key or plaintext: record content arrives and leaves as `Sealed<T>`.

pub mod access;
pub mod archive;
pub mod consent;
pub mod intents;
mod migrate;
pub mod outbox;
pub mod records;
pub mod snapshot;
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
    #[error("the write was not committed: {0}")]
    Commit(String),
}

impl StoreError {
    /// Whether this is a constraint violation (a foreign key or uniqueness the caller broke).
    pub fn is_constraint(&self) -> bool {
        matches!(self, StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation)
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Identifies Carnet's files (`PRAGMA application_id`, "CRNT").
const APPLICATION_ID: i64 = 0x4352_4E54;
const READERS: usize = 4;

pub struct Store {
    path: PathBuf,
    writer: Writer,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
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
        set_private(path);

        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let r = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            configure(&r, sync)?;
            r.pragma_update(None, "query_only", "ON")?;
            readers.push(Mutex::new(r));
        }
        Ok(Store {
            path: path.to_owned(),
            writer: Writer::start(conn),
            readers,
            next_reader: AtomicUsize::new(0),
        })
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

    /// Queues a write without waiting for it: it commits with the next batch, in order with
    /// every write queued after it. Failures are logged.
    pub fn write_detached<F>(&self, what: &'static str, f: F)
    where
        F: FnOnce(&Connection) -> Result<()> + Send + 'static,
    {
        match self.writer.submit(f) {
            Ok(answer) => {
                tokio::spawn(async move {
                    if let Ok(Err(e)) = answer.await {
                        tracing::error!(error = %e, "{what} failed");
                    }
                });
            }
            Err(e) => tracing::error!(error = %e, "{what} failed"),
        }
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
