//! Incidents and complaints, and how they were resolved. An incident is opened, then
//! resolved (again, to correct the resolution), and may be corrected (`replace`); it never
//! moves to another vendor, and only the server says when it was resolved.

use std::sync::Arc;

use carnet_schemas::ids::IncidentKind;
use carnet_schemas::{
    Id, Incident, IncidentFields, IncidentId, IncidentResolution, IncidentStatus, NewIncident,
    VendorId,
};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::error::invalid;
use super::index::{self, Item, Key, LedgerIndex, RecordKind};
use super::kind::{Paged, same_vendor, time_key, update, vendor_exists};
use super::{Kind, LedgerError, Record, Removable};
use crate::crypto::Keys;
use crate::store::Store;

/// The incidents, most recently opened first.
pub struct Incidents;

impl Kind for Incidents {
    type Id = IncidentKind;
    type Fields = IncidentFields;
    type New = NewIncident;
    type Wire = Incident;
    type Filter = Option<VendorId>;
    type SortKey = (i64, String);

    fn wire(
        id: Id<IncidentKind>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        fields: IncidentFields,
    ) -> Incident {
        Incident {
            id,
            created_at,
            updated_at,
            fields,
        }
    }

    fn vendor_of(fields: &IncidentFields) -> Option<&VendorId> {
        Some(&fields.vendor_id)
    }

    /// A new incident is open; it started when it is recorded unless told otherwise.
    fn prepare(new: NewIncident, now: DateTime<Utc>) -> Result<IncidentFields, LedgerError> {
        Ok(IncidentFields {
            vendor_id: new.vendor_id,
            description: new.description,
            opened_at: new.opened_at.unwrap_or_else(|| now.fixed_offset()),
            status: IncidentStatus::Open,
            resolution: None,
            satisfaction: None,
            resolved_at: None,
        })
    }

    fn check_new(conn: &Connection, _: &Keys, fields: &IncidentFields) -> Result<(), LedgerError> {
        vendor_exists(conn, &fields.vendor_id)
    }

    fn filter_vendor(vendor: &Option<VendorId>) -> Option<&VendorId> {
        vendor.as_ref()
    }

    fn sort_key(record: &Record<Self>) -> (i64, String) {
        (
            -record.fields.opened_at.timestamp_millis(),
            record.id.to_string(),
        )
    }

    const RECORD: RecordKind = RecordKind::Incident;

    fn index_item(id: &IncidentId, _: DateTime<Utc>, f: &IncidentFields) -> Item {
        let opened = f.opened_at.timestamp_millis();
        let mut item = Item::new(
            RecordKind::Incident,
            id.as_str(),
            Some(f.vendor_id.as_str()),
            (-opened, 0),
            opened,
        );
        item.text(Some(f.description.as_str()), true);
        item.text(f.resolution.as_ref().map(|r| r.as_str()), false);
        item
    }
}

impl Paged for Incidents {
    fn index_key(key: &(i64, String)) -> Option<Key> {
        time_key(key)
    }

    fn sort_key_of(key: &Key) -> (i64, String) {
        (key.0, index::id_of::<IncidentKind>(&key.2).to_string())
    }

    fn index_filter(vendor: &Option<VendorId>) -> index::Filter {
        index::Filter {
            vendor: vendor.as_ref().and_then(|v| index::rid(v.as_str())),
            ..index::Filter::default()
        }
    }
}

impl Removable for Incidents {}

/// Resolves an incident (again, to correct the resolution).
pub async fn resolve(
    store: &Store,
    keys: &Arc<Keys>,
    index: &Arc<LedgerIndex>,
    id: &IncidentId,
    resolution: IncidentResolution,
    now: DateTime<Utc>,
) -> Result<Incident, LedgerError> {
    update::<Incidents>(store, keys, index, id, now, move |_, _, old| {
        let mut fields = old.fields.clone();
        fields.status = IncidentStatus::Resolved;
        fields.resolution = Some(resolution.resolution);
        // Re-resolving to correct the text keeps a satisfaction given earlier.
        fields.satisfaction = resolution.satisfaction.or(fields.satisfaction);
        fields.resolved_at = Some(now);
        Ok(fields)
    })
    .await
}

/// Replaces what an incident says: its description, when it started, its resolution and
/// satisfaction. `status: open` opens it again (it then has neither); `status: resolved`
/// needs a resolution. `resolved_at` is kept, or set now when it becomes resolved; what was
/// sent for it is ignored.
pub async fn replace(
    store: &Store,
    keys: &Arc<Keys>,
    index: &Arc<LedgerIndex>,
    id: &IncidentId,
    new: IncidentFields,
    now: DateTime<Utc>,
) -> Result<Incident, LedgerError> {
    update::<Incidents>(store, keys, index, id, now, move |_, _, old| {
        same_vendor(&old.fields.vendor_id, &new.vendor_id, "an incident")?;
        let mut fields = new;
        fields.resolved_at = match fields.status {
            IncidentStatus::Open => {
                if fields.resolution.is_some() || fields.satisfaction.is_some() {
                    return Err(invalid(
                        "status",
                        "an open incident has no resolution nor satisfaction: leave them out, or say it is resolved",
                    ));
                }
                None
            }
            IncidentStatus::Resolved => {
                if fields.resolution.is_none() {
                    return Err(invalid(
                        "resolution",
                        "a resolved incident says how it was resolved",
                    ));
                }
                old.fields.resolved_at.or(Some(now))
            }
        };
        Ok(fields)
    })
    .await
}
