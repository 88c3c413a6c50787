//! Purchases: what was bought, for how much (exact decimal strings), and until when it is
//! under warranty. Never keeps a warranty that ends before its purchase, an amount with more
//! decimals than its currency has, nor a purchase moved to another vendor.

use carnet_schemas::ids::PurchaseKind;
use carnet_schemas::{Id, Purchase, PurchaseFields, PurchaseId, VendorId};
use chrono::{DateTime, Datelike, Utc};
use rusqlite::Connection;

use super::error::invalid;
use super::index::{self, Item, Key, RecordKind};
use super::kind::{Paged, same_vendor, vendor_exists};
use super::{Kind, LedgerError, Record, Removable, Replace};
use crate::crypto::Keys;

/// The purchases, most recent first.
pub struct Purchases;

impl Kind for Purchases {
    type Id = PurchaseKind;
    type Fields = PurchaseFields;
    type New = PurchaseFields;
    type Wire = Purchase;
    type Filter = Option<VendorId>;
    type SortKey = (i64, i64, String);

    fn wire(
        id: Id<PurchaseKind>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        fields: PurchaseFields,
    ) -> Purchase {
        Purchase {
            id,
            created_at,
            updated_at,
            fields,
        }
    }

    fn vendor_of(fields: &PurchaseFields) -> Option<&VendorId> {
        Some(&fields.vendor_id)
    }

    fn prepare(mut new: PurchaseFields, now: DateTime<Utc>) -> Result<PurchaseFields, LedgerError> {
        new.date.get_or_insert(now.date_naive());
        check_fields(&new)?;
        Ok(new)
    }

    fn check_new(conn: &Connection, _: &Keys, fields: &PurchaseFields) -> Result<(), LedgerError> {
        vendor_exists(conn, &fields.vendor_id)
    }

    fn filter_vendor(vendor: &Option<VendorId>) -> Option<&VendorId> {
        vendor.as_ref()
    }

    fn sort_key(record: &Record<Self>) -> (i64, i64, String) {
        let day = record
            .fields
            .date
            .map_or(0, |d| i64::from(d.num_days_from_ce()));
        (
            -day,
            -record.row.created_at.timestamp_millis(),
            record.id.to_string(),
        )
    }

    const RECORD: RecordKind = RecordKind::Purchase;

    fn index_item(id: &PurchaseId, created_at: DateTime<Utc>, f: &PurchaseFields) -> Item {
        let day = f.date.map_or(0, |d| i64::from(d.num_days_from_ce()));
        let created = created_at.timestamp_millis();
        let mut item = Item::new(
            RecordKind::Purchase,
            id.as_str(),
            Some(f.vendor_id.as_str()),
            (-day, -created),
            f.date
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map_or(created, |d| d.and_utc().timestamp_millis()),
        );
        item.warranty_until = f.warranty_until;
        item.text(Some(f.item.as_str()), true);
        item.text(f.receipt.as_ref().map(|r| r.as_str()), false);
        item
    }
}

impl Paged for Purchases {
    fn index_key(key: &(i64, i64, String)) -> Option<Key> {
        Some((key.0, key.1, index::rid(&key.2)?))
    }

    fn sort_key_of(key: &Key) -> (i64, i64, String) {
        (
            key.0,
            key.1,
            index::id_of::<PurchaseKind>(&key.2).to_string(),
        )
    }

    fn index_filter(vendor: &Option<VendorId>) -> index::Filter {
        index::Filter {
            vendor: vendor.as_ref().and_then(|v| index::rid(v.as_str())),
            ..index::Filter::default()
        }
    }
}

impl Replace for Purchases {
    /// A missing `date` keeps the old one, and so does a missing `import_key` (an edit does
    /// not make an imported row look new to the next import).
    fn merge(
        _: &Connection,
        _: &Keys,
        old: &Record<Self>,
        mut new: PurchaseFields,
    ) -> Result<PurchaseFields, LedgerError> {
        same_vendor(&old.fields.vendor_id, &new.vendor_id, "a purchase")?;
        new.date = new.date.or(old.fields.date);
        new.import_key = new.import_key.or_else(|| old.fields.import_key.clone());
        check_fields(&new)?;
        Ok(new)
    }
}

impl Removable for Purchases {}

fn check_fields(f: &PurchaseFields) -> Result<(), LedgerError> {
    f.amount
        .fits(&f.currency)
        .map_err(|e| invalid("amount", e.0))?;
    if let (Some(w), Some(d)) = (f.warranty_until, f.date)
        && w < d
    {
        return Err(invalid(
            "warranty_until",
            format!("the warranty ends ({w}) before the purchase date ({d})"),
        ));
    }
    Ok(())
}
