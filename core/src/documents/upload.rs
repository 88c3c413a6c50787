//! Adding a document: its source is read a chunk at a time (with one chunk of look-ahead, to
//! know which is the last), each chunk sealed (`chunk`) and stored with the others of its
//! batch in one write through the one writer, the row `uploading` until the end, then marked
//! `complete` with its sealed description (and put in the ledger index in that write).
//! Blocking: run it off the async workers. Never keeps
//! more than a batch in memory; never stores past the size limit or the quota (checked before
//! each chunk is sealed, and again against the other documents inside each batch's write);
//! never leaves the rows of a failed upload behind.

use std::io::{self, Read};
use std::sync::Arc;

use carnet_schemas::ids::ID_RANDOM_BYTES;
use carnet_schemas::{Document, DocumentId, Line};
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use zeroize::Zeroizing;

use super::chunk::{CHUNK, ChunkKey};
use super::{Attachment, DocumentError, Limits, Meta, NewDocument, sniff, wire};
use crate::credential::random_bytes;
use crate::crypto::{Keys, Table};
use crate::ledger::index::{LedgerIndex, Op};
use crate::store::documents::{self as rows, DocumentRow};
use crate::store::{Store, StoreError, records};

/// How many chunks are stored in one write (1 MiB of plaintext).
pub const BATCH_CHUNKS: usize = 16;

/// Runs `f` in the writer's next batch and waits for it, from a blocking thread.
fn write_blocking<T: Send + 'static>(
    store: &Store,
    f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    store
        .submit(f)?
        .blocking_recv()
        .map_err(|_| StoreError::WriterGone)?
}

/// Reads up to one chunk from `source` (less only at its end).
fn fill(source: &mut impl Read) -> Result<Zeroizing<Vec<u8>>, DocumentError> {
    let mut buf = Zeroizing::new(vec![0u8; CHUNK]);
    let mut n = 0;
    while n < CHUNK {
        match source.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(DocumentError::Cut(e.to_string())),
        }
    }
    buf.truncate(n);
    Ok(buf)
}

/// The file's own name: what follows the last `/` or `\`, if anything does.
fn base_name(name: Option<Line>) -> Option<Line> {
    let name = name?;
    let base = name.as_str().rsplit(['/', '\\']).next().unwrap_or_default();
    base.trim().parse().ok()
}

/// What the first write found.
enum Started {
    Yes,
    NoRecord,
    OverQuota,
}

/// What a batch's write found.
enum Appended {
    Yes,
    Gone,
    OverQuota,
}

/// Adds a document read from `source`: sealed chunk by chunk, stored in batches, complete
/// when its last chunk is. On any failure (the source fails, a limit is passed, the record it
/// is attached to is deleted meanwhile) nothing of it is left. Blocking.
pub fn add(
    store: &Store,
    keys: &Arc<Keys>,
    index: &Arc<LedgerIndex>,
    new: NewDocument,
    limits: Limits,
    mut source: impl Read,
    now: DateTime<Utc>,
) -> Result<Document, DocumentError> {
    let id: DocumentId = carnet_schemas::Id::from_random(&random_bytes::<ID_RANDOM_BYTES>());
    let mut meta = Meta {
        title: new.title,
        file_name: base_name(new.file_name),
        content_type: sniff::OCTET_STREAM.to_owned(),
        shared: false,
    };
    let row = DocumentRow {
        id: id.to_string(),
        vendor_id: String::new(),
        purchase_id: None,
        incident_id: None,
        interaction_id: None,
        size: 0,
        created_at: now,
        updated_at: now,
        blob: keys.seal().seal(id.as_str(), &meta).as_bytes().to_vec(),
    };
    let attachment = new.attachment.clone();
    let quota = limits.quota_bytes;
    let started = write_blocking(store, move |c| {
        let mut row = row;
        let vendor = match &attachment {
            Attachment::Vendor(v) => {
                records::exists(c, Table::Vendors, v.as_str())?.then(|| v.to_string())
            }
            Attachment::Purchase(p) => {
                row.purchase_id = Some(p.to_string());
                rows::vendor_of(c, "purchases", p.as_str())?
            }
            Attachment::Incident(i) => {
                row.incident_id = Some(i.to_string());
                rows::vendor_of(c, "incidents", i.as_str())?
            }
            Attachment::Interaction(i) => {
                row.interaction_id = Some(i.to_string());
                rows::vendor_of(c, "interactions", i.as_str())?
            }
        };
        let Some(vendor) = vendor else {
            return Ok(Started::NoRecord);
        };
        if rows::used_bytes(c, &row.id)? > quota {
            return Ok(Started::OverQuota);
        }
        row.vendor_id = vendor;
        rows::insert_uploading(c, &row)?;
        Ok(Started::Yes)
    })?;
    match started {
        Started::Yes => {}
        Started::NoRecord => {
            return Err(DocumentError::NoRecord {
                noun: new.attachment.kind().as_str(),
                id: new.attachment.id().to_owned(),
            });
        }
        Started::OverQuota => return Err(over_quota(limits)),
    }
    let key = ChunkKey::new(keys, id.as_str());
    match upload(store, &key, id.as_str(), limits, &mut source, &mut meta) {
        Ok(size) => {
            let sealed = keys.seal().seal(id.as_str(), &meta);
            let row_id = id.to_string();
            let opener = Arc::clone(keys);
            // Complete, and in the index, in one write: found by search from its commit on.
            let done = index.write_blocking(store, move |c| {
                if !rows::complete(c, &row_id, size, sealed.as_bytes())? {
                    return Ok((None, Vec::new()));
                }
                let Some(row) = rows::get(c, &row_id)? else {
                    return Ok((None, Vec::new()));
                };
                let doc = wire(&opener, &row).map(|(d, _)| d);
                let ops = match &doc {
                    Ok(d) => vec![Op::Put(super::index::item(d))],
                    Err(_) => Vec::new(),
                };
                Ok((Some(doc), ops))
            })?;
            match done {
                Some(doc) => doc,
                None => Err(gone(&new.attachment)),
            }
        }
        Err(e) => {
            let row_id = id.to_string();
            if let Err(d) = write_blocking(store, move |c| rows::delete(c, &row_id)) {
                // Left `uploading`: the next unlock purges it.
                tracing::error!(error = %d, "a failed upload's rows could not be deleted");
            }
            Err(match e {
                Fail::Gone => gone(&new.attachment),
                Fail::Doc(e) => e,
            })
        }
    }
}

fn over_quota(limits: Limits) -> DocumentError {
    DocumentError::OverQuota {
        quota_mib: limits.quota_bytes >> 20,
    }
}

fn gone(a: &Attachment) -> DocumentError {
    DocumentError::NoRecord {
        noun: a.kind().as_str(),
        id: a.id().to_owned(),
    }
}

enum Fail {
    /// The document's row is gone: its record (or vendor) was deleted during the upload.
    Gone,
    Doc(DocumentError),
}

impl From<DocumentError> for Fail {
    fn from(e: DocumentError) -> Self {
        Fail::Doc(e)
    }
}

impl From<StoreError> for Fail {
    fn from(e: StoreError) -> Self {
        Fail::Doc(e.into())
    }
}

/// Reads, seals and stores every chunk; the document's size. Sets `meta`'s content type
/// from the first chunk.
fn upload(
    store: &Store,
    key: &ChunkKey,
    id: &str,
    limits: Limits,
    source: &mut impl Read,
    meta: &mut Meta,
) -> Result<u64, Fail> {
    let mut batch: Vec<(u64, Vec<u8>)> = Vec::with_capacity(BATCH_CHUNKS);
    let (mut position, mut size) = (0u64, 0u64);
    // What the other documents held at the last batch's write.
    let mut others = store.read(|c| rows::used_bytes(c, id))?;
    let mut cur = fill(source)?;
    loop {
        let next = if cur.len() == CHUNK {
            fill(source)?
        } else {
            Zeroizing::new(Vec::new())
        };
        let last = next.is_empty();
        size += cur.len() as u64;
        if size > limits.max_bytes {
            return Err(DocumentError::TooLarge {
                limit_mib: limits.max_bytes >> 20,
            }
            .into());
        }
        if others + size > limits.quota_bytes {
            return Err(over_quota(limits).into());
        }
        if position == 0 {
            meta.content_type = sniff::content_type(&cur).to_owned();
        }
        batch.push((position, key.seal(position, last, &cur)));
        position += 1;
        if batch.len() == BATCH_CHUNKS || last {
            let chunks = std::mem::take(&mut batch);
            let (row_id, quota) = (id.to_owned(), limits.quota_bytes);
            let appended = write_blocking(store, move |c| {
                let used = rows::used_bytes(c, &row_id)?;
                if used + size > quota {
                    return Ok((Appended::OverQuota, used));
                }
                let stored = rows::append_chunks(c, &row_id, &chunks, size)?;
                Ok((
                    if stored {
                        Appended::Yes
                    } else {
                        Appended::Gone
                    },
                    used,
                ))
            })?;
            match appended {
                (Appended::Yes, used) => others = used,
                (Appended::Gone, _) => return Err(Fail::Gone),
                (Appended::OverQuota, _) => return Err(over_quota(limits).into()),
            }
        }
        if last {
            return Ok(size);
        }
        cur = next;
    }
}
