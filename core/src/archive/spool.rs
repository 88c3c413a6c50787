//! An import's upload, spooled to disk before the import takes the single writer, so a slow
//! or stalled upload holds a temporary file and never the vault. The file is unnamed in the
//! data directory (gone when closed, or if carnetd dies) and sealed in chunks under a key
//! that lives only in memory for the one upload: the plaintext archive never reaches the disk.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, Nonce, UnboundKey};

/// Plaintext per sealed chunk.
const CHUNK: usize = 64 * 1024;

/// Copies `input` (the upload, through its pipe) into a new spool in `dir`, and hands back a
/// reader of what was written. An error from `input` (the upload was cut) ends it.
pub fn fill(dir: &Path, mut input: impl Read) -> io::Result<SpoolReader> {
    let key_bytes = crate::credential::random_bytes::<32>();
    let key = || {
        UnboundKey::new(&CHACHA20_POLY1305, &key_bytes)
            .map(LessSafeKey::new)
            .map_err(|_| io::Error::other("the spool key was refused"))
    };
    let mut out = BufWriter::new(tempfile::tempfile_in(dir)?);
    let sealing = key()?;
    let mut buf = vec![0u8; CHUNK];
    let mut chunks: u64 = 0;
    loop {
        let n = read_full(&mut input, &mut buf)?;
        if n == 0 {
            break;
        }
        let mut sealed = buf[..n].to_vec();
        sealing
            .seal_in_place_append_tag(nonce(chunks), Aad::empty(), &mut sealed)
            .map_err(|_| io::Error::other("a spool chunk could not be sealed"))?;
        out.write_all(&(sealed.len() as u32).to_be_bytes())?;
        out.write_all(&sealed)?;
        chunks += 1;
        if n < CHUNK {
            break;
        }
    }
    let mut file = out.into_inner().map_err(|e| e.into_error())?;
    file.seek(SeekFrom::Start(0))?;
    Ok(SpoolReader {
        file: BufReader::new(file),
        key: key()?,
        chunks,
        next: 0,
        plain: Vec::new(),
        at: 0,
    })
}

/// Reads until `buf` is full or the input ends.
fn read_full(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match input.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn nonce(chunk: u64) -> Nonce {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&chunk.to_be_bytes());
    Nonce::assume_unique_for_key(n)
}

/// The spooled upload, read back in order and opened chunk by chunk.
pub struct SpoolReader {
    file: BufReader<File>,
    key: LessSafeKey,
    chunks: u64,
    next: u64,
    plain: Vec<u8>,
    at: usize,
}

impl SpoolReader {
    fn next_chunk(&mut self) -> io::Result<bool> {
        if self.next == self.chunks {
            return Ok(false);
        }
        let broken = || io::Error::other("the spooled upload does not read back");
        let mut len = [0u8; 4];
        self.file.read_exact(&mut len)?;
        let len = u32::from_be_bytes(len) as usize;
        if len > CHUNK + CHACHA20_POLY1305.tag_len() {
            return Err(broken());
        }
        let mut sealed = vec![0u8; len];
        self.file.read_exact(&mut sealed)?;
        let n = self
            .key
            .open_in_place(nonce(self.next), Aad::empty(), &mut sealed)
            .map_err(|_| broken())?
            .len();
        sealed.truncate(n);
        self.plain = sealed;
        self.at = 0;
        self.next += 1;
        Ok(true)
    }
}

impl Read for SpoolReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.plain.len() {
            if !self.next_chunk()? {
                return Ok(0);
            }
        }
        let n = buf.len().min(self.plain.len() - self.at);
        buf[..n].copy_from_slice(&self.plain[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_spooled_reads_back_whole_and_is_not_on_disk_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let text: Vec<u8> = (0..(3 * CHUNK + 123)).map(|i| b"carnet"[i % 6]).collect();
        let mut r = fill(dir.path(), &text[..]).unwrap();
        let mut back = Vec::new();
        r.read_to_end(&mut back).unwrap();
        assert_eq!(back, text);
        let mut raw = Vec::new();
        r.file.seek(SeekFrom::Start(0)).unwrap();
        r.file.read_to_end(&mut raw).unwrap();
        assert!(!raw.windows(6).any(|w| w == b"carnet"), "sealed on disk");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "unnamed");

        let mut empty = fill(dir.path(), &b""[..]).unwrap();
        assert_eq!(empty.read(&mut [0u8; 8]).unwrap(), 0);
    }

    #[test]
    fn an_upload_error_ends_the_spool_with_it() {
        struct Cut;
        impl Read for Cut {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("cut"))
            }
        }
        let dir = tempfile::tempdir().unwrap();
        assert!(fill(dir.path(), Cut).is_err());
    }
}
