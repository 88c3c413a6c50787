//! `carnetd backup` and `carnetd restore`: a consistent snapshot of carnet.db taken while
//! carnetd serves (or not), checked before it is called a backup, written atomically with mode
//! 0600 — never through a symbolic link, never over an older backup unless asked, never into
//! the data directory — and put back in place only when no carnetd has the database open.
//! The snapshot holds sealed records only: it never needs, and never touches, the vault key;
//! restore opens the key (identity mode) only to prove the backup belongs to it. After the
//! snapshot, backup advances the vault's generation (`vault/generation.rs`) so that the
//! snapshot put back alone is seen as a rollback; restore sets `vault.generation` to the
//! restored database's.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::fsutil;
use crate::store::snapshot::{self, SnapshotError};
use crate::vault::generation::{self, AfterBackup, GenerationError};
use crate::vault::{self, Found, KeyMode, Secret, VaultError, VaultPaths};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "there is no vault in {dir}: nothing to back up; point --data-dir at the directory carnetd serves"
    )]
    NoVault { dir: String },
    #[error(
        "there is no vault key in {dir} ({}): copy the key files kept with the backup there first ({}, and {} or {}), then run restore again",
        vault::KEY_FILE,
        vault::KEY_FILE,
        vault::IDENTITY_FILE,
        vault::RECOVERY_FILE
    )]
    NoKeyFile { dir: String },
    #[error("{0}")]
    Vault(#[from] VaultError),
    #[error(
        "{path} is a symbolic link; refusing to write through it: give the real path, or remove the link"
    )]
    Symlink { path: String },
    #[error("{dir} does not exist or is not a directory; create it first, or choose another --out")]
    NoParent { dir: String },
    #[error("{path} is a directory; give a file name, such as {path}/carnet-backup.db")]
    IsDirectory { path: String },
    #[error("{path} exists and is not a regular file; choose another --out")]
    NotAFile { path: String },
    #[error(
        "{path} already exists; refusing to overwrite an older backup: choose another name, or pass --force to replace it"
    )]
    Exists { path: String },
    #[error(
        "{path} is inside the data directory {dir}; a backup there is lost with the vault: write it to another directory, ideally another disk"
    )]
    InsideDataDir { path: String, dir: String },
    #[error("{path} is the vault's identity file; choose another --out")]
    IsIdentity { path: String },
    #[error("cannot write {path}: {reason}; choose a directory you can write to")]
    NotWritable { path: String, reason: String },
    #[error("no space left on the disk of {path}; free some space, or write the backup elsewhere")]
    DiskFull { path: String },
    #[error(
        "{path} changed while the backup was written (another program writes in that directory); nothing was written: run the backup again"
    )]
    Raced { path: String },
    #[error(
        "cannot back up {path}: {cause}; is --data-dir the directory carnetd serves, and this carnetd as new as the one serving it?"
    )]
    Source { path: String, cause: SnapshotError },
    #[error("cannot write the backup {path}: {cause}; check that disk, then run the backup again")]
    CopyFailed { path: String, cause: SnapshotError },
    #[error(
        "the copy of {db} failed its check ({cause}); nothing was written. Run the backup again; if it fails again, stop carnetd and check carnet.db (sqlite3 carnet.db 'PRAGMA integrity_check')"
    )]
    Unverified { db: String, cause: SnapshotError },
    #[error(
        "{path} cannot be restored: {cause}; restore a file written by `carnetd backup` of this vault, with a carnetd at least as new as the one that wrote it"
    )]
    BadBackup { path: String, cause: SnapshotError },
    #[error(
        "{path} was sealed under another vault key than {key_file}; put the {} kept with this backup (and {} or {}) in the data directory, then run restore again",
        vault::KEY_FILE,
        vault::IDENTITY_FILE,
        vault::RECOVERY_FILE
    )]
    KeyMismatch { path: String, key_file: String },
    #[error(
        "{db} already exists; pass --force to replace it with the backup (what it holds now is lost)"
    )]
    DbExists { db: String },
    #[error(
        "{path} is the vault's own {}; restore from a backup file",
        vault::DB_FILE
    )]
    SameFile { path: String },
    #[error(
        "a carnetd has {db} open; stop it first (systemctl stop carnetd, docker stop …), then run restore again"
    )]
    InUse { db: String },
    #[error("{path} not found; give the path of a file written by `carnetd backup`")]
    NoBackup { path: String },
    #[error("{path}: {cause}")]
    Io { path: String, cause: io::Error },
    #[error("{0}")]
    Generation(#[from] GenerationError),
}

fn shown(p: &Path) -> String {
    p.display().to_string()
}

/// Maps an I/O error on a file being written to what a person can act on.
fn write_error(path: &Path, e: io::Error) -> BackupError {
    match e.kind() {
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => {
            BackupError::DiskFull { path: shown(path) }
        }
        io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem => {
            BackupError::NotWritable {
                path: shown(path),
                reason: e.to_string(),
            }
        }
        _ => BackupError::Io {
            path: shown(path),
            cause: e,
        },
    }
}

/// What `backup` wrote.
#[derive(Debug)]
pub struct Written {
    pub file: PathBuf,
    pub bytes: u64,
    pub schema: i64,
    pub mode: KeyMode,
    /// The live vault's generation after the backup (the snapshot is one behind it), or why
    /// it could not advance: the backup itself is good either way.
    pub generation: Result<AfterBackup, GenerationError>,
}

/// A temporary file beside the destination, removed (with any SQLite side file) unless it
/// was renamed into place.
struct Temp {
    path: PathBuf,
    keep: bool,
}

impl Temp {
    /// Creates the file with mode 0600 and `O_EXCL`, which refuses a link planted at its name.
    fn create(dir: &Path, name: &str) -> Result<(Temp, File), BackupError> {
        let path = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let _ = fs::remove_file(&path);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| write_error(&path, e))?;
        Ok((Temp { path, keep: false }, file))
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        if !self.keep {
            for suffix in ["", "-journal", "-wal", "-shm"] {
                let mut p = self.path.as_os_str().to_owned();
                p.push(suffix);
                let _ = fs::remove_file(PathBuf::from(p));
            }
        }
    }
}

/// Checks where a backup may go: not a link, not a directory, not an existing file unless
/// `force`, in an existing directory outside the data directory. Returns that directory and
/// the file name.
fn destination(
    paths: &VaultPaths,
    out: &Path,
    force: bool,
) -> Result<(PathBuf, String), BackupError> {
    let Some(name) = out.file_name().and_then(|n| n.to_str()).map(str::to_owned) else {
        return Err(BackupError::IsDirectory { path: shown(out) });
    };
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    match fs::symlink_metadata(out) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(BackupError::Symlink { path: shown(out) });
        }
        Ok(m) if m.is_dir() => return Err(BackupError::IsDirectory { path: shown(out) }),
        Ok(m) if !m.is_file() => return Err(BackupError::NotAFile { path: shown(out) }),
        Ok(_) if !force => return Err(BackupError::Exists { path: shown(out) }),
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(write_error(out, e)),
    }
    let real_parent = match fs::canonicalize(&parent) {
        Ok(p) if p.is_dir() => p,
        _ => {
            return Err(BackupError::NoParent {
                dir: shown(&parent),
            });
        }
    };
    if let Ok(data_dir) = fs::canonicalize(&paths.dir)
        && real_parent.starts_with(&data_dir)
    {
        return Err(BackupError::InsideDataDir {
            path: shown(out),
            dir: shown(&paths.dir),
        });
    }
    if fs::canonicalize(&paths.identity).is_ok_and(|id| id == real_parent.join(&name)) {
        return Err(BackupError::IsIdentity { path: shown(out) });
    }
    Ok((parent, name))
}

/// Writes a checked snapshot of the vault's database to `out`.
pub fn backup(paths: &VaultPaths, out: &Path, force: bool) -> Result<Written, BackupError> {
    let no_vault = || BackupError::NoVault {
        dir: shown(&paths.dir),
    };
    let mode = match vault::detect(paths)? {
        Found::Vault(mode) => mode,
        Found::Nothing => return Err(no_vault()),
    };
    let db = paths.db_file();
    if !db.is_file() {
        return Err(no_vault());
    }
    let (dir, name) = destination(paths, out, force)?;
    let (mut temp, file) = Temp::create(&dir, &name)?;

    let schema = snapshot::copy(&db, &temp.path).map_err(|e| match e {
        e if e.is_disk_full() => BackupError::DiskFull { path: shown(out) },
        e if e.is_not_writable() => BackupError::NotWritable {
            path: shown(out),
            reason: e.to_string(),
        },
        e @ SnapshotError::Copy(_) => BackupError::CopyFailed {
            path: shown(out),
            cause: e,
        },
        e => BackupError::Source {
            path: shown(&db),
            cause: e,
        },
    })?;
    let unverified = |e| BackupError::Unverified {
        db: shown(&db),
        cause: e,
    };
    let checked = snapshot::check(&temp.path).map_err(unverified)?;
    if checked.schema != schema {
        return Err(unverified(SnapshotError::Damaged(format!(
            "schema {} instead of {schema}",
            checked.schema
        ))));
    }
    // SQLite wrote by name: make sure the name still is the file created above.
    let ours = file.metadata().map_err(|e| write_error(&temp.path, e))?;
    match fs::symlink_metadata(&temp.path) {
        Ok(m) if m.dev() == ours.dev() && m.ino() == ours.ino() => {}
        _ => return Err(BackupError::Raced { path: shown(out) }),
    }
    file.sync_all().map_err(|e| write_error(out, e))?;
    publish(&temp.path, out, force)?;
    temp.keep = true;
    fsutil::sync_dir(&dir).map_err(|e| write_error(&dir, e))?;
    Ok(Written {
        file: out.to_owned(),
        bytes: ours.len(),
        schema,
        mode,
        generation: generation::after_backup(paths),
    })
}

/// Moves the finished copy into place. Without `force`, `link` (which fails on any existing
/// name, a link included) publishes it only if nothing took the name in the meantime.
fn publish(temp: &Path, out: &Path, force: bool) -> Result<(), BackupError> {
    if !force {
        match fs::hard_link(temp, out) {
            Ok(()) => {
                let _ = fs::remove_file(temp);
                return Ok(());
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(BackupError::Exists { path: shown(out) });
            }
            // Some file systems have no hard links: check, then rename.
            Err(_) if fs::symlink_metadata(out).is_ok() => {
                return Err(BackupError::Exists { path: shown(out) });
            }
            Err(_) => {}
        }
    }
    fs::rename(temp, out).map_err(|e| write_error(out, e))
}

/// The files besides the backup that opening it needs, for telling the person.
pub fn key_files(paths: &VaultPaths, mode: KeyMode) -> Vec<PathBuf> {
    match mode {
        KeyMode::Identity => vec![paths.key_file(), paths.identity.clone()],
        KeyMode::Passphrase => {
            let mut files = vec![paths.key_file()];
            if paths.recovery_file().exists() {
                files.push(paths.recovery_file());
            }
            files
        }
    }
}

/// What `restore` put in place.
#[derive(Debug)]
pub struct Restored {
    pub db: PathBuf,
    pub schema: i64,
    pub mode: KeyMode,
    /// The key in the data directory was proved to open the backup (identity mode, or a
    /// passphrase vault given its passphrase or recovery key).
    pub key_checked: bool,
    pub owner_token_missing: bool,
    /// The restored database's generation, now also `vault.generation`'s (`None`: a backup
    /// made before rollback detection; the vault starts again at generation 1).
    pub generation: Option<u64>,
}

/// Puts the backup `from` in place as the data directory's carnet.db, after checking it,
/// with the key files already in the data directory, and only while no carnetd has the
/// database open. Any WAL left beside the old database is removed: replayed onto the
/// restored file it would corrupt it. The key is proved to open the backup whenever it can be
/// opened here: always in identity mode, and on a passphrase vault when `secret` gives its
/// passphrase or recovery key (without it, the check waits for `carnet unlock`).
pub fn restore(
    paths: &VaultPaths,
    from: &Path,
    force: bool,
    secret: Option<Secret>,
) -> Result<Restored, BackupError> {
    let no_key = || BackupError::NoKeyFile {
        dir: shown(&paths.dir),
    };
    let mode = match vault::detect(paths) {
        Ok(Found::Vault(mode)) => mode,
        Ok(Found::Nothing) | Err(VaultError::KeyFileMissing { .. }) => return Err(no_key()),
        Err(e) => return Err(e.into()),
    };
    let db = paths.db_file();
    match fs::metadata(from) {
        Ok(m) if m.is_file() => {}
        Ok(_) => return Err(BackupError::NotAFile { path: shown(from) }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(BackupError::NoBackup { path: shown(from) });
        }
        Err(e) => {
            return Err(BackupError::Io {
                path: shown(from),
                cause: e,
            });
        }
    }
    let db_exists = fs::symlink_metadata(&db).is_ok();
    if db_exists {
        if let (Ok(a), Ok(b)) = (fs::canonicalize(from), fs::canonicalize(&db))
            && a == b
        {
            return Err(BackupError::SameFile { path: shown(from) });
        }
        if !force {
            return Err(BackupError::DbExists { db: shown(&db) });
        }
    }

    let (mut temp, mut file) = Temp::create(&paths.dir, vault::DB_FILE)?;
    File::open(from)
        .and_then(|mut src| io::copy(&mut src, &mut file))
        .map_err(|e| match e.kind() {
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => write_error(&paths.dir, e),
            _ => BackupError::Io {
                path: shown(from),
                cause: e,
            },
        })?;
    file.sync_all().map_err(|e| write_error(&paths.dir, e))?;
    let bad = |e| BackupError::BadBackup {
        path: shown(from),
        cause: e,
    };
    let checked = snapshot::check(&temp.path).map_err(bad)?;
    let record = {
        let conn = snapshot::open_read_only(&temp.path).map_err(|e| bad(SnapshotError::Copy(e)))?;
        generation::recorded(&conn)?
    };
    let key = match (mode, secret) {
        (KeyMode::Identity, None | Some(Secret::IdentityFile)) => {
            Some(vault::unwrap_identity(paths)?)
        }
        (_, Some(secret)) => Some(vault::unwrap_with(paths, mode, secret)?),
        // Without the passphrase, carnetd checks the key when it is unlocked.
        (KeyMode::Passphrase, None) => None,
    };
    let key_checked = match key {
        Some(key) => {
            let conn =
                snapshot::open_read_only(&temp.path).map_err(|e| bad(SnapshotError::Copy(e)))?;
            if !vault::key_opens(&conn, key)? {
                return Err(BackupError::KeyMismatch {
                    path: shown(from),
                    key_file: shown(&paths.key_file()),
                });
            }
            true
        }
        None => false,
    };

    if db_exists {
        match snapshot::in_use(&db) {
            Ok(true) => return Err(BackupError::InUse { db: shown(&db) }),
            Ok(false) => {}
            // A database that does not even open is what a restore replaces.
            Err(e) => tracing::warn!(error = %e, "the database being replaced does not open"),
        }
    }
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut side = db.as_os_str().to_owned();
        side.push(suffix);
        let side = PathBuf::from(side);
        match fs::remove_file(&side) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(write_error(&side, e)),
        }
    }
    fs::rename(&temp.path, &db).map_err(|e| write_error(&db, e))?;
    temp.keep = true;
    fsutil::sync_dir(&paths.dir).map_err(|e| write_error(&paths.dir, e))?;
    // The database first, then the file: a crash between leaves the database behind the
    // file, and carnetd refuses it until restore is run again.
    generation::set_file(paths, record.as_deref())?;
    Ok(Restored {
        generation: record.as_deref().and_then(generation::number),
        db,
        schema: checked.schema,
        mode,
        key_checked,
        owner_token_missing: !paths.owner_token_file().exists(),
    })
}
