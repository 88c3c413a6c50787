//! Documents: the files of a relationship (an invoice, a contract, the photo of the damage),
//! attached to a vendor or to one of its purchases, incidents or interactions.
//!
//! A document is sealed in chunks (`chunk`: 64 KiB, each bound to the document, its position
//! and whether it is the last) and is never whole in memory: `add` reads its source a chunk at
//! a time and stores them in batches through the one writer; `open` hands back a reader that
//! opens one chunk at a time. Its description (title, file name, content type, shared flag) is
//! one sealed blob; its vendor, the record it is attached to, its size and state are clear and
//! row-MAC'd (migration 0012). The content type comes from the bytes (`sniff`), never from
//! the name. Never stores a document past the size limit or the vault's quota; never leaves a
//! cut upload behind (its rows are deleted, and uploads a crash cut are purged at unlock:
//! `purge_incomplete`); never shows a vendor a document that is not shared, or whose
//! interaction is not shared with it.
//!
//! The API other modules build on (export, backup, search):
//! - `add(store, keys, index, new, limits, source, now) -> Document`
//! - `open(store, keys, id) -> (Document, Reader)` (`Reader: Read` and `Iterator` of chunks)
//! - `show`, `list(store, keys, vendor)`, `ids(store)`, `delete`, `set_shared`
//! - `index::loader` (the ledger index's, plus documents: their titles and file names are
//!   searched; `add` and `delete` tell the index inside their write)
//! - `open_for_vendor(store, keys, id, vendor)` (the vendor API's one rule)

pub mod chunk;
pub mod index;
mod read;
pub mod sniff;
mod upload;

use std::sync::Arc;

use carnet_schemas::{
    AttachedTo, AttachmentKind, Document, DocumentId, DocumentUpload, IncidentId, InteractionId,
    Line, PurchaseId, VendorId,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::crypto::{Keys, Sealable, Sealed, Table, Unreadable};
use crate::ledger::index::{LedgerIndex, Op, rid};
use crate::store::documents::{self as rows, DocumentRow};
use crate::store::{Store, StoreError};

pub use chunk::{BadChunk, CHUNK};
pub use read::Reader;
pub use upload::{BATCH_CHUNKS, add};

/// The size limits a vault applies (carnetd's `document_max_mib` and `document_quota_mib`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most bytes one document may hold.
    pub max_bytes: u64,
    /// The most bytes all documents together may hold.
    pub quota_bytes: u64,
}

impl Limits {
    /// Limits in MiB, as configured.
    pub fn from_mib(max_mib: u64, quota_mib: u64) -> Self {
        Limits {
            max_bytes: max_mib.saturating_mul(1 << 20),
            quota_bytes: quota_mib.saturating_mul(1 << 20),
        }
    }
}

/// What a document is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attachment {
    Vendor(VendorId),
    Purchase(PurchaseId),
    Incident(IncidentId),
    Interaction(InteractionId),
}

impl Attachment {
    /// The one attachment an upload's query names; refused unless exactly one is given, as
    /// an id of its kind.
    pub fn from_upload(q: &DocumentUpload) -> Result<Attachment, DocumentError> {
        fn parse<T: std::str::FromStr>(field: &'static str, v: &str) -> Result<T, DocumentError> {
            v.parse()
                .map_err(|_| DocumentError::Attachment(format!("{field}={v} is not a {field} id")))
        }
        let given: Vec<(&'static str, &String)> = [
            ("vendor", &q.vendor),
            ("purchase", &q.purchase),
            ("incident", &q.incident),
            ("interaction", &q.interaction),
        ]
        .into_iter()
        .filter_map(|(f, v)| v.as_ref().map(|v| (f, v)))
        .collect();
        match given.as_slice() {
            [("vendor", v)] => Ok(Attachment::Vendor(parse("vendor", v)?)),
            [("purchase", v)] => Ok(Attachment::Purchase(parse("purchase", v)?)),
            [("incident", v)] => Ok(Attachment::Incident(parse("incident", v)?)),
            [("interaction", v)] => Ok(Attachment::Interaction(parse("interaction", v)?)),
            [] => Err(DocumentError::Attachment(
                "say what the document is attached to: one of vendor, purchase, incident or interaction".into(),
            )),
            _ => Err(DocumentError::Attachment(format!(
                "a document is attached to one record, not {} ({})",
                given.len(),
                given.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", ")
            ))),
        }
    }

    pub fn kind(&self) -> AttachmentKind {
        match self {
            Attachment::Vendor(_) => AttachmentKind::Vendor,
            Attachment::Purchase(_) => AttachmentKind::Purchase,
            Attachment::Incident(_) => AttachmentKind::Incident,
            Attachment::Interaction(_) => AttachmentKind::Interaction,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Attachment::Vendor(id) => id.as_str(),
            Attachment::Purchase(id) => id.as_str(),
            Attachment::Incident(id) => id.as_str(),
            Attachment::Interaction(id) => id.as_str(),
        }
    }
}

/// A document to add: what it is attached to, its title and the name of its file (any
/// directory in it is dropped).
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub attachment: Attachment,
    pub title: Option<Line>,
    pub file_name: Option<Line>,
}

/// Why a document operation failed.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    #[error("no document {id}")]
    NotFound { id: String },
    /// The record the upload names does not exist.
    #[error("no {noun} {id}")]
    NoRecord { noun: &'static str, id: String },
    /// The upload names no attachment, several, or a malformed id.
    #[error("{0}")]
    Attachment(String),
    /// The document is larger than the size limit (in MiB).
    #[error("the document is larger than {limit_mib} MiB, the most one document may be")]
    TooLarge { limit_mib: u64 },
    /// Storing the document would take the vault's documents past the quota (in MiB).
    #[error("the vault's documents would take more than its quota of {quota_mib} MiB")]
    OverQuota { quota_mib: u64 },
    /// The upload stopped before its end (the client went away, or stalled).
    #[error("the upload stopped before its end: {0}")]
    Cut(String),
    /// A stored chunk does not open (altered, moved, swapped or cut).
    #[error(transparent)]
    BadChunk(#[from] BadChunk),
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A document's sealed description.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Meta {
    pub title: Option<Line>,
    pub file_name: Option<Line>,
    pub content_type: String,
    #[serde(default)]
    pub shared: bool,
}

impl Sealable for Meta {
    const TABLE: Table = Table::Documents;
}

fn not_found(id: &str) -> DocumentError {
    DocumentError::NotFound { id: id.to_owned() }
}

fn attached_to(row: &DocumentRow) -> AttachedTo {
    let (kind, id) = match (&row.purchase_id, &row.incident_id, &row.interaction_id) {
        (Some(p), _, _) => (AttachmentKind::Purchase, p),
        (_, Some(i), _) => (AttachmentKind::Incident, i),
        (_, _, Some(i)) => (AttachmentKind::Interaction, i),
        _ => (AttachmentKind::Vendor, &row.vendor_id),
    };
    AttachedTo {
        kind,
        id: id.clone(),
    }
}

/// Opens a row's description into the wire `Document`.
pub(crate) fn wire(keys: &Keys, row: &DocumentRow) -> Result<(Document, Meta), DocumentError> {
    let meta: Meta = keys
        .seal()
        .open(&row.id, &Sealed::<Meta>::from_stored(row.blob.clone()))?;
    let bad_id = || Unreadable {
        table: Table::Documents.name(),
        id: row.id.clone(),
    };
    let doc = Document {
        id: row.id.parse().map_err(|_| bad_id())?,
        vendor_id: row.vendor_id.parse().map_err(|_| bad_id())?,
        attached_to: attached_to(row),
        title: meta.title.clone(),
        file_name: meta.file_name.clone(),
        content_type: meta.content_type.clone(),
        size: row.size,
        shared: meta.shared,
        created_at: row.created_at,
    };
    Ok((doc, meta))
}

fn get(store: &Store, keys: &Keys, id: &DocumentId) -> Result<(Document, Meta), DocumentError> {
    let row = store
        .read(|c| rows::get(c, id.as_str()))?
        .ok_or_else(|| not_found(id.as_str()))?;
    wire(keys, &row)
}

/// One document's description.
pub fn show(store: &Store, keys: &Keys, id: &DocumentId) -> Result<Document, DocumentError> {
    Ok(get(store, keys, id)?.0)
}

/// The complete documents, all or one vendor's, oldest first (descriptions only).
pub fn list(
    store: &Store,
    keys: &Keys,
    vendor: Option<&VendorId>,
) -> Result<Vec<Document>, DocumentError> {
    store
        .read(|c| rows::list(c, vendor.map(|v| v.as_str())))?
        .iter()
        .map(|r| Ok(wire(keys, r)?.0))
        .collect()
}

/// The ids of every complete document, oldest first.
pub fn ids(store: &Store) -> Result<Vec<DocumentId>, DocumentError> {
    Ok(store
        .read(rows::ids)?
        .into_iter()
        .filter_map(|id| id.parse().ok())
        .collect())
}

/// A document's description and a reader of its bytes, one chunk at a time. The first chunk
/// is opened here, so a document that does not open fails before anything is sent.
pub fn open(
    store: &Arc<Store>,
    keys: &Arc<Keys>,
    id: &DocumentId,
) -> Result<(Document, Reader), DocumentError> {
    let (doc, _) = get(store, keys, id)?;
    let reader = Reader::start(Arc::clone(store), keys, id.as_str(), doc.size)?;
    Ok((doc, reader))
}

/// `open`, for vendor `vendor`: only a shared document attached to an interaction of that
/// vendor that is shared with it; any other is `NotFound`, as one that does not exist.
pub fn open_for_vendor(
    store: &Arc<Store>,
    keys: &Arc<Keys>,
    id: &DocumentId,
    vendor: &VendorId,
) -> Result<(Document, Reader), DocumentError> {
    let hidden = || not_found(id.as_str());
    let row = store
        .read(|c| rows::get(c, id.as_str()))?
        .ok_or_else(hidden)?;
    let Some(interaction) = row.interaction_id.as_deref() else {
        return Err(hidden());
    };
    if row.vendor_id != vendor.as_str()
        || !store.read(|c| rows::interaction_shared_with(c, interaction, vendor.as_str()))?
    {
        return Err(hidden());
    }
    let (doc, meta) = wire(keys, &row)?;
    if !meta.shared {
        return Err(hidden());
    }
    let reader = Reader::start(Arc::clone(store), keys, id.as_str(), doc.size)?;
    Ok((doc, reader))
}

/// Shares a document (`true`) or stops sharing it.
pub async fn set_shared(
    store: &Store,
    keys: &Arc<Keys>,
    id: &DocumentId,
    shared: bool,
    now: DateTime<Utc>,
) -> Result<Document, DocumentError> {
    let (keys, row_id) = (Arc::clone(keys), id.to_string());
    store
        .write(move |c| {
            let row = rows::get(c, &row_id)?.ok_or_else(|| not_found(&row_id))?;
            let (mut doc, mut meta) = wire(&keys, &row)?;
            meta.shared = shared;
            doc.shared = shared;
            let sealed = keys.seal().seal(&row_id, &meta);
            rows::update_blob(c, &row_id, now, sealed.as_bytes())?;
            Ok::<_, DocumentError>(doc)
        })
        .await
}

/// Deletes a document and its chunks (and its words from the index, in the same write).
pub async fn delete(
    store: &Store,
    index: &Arc<LedgerIndex>,
    id: &DocumentId,
) -> Result<(), DocumentError> {
    let row_id = id.to_string();
    let random = rid(id.as_str()).unwrap_or_default();
    let found = index
        .write(store, move |c| {
            let found = rows::delete(c, &row_id)?;
            let ops = if found {
                vec![Op::Remove(carnet_schemas::RecordKind::Document, random)]
            } else {
                Vec::new()
            };
            Ok::<_, StoreError>((found, ops))
        })
        .await?;
    if found {
        Ok(())
    } else {
        Err(not_found(id.as_str()))
    }
}

/// Deletes the uploads a crash left incomplete (`Core::open` does it when the vault opens,
/// before any upload can start); how many were deleted.
pub async fn purge_incomplete(store: &Store) -> Result<usize, DocumentError> {
    Ok(store.write(rows::purge_uploading).await?)
}

#[cfg(test)]
mod tests;
