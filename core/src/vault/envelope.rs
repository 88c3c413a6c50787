//! The vault key at rest: only ever stored wrapped with age, either to an X25519 identity
//! (identity mode, starts unattended) or to a passphrase (scrypt) plus a second envelope to a
//! recovery X25519 key (passphrase mode, starts sealed).

use std::io::Read;
use std::path::Path;
use std::str::FromStr;

use age::secrecy::{ExposeSecret, SecretString};
use age::x25519;
use zeroize::Zeroizing;

use crate::crypto::VaultKey;

/// The largest scrypt work factor carnetd will spend on a passphrase (2^20 ≈ 1 GiB, ~2.5 s
/// here); a file asking for more is refused instead of tying up the machine.
pub const MAX_SCRYPT_LOG_N: u8 = 20;
/// The work factor new passphrase envelopes use (2^18 ≈ 256 MiB, ~0.6 s here).
pub const DEFAULT_SCRYPT_LOG_N: u8 = 18;

/// How a vault's key file is wrapped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyMode {
    Identity,
    Passphrase,
}

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("{path} is not an age-encrypted key file ({reason})")]
    NotAge { path: String, reason: String },
    #[error("{key_file} cannot be opened with {with}: {reason}")]
    WrongKey {
        key_file: String,
        with: String,
        reason: String,
    },
    #[error("{path}: {reason}")]
    Identity { path: String, reason: String },
    #[error("age encryption failed: {0}")]
    Encrypt(String),
}

fn decryptor<'a>(
    key_file: &Path,
    bytes: &'a [u8],
) -> Result<age::Decryptor<&'a [u8]>, EnvelopeError> {
    age::Decryptor::new(bytes).map_err(|e| EnvelopeError::NotAge {
        path: key_file.display().to_string(),
        reason: e.to_string(),
    })
}

/// Which mode the key file at `key_file` (already read into `bytes`) was written in.
pub fn mode_of(key_file: &Path, bytes: &[u8]) -> Result<KeyMode, EnvelopeError> {
    Ok(if decryptor(key_file, bytes)?.is_scrypt() {
        KeyMode::Passphrase
    } else {
        KeyMode::Identity
    })
}

fn encrypt(recipient: &dyn age::Recipient, key: &VaultKey) -> Result<Vec<u8>, EnvelopeError> {
    let encryptor = age::Encryptor::with_recipients(std::iter::once(recipient))
        .map_err(|e| EnvelopeError::Encrypt(e.to_string()))?;
    let mut out = Vec::new();
    let mut w = encryptor
        .wrap_output(&mut out)
        .map_err(|e| EnvelopeError::Encrypt(e.to_string()))?;
    std::io::Write::write_all(&mut w, key.expose())
        .and_then(|()| w.finish().map(drop))
        .map_err(|e| EnvelopeError::Encrypt(e.to_string()))?;
    Ok(out)
}

/// Wraps the vault key to an X25519 recipient.
pub fn wrap_to_identity(
    key: &VaultKey,
    recipient: &x25519::Recipient,
) -> Result<Vec<u8>, EnvelopeError> {
    encrypt(recipient, key)
}

/// Wraps the vault key to a passphrase with scrypt work factor `2^log_n`.
pub fn wrap_to_passphrase(
    key: &VaultKey,
    passphrase: SecretString,
    log_n: u8,
) -> Result<Vec<u8>, EnvelopeError> {
    let mut recipient = age::scrypt::Recipient::new(passphrase);
    recipient.set_work_factor(log_n.clamp(1, MAX_SCRYPT_LOG_N));
    encrypt(&recipient, key)
}

fn decrypt(
    key_file: &Path,
    bytes: &[u8],
    identity: &dyn age::Identity,
    with: &str,
) -> Result<VaultKey, EnvelopeError> {
    let wrong = |reason: String| EnvelopeError::WrongKey {
        key_file: key_file.display().to_string(),
        with: with.to_owned(),
        reason,
    };
    let mut reader = decryptor(key_file, bytes)?
        .decrypt(std::iter::once(identity))
        .map_err(|e| wrong(e.to_string()))?;
    let mut plain = Zeroizing::new(Vec::with_capacity(32));
    reader
        .read_to_end(&mut plain)
        .map_err(|e| wrong(e.to_string()))?;
    VaultKey::from_slice(&plain).ok_or_else(|| wrong("it does not hold a 32-byte vault key".into()))
}

/// Unwraps with an X25519 identity (identity mode, or a recovery envelope).
pub fn unwrap_with_identity(
    key_file: &Path,
    bytes: &[u8],
    identity: &x25519::Identity,
    identity_name: &str,
) -> Result<VaultKey, EnvelopeError> {
    decrypt(key_file, bytes, identity, identity_name)
}

/// Unwraps with a passphrase, refusing work factors above `MAX_SCRYPT_LOG_N`.
pub fn unwrap_with_passphrase(
    key_file: &Path,
    bytes: &[u8],
    passphrase: SecretString,
) -> Result<VaultKey, EnvelopeError> {
    let mut identity = age::scrypt::Identity::new(passphrase);
    identity.set_max_work_factor(MAX_SCRYPT_LOG_N);
    decrypt(key_file, bytes, &identity, "the passphrase")
}

/// Parses an age identity file: comment lines and exactly one `AGE-SECRET-KEY-1…` line.
pub fn parse_identity(path: &Path, text: &str) -> Result<x25519::Identity, EnvelopeError> {
    let err = |reason: &str| EnvelopeError::Identity {
        path: path.display().to_string(),
        reason: reason.to_owned(),
    };
    let mut keys = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let line = keys
        .next()
        .ok_or_else(|| err("no AGE-SECRET-KEY-1… line in it"))?;
    if keys.next().is_some() {
        return Err(err("more than one key in it; keep exactly one"));
    }
    x25519::Identity::from_str(line)
        .map_err(|_| err("its key line is not an age X25519 secret key (AGE-SECRET-KEY-1…)"))
}

/// The text of a new identity file, in the format `age-keygen` writes.
pub fn identity_file_text(identity: &x25519::Identity, created: &str) -> Zeroizing<String> {
    Zeroizing::new(format!(
        "# created: {created}\n# public key: {}\n# Carnet vault identity: whoever holds this file and the data dir can read the vault.\n{}\n",
        identity.to_public(),
        identity.to_string().expose_secret()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_envelope_opens_only_with_its_identity() {
        let key = VaultKey::generate().unwrap();
        let id = x25519::Identity::generate();
        let other = x25519::Identity::generate();
        let path = Path::new("vault.key.age");
        let wrapped = wrap_to_identity(&key, &id.to_public()).unwrap();
        assert_eq!(mode_of(path, &wrapped).unwrap(), KeyMode::Identity);
        let back = unwrap_with_identity(path, &wrapped, &id, "id").unwrap();
        assert_eq!(back.expose(), key.expose());
        let err = unwrap_with_identity(path, &wrapped, &other, "other.txt").unwrap_err();
        assert!(err.to_string().contains("other.txt"), "{err}");
        assert!(mode_of(path, b"garbage").is_err());
    }

    #[test]
    fn passphrase_envelope_round_trips_and_is_detected() {
        let key = VaultKey::generate().unwrap();
        let path = Path::new("vault.key.age");
        let wrapped = wrap_to_passphrase(&key, SecretString::from("correct horse"), 10).unwrap();
        assert_eq!(mode_of(path, &wrapped).unwrap(), KeyMode::Passphrase);
        let back = unwrap_with_passphrase(path, &wrapped, SecretString::from("correct horse"));
        assert_eq!(back.unwrap().expose(), key.expose());
        assert!(unwrap_with_passphrase(path, &wrapped, SecretString::from("wrong")).is_err());
    }

    #[test]
    fn identity_files_parse_with_comments() {
        let id = x25519::Identity::generate();
        let text = identity_file_text(&id, "now");
        let parsed = parse_identity(Path::new("i.txt"), &text).unwrap();
        assert_eq!(parsed.to_public().to_string(), id.to_public().to_string());
        assert!(parse_identity(Path::new("i.txt"), "# nothing\n").is_err());
        assert!(parse_identity(Path::new("i.txt"), "AGE-SECRET-KEY-1XYZ\n").is_err());
    }
}
