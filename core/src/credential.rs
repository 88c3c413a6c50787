//! Credentials: high-entropy random strings in base64url without padding. Only their SHA-256
//! is stored (no slow hash is needed for 256 random bits), and checks compare in constant time.

use std::fmt;

use data_encoding::BASE64URL_NOPAD;
use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Fills `buf` from the operating system's CSPRNG.
pub fn fill_random(buf: &mut [u8]) {
    // The OS RNG does not fail on supported platforms.
    SystemRandom::new().fill(buf).expect("operating system RNG");
}

/// `N` bytes from the operating system's CSPRNG.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    fill_random(&mut bytes);
    bytes
}

/// A freshly minted credential, shown once and then dropped (wiped).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Credential(String);

impl Credential {
    /// 256 random bits.
    pub fn generate() -> Credential {
        let mut bytes = random_bytes::<32>();
        let s = BASE64URL_NOPAD.encode(&bytes);
        bytes.zeroize();
        Credential(s)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> [u8; 32] {
        hash(&self.0)
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credential([redacted])")
    }
}

/// SHA-256 of a presented credential.
pub fn hash(presented: &str) -> [u8; 32] {
    let d = digest(&SHA256, presented.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// Whether `presented` hashes to any of `stored`, comparing every candidate in constant time.
pub fn matches_any(presented: &str, stored: &[Vec<u8>]) -> bool {
    let h = hash(presented);
    stored
        .iter()
        .fold(subtle::Choice::from(0), |acc, s| {
            acc | h.as_slice().ct_eq(s)
        })
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_url_safe_and_checked_by_hash() {
        let c = Credential::generate();
        assert_eq!(c.expose().len(), 43);
        assert!(
            c.expose()
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let stored = vec![c.hash().to_vec()];
        assert!(matches_any(c.expose(), &stored));
        assert!(!matches_any("guess", &stored));
        assert!(!matches_any(c.expose(), &[]));
    }
}
