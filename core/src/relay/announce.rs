//! Writing an intent's announcement into the relay's outbox, inside the transaction of the
//! change it announces: the intent's relay row (made at its first announcement, with fresh
//! keys) gives the keys and the next revision; the signed message is sealed in the outbox as it
//! will be published, so every retry sends the same bytes under the same `Nats-Msg-Id`.

use carnet_market::wire::announcement::{IntentKeys, Publication};
use carnet_market::wire::{Event, Region};
use carnet_schemas::{IntentFields, IntentId, RelayLevel};
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::{StoredKeys, category, public_fields, window};
use crate::context::Core;
use crate::store::StoreError;
use crate::store::outbox::{self as outbox_rows, Outbox};
use crate::store::relay::{self as rows, RelayIntentRow};
use crate::vault::{Sealable, Table};

/// One message of the relay's outbox, exactly as it will be published.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Queued {
    pub subject: String,
    pub headers: Vec<(String, String)>,
    /// The signed envelope (JSON text).
    pub body: String,
}

impl Sealable for Queued {
    const TABLE: Table = Table::RelayOutbox;
}

/// Writes `event` of intent `id` to the relay's outbox when the intent is at `announce` and the
/// vault has a relay; returns whether it did. An intent never announced is not told ended; one
/// whose terminal event went out is never announced again; one announced and then set to `off`
/// is told withdrawn.
pub fn record(
    c: &Connection,
    core: &Core,
    event: Event,
    id: &IntentId,
    fields: &IntentFields,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let existing = rows::intent(c, id.as_str())?;
    // An announced intent the owner took off the relay is withdrawn from the market.
    let event = match (fields.relay, &existing) {
        (RelayLevel::Announce, _) => event,
        (RelayLevel::Off, Some(row)) if !row.ended => Event::Withdrawn,
        (RelayLevel::Off, _) => return Ok(false),
    };
    let (Some(region), Some(host)) = (
        core.policy
            .relay_region
            .as_deref()
            .and_then(|r| r.parse::<Region>().ok()),
        &core.policy.relay_host,
    ) else {
        tracing::warn!(
            event = event.as_str(),
            "an announced intent changed while carnetd has no relay: the relay is not told"
        );
        return Ok(false);
    };
    let public = match fields.relay {
        RelayLevel::Announce => public_fields(fields),
        RelayLevel::Off => Ok(Default::default()),
    };
    let (Ok(category), Ok(public)) = (category(fields), public) else {
        // `check` refused such an intent when it was written; one written before cannot go.
        tracing::warn!(
            event = event.as_str(),
            "an intent at relay announce cannot be announced as it is"
        );
        return Ok(false);
    };
    let (keys, revision) = match &existing {
        Some(row) if row.ended => return Ok(false),
        Some(row) => match open_keys(core, row) {
            Some(keys) => (keys, row.revision + 1),
            None => return Ok(false),
        },
        None if event.is_terminal() => return Ok(false),
        None => (IntentKeys::generate_for(host), 1),
    };
    let publication = keys.announce(
        revision,
        event,
        category,
        region,
        window(fields, now),
        public,
        now,
    );
    if existing.is_none() {
        let sealed = core.keys.seal().seal(
            id.as_str(),
            &StoredKeys {
                keys: keys.export().to_string(),
            },
        );
        rows::insert_intent(
            c,
            &RelayIntentRow {
                intent_id: id.to_string(),
                bucket: keys.bucket.to_string(),
                revision,
                ended: event.is_terminal(),
                created_at: now,
                updated_at: now,
                blob: sealed.as_bytes().to_vec(),
            },
        )?;
    } else {
        rows::set_revision(c, id.as_str(), revision, event.is_terminal(), now)?;
    }
    enqueue(c, core, id.as_str(), publication, now)
}

/// Writes `publication` (of intent `intent_id`: an announcement, or an answer to an offer) to
/// the relay's outbox, sealed, in the caller's transaction; returns whether it did (a body
/// that is not text, which the wire never makes, is not written).
pub(crate) fn enqueue(
    c: &Connection,
    core: &Core,
    intent_id: &str,
    publication: Publication,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let Ok(body) = String::from_utf8(publication.body) else {
        return Ok(false);
    };
    let queued = Queued {
        subject: publication.subject,
        headers: publication
            .headers
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
        body,
    };
    let message_id = format!("rly_{}", core.new_random_id());
    let sealed = core.keys.seal().seal(&message_id, &queued);
    outbox_rows::insert(c, Outbox::Relay, &message_id, intent_id, now, &sealed)?;
    Ok(true)
}

/// The intent's relay keys, opened; a row that does not open is logged and left alone.
pub(crate) fn open_keys(core: &Core, row: &RelayIntentRow) -> Option<IntentKeys> {
    let sealed = crate::crypto::Sealed::<StoredKeys>::from_stored(row.blob.clone());
    match core.keys.seal().open(&row.intent_id, &sealed) {
        Ok(stored) => IntentKeys::import(&stored.keys),
        Err(e) => {
            tracing::error!(error = %e, "an intent's relay keys do not open");
            None
        }
    }
}
