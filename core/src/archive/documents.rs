//! Documents in the archive (version 4 on): their descriptions (`documents`), then their bytes
//! (`document_chunks`), both streamed. The export reads each document's sealed 64 KiB chunks
//! from the export's snapshot, opens them and groups them into records of at most 1 MiB; the
//! import re-seals each record's bytes in 64 KiB chunks under this vault's keys as it reads
//! them, inside the import's one write transaction. Neither ever holds a whole document (at
//! most one record and one chunk). The import refuses a document past this vault's limits
//! (`document_max_mib`, `document_quota_mib`), and a chunk record out of order, missing, held
//! twice or naming an unknown document, or bytes that do not add up to the size.

use std::collections::{HashSet, VecDeque};
use std::io::Write;

use carnet_schemas::{
    ArchivedDocumentChunk, AttachmentKind, Document as ArchivedDocument, MAX_ARCHIVE_CHUNK_BYTES,
};
use data_encoding::BASE64;
use rusqlite::Connection;
use zeroize::Zeroizing;

use super::export::{Doc, ExportError};
use super::import::{ImportError, Importer};
use crate::crypto::{Keys, Table};
use crate::documents::chunk::{BadChunk, CHUNK, ChunkKey};
use crate::documents::{DocumentError, Limits, Meta, sniff, wire};
use crate::store::documents::{self as rows, DocumentRow};

// ---------------------------------------------------------------------------------------------
// Export

/// Writes the `documents` and `document_chunks` sections from the export's snapshot `c`.
pub(super) fn write<W: Write>(
    doc: &mut Doc<'_, W>,
    c: &Connection,
    keys: &Keys,
) -> Result<(), ExportError> {
    // Descriptions only (the bytes are read a chunk at a time below).
    let all = rows::list(c, None)?;
    doc.open_section("documents")?;
    for row in &all {
        doc.element(&wire(keys, row)?.0)?;
    }
    doc.close_section()?;

    doc.open_section("document_chunks")?;
    for row in &all {
        write_bytes(doc, c, keys, row)?;
    }
    doc.close_section()?;
    Ok(())
}

/// One document's bytes as records of at most `MAX_ARCHIVE_CHUNK_BYTES`, its sealed chunks
/// checked as a download checks them (0, 1, 2, … up to the one marked last, adding up to its
/// size).
fn write_bytes<W: Write>(
    doc: &mut Doc<'_, W>,
    c: &Connection,
    keys: &Keys,
    row: &DocumentRow,
) -> Result<(), ExportError> {
    let key = ChunkKey::new(keys, &row.id);
    let document_id: carnet_schemas::DocumentId =
        row.id.parse().map_err(|_| crate::crypto::Unreadable {
            table: Table::Documents.name(),
            id: row.id.clone(),
        })?;
    let cut = |position| {
        DocumentError::BadChunk(BadChunk {
            document: row.id.clone(),
            position,
        })
    };
    let mut record = Zeroizing::new(Vec::with_capacity(MAX_ARCHIVE_CHUNK_BYTES));
    let (mut position, mut read, mut index) = (0u64, 0u64, 0u64);
    let mut flush = |record: &mut Vec<u8>, doc: &mut Doc<'_, W>| -> Result<(), ExportError> {
        if record.is_empty() {
            return Ok(());
        }
        doc.element(&ArchivedDocumentChunk {
            document_id: document_id.clone(),
            index,
            data: BASE64.encode(record),
        })?;
        index += 1;
        record.clear();
        Ok(())
    };
    loop {
        let blob = rows::chunk(c, &row.id, position)?.ok_or_else(|| cut(position))?;
        let (plain, last) = key.open(position, &blob).map_err(DocumentError::from)?;
        read += plain.len() as u64;
        if read > row.size || (last && read != row.size) {
            return Err(cut(position).into());
        }
        if record.len() + plain.len() > MAX_ARCHIVE_CHUNK_BYTES {
            flush(&mut record, doc)?;
        }
        record.extend_from_slice(&plain);
        position += 1;
        if last {
            return flush(&mut record, doc);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Import

/// What the import knows of the archive's documents so far.
pub(super) struct DocImport {
    limits: Limits,
    /// The bytes of the documents read so far (what the quota counts).
    used: u64,
    /// Every document the archive describes.
    known: HashSet<String>,
    /// The documents with bytes whose records have not started, in the archive's order, with
    /// (into an empty vault) their description to seal once their first chunk is read.
    waiting: VecDeque<(String, u64, Option<Meta>)>,
    /// The document whose records are being read.
    current: Option<Current>,
}

/// A document whose records are being read.
struct Current {
    id: String,
    size: u64,
    received: u64,
    next_index: u64,
    /// Into an empty vault: what re-seals its bytes.
    sealing: Option<Sealing>,
}

/// Re-sealing one document under this vault's keys.
struct Sealing {
    key: ChunkKey,
    meta: Meta,
    /// Bytes not yet sealed (less than a chunk).
    carry: Zeroizing<Vec<u8>>,
    position: u64,
}

impl DocImport {
    pub(super) fn new(limits: Limits) -> Self {
        DocImport {
            limits,
            used: 0,
            known: HashSet::new(),
            waiting: VecDeque::new(),
            current: None,
        }
    }
}

impl Importer<'_> {
    fn limit(&self, reason: String) -> ImportError {
        ImportError::DocumentLimit {
            at: self.at(),
            reason,
        }
    }

    pub(super) fn document(&mut self, d: ArchivedDocument) -> Result<(), ImportError> {
        self.counts.documents += 1;
        let id = d.id.to_string();
        let limits = self.docs.limits;
        if d.size > limits.max_bytes {
            return Err(self.limit(format!(
                "document {id} holds {} bytes, more than the {} MiB one document may hold here",
                d.size,
                limits.max_bytes >> 20
            )));
        }
        self.docs.used = self.docs.used.saturating_add(d.size);
        if self.docs.used > limits.quota_bytes {
            return Err(self.limit(format!(
                "the archive's documents take more than this vault's quota of {} MiB",
                limits.quota_bytes >> 20
            )));
        }
        if !self.docs.known.insert(id.clone()) {
            return Err(self.invalid(format!("the archive holds document {id} more than once")));
        }
        if !self.writing {
            if d.size > 0 {
                self.docs.waiting.push_back((id.clone(), d.size, None));
            }
            return self.conflict(Table::Documents, "document", &id);
        }
        let row = self.document_row(&d)?;
        let meta = Meta {
            title: d.title,
            file_name: d.file_name,
            content_type: sniff::OCTET_STREAM.to_owned(),
            shared: d.shared,
        };
        let sealed = self.keys.seal().seal(&id, &meta);
        let row = DocumentRow {
            blob: sealed.as_bytes().to_vec(),
            ..row
        };
        self.inserted(
            rows::insert_uploading(self.c, &row),
            &format!("document {id}"),
        )?;
        if d.size == 0 {
            // As `documents::add` stores an empty file: one empty chunk, marked last.
            let key = ChunkKey::new(self.keys, &id);
            rows::append_chunks(self.c, &id, &[(0, key.seal(0, true, &[]))], 0)?;
            let meta = Meta {
                content_type: sniff::content_type(&[]).to_owned(),
                ..meta
            };
            rows::complete(self.c, &id, 0, self.keys.seal().seal(&id, &meta).as_bytes())?;
        } else {
            self.docs.waiting.push_back((id, d.size, Some(meta)));
        }
        Ok(())
    }

    /// The clear columns of an archived document, its attachment checked: it exists here
    /// (the archive held it before) and is the document's vendor's.
    fn document_row(&self, d: &ArchivedDocument) -> Result<DocumentRow, ImportError> {
        let target = d.attached_to.id.as_str();
        let (table, noun) = match d.attached_to.kind {
            AttachmentKind::Vendor => (Table::Vendors, "vendor"),
            AttachmentKind::Purchase => (Table::Purchases, "purchase"),
            AttachmentKind::Incident => (Table::Incidents, "incident"),
            AttachmentKind::Interaction => (Table::Interactions, "interaction"),
        };
        let vendor = match d.attached_to.kind {
            AttachmentKind::Vendor => {
                self.require(table, noun, target)?;
                Some(target.to_owned())
            }
            _ => rows::vendor_of(self.c, table.name(), target)?,
        };
        let Some(vendor) = vendor else {
            return Err(self.invalid(format!(
                "is attached to {noun} {target}, which the archive does not hold"
            )));
        };
        if vendor != d.vendor_id.as_str() {
            return Err(self.invalid(format!(
                "is attached to {noun} {target}, which is another vendor's"
            )));
        }
        let id = |k| (d.attached_to.kind == k).then(|| target.to_owned());
        Ok(DocumentRow {
            id: d.id.to_string(),
            vendor_id: vendor,
            purchase_id: id(AttachmentKind::Purchase),
            incident_id: id(AttachmentKind::Incident),
            interaction_id: id(AttachmentKind::Interaction),
            size: 0,
            created_at: d.created_at,
            updated_at: d.created_at,
            blob: Vec::new(),
        })
    }

    pub(super) fn document_chunk(&mut self, r: ArchivedDocumentChunk) -> Result<(), ImportError> {
        let id = r.document_id.to_string();
        let same = self.docs.current.as_ref().is_some_and(|c| c.id == id);
        if !same {
            self.end_document()?;
            if !self.docs.known.contains(&id) {
                return Err(self.invalid(format!(
                    "names document {id}, which `documents` does not hold"
                )));
            }
            if self.docs.waiting.front().is_none_or(|(n, _, _)| *n != id) {
                return Err(self.invalid(format!(
                    "a record of document {id} out of place: each document's records come together, in the order of `documents`, once"
                )));
            }
            let Some((next, size, meta)) = self.docs.waiting.pop_front() else {
                return Ok(());
            };
            let sealing = meta.map(|meta| Sealing {
                key: ChunkKey::new(self.keys, &next),
                meta,
                carry: Zeroizing::new(Vec::with_capacity(CHUNK)),
                position: 0,
            });
            self.docs.current = Some(Current {
                id: next,
                size,
                received: 0,
                next_index: 0,
                sealing,
            });
        }
        let expected = self.docs.current.as_ref().map_or(0, |c| c.next_index);
        if r.index != expected {
            return Err(self.invalid(format!(
                "record {} of document {id} comes where record {expected} should: records come in order, once each",
                r.index
            )));
        }
        let data = Zeroizing::new(
            BASE64
                .decode(r.data.as_bytes())
                .map_err(|_| self.invalid("its data is not base64"))?,
        );
        if data.is_empty() || data.len() > MAX_ARCHIVE_CHUNK_BYTES {
            return Err(self.invalid(format!(
                "a record carries 1 byte to {MAX_ARCHIVE_CHUNK_BYTES} bytes, this one {}",
                data.len()
            )));
        }
        let Some(cur) = self.docs.current.as_mut() else {
            return Ok(());
        };
        cur.received += data.len() as u64;
        cur.next_index += 1;
        if cur.received > cur.size {
            let size = cur.size;
            return Err(self.invalid(format!(
                "document {id}'s records hold more than its size, {size} bytes"
            )));
        }
        let (received, size) = (cur.received, cur.size);
        let Some(s) = cur.sealing.as_mut() else {
            return Ok(());
        };
        let mut sealed = Vec::new();
        let mut rest = &data[..];
        while !rest.is_empty() {
            let take = (CHUNK - s.carry.len()).min(rest.len());
            s.carry.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            let last = rest.is_empty() && received == size;
            if s.carry.len() == CHUNK || last {
                if s.position == 0 {
                    s.meta.content_type = sniff::content_type(&s.carry).to_owned();
                }
                sealed.push((s.position, s.key.seal(s.position, last, &s.carry)));
                s.position += 1;
                s.carry.clear();
            }
        }
        rows::append_chunks(self.c, &id, &sealed, received)?;
        if received == size {
            let blob = self.keys.seal().seal(&id, &s.meta);
            rows::complete(self.c, &id, size, blob.as_bytes())?;
        }
        Ok(())
    }

    /// The current document's records are over: they must add up to its size.
    fn end_document(&mut self) -> Result<(), ImportError> {
        if let Some(cur) = self.docs.current.take()
            && cur.received != cur.size
        {
            return Err(self.invalid(format!(
                "document {}'s records hold {} bytes, not its size, {} bytes (a record is missing)",
                cur.id, cur.received, cur.size
            )));
        }
        Ok(())
    }

    /// After the archive: every document's bytes came, whole.
    pub(super) fn end_documents(&mut self) -> Result<(), ImportError> {
        self.at = ("document_chunks", None);
        self.end_document()?;
        if let Some((id, size, _)) = self.docs.waiting.front() {
            return Err(self.invalid(format!(
                "document {id} has no record, and its size is {size} bytes"
            )));
        }
        Ok(())
    }
}
