//! Interactions: every exchange that mattered, with what was expected, said and felt, and
//! what happens next. Never keeps a due date without a step, an interaction moved to another
//! vendor, nor a new link to an incident of another vendor.

use std::sync::Arc;

use carnet_schemas::ids::{IncidentKind, InteractionKind};
use carnet_schemas::{
    Channel, Id, IncidentFields, Interaction, InteractionFields, InteractionId, InteractionQuery,
    VendorId,
};
use chrono::{DateTime, FixedOffset, Utc};
use rusqlite::Connection;

use super::error::invalid;
use super::index::{self, Item, Key, LedgerIndex, RecordKind, instant, text};
use super::kind::{Paged, same_vendor, time_key, update, vendor_exists};
use super::{Kind, LedgerError, Record, Removable, Replace, open};
use crate::crypto::Keys;
use crate::store::records;
use crate::store::{Store, StoreError};

/// The interactions, newest first.
pub struct Interactions;

/// Which interactions a listing keeps.
#[derive(Debug, Clone, Default)]
pub struct InteractionFilter {
    vendor: Option<VendorId>,
    channel: Option<Channel>,
    /// Folded words that must each begin some word of the interaction (`grep`).
    words: Vec<String>,
    since: Option<DateTime<FixedOffset>>,
    until: Option<DateTime<FixedOffset>>,
}

impl From<&InteractionQuery> for InteractionFilter {
    fn from(q: &InteractionQuery) -> Self {
        let mut words = q.grep.as_deref().map(text::words).unwrap_or_default();
        words.sort();
        words.dedup();
        words.truncate(text::MAX_QUERY_WORDS);
        InteractionFilter {
            vendor: q.vendor.clone(),
            channel: q.channel,
            words,
            since: q.since,
            until: q.until,
        }
    }
}

impl Kind for Interactions {
    type Id = InteractionKind;
    type Fields = InteractionFields;
    type New = InteractionFields;
    type Wire = Interaction;
    type Filter = InteractionFilter;
    type SortKey = (i64, String);

    fn wire(
        id: Id<InteractionKind>,
        created_at: DateTime<Utc>,
        updated_at: DateTime<Utc>,
        fields: InteractionFields,
    ) -> Interaction {
        Interaction {
            id,
            created_at,
            updated_at,
            fields,
        }
    }

    fn vendor_of(fields: &InteractionFields) -> Option<&VendorId> {
        Some(&fields.vendor_id)
    }

    fn prepare(
        mut new: InteractionFields,
        now: DateTime<Utc>,
    ) -> Result<InteractionFields, LedgerError> {
        check_fields(&new)?;
        new.at.get_or_insert_with(|| now.fixed_offset());
        Ok(new)
    }

    fn check_new(
        conn: &Connection,
        keys: &Keys,
        fields: &InteractionFields,
    ) -> Result<(), LedgerError> {
        check_references(conn, keys, fields)
    }

    fn write_clear(
        conn: &Connection,
        id: &str,
        fields: &InteractionFields,
    ) -> Result<(), StoreError> {
        records::set_shared(conn, id, fields.shared)
    }

    fn filter_vendor(filter: &InteractionFilter) -> Option<&VendorId> {
        filter.vendor.as_ref()
    }

    fn sort_key(record: &Record<Self>) -> (i64, String) {
        let at = record.fields.at;
        (
            -at.map_or(0, |a| a.timestamp_millis()),
            record.id.to_string(),
        )
    }

    const RECORD: RecordKind = RecordKind::Interaction;

    fn index_item(id: &InteractionId, created_at: DateTime<Utc>, f: &InteractionFields) -> Item {
        let at = f.at.as_ref().map(instant);
        let mut item = Item::new(
            RecordKind::Interaction,
            id.as_str(),
            Some(f.vendor_id.as_str()),
            (-at.map_or(0, |a| a.0), 0),
            at.map_or(created_at.timestamp_millis(), |a| a.0),
        );
        item.at = at;
        item.channel = Some(f.channel);
        item.sentiment = f.sentiment.map(|s| s.get());
        item.pending = (f.next_step.is_some() && !f.next_done).then_some(f.next_due);
        item.text(Some(f.summary.as_str()), true);
        for t in [
            &f.expected,
            &f.i_said,
            &f.they_said,
            &f.outcome,
            &f.next_step,
        ] {
            item.text(t.as_ref().map(|t| t.as_str()), false);
        }
        item.text(f.with.as_ref().map(|t| t.as_str()), false);
        item
    }
}

impl Paged for Interactions {
    fn index_key(key: &(i64, String)) -> Option<Key> {
        time_key(key)
    }

    fn sort_key_of(key: &Key) -> (i64, String) {
        (key.0, index::id_of::<InteractionKind>(&key.2).to_string())
    }

    fn index_filter(f: &InteractionFilter) -> index::Filter {
        index::Filter {
            vendor: f.vendor.as_ref().and_then(|v| index::rid(v.as_str())),
            channel: f.channel,
            since: f.since.as_ref().map(instant),
            until: f.until.as_ref().map(instant),
            words: f.words.clone(),
        }
    }
}

impl Replace for Interactions {
    fn check(fields: &InteractionFields) -> Result<(), LedgerError> {
        check_fields(fields)
    }

    fn merge(
        conn: &Connection,
        keys: &Keys,
        old: &Record<Self>,
        mut new: InteractionFields,
    ) -> Result<InteractionFields, LedgerError> {
        same_vendor(&old.fields.vendor_id, &new.vendor_id, "an interaction")?;
        // A link to an incident deleted since stays as it was; a new link must be valid.
        if new.incident_id != old.fields.incident_id {
            check_references(conn, keys, &new)?;
        }
        new.at = new.at.or(old.fields.at);
        Ok(new)
    }
}

impl Removable for Interactions {}

/// Shares interaction `id` with its vendor (`shared`), or stops sharing it, in one write:
/// nothing else of it changes (its `updated_at` does, so a vendor syncing since sees it).
pub async fn share(
    store: &Store,
    keys: &Arc<Keys>,
    index: &Arc<LedgerIndex>,
    id: &InteractionId,
    shared: bool,
    now: DateTime<Utc>,
) -> Result<Interaction, LedgerError> {
    update::<Interactions>(store, keys, index, id, now, move |_, _, old| {
        let mut fields = old.fields.clone();
        fields.shared = shared;
        Ok(fields)
    })
    .await
}

fn check_fields(f: &InteractionFields) -> Result<(), LedgerError> {
    if f.next_due.is_some() && f.next_step.is_none() {
        return Err(invalid(
            "next_due",
            "a due date needs a next_step to be due",
        ));
    }
    Ok(())
}

/// Checks references against the database, inside the write transaction.
fn check_references(
    conn: &Connection,
    keys: &Keys,
    f: &InteractionFields,
) -> Result<(), LedgerError> {
    vendor_exists(conn, &f.vendor_id)?;
    if let Some(incident) = &f.incident_id {
        let Some(row) = records::get::<IncidentFields>(conn, incident.as_str())? else {
            return Err(invalid(
                "incident_id",
                format!("there is no incident {incident}"),
            ));
        };
        if open::<IncidentKind, _>(keys, row)?.fields.vendor_id != f.vendor_id {
            return Err(invalid(
                "incident_id",
                format!("incident {incident} is with another vendor"),
            ));
        }
    }
    Ok(())
}
