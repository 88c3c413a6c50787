//! Intents and the offers that answer them, apart from HTTP: their life (the stored state and
//! the window, read against the clock, so an intent is expired the second its window closes
//! without any background job) and what the vault keeps of them.

use carnet_schemas::{IntentFields, IntentState, OfferFields, PurchaseId, Text};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use crate::access::log::Withheld;
use crate::store::intents::StoredIntentState;
use crate::vault::{Sealable, Table};

impl Sealable for IntentFields {
    const TABLE: Table = Table::Intents;
}

/// What the vault keeps about an offer.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OfferRecord {
    pub fields: OfferFields,
    pub decline_reason: Option<Text>,
    pub purchase_id: Option<PurchaseId>,
}

impl Sealable for OfferRecord {
    const TABLE: Table = Table::Offers;
}

/// An intent's state at `now`: an active one whose window has closed is expired.
pub fn effective_state(
    stored: StoredIntentState,
    fields: &IntentFields,
    now: DateTime<Utc>,
) -> IntentState {
    match stored {
        StoredIntentState::Draft => IntentState::Draft,
        StoredIntentState::Active if fields.valid_through.is_some_and(|end| now >= end) => {
            IntentState::Expired
        }
        StoredIntentState::Active => IntentState::Active,
        StoredIntentState::Fulfilled => IntentState::Fulfilled,
        StoredIntentState::Withdrawn => IntentState::Withdrawn,
    }
}
