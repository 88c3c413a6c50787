//! Subscriptions and contracts: what the household pays a vendor on a rhythm (every week,
//! month, quarter or year), from a first payment day (`next`), until it is cancelled. What is
//! computed from them (the next payment, the renewal, the notice deadline, the state, the
//! projected payments) is answered, never stored.

use chrono::{DateTime, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::{SubscriptionId, VendorId};
use crate::values::{Amount, Category, Currency, Line, Text};

/// How often a subscription is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Week,
    Month,
    Quarter,
    Year,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Period::Week => "week",
            Period::Month => "month",
            Period::Quarter => "quarter",
            Period::Year => "year",
        }
    }
}

/// Where a subscription stands on a day: `active`; `cancelled` (a cancellation is recorded:
/// nothing is paid after its date); `ended` (cancelled, and the end of its term has passed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SubscriptionState {
    Active,
    Cancelled,
    Ended,
}

impl SubscriptionState {
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionState::Active => "active",
            SubscriptionState::Cancelled => "cancelled",
            SubscriptionState::Ended => "ended",
        }
    }
}

/// Body of `POST /v1/subscriptions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSubscription {
    pub vendor_id: VendorId,
    /// What is paid for ("Fibre 1 Gb/s", "Home insurance").
    pub item: Line,
    /// What one payment costs.
    pub amount: Amount,
    pub currency: Currency,
    pub every: Period,
    /// The day of the next payment; later payments fall on it plus whole periods.
    pub next: NaiveDate,
    /// Days of notice the contract asks before its renewal.
    #[serde(default)]
    pub notice_days: Option<u32>,
    /// The last day of the current term.
    #[serde(default)]
    pub ends: Option<NaiveDate>,
    /// The category the market would be asked in (`carnet subscription shop`).
    #[serde(default)]
    pub category: Option<Category>,
    #[serde(default)]
    pub note: Option<Text>,
}

/// What the vault keeps about a subscription.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct SubscriptionFields {
    pub vendor_id: VendorId,
    pub item: Line,
    pub amount: Amount,
    pub currency: Currency,
    pub every: Period,
    /// The payment schedule's anchor: payments fall on it plus whole periods.
    pub next: NaiveDate,
    pub notice_days: Option<u32>,
    pub ends: Option<NaiveDate>,
    pub category: Option<Category>,
    /// The day of the cancellation: nothing is paid after it.
    pub cancelled_at: Option<NaiveDate>,
    pub note: Option<Text>,
}

/// A present field, even `null` (`Some(None)`: clear it), apart from a missing one (`None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A field that may be left out but, when present, is not `null`.
fn required<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    match Option::<T>::deserialize(d)? {
        Some(v) => Ok(Some(v)),
        None => Err(serde::de::Error::custom(
            "may not be null: leave it out to keep it",
        )),
    }
}

/// Body of `PATCH /v1/subscriptions/{id}`: the fields to change; a field left out stays, an
/// optional one sent as `null` is cleared.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionPatch {
    #[serde(
        default,
        deserialize_with = "required",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    #[schemars(with = "Line")]
    pub item: Option<Line>,
    #[serde(
        default,
        deserialize_with = "required",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    #[schemars(with = "Amount")]
    pub amount: Option<Amount>,
    #[serde(
        default,
        deserialize_with = "required",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    #[schemars(with = "Currency")]
    pub currency: Option<Currency>,
    #[serde(
        default,
        deserialize_with = "required",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    #[schemars(with = "Period")]
    pub every: Option<Period>,
    #[serde(
        default,
        deserialize_with = "required",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(nullable = false)]
    #[schemars(with = "NaiveDate")]
    pub next: Option<NaiveDate>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<u32>)]
    pub notice_days: Option<Option<u32>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<NaiveDate>)]
    pub ends: Option<Option<NaiveDate>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Category>)]
    pub category: Option<Option<Category>>,
    /// The cancellation's day; `null` takes a cancellation back.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<NaiveDate>)]
    pub cancelled_at: Option<Option<NaiveDate>>,
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<Text>)]
    pub note: Option<Option<Text>>,
}

/// Body of `POST /v1/subscriptions/{id}/cancel`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionCancel {
    /// The last day a payment may fall on; defaults to today.
    #[serde(default)]
    pub at: Option<NaiveDate>,
}

/// A subscription as stored, and what follows from it today (days in UTC).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub fields: SubscriptionFields,
    pub state: SubscriptionState,
    /// The first payment day on or after today (none once cancelled past it).
    pub next_payment: Option<NaiveDate>,
    /// `ends` while it has not passed, else the next payment; none once cancelled.
    pub renewal: Option<NaiveDate>,
    /// The last day to give notice: the renewal minus `notice_days`.
    pub notice_deadline: Option<NaiveDate>,
}

/// Filter of `GET /v1/subscriptions`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SubscriptionQuery {
    /// Only this vendor's subscriptions.
    #[param(value_type = Option<String>)]
    pub vendor: Option<VendorId>,
    /// Only subscriptions in this state today.
    #[param(inline)]
    pub state: Option<SubscriptionState>,
}

/// The subscriptions `GET /v1/subscriptions` lists, soonest next payment first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct SubscriptionList {
    pub items: Vec<Subscription>,
}

/// One projected payment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ProjectedPayment {
    pub subscription_id: SubscriptionId,
    pub vendor_id: VendorId,
    pub item: Line,
    pub date: NaiveDate,
    pub amount: Amount,
    pub currency: Currency,
}

/// A total in one currency, over one month (`month`: `2026-03`) or the whole projection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ProjectedTotal {
    /// The month (`YYYY-MM`); absent in the year's totals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    pub currency: Currency,
    pub amount: Amount,
}

/// `GET /v1/subscriptions/payments`: every payment due from today for 12 months (through the
/// day before today's date 12 months on), and its totals per month and for the 12 months,
/// per currency (never added across currencies).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct PaymentProjection {
    pub from: NaiveDate,
    pub through: NaiveDate,
    /// Soonest first.
    pub items: Vec<ProjectedPayment>,
    /// Per month then currency, months in order.
    pub months: Vec<ProjectedTotal>,
    /// The 12 months' total per currency.
    pub year: Vec<ProjectedTotal>,
}

/// Filter of `GET /v1/subscriptions/payments`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PaymentQuery {
    /// Only this vendor's payments.
    #[param(value_type = Option<String>)]
    pub vendor: Option<VendorId>,
    /// Only this subscription's payments.
    #[param(value_type = Option<String>)]
    pub subscription: Option<SubscriptionId>,
}
