//! Vendors: who the owner deals with. Names are unique (exact match), so the CLI can take a
//! name wherever it takes an id. Never lets two vendors share a name, nor deletes one and
//! leaves its tokens working.

use std::sync::Arc;

use carnet_schemas::ids::VendorKind;
use carnet_schemas::{Id, Line, Vendor, VendorDetail, VendorFields, VendorId};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::index::{Item, LedgerIndex, RecordKind};
use super::kind::{all, get, remove, wire};
use super::loyalty::{self, View};
use super::scorecard;
use super::{Kind, LedgerError, Record, Replace};
use crate::access::AccessCache;
use crate::crypto::Keys;
use crate::store::Store;

/// The vendors, by name.
pub struct Vendors;

impl Kind for Vendors {
    type Id = VendorKind;
    type Fields = VendorFields;
    type New = VendorFields;
    type Wire = Vendor;
    type Filter = ();
    type SortKey = (String, String);

    fn wire(
        id: Id<VendorKind>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        fields: VendorFields,
    ) -> Vendor {
        Vendor {
            id,
            created_at,
            updated_at,
            fields,
        }
    }

    fn vendor_of(_: &VendorFields) -> Option<&VendorId> {
        None
    }

    fn prepare(new: VendorFields, _: DateTime<Utc>) -> Result<VendorFields, LedgerError> {
        Ok(new)
    }

    fn check_new(conn: &Connection, keys: &Keys, fields: &VendorFields) -> Result<(), LedgerError> {
        unique_name(conn, keys, &fields.name, None)
    }

    fn filter_vendor(_: &()) -> Option<&VendorId> {
        None
    }

    fn sort_key(v: &Record<Self>) -> (String, String) {
        (v.fields.name.as_str().to_lowercase(), v.id.to_string())
    }

    const RECORD: RecordKind = RecordKind::Vendor;

    fn index_item(id: &VendorId, created_at: DateTime<Utc>, f: &VendorFields) -> Item {
        let mut item = Item::new(
            RecordKind::Vendor,
            id.as_str(),
            None,
            (0, 0),
            created_at.timestamp_millis(),
        );
        item.name = Some(f.name.as_str().to_lowercase().into());
        item.channel = f.channel;
        item.text(Some(f.name.as_str()), true);
        item.text(f.website.as_ref().map(|w| w.as_str()), false);
        for c in &f.categories {
            item.text(Some(c.as_str()), false);
        }
        for a in &f.accounts {
            item.text(Some(a.as_str()), false);
        }
        item.text(f.note.as_ref().map(|t| t.as_str()), false);
        item.text(f.contact_policy.as_ref().map(|t| t.as_str()), false);
        item
    }
}

impl Replace for Vendors {
    fn merge(
        conn: &Connection,
        keys: &Keys,
        old: &Record<Self>,
        new: VendorFields,
    ) -> Result<VendorFields, LedgerError> {
        unique_name(conn, keys, &new.name, Some(&old.id))?;
        Ok(new)
    }
}

fn unique_name(
    conn: &Connection,
    keys: &Keys,
    name: &Line,
    except: Option<&VendorId>,
) -> Result<(), LedgerError> {
    let clash = all::<Vendors>(conn, keys)?
        .into_iter()
        .find(|v| v.fields.name == *name && Some(&v.id) != except);
    match clash {
        Some(v) => Err(LedgerError::Conflict {
            detail: format!(
                "a vendor named {:?} already exists ({})",
                name.as_str(),
                v.id
            ),
            hint: "vendor names are unique: choose another name, or edit the existing vendor",
        }),
        None => Ok(()),
    }
}

/// A vendor, the loyalty facts derived from the ledger and its scorecard (`now` decides
/// which promises are late and what the last 12 months are).
pub fn detail(
    store: &Store,
    keys: &Keys,
    index: &LedgerIndex,
    id: &VendorId,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<VendorDetail, LedgerError> {
    // The scorecard's sentiments come from the ledger index. While it builds, or when another
    // record does not open (the index then answers no one), the vendor and its facts still
    // answer, without a scorecard: they never needed the index.
    let sentiments = match scorecard::sentiments(index, id, now) {
        Ok(s) => Some(s),
        Err(LedgerError::Warming | LedgerError::Unreadable(_)) => None,
        Err(e) => return Err(e),
    };
    let today = super::profile::today(store, keys, now)?;
    store.read(|c| {
        let vendor = wire::<Vendors>(get::<Vendors>(c, keys, id)?);
        let loyalty = loyalty::compute(c, keys, id, View::Owner(today))?;
        let scorecard = sentiments
            .map(|s| scorecard::compute(c, keys, id, &s, vendor.created_at, now))
            .transpose()?;
        Ok(VendorDetail {
            vendor,
            loyalty,
            scorecard,
        })
    })
}

/// Deletes a vendor and its whole ledger (interactions, purchases, incidents), its client,
/// grants and tokens, which stop working at once. Its receipts and access-log entries stay.
pub async fn delete(
    store: &Store,
    index: &Arc<LedgerIndex>,
    access: &AccessCache,
    id: &VendorId,
) -> Result<(), LedgerError> {
    remove::<Vendors>(store, index, id).await?;
    // The database dropped its client, grants and tokens with it; so does the in-memory view.
    access.remove_vendor(id);
    Ok(())
}
