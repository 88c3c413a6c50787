//! Sealing records. A record's user content is one blob: ChaCha20-Poly1305 under the seal key
//! with a random nonce, and associated data naming the table and the record's id, so a blob
//! copied to another row or table fails to open. `Sealed<T>` is what the store accepts and
//! returns; the only way to a `T` is `SealKey::open` with the row's identity.

use std::fmt;
use std::marker::PhantomData;

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use super::key::{Purpose, VaultKey};

/// Format version of a sealed blob (first byte).
const BLOB_V1: u8 = 1;
const TAG_LEN: usize = 16;

/// The tables whose rows hold sealed blobs; part of every blob's associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Meta,
    Vendors,
    Interactions,
    Purchases,
    Incidents,
    Promises,
    Subscriptions,
    Profile,
    Clients,
    Grants,
    Tokens,
    Receipts,
    AccessLog,
    Intents,
    Offers,
    Codes,
    Outbox,
    NotifyChannels,
    NotifyOutbox,
    Documents,
    RelayIntents,
    RelayOutbox,
    RelayOffers,
}

impl Table {
    pub fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::Vendors => "vendors",
            Table::Interactions => "interactions",
            Table::Purchases => "purchases",
            Table::Incidents => "incidents",
            Table::Promises => "promises",
            Table::Subscriptions => "subscriptions",
            Table::Profile => "profile",
            Table::Clients => "clients",
            Table::Grants => "grants",
            Table::Tokens => "tokens",
            Table::Receipts => "receipts",
            Table::AccessLog => "access_log",
            Table::Intents => "intents",
            Table::Offers => "offers",
            Table::Codes => "codes",
            Table::Outbox => "outbox",
            Table::NotifyChannels => "notify_channels",
            Table::NotifyOutbox => "notify_outbox",
            Table::Documents => "documents",
            Table::RelayIntents => "relay_intents",
            Table::RelayOutbox => "relay_outbox",
            Table::RelayOffers => "relay_offers",
        }
    }
}

/// A type that is stored sealed in `TABLE`.
pub trait Sealable: Serialize + DeserializeOwned {
    const TABLE: Table;
}

/// A sealed `T`: bytes the store can keep but nobody can read without the vault key.
pub struct Sealed<T> {
    bytes: Vec<u8>,
    kind: PhantomData<fn() -> T>,
}

impl<T> Sealed<T> {
    /// Wraps bytes read from the database; nothing is checked until `open`.
    pub fn from_stored(bytes: Vec<u8>) -> Self {
        Sealed {
            bytes,
            kind: PhantomData,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl<T> fmt::Debug for Sealed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sealed({} bytes)", self.bytes.len())
    }
}

/// A blob did not open: altered, moved to another row, or sealed under another key.
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "record {id} in table {table} cannot be opened: it was altered, moved, or sealed under another vault key"
)]
pub struct Unreadable {
    pub table: &'static str,
    pub id: String,
}

pub struct SealKey {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealKey([redacted])")
    }
}

/// Random nonces, drawn from the OS generator a few hundred at a time: one `getrandom` call
/// per seal cost as much as the AEAD itself on a 1 KiB record. Each nonce is handed out once.
struct NoncePool {
    buf: [u8; NONCE_LEN * 256],
    pos: usize,
}

thread_local! {
    static NONCES: std::cell::RefCell<NoncePool> = const {
        std::cell::RefCell::new(NoncePool { buf: [0; NONCE_LEN * 256], pos: NONCE_LEN * 256 })
    };
}

fn fresh_nonce(rng: &SystemRandom) -> [u8; NONCE_LEN] {
    NONCES.with_borrow_mut(|pool| {
        if pool.pos == pool.buf.len() {
            // The OS RNG failing is not recoverable; ring documents it as practically impossible.
            rng.fill(&mut pool.buf).expect("operating system RNG");
            pool.pos = 0;
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&pool.buf[pool.pos..pool.pos + NONCE_LEN]);
        pool.pos += NONCE_LEN;
        nonce
    })
}

/// The blob format shared by records and document chunks: `version`, a fresh random nonce,
/// the ciphertext, the tag; `aad` binds it to where it belongs.
pub(crate) fn seal_blob(
    key: &LessSafeKey,
    rng: &SystemRandom,
    version: u8,
    aad: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let nonce = fresh_nonce(rng);
    let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + TAG_LEN);
    out.push(version);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut out[1 + NONCE_LEN..],
        )
        // Sealing only fails for inputs over 256 GiB.
        .expect("ChaCha20-Poly1305 input within limits");
    out.extend_from_slice(tag.as_ref());
    out
}

/// Opens a `seal_blob` blob of `version` under `aad`; `None` if it does not open. The
/// plaintext is wiped when dropped.
pub(crate) fn open_blob(
    key: &LessSafeKey,
    version: u8,
    aad: &[u8],
    blob: &[u8],
) -> Option<Zeroizing<Vec<u8>>> {
    if blob.len() < 1 + NONCE_LEN + TAG_LEN || blob[0] != version {
        return None;
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&blob[1..1 + NONCE_LEN]);
    let mut buf = Zeroizing::new(blob[1 + NONCE_LEN..].to_vec());
    let len = key
        .open_in_place(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut buf,
        )
        .ok()?
        .len();
    buf.truncate(len);
    Some(buf)
}

fn associated_data(table: Table, id: &str) -> Vec<u8> {
    let mut aad = Vec::with_capacity(16 + table.name().len() + id.len());
    aad.extend_from_slice(b"carnet/v1/");
    aad.extend_from_slice(table.name().as_bytes());
    aad.push(b'/');
    aad.extend_from_slice(id.as_bytes());
    aad
}

impl SealKey {
    pub fn new(vault_key: &VaultKey) -> Self {
        let sub = vault_key.derive(Purpose::Seal, b"");
        // A 32-byte key is always valid for ChaCha20-Poly1305.
        let unbound =
            UnboundKey::new(&CHACHA20_POLY1305, sub.expose()).expect("32-byte ChaCha20 key");
        SealKey {
            key: LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
        }
    }

    /// Seals raw bytes for row `id` of `table`.
    pub fn seal_bytes(&self, table: Table, id: &str, plaintext: &[u8]) -> Vec<u8> {
        let aad = associated_data(table, id);
        seal_blob(&self.key, &self.rng, BLOB_V1, &aad, plaintext)
    }

    /// Opens a blob sealed for row `id` of `table`; the plaintext is wiped when dropped.
    pub fn open_bytes(
        &self,
        table: Table,
        id: &str,
        blob: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, Unreadable> {
        let aad = associated_data(table, id);
        open_blob(&self.key, BLOB_V1, &aad, blob).ok_or_else(|| Unreadable {
            table: table.name(),
            id: id.to_owned(),
        })
    }

    /// Seals a record as JSON.
    pub fn seal<T: Sealable>(&self, id: &str, value: &T) -> Sealed<T> {
        // Serialising plain data structs to JSON cannot fail.
        let json = Zeroizing::new(serde_json::to_vec(value).unwrap_or_default());
        Sealed::from_stored(self.seal_bytes(T::TABLE, id, &json))
    }

    /// Opens a sealed record of row `id`.
    pub fn open<T: Sealable>(&self, id: &str, sealed: &Sealed<T>) -> Result<T, Unreadable> {
        let json = self.open_bytes(T::TABLE, id, &sealed.bytes)?;
        serde_json::from_slice(&json).map_err(|_| Unreadable {
            table: T::TABLE.name(),
            id: id.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Note(String);
    impl Sealable for Note {
        const TABLE: Table = Table::Vendors;
    }

    #[test]
    fn a_blob_opens_only_in_its_own_row_and_table() {
        let key = SealKey::new(&VaultKey::generate().unwrap());
        let sealed = key.seal("ven_a", &Note("secret".into()));
        assert_eq!(key.open("ven_a", &sealed).unwrap(), Note("secret".into()));
        assert!(key.open("ven_b", &sealed).is_err());
        let raw = key.seal_bytes(Table::Vendors, "ven_a", b"x");
        assert!(key.open_bytes(Table::Purchases, "ven_a", &raw).is_err());
        assert!(!sealed.as_bytes().windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn a_tampered_or_foreign_blob_does_not_open() {
        let key = SealKey::new(&VaultKey::generate().unwrap());
        let other = SealKey::new(&VaultKey::generate().unwrap());
        let mut raw = key.seal_bytes(Table::Vendors, "ven_a", b"hello");
        assert!(other.open_bytes(Table::Vendors, "ven_a", &raw).is_err());
        let last = raw.len() - 1;
        raw[last] ^= 1;
        assert!(key.open_bytes(Table::Vendors, "ven_a", &raw).is_err());
        assert!(key.open_bytes(Table::Vendors, "ven_a", &[1, 2, 3]).is_err());
    }

    #[test]
    fn nonces_never_repeat_across_pool_refills() {
        let key = SealKey::new(&VaultKey::generate().unwrap());
        let nonces: std::collections::HashSet<Vec<u8>> = (0..2000)
            .map(|_| key.seal_bytes(Table::Vendors, "ven_a", b"same")[1..1 + NONCE_LEN].to_vec())
            .collect();
        assert_eq!(nonces.len(), 2000);
    }
}
