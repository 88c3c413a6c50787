//! Vendors: who the owner deals with. Names are unique (exact match), so the CLI can take a
//! name wherever it takes an id. Never lets two vendors share a name, nor deletes one and
//! leaves its tokens working.

use std::sync::Arc;

use carnet_schemas::ids::VendorKind;
use carnet_schemas::{Id, Line, Vendor, VendorDetail, VendorFields, VendorId};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::error::invalid;
use super::index::{Item, LedgerIndex, Op, RecordKind};
use super::kind::{all, get, remove, wire};
use super::loyalty::{self, View};
use super::scorecard;
use super::{Kind, LedgerError, Record, Replace};
use crate::access::AccessCache;
use crate::crypto::Keys;
use crate::store::records::{self, Row};
use crate::store::{Store, StoreError};

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
        mut new: VendorFields,
    ) -> Result<VendorFields, LedgerError> {
        unique_name(conn, keys, &new.name, Some(&old.id))?;
        // The link to the market directory is the vault's, not an editable field: a
        // replacement that does not name it keeps it.
        if new.directory_id.is_none() {
            new.directory_id = old.fields.directory_id.clone();
        }
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

/// `base`, or `base (2)`, `base (3)`… : the first name no vendor of the vault has (vendors that
/// do not open are not counted). For vendors the vault adds itself (an open registration, a
/// market directory vendor), whose names it does not choose.
pub fn free_name(c: &Connection, keys: &Keys, base: &str) -> Result<String, StoreError> {
    let taken: Vec<String> = records::list::<VendorFields>(c, None)?
        .into_iter()
        .filter_map(|r| keys.seal().open::<VendorFields>(&r.id, &r.sealed).ok())
        .map(|v| v.name.to_string())
        .collect();
    Ok((1..)
        .map(|n| {
            if n == 1 {
                base.to_owned()
            } else {
                format!("{base} ({n})")
            }
        })
        .find(|n| !taken.contains(n))
        .unwrap_or_else(|| base.to_owned()))
}

/// Adds `fields` as a new vendor `id` in the caller's transaction (its name checked by the
/// caller); returns what the ledger index learns of it.
pub fn insert(
    c: &Connection,
    keys: &Keys,
    id: &VendorId,
    fields: &VendorFields,
    now: DateTime<Utc>,
) -> Result<Op, StoreError> {
    records::insert(
        c,
        &Row {
            id: id.to_string(),
            vendor_id: None,
            created_at: now,
            updated_at: now,
            sealed: keys.seal().seal(id.as_str(), fields),
        },
    )?;
    Ok(Op::Put(Vendors::index_item(id, now, fields)))
}

/// A market directory vendor as the vault adds it: its directory id, name and website.
#[derive(Debug, Clone)]
pub struct DirectoryListing {
    pub directory_id: String,
    pub name: String,
    pub website: Option<String>,
}

/// The vault's vendor linked to directory vendor `listing`: the one already linked (its
/// `directory_id`), else a new one `new_id` made from the listing (its name made unique, a
/// website that is not a valid URL left out), in the caller's transaction. Returns the vendor,
/// and the index's change when it was added.
pub fn from_directory(
    c: &Connection,
    keys: &Keys,
    listing: &DirectoryListing,
    new_id: VendorId,
    now: DateTime<Utc>,
) -> Result<(VendorId, Option<Op>), LedgerError> {
    let linked = records::list::<VendorFields>(c, None)?
        .into_iter()
        .filter_map(|r| {
            let f = keys.seal().open::<VendorFields>(&r.id, &r.sealed).ok()?;
            let same = f.directory_id.as_ref()?.as_str() == listing.directory_id;
            same.then_some(r.id)
        })
        .next();
    if let Some(id) = linked {
        return Ok((
            id.parse()
                .map_err(|_| invalid("vendor", "a stored vendor id is invalid"))?,
            None,
        ));
    }
    let name = free_name(c, keys, &listing.name)?;
    let fields = VendorFields {
        name: name
            .parse()
            .map_err(|e: carnet_schemas::InvalidValue| invalid("name", e.0))?,
        website: listing.website.as_deref().and_then(|w| w.parse().ok()),
        categories: vec![],
        accounts: vec![],
        note: "Added from the market directory".parse().ok(),
        channel: None,
        contact_policy: None,
        directory_id: Some(
            listing
                .directory_id
                .parse()
                .map_err(|e: carnet_schemas::InvalidValue| invalid("directory_id", e.0))?,
        ),
    };
    let op = insert(c, keys, &new_id, &fields, now)?;
    Ok((new_id, Some(op)))
}

/// `carnet vendor add --from-directory`: the vault's vendor for directory vendor `listing`,
/// added when there is none (`from_directory`). Returns it, and whether it was added now.
pub async fn add_from_directory(
    store: &Store,
    keys: &Arc<Keys>,
    index: &Arc<LedgerIndex>,
    listing: DirectoryListing,
    now: DateTime<Utc>,
) -> Result<(Vendor, bool), LedgerError> {
    let keys = Arc::clone(keys);
    let new_id = Id::from_random(&crate::credential::random_bytes::<
        { carnet_schemas::ids::ID_RANDOM_BYTES },
    >());
    index
        .write(store, move |c| {
            let (id, op) = from_directory(c, &keys, &listing, new_id, now)?;
            let added = op.is_some();
            let vendor = wire::<Vendors>(get::<Vendors>(c, &keys, &id)?);
            Ok::<_, LedgerError>(((vendor, added), op.into_iter().collect()))
        })
        .await
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
