//! Incidents and complaints, and how they were resolved. An incident is opened, then
//! resolved (again, to correct the resolution); it is never replaced whole.

use std::sync::Arc;

use carnet_schemas::ids::IncidentKind;
use carnet_schemas::{
    Id, Incident, IncidentFields, IncidentId, IncidentResolution, IncidentStatus, NewIncident,
    VendorId,
};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::kind::{update, vendor_exists};
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
