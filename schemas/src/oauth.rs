//! Vendor access: OAuth clients, tokens, and what a vendor sees through the vendor API (the
//! owner's grants are in `grants`; consent receipts and the access log in `receipts`).

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::ids::{ClientId, InteractionId, VendorId};
use crate::ledger::{Channel, Loyalty};
use crate::values::{Category, InvalidValue, Line, Locale, Sentiment, Text, WebUrl};

// ---------------------------------------------------------------------------------------------
// Scopes

/// What a grant lets a vendor do.
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
pub enum Scope {
    /// Pull active intents in the granted categories.
    #[serde(rename = "intents:read")]
    IntentsRead,
    /// Answer intents with offers.
    #[serde(rename = "offers:write")]
    OffersWrite,
    /// Read the loyalty facts of its own relationship: counts, dates and sums of its purchases
    /// and incidents, and of the interactions shared with it; never satisfaction ratings.
    #[serde(rename = "relationship:read")]
    RelationshipRead,
    /// Read the interactions the owner shared with it.
    #[serde(rename = "interactions:read")]
    InteractionsRead,
    /// Read the profile the owner discloses.
    #[serde(rename = "profile:read")]
    ProfileRead,
    /// Read its own promise record: how many of its promises were kept, broken or are late,
    /// and its median delay; never what was promised.
    #[serde(rename = "promises:read")]
    PromisesRead,
}

impl Scope {
    pub const ALL: [Scope; 6] = [
        Scope::IntentsRead,
        Scope::OffersWrite,
        Scope::RelationshipRead,
        Scope::InteractionsRead,
        Scope::ProfileRead,
        Scope::PromisesRead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::IntentsRead => "intents:read",
            Scope::OffersWrite => "offers:write",
            Scope::RelationshipRead => "relationship:read",
            Scope::InteractionsRead => "interactions:read",
            Scope::ProfileRead => "profile:read",
            Scope::PromisesRead => "promises:read",
        }
    }

    /// What the scope allows, in plain words (consent page, receipts).
    pub fn describe(self) -> &'static str {
        match self {
            Scope::IntentsRead => {
                "see what you want to buy, while you are buying, in the categories you allow"
            }
            Scope::OffersWrite => "send you offers for those intents",
            Scope::RelationshipRead => {
                "see your loyalty facts with them: the counts, dates and sums of your purchases \
                 and incidents with them, and the count, average sentiment and last date of only \
                 the interactions you share with them (never your satisfaction ratings)"
            }
            Scope::InteractionsRead => "read the exchanges you chose to share with them",
            Scope::ProfileRead => "see the profile details you disclose (name, locale, city)",
            Scope::PromisesRead => {
                "see their promise record with you: how many of their promises were kept, \
                 broken or are late, and their median delay in days (never what was promised)"
            }
        }
    }

    fn bit(self) -> u8 {
        match self {
            Scope::IntentsRead => 1,
            Scope::OffersWrite => 2,
            Scope::RelationshipRead => 4,
            Scope::InteractionsRead => 8,
            Scope::ProfileRead => 16,
            Scope::PromisesRead => 32,
        }
    }
}

impl FromStr for Scope {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        Scope::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                InvalidValue(format!(
                    "scope {s:?} is not one of intents:read, offers:write, relationship:read, interactions:read, profile:read, promises:read"
                ))
            })
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of scopes, kept as bits (it is stored in clear beside a token: a state, not content).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ScopeSet(u8);

impl ScopeSet {
    pub fn from_bits(bits: u8) -> Self {
        ScopeSet(bits & 63)
    }
    pub fn bits(self) -> u8 {
        self.0
    }
    pub fn contains(self, s: Scope) -> bool {
        self.0 & s.bit() != 0
    }
    pub fn is_subset(self, of: ScopeSet) -> bool {
        self.0 & !of.0 == 0
    }
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
    pub fn iter(self) -> impl Iterator<Item = Scope> {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }
    /// Space-separated, as OAuth writes scopes.
    pub fn to_oauth(self) -> String {
        self.iter().map(Scope::as_str).collect::<Vec<_>>().join(" ")
    }
    /// Parses an OAuth `scope` parameter (space-separated).
    pub fn parse_oauth(s: &str) -> Result<ScopeSet, InvalidValue> {
        s.split(' ')
            .filter(|w| !w.is_empty())
            .map(Scope::from_str)
            .collect()
    }
}

impl FromIterator<Scope> for ScopeSet {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        ScopeSet(iter.into_iter().fold(0, |b, s| b | s.bit()))
    }
}

// ---------------------------------------------------------------------------------------------
// Clients

/// A redirect URI: absolute, no fragment, no credentials; https, or http to a loopback host.
/// Compared exactly (byte for byte) when used.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RedirectUri(String);

impl RedirectUri {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `host` is a loopback name or address.
pub fn is_loopback_host(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(a) => a.is_loopback(),
        url::Host::Ipv6(a) => a.is_loopback(),
    }
}

impl TryFrom<String> for RedirectUri {
    type Error = InvalidValue;
    fn try_from(s: String) -> Result<Self, InvalidValue> {
        let u = url::Url::parse(&s).map_err(|e| {
            InvalidValue(format!(
                "redirect URI {s:?} is not an absolute URL ({e}); write it in full, e.g. \"https://vendor.example/callback\""
            ))
        })?;
        if u.fragment().is_some() {
            return Err(InvalidValue(format!(
                "redirect URI {s:?} has a #fragment; remove it"
            )));
        }
        if !u.username().is_empty() || u.password().is_some() {
            return Err(InvalidValue(format!(
                "redirect URI {s:?} carries credentials; remove them"
            )));
        }
        let loopback = u.host().as_ref().is_some_and(is_loopback_host);
        match u.scheme() {
            "https" if u.host().is_some() => {}
            "http" if loopback => {}
            _ => {
                return Err(InvalidValue(format!(
                    "redirect URI {s:?} must be https (http is only allowed to 127.0.0.1, [::1] or localhost)"
                )));
            }
        }
        if s.len() > 2048 {
            return Err(InvalidValue(
                "redirect URI longer than 2048 characters".into(),
            ));
        }
        Ok(RedirectUri(s))
    }
}

impl FromStr for RedirectUri {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, InvalidValue> {
        Self::try_from(s.to_owned())
    }
}

impl From<RedirectUri> for String {
    fn from(u: RedirectUri) -> String {
        u.0
    }
}

impl fmt::Display for RedirectUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

crate::values::string_value_schema!(
    RedirectUri,
    None::<&str>,
    "Absolute redirect URI: https, or http to a loopback host; no fragment, no credentials; matched exactly.",
    "https://vendor.example/oauth/callback"
);

/// Body of `POST /v1/vendors/{id}/client`: connect a vendor as an OAuth client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientFields {
    /// Where the consent flow may send the owner back (at least one).
    pub redirect_uris: Vec<RedirectUri>,
    /// Where Carnet pushes signed webhooks; the owner may choose any address, the home
    /// network included.
    #[serde(default)]
    pub webhook_url: Option<WebUrl>,
}

/// A vendor's OAuth client, as the owner sees it (no secrets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Client {
    pub client_id: ClientId,
    pub vendor_id: VendorId,
    pub redirect_uris: Vec<RedirectUri>,
    pub webhook_url: Option<WebUrl>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Credentials shown once: at connection, or after a rotation (only the rotated secret is set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ClientCredentials {
    pub client_id: ClientId,
    pub vendor_id: VendorId,
    /// Send with `client_secret_basic` or `client_secret_post`.
    pub client_secret: Option<String>,
    /// Standard Webhooks secret (`whsec_…`) to verify pushes.
    pub webhook_secret: Option<String>,
    pub redirect_uris: Vec<RedirectUri>,
    pub webhook_url: Option<WebUrl>,
}

/// Body of `POST /v1/vendors/{id}/client/rotate-secret`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecret {
    /// Rotate the webhook secret instead of the client secret.
    #[serde(default)]
    pub webhook: bool,
}

/// Filter of `GET /v1/grants` and `GET /v1/receipts`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VendorOnly {
    /// Only this vendor's.
    #[param(value_type = Option<String>)]
    pub vendor: Option<VendorId>,
}

// ---------------------------------------------------------------------------------------------
// OAuth wire formats

/// A successful token response (RFC 6749 §5.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    /// The scopes granted, space-separated.
    pub scope: String,
    /// The categories the token covers (absent: every category, `all_categories` grant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<Category>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// An error from an OAuth endpoint (RFC 6749 §5.2, RFC 7009, RFC 7662).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct OAuthErrorBody {
    pub error: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

/// `POST /oauth/introspect` answer (RFC 7662). Inactive tokens are exactly
/// `{"active": false}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Introspection {
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<ClientId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// The consumer's pairwise pseudonym for this vendor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<Category>>,
}

/// RFC 8414 authorization server metadata: only what this server implements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct ServerMetadata {
    pub issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: String,
    pub revocation_endpoint: String,
    pub introspection_endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_endpoint: Option<String>,
    pub scopes_supported: Vec<Scope>,
    pub response_types_supported: Vec<String>,
    pub grant_types_supported: Vec<String>,
    pub token_endpoint_auth_methods_supported: Vec<String>,
    pub revocation_endpoint_auth_methods_supported: Vec<String>,
    pub introspection_endpoint_auth_methods_supported: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge_methods_supported: Option<Vec<String>>,
    /// RFC 9207: authorization responses carry `iss`.
    #[serde(default)]
    pub authorization_response_iss_parameter_supported: bool,
    /// Where the public keys that verify consent receipts are (a JWK set).
    pub carnet_receipt_keys_uri: String,
}

// ---------------------------------------------------------------------------------------------
// What a vendor sees

/// `GET /v1/vendor/relationship`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct VendorRelationship {
    /// The consumer's pairwise pseudonym for this vendor.
    pub customer_ref: String,
    pub loyalty: Loyalty,
}

/// `GET /v1/vendor/profile`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct VendorProfile {
    pub customer_ref: String,
    pub display_name: Option<Line>,
    pub locale: Option<Locale>,
    pub city: Option<Line>,
    pub postal_code: Option<Line>,
}

/// An interaction the owner shared with this vendor (`GET /v1/vendor/interactions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct SharedInteraction {
    pub id: InteractionId,
    pub customer_ref: String,
    pub updated_at: DateTime<Utc>,
    pub at: Option<DateTime<FixedOffset>>,
    pub channel: Channel,
    pub summary: Text,
    pub with: Option<Line>,
    pub expected: Option<Text>,
    pub i_said: Option<Text>,
    pub they_said: Option<Text>,
    pub outcome: Option<Text>,
    pub sentiment: Option<Sentiment>,
    pub next_step: Option<Text>,
    pub next_due: Option<NaiveDate>,
    pub next_done: bool,
}

/// Paging and incremental pulls of the vendor API.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VendorListQuery {
    /// Only records changed at or after this time (RFC 3339), for incremental pulls.
    pub updated_since: Option<DateTime<FixedOffset>>,
    /// Page size, 1 to 1000 (default 200).
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page (opaque, bound to this vendor and listing).
    pub cursor: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Webhook deliveries

/// Where a webhook delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    /// Not delivered yet: will be tried at `next_attempt_at`.
    Pending,
    Delivered,
    /// Not sent: the vendor's grant ended or no longer covers it, or it has no webhook URL.
    Dropped,
    /// Given up after three days of failures.
    Failed,
}

/// One webhook event for one vendor (`GET /v1/webhooks`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct WebhookDelivery {
    /// The `webhook-id` header: the same on every attempt.
    pub id: String,
    pub vendor_id: VendorId,
    /// `intent.activated`, `offer.accepted`, `grant.revoked`, …
    pub event: String,
    pub state: DeliveryState,
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    /// When it will be tried next (pending deliveries).
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    /// HTTP status of the last attempt.
    pub last_status: Option<u16>,
    /// Why the last attempt failed or the event was not sent, in a word: `status` (a non-2xx
    /// answer, see `last_status`), `redirect` (never followed), `timeout`, `connect`,
    /// `request`, `dns`, `address` (a vendor-registered URL resolved to a non-public address),
    /// `policy` (not https, or credentials in it), `grant` (no live grant covering it),
    /// `client` (the vendor was disconnected), `no-url`, `unreadable`.
    pub last_error: Option<String>,
}

/// Filter of `GET /v1/webhooks`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WebhookQuery {
    #[param(value_type = Option<String>)]
    pub vendor: Option<VendorId>,
    /// At most this many, newest first (default 200, at most 1000).
    pub limit: Option<u32>,
}

/// `GET /v1/access-log/verify`: whether the access log is whole and unaltered, as the last
/// full check found it (carnetd checks at start, and when the owner asks with
/// `POST /v1/access-log/verify`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct AuditVerification {
    /// `true` only once a check found the log whole (`false` before any check).
    pub ok: bool,
    /// Entries that check out: all of them when `ok`, else those before `first_bad`. Pruned
    /// entries are not counted here (see `pruned`).
    pub entries: u64,
    /// The first entry that does not check out, and why.
    pub first_bad: Option<BadEntry>,
    /// When the check this answers from ended (`null` before any check).
    #[serde(default)]
    pub checked_at: Option<DateTime<Utc>>,
    /// How long that check took, in milliseconds (`null` before any check).
    #[serde(default)]
    pub duration_ms: Option<u64>,
    /// A check is running: this answer is the previous one (or none yet).
    #[serde(default)]
    pub in_progress: bool,
    /// Entries removed by retention behind the sealed checkpoint (`null`: none ever pruned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pruned: Option<PrunedEntries>,
}

impl AuditVerification {
    /// What is known before any check: nothing proved yet.
    pub fn unchecked() -> Self {
        AuditVerification {
            ok: false,
            entries: 0,
            first_bad: None,
            checked_at: None,
            duration_ms: None,
            in_progress: false,
            pruned: None,
        }
    }
}

/// The access log's sealed checkpoint, as verification reports it: the oldest entries were
/// removed by retention (`access_log_retention_days`), and the chain resumes after them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct PrunedEntries {
    /// How many entries were pruned, in all.
    pub entries: u64,
    /// The position (`seq`) of the last entry pruned; the log goes on at the next one.
    pub last_seq: i64,
    /// The time of the last entry pruned: every entry up to it is gone.
    pub until: DateTime<Utc>,
}

/// `GET /v1/access-log/verify?wait=true`: wait (a little while) for a running check to end.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// Answer once the running check ends (or after 20 s, still `in_progress`).
    pub wait: Option<bool>,
}

/// `GET /v1/integrity`: whether every row whose clear columns decide access (credential
/// hashes, grants, intents, shared interactions, outbox, …) still carries its MAC, made with
/// the vault key. A row that fails is never served; this names each one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct RowVerification {
    pub ok: bool,
    /// Rows checked, in every protected table.
    pub rows: u64,
    /// Rows whose MAC is missing or wrong: changed by someone without the vault key.
    pub tampered: Vec<TamperedRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct TamperedRow {
    pub table: String,
    /// The row's id (a hash column, such as a token's, in base64url).
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct BadEntry {
    /// Its position in the log (`seq`); when the end of the log was cut, the first position
    /// missing.
    pub seq: i64,
    pub reason: String,
}
