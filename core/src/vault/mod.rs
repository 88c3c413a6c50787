//! The vault: its files in the data directory, creating it, and opening it. A vault is the key
//! envelope (`vault.key.age`), the identity that opens it (identity mode), the database
//! (`carnet.db`), its generation (`vault.generation`, see `generation`) and the owner token
//! file. This module never stores the vault key unwrapped and never starts from a database it
//! cannot prove belongs to the key.

mod envelope;
pub mod generation;
pub mod imported;
pub mod rowmac;

use std::path::{Path, PathBuf};

use age::secrecy::{ExposeSecret, SecretString};
use age::x25519;
use chrono::{DateTime, Utc};

pub use crate::crypto::{
    ImportedKeys, Keys, Purpose, RowMac, SealKey, Sealable, Sealed, SubKey, Table, Unreadable,
    VaultKey,
};
pub use envelope::{DEFAULT_SCRYPT_LOG_N, EnvelopeError, KeyMode, MAX_SCRYPT_LOG_N};

use crate::credential::Credential;
use crate::fsutil;
use crate::store::{self, Store, StoreError, Synchronous, records};

pub const KEY_FILE: &str = "vault.key.age";
pub const RECOVERY_FILE: &str = "vault.recovery.age";
pub const IDENTITY_FILE: &str = "identity.txt";
pub const DB_FILE: &str = "carnet.db";
pub const OWNER_TOKEN_FILE: &str = "owner.token";

/// Where a vault's files are.
#[derive(Debug, Clone)]
pub struct VaultPaths {
    pub dir: PathBuf,
    /// The age identity (identity mode); `DIR/identity.txt` unless `--identity-file` says.
    pub identity: PathBuf,
}

impl VaultPaths {
    pub fn new(dir: PathBuf, identity: Option<PathBuf>) -> Self {
        let identity = identity.unwrap_or_else(|| dir.join(IDENTITY_FILE));
        VaultPaths { dir, identity }
    }
    pub fn key_file(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }
    pub fn recovery_file(&self) -> PathBuf {
        self.dir.join(RECOVERY_FILE)
    }
    pub fn db_file(&self) -> PathBuf {
        self.dir.join(DB_FILE)
    }
    pub fn owner_token_file(&self) -> PathBuf {
        self.dir.join(OWNER_TOKEN_FILE)
    }
}

/// Everything that can stop a vault from being created or opened. Each message names the file
/// and says what to do.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "{db} exists but its key file {key_file} is missing; without it the vault cannot be read. Restore {KEY_FILE} (and the identity file or passphrase that opens it) from your backup"
    )]
    KeyFileMissing { db: String, key_file: String },
    #[error(
        "identity file {identity} not found; the vault key in {key_file} is wrapped to it. Restore it from your backup, or pass --identity-file with its location"
    )]
    IdentityMissing { identity: String, key_file: String },
    #[error("{0}")]
    Envelope(#[from] EnvelopeError),
    #[error(
        "{key_file} opens, but {db} was sealed under another vault key; restore the {KEY_FILE} that belongs to this database"
    )]
    KeyMismatch { key_file: String, db: String },
    #[error(
        "the vault in {dir} is protected by a passphrase, not an identity file: unlock it with `carnet unlock`"
    )]
    PassphraseVault { dir: String },
    #[error("a vault already exists in {dir} ({key_file}); refusing to overwrite it")]
    AlreadyExists { dir: String, key_file: String },
    /// (The error is part of the message, not a `source`: printed with its chain, it would
    /// appear twice.)
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}; restore carnet.db from a backup")]
    Unreadable(#[from] Unreadable),
    /// carnet.db is behind `vault.generation` (rolled back), or a generation record is forged.
    #[error("{0}")]
    Generation(#[from] generation::GenerationError),
    #[error("cannot generate a key: the operating system's random generator failed")]
    Random,
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> VaultError + '_ {
    move |error| VaultError::Io {
        path: path.display().to_string(),
        error,
    }
}

/// What proves the owner may unlock.
pub enum Secret {
    Passphrase(SecretString),
    /// The recovery key printed at `carnetd init --passphrase-file`.
    RecoveryKey(SecretString),
    /// Identity mode: the identity file on disk.
    IdentityFile,
}

/// What is in a data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// No vault yet.
    Nothing,
    Vault(KeyMode),
}

/// Looks at the data directory without opening anything.
pub fn detect(paths: &VaultPaths) -> Result<Found, VaultError> {
    let key_file = paths.key_file();
    match std::fs::read(&key_file) {
        Ok(bytes) => Ok(Found::Vault(envelope::mode_of(&key_file, &bytes)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if paths.db_file().exists() {
                Err(VaultError::KeyFileMissing {
                    db: paths.db_file().display().to_string(),
                    key_file: key_file.display().to_string(),
                })
            } else {
                Ok(Found::Nothing)
            }
        }
        Err(e) => Err(io_err(&key_file)(e)),
    }
}

/// What `init` created, for telling the person where things are.
#[derive(Debug)]
pub struct Created {
    pub mode: KeyMode,
    pub identity: Option<PathBuf>,
    pub owner_token: PathBuf,
    /// Passphrase mode: the recovery key, to be shown once and never stored.
    pub recovery_key: Option<SecretString>,
}

fn refuse_existing(paths: &VaultPaths) -> Result<(), VaultError> {
    match detect(paths)? {
        Found::Nothing => Ok(()),
        Found::Vault(_) => Err(VaultError::AlreadyExists {
            dir: paths.dir.display().to_string(),
            key_file: paths.key_file().display().to_string(),
        }),
    }
}

/// Creates an identity-mode vault: a new X25519 identity (mode 0600), the vault key wrapped to
/// it, the database, and the owner token.
pub async fn init_identity(paths: &VaultPaths, now: DateTime<Utc>) -> Result<Created, VaultError> {
    fsutil::ensure_private_dir(&paths.dir).map_err(io_err(&paths.dir))?;
    refuse_existing(paths)?;
    if let Some(parent) = paths.identity.parent() {
        fsutil::ensure_private_dir(parent).map_err(io_err(parent))?;
    }
    let identity = x25519::Identity::generate();
    let key = VaultKey::generate().map_err(|_| VaultError::Random)?;
    let text = envelope::identity_file_text(&identity, &now.to_rfc3339());
    fsutil::write_private(&paths.identity, text.as_bytes(), false)
        .map_err(io_err(&paths.identity))?;
    let wrapped = envelope::wrap_to_identity(&key, &identity.to_public())?;
    fsutil::write_private(&paths.key_file(), &wrapped, false).map_err(io_err(&paths.key_file()))?;
    let store = Store::open(&paths.db_file(), Synchronous::Full)?;
    let keys = Keys::new(key);
    finish_setup(paths, &store, &keys, now).await?;
    generation::start(paths, &store, &keys).await?;
    store.close();
    Ok(Created {
        mode: KeyMode::Identity,
        identity: Some(paths.identity.clone()),
        owner_token: paths.owner_token_file(),
        recovery_key: None,
    })
}

/// Creates a passphrase-mode vault: the vault key wrapped to the passphrase, and a second
/// envelope to a new recovery key that is returned once and never written down by carnetd.
pub async fn init_passphrase(
    paths: &VaultPaths,
    passphrase: SecretString,
    log_n: u8,
    now: DateTime<Utc>,
) -> Result<Created, VaultError> {
    fsutil::ensure_private_dir(&paths.dir).map_err(io_err(&paths.dir))?;
    refuse_existing(paths)?;
    let key = VaultKey::generate().map_err(|_| VaultError::Random)?;
    let recovery = x25519::Identity::generate();
    let to_recovery = envelope::wrap_to_identity(&key, &recovery.to_public())?;
    // scrypt takes most of a second and much memory: keep it off the async workers.
    let (key, wrapped) = tokio::task::spawn_blocking(move || {
        let wrapped = envelope::wrap_to_passphrase(&key, passphrase, log_n);
        (key, wrapped)
    })
    .await
    .map_err(|_| VaultError::Random)?;
    fsutil::write_private(&paths.key_file(), &wrapped?, false)
        .map_err(io_err(&paths.key_file()))?;
    fsutil::write_private(&paths.recovery_file(), &to_recovery, false)
        .map_err(io_err(&paths.recovery_file()))?;
    let store = Store::open(&paths.db_file(), Synchronous::Full)?;
    let keys = Keys::new(key);
    finish_setup(paths, &store, &keys, now).await?;
    generation::start(paths, &store, &keys).await?;
    store.close();
    Ok(Created {
        mode: KeyMode::Passphrase,
        identity: None,
        owner_token: paths.owner_token_file(),
        recovery_key: Some(recovery.to_string()),
    })
}

/// Re-wraps the vault key to a new passphrase (records are untouched: only the envelope
/// changes). A vault without a recovery envelope gets one; its key is returned, to be shown once.
pub fn rewrap_to_passphrase(
    paths: &VaultPaths,
    key: &VaultKey,
    passphrase: SecretString,
    log_n: u8,
) -> Result<Option<SecretString>, VaultError> {
    let wrapped = envelope::wrap_to_passphrase(key, passphrase, log_n)?;
    fsutil::write_private(&paths.key_file(), &wrapped, true).map_err(io_err(&paths.key_file()))?;
    if paths.recovery_file().exists() {
        Ok(None)
    } else {
        add_recovery(paths, key).map(Some)
    }
}

/// Re-wraps the vault key to a new identity file (identity mode), and removes the recovery
/// envelope: a recovery key belongs to a passphrase, and one left behind would still open the
/// vault. Refuses to overwrite an existing identity file: move it away first. Returns whether
/// there was a recovery envelope.
pub fn rewrap_to_identity(
    paths: &VaultPaths,
    key: &VaultKey,
    now: DateTime<Utc>,
) -> Result<bool, VaultError> {
    let identity = x25519::Identity::generate();
    let text = envelope::identity_file_text(&identity, &now.to_rfc3339());
    if let Some(parent) = paths.identity.parent() {
        fsutil::ensure_private_dir(parent).map_err(io_err(parent))?;
    }
    fsutil::write_private(&paths.identity, text.as_bytes(), false)
        .map_err(io_err(&paths.identity))?;
    let wrapped = envelope::wrap_to_identity(key, &identity.to_public())?;
    fsutil::write_private(&paths.key_file(), &wrapped, true).map_err(io_err(&paths.key_file()))?;
    let recovery = paths.recovery_file();
    match std::fs::remove_file(&recovery) {
        Ok(()) => fsutil::sync_dir(&paths.dir)
            .map(|()| true)
            .map_err(io_err(&paths.dir)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io_err(&recovery)(e)),
    }
}

/// Writes (or replaces) the recovery envelope; returns the new recovery key, to show once.
pub fn add_recovery(paths: &VaultPaths, key: &VaultKey) -> Result<SecretString, VaultError> {
    let recovery = x25519::Identity::generate();
    let wrapped = envelope::wrap_to_identity(key, &recovery.to_public())?;
    fsutil::write_private(&paths.recovery_file(), &wrapped, true)
        .map_err(io_err(&paths.recovery_file()))?;
    Ok(recovery.to_string())
}

/// What a data directory's key file says its mode is.
pub fn mode(paths: &VaultPaths) -> Result<KeyMode, VaultError> {
    match detect(paths)? {
        Found::Vault(m) => Ok(m),
        Found::Nothing => Err(VaultError::Io {
            path: paths.key_file().display().to_string(),
            error: std::io::Error::new(std::io::ErrorKind::NotFound, "there is no vault here"),
        }),
    }
}

/// Unwraps the vault key of an identity-mode vault with its identity file.
pub fn unwrap_identity(paths: &VaultPaths) -> Result<VaultKey, VaultError> {
    let key_file = paths.key_file();
    let bytes = std::fs::read(&key_file).map_err(io_err(&key_file))?;
    if envelope::mode_of(&key_file, &bytes)? == KeyMode::Passphrase {
        return Err(VaultError::PassphraseVault {
            dir: paths.dir.display().to_string(),
        });
    }
    let text = match std::fs::read_to_string(&paths.identity) {
        Ok(t) => zeroize::Zeroizing::new(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(VaultError::IdentityMissing {
                identity: paths.identity.display().to_string(),
                key_file: key_file.display().to_string(),
            });
        }
        Err(e) => return Err(io_err(&paths.identity)(e)),
    };
    if fsutil::readable_by_others(&paths.identity).unwrap_or(false) {
        tracing::warn!(
            identity = %paths.identity.display(),
            "the identity file is readable by other users; run: chmod 600 on it"
        );
    }
    let identity = envelope::parse_identity(&paths.identity, &text)?;
    Ok(envelope::unwrap_with_identity(
        &key_file,
        &bytes,
        &identity,
        &format!("identity file {}", paths.identity.display()),
    )?)
}

/// The canary: a sealed constant that proves the key belongs to the database (this one until
/// the rows got their MACs, `rowmac::CANARY_ROW_MACS` since).
pub use crate::store::CANARY_ID;
const CANARY: &[u8] = b"carnet vault canary v1";

/// Proves an unwrapped key belongs to the (open) database, and finishes a set-up that a crash
/// interrupted (canary or owner token missing).
pub async fn prove_key(
    paths: &VaultPaths,
    store: &Store,
    key: VaultKey,
    now: DateTime<Utc>,
) -> Result<Keys, VaultError> {
    let keys = Keys::new(key);
    let canary = store.read(|c| records::meta_get_unchecked(c, CANARY_ID))?;
    match canary {
        Some(blob) => {
            let opened = keys.seal().open_bytes(Table::Meta, CANARY_ID, &blob);
            let macs_on = match opened.as_ref().map(|p| p.as_slice()) {
                Ok(p) if p == rowmac::CANARY_ROW_MACS => true,
                Ok(p) if p == CANARY => false,
                _ => {
                    return Err(VaultError::KeyMismatch {
                        key_file: paths.key_file().display().to_string(),
                        db: paths.db_file().display().to_string(),
                    });
                }
            };
            rowmac::install(store, &keys, macs_on).await?;
            let tokens = store.read(records::owner_token_hashes)?;
            if tokens.is_empty() {
                mint_owner_token(paths, store, now).await?;
            }
        }
        None => finish_setup(paths, store, &keys, now).await?,
    }
    let taken_over = store
        .read(|c| imported::load(c, keys.seal()))
        .map_err(|e| match e {
            imported::LoadError::Store(e) => VaultError::Store(e),
            imported::LoadError::Unreadable(e) => VaultError::Unreadable(e),
        })?;
    Ok(match taken_over {
        Some(i) => keys.with_imported(i),
        None => keys,
    })
}

/// Whether `key` is the key the database behind `conn` was sealed under: its canary opens.
/// (`carnetd restore` asks this of a backup before putting it in place.)
pub fn key_opens(conn: &rusqlite::Connection, key: VaultKey) -> Result<bool, VaultError> {
    let keys = Keys::new(key);
    Ok(match records::meta_get_unchecked(conn, CANARY_ID)? {
        Some(blob) => keys
            .seal()
            .open_bytes(Table::Meta, CANARY_ID, &blob)
            .is_ok_and(|plain| [CANARY, rowmac::CANARY_ROW_MACS].contains(&plain.as_slice())),
        None => false,
    })
}

/// Unwraps the vault key with what the owner gave (blocking: scrypt takes most of a second).
pub fn unwrap_with(
    paths: &VaultPaths,
    mode: KeyMode,
    secret: Secret,
) -> Result<VaultKey, VaultError> {
    match (mode, secret) {
        (KeyMode::Identity, Secret::IdentityFile) => unwrap_identity(paths),
        (KeyMode::Passphrase, Secret::Passphrase(p)) => {
            let file = paths.key_file();
            let bytes = std::fs::read(&file).map_err(io_err(&file))?;
            Ok(envelope::unwrap_with_passphrase(&file, &bytes, p)?)
        }
        (_, Secret::RecoveryKey(k)) => {
            let file = paths.recovery_file();
            let bytes = std::fs::read(&file).map_err(io_err(&file))?;
            let identity =
                envelope::parse_identity(Path::new("the recovery key"), k.expose_secret())?;
            Ok(envelope::unwrap_with_identity(
                &file,
                &bytes,
                &identity,
                "the recovery key",
            )?)
        }
        (KeyMode::Identity, Secret::Passphrase(_)) => {
            Err(VaultError::Envelope(EnvelopeError::WrongKey {
                key_file: paths.key_file().display().to_string(),
                with: "a passphrase".into(),
                reason: "this vault is opened by its identity file, not a passphrase".into(),
            }))
        }
        (KeyMode::Passphrase, Secret::IdentityFile) => {
            Err(VaultError::Envelope(EnvelopeError::WrongKey {
                key_file: paths.key_file().display().to_string(),
                with: "no passphrase".into(),
                reason: "this vault needs its passphrase or recovery key".into(),
            }))
        }
    }
}

async fn finish_setup(
    paths: &VaultPaths,
    store: &Store,
    keys: &Keys,
    now: DateTime<Utc>,
) -> Result<(), VaultError> {
    store.set_row_key(Some(RowMac::new(keys)));
    let canary = keys
        .seal()
        .seal_bytes(Table::Meta, CANARY_ID, rowmac::CANARY_ROW_MACS);
    store
        .write(move |c| records::meta_put(c, CANARY_ID, &canary))
        .await?;
    mint_owner_token(paths, store, now).await
}

/// Makes a new owner token, stores its hash (replacing any other), and writes it to
/// `owner.token` (mode 0600) for the CLI. Returns nothing: the token lives only in that file.
pub async fn mint_owner_token(
    paths: &VaultPaths,
    store: &Store,
    now: DateTime<Utc>,
) -> Result<(), VaultError> {
    let token = Credential::generate();
    let hash = token.hash();
    let file = paths.owner_token_file();
    let line = zeroize::Zeroizing::new(format!("{}\n", token.expose()));
    fsutil::write_private(&file, line.as_bytes(), true).map_err(io_err(&file))?;
    store
        .write(move |c| records::replace_owner_token(c, &hash, now))
        .await?;
    Ok(())
}

/// Recovery keys print like identities; this is the text shown to the person once.
pub fn recovery_key_text(key: &SecretString) -> &str {
    key.expose_secret()
}

pub use store::SCHEMA_VERSION;
