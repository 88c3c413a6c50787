//! Reading a document back: one sealed chunk read and opened at a time (a short indexed read
//! each, so a download never holds a reader connection between chunks), checked to run 0, 1,
//! 2, … up to the one marked last and to add up to the stored size. Never hands out a byte of
//! a chunk that did not open, nor ends a document that was cut as if it were whole.

use std::io::{self, Read};
use std::sync::Arc;

use zeroize::Zeroizing;

use super::DocumentError;
use super::chunk::{BadChunk, ChunkKey};
use crate::crypto::Keys;
use crate::store::Store;
use crate::store::documents as rows;

/// The plaintext of one document, chunk by chunk: an `Iterator` of chunks, and a `Read`.
pub struct Reader {
    store: Arc<Store>,
    key: ChunkKey,
    id: String,
    size: u64,
    /// The next chunk's position.
    next: u64,
    /// Bytes handed out so far.
    read: u64,
    /// The first chunk, opened by `start`, not yet handed out.
    first: Option<Zeroizing<Vec<u8>>>,
    /// Whether the chunk marked last was handed out.
    done: bool,
    /// What `Read` has yet to copy out of the current chunk.
    pending: Zeroizing<Vec<u8>>,
    pending_at: usize,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Reader({}, chunk {})", self.id, self.next)
    }
}

impl Reader {
    /// A reader of document `id` (of `size` bytes), its first chunk already opened.
    pub(super) fn start(
        store: Arc<Store>,
        keys: &Keys,
        id: &str,
        size: u64,
    ) -> Result<Reader, DocumentError> {
        let mut r = Reader {
            store,
            key: ChunkKey::new(keys, id),
            id: id.to_owned(),
            size,
            next: 0,
            read: 0,
            first: None,
            done: false,
            pending: Zeroizing::new(Vec::new()),
            pending_at: 0,
        };
        r.first = r.next_chunk()?;
        Ok(r)
    }

    fn cut(&self) -> DocumentError {
        DocumentError::BadChunk(BadChunk {
            document: self.id.clone(),
            position: self.next,
        })
    }

    /// Reads and opens the next chunk; `None` once the last was handed out.
    fn next_chunk(&mut self) -> Result<Option<Zeroizing<Vec<u8>>>, DocumentError> {
        if self.done {
            return Ok(None);
        }
        let (id, position) = (self.id.clone(), self.next);
        // A missing chunk before the one marked last is a cut document.
        let blob = self
            .store
            .read(|c| rows::chunk(c, &id, position))?
            .ok_or_else(|| self.cut())?;
        let (plain, last) = self.key.open(position, &blob)?;
        self.read += plain.len() as u64;
        if self.read > self.size || (last && self.read != self.size) {
            return Err(self.cut());
        }
        self.next += 1;
        self.done = last;
        Ok(Some(plain))
    }
}

impl Iterator for Reader {
    type Item = Result<Zeroizing<Vec<u8>>, DocumentError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(first) = self.first.take() {
            return Some(Ok(first));
        }
        self.next_chunk().transpose()
    }
}

impl Read for Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pending_at == self.pending.len() {
            match self.next() {
                None => return Ok(0),
                Some(Err(e)) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
                Some(Ok(chunk)) => {
                    self.pending = chunk;
                    self.pending_at = 0;
                }
            }
        }
        let n = buf.len().min(self.pending.len() - self.pending_at);
        buf[..n].copy_from_slice(&self.pending[self.pending_at..self.pending_at + n]);
        self.pending_at += n;
        Ok(n)
    }
}
