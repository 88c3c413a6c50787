//! The owner's profile: one record, empty until set, of which a vendor with `profile:read`
//! sees the disclosed part under the consumer's pseudonym.

use carnet_schemas::{Profile, ProfileFields, TimeZoneName, VendorId, VendorProfile};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use super::{LedgerError, PROFILE_ID};
use crate::access::pseudonym::customer_ref;
use crate::crypto::Keys;
use crate::store::Store;
use crate::store::records::{self, Row};

/// The profile (empty until set).
pub fn show(store: &Store, keys: &Keys) -> Result<Profile, LedgerError> {
    let row = store.read(|c| records::get::<ProfileFields>(c, PROFILE_ID))?;
    Ok(match row {
        None => Profile {
            updated_at: None,
            fields: ProfileFields::default(),
        },
        Some(row) => Profile {
            updated_at: Some(row.updated_at),
            fields: keys.seal().open(&row.id, &row.sealed)?,
        },
    })
}

/// Replaces the profile.
pub async fn replace(
    store: &Store,
    keys: &Keys,
    fields: ProfileFields,
    now: DateTime<Utc>,
) -> Result<Profile, LedgerError> {
    if let Some(name) = &fields.time_zone {
        zone(name).ok_or_else(|| {
            super::error::invalid(
                "time_zone",
                format!(
                    "{name} is not a time zone this server knows: an IANA name like Europe/Paris"
                ),
            )
        })?;
    }
    let sealed = keys.seal().seal(PROFILE_ID, &fields);
    store
        .write(move |c| {
            records::upsert(
                c,
                &Row {
                    id: PROFILE_ID.into(),
                    vendor_id: None,
                    created_at: now,
                    updated_at: now,
                    sealed,
                },
            )
        })
        .await?;
    Ok(Profile {
        updated_at: Some(now),
        fields,
    })
}

/// What `vendor` is shown of the profile.
pub fn for_vendor(
    store: &Store,
    keys: &Keys,
    vendor: &VendorId,
) -> Result<VendorProfile, LedgerError> {
    let fields = show(store, keys)?.fields;
    Ok(VendorProfile {
        customer_ref: customer_ref(keys, vendor),
        display_name: fields.display_name,
        locale: fields.locale,
        city: fields.city,
        postal_code: fields.postal_code,
    })
}

/// The zone `name` names, if it is one of the IANA database's.
pub fn zone(name: &TimeZoneName) -> Option<Tz> {
    name.as_str().parse().ok()
}

/// The server's own time zone (UTC when it cannot be told).
pub fn server_time_zone() -> Tz {
    iana_time_zone::get_timezone()
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(Tz::UTC)
}

/// The owner's time zone: the profile's, else the server's.
pub fn time_zone(store: &Store, keys: &Keys) -> Result<Tz, LedgerError> {
    Ok(show(store, keys)?
        .fields
        .time_zone
        .as_ref()
        .and_then(zone)
        .unwrap_or_else(server_time_zone))
}

/// The owner's day at `now`: what "due today" and "late" are counted from.
pub fn today(store: &Store, keys: &Keys, now: DateTime<Utc>) -> Result<NaiveDate, LedgerError> {
    Ok(now.with_timezone(&time_zone(store, keys)?).date_naive())
}
