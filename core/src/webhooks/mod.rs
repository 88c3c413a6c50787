//! Webhooks (push): events written to the outbox in the same transaction as the change they
//! announce, one row per recipient, and delivered by `deliver.rs` — at least once, signed as
//! the Standard Webhooks specification says, with retries that survive restarts.
//!
//! Who gets what: intent events go to vendors whose live grant has `intents:read` and covers
//! the intent's category; offer events go to the vendor that made the offer; `grant.revoked`
//! goes to the vendor whose grant ended. Only vendors whose client has a webhook URL get any.
//! Never writes a vendor-visible body with more than that vendor may read.

mod address;
pub mod deliver;
mod sign;

use carnet_schemas::{
    Category, DeliveryState, GrantId, GrantRevoked, IntentEnded, IntentFields, IntentId, MAX_PAGE,
    OfferAnswered, OfferId, VendorId, WebhookDelivery, WebhookEvent,
};
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub use sign::signature;

use crate::access::ClientRecord;
use crate::access::pseudonym::customer_ref;
use crate::active::ActiveIntent;
use crate::context::Core;
use crate::store::StoreError;
use crate::store::access as client_rows;
use crate::store::outbox::{self as rows, Outbox, OutboxState};
use crate::vault::{Sealable, Table};

/// A Standard Webhooks secret: `whsec_` and standard base64 of 32 random bytes.
pub fn new_secret() -> String {
    format!(
        "whsec_{}",
        data_encoding::BASE64.encode(&crate::credential::random_bytes::<32>())
    )
}

/// What the outbox keeps sealed about one event for one vendor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    /// `intent.activated`, …
    pub kind: String,
    /// The exact body to POST (kept byte for byte: the signature covers it).
    pub body: String,
    /// For intent events: the category the vendor's grant must still cover at delivery.
    pub category: Option<Category>,
    /// Whether a live grant is needed at delivery (every event but `grant.revoked`).
    pub needs_grant: bool,
}

impl Sealable for Event {
    const TABLE: Table = Table::Outbox;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntentEvent {
    Activated,
    Updated,
    Withdrawn,
    Fulfilled,
    Expired,
}

impl IntentEvent {
    /// The same event on the market relay (`Carnet-Event`).
    fn relay_event(self) -> carnet_market::wire::Event {
        use carnet_market::wire::Event;
        match self {
            IntentEvent::Activated => Event::Activated,
            IntentEvent::Updated => Event::Updated,
            IntentEvent::Withdrawn => Event::Withdrawn,
            IntentEvent::Fulfilled => Event::Fulfilled,
            IntentEvent::Expired => Event::Expired,
        }
    }

    fn name(self) -> &'static str {
        match self {
            IntentEvent::Activated => WebhookEvent::IntentActivated,
            IntentEvent::Updated => WebhookEvent::IntentUpdated,
            IntentEvent::Withdrawn => WebhookEvent::IntentWithdrawn,
            IntentEvent::Fulfilled => WebhookEvent::IntentFulfilled,
            IntentEvent::Expired => WebhookEvent::IntentExpired,
        }
        .as_str()
    }
}

impl Event {
    /// The event `kind` carrying `data` in the Standard Webhooks envelope.
    fn new(
        kind: &str,
        now: DateTime<Utc>,
        data: impl Serialize,
        category: Option<Category>,
        needs_grant: bool,
    ) -> Event {
        let data = serde_json::to_value(data).unwrap_or(Value::Null);
        Event {
            kind: kind.into(),
            body: json!({"type": kind, "timestamp": now.to_rfc3339(), "data": data}).to_string(),
            category,
            needs_grant,
        }
    }
}

/// Vendors with a webhook URL: (vendor, whether it has one).
fn hooked_vendors(c: &Connection, s: &Core) -> Result<Vec<VendorId>, StoreError> {
    let mut out = Vec::new();
    for row in client_rows::clients::<ClientRecord>(c)? {
        let Ok(record) = s.keys.seal().open(&row.id, &row.sealed) else {
            continue;
        };
        if record.webhook_url.is_some()
            && let Ok(v) = row.vendor_id.parse()
        {
            out.push(v);
        }
    }
    Ok(out)
}

fn has_hook(c: &Connection, s: &Core, vendor: &VendorId) -> Result<bool, StoreError> {
    Ok(
        client_rows::client_of_vendor::<ClientRecord>(c, vendor.as_str())?
            .and_then(|row| s.keys.seal().open(&row.id, &row.sealed).ok())
            .is_some_and(|r| r.webhook_url.is_some()),
    )
}

fn put(
    c: &Connection,
    s: &Core,
    vendor: &VendorId,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let id = format!("msg_{}", s.new_random_id());
    let sealed = s.keys.seal().seal(&id, event);
    rows::insert(c, Outbox::Vendors, &id, vendor.as_str(), now, &sealed)
}

/// Writes an intent event for every vendor that may see it, and for the market relay when the
/// intent is announced there (inside the change's transaction).
pub fn intent_event(
    c: &Connection,
    s: &Core,
    kind: IntentEvent,
    id: &IntentId,
    fields: &IntentFields,
    updated_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut sent = 0;
    let offers = match kind {
        IntentEvent::Activated | IntentEvent::Updated => {
            crate::store::intents::offer_count(c, id.as_str())?
        }
        IntentEvent::Withdrawn | IntentEvent::Fulfilled | IntentEvent::Expired => 0,
    };
    for vendor in hooked_vendors(c, s)? {
        let Some((_, grant)) = s.access.live_grant(&vendor, now) else {
            continue;
        };
        if !grant.reads_intents_in(&fields.category) {
            continue;
        }
        let reference = customer_ref(&s.keys, &vendor);
        let category = Some(fields.category.clone());
        let event = match (kind, ActiveIntent::new(fields.clone(), updated_at, offers)) {
            (IntentEvent::Activated | IntentEvent::Updated, Some(active)) => Event::new(
                kind.name(),
                now,
                active.for_vendor(id, reference),
                category,
                true,
            ),
            _ => Event::new(
                kind.name(),
                now,
                IntentEnded {
                    id: id.clone(),
                    customer_ref: reference,
                },
                category,
                true,
            ),
        };
        put(c, s, &vendor, &event, now)?;
        sent += 1;
    }
    // The market hears of it too, when the intent is announced there (same transaction).
    let change = crate::relay::announce::Change {
        event: kind.relay_event(),
        id,
        fields,
        updated_at,
        offers,
    };
    crate::relay::announce::record(c, s, &change, now)?;
    Ok(sent)
}

/// The owner's answer to an offer.
pub struct OfferAnswer<'a> {
    pub accepted: bool,
    pub vendor: &'a VendorId,
    pub offer: &'a OfferId,
    pub intent: &'a IntentId,
    pub reason: Option<&'a str>,
}

/// `offer.accepted` or `offer.declined`, for the vendor that made the offer.
pub fn offer_event(
    c: &Connection,
    s: &Core,
    a: &OfferAnswer<'_>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let vendor = a.vendor;
    if !has_hook(c, s, vendor)? {
        return Ok(());
    }
    let kind = if a.accepted {
        WebhookEvent::OfferAccepted
    } else {
        WebhookEvent::OfferDeclined
    }
    .as_str();
    let data = OfferAnswered {
        offer_id: a.offer.clone(),
        intent_id: a.intent.clone(),
        customer_ref: customer_ref(&s.keys, vendor),
        reason: a.reason.map(str::to_owned),
    };
    let event = Event::new(kind, now, data, None, true);
    put(c, s, vendor, &event, now)
}

/// `grant.revoked`, for the vendor whose grant ended (delivered even though it has no grant).
pub fn grant_revoked(
    c: &Connection,
    s: &Core,
    vendor: &VendorId,
    grant: &GrantId,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    if !has_hook(c, s, vendor)? {
        return Ok(());
    }
    let kind = WebhookEvent::GrantRevoked.as_str();
    let data = GrantRevoked {
        grant_id: grant.clone(),
        revoked_at: now,
        customer_ref: customer_ref(&s.keys, vendor),
    };
    let event = Event::new(kind, now, data, None, false);
    put(c, s, vendor, &event, now)
}

/// A row's state as the owner reads it (webhooks and reminders alike).
pub fn delivery_state(s: OutboxState) -> DeliveryState {
    match s {
        OutboxState::Pending => DeliveryState::Pending,
        OutboxState::Delivered => DeliveryState::Delivered,
        OutboxState::Dropped => DeliveryState::Dropped,
        OutboxState::Failed => DeliveryState::Failed,
    }
}

/// Why the owner's listing of deliveries failed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error("limit {0} is out of range")]
    Limit(u32),
    #[error(transparent)]
    Unreadable(#[from] crate::crypto::Unreadable),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The latest `limit` deliveries (of one vendor, or all), newest first, as the owner checks
/// them: what went to whom, what failed, what is next.
pub async fn deliveries(
    core: &Core,
    vendor: Option<VendorId>,
    limit: u32,
) -> Result<Vec<WebhookDelivery>, ListError> {
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ListError::Limit(limit));
    }
    core.blocking(move |s| {
        let rows = s.store.read(|c| {
            rows::recent::<Event>(
                c,
                Outbox::Vendors,
                vendor.as_ref().map(|v| v.as_str()),
                limit,
            )
        })?;
        rows.into_iter()
            .map(|row| {
                let event: Event = s.keys.seal().open(&row.id, &row.sealed)?;
                let state = delivery_state(row.state);
                let vendor_id = row
                    .recipient
                    .parse()
                    .map_err(|_| crate::crypto::Unreadable {
                        table: Table::Outbox.name(),
                        id: row.id.clone(),
                    })?;
                Ok(WebhookDelivery {
                    vendor_id,
                    event: event.kind,
                    next_attempt_at: (state == DeliveryState::Pending)
                        .then_some(row.next_attempt_at),
                    state,
                    attempts: row.attempts,
                    created_at: row.created_at,
                    delivered_at: row.delivered_at,
                    last_status: row.last_status,
                    last_error: row.last_error,
                    id: row.id,
                })
            })
            .collect()
    })
    .await
}
