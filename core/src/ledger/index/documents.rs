//! The documents the index holds: each one's search document, its vendor, the record it is
//! attached to and what a search answers of it. Part of `Data`; never holds a document's
//! content, only its title and file name.

use std::collections::HashMap;
use std::mem::size_of;

use super::data::{Data, DocMeta, NONE};
use super::item::{DocumentFacts, Item, Rid, rid};

/// A document, as the index keeps it.
pub(super) struct DocEntry {
    /// Its search document.
    pub doc: u32,
    /// Its vendor's number.
    pub vendor: u32,
    /// The purchase, incident or interaction it is attached to (`None`: the vendor itself).
    pub attached: Option<Rid>,
    pub facts: Box<DocumentFacts>,
}

/// A document's id, vendor and attachment, as `remove_where` tests them.
pub(super) struct Entry {
    pub id: Rid,
    pub vendor: u32,
    pub attached: Option<Rid>,
}

#[derive(Default)]
pub(super) struct Documents {
    by_id: HashMap<Rid, DocEntry>,
}

impl Documents {
    pub fn insert(&mut self, id: Rid, entry: DocEntry) {
        self.by_id.insert(id, entry);
    }

    /// Forgets the documents `gone` picks; their search documents. A scan: a deletion is rare
    /// next to reads, and a vault holds far fewer documents than records.
    pub fn remove_where(&mut self, gone: impl Fn(&Entry) -> bool) -> Vec<u32> {
        let mut docs = Vec::new();
        self.by_id.retain(|id, e| {
            let entry = Entry {
                id: *id,
                vendor: e.vendor,
                attached: e.attached,
            };
            let drop = gone(&entry);
            if drop {
                docs.push(e.doc);
            }
            !drop
        });
        docs
    }

    pub fn get(&self, id: &Rid) -> Option<&DocumentFacts> {
        self.by_id.get(id).map(|e| &*e.facts)
    }

    /// Renumbers the search documents after the postings were compacted.
    pub fn renumber(&mut self, renumber: impl Fn(&mut u32)) {
        for e in self.by_id.values_mut() {
            renumber(&mut e.doc);
        }
    }

    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Heap bytes held (see `Data::heap_bytes`).
    pub fn heap_bytes(&self) -> usize {
        let facts = self.by_id.values().map(|e| {
            size_of::<DocumentFacts>()
                + e.facts.title.len()
                + e.facts.file_name.as_ref().map_or(0, |f| f.len())
                + e.facts.attached_to.id.capacity()
        });
        self.by_id.capacity() * (size_of::<Rid>() + size_of::<DocEntry>() + 1)
            + facts.sum::<usize>()
    }
}

impl Data {
    pub(super) fn put_document(&mut self, item: Item) {
        let Some(facts) = item.document else { return };
        self.remove_document(&item.id);
        let vendor = item.vendor.map_or(NONE, |v| self.intern(v));
        let texts: Vec<(&str, bool)> = item.texts.iter().map(|(t, w)| (t.as_str(), *w)).collect();
        let meta = DocMeta {
            kind: item.kind,
            id: item.id,
            vendor,
        };
        let doc = self.text.add(meta, item.newest, &texts);
        let attached = (facts.attached_to.kind != carnet_schemas::AttachmentKind::Vendor)
            .then(|| rid(&facts.attached_to.id))
            .flatten();
        let entry = DocEntry {
            doc,
            vendor,
            attached,
            facts,
        };
        self.documents.insert(item.id, entry);
    }

    pub(super) fn remove_document(&mut self, id: &Rid) {
        let gone = self.documents.remove_where(|e| e.id == *id);
        self.text_remove(gone);
    }

    pub(super) fn text_remove(&mut self, docs: Vec<u32>) {
        for d in docs {
            self.text.remove(d);
        }
    }

    /// What the index keeps of document `id`, if it holds it.
    pub fn document(&self, id: &Rid) -> Option<&DocumentFacts> {
        self.documents.get(id)
    }
}
