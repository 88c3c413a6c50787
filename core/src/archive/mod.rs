//! The export archive (`carnet_schemas::Archive`): writing a vault out as one JSON document and
//! reading one into an empty vault. Both stream: the export walks one read snapshot row by row
//! into a bounded pipe; the import spools the upload (sealed, to an unnamed file: `spool`)
//! without taking the writer, then parses it record by record inside a single write
//! transaction. Neither holds more than a few records (and a few pipe chunks) in memory, and
//! a refused import leaves the vault exactly as it was.
//!
//! Encryption is not done here: the CLI encrypts and decrypts with age on the owner's machine,
//! so passphrases and identities never reach the server. Never exported: the owner token,
//! access and refresh tokens, authorization codes, invitations and the webhook outbox, nor the
//! market relay's intent keys and outbox (`market`).

mod documents;
pub mod export;
pub mod import;
mod market;
mod parse;
mod sections;
pub mod spool;

use std::io::{self, Read, Write};

use bytes::Bytes;
use carnet_schemas::ArchivedOfferState;
use tokio::sync::mpsc;

use crate::store::intents::StoredOfferState;

/// An offer's stored state as the archive writes it (vendors' offers and market offers alike).
impl From<StoredOfferState> for ArchivedOfferState {
    fn from(s: StoredOfferState) -> Self {
        match s {
            StoredOfferState::Pending => ArchivedOfferState::Pending,
            StoredOfferState::Accepted => ArchivedOfferState::Accepted,
            StoredOfferState::Declined => ArchivedOfferState::Declined,
        }
    }
}

/// An archived offer's state as it is stored again.
impl From<ArchivedOfferState> for StoredOfferState {
    fn from(s: ArchivedOfferState) -> Self {
        match s {
            ArchivedOfferState::Pending => StoredOfferState::Pending,
            ArchivedOfferState::Accepted => StoredOfferState::Accepted,
            ArchivedOfferState::Declined => StoredOfferState::Declined,
        }
    }
}

/// Size of the chunks the export sends down its pipe.
const CHUNK: usize = 64 * 1024;

/// The blocking end of the export pipe: bytes written here are sent in chunks of `CHUNK` to
/// the response body. A reader that went away (client disconnected) is `BrokenPipe`.
pub struct ChannelWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChannelWriter {
    pub fn new(tx: mpsc::Sender<io::Result<Bytes>>) -> Self {
        ChannelWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }

    /// Sends what is buffered; the body ends when the writer is dropped.
    pub fn finish(mut self) -> io::Result<()> {
        self.send()
    }

    /// Ends the body with an error, so the client sees a cut transfer, not a short archive.
    pub fn fail(self) {
        let _ = self
            .tx
            .blocking_send(Err(io::Error::other("the export failed")));
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The blocking end of the import pipe: reads what the request body delivers. The sender
/// ends the stream (EOF) when the body is complete, or sends an error first when it was cut.
pub struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    chunk: Bytes,
}

impl ChannelReader {
    pub fn new(rx: mpsc::Receiver<io::Result<Bytes>>) -> Self {
        ChannelReader {
            rx,
            chunk: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Err(e)) => return Err(e),
                Some(Ok(b)) => self.chunk = b,
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}
