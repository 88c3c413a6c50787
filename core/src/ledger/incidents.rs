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
use super::kind::{same_vendor, update, vendor_exists};
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
}

impl Removable for Incidents {}

/// Resolves an incident (again, to correct the resolution).
pub async fn resolve(
    store: &Store,
    keys: &Arc<Keys>,
    id: &IncidentId,
    resolution: IncidentResolution,
    now: DateTime<Utc>,
) -> Result<Incident, LedgerError> {
    update::<Incidents>(store, keys, id, now, move |_, _, old| {
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
    id: &IncidentId,
    new: IncidentFields,
    now: DateTime<Utc>,
) -> Result<Incident, LedgerError> {
    update::<Incidents>(store, keys, id, now, move |_, _, old| {
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
