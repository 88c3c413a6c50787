//! The relay's keys and how they are written as text: Ed25519 (ring) for signatures, X25519
//! (age) for encryption, and the private key files the tools write.
//!
//! In text, an Ed25519 public key is its 32 bytes in base64url without padding; an X25519 key is
//! age's `age1…` recipient (public) or `AGE-SECRET-KEY-1…` identity (private). Private keys have
//! no `Serialize`, a redacted `Debug`, and are zeroed on drop; this module never prints one.

use std::fmt;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use data_encoding::BASE64URL_NOPAD;
use ring::rand::SystemRandom;
use ring::signature::{self, Ed25519KeyPair, KeyPair};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// Why a key, or a key file, could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("not an Ed25519 public key (43 base64url characters without padding)")]
    BadEd25519,
    #[error("not an X25519 public key (an age1… recipient)")]
    BadX25519,
    #[error("{path} is not a {what} key file")]
    BadFile { path: String, what: &'static str },
    #[error("{path} exists already, and is never overwritten")]
    Exists { path: String },
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
}

/// Encodes bytes as base64url without padding, the relay's one text encoding for bytes.
pub fn b64(bytes: &[u8]) -> String {
    BASE64URL_NOPAD.encode(bytes)
}

/// Decodes base64url without padding; `None` for anything else (padding, `+`, `/`, spaces).
pub fn unb64(text: &str) -> Option<Vec<u8>> {
    BASE64URL_NOPAD.decode(text.as_bytes()).ok()
}

/// `n` random bytes from the system's generator.
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The system generator fails only when the OS has no entropy source at all; then nothing
    // here can work safely, so stopping is the right outcome.
    ring::rand::SecureRandom::fill(&SystemRandom::new(), &mut out).expect("system random source");
    out
}

/// An Ed25519 public key: verifies signatures, never makes one.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerifyingKey([u8; 32]);

impl VerifyingKey {
    /// Whether `signature` is this key's signature of exactly `message`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        signature::UnparsedPublicKey::new(&signature::ED25519, &self.0)
            .verify(message, signature)
            .is_ok()
    }

    /// The key's 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl FromStr for VerifyingKey {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        let bytes = unb64(s.trim()).ok_or(KeyError::BadEd25519)?;
        Ok(VerifyingKey(
            bytes.try_into().map_err(|_| KeyError::BadEd25519)?,
        ))
    }
}

impl fmt::Display for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&b64(&self.0))
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({self})")
    }
}

/// An Ed25519 private key (kept as its PKCS#8 document, zeroed on drop).
pub struct SigningKey {
    pkcs8: Zeroizing<Vec<u8>>,
    pair: Ed25519KeyPair,
}

impl SigningKey {
    /// A new random key.
    pub fn generate() -> Self {
        // ring fails to generate only without a system random source (see `random_bytes`).
        let doc = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("ed25519 keygen");
        Self::from_pkcs8(doc.as_ref()).expect("a key ring just made parses")
    }

    /// The key from its PKCS#8 v2 document; `None` when the bytes are not one.
    pub fn from_pkcs8(der: &[u8]) -> Option<Self> {
        let pair = Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).ok()?;
        Some(SigningKey {
            pkcs8: Zeroizing::new(der.to_vec()),
            pair,
        })
    }

    /// The PKCS#8 document, for a caller that seals it (the vault keeps per-intent keys so).
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        let mut out = [0u8; 32];
        out.copy_from_slice(self.pair.public_key().as_ref());
        VerifyingKey(out)
    }

    /// The Ed25519 signature of exactly `message`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        self.pair.sign(message).as_ref().to_vec()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SigningKey(public {}, private redacted)",
            self.verifying_key()
        )
    }
}

/// An X25519 public key, as age's `age1…` recipient: what offers and answers are encrypted to.
#[derive(Clone)]
pub struct Recipient(age::x25519::Recipient);

impl Recipient {
    /// Encrypts `plaintext` to this key (age's binary format).
    pub fn encrypt(&self, plaintext: &[u8]) -> Vec<u8> {
        // Encryption to one X25519 recipient into memory has no failure case but a bug in age.
        age::encrypt(&self.0, plaintext).expect("age encryption into memory")
    }

    /// Encrypts `plaintext` once, to every key of `recipients` (age's binary format: each can
    /// decrypt it, none learns who the others are); `None` when there is no recipient.
    pub fn encrypt_to_all(recipients: &[Recipient], plaintext: &[u8]) -> Option<Vec<u8>> {
        let keys = recipients.iter().map(|r| &r.0 as &dyn age::Recipient);
        let encryptor = age::Encryptor::with_recipients(keys).ok()?;
        let mut out = Vec::with_capacity(plaintext.len() + 200 * recipients.len());
        // Writing into memory fails only on a bug in age, as in `encrypt`.
        let mut writer = encryptor
            .wrap_output(&mut out)
            .expect("age encryption into memory");
        std::io::Write::write_all(&mut writer, plaintext).expect("age encryption into memory");
        writer.finish().expect("age encryption into memory");
        Some(out)
    }
}

impl FromStr for Recipient {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, KeyError> {
        age::x25519::Recipient::from_str(s.trim())
            .map(Recipient)
            .map_err(|_| KeyError::BadX25519)
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recipient({self})")
    }
}

impl PartialEq for Recipient {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}

/// An X25519 private key (age identity): decrypts what was encrypted to its `Recipient`.
#[derive(Clone)]
pub struct Identity(age::x25519::Identity);

impl Identity {
    /// A new random key.
    pub fn generate() -> Self {
        Identity(age::x25519::Identity::generate())
    }

    /// The public half.
    pub fn recipient(&self) -> Recipient {
        Recipient(self.0.to_public())
    }

    /// Decrypts age ciphertext made for this key; `None` when it was not, or was altered.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Option<Vec<u8>> {
        age::decrypt(&self.0, ciphertext).ok()
    }

    /// The `AGE-SECRET-KEY-1…` text, zeroed on drop, for a caller that seals or saves it.
    pub fn secret_text(&self) -> Zeroizing<String> {
        Zeroizing::new(self.0.to_string().expose_secret().to_owned())
    }

    /// The key from its `AGE-SECRET-KEY-1…` text.
    pub fn from_secret_text(text: &str) -> Option<Self> {
        age::x25519::Identity::from_str(text.trim())
            .ok()
            .map(Identity)
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identity(public {}, private redacted)", self.recipient())
    }
}

/// The operator's key file (`carnet-market keygen`): the Ed25519 key that signs the directory.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct OperatorKeyText {
    /// Always `carnet-market-operator-key/1`.
    kind: String,
    /// The PKCS#8 v2 document, base64url without padding.
    ed25519_pkcs8: String,
}

/// The vendor's key file (`carnet-vendor keygen`): its directory Ed25519 (offers) and X25519
/// (answers, and sealed intents next) keys.
#[derive(Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct VendorKeyText {
    /// Always `carnet-vendor-key/1`.
    kind: String,
    ed25519_pkcs8: String,
    x25519: String,
}

const OPERATOR_KIND: &str = "carnet-market-operator-key/1";
const VENDOR_KIND: &str = "carnet-vendor-key/1";

/// A vendor's two private keys.
#[derive(Debug)]
pub struct VendorKeys {
    pub signing: SigningKey,
    pub identity: Identity,
}

impl VendorKeys {
    /// New random keys.
    pub fn generate() -> Self {
        VendorKeys {
            signing: SigningKey::generate(),
            identity: Identity::generate(),
        }
    }

    /// Writes them to a new file `path` (mode 0600); refuses an existing file.
    pub fn write_new(&self, path: &Path) -> Result<(), KeyError> {
        let text = VendorKeyText {
            kind: VENDOR_KIND.into(),
            ed25519_pkcs8: b64(self.signing.pkcs8()),
            x25519: self.identity.secret_text().to_string(),
        };
        write_secret(path, &text)
    }

    /// Reads a file `write_new` wrote.
    pub fn read(path: &Path) -> Result<Self, KeyError> {
        let text: VendorKeyText = read_secret(path, "carnet-vendor")?;
        let bad = || KeyError::BadFile {
            path: path.display().to_string(),
            what: "carnet-vendor",
        };
        if text.kind != VENDOR_KIND {
            return Err(bad());
        }
        let der = Zeroizing::new(unb64(&text.ed25519_pkcs8).ok_or_else(bad)?);
        Ok(VendorKeys {
            signing: SigningKey::from_pkcs8(&der).ok_or_else(bad)?,
            identity: Identity::from_secret_text(&text.x25519).ok_or_else(bad)?,
        })
    }
}

/// Writes the operator's signing key to a new file `path` (mode 0600); refuses an existing file.
pub fn write_operator_key(key: &SigningKey, path: &Path) -> Result<(), KeyError> {
    let text = OperatorKeyText {
        kind: OPERATOR_KIND.into(),
        ed25519_pkcs8: b64(key.pkcs8()),
    };
    write_secret(path, &text)
}

/// Reads a file `write_operator_key` wrote.
pub fn read_operator_key(path: &Path) -> Result<SigningKey, KeyError> {
    let text: OperatorKeyText = read_secret(path, "carnet-market operator")?;
    let bad = || KeyError::BadFile {
        path: path.display().to_string(),
        what: "carnet-market operator",
    };
    if text.kind != OPERATOR_KIND {
        return Err(bad());
    }
    let der = Zeroizing::new(unb64(&text.ed25519_pkcs8).ok_or_else(bad)?);
    SigningKey::from_pkcs8(&der).ok_or_else(bad)
}

fn write_secret<T: Serialize>(path: &Path, value: &T) -> Result<(), KeyError> {
    // Serialising a struct of strings cannot fail.
    let mut body = Zeroizing::new(serde_json::to_vec_pretty(value).expect("key file JSON"));
    body.push(b'\n');
    write_new_private_file(path, &body)
}

/// Writes `bytes` to a new file `path` of mode 0600, synced; refuses an existing file. Key
/// files and NATS credentials files (`creds`) are written so.
pub fn write_new_private_file(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let shown = || path.display().to_string();
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|source| match source.kind() {
            std::io::ErrorKind::AlreadyExists => KeyError::Exists { path: shown() },
            _ => KeyError::Io {
                action: "create",
                path: shown(),
                source,
            },
        })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|source| KeyError::Io {
            action: "write",
            path: shown(),
            source,
        })
}

fn read_secret<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &'static str,
) -> Result<T, KeyError> {
    let shown = || path.display().to_string();
    let body = Zeroizing::new(std::fs::read(path).map_err(|source| KeyError::Io {
        action: "read",
        path: shown(),
        source,
    })?);
    serde_json::from_slice(&body).map_err(|_| KeyError::BadFile {
        path: shown(),
        what,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_for_its_key_and_message() {
        let key = SigningKey::generate();
        let sig = key.sign(b"hello");
        let public: VerifyingKey = key.verifying_key().to_string().parse().unwrap();
        assert!(public.verify(b"hello", &sig));
        assert!(!public.verify(b"hellp", &sig));
        assert!(
            !SigningKey::generate()
                .verifying_key()
                .verify(b"hello", &sig)
        );
    }

    #[test]
    fn key_files_are_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vendor.key");
        let keys = VendorKeys::generate();
        keys.write_new(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
            0o600
        );
        assert!(matches!(
            VendorKeys::generate().write_new(&path),
            Err(KeyError::Exists { .. })
        ));
        let back = VendorKeys::read(&path).unwrap();
        assert_eq!(back.signing.verifying_key(), keys.signing.verifying_key());
        assert_eq!(back.identity.recipient(), keys.identity.recipient());
        assert!(read_operator_key(&path).is_err());
    }

    #[test]
    fn public_keys_in_text_are_strict() {
        assert!("not a key".parse::<VerifyingKey>().is_err());
        let key = SigningKey::generate().verifying_key().to_string();
        assert_eq!(key.len(), 43);
        assert!(format!("{key}=").parse::<VerifyingKey>().is_err());
        assert!("age1nope".parse::<Recipient>().is_err());
    }
}
