//! What the owner can show: consent receipts (Kantara CR v1.1, signed by the vendor's receipt
//! key) and the entries of the tamper-evident access log.

use chrono::{DateTime, FixedOffset, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::{ClientId, GrantId, ReceiptId, VendorId};
use crate::oauth::Scope;
use crate::values::Category;
// ---------------------------------------------------------------------------------------------
// Consent receipts

/// A consent receipt: the Kantara Consent Receipt v1.1 fields, signed by the vendor's receipt
/// key as a compact JWS (EdDSA), verifiable offline with the published key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Receipt {
    pub id: ReceiptId,
    pub vendor_id: VendorId,
    pub grant_id: GrantId,
    pub created_at: DateTime<Utc>,
    /// The signed receipt: `base64url(header).base64url(payload).base64url(signature)`.
    pub jws: String,
    /// The payload of `jws`, decoded.
    pub receipt: ConsentReceipt,
}

/// Kantara Initiative Consent Receipt Specification v1.1 fields (camelCase as in the spec).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsentReceipt {
    /// `KI-CR-v1.1.0`.
    pub version: String,
    pub jurisdiction: String,
    /// Seconds since the Unix epoch.
    pub consent_timestamp: i64,
    pub collection_method: String,
    #[serde(rename = "consentReceiptID")]
    pub consent_receipt_id: String,
    pub language: String,
    /// The consumer's pairwise pseudonym for this vendor.
    pub pii_principal_id: String,
    pub pii_controllers: Vec<PiiController>,
    pub policy_url: String,
    pub services: Vec<ReceiptService>,
    pub sensitive: bool,
    pub spi_cat: Vec<String>,
    /// Carnet's own terms of the grant.
    pub carnet: ReceiptGrant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PiiController {
    pub pii_controller: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    pub on_behalf: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptService {
    pub service: String,
    pub purposes: Vec<ReceiptPurpose>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptPurpose {
    pub purpose: String,
    pub purpose_category: Vec<String>,
    pub consent_type: String,
    pub pii_category: Vec<String>,
    pub primary_purpose: bool,
    pub termination: String,
    pub third_party_disclosure: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ReceiptGrant {
    pub grant_id: GrantId,
    pub scopes: Vec<Scope>,
    pub categories: Vec<Category>,
    pub all_categories: bool,
    pub expires_at: DateTime<Utc>,
}

/// `GET /.well-known/carnet-receipt-keys`: a JWK set of Ed25519 public keys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ReceiptKeys {
    pub keys: Vec<Jwk>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Jwk {
    /// `OKP`.
    pub kty: String,
    /// `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    pub kid: String,
    #[serde(rename = "use")]
    pub key_use: String,
    pub alg: String,
}

// ---------------------------------------------------------------------------------------------
// Access log

/// One vendor access: a token issued or a vendor API request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct AccessEntry {
    /// Position in the log, from 1.
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub vendor_id: VendorId,
    pub client_id: ClientId,
    pub grant_id: Option<GrantId>,
    /// `METHOD /path`, e.g. `GET /v1/vendor/interactions`.
    pub endpoint: String,
    /// The scope used (or granted, for a token).
    pub scope: String,
    /// Ids of the records returned (or asked for, when refused).
    pub ids: Vec<String>,
    /// The HTTP status answered: refused requests are logged too.
    pub status: u16,
    /// For intent reads: intent id → the fields it withheld from the vendor (every other field
    /// of the intent was sent). Intents that withhold nothing are not listed.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub withheld: std::collections::BTreeMap<String, Vec<crate::IntentField>>,
    /// Set when this entry stands for identical reads repeated after the entry `first_seq`
    /// (same vendor, client, grant, endpoint, scope, ids, status and withheld fields) within
    /// `access_log_compact_window`: the same, `count` more times, from `from` to `at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeats: Option<Repeats>,
}

/// Identical reads compacted into one access-log entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Repeats {
    /// The entry of the first of these reads (logged on its own when it was made).
    pub first_seq: i64,
    /// How many reads after the first this entry stands for.
    pub count: u64,
    /// The first of them; the last is the entry's `at`.
    pub from: DateTime<Utc>,
}

/// Filter of `GET /v1/access-log`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AccessQuery {
    #[param(value_type = Option<String>)]
    pub vendor: Option<VendorId>,
    /// Only entries at or after this time (RFC 3339).
    pub since: Option<DateTime<FixedOffset>>,
    /// Page size, 1 to 1000 (default 200).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}
