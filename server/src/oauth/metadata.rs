//! Discovery: RFC 8414 metadata (only what is implemented; the issuer is the configured public
//! URL, never the Host header) and the JWK set that verifies consent receipts.

use axum::extract::State;
use carnet_schemas::{ReceiptKeys, Scope, ServerMetadata};

use crate::error::ApiResult;
use crate::extract::Json;
use crate::state::AppState;
use carnet_core::access::receipts::published_keys;

const CLIENT_AUTH: [&str; 2] = ["client_secret_basic", "client_secret_post"];

/// Authorization server metadata (RFC 8414).
#[utoipa::path(get, path = "/.well-known/oauth-authorization-server", tag = "oauth",
    responses((status = 200, description = "Metadata", body = ServerMetadata)))]
pub async fn metadata(State(s): State<AppState>) -> Json<ServerMetadata> {
    Json(metadata_of(&s.settings))
}

/// The metadata of a server configured with `settings` (also served while sealed).
pub fn metadata_of(settings: &crate::state::Settings) -> ServerMetadata {
    let base = settings.public_url.trim_end_matches('/');
    let methods = || {
        CLIENT_AUTH
            .iter()
            .map(|m| (*m).to_owned())
            .collect::<Vec<_>>()
    };
    ServerMetadata {
        issuer: settings.public_url.clone(),
        authorization_endpoint: Some(format!("{base}/oauth/authorize")),
        token_endpoint: format!("{base}/oauth/token"),
        revocation_endpoint: format!("{base}/oauth/revoke"),
        introspection_endpoint: format!("{base}/oauth/introspect"),
        registration_endpoint: Some(format!("{base}/oauth/register")),
        scopes_supported: Scope::ALL.to_vec(),
        response_types_supported: vec!["code".into()],
        grant_types_supported: vec![
            "authorization_code".into(),
            "refresh_token".into(),
            "client_credentials".into(),
        ],
        token_endpoint_auth_methods_supported: methods(),
        revocation_endpoint_auth_methods_supported: methods(),
        introspection_endpoint_auth_methods_supported: methods(),
        code_challenge_methods_supported: Some(vec!["S256".into()]),
        authorization_response_iss_parameter_supported: true,
        carnet_receipt_keys_uri: format!("{base}/.well-known/carnet-receipt-keys"),
    }
}

/// Public keys that verify consent receipts (a JWK set; `kid` names the key in each receipt).
#[utoipa::path(get, path = "/.well-known/carnet-receipt-keys", tag = "oauth",
    responses((status = 200, description = "JWK set", body = ReceiptKeys)))]
pub async fn receipt_keys(State(s): State<AppState>) -> ApiResult<Json<ReceiptKeys>> {
    Ok(Json(published_keys(&s.store, true)?))
}
