//! Intents and the offers that answer them, apart from HTTP. The owner writes an intent, moves
//! it draft → active → fulfilled | withdrawn (`owner`), reads the offers vendors make and
//! accepts or declines them (`offers`, and `market` for those that came through the market
//! relay); a granted vendor pulls the active intents it may see
//! and answers one with an offer (`vendor`). An intent's life is its stored state and its
//! window read against the clock, so it is expired the second its window closes without any
//! background job. Every change commits in one transaction with the webhook events it
//! causes, then refreshes the active set vendor pulls read.
//!
//! Never shows a vendor an intent outside its window, outside `active`, or outside the
//! categories its token covers: vendors read the active set (`crate::active`), and an offer is
//! checked against the stored intent again inside its transaction.

mod check;
pub mod market;
pub mod offers;
pub mod owner;
mod stored;
pub mod vendor;

use carnet_schemas::{
    IntentFields, IntentId, IntentState, MarketOfferId, OfferFields, OfferId, OfferState,
    PurchaseId, Text,
};
use serde::{Deserialize, Serialize};

pub use crate::access::log::Withheld;
pub use crate::active::effective_state;
use crate::crypto::Unreadable;
use crate::store::StoreError;
use crate::vault::{Sealable, Table};

/// Why an intent (the owner's, or one a vendor pulls) could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum IntentError {
    /// A field of the intent is not acceptable.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// No such intent (for a vendor: none it may see now).
    #[error("no intent {0}")]
    NotFound(IntentId),
    /// Fulfilled, withdrawn and expired intents cannot be edited.
    #[error("intent {id} is {state}, which is final")]
    Final { id: IntentId, state: IntentState },
    /// The move asked for is not one from the intent's state.
    #[error("intent {id} is {from} and cannot become {to}")]
    CannotBecome {
        id: IntentId,
        from: IntentState,
        to: IntentState,
    },
    /// An intent whose window has closed cannot be activated.
    #[error("its buying window is already over")]
    WindowOver,
    /// A vendor's page of intents did not encode.
    #[error("{0}")]
    Encode(#[from] serde_json::Error),
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an offer could not be made, read or answered.
#[derive(Debug, thiserror::Error)]
pub enum OfferError {
    #[error("no offer {0}")]
    NotFound(OfferId),
    /// No such intent (for a vendor: none it may see now).
    #[error("no intent {0}")]
    IntentNotFound(IntentId),
    /// The intent stopped being active between the vendor's pull and its offer.
    #[error("intent {0} is no longer active")]
    IntentEnded(IntentId),
    /// Only pending offers can be accepted or declined.
    #[error("offer {id} is {state}, not pending")]
    NotPending { id: OfferId, state: OfferState },
    /// No such offer through the market relay.
    #[error("no market offer {0}")]
    MarketNotFound(MarketOfferId),
    /// Only pending market offers can be accepted or declined.
    #[error("market offer {id} is {state}, not pending")]
    MarketNotPending {
        id: MarketOfferId,
        state: OfferState,
    },
    /// The vendor of an accepted market offer could not be added to the vault.
    #[error(transparent)]
    Ledger(#[from] crate::ledger::LedgerError),
    /// A field of the offer is not acceptable.
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// The vendor made too many offers in a short time.
    #[error("too many offers: wait {retry_after} s")]
    TooMany { retry_after: u64 },
    /// The intent has all the offers it takes.
    #[error("intent {intent} has received the {max} offers it takes")]
    Full { intent: IntentId, max: u32 },
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
    #[error(transparent)]
    Store(#[from] StoreError),
}

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
