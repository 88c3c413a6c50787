//! Rollback detection. The vault's generation is a counter kept twice, in carnet.db (`meta`)
//! and in `vault.generation` beside the key envelope, as the same one-line record
//! `carnet-generation v1 N TAG`, where TAG = HMAC-SHA256(k_gen, "carnet generation" ‖ N) under
//! a key derived from the vault key: copying a record needs no key, making one does.
//!
//! Each time the vault is opened with its key (start, unlock, reopen), the database's
//! generation is checked against the file's and both advance by one: the database first, then
//! the file, each synced. `carnetd backup`, which may not hold the key, advances them after its
//! snapshot with a *ticket*: the records N+1 … N+`TICKETS` that the open vault precomputed into
//! `meta`. So a backup, or any older copy, put back alone is behind the file.
//!
//! A database behind the file is refused. One ahead of it is a crash between the two writes:
//! accepted, and the file catches up. A missing file is recreated, with a warning. A record
//! whose MAC fails is never trusted. What this cannot see: carnet.db and `vault.generation`
//! replaced together, or a writer who copies rows (a newer record, a ticket) into an old file.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use data_encoding::HEXLOWER;
use ring::hmac;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use rusqlite::types::ValueRef;

use super::VaultPaths;
use crate::crypto::{Keys, Purpose, RowMac};
use crate::fsutil;
use crate::store::{Store, StoreError, records};

pub const GENERATION_FILE: &str = "vault.generation";
/// The database's record, in `meta`.
const RECORD_KEY: &str = "generation";
/// The precomputed records a keyless `carnetd backup` installs: the base generation (8 bytes,
/// big-endian) and then the tags of base+1 … base+TICKETS.
const TICKETS_KEY: &str = "generation.tickets";
/// Backups one start (or unlock) allows: a year of daily backups, 32 KiB in `meta`.
pub const TICKETS: u64 = 1000;
const PREFIX: &str = "carnet-generation v1 ";
const LABEL: &[u8] = b"carnet generation";
const TAG_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum GenerationError {
    #[error(
        "{db} is at generation {db_n}, behind {file} at generation {file_n}: this database is older than the vault's last start (an older copy was put back alone), so carnetd will not serve it. Put the newest backup in place with `carnetd restore --from BACKUP --force` (it sets {GENERATION_FILE} too); or, to serve this older database deliberately, delete {file} and start again (it is recreated at generation {next})",
        next = db_n + 1
    )]
    Behind {
        db: String,
        db_n: u64,
        file: String,
        file_n: u64,
    },
    #[error(
        "{file} is not a generation record made with this vault's key (it was edited, or comes from another vault), so carnetd cannot tell whether {db} was rolled back. If you did not edit it, check who else can write the data directory; to trust carnet.db as it is, delete {file} and start again"
    )]
    FileForged { file: String, db: String },
    #[error(
        "the generation record in {db} does not verify under this vault's key: the database was edited without the key. Put a backup in place with `carnetd restore --from BACKUP --force`"
    )]
    DbForged { db: String },
    /// (The error is part of the message, not a `source`: printed with its chain, it would
    /// appear twice.)
    #[error("{path}: {error}")]
    Io { path: String, error: io::Error },
    #[error("{0}")]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for GenerationError {
    fn from(e: rusqlite::Error) -> Self {
        GenerationError::Store(e.into())
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> GenerationError + '_ {
    move |error| GenerationError::Io {
        path: path.display().to_string(),
        error,
    }
}

/// `DATA_DIR/vault.generation`.
pub fn file(paths: &VaultPaths) -> PathBuf {
    paths.dir.join(GENERATION_FILE)
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Record {
    n: u64,
    tag: [u8; TAG_LEN],
}

fn message(n: u64) -> Vec<u8> {
    [LABEL, &n.to_be_bytes()].concat()
}

fn tag(key: &hmac::Key, n: u64) -> [u8; TAG_LEN] {
    let mut tag = [0u8; TAG_LEN];
    tag.copy_from_slice(hmac::sign(key, &message(n)).as_ref());
    tag
}

impl Record {
    fn make(key: &hmac::Key, n: u64) -> Record {
        Record {
            n,
            tag: tag(key, n),
        }
    }

    fn verifies(&self, key: &hmac::Key) -> bool {
        hmac::verify(key, &message(self.n), &self.tag).is_ok()
    }

    fn encode(&self) -> Vec<u8> {
        format!("{PREFIX}{} {}\n", self.n, HEXLOWER.encode(&self.tag)).into_bytes()
    }

    fn parse(bytes: &[u8]) -> Option<Record> {
        let text = std::str::from_utf8(bytes).ok()?.strip_suffix('\n')?;
        let (n, tag) = text.strip_prefix(PREFIX)?.split_once(' ')?;
        if !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Record {
            n: n.parse().ok()?,
            tag: HEXLOWER.decode(tag.as_bytes()).ok()?.try_into().ok()?,
        })
    }
}

fn mac_key(keys: &Keys) -> hmac::Key {
    hmac::Key::new(
        hmac::HMAC_SHA256,
        keys.derive(Purpose::Generation, b"").expose(),
    )
}

/// The `meta` row MAC (see `rowmac`) of the database's record `record`: a keyless
/// `carnetd backup` installs it with the record, so carnetd's row check accepts the row.
fn row_mac(rows: &RowMac, record: &[u8]) -> Vec<u8> {
    rows.sign(
        "meta",
        [
            ValueRef::Text(RECORD_KEY.as_bytes()),
            ValueRef::Blob(record),
        ],
    )
}

/// Each ticket is the record's tag and then the row MAC of its `meta` row.
const TICKET_LEN: usize = 2 * TAG_LEN;

fn tickets(key: &hmac::Key, rows: &RowMac, base: u64) -> Vec<u8> {
    let mut blob = Vec::with_capacity(8 + TICKET_LEN * TICKETS as usize);
    blob.extend_from_slice(&base.to_be_bytes());
    for n in base + 1..=base + TICKETS {
        let record = Record::make(key, n);
        blob.extend_from_slice(&record.tag);
        blob.extend_from_slice(&row_mac(rows, &record.encode()));
    }
    blob
}

/// The record of generation `n` in a ticket blob, and the row MAC of its `meta` row.
fn ticket(blob: &[u8], n: u64) -> Option<(Record, Vec<u8>)> {
    let base = u64::from_be_bytes(blob.get(..8)?.try_into().ok()?);
    let index = usize::try_from(n.checked_sub(base)?.checked_sub(1)?).ok()?;
    let start = 8usize.checked_add(index.checked_mul(TICKET_LEN)?)?;
    let entry = blob.get(start..start.checked_add(TICKET_LEN)?)?;
    let tag = entry[..TAG_LEN].try_into().ok()?;
    Some((Record { n, tag }, entry[TAG_LEN..].to_vec()))
}

fn read_file(path: &Path) -> Result<Option<Vec<u8>>, GenerationError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// Writes the file (atomically, 0600, synced, never through a link). Written by root (a
/// `carnetd backup` from root's crontab) in a data directory root does not own, it is given
/// to the directory's owner: carnetd must still be able to read it.
fn write_file(paths: &VaultPaths, record: &[u8]) -> Result<(), GenerationError> {
    let path = file(paths);
    fsutil::write_private(&path, record, true).map_err(io_err(&path))?;
    use std::os::unix::fs::MetadataExt;
    if let (Ok(dir), Ok(written)) = (std::fs::metadata(&paths.dir), std::fs::metadata(&path))
        && written.uid() == 0
        && dir.uid() != 0
    {
        std::os::unix::fs::chown(&path, Some(dir.uid()), Some(dir.gid())).map_err(io_err(&path))?;
    }
    Ok(())
}

/// Makes `n` the generation: the record and its tickets in the database, then the file.
async fn install(
    paths: &VaultPaths,
    store: &Store,
    key: &hmac::Key,
    rows: &RowMac,
    n: u64,
) -> Result<(), GenerationError> {
    let record = Record::make(key, n).encode();
    let blob = tickets(key, rows, n);
    let for_db = record.clone();
    store
        .write(move |c| {
            records::meta_put(c, RECORD_KEY, &for_db)?;
            records::meta_put(c, TICKETS_KEY, &blob)
        })
        .await?;
    write_file(paths, &record)
}

/// A new vault starts at generation 1 (`carnetd init`; any `vault.generation` left over from
/// an earlier vault is replaced).
pub async fn start(paths: &VaultPaths, store: &Store, keys: &Keys) -> Result<(), GenerationError> {
    install(paths, store, &mac_key(keys), &RowMac::new(keys), 1).await
}

/// Checks the database against `vault.generation` and advances both by one; run each time
/// the vault is opened with its key. Returns the new generation.
pub async fn advance(
    paths: &VaultPaths,
    store: &Store,
    keys: &Keys,
) -> Result<u64, GenerationError> {
    let key = mac_key(keys);
    let db = paths.db_file().display().to_string();
    let path = file(paths);
    let in_db = match store.read(|c| records::meta_get(c, RECORD_KEY))? {
        None => None,
        Some(bytes) => match Record::parse(&bytes) {
            Some(r) if r.verifies(&key) => Some(r.n),
            _ => return Err(GenerationError::DbForged { db }),
        },
    };
    let in_file = match read_file(&path)? {
        None => None,
        Some(bytes) => match Record::parse(&bytes) {
            Some(r) if r.verifies(&key) => Some(r.n),
            _ => {
                return Err(GenerationError::FileForged {
                    file: path.display().to_string(),
                    db,
                });
            }
        },
    };
    let db_n = in_db.unwrap_or(0);
    match (in_file, in_db) {
        (Some(file_n), _) if file_n > db_n => {
            return Err(GenerationError::Behind {
                db,
                db_n,
                file: path.display().to_string(),
                file_n,
            });
        }
        (Some(file_n), _) if file_n < db_n => tracing::info!(
            database = db_n,
            file = file_n,
            "{GENERATION_FILE} was behind the database (carnetd stopped between the two writes); it catches up"
        ),
        (Some(_), _) => {}
        (None, Some(_)) => tracing::warn!(
            file = %path.display(),
            generation = db_n,
            "{GENERATION_FILE} is missing: recreating it from the database's generation (if it was removed to put an older carnet.db back, that database is now served)"
        ),
        (None, None) => tracing::info!(
            "this vault has no generation yet (it was made before rollback detection): starting at generation 1"
        ),
    }
    let next = db_n + 1;
    install(paths, store, &key, &RowMac::new(keys), next).await?;
    tracing::info!(generation = next, "vault generation advanced");
    Ok(next)
}

/// What `after_backup` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterBackup {
    /// The database and the file are at this generation now.
    Advanced(u64),
    /// No ticket was left for the next generation (the vault was not opened with its key
    /// since it was made, or since `TICKETS` backups): nothing changed.
    NoTicket,
}

/// After `carnetd backup`'s snapshot: installs the next ticket into the live database, then
/// writes the file, so that the snapshot is behind both. Needs no key. The file never moves
/// back: it is written only if it is behind what was installed.
pub fn after_backup(paths: &VaultPaths) -> Result<AfterBackup, GenerationError> {
    let mut conn = Connection::open_with_flags(
        paths.db_file(),
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_NOFOLLOW,
    )?;
    conn.busy_timeout(Duration::from_secs(10))?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    // IMMEDIATE: the read and the write are one step against carnetd's own writer.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current = records::meta_get(&tx, RECORD_KEY)?.and_then(|b| Record::parse(&b));
    let next = match current {
        Some(c) => records::meta_get(&tx, TICKETS_KEY)?.and_then(|t| ticket(&t, c.n + 1)),
        None => None,
    };
    let Some((next, mac)) = next else {
        return Ok(AfterBackup::NoTicket);
    };
    let record = next.encode();
    // This connection has none of carnetd's row triggers: the row MAC comes with the ticket.
    tx.execute(
        "UPDATE main.meta SET value = ?2, mac = ?3 WHERE key = ?1",
        rusqlite::params![RECORD_KEY, record, mac],
    )?;
    tx.commit()?;
    drop(conn);
    let in_file = read_file(&file(paths))?.and_then(|b| Record::parse(&b));
    if in_file.is_none_or(|f| f.n < next.n) {
        write_file(paths, &record)?;
    }
    Ok(AfterBackup::Advanced(next.n))
}

/// The generation record a database holds (a backup being restored), as it is stored.
pub fn recorded(conn: &Connection) -> Result<Option<Vec<u8>>, GenerationError> {
    Ok(records::meta_get(conn, RECORD_KEY)?)
}

/// The generation in a record, for telling the person (unchecked: there may be no key).
pub fn number(record: &[u8]) -> Option<u64> {
    Record::parse(record).map(|r| r.n)
}

/// Makes `vault.generation` match a database just put in place (`carnetd restore`): its record,
/// or no file when that database has none (a backup made before rollback detection).
pub fn set_file(paths: &VaultPaths, record: Option<&[u8]>) -> Result<(), GenerationError> {
    match record {
        Some(r) => write_file(paths, r),
        None => {
            let path = file(paths);
            match std::fs::remove_file(&path) {
                Ok(()) => fsutil::sync_dir(&paths.dir).map_err(io_err(&paths.dir)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
                Err(e) => Err(io_err(&path)(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::VaultKey;

    fn key() -> hmac::Key {
        mac_key(&Keys::new(VaultKey::generate().unwrap()))
    }

    #[test]
    fn a_record_round_trips_and_only_its_key_makes_it() {
        let (k, other) = (key(), key());
        let r = Record::make(&k, 42);
        let parsed = Record::parse(&r.encode()).unwrap();
        assert_eq!(parsed, r);
        assert!(parsed.verifies(&k));
        assert!(!parsed.verifies(&other));
        let mut bumped = parsed.clone();
        bumped.n = 43;
        assert!(!bumped.verifies(&k), "the number is under the MAC");
        for bad in [
            &b""[..],
            b"carnet-generation v1 42\n",
            b"carnet-generation v1 +42 00\n",
            b"carnet-generation v1 42 zz\n",
        ] {
            assert_eq!(Record::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn tickets_are_the_records_of_the_next_generations_with_their_row_macs() {
        let keys = Keys::new(VaultKey::generate().unwrap());
        let (k, rows) = (mac_key(&keys), RowMac::new(&keys));
        let blob = tickets(&k, &rows, 7);
        for n in [8, 7 + TICKETS] {
            let (record, mac) = ticket(&blob, n).unwrap();
            assert_eq!(record, Record::make(&k, n));
            assert_eq!(mac, row_mac(&rows, &record.encode()));
        }
        assert_eq!(ticket(&blob, 7), None);
        assert_eq!(ticket(&blob, 8 + TICKETS), None);
        assert_eq!(ticket(&blob[..5], 8), None);
    }
}
