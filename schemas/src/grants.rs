//! The owner's grants: what a vendor may do (scopes), where (categories) and until when; the
//! body that widens a live grant, and what a grant replacing another would not keep.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{GrantId, ReceiptId, VendorId};
use crate::oauth::Scope;
use crate::values::{Category, Text};

/// Default and longest grant durations, in days.
pub const DEFAULT_GRANT_DAYS: u32 = 30;
pub const MAX_GRANT_DAYS: u32 = 365;

/// Body of `POST /v1/grants`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewGrant {
    pub vendor_id: VendorId,
    /// At least one scope.
    pub scopes: Vec<Scope>,
    /// The categories the vendor may see (each covers the ones below it). Give these, or
    /// `all_categories: true`.
    #[serde(default)]
    pub categories: Vec<Category>,
    #[serde(default)]
    pub all_categories: bool,
    /// How long the grant lives, 1 to 365 days (default 30).
    #[serde(default)]
    pub days: Option<u32>,
    /// Why the owner grants it, in their words (goes into the receipt).
    #[serde(default)]
    pub purpose: Option<Text>,
}

/// What the vault keeps about a grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct GrantFields {
    pub vendor_id: VendorId,
    pub scopes: Vec<Scope>,
    pub categories: Vec<Category>,
    pub all_categories: bool,
    pub purpose: Option<Text>,
    /// How consent was given (`owner-cli`, `consent-page`).
    pub collection_method: String,
    pub receipt_id: ReceiptId,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum GrantState {
    Live,
    Expired,
    Revoked,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Grant {
    pub id: GrantId,
    pub state: GrantState,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub fields: GrantFields,
}

/// Body of `POST /v1/grants/{id}/widen`: what to add to a live grant. Widening never takes
/// anything away: the grant keeps its scopes and categories and gets these too, and `days`
/// may only move its end later. A new consent receipt records the grant as it then is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantWidening {
    /// Scopes to add.
    #[serde(default)]
    pub scopes: Vec<Scope>,
    /// Categories to add (each covers the ones below it).
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Let the vendor see every category from now on.
    #[serde(default)]
    pub all_categories: bool,
    /// The grant then lasts this many days from now, 1 to 365; refused if that would end it
    /// sooner than it ends already.
    #[serde(default)]
    pub days: Option<u32>,
    /// A new purpose, in the owner's words (goes into the new receipt); the old one otherwise.
    #[serde(default)]
    pub purpose: Option<Text>,
}

/// What a grant gives that another grant replacing it would not: shown before a new grant
/// replaces a live one (the CLI and the consent page), so nothing is lost unawares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GrantLoss {
    pub scopes: Vec<Scope>,
    /// Categories of the old grant that none of the new one's covers.
    pub categories: Vec<Category>,
    /// The old grant covered every category and the new one does not.
    pub all_categories: bool,
    /// The old grant's end, when it is later than the new one's.
    pub later_end: Option<DateTime<Utc>>,
}

impl GrantLoss {
    pub fn is_empty(&self) -> bool {
        self.scopes.is_empty()
            && self.categories.is_empty()
            && !self.all_categories
            && self.later_end.is_none()
    }
}

impl Grant {
    /// What this grant gives that a grant of `scopes`, `categories` (or all of them) ending
    /// at `ends` would not.
    pub fn lost_to(
        &self,
        scopes: &[Scope],
        categories: &[Category],
        all_categories: bool,
        ends: DateTime<Utc>,
    ) -> GrantLoss {
        let f = &self.fields;
        let kept = |c: &Category| all_categories || categories.iter().any(|n| n.covers(c));
        GrantLoss {
            scopes: f
                .scopes
                .iter()
                .filter(|s| !scopes.contains(s))
                .copied()
                .collect(),
            categories: if f.all_categories {
                vec![]
            } else {
                f.categories.iter().filter(|c| !kept(c)).cloned().collect()
            },
            all_categories: f.all_categories && !all_categories,
            later_end: (self.expires_at > ends).then_some(self.expires_at),
        }
    }
}
