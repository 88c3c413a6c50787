//! The vault key and the keys derived from it. The vault key never leaves this module except
//! wrapped by age (`envelope.rs`) or as derived sub-keys; key types have no `Serialize`, a
//! redacted `Debug`, and are wiped on drop.

use std::fmt;

use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, ZeroizeOnDrop};

pub const KEY_LEN: usize = 32;

/// The random 256-bit root key of a vault.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct VaultKey([u8; KEY_LEN]);

/// What a derived key is for; each purpose gets an independent key (HKDF-SHA256 `info`).
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    /// Sealing records (ChaCha20-Poly1305).
    Seal,
    /// The MAC that chains the access log.
    AccessLogMac,
    /// Pairwise vendor pseudonyms.
    Pseudonym,
    /// MACs on opaque list cursors.
    Cursor,
    /// Per-vendor Ed25519 receipt-signing seeds (the vendor id is appended).
    ReceiptSeed,
    /// The MAC on the vault's generation records (`vault.generation`, rollback detection).
    Generation,
    /// The MACs that bind the clear columns of a row deciding access (see `rowmac`).
    RowMac,
    /// The chunks of one document (its id is appended): see `documents::chunk`.
    Document,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::Seal => b"carnet/v1/seal",
            Purpose::AccessLogMac => b"carnet/v1/access-log-mac",
            Purpose::Pseudonym => b"carnet/v1/pseudonym",
            Purpose::Cursor => b"carnet/v1/cursor",
            Purpose::ReceiptSeed => b"carnet/v1/receipt-seed",
            Purpose::Generation => b"carnet/v1/generation",
            Purpose::RowMac => b"carnet/v1/row-mac",
            Purpose::Document => b"carnet/v1/document",
        }
    }
}

/// A derived 256-bit key, wiped on drop.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct SubKey(pub(crate) [u8; KEY_LEN]);

impl SubKey {
    pub fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// A key taken over from an archive (the pseudonym key, a receipt seed).
    pub(crate) fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        SubKey(bytes)
    }

    /// A second copy, wiped on drop like the first.
    pub(crate) fn copy(&self) -> Self {
        SubKey(self.0)
    }
}

impl fmt::Debug for SubKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubKey([redacted])")
    }
}

struct Len32;

impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        KEY_LEN
    }
}

impl VaultKey {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Result<Self, ring::error::Unspecified> {
        let mut bytes = [0u8; KEY_LEN];
        SystemRandom::new().fill(&mut bytes)?;
        Ok(VaultKey(bytes))
    }

    /// Rebuilds a key from unwrapped bytes; `None` if the length is wrong.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; KEY_LEN] = bytes.try_into().ok()?;
        Some(VaultKey(arr))
    }

    /// The raw bytes, only for wrapping with age.
    pub(crate) fn expose(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// A second copy, for opening the vault again in place (after an import).
    pub(super) fn copy(&self) -> Self {
        VaultKey(self.0)
    }

    /// Derives the sub-key for `purpose`, optionally narrowed by `context` (e.g. a vendor id).
    pub fn derive(&self, purpose: Purpose, context: &[u8]) -> SubKey {
        let salt = hkdf::Salt::new(hkdf::HKDF_SHA256, b"carnet vault key v1");
        let prk = salt.extract(&self.0);
        let info = [purpose.label(), b"\0", context];
        let mut out = [0u8; KEY_LEN];
        // Expanding 32 bytes from SHA-256 cannot exceed HKDF's 255-block limit.
        prk.expand(&info, Len32)
            .and_then(|okm| okm.fill(&mut out))
            .expect("HKDF-SHA256 can always produce 32 bytes");
        SubKey(out)
    }
}

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("VaultKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_and_contexts_give_independent_keys() {
        let k = VaultKey::generate().unwrap();
        let a = k.derive(Purpose::Seal, b"");
        let b = k.derive(Purpose::Pseudonym, b"");
        let c = k.derive(Purpose::ReceiptSeed, b"ven_1");
        let d = k.derive(Purpose::ReceiptSeed, b"ven_2");
        assert_ne!(a.expose(), b.expose());
        assert_ne!(c.expose(), d.expose());
        assert_eq!(a.expose(), k.derive(Purpose::Seal, b"").expose());
        assert_eq!(format!("{k:?}"), "VaultKey([redacted])");
    }
}
