//! Promises: what a vendor committed to (what, by whom, due when, from which interaction),
//! and whether it was kept. A promise is open, then kept or broken; an open promise past its
//! due day is late (a state shown, never stored). Each vendor's promise record counts them.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::{InteractionId, PromiseId, VendorId};
use crate::values::{Line, Text};

/// Where a promise stands, as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PromiseState {
    Open,
    Kept,
    Broken,
}

impl PromiseState {
    pub fn as_str(self) -> &'static str {
        match self {
            PromiseState::Open => "open",
            PromiseState::Kept => "kept",
            PromiseState::Broken => "broken",
        }
    }
}

/// Which promises `GET /v1/promises` lists: `late` is an open promise past its due day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PromiseStateFilter {
    Open,
    Late,
    Kept,
    Broken,
}

/// Body of `POST /v1/promises`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPromise {
    pub vendor_id: VendorId,
    /// What the vendor committed to.
    pub what: Text,
    /// The day it is due; open after it, it is late.
    pub due: NaiveDate,
    /// Who at the vendor made it (a person, a department).
    #[serde(default)]
    pub by: Option<Line>,
    /// The interaction it was made in (same vendor).
    #[serde(default)]
    pub interaction_id: Option<InteractionId>,
}

/// Body of `POST /v1/promises/{id}/kept`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromiseKept {
    /// When it was kept; defaults to now.
    #[serde(default)]
    pub at: Option<DateTime<FixedOffset>>,
}

/// Body of `POST /v1/promises/{id}/broken`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromiseBroken {
    /// What happened instead.
    #[serde(default)]
    pub note: Option<Text>,
}

/// What the vault keeps about a promise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct PromiseFields {
    pub vendor_id: VendorId,
    pub what: Text,
    pub due: NaiveDate,
    pub by: Option<Line>,
    pub interaction_id: Option<InteractionId>,
    pub state: PromiseState,
    /// When it was kept (set when kept).
    pub kept_at: Option<DateTime<FixedOffset>>,
    /// When it was marked broken (set by the server when broken).
    pub broken_at: Option<DateTime<Utc>>,
    /// What the owner noted when it was broken.
    pub note: Option<Text>,
}

/// A promise as stored, and whether it is late (open, and its due day has passed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Promise {
    pub id: PromiseId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub fields: PromiseFields,
    /// Open and past its due day (days in UTC): computed when answered, never stored.
    #[serde(default)]
    pub late: bool,
}

/// Filter of `GET /v1/promises`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PromiseQuery {
    /// Only this vendor's promises.
    #[param(value_type = Option<String>)]
    pub vendor: Option<VendorId>,
    /// Only promises in this state (`late`: open and past their due day; `open` includes
    /// late ones).
    #[param(inline)]
    pub state: Option<PromiseStateFilter>,
}

/// The promises `GET /v1/promises` lists, soonest due first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct PromiseList {
    pub items: Vec<Promise>,
}

/// A vendor's promise record: how many of its promises were kept, broken, are late or still
/// open, and how late it keeps them. Counts and days only, never what was promised.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct PromiseRecord {
    pub kept: u64,
    pub broken: u64,
    /// Open and past their due day.
    pub late: u64,
    /// Open, late ones included.
    pub open: u64,
    /// The median delay of kept promises, in days: the day it was kept minus the day it was
    /// due (negative: early; 0: on the day). Null when none was kept.
    pub median_delay_days: Option<f64>,
}

/// `GET /v1/vendor/promises`: this vendor's promise record with the consumer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct VendorPromises {
    /// The consumer's pairwise pseudonym for this vendor.
    pub customer_ref: String,
    pub promises: PromiseRecord,
}
