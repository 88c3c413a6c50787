//! What the ledger index knows of documents (their titles and file names join the search):
//! the index entry of a document, and the loader that adds every complete document to the
//! ledger's. Never gives the index a document's content, nor a document still uploading.

use carnet_schemas::{Document, RecordKind};
use rusqlite::Connection;

use super::{DocumentError, wire};
use crate::crypto::Keys;
use crate::ledger::LedgerError;
use crate::ledger::index::{DocumentFacts, Item, Loader, Op};
use crate::store::StoreError;
use crate::store::documents as rows;

/// The index's entry for `doc`: its title and file name as its words.
pub fn item(doc: &Document) -> Item {
    let ms = doc.created_at.timestamp_millis();
    let mut item = Item::new(
        RecordKind::Document,
        doc.id.as_str(),
        Some(doc.vendor_id.as_str()),
        (-ms, 0),
        ms,
    );
    let title = doc.title.as_ref().map(|t| t.as_str());
    let file_name = doc.file_name.as_ref().map(|f| f.as_str());
    item.text(title, true);
    item.text(file_name, title.is_none());
    item.document = Some(Box::new(DocumentFacts {
        title: title.or(file_name).unwrap_or("(untitled)").into(),
        file_name: file_name.map(Into::into),
        attached_to: doc.attached_to.clone(),
    }));
    item
}

/// `ledger`'s loader, then every complete document.
pub fn loader(ledger: Loader) -> Loader {
    std::sync::Arc::new(
        move |c: &Connection, keys: &Keys, sink: &mut dyn FnMut(Op) -> bool| {
            ledger(c, keys, sink)?;
            for row in rows::list(c, None)? {
                let doc = wire(keys, &row).map_err(|e| match e {
                    DocumentError::Unreadable(u) => LedgerError::Unreadable(u),
                    other => LedgerError::Store(StoreError::Task(other.to_string())),
                })?;
                if !sink(Op::Put(item(&doc.0))) {
                    break;
                }
            }
            Ok(())
        },
    )
}
