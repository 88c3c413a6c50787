//! The consent flow: pending consent requests the owner can answer from the terminal, vendor
//! invitations for dynamic registration (RFC 7591), and the owner's web password.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::{ClientId, VendorId};
use crate::oauth::{RedirectUri, Scope};
use crate::values::{Category, Line};

/// A consent request waiting for the owner (`GET /v1/consents`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct PendingConsent {
    /// The short code shown on the consent page (`carnet consent approve CODE`).
    pub code: String,
    pub client_id: ClientId,
    pub vendor_id: VendorId,
    /// The vendor's name as the owner keeps it (for an openly registered client, the name the
    /// client registered with).
    pub vendor_name: String,
    /// Whether the owner connected this client (`false`: it registered itself).
    pub verified: bool,
    /// For a client that registered itself: the name of an existing vendor its name looks like
    /// (confusable letters, case, spacing), a sign of impersonation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub looks_like: Option<String>,
    pub scopes: Vec<Scope>,
    /// The categories the vendor asked for (the owner picks the ones granted).
    pub requested_categories: Vec<Category>,
    /// Where the vendor's site will receive the answer.
    pub redirect_uri: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Body of `POST /v1/consents/{code}/approve`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsentDecision {
    /// The categories granted (default: the ones the vendor asked for).
    #[serde(default)]
    pub categories: Vec<Category>,
    #[serde(default)]
    pub all_categories: bool,
    /// 1 to 365 days (default 30).
    #[serde(default)]
    pub days: Option<u32>,
}

/// `POST /v1/vendors/{id}/invite`: an initial access token for `POST /oauth/register`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct Invitation {
    pub vendor_id: VendorId,
    /// Send as `Authorization: Bearer …` to the registration endpoint; works once.
    pub initial_access_token: String,
    pub registration_endpoint: String,
    pub expires_at: DateTime<Utc>,
}

/// Body of `PUT /v1/password`: the password that signs the owner in on the consent page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebPassword {
    /// At least 10 characters.
    pub password: String,
}

/// Client metadata of `POST /oauth/register` (RFC 7591); unknown members are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct RegistrationRequest {
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub client_name: Option<String>,
    #[serde(default)]
    pub client_uri: Option<String>,
    #[serde(default)]
    pub contacts: Vec<String>,
    /// `client_secret_basic` (default) or `client_secret_post`.
    #[serde(default)]
    pub token_endpoint_auth_method: Option<String>,
    #[serde(default)]
    pub grant_types: Option<Vec<String>>,
    #[serde(default)]
    pub response_types: Option<Vec<String>>,
    #[serde(default)]
    pub scope: Option<String>,
    /// Carnet extension: where to push webhooks. Must be https to a public address (checked
    /// again, on the resolved address, at every delivery).
    #[serde(default)]
    pub webhook_url: Option<String>,
}

/// `POST /oauth/register` answer (RFC 7591 §3.2.1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct RegistrationResponse {
    pub client_id: ClientId,
    pub client_secret: String,
    pub client_id_issued_at: i64,
    /// 0: the secret does not expire.
    pub client_secret_expires_at: i64,
    pub redirect_uris: Vec<RedirectUri>,
    pub client_name: Line,
    pub token_endpoint_auth_method: String,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    /// Standard Webhooks secret (`whsec_…`), shown once, when a webhook URL was registered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
}

/// Body of `POST /v1/unlock`: the passphrase or the recovery key; `{}` for an identity vault
/// (its identity file opens it).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnlockRequest {
    #[serde(default)]
    pub passphrase: Option<String>,
    /// `AGE-SECRET-KEY-1…`, printed once by `carnetd init --passphrase-file`.
    #[serde(default)]
    pub recovery_key: Option<String>,
}
