//! What a webhook delivery carries: a Standard Webhooks envelope
//! `{"type", "timestamp", "data"}` whose `data` is one of the types here (or a `VendorIntent`
//! for `intent.activated` and `intent.updated`). carnetd writes these bodies and
//! `/openapi.json` documents them under `webhooks`, so the two cannot drift.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{GrantId, IntentId, OfferId};

/// An event a vendor's webhook URL is told about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum WebhookEvent {
    #[serde(rename = "intent.activated")]
    IntentActivated,
    #[serde(rename = "intent.updated")]
    IntentUpdated,
    #[serde(rename = "intent.withdrawn")]
    IntentWithdrawn,
    #[serde(rename = "intent.fulfilled")]
    IntentFulfilled,
    #[serde(rename = "intent.expired")]
    IntentExpired,
    #[serde(rename = "offer.accepted")]
    OfferAccepted,
    #[serde(rename = "offer.declined")]
    OfferDeclined,
    #[serde(rename = "grant.revoked")]
    GrantRevoked,
}

impl WebhookEvent {
    pub const ALL: [WebhookEvent; 8] = [
        WebhookEvent::IntentActivated,
        WebhookEvent::IntentUpdated,
        WebhookEvent::IntentWithdrawn,
        WebhookEvent::IntentFulfilled,
        WebhookEvent::IntentExpired,
        WebhookEvent::OfferAccepted,
        WebhookEvent::OfferDeclined,
        WebhookEvent::GrantRevoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::IntentActivated => "intent.activated",
            WebhookEvent::IntentUpdated => "intent.updated",
            WebhookEvent::IntentWithdrawn => "intent.withdrawn",
            WebhookEvent::IntentFulfilled => "intent.fulfilled",
            WebhookEvent::IntentExpired => "intent.expired",
            WebhookEvent::OfferAccepted => "offer.accepted",
            WebhookEvent::OfferDeclined => "offer.declined",
            WebhookEvent::GrantRevoked => "grant.revoked",
        }
    }

    /// When it is sent, in plain words.
    pub fn describe(self) -> &'static str {
        match self {
            WebhookEvent::IntentActivated => {
                "An intent in a category the grant covers became active and its buying window is open; `data` is the intent as `GET /v1/vendor/intents/{id}` shows it"
            }
            WebhookEvent::IntentUpdated => {
                "The owner changed an active intent the grant covers; `data` is the intent as it now is"
            }
            WebhookEvent::IntentWithdrawn => {
                "The owner withdrew an intent this vendor could see; it is no longer visible"
            }
            WebhookEvent::IntentFulfilled => {
                "The owner bought what an intent this vendor could see asked for; it is no longer visible"
            }
            WebhookEvent::IntentExpired => {
                "The buying window of an intent this vendor could see closed; it is no longer visible"
            }
            WebhookEvent::OfferAccepted => "The owner accepted an offer this vendor made",
            WebhookEvent::OfferDeclined => {
                "The owner declined an offer this vendor made, with the reason if they gave one"
            }
            WebhookEvent::GrantRevoked => {
                "The vendor's grant ended (revoked, or the vendor removed): no more events follow until a new grant"
            }
        }
    }
}

/// `data` of `intent.withdrawn`, `intent.fulfilled` and `intent.expired`: which intent ended,
/// nothing of its content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IntentEnded {
    pub id: IntentId,
    /// The consumer's pairwise pseudonym for this vendor.
    pub customer_ref: String,
}

/// `data` of `offer.accepted` and `offer.declined`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OfferAnswered {
    pub offer_id: OfferId,
    pub intent_id: IntentId,
    pub customer_ref: String,
    /// Why the owner declined, if they said (`offer.declined` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// `data` of `grant.revoked`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GrantRevoked {
    pub grant_id: GrantId,
    pub revoked_at: DateTime<Utc>,
    pub customer_ref: String,
}
