//! The owner's profile: one record, empty until set, of which a vendor with `profile:read`
//! sees the disclosed part under the consumer's pseudonym.

use carnet_schemas::{Profile, ProfileFields, VendorId, VendorProfile};
use chrono::{DateTime, Utc};

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
