//! One service for the four record kinds: list, create, show, replace and delete, each in one
//! read or one write transaction. A kind (`Vendors`, `Interactions`, `Purchases`, `Incidents`)
//! says its table, its id, its wire form and its rules; this module applies them the same way
//! to all. Never writes a record its kind's checks refused, nor replaces one that does not open.

use std::sync::Arc;

use carnet_schemas::{Id, IdKind, VendorId, ids::ID_RANDOM_BYTES};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::error::invalid;
use super::index::{Item, Key, LedgerIndex, Op, RecordKind, rid};
use super::{LedgerError, Opened, open};
use crate::credential::random_bytes;
use crate::crypto::{Keys, Sealable, Table};
use crate::store::records::{self, Row};
use crate::store::{Store, StoreError};

/// A stored record of kind `K`, opened.
pub type Record<K> = Opened<<K as Kind>::Id, <K as Kind>::Fields>;

/// A kind of ledger record, and the rules its records follow.
pub trait Kind: Sized + 'static {
    /// Its ids (`VendorKind`: `ven_…`, called "vendor" in messages).
    type Id: IdKind + 'static;
    /// What is sealed into its table.
    type Fields: Sealable + Send + 'static;
    /// What `create` takes: the content, or what the content is made from.
    type New;
    /// A record as the API shows it.
    type Wire: Send + 'static;
    /// Which records `list` returns.
    type Filter;
    /// The listing's order (a page's cursor is the key of its last record).
    type SortKey: Ord;

    fn wire(
        id: Id<Self::Id>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        fields: Self::Fields,
    ) -> Self::Wire;

    /// The vendor a record belongs to (its clear `vendor_id`); `None` for a vendor itself.
    fn vendor_of(fields: &Self::Fields) -> Option<&VendorId>;

    /// Checks a new record on its own and fills in its defaults, before the transaction.
    fn prepare(new: Self::New, now: DateTime<Utc>) -> Result<Self::Fields, LedgerError>;

    /// Checks a new record against the rest of the ledger, in the transaction that adds it.
    fn check_new(conn: &Connection, keys: &Keys, fields: &Self::Fields) -> Result<(), LedgerError>;

    /// Writes what a record keeps in clear besides its row (an interaction's `shared`).
    fn write_clear(
        _conn: &Connection,
        _id: &str,
        _fields: &Self::Fields,
    ) -> Result<(), StoreError> {
        Ok(())
    }

    /// The one vendor whose records `filter` asks for, if it names one (the store selects them).
    fn filter_vendor(filter: &Self::Filter) -> Option<&VendorId>;

    /// Whether `filter` keeps an opened record (beyond its vendor).
    fn keeps(_filter: &Self::Filter, _record: &Record<Self>) -> bool {
        true
    }

    fn sort_key(record: &Record<Self>) -> Self::SortKey;

    /// Which of the index's kinds it is.
    const RECORD: RecordKind;

    /// What the index keeps of a record: its vendor, sort key, dates and words.
    fn index_item(id: &Id<Self::Id>, created_at: DateTime<Utc>, fields: &Self::Fields) -> Item;
}

/// A kind of a vendor's records, listed newest first through the index.
pub trait Paged: Kind {
    /// A sort key (as a cursor carries it) as the index orders it; `None` if it cannot be one
    /// of this listing's.
    fn index_key(key: &Self::SortKey) -> Option<Key>;
    /// The sort key of an index position (what the next cursor carries).
    fn sort_key_of(key: &Key) -> Self::SortKey;
    /// What the index answers of `filter`.
    fn index_filter(filter: &Self::Filter) -> super::index::Filter;
}

/// `(-n, id)`, as interactions and incidents sort, as the index holds it.
pub(super) fn time_key(key: &(i64, String)) -> Option<Key> {
    Some((key.0, 0, rid(&key.1)?))
}

/// A kind whose records can be replaced (an incident changes only by being resolved).
pub trait Replace: Kind {
    /// Checks new content on its own, before the transaction (so before "not found").
    fn check(_fields: &Self::Fields) -> Result<(), LedgerError> {
        Ok(())
    }

    /// The content to store in place of `old`, checked against the ledger (in the transaction).
    fn merge(
        conn: &Connection,
        keys: &Keys,
        old: &Record<Self>,
        new: Self::Fields,
    ) -> Result<Self::Fields, LedgerError>;
}

/// A kind whose records take nothing with them but their row. (A vendor takes its client,
/// grants and tokens: `vendors::delete`.)
pub trait Removable: Kind {}

/// Adds a record made from `new`, under a fresh id.
pub async fn create<K: Kind>(
    store: &Store,
    keys: &Arc<Keys>,
    index: &Arc<LedgerIndex>,
    new: K::New,
    now: DateTime<Utc>,
) -> Result<K::Wire, LedgerError> {
    let fields = K::prepare(new, now)?;
    let id: Id<K::Id> = Id::from_random(&random_bytes::<ID_RANDOM_BYTES>());
    let sealed = keys.seal().seal(id.as_str(), &fields);
    let (keys, row_id, index_id) = (Arc::clone(keys), id.to_string(), id.clone());
    let fields = index
        .write(store, move |c| {
            K::check_new(c, &keys, &fields)?;
            records::insert(
                c,
                &Row {
                    id: row_id.clone(),
                    vendor_id: K::vendor_of(&fields).map(ToString::to_string),
                    created_at: now,
                    updated_at: now,
                    sealed,
                },
            )?;
            K::write_clear(c, &row_id, &fields)?;
            let op = Op::Put(K::index_item(&index_id, now, &fields));
            Ok::<_, LedgerError>((fields, vec![op]))
        })
        .await?;
    Ok(K::wire(id, now, now, fields))
}

/// One record.
pub fn show<K: Kind>(store: &Store, keys: &Keys, id: &Id<K::Id>) -> Result<K::Wire, LedgerError> {
    let record = store.read(|c| get::<K>(c, keys, id))?;
    Ok(wire::<K>(record))
}

/// Replaces what record `id` holds (by its kind's rules: what stays, what is kept when left
/// out).
pub async fn replace<K: Replace>(
    store: &Store,
    keys: &Arc<Keys>,
    index: &Arc<LedgerIndex>,
    id: &Id<K::Id>,
    fields: K::Fields,
    now: DateTime<Utc>,
) -> Result<K::Wire, LedgerError> {
    K::check(&fields)?;
    update::<K>(store, keys, index, id, now, move |c, keys, old| {
        K::merge(c, keys, old, fields)
    })
    .await
}

/// Deletes a record.
pub async fn delete<K: Removable>(
    store: &Store,
    index: &Arc<LedgerIndex>,
    id: &Id<K::Id>,
) -> Result<(), LedgerError> {
    remove::<K>(store, index, id).await
}

/// Rewrites record `id` in one transaction: `change` gets the stored record and gives its new
/// content.
pub(super) async fn update<K: Kind>(
    store: &Store,
    keys: &Arc<Keys>,
    index: &Arc<LedgerIndex>,
    id: &Id<K::Id>,
    now: DateTime<Utc>,
    change: impl FnOnce(&Connection, &Keys, &Record<K>) -> Result<K::Fields, LedgerError>
    + Send
    + 'static,
) -> Result<K::Wire, LedgerError> {
    let (keys, id) = (Arc::clone(keys), id.clone());
    index
        .write(store, move |c| {
            let old = get::<K>(c, &keys, &id)?;
            let fields = change(c, &keys, &old)?;
            let sealed = keys.seal().seal(id.as_str(), &fields);
            records::update(c, id.as_str(), now, &sealed)?;
            K::write_clear(c, id.as_str(), &fields)?;
            let op = Op::Put(K::index_item(&id, old.row.created_at, &fields));
            Ok((K::wire(id, old.row.created_at, now, fields), vec![op]))
        })
        .await
}

/// Deletes record `id` of any kind.
pub(super) async fn remove<K: Kind>(
    store: &Store,
    index: &Arc<LedgerIndex>,
    id: &Id<K::Id>,
) -> Result<(), LedgerError> {
    let row_id = id.to_string();
    let table = <K::Fields as Sealable>::TABLE;
    let Some(random) = rid(&row_id) else {
        return Err(not_found::<K>(id));
    };
    let op = match K::RECORD {
        RecordKind::Vendor => Op::RemoveVendor(random),
        kind => Op::Remove(kind, random),
    };
    let found = index
        .write(store, move |c| {
            let found = records::delete(c, table, &row_id)?;
            Ok::<_, StoreError>((found, if found { vec![op] } else { vec![] }))
        })
        .await?;
    if found {
        Ok(())
    } else {
        Err(not_found::<K>(id))
    }
}

/// Record `id`, opened.
pub(super) fn get<K: Kind>(
    conn: &Connection,
    keys: &Keys,
    id: &Id<K::Id>,
) -> Result<Record<K>, LedgerError> {
    let row = records::get::<K::Fields>(conn, id.as_str())?.ok_or_else(|| not_found::<K>(id))?;
    Ok(open(keys, row)?)
}

/// Every record of a kind, opened.
pub(super) fn all<K: Kind>(conn: &Connection, keys: &Keys) -> Result<Vec<Record<K>>, LedgerError> {
    records::list::<K::Fields>(conn, None)?
        .into_iter()
        .map(|r| Ok(open(keys, r)?))
        .collect()
}

pub(super) fn wire<K: Kind>(record: Record<K>) -> K::Wire {
    K::wire(
        record.id,
        record.row.created_at,
        record.row.updated_at,
        record.fields,
    )
}

pub(super) fn not_found<K: Kind>(id: &Id<K::Id>) -> LedgerError {
    LedgerError::NotFound {
        noun: <K::Id as IdKind>::NOUN,
        id: id.to_string(),
    }
}

/// A record refers to `vendor`, which must exist.
pub(super) fn vendor_exists(conn: &Connection, vendor: &VendorId) -> Result<(), LedgerError> {
    if records::exists(conn, Table::Vendors, vendor.as_str())? {
        Ok(())
    } else {
        Err(invalid("vendor_id", format!("there is no vendor {vendor}")))
    }
}

/// A record stays with the vendor it was recorded with (`what`: "a purchase").
pub(super) fn same_vendor(old: &VendorId, new: &VendorId, what: &str) -> Result<(), LedgerError> {
    if old == new {
        Ok(())
    } else {
        Err(invalid(
            "vendor_id",
            format!("{what} stays with its vendor; record a new one instead"),
        ))
    }
}
