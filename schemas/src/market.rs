//! Offers that came through the market relay from directory vendors (who need not be vendors
//! of the vault), as the owner sees and answers them (`/v1/market/offers`), and adding a
//! directory vendor to the vault (`/v1/market/vendors`). Answering takes the existing
//! `AcceptOffer` / `DeclineOffer` bodies.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::{IntentId, MarketOfferId, PurchaseId, VendorId};
use crate::intents::OfferState;
use crate::values::{Amount, Currency, Line, Text};

/// An offer that came through the market relay.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct MarketOffer {
    pub id: MarketOfferId,
    pub intent_id: IntentId,
    /// The vendor's id in the market directory.
    pub directory_vendor: String,
    /// The vendor's name in the directory when the offer arrived.
    pub vendor_name: String,
    /// The vendor's website in the directory when the offer arrived.
    #[serde(default)]
    pub vendor_website: Option<String>,
    /// The vault's vendor for it, once there is one (an accepted offer adds it).
    #[serde(default)]
    pub vendor_id: Option<VendorId>,
    pub state: OfferState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub price: Amount,
    pub price_currency: Currency,
    #[serde(default)]
    pub description: Option<Text>,
    /// Until when the offer holds (never past the intent's window).
    pub valid_through: DateTime<Utc>,
    /// Why the owner declined, if they said.
    #[serde(default)]
    pub decline_reason: Option<Text>,
    /// The purchase recorded when it was accepted.
    #[serde(default)]
    pub purchase_id: Option<PurchaseId>,
    /// The price is above the intent's `max_price` (allowed, and marked).
    #[serde(default)]
    pub over_budget: bool,
    /// Whether the owner's answer went to the vendor through the relay: false until the offer
    /// is answered, and for an offer answered after a move to another vault (the intent's relay
    /// keys stay in the vault it was made to, so nothing here can sign the answer).
    #[serde(default)]
    pub vendor_told: bool,
}

/// Filter of `GET /v1/market/offers`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MarketOfferQuery {
    #[param(value_type = Option<String>)]
    pub intent: Option<IntentId>,
}

/// Body of `POST /v1/market/vendors`: the directory vendor to add to the vault.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewMarketVendor {
    /// The vendor's id in the market directory (`acme`).
    pub directory_id: Line,
}
