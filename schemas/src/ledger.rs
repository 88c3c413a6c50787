//! The consumer's relationship ledger: vendors, interactions, purchases, incidents, the profile,
//! and the loyalty facts derived from them.
//!
//! `…Fields` types are what the owner writes (request bodies, strict: unknown fields are
//! refused) and what the vault seals; the record types add what carnetd assigns.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::{IncidentId, InteractionId, PromiseId, PurchaseId, VendorId};
use crate::promises::PromiseRecord;
use crate::values::{Amount, Category, Currency, Line, Satisfaction, Sentiment, Text, WebUrl};

/// How an exchange happened.
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
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Phone,
    Email,
    Store,
    Chat,
    Web,
    Mail,
    Other,
}

impl Channel {
    pub const ALL: [Channel; 7] = [
        Channel::Phone,
        Channel::Email,
        Channel::Store,
        Channel::Chat,
        Channel::Web,
        Channel::Mail,
        Channel::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Email => "email",
            Channel::Store => "store",
            Channel::Chat => "chat",
            Channel::Web => "web",
            Channel::Mail => "mail",
            Channel::Other => "other",
        }
    }
}

impl std::str::FromStr for Channel {
    type Err = crate::values::InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                crate::values::InvalidValue(format!(
                    "channel {s:?} is not one of phone, email, store, chat, web, mail, other"
                ))
            })
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// Vendors

/// What the owner keeps about a vendor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorFields {
    /// Unique among the owner's vendors (exact match); the CLI accepts it in place of the id.
    pub name: Line,
    #[serde(default)]
    pub website: Option<WebUrl>,
    /// What the owner buys there.
    #[serde(default)]
    pub categories: Vec<Category>,
    /// The owner's account references at this vendor (customer numbers, logins).
    #[serde(default)]
    pub accounts: Vec<Line>,
    #[serde(default)]
    pub note: Option<Text>,
    /// The channel the owner prefers this vendor to use.
    #[serde(default)]
    pub channel: Option<Channel>,
    /// How and how often this vendor may reach the owner.
    #[serde(default)]
    pub contact_policy: Option<Text>,
    /// The vendor's id in the market relay's directory, when it came from there (an accepted
    /// market offer, or `carnet vendor add --from-directory`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub directory_id: Option<Line>,
}

/// A vendor as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Vendor {
    pub id: VendorId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub fields: VendorFields,
}

/// A vendor with the loyalty facts derived from the ledger (`GET /v1/vendors/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct VendorDetail {
    #[serde(flatten)]
    pub vendor: Vendor,
    pub loyalty: Loyalty,
    /// The owner's local scorecard of this vendor (owner only; never in a vendor's answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scorecard: Option<Scorecard>,
}

/// A vendor's local scorecard, computed from the owner's own ledger and never sent anywhere
/// (no vendor API answer holds it). "The last 12 months" are the 365 days before now.
///
/// `score` (0–100) is the rounded mean, times 100, of the components that are known, each
/// 0–1: promises kept ÷ promises settled, incidents resolved ÷ incidents, average satisfaction
/// ÷ 10, and (average sentiment + 2) ÷ 4. A component with nothing to count (no settled
/// promise, no incident, no rated resolution, no sentiment in the last 12 months) is left out
/// of the mean, not counted as zero; with none known, `score` is null.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Scorecard {
    /// Promises kept.
    pub promises_kept: u64,
    /// Promises settled: kept or broken (open ones are not counted).
    pub promises_settled: u64,
    pub incidents: u64,
    pub incidents_resolved: u64,
    /// Median of (resolved − opened) in days over resolved incidents, to one decimal.
    pub median_days_to_resolution: Option<f64>,
    /// Mean satisfaction (0–10) of incidents resolved in the last 12 months, two decimals.
    pub average_satisfaction: Option<f64>,
    /// Mean sentiment (−2…+2) of interactions in the last 12 months, two decimals.
    pub average_sentiment: Option<f64>,
    /// Mean sentiment of the last 6 months minus that of the 6 months before, two decimals;
    /// null (not enough data) when either half has no sentiment.
    pub sentiment_trend: Option<f64>,
    /// Spent in the last 12 months (by purchase date, else when recorded), per currency.
    pub spend_last_12_months: BTreeMap<Currency, Amount>,
    /// Spent in all, per currency.
    pub spend_total: BTreeMap<Currency, Amount>,
    /// Whole months since the first purchase or the vendor's creation, whichever is earlier.
    pub tenure_months: u32,
    /// 0–100, see above; null when no component is known.
    pub score: Option<u8>,
}

/// Loyalty as the consumer can show it: facts computed from their own ledger with this vendor.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Loyalty {
    /// Date of the first purchase.
    pub customer_since: Option<NaiveDate>,
    pub purchases: u64,
    /// Total spent, per currency, as exact decimal strings.
    pub total_spent: BTreeMap<Currency, Amount>,
    pub interactions: u64,
    /// Time of the most recent interaction.
    pub last_contact: Option<DateTime<FixedOffset>>,
    /// Mean sentiment of the interactions that have one, rounded to two decimals (−2…+2).
    pub average_sentiment: Option<f64>,
    pub incidents: u64,
    pub incidents_resolved: u64,
    /// Mean satisfaction (0–10) over resolved incidents that have one, rounded to two decimals.
    pub average_satisfaction: Option<f64>,
    /// The vendor's promise record (the owner's view only; a vendor reads its own with
    /// `promises:read`, at `GET /v1/vendor/promises`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promises: Option<PromiseRecord>,
}

// ---------------------------------------------------------------------------------------------
// Interactions

/// One exchange that mattered: what was expected, said, and what came of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InteractionFields {
    pub vendor_id: VendorId,
    /// When it happened; defaults to the time it is recorded.
    #[serde(default)]
    pub at: Option<DateTime<FixedOffset>>,
    pub channel: Channel,
    pub summary: Text,
    /// With whom (a person, a department).
    #[serde(default)]
    pub with: Option<Line>,
    #[serde(default)]
    pub expected: Option<Text>,
    #[serde(default)]
    pub i_said: Option<Text>,
    #[serde(default)]
    pub they_said: Option<Text>,
    #[serde(default)]
    pub outcome: Option<Text>,
    #[serde(default)]
    pub sentiment: Option<Sentiment>,
    /// What happens next (the thing no CRM writes down).
    #[serde(default)]
    pub next_step: Option<Text>,
    /// When the next step is due (needs `next_step`).
    #[serde(default)]
    pub next_due: Option<NaiveDate>,
    /// Whether the next step has been done; done steps leave `carnet followups`.
    #[serde(default)]
    pub next_done: bool,
    /// The incident this exchange is about, if any (same vendor).
    #[serde(default)]
    pub incident_id: Option<IncidentId>,
    /// Whether this vendor may read it (`interactions:read` scope).
    #[serde(default)]
    pub shared: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Interaction {
    pub id: InteractionId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub fields: InteractionFields,
}

/// Filters of `GET /v1/interactions`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InteractionQuery {
    /// Only this vendor's interactions.
    #[param(value_type = Option<String>)]
    pub vendor: Option<VendorId>,
    /// Words to find: each must begin a word of some text field (word-prefix matching,
    /// case- and accent-insensitive, like `/v1/search`; not substring: `chnic` does not find
    /// `technicien`).
    pub grep: Option<String>,
    /// Only interactions over this channel.
    pub channel: Option<Channel>,
    /// Only interactions at or after this time (RFC 3339).
    pub since: Option<DateTime<FixedOffset>>,
    /// Only interactions before this time (RFC 3339).
    pub until: Option<DateTime<FixedOffset>>,
    /// Page size, 1 to 1000 (default 200).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Purchases

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PurchaseFields {
    pub vendor_id: VendorId,
    pub item: Line,
    pub amount: Amount,
    pub currency: Currency,
    /// Day of the purchase; defaults to the day it is recorded (UTC).
    #[serde(default)]
    pub date: Option<NaiveDate>,
    #[serde(default)]
    pub warranty_until: Option<NaiveDate>,
    /// Receipt or order reference.
    #[serde(default)]
    pub receipt: Option<Line>,
    /// Set by `carnet import-csv`: the fingerprint of the CSV row this purchase came from
    /// (a SHA-256 of the row's content and its position among identical rows, never the row
    /// itself), sealed with the purchase; a second import skips rows whose key is present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub import_key: Option<Line>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Purchase {
    pub id: PurchaseId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub fields: PurchaseFields,
}

/// Filter of `GET /v1/purchases` and `GET /v1/incidents`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VendorFilter {
    /// Only this vendor's records.
    #[param(value_type = Option<String>)]
    pub vendor: Option<VendorId>,
    /// Page size, 1 to 1000 (default 200).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Incidents

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum IncidentStatus {
    Open,
    Resolved,
}

/// Body of `POST /v1/incidents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewIncident {
    pub vendor_id: VendorId,
    pub description: Text,
    /// When it started; defaults to the time it is recorded.
    #[serde(default)]
    pub opened_at: Option<DateTime<FixedOffset>>,
}

/// Body of `POST /v1/incidents/{id}/resolve`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentResolution {
    pub resolution: Text,
    #[serde(default)]
    pub satisfaction: Option<Satisfaction>,
}

/// What the vault keeps about an incident.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct IncidentFields {
    pub vendor_id: VendorId,
    pub description: Text,
    pub opened_at: DateTime<FixedOffset>,
    pub status: IncidentStatus,
    pub resolution: Option<Text>,
    pub satisfaction: Option<Satisfaction>,
    pub resolved_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Incident {
    pub id: IncidentId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(flatten)]
    pub fields: IncidentFields,
}

// ---------------------------------------------------------------------------------------------
// Follow-ups

/// What a follow-up item is.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum FollowupKind {
    /// An interaction's next step, not done yet.
    #[default]
    Followup,
    /// A vendor's promise, open and past its due day (late).
    Promise,
}

/// Something to follow up (`GET /v1/followups`): a next step that is not done yet
/// (`kind: followup`), or a late promise (`kind: promise`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Followup {
    #[serde(default)]
    pub kind: FollowupKind,
    /// The interaction that set the step (always, for a follow-up); for a promise, the
    /// interaction it was made in, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction_id: Option<InteractionId>,
    /// The late promise (only for `kind: promise`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promise_id: Option<PromiseId>,
    pub vendor_id: VendorId,
    pub vendor_name: Line,
    /// The step; for a promise, what was promised.
    pub next_step: Text,
    pub due: Option<NaiveDate>,
    /// When the interaction that set this step happened; for a promise, when it was
    /// recorded.
    pub at: DateTime<FixedOffset>,
    /// The interaction's channel (a follow-up's, always; absent for a promise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
}

/// Filter of `GET /v1/followups`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FollowupQuery {
    /// Only steps due on or before this day; steps without a due date are always listed.
    pub through: Option<NaiveDate>,
}

// ---------------------------------------------------------------------------------------------
// Profile

/// What the owner may later choose to disclose to vendors (`profile:read`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileFields {
    #[serde(default)]
    pub display_name: Option<Line>,
    /// BCP 47 language tag, e.g. `fr-FR`.
    #[serde(default)]
    pub locale: Option<crate::values::Locale>,
    #[serde(default)]
    pub city: Option<Line>,
    #[serde(default)]
    pub postal_code: Option<Line>,
    /// The owner's time zone (IANA name): it decides "due today", "late" and a reminder
    /// digest's hour. Unset: the server's. Never shown to a vendor.
    #[serde(default)]
    pub time_zone: Option<crate::values::TimeZoneName>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Profile {
    /// When the profile was last set; null if never.
    pub updated_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub fields: ProfileFields,
}

// ---------------------------------------------------------------------------------------------
// Search

/// The kinds of records a search finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    Vendor,
    Interaction,
    Purchase,
    Incident,
    Promise,
    /// A document's title or file name (never its content).
    Document,
}

impl RecordKind {
    pub const ALL: [RecordKind; 6] = [
        RecordKind::Vendor,
        RecordKind::Interaction,
        RecordKind::Purchase,
        RecordKind::Incident,
        RecordKind::Promise,
        RecordKind::Document,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Vendor => "vendor",
            RecordKind::Interaction => "interaction",
            RecordKind::Purchase => "purchase",
            RecordKind::Incident => "incident",
            RecordKind::Promise => "promise",
            RecordKind::Document => "document",
        }
    }
}

impl std::str::FromStr for RecordKind {
    type Err = crate::values::InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RecordKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                crate::values::InvalidValue(format!(
                    "kind {s:?} is not one of vendor, interaction, purchase, incident, promise, document"
                ))
            })
    }
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Filters of `GET /v1/search`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The words to find (required): each must begin a word of the record, case- and
    /// accent-insensitive (`techn` finds `Technicien`; `chnic` does not).
    pub q: Option<String>,
    /// Only records of this kind.
    pub kind: Option<RecordKind>,
    /// Only this vendor and its records.
    #[param(value_type = Option<String>)]
    pub vendor: Option<VendorId>,
    /// How many results, 1 to 200 (default 20).
    pub limit: Option<u32>,
}

/// Default and largest numbers of search results.
pub const DEFAULT_SEARCH: u32 = 20;
pub const MAX_SEARCH: u32 = 200;

/// A record a search found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct SearchHit {
    pub kind: RecordKind,
    /// Its id (`ven_…`, `int_…`, `pur_…`, `inc_…`, `prm_…` or `doc_…`).
    pub id: String,
    /// The vendor it belongs to (null for a vendor).
    pub vendor_id: Option<VendorId>,
    /// What names it: a vendor's name, an interaction's summary, a purchase's item, an
    /// incident's description, what a promise says, a document's title (else its file name),
    /// its first line, cut at 120 characters.
    pub title: String,
    /// A document's file name (documents only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// What a document is attached to (documents only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attached_to: Option<crate::documents::AttachedTo>,
    /// How well it matched (higher is better): more matched words, rarer words, and words of
    /// its title count more.
    pub score: f64,
}

/// What `GET /v1/search` answers: the best matches first (ties: newest first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct SearchResults {
    pub items: Vec<SearchHit>,
}

// ---------------------------------------------------------------------------------------------
// Listing

/// Paging of list endpoints.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Page size, 1 to 1000 (default 200).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Default and largest page sizes.
pub const DEFAULT_PAGE: u32 = 200;
pub const MAX_PAGE: u32 = 1000;

/// One page of a listing; `next_cursor` is null on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}
