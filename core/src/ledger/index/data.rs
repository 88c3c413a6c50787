//! The index's data: per kind, each record's entry by id, the records in listing order (all,
//! and per vendor), the vendors' names, and the words. Changed only through `apply`; read
//! through `page`, `vendor_page`, `search` and `followups`.

use std::collections::{BTreeSet, HashMap};
use std::mem::size_of;
use std::ops::Bound;

use carnet_schemas::Channel;
use chrono::NaiveDate;

use super::documents::Documents;
use super::item::{Instant, Item, Key, Op, RecordKind, Rid};
use super::moment::{DAY_MS, Moment, UNIX_DAY_CE};
use super::text::Postings;

/// No vendor (a vendor's own document).
pub(super) const NONE: u32 = u32::MAX;

/// A record of a vendor, as the index keeps it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: (i64, i64),
    pub vendor: u32,
    doc: u32,
    pub at: Option<Instant>,
    pub channel: Option<Channel>,
    pub sentiment: Option<i8>,
    pub pending: Option<Option<NaiveDate>>,
    pub warranty_until: Option<NaiveDate>,
}

struct VendorEntry {
    name: Box<str>,
    doc: u32,
}

/// What a search document says of its record.
#[derive(Debug, Clone, Copy)]
pub struct DocMeta {
    pub kind: RecordKind,
    pub id: Rid,
    /// The vendor's number (for a vendor, its own).
    pub vendor: u32,
}

#[derive(Default)]
struct Listing {
    by_id: HashMap<Rid, Entry>,
    order: BTreeSet<Key>,
    by_vendor: HashMap<u32, BTreeSet<Key>>,
    /// The records with a date that comes due, by that date: an interaction's next step not
    /// done (undated ones last), a purchase's warranty end. What a glance at what is due reads,
    /// in time that grows with what is due, not with the ledger.
    due: BTreeSet<DueKey>,
}

/// (no date, the date, the record): dated first, soonest first.
type DueKey = (bool, NaiveDate, Rid);

/// Where `e` stands among the records that come due, if it does.
fn due_key(e: &Entry, id: Rid) -> Option<DueKey> {
    match (e.pending, e.warranty_until) {
        (Some(due), _) => Some((due.is_none(), due.unwrap_or(NaiveDate::MIN), id)),
        (None, Some(w)) => Some((false, w, id)),
        (None, None) => None,
    }
}

/// Which records of a listing a page keeps (beyond its kind).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub vendor: Option<Rid>,
    pub channel: Option<Channel>,
    /// At or after this time.
    pub since: Option<Instant>,
    /// Before this time.
    pub until: Option<Instant>,
    /// Folded words that must all match some word of the record, by prefix.
    pub words: Vec<String>,
}

/// What the index tells of one vendor's records, none opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub interactions: usize,
    pub purchases: usize,
    pub incidents: usize,
    /// The newest interaction's time.
    pub last_contact: Option<Instant>,
    /// The oldest purchase's day.
    pub first_purchase: Option<NaiveDate>,
}

/// A search result, best first.
#[derive(Debug, Clone)]
pub struct Hit {
    pub kind: RecordKind,
    pub id: Rid,
    pub vendor: Option<Rid>,
    pub score: f32,
}

#[derive(Default)]
pub struct Data {
    vendors: HashMap<Rid, VendorEntry>,
    vendor_no: HashMap<Rid, u32>,
    vendor_ids: Vec<Rid>,
    interactions: Listing,
    purchases: Listing,
    incidents: Listing,
    promises: Listing,
    pub(super) documents: Documents,
    pub(super) text: Postings<DocMeta>,
}

/// The kinds of a vendor's records, each a listing.
const OF_VENDOR: [RecordKind; 4] = [
    RecordKind::Interaction,
    RecordKind::Purchase,
    RecordKind::Incident,
    RecordKind::Promise,
];

impl Data {
    fn listing(&self, kind: RecordKind) -> Option<&Listing> {
        match kind {
            RecordKind::Vendor => None,
            RecordKind::Interaction => Some(&self.interactions),
            RecordKind::Purchase => Some(&self.purchases),
            RecordKind::Incident => Some(&self.incidents),
            RecordKind::Promise => Some(&self.promises),
            RecordKind::Document => None,
        }
    }

    fn listing_mut(&mut self, kind: RecordKind) -> Option<&mut Listing> {
        match kind {
            RecordKind::Vendor => None,
            RecordKind::Interaction => Some(&mut self.interactions),
            RecordKind::Purchase => Some(&mut self.purchases),
            RecordKind::Incident => Some(&mut self.incidents),
            RecordKind::Promise => Some(&mut self.promises),
            RecordKind::Document => None,
        }
    }

    pub(super) fn intern(&mut self, vendor: Rid) -> u32 {
        if let Some(n) = self.vendor_no.get(&vendor) {
            return *n;
        }
        let n = u32::try_from(self.vendor_ids.len()).unwrap_or(NONE - 1);
        self.vendor_ids.push(vendor);
        self.vendor_no.insert(vendor, n);
        n
    }

    pub fn apply(&mut self, op: Op) {
        match op {
            Op::Put(item) => self.put(item),
            Op::Remove(RecordKind::Document, id) => self.remove_document(&id),
            Op::Remove(kind, id) => {
                self.remove(kind, &id);
                // Its documents went with it (the database cascades).
                let gone = self.documents.remove_where(|e| e.attached == Some(id));
                self.text_remove(gone);
            }
            Op::RemoveVendor(id) => self.remove_vendor(&id),
        }
        if self.text.wants_compaction() {
            self.compact();
        }
    }

    fn put(&mut self, item: Item) {
        if item.kind == RecordKind::Document {
            return self.put_document(item);
        }
        let texts: Vec<(&str, bool)> = item.texts.iter().map(|(t, w)| (t.as_str(), *w)).collect();
        if item.kind == RecordKind::Vendor {
            let no = self.intern(item.id);
            if let Some(old) = self.vendors.remove(&item.id) {
                self.text.remove(old.doc);
            }
            let meta = DocMeta {
                kind: item.kind,
                id: item.id,
                vendor: no,
            };
            let doc = self.text.add(meta, item.newest, &texts);
            let name = item.name.unwrap_or_default();
            self.vendors.insert(item.id, VendorEntry { name, doc });
            return;
        }
        let vendor = item.vendor.map_or(NONE, |v| self.intern(v));
        self.remove(item.kind, &item.id);
        let meta = DocMeta {
            kind: item.kind,
            id: item.id,
            vendor,
        };
        let doc = self.text.add(meta, item.newest, &texts);
        let entry = Entry {
            key: item.key,
            vendor,
            doc,
            at: item.at,
            channel: item.channel,
            sentiment: item.sentiment,
            pending: item.pending,
            warranty_until: item.warranty_until,
        };
        let key = (item.key.0, item.key.1, item.id);
        if let Some(l) = self.listing_mut(item.kind) {
            l.order.insert(key);
            l.by_vendor.entry(vendor).or_default().insert(key);
            if let Some(due) = due_key(&entry, item.id) {
                l.due.insert(due);
            }
            l.by_id.insert(item.id, entry);
        }
    }

    fn remove(&mut self, kind: RecordKind, id: &Rid) {
        let Some(l) = self.listing_mut(kind) else {
            return;
        };
        let Some(e) = l.by_id.remove(id) else {
            return;
        };
        let key = (e.key.0, e.key.1, *id);
        l.order.remove(&key);
        if let Some(due) = due_key(&e, *id) {
            l.due.remove(&due);
        }
        if let Some(set) = l.by_vendor.get_mut(&e.vendor) {
            set.remove(&key);
            if set.is_empty() {
                l.by_vendor.remove(&e.vendor);
            }
        }
        self.text.remove(e.doc);
    }

    fn remove_vendor(&mut self, id: &Rid) {
        if let Some(v) = self.vendors.remove(id) {
            self.text.remove(v.doc);
        }
        let Some(no) = self.vendor_no.remove(id) else {
            return;
        };
        let gone = self.documents.remove_where(|e| e.vendor == no);
        self.text_remove(gone);
        for kind in OF_VENDOR {
            let mut docs = Vec::new();
            if let Some(l) = self.listing_mut(kind)
                && let Some(keys) = l.by_vendor.remove(&no)
            {
                for key in keys {
                    l.order.remove(&key);
                    if let Some(e) = l.by_id.remove(&key.2) {
                        if let Some(due) = due_key(&e, key.2) {
                            l.due.remove(&due);
                        }
                        docs.push(e.doc);
                    }
                }
            }
            for d in docs {
                self.text.remove(d);
            }
        }
    }

    fn compact(&mut self) {
        let map = self.text.compact();
        let renumber = |doc: &mut u32| *doc = map.get(*doc as usize).copied().unwrap_or(NONE);
        for v in self.vendors.values_mut() {
            renumber(&mut v.doc);
        }
        self.documents.renumber(renumber);
        for kind in OF_VENDOR {
            for e in self
                .listing_mut(kind)
                .into_iter()
                .flat_map(|l| l.by_id.values_mut())
            {
                renumber(&mut e.doc);
            }
        }
    }

    /// The keys of the records of `kind` after `after` that `filter` keeps, in listing order:
    /// at most `limit + 1` (one more tells there is a next page).
    pub fn page(
        &self,
        kind: RecordKind,
        filter: &Filter,
        after: Option<&Key>,
        limit: usize,
    ) -> Vec<Key> {
        let Some(l) = self.listing(kind) else {
            return Vec::new();
        };
        let set = match filter.vendor {
            None => &l.order,
            Some(v) => match self.vendor_no.get(&v).and_then(|n| l.by_vendor.get(n)) {
                Some(set) => set,
                None => return Vec::new(),
            },
        };
        // The first key is the time: an interaction's key is minus its time in milliseconds.
        let from_time = filter.until.map(|(ms, _)| (-ms, i64::MIN, [0u8; 10]));
        let start = match (after, from_time) {
            (Some(a), Some(t)) if *a < t => Bound::Included(t),
            (Some(a), _) => Bound::Excluded(*a),
            (None, Some(t)) => Bound::Included(t),
            (None, None) => Bound::Unbounded,
        };
        let last_time = filter.since.map(|(ms, _)| -ms);
        let matches = (!filter.words.is_empty()).then(|| self.text.matches(&filter.words));
        let mut out = Vec::new();
        for key in set.range((start, Bound::Unbounded)) {
            if last_time.is_some_and(|t| key.0 > t) {
                break;
            }
            let Some(e) = l.by_id.get(&key.2) else {
                continue;
            };
            let keep = filter.channel.is_none_or(|c| e.channel == Some(c))
                && filter.since.is_none_or(|s| e.at.is_some_and(|at| at >= s))
                && filter.until.is_none_or(|u| e.at.is_some_and(|at| at < u))
                && matches.as_ref().is_none_or(|m| m.score(e.doc).is_some());
            if keep {
                out.push(*key);
                if out.len() > limit {
                    break;
                }
            }
        }
        out
    }

    /// The vendors whose lower-cased name begins with `prefix` (lower-cased), after `after`
    /// by (lower-cased name, id): at most `limit + 1`.
    pub fn vendor_page(
        &self,
        prefix: &str,
        after: Option<(&str, &Rid)>,
        limit: usize,
    ) -> Vec<(String, Rid)> {
        let prefix = prefix.to_lowercase();
        let mut all: Vec<(&str, &Rid)> = self
            .vendors
            .iter()
            .map(|(id, v)| (&*v.name, id))
            .filter(|(name, _)| name.starts_with(&prefix))
            .filter(|k| after.is_none_or(|a| *k > a))
            .collect();
        all.sort_unstable();
        all.truncate(limit + 1);
        all.into_iter().map(|(n, id)| (n.to_owned(), *id)).collect()
    }

    /// The best `limit` records matching every word of `words` (folded), of `kind` and of
    /// `vendor` (a vendor counts as its own) if given.
    pub fn search(
        &self,
        words: &[String],
        kind: Option<RecordKind>,
        vendor: Option<Rid>,
        limit: usize,
    ) -> Vec<Hit> {
        let vendor = match vendor {
            None => None,
            Some(v) => match self.vendor_no.get(&v) {
                Some(n) => Some(*n),
                None => return Vec::new(),
            },
        };
        let matches = self.text.matches(words);
        let best = self.text.best(&matches, limit, |d| {
            self.text.meta(d).is_some_and(|m| {
                kind.is_none_or(|k| m.kind == k) && vendor.is_none_or(|v| m.vendor == v)
            })
        });
        best.into_iter()
            .filter_map(|(d, score)| {
                let m = self.text.meta(d)?;
                Some(Hit {
                    kind: m.kind,
                    id: m.id,
                    vendor: (m.kind != RecordKind::Vendor)
                        .then(|| self.vendor_ids.get(m.vendor as usize).copied())
                        .flatten(),
                    score,
                })
            })
            .collect()
    }

    /// Interactions whose next step is not done, due on or before `through` (or without a
    /// due date), of a vendor that exists: (id, vendor, due).
    pub fn followups(&self, through: Option<NaiveDate>) -> Vec<(Rid, Rid, Option<NaiveDate>)> {
        let l = &self.interactions;
        let dated = l
            .due
            .range(..(true, NaiveDate::MIN, [0u8; 10]))
            .take_while(|(_, d, _)| through.is_none_or(|t| *d <= t));
        let undated = l.due.range((true, NaiveDate::MIN, [0u8; 10])..);
        dated
            .chain(undated)
            .filter_map(|(undated, d, id)| {
                let e = l.by_id.get(id)?;
                let vendor = *self.vendor_ids.get(e.vendor as usize)?;
                self.vendors.contains_key(&vendor).then_some((
                    *id,
                    vendor,
                    (!undated).then_some(*d),
                ))
            })
            .collect()
    }

    /// Open promises (id, vendor, due day), soonest first: due by `through`, of `vendor`, if given.
    pub fn promises_due(
        &self,
        through: Option<NaiveDate>,
        vendor: Option<&Rid>,
    ) -> Vec<(Rid, Rid, NaiveDate)> {
        let l = &self.promises;
        let no = vendor.map(|v| self.vendor_no.get(v).copied().unwrap_or(NONE));
        l.due
            .iter()
            .take_while(|(_, d, _)| through.is_none_or(|t| *d <= t))
            .filter_map(|(_, d, id)| {
                let e = l
                    .by_id
                    .get(id)
                    .filter(|e| no.is_none_or(|n| n == e.vendor))?;
                let vendor = *self.vendor_ids.get(e.vendor as usize)?;
                let live = self.vendors.contains_key(&vendor);
                live.then_some((*id, vendor, *d))
            })
            .collect()
    }

    /// Purchases whose warranty ends between `from` and `through` (both included), soonest
    /// first (what a Today view shows).
    pub fn warranties_ending(&self, from: NaiveDate, through: NaiveDate) -> Vec<(Rid, NaiveDate)> {
        if from > through {
            return Vec::new();
        }
        self.purchases
            .due
            .range((false, from, [0u8; 10])..=(false, through, [u8::MAX; 10]))
            .map(|(_, w, id)| (*id, *w))
            .collect()
    }

    /// What the index tells of vendor `vendor`'s records, none opened.
    pub fn tally(&self, vendor: &Rid) -> Tally {
        let Some(no) = self.vendor_no.get(vendor) else {
            return Tally::default();
        };
        fn set<'a>(l: &'a Listing, no: &u32) -> Option<&'a BTreeSet<Key>> {
            l.by_vendor.get(no)
        }
        let count = |l: &Listing| set(l, no).map_or(0, BTreeSet::len);
        Tally {
            interactions: count(&self.interactions),
            purchases: count(&self.purchases),
            incidents: count(&self.incidents),
            last_contact: set(&self.interactions, no)
                .and_then(|s| s.first())
                .and_then(|k| self.interactions.by_id.get(&k.2))
                .and_then(|e| e.at),
            first_purchase: set(&self.purchases, no)
                .and_then(|s| s.last())
                .and_then(|k| i32::try_from(-k.0).ok())
                .and_then(NaiveDate::from_num_days_from_ce_opt),
        }
    }

    /// The sentiments of vendor `vendor`'s interactions at or after `since` (milliseconds;
    /// all without), newest first: (time in milliseconds, sentiment) of those that have one.
    pub fn sentiments(&self, vendor: &Rid, since: Option<i64>) -> Vec<(i64, i8)> {
        let Some(set) = self
            .vendor_no
            .get(vendor)
            .and_then(|n| self.interactions.by_vendor.get(n))
        else {
            return Vec::new();
        };
        set.iter()
            .take_while(|k| since.is_none_or(|s| -k.0 >= s))
            .filter_map(|k| {
                let e = self.interactions.by_id.get(&k.2)?;
                Some((e.at?.0, e.sentiment?))
            })
            .collect()
    }

    /// Vendor `vendor`'s interactions, purchases and incidents after `after` in its timeline
    /// (`Moment`): at most `limit + 1`. Reads at most `limit + 1` of each kind.
    pub fn timeline(
        &self,
        vendor: &Rid,
        after: Option<&Moment>,
        limit: usize,
    ) -> Vec<(RecordKind, Moment)> {
        let Some(no) = self.vendor_no.get(vendor) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for kind in [
            RecordKind::Interaction,
            RecordKind::Purchase,
            RecordKind::Incident,
        ] {
            let Some(set) = self.listing(kind).and_then(|l| l.by_vendor.get(no)) else {
                continue;
            };
            // From a key at or before the cursor's time; the exact comparison skips the rest.
            let first = after.map(|a| match kind {
                RecordKind::Purchase => a.neg_ms.div_euclid(DAY_MS) - UNIX_DAY_CE,
                _ => a.neg_ms,
            });
            let start = first.map_or(Bound::Unbounded, |f| {
                Bound::Included((f, i64::MIN, [0u8; 10]))
            });
            out.extend(
                set.range((start, Bound::Unbounded))
                    .map(|key| (kind, Moment::of(kind, *key)))
                    .filter(|(_, m)| after.is_none_or(|a| m > a))
                    .take(limit + 1),
            );
        }
        out.sort_unstable_by_key(|(_, m)| *m);
        out.truncate(limit + 1);
        out
    }

    /// The vendor's lower-cased name (what its listing sorts by).
    pub fn vendor_name(&self, id: &Rid) -> Option<&str> {
        self.vendors.get(id).map(|v| &*v.name)
    }

    /// How many records the index holds.
    pub fn records(&self) -> usize {
        let of_vendors = OF_VENDOR.iter().filter_map(|k| self.listing(*k));
        self.vendors.len() + self.documents.len() + of_vendors.map(|l| l.by_id.len()).sum::<usize>()
    }

    /// Heap bytes held, by capacities: a hash table counts its slots (key, value, one control
    /// byte), a B-tree its entries at 1.5× (nodes are between half and all full, plus edges).
    pub fn heap_bytes(&self) -> usize {
        fn table<K, V>(m: &HashMap<K, V>) -> usize {
            m.capacity() * (size_of::<K>() + size_of::<V>() + 1)
        }
        fn tree<K>(len: usize) -> usize {
            len * size_of::<K>() * 3 / 2
        }
        let mut bytes = table(&self.vendors)
            + self.vendors.values().map(|v| v.name.len()).sum::<usize>()
            + table(&self.vendor_no)
            + self.vendor_ids.capacity() * size_of::<Rid>()
            + self.documents.heap_bytes()
            + self.text.heap_bytes();
        for l in OF_VENDOR.iter().filter_map(|k| self.listing(*k)) {
            bytes += table(&l.by_id)
                + tree::<Key>(l.order.len())
                + tree::<DueKey>(l.due.len())
                + table(&l.by_vendor)
                + l.by_vendor
                    .values()
                    .map(|s| tree::<Key>(s.len()))
                    .sum::<usize>();
        }
        bytes
    }
}
