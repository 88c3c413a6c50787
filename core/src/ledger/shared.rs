//! What a vendor reads of the interactions: those the owner marked as shared with it (the
//! history a new account manager can be handed), under the consumer's pairwise pseudonym.
//! Never returns another vendor's interaction, nor one not shared, and tells "not there" and
//! "not yours" apart to no one.

use carnet_schemas::ids::InteractionKind;
use carnet_schemas::{InteractionFields, InteractionId, SharedInteraction, VendorId};
use chrono::{DateTime, Utc};

use super::{LedgerError, Listing, Opened, open};
use crate::access::pseudonym::customer_ref;
use crate::crypto::Keys;
use crate::store::Store;
use crate::store::records;

/// The interactions shared with `vendor` and changed at or after `since`, oldest change first.
pub fn list(
    store: &Store,
    keys: &Keys,
    vendor: &VendorId,
    since: Option<DateTime<Utc>>,
) -> Result<Listing<(i64, String), SharedInteraction>, LedgerError> {
    let rows =
        store.read(|c| records::list_shared::<InteractionFields>(c, vendor.as_str(), since))?;
    let reference = customer_ref(keys, vendor);
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let o = open::<InteractionKind, _>(keys, row)?;
        let key = (o.row.updated_at.timestamp_millis(), o.id.to_string());
        items.push((key, to_wire(o, reference.clone())));
    }
    Ok(items)
}

/// One interaction, if it is in `vendor`'s view: its own, and shared.
pub fn show(
    store: &Store,
    keys: &Keys,
    vendor: &VendorId,
    id: &InteractionId,
) -> Result<Option<SharedInteraction>, LedgerError> {
    let Some(row) = store.read(|c| records::get::<InteractionFields>(c, id.as_str()))? else {
        return Ok(None);
    };
    let o = open::<InteractionKind, _>(keys, row)?;
    let visible = o.fields.vendor_id == *vendor && o.fields.shared;
    Ok(visible.then(|| to_wire(o, customer_ref(keys, vendor))))
}

fn to_wire(
    o: Opened<InteractionKind, InteractionFields>,
    customer_ref: String,
) -> SharedInteraction {
    let f = o.fields;
    SharedInteraction {
        id: o.id,
        customer_ref,
        updated_at: o.row.updated_at,
        at: f.at,
        channel: f.channel,
        summary: f.summary,
        with: f.with,
        expected: f.expected,
        i_said: f.i_said,
        they_said: f.they_said,
        outcome: f.outcome,
        sentiment: f.sentiment,
        next_step: f.next_step,
        next_due: f.next_due,
        next_done: f.next_done,
    }
}
