//! The keys of an open vault: the root key and what is derived from it once, at unlock. Never
//! serialised, never printed (`Debug` is redacted), wiped when dropped.

use std::collections::BTreeMap;

use super::key::{Purpose, SubKey, VaultKey};
use super::seal::SealKey;

/// Keys an import brought in.
pub struct ImportedKeys {
    pub pseudonym: SubKey,
    /// Receipt seeds by vendor id.
    pub receipt_seeds: BTreeMap<String, SubKey>,
}

impl std::fmt::Debug for ImportedKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ImportedKeys([redacted])")
    }
}

/// The keys of an open vault; the ones used on every request are derived once here. A vault
/// filled by an import uses the archive's pseudonym key and its vendors' receipt seeds instead
/// of the ones it would derive (see `imported`).
pub struct Keys {
    root: VaultKey,
    seal: SealKey,
    pseudonym_secret: SubKey,
    pseudonym: ring::hmac::Key,
    cursor: ring::hmac::Key,
    access_log: ring::hmac::Key,
    /// Receipt seeds taken over from an archive, by vendor id.
    receipt_seeds: BTreeMap<String, SubKey>,
}

impl Keys {
    pub fn new(root: VaultKey) -> Self {
        let seal = SealKey::new(&root);
        let hmac_key = |p: Purpose| {
            ring::hmac::Key::new(ring::hmac::HMAC_SHA256, root.derive(p, b"").expose())
        };
        let pseudonym_secret = root.derive(Purpose::Pseudonym, b"");
        Keys {
            pseudonym: ring::hmac::Key::new(ring::hmac::HMAC_SHA256, pseudonym_secret.expose()),
            pseudonym_secret,
            cursor: hmac_key(Purpose::Cursor),
            access_log: hmac_key(Purpose::AccessLogMac),
            seal,
            root,
            receipt_seeds: Default::default(),
        }
    }

    /// Uses the keys an import brought in instead of the derived ones.
    pub fn with_imported(mut self, imported: ImportedKeys) -> Self {
        self.pseudonym = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, imported.pseudonym.expose());
        self.pseudonym_secret = imported.pseudonym;
        self.receipt_seeds = imported.receipt_seeds;
        self
    }

    pub fn seal(&self) -> &SealKey {
        &self.seal
    }

    /// The HMAC key of pairwise pseudonyms.
    pub fn pseudonym(&self) -> &ring::hmac::Key {
        &self.pseudonym
    }

    /// The pseudonym key's bytes, for the export archive only.
    pub fn pseudonym_secret(&self) -> &SubKey {
        &self.pseudonym_secret
    }

    /// The Ed25519 seed of `vendor`'s receipt key: the archive's for an imported vendor,
    /// else derived from the vault key.
    pub fn receipt_seed(&self, vendor: &str) -> SubKey {
        match self.receipt_seeds.get(vendor) {
            Some(seed) => seed.copy(),
            None => self.root.derive(Purpose::ReceiptSeed, vendor.as_bytes()),
        }
    }

    /// The same vault key again, to open the vault anew in place (after an import).
    pub fn root_copy(&self) -> VaultKey {
        self.root.copy()
    }

    /// The HMAC key of the access-log chain.
    pub fn access_log(&self) -> &ring::hmac::Key {
        &self.access_log
    }

    /// The HMAC key of vendor list cursors.
    pub fn cursor(&self) -> &ring::hmac::Key {
        &self.cursor
    }

    /// A key derived from the vault key. Not for pseudonyms or receipt seeds: those may have
    /// been taken over from an archive (`pseudonym`, `receipt_seed`).
    pub fn derive(&self, purpose: Purpose, context: &[u8]) -> SubKey {
        self.root.derive(purpose, context)
    }
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keys([redacted])")
    }
}
