//! Writing an intent's announcement into the relay's outbox, inside the transaction of the
//! change it announces: the intent's relay row (made at its first announcement, with fresh
//! keys) gives the keys and the next revision; the signed message is sealed in the outbox as it
//! will be published, so every retry sends the same bytes under the same `Nats-Msg-Id`.
//!
//! At `sealed` and `notify` the recipients are chosen here, in the same transaction (the
//! vendors entitled now: `recipients::entitled`); a revision with none is not published (the
//! market hears nothing of the intent until a vendor is granted it, at its next change). The
//! recipients travel with the message, for the access log once the relay has it.

use carnet_market::wire::announcement::{Body, IntentKeys, Level, Publication};
use carnet_market::wire::{Event, Region};
use carnet_schemas::{IntentFields, IntentId, RelayLevel};
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::recipients::{self, Logged};
use super::{StoredKeys, category, public_fields, window};
use crate::active::ActiveIntent;
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
    /// Who a sealed or notify revision went to, for the access log.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<Audience>,
}

/// A sealed or notify revision's recipients: each gets an access-log entry naming the intent
/// once the relay acknowledged the message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Audience {
    pub intent_id: String,
    pub level: RelayLevel,
    pub recipients: Vec<Logged>,
    /// What a sealed intent's box left out (its terms' `withhold`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<carnet_schemas::IntentField>,
}

/// One change of an intent, as the relay may hear of it.
pub struct Change<'a> {
    pub event: Event,
    pub id: &'a IntentId,
    pub fields: &'a IntentFields,
    /// When the intent last changed (what a vendor sees as its `updated_at`).
    pub updated_at: DateTime<Utc>,
    /// The offers it has received.
    pub offers: u32,
}

impl Sealable for Queued {
    const TABLE: Table = Table::RelayOutbox;
}

/// Writes `change` to the relay's outbox when the intent is on the relay (`announce`, `sealed`,
/// `notify`) and the vault has a relay; returns whether it did. An intent never announced is
/// not told ended; one whose terminal event went out is never announced again; one announced
/// and then set to `off` is told withdrawn.
pub fn record(
    c: &Connection,
    core: &Core,
    change: &Change<'_>,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let (id, fields) = (change.id, change.fields);
    let existing = rows::intent(c, id.as_str())?;
    // An announced intent the owner took off the relay is withdrawn from the market.
    let event = match (fields.relay, &existing) {
        (RelayLevel::Off, Some(row)) if !row.ended => Event::Withdrawn,
        (RelayLevel::Off, _) => return Ok(false),
        _ => change.event,
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
        _ => Ok(Default::default()),
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
    let entitled = match fields.relay {
        RelayLevel::Sealed | RelayLevel::Notify if !event.is_terminal() => {
            recipients::entitled(c, core, &fields.category, now)?
        }
        _ => Vec::new(),
    };
    let body = match (fields.relay, event.is_terminal()) {
        (RelayLevel::Announce, _) => Body::Public(public),
        // Taken off the relay: the envelope alone (no reply in the clear, whatever it was).
        (RelayLevel::Off, _) => Body::Ended(Level::Sealed),
        (RelayLevel::Sealed, true) => Body::Ended(Level::Sealed),
        (RelayLevel::Notify, true) => Body::Ended(Level::Notify),
        (RelayLevel::Sealed | RelayLevel::Notify, false) if entitled.is_empty() => {
            tracing::info!(
                event = event.as_str(),
                "an intent at relay sealed or notify changed with no vendor entitled to it: nothing published"
            );
            return Ok(false);
        }
        (RelayLevel::Sealed, false) => Body::Sealed {
            intent: vendor_view(change),
            recipients: entitled.iter().map(|r| r.key.clone()).collect(),
        },
        (RelayLevel::Notify, false) => {
            let api = core.policy.public_url.trim_end_matches('/').to_owned();
            Body::Notify {
                intent_url: format!("{api}/v1/vendor/intents/{id}"),
                vendor_api: api,
                recipients: entitled.iter().map(|r| r.key.clone()).collect(),
            }
        }
    };
    let publication = match keys.announce(
        revision,
        event,
        category,
        region,
        window(fields, now),
        body,
        now,
    ) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, event = event.as_str(), "an intent cannot go on the relay as it is");
            return Ok(false);
        }
    };
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
    let logged = recipients::logged(core, &entitled);
    let audience = (!logged.is_empty()).then(|| Audience {
        intent_id: id.to_string(),
        level: fields.relay,
        recipients: logged,
        withheld: match fields.relay {
            RelayLevel::Sealed => fields.terms.withhold.clone(),
            _ => Vec::new(),
        },
    });
    enqueue(c, core, id.as_str(), publication, audience, now)
}

/// The intent as the vendor API shows it to a granted vendor (withheld fields left out), less
/// the per-vendor `customer_ref`: one box goes to every recipient.
fn vendor_view(change: &Change<'_>) -> serde_json::Value {
    let active = ActiveIntent::new(change.fields.clone(), change.updated_at, change.offers);
    let mut view = active
        .map(|a| a.for_vendor(change.id, String::new()))
        .and_then(|v| serde_json::to_value(v).ok())
        .unwrap_or(serde_json::Value::Null);
    if let Some(object) = view.as_object_mut() {
        object.remove("customer_ref");
    }
    view
}

/// Writes `publication` (of intent `intent_id`: an announcement, or an answer to an offer) to
/// the relay's outbox, sealed, in the caller's transaction; returns whether it did (a body
/// that is not text, which the wire never makes, is not written).
pub(crate) fn enqueue(
    c: &Connection,
    core: &Core,
    intent_id: &str,
    publication: Publication,
    audience: Option<Audience>,
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
        audience,
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
