//! The streaming AEAD of documents: a document is cut into `CHUNK` plaintext chunks, each
//! sealed on its own with ChaCha20-Poly1305 under a key derived for that document
//! (`Purpose::Document` with the document's id), a random nonce, and associated data naming
//! the document, the chunk's position and whether it is the last. So a chunk moved to another
//! position or another document does not open, and a document whose last chunk was dropped
//! (cut) is told apart from a whole one: the reader (`read::Chunks`) demands that the chunks
//! run 0, 1, 2, … and end with the one marked last. Never holds more than one chunk.

use ring::aead::{CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, UnboundKey};
use ring::rand::SystemRandom;
use zeroize::Zeroizing;

use crate::crypto::{Keys, Purpose, open_blob, seal_blob};

/// The plaintext size of every chunk but the last (which may be shorter, or empty for an
/// empty document).
pub const CHUNK: usize = 64 * 1024;
/// Format version of a sealed chunk (its first byte).
const CHUNK_V1: u8 = 1;
const TAG_LEN: usize = 16;
/// What sealing adds to a chunk: the version, the nonce, the tag.
pub const OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// A sealed chunk did not open: it was altered, moved, swapped from another document, cut,
/// or sealed under another vault key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("chunk {position} of document {document} cannot be opened: it was altered, moved or cut")]
pub struct BadChunk {
    pub document: String,
    pub position: u64,
}

/// The key that seals and opens the chunks of one document. Wiped with the ring key it holds.
pub struct ChunkKey {
    document: String,
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for ChunkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ChunkKey({}, [redacted])", self.document)
    }
}

fn associated_data(document: &str, position: u64, last: bool) -> Vec<u8> {
    let mut aad = Vec::with_capacity(48 + document.len());
    aad.extend_from_slice(b"carnet/v1/document_chunks/");
    aad.extend_from_slice(document.as_bytes());
    aad.push(b'/');
    aad.extend_from_slice(&position.to_be_bytes());
    aad.push(u8::from(last));
    aad
}

impl ChunkKey {
    /// The key of document `document` (its id).
    pub fn new(keys: &Keys, document: &str) -> Self {
        let sub = keys.derive(Purpose::Document, document.as_bytes());
        // A 32-byte key is always valid for ChaCha20-Poly1305.
        let unbound =
            UnboundKey::new(&CHACHA20_POLY1305, sub.expose()).expect("32-byte ChaCha20 key");
        ChunkKey {
            document: document.to_owned(),
            key: LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
        }
    }

    /// Seals chunk `position` (`last` if no chunk follows it).
    pub fn seal(&self, position: u64, last: bool, plaintext: &[u8]) -> Vec<u8> {
        let aad = associated_data(&self.document, position, last);
        seal_blob(&self.key, &self.rng, CHUNK_V1, &aad, plaintext)
    }

    /// Opens the chunk stored at `position`: its plaintext (wiped when dropped) and whether it
    /// is the last. It opens only as what it was sealed as (this document, this position).
    pub fn open(&self, position: u64, blob: &[u8]) -> Result<(Zeroizing<Vec<u8>>, bool), BadChunk> {
        if blob.len() <= OVERHEAD + CHUNK {
            // Which of the two it was sealed as is part of what the tag proves: try both.
            for last in [false, true] {
                let aad = associated_data(&self.document, position, last);
                if let Some(plain) = open_blob(&self.key, CHUNK_V1, &aad, blob) {
                    return Ok((plain, last));
                }
            }
        }
        Err(BadChunk {
            document: self.document.clone(),
            position,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::VaultKey;

    fn keys() -> Keys {
        Keys::new(VaultKey::generate().unwrap())
    }

    #[test]
    fn a_chunk_opens_as_what_it_was_sealed_as() {
        let keys = keys();
        let k = ChunkKey::new(&keys, "doc_a");
        let blob = k.seal(3, false, b"hello");
        let (plain, last) = k.open(3, &blob).unwrap();
        assert_eq!((&plain[..], last), (&b"hello"[..], false));
        let blob = k.seal(4, true, b"");
        assert!(k.open(4, &blob).unwrap().1);
        assert!(
            !k.seal(0, true, b"secret")
                .windows(6)
                .any(|w| w == b"secret")
        );
    }

    #[test]
    fn a_chunk_at_another_position_does_not_open() {
        let keys = keys();
        let k = ChunkKey::new(&keys, "doc_a");
        let blob = k.seal(1, false, b"second");
        assert_eq!(
            k.open(0, &blob),
            Err(BadChunk {
                document: "doc_a".into(),
                position: 0
            })
        );
        assert!(k.open(2, &blob).is_err());
    }

    #[test]
    fn a_chunk_of_another_document_or_vault_does_not_open() {
        let keys = keys();
        let a = ChunkKey::new(&keys, "doc_a");
        let b = ChunkKey::new(&keys, "doc_b");
        let blob = a.seal(0, true, b"mine");
        assert!(b.open(0, &blob).is_err());
        let other = ChunkKey::new(&self::keys(), "doc_a");
        assert!(other.open(0, &blob).is_err());
    }

    #[test]
    fn an_altered_or_truncated_chunk_does_not_open() {
        let keys = keys();
        let k = ChunkKey::new(&keys, "doc_a");
        let blob = k.seal(0, true, &[7u8; 1000]);
        for i in [0, 5, 20, blob.len() - 1] {
            let mut bad = blob.clone();
            bad[i] ^= 1;
            assert!(k.open(0, &bad).is_err(), "byte {i} flipped");
        }
        assert!(k.open(0, &blob[..blob.len() - 1]).is_err());
        assert!(k.open(0, &blob[..OVERHEAD - 1]).is_err());
        assert!(k.open(0, &[]).is_err());
    }
}
