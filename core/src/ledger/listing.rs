//! The owner's listings and search, through the ledger index: the index picks a page's ids
//! (by keyset, after the cursor's key, with the filters it can answer), then only those rows
//! are read and opened, in one read transaction. Never opens more records than it returns.

use carnet_schemas::ids::{DocumentKind, VendorKind};
use carnet_schemas::{Incident, Interaction, Purchase, RecordKind, SearchHit, VendorId};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::index::{Key, LedgerIndex, Loader, Moment, Op, Rid, Tally, id_of, rid, text};
use super::kind::{Kind, Paged, wire};
use super::{Incidents, Interactions, LedgerError, Promises, Purchases, Record, Vendors, open};
use crate::crypto::Keys;
use crate::store::Store;
use crate::store::archive::each_record;
use crate::store::records;

/// One page of a listing, and the key of its last record when more follow.
pub struct Page<K, T> {
    pub items: Vec<T>,
    pub next: Option<K>,
}

/// The records of kind `K` that `filter` keeps, after `after`, at most `limit`.
pub fn page<K: Paged>(
    store: &Store,
    keys: &Keys,
    index: &LedgerIndex,
    filter: &K::Filter,
    after: Option<Key>,
    limit: usize,
) -> Result<Page<K::SortKey, K::Wire>, LedgerError> {
    let filter = K::index_filter(filter);
    let mut picked = index.read(|d| d.page(K::RECORD, &filter, after.as_ref(), limit))?;
    let next = (picked.len() > limit).then(|| {
        picked.truncate(limit);
        picked.last().map(K::sort_key_of)
    });
    let ids: Vec<Rid> = picked.iter().map(|k| k.2).collect();
    let items = store.read(|c| opened::<K>(c, keys, &ids))?;
    Ok(Page {
        items: items.into_iter().map(wire::<K>).collect(),
        next: next.flatten(),
    })
}

/// The vendors by name after `after` (a cursor's key), at most `limit`.
pub fn vendor_page(
    store: &Store,
    keys: &Keys,
    index: &LedgerIndex,
    after: Option<(String, Rid)>,
    limit: usize,
) -> Result<Page<(String, String), carnet_schemas::Vendor>, LedgerError> {
    vendors_named(store, keys, index, "", after, limit)
}

/// The vendors whose name begins with `prefix` (case aside), by name after `after` (a
/// cursor's key), at most `limit`.
pub fn vendors_named(
    store: &Store,
    keys: &Keys,
    index: &LedgerIndex,
    prefix: &str,
    after: Option<(String, Rid)>,
    limit: usize,
) -> Result<Page<(String, String), carnet_schemas::Vendor>, LedgerError> {
    let after = after.as_ref().map(|(n, id)| (n.as_str(), id));
    let mut picked = index.read(|d| d.vendor_page(prefix, after, limit))?;
    let next = (picked.len() > limit).then(|| {
        picked.truncate(limit);
        picked
            .last()
            .map(|(n, id)| (n.clone(), id_of::<VendorKind>(id).to_string()))
    });
    let ids: Vec<Rid> = picked.iter().map(|(_, id)| *id).collect();
    let items = store.read(|c| opened::<Vendors>(c, keys, &ids))?;
    Ok(Page {
        items: items.into_iter().map(wire::<Vendors>).collect(),
        next: next.flatten(),
    })
}

/// What the index tells of each of `vendors`' records (counts, last contact, first
/// purchase), in that order; nothing is opened.
pub fn tallies(index: &LedgerIndex, vendors: &[VendorId]) -> Result<Vec<Tally>, LedgerError> {
    index.read(|d| {
        vendors
            .iter()
            .map(|v| rid(v.as_str()).map(|r| d.tally(&r)).unwrap_or_default())
            .collect()
    })
}

/// The sentiments of `vendor`'s interactions at or after `since`, newest first: (time,
/// sentiment) of those that have one, from the index (none is opened).
pub fn sentiments(
    index: &LedgerIndex,
    vendor: &VendorId,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<(DateTime<Utc>, i8)>, LedgerError> {
    let Some(v) = rid(vendor.as_str()) else {
        return Ok(Vec::new());
    };
    let marks = index.read(|d| d.sentiments(&v, since.map(|t| t.timestamp_millis())))?;
    Ok(marks
        .into_iter()
        .filter_map(|(ms, s)| Some((DateTime::from_timestamp_millis(ms)?, s)))
        .collect())
}

/// One record of a vendor's timeline.
pub enum Event {
    Interaction(Interaction),
    Purchase(Purchase),
    Incident(Incident),
}

/// `vendor`'s interactions, purchases and incidents after `after` in its timeline (newest
/// first, `Moment`), at most `limit`: the index picks them, only those are opened.
pub fn timeline(
    store: &Store,
    keys: &Keys,
    index: &LedgerIndex,
    vendor: &VendorId,
    after: Option<Moment>,
    limit: usize,
) -> Result<Page<Moment, (Moment, Event)>, LedgerError> {
    let Some(v) = rid(vendor.as_str()) else {
        return Ok(Page {
            items: Vec::new(),
            next: None,
        });
    };
    let mut picked = index.read(|d| d.timeline(&v, after.as_ref(), limit))?;
    let more = picked.len() > limit;
    picked.truncate(limit);
    let items = store.read(|c| {
        let mut out = Vec::with_capacity(picked.len());
        for (kind, m) in &picked {
            let ids = [m.key.2];
            let event = match kind {
                RecordKind::Interaction => opened::<Interactions>(c, keys, &ids)?
                    .pop()
                    .map(|r| Event::Interaction(wire::<Interactions>(r))),
                RecordKind::Purchase => opened::<Purchases>(c, keys, &ids)?
                    .pop()
                    .map(|r| Event::Purchase(wire::<Purchases>(r))),
                RecordKind::Incident => opened::<Incidents>(c, keys, &ids)?
                    .pop()
                    .map(|r| Event::Incident(wire::<Incidents>(r))),
                RecordKind::Vendor | RecordKind::Promise | RecordKind::Document => None,
            };
            out.extend(event.map(|e| (*m, e)));
        }
        Ok::<_, LedgerError>(out)
    })?;
    Ok(Page {
        next: more.then(|| picked.last().map(|(_, m)| *m)).flatten(),
        items,
    })
}

/// Purchases whose warranty ends between `from` and `through` (both included), soonest
/// first, at most `limit`: the index says which, only those are opened.
pub fn warranties_ending(
    store: &Store,
    keys: &Keys,
    index: &LedgerIndex,
    from: chrono::NaiveDate,
    through: chrono::NaiveDate,
    limit: usize,
) -> Result<Vec<carnet_schemas::Purchase>, LedgerError> {
    let mut picked = index.read(|d| d.warranties_ending(from, through))?;
    picked.truncate(limit);
    let ids: Vec<Rid> = picked.iter().map(|(id, _)| *id).collect();
    let items = store.read(|c| opened::<Purchases>(c, keys, &ids))?;
    Ok(items.into_iter().map(wire::<Purchases>).collect())
}

/// Records `ids` of kind `K`, opened, in that order; one deleted since it was picked is left
/// out.
pub(super) fn opened<K: Kind>(
    c: &Connection,
    keys: &Keys,
    ids: &[Rid],
) -> Result<Vec<Record<K>>, LedgerError> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let id = id_of::<K::Id>(id);
        if let Some(row) = records::get::<K::Fields>(c, id.as_str())? {
            out.push(open(keys, row)?);
        }
    }
    Ok(out)
}

/// Why a search cannot run.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("the search has no words")]
    NoWords,
    #[error("the search has more than {} words", text::MAX_QUERY_WORDS)]
    TooManyWords,
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// The records best matching `q`: every word of `q` begins a word of the record (folded:
/// case and accents aside); of `kind` and `vendor` if given. Opens only what it returns.
pub fn search(
    store: &Store,
    keys: &Keys,
    index: &LedgerIndex,
    q: &str,
    kind: Option<RecordKind>,
    vendor: Option<&VendorId>,
    limit: usize,
) -> Result<Vec<SearchHit>, SearchError> {
    let mut words = text::words(q);
    words.sort();
    words.dedup();
    if words.is_empty() {
        return Err(SearchError::NoWords);
    }
    if words.len() > text::MAX_QUERY_WORDS {
        return Err(SearchError::TooManyWords);
    }
    let vendor = match vendor {
        Some(v) => match rid(v.as_str()) {
            Some(r) => Some(r),
            None => return Ok(Vec::new()),
        },
        None => None,
    };
    let hits = index.read(|d| {
        let hits = d.search(&words, kind, vendor, limit);
        hits.into_iter()
            .map(|h| {
                let facts = d.document(&h.id).cloned();
                (h, facts)
            })
            .collect::<Vec<_>>()
    })?;
    let found = store.read(|c| {
        let mut found = Vec::with_capacity(hits.len());
        for (h, facts) in hits {
            let vendor_id = h.vendor.map(|v| id_of::<VendorKind>(&v));
            let score = (f64::from(h.score) * 1000.0).round() / 1000.0;
            if let Some(f) = facts {
                // A document is answered from the index: it keeps a document's title and
                // file name, and forgets it with its record.
                found.push(SearchHit {
                    kind: h.kind,
                    id: id_of::<DocumentKind>(&h.id).to_string(),
                    vendor_id,
                    title: short(&f.title),
                    file_name: f.file_name.map(String::from),
                    attached_to: Some(f.attached_to),
                    score,
                });
                continue;
            }
            let titled = match h.kind {
                RecordKind::Vendor => titled::<Vendors>(c, keys, &h.id, |f| f.name.as_str()),
                RecordKind::Interaction => {
                    titled::<Interactions>(c, keys, &h.id, |f| f.summary.as_str())
                }
                RecordKind::Purchase => titled::<Purchases>(c, keys, &h.id, |f| f.item.as_str()),
                RecordKind::Incident => {
                    titled::<Incidents>(c, keys, &h.id, |f| f.description.as_str())
                }
                RecordKind::Promise => titled::<Promises>(c, keys, &h.id, |f| f.what.as_str()),
                // Held without its facts: not a hit.
                RecordKind::Document => Ok(None),
            }?;
            let Some((id, title)) = titled else { continue };
            found.push(SearchHit {
                kind: h.kind,
                id,
                vendor_id,
                title,
                file_name: None,
                attached_to: None,
                score,
            });
        }
        Ok::<_, LedgerError>(found)
    })?;
    Ok(found)
}

/// Record `rid` of kind `K`: its id and title (`None`: deleted since it was found).
fn titled<K: Kind>(
    c: &Connection,
    keys: &Keys,
    rid: &Rid,
    title: impl Fn(&K::Fields) -> &str,
) -> Result<Option<(String, String)>, LedgerError> {
    let id = id_of::<K::Id>(rid).to_string();
    let Some(row) = records::get::<K::Fields>(c, &id)? else {
        return Ok(None);
    };
    let fields: K::Fields = keys.seal().open(&row.id, &row.sealed)?;
    Ok(Some((id, short(title(&fields)))))
}

/// A title's first line, cut at 120 characters.
pub fn short(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim();
    if line.chars().count() > 120 {
        let mut cut: String = line.chars().take(119).collect();
        cut.push('…');
        cut
    } else {
        line.to_owned()
    }
}

/// Reads the whole ledger for the index: vendors first, then their records.
pub fn loader() -> Loader {
    std::sync::Arc::new(
        |c: &Connection, keys: &Keys, sink: &mut dyn FnMut(Op) -> bool| {
            load::<Vendors>(c, keys, sink)?;
            load::<Interactions>(c, keys, sink)?;
            load::<Purchases>(c, keys, sink)?;
            load::<Incidents>(c, keys, sink)?;
            load::<Promises>(c, keys, sink)
        },
    )
}

fn load<K: Kind>(
    c: &Connection,
    keys: &Keys,
    sink: &mut dyn FnMut(Op) -> bool,
) -> Result<(), LedgerError> {
    let mut go_on = true;
    each_record::<K::Fields, LedgerError>(c, |row| {
        if !go_on {
            return Ok(());
        }
        let created_at = row.created_at;
        let o = open::<K::Id, K::Fields>(keys, row)?;
        go_on = sink(Op::Put(K::index_item(&o.id, created_at, &o.fields)));
        Ok(())
    })
}
