//! Intentcasting: what the consumer wants to buy (a schema.org `Demand`), visible to granted
//! vendors only while it is active and inside its buying window, and the offers vendors answer
//! with (a schema.org `Offer`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::{IntentId, OfferId, PurchaseId, VendorId};
use crate::values::{Amount, Category, Currency, InvalidValue, Line, Text, WebUrl};

/// Where an intent is in its life. `expired` is never stored: an active intent is expired from
/// the second its `valid_through` passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IntentState {
    /// Being written; no vendor sees it.
    Draft,
    /// Published: granted vendors see it inside its window.
    Active,
    /// Bought (an offer was accepted, or the owner says so).
    Fulfilled,
    /// The owner no longer wants it.
    Withdrawn,
    /// Its window closed.
    Expired,
}

impl IntentState {
    pub fn as_str(self) -> &'static str {
        match self {
            IntentState::Draft => "draft",
            IntentState::Active => "active",
            IntentState::Fulfilled => "fulfilled",
            IntentState::Withdrawn => "withdrawn",
            IntentState::Expired => "expired",
        }
    }
}

impl FromStr for IntentState {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        [
            IntentState::Draft,
            IntentState::Active,
            IntentState::Fulfilled,
            IntentState::Withdrawn,
            IntentState::Expired,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
        .ok_or_else(|| {
            InvalidValue(format!(
                "state {s:?} is not one of draft, active, fulfilled, withdrawn, expired"
            ))
        })
    }
}

impl fmt::Display for IntentState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// schema.org `OfferItemCondition`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ItemCondition {
    New,
    Used,
    Refurbished,
    Damaged,
}

impl FromStr for ItemCondition {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        match s {
            "new" => Ok(ItemCondition::New),
            "used" => Ok(ItemCondition::Used),
            "refurbished" => Ok(ItemCondition::Refurbished),
            "damaged" => Ok(ItemCondition::Damaged),
            _ => Err(InvalidValue(format!(
                "item condition {s:?} is not one of new, used, refurbished, damaged"
            ))),
        }
    }
}

/// schema.org `PriceSpecification`: the price range the consumer has in mind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceSpecification {
    #[serde(default)]
    pub min_price: Option<Amount>,
    #[serde(default)]
    pub max_price: Option<Amount>,
    pub price_currency: Currency,
}

/// The band as people read it: `500–700 EUR`, `≤ 700 EUR`, `≥ 500 EUR`, `700 EUR`.
impl fmt::Display for PriceSpecification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let c = &self.price_currency;
        match (&self.min_price, &self.max_price) {
            (Some(lo), Some(hi)) if lo == hi => write!(f, "{lo} {c}"),
            (Some(lo), Some(hi)) => write!(f, "{lo}–{hi} {c}"),
            (None, Some(hi)) => write!(f, "≤ {hi} {c}"),
            (Some(lo), None) => write!(f, "≥ {lo} {c}"),
            (None, None) => write!(f, "any price in {c}"),
        }
    }
}

/// Fields of an intent the owner may withhold from vendors.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    JsonSchema,
    ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum IntentField {
    Description,
    PriceSpecification,
    EligibleQuantity,
    AreaServed,
    AvailableDeliveryMethod,
    ItemCondition,
}

/// The terms under which vendors may see an intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntentTerms {
    /// What the consumer allows the intent to be used for.
    #[serde(default)]
    pub purpose: Option<Text>,
    /// How many days a vendor may keep what it read (default 30).
    #[serde(default = "default_retention")]
    pub retention_days: u32,
    /// The vendor may not sell or pass on the intent (default true).
    #[serde(default = "yes")]
    pub no_resale: bool,
    /// The vendor may not use the intent to track the consumer (default true).
    #[serde(default = "yes")]
    pub no_tracking: bool,
    /// Fields vendors do not see (category, title and window are always shown).
    #[serde(default)]
    pub withhold: Vec<IntentField>,
}

fn default_retention() -> u32 {
    30
}

fn yes() -> bool {
    true
}

impl Default for IntentTerms {
    fn default() -> Self {
        IntentTerms {
            purpose: None,
            retention_days: default_retention(),
            no_resale: true,
            no_tracking: true,
            withhold: vec![],
        }
    }
}

/// Whether an intent goes to the market relay (`carnet intent new --relay`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum RelayLevel {
    /// Only granted vendors see it (through the vendor API and webhooks).
    #[default]
    Off,
    /// Also announced on the market relay: every vendor subscribed to its category receives its
    /// category, region and window, and the fields named public — with no grant.
    Announce,
    /// Also published on the market relay, encrypted to the directory vendors whose live grant
    /// covers its category: they receive the intent as the vendor API shows it (withheld
    /// fields left out); the relay and other subscribers see its category, region, window and
    /// how many vendors it went to.
    Sealed,
    /// Like `sealed`, but the box holds only where to pull the intent: each granted vendor
    /// reads it through the vendor API, where its grant is checked, and logged, again.
    Notify,
}

impl RelayLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            RelayLevel::Off => "off",
            RelayLevel::Announce => "announce",
            RelayLevel::Sealed => "sealed",
            RelayLevel::Notify => "notify",
        }
    }

    /// Every level, in the order the CLI lists them.
    pub const ALL: [RelayLevel; 4] = [
        RelayLevel::Off,
        RelayLevel::Announce,
        RelayLevel::Sealed,
        RelayLevel::Notify,
    ];

    /// Whether what goes out is encrypted to granted vendors (`sealed`, `notify`).
    pub fn is_boxed(self) -> bool {
        matches!(self, RelayLevel::Sealed | RelayLevel::Notify)
    }

    pub fn is_off(&self) -> bool {
        *self == RelayLevel::Off
    }
}

impl FromStr for RelayLevel {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        match s {
            "off" => Ok(RelayLevel::Off),
            "announce" => Ok(RelayLevel::Announce),
            "sealed" => Ok(RelayLevel::Sealed),
            "notify" => Ok(RelayLevel::Notify),
            _ => Err(InvalidValue(format!(
                "relay level {s:?} is not one of off, announce, sealed, notify"
            ))),
        }
    }
}

impl fmt::Display for RelayLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The fields an announced intent may make public, by their names on the relay (the wire
/// spec's `public` object). Category, region and window always go out; nothing else does.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    JsonSchema,
    ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum PublicField {
    /// The intent's `title`.
    Title,
    /// Its `description`.
    Description,
    /// Its `price_specification`.
    PriceBand,
    /// Its `eligible_quantity`.
    Quantity,
    /// Its `item_condition`.
    ItemCondition,
    /// Its `available_delivery_method`.
    DeliveryMethods,
}

impl PublicField {
    pub const ALL: [PublicField; 6] = [
        PublicField::Title,
        PublicField::Description,
        PublicField::PriceBand,
        PublicField::Quantity,
        PublicField::ItemCondition,
        PublicField::DeliveryMethods,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PublicField::Title => "title",
            PublicField::Description => "description",
            PublicField::PriceBand => "price_band",
            PublicField::Quantity => "quantity",
            PublicField::ItemCondition => "item_condition",
            PublicField::DeliveryMethods => "delivery_methods",
        }
    }

    /// The intent field it makes public, when the intent's terms could withhold it (the title
    /// cannot be withheld).
    pub fn withholdable(self) -> Option<IntentField> {
        match self {
            PublicField::Title => None,
            PublicField::Description => Some(IntentField::Description),
            PublicField::PriceBand => Some(IntentField::PriceSpecification),
            PublicField::Quantity => Some(IntentField::EligibleQuantity),
            PublicField::ItemCondition => Some(IntentField::ItemCondition),
            PublicField::DeliveryMethods => Some(IntentField::AvailableDeliveryMethod),
        }
    }
}

impl FromStr for PublicField {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        PublicField::ALL
            .into_iter()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| {
                InvalidValue(format!(
                    "public field {s:?} is not one of title, description, price_band, quantity, item_condition, delivery_methods"
                ))
            })
    }
}

impl fmt::Display for PublicField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Default and largest number of offers an intent accepts.
pub const DEFAULT_MAX_OFFERS: u32 = 10;
pub const MAX_MAX_OFFERS: u32 = 100;
/// Default buying window, in days from now, when `valid_through` is left out.
pub const DEFAULT_WINDOW_DAYS: i64 = 30;

/// What the consumer wants (schema.org `Demand`); the body of `POST /v1/intents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntentFields {
    /// Dotted category; vendors granted it (or a parent) may see the intent.
    pub category: Category,
    pub title: Line,
    #[serde(default)]
    pub description: Option<Text>,
    #[serde(default)]
    pub price_specification: Option<PriceSpecification>,
    /// How many (1 or more).
    #[serde(default)]
    pub eligible_quantity: Option<u32>,
    /// Where it must be delivered or served, e.g. "Lyon".
    #[serde(default)]
    pub area_served: Option<Line>,
    #[serde(default)]
    pub available_delivery_method: Option<Line>,
    #[serde(default)]
    pub item_condition: Option<ItemCondition>,
    /// Start of the buying window (default: when it is activated).
    #[serde(default)]
    pub valid_from: Option<DateTime<FixedOffset>>,
    /// End of the buying window (default: 30 days after creation).
    #[serde(default)]
    pub valid_through: Option<DateTime<FixedOffset>>,
    #[serde(default)]
    pub terms: IntentTerms,
    /// How many offers it accepts, 1 to 100 (default 10).
    #[serde(default)]
    pub max_offers: Option<u32>,
    /// Whether it is also announced on the market relay (default `off`).
    #[serde(default, skip_serializing_if = "RelayLevel::is_off")]
    pub relay: RelayLevel,
    /// With `relay: announce`: the fields announced besides category, region and window (none
    /// by default). A field the terms withhold cannot be public.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub public: Vec<PublicField>,
}

/// An intent as the owner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Intent {
    /// The same id in the owner's and the vendors' views.
    pub id: IntentId,
    pub state: IntentState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Offers received so far.
    pub offers: u32,
    #[serde(flatten)]
    pub fields: IntentFields,
}

/// Filter of `GET /v1/intents`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct IntentQuery {
    #[param(value_type = Option<String>)]
    pub state: Option<IntentState>,
}

/// An intent as a granted vendor sees it: only what the terms allow, and the consumer under
/// this vendor's pseudonym.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct VendorIntent {
    pub id: IntentId,
    pub customer_ref: String,
    pub updated_at: DateTime<Utc>,
    pub category: Category,
    pub title: Line,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price_specification: Option<PriceSpecification>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eligible_quantity: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area_served: Option<Line>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_delivery_method: Option<Line>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_condition: Option<ItemCondition>,
    pub valid_from: DateTime<FixedOffset>,
    pub valid_through: DateTime<FixedOffset>,
    pub terms: VendorTerms,
    pub max_offers: u32,
    /// Whether it takes another offer: false once it has received `max_offers` (an offer
    /// then is refused with 409).
    pub accepts_offers: bool,
}

/// The terms a vendor agrees to by reading an intent (which fields were withheld is not said).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct VendorTerms {
    pub purpose: Option<Text>,
    pub retention_days: u32,
    pub no_resale: bool,
    pub no_tracking: bool,
}

// ---------------------------------------------------------------------------------------------
// Offers

/// A vendor's answer (schema.org `Offer`); the body of `POST /v1/vendor/intents/{id}/offers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OfferFields {
    pub price: Amount,
    pub price_currency: Currency,
    pub description: Text,
    #[serde(default)]
    pub url: Option<WebUrl>,
    /// Until when the offer holds (never past the intent's window).
    #[serde(default)]
    pub valid_through: Option<DateTime<FixedOffset>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OfferState {
    Pending,
    Accepted,
    Declined,
    /// Its own `valid_through` passed, or its intent is no longer active.
    Expired,
}

impl OfferState {
    pub fn as_str(self) -> &'static str {
        match self {
            OfferState::Pending => "pending",
            OfferState::Accepted => "accepted",
            OfferState::Declined => "declined",
            OfferState::Expired => "expired",
        }
    }
}

impl fmt::Display for OfferState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An offer, as the owner sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Offer {
    pub id: OfferId,
    pub intent_id: IntentId,
    pub vendor_id: VendorId,
    pub state: OfferState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub fields: OfferFields,
    /// Why the owner declined, if they said.
    pub decline_reason: Option<Text>,
    /// The purchase recorded when it was accepted.
    pub purchase_id: Option<PurchaseId>,
    /// The price is above the intent's `max_price` (offers over budget are allowed, and
    /// marked).
    #[serde(default)]
    pub over_budget: bool,
}

/// An offer, as the vendor that made it sees it (`GET /v1/vendor/offers` lists them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct VendorOffer {
    pub id: OfferId,
    pub intent_id: IntentId,
    /// `expired` once its own `valid_through` passed or its intent is no longer active.
    pub state: OfferState,
    pub created_at: DateTime<Utc>,
    /// When the owner last answered it (accepted, declined); expiry is not a change.
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub fields: OfferFields,
}

/// Filter of `GET /v1/offers`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OfferQuery {
    #[param(value_type = Option<String>)]
    pub intent: Option<IntentId>,
}

/// Body of `POST /v1/offers/{id}/accept`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptOffer {
    /// Keep the intent active (default: accepting fulfils it).
    #[serde(default)]
    pub keep_open: bool,
    /// The purchase date to record, in the owner's time zone (default: today, UTC).
    #[serde(default)]
    pub date: Option<chrono::NaiveDate>,
}

/// Body of `POST /v1/offers/{id}/decline`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineOffer {
    #[serde(default)]
    pub reason: Option<Text>,
}
