//! `POST /oauth/revoke` (RFC 7009): an authenticated client revokes one of its own tokens
//! (the rules are `carnet_core::oauth::revocation`). The answer is 200 for any token, known
//! or not, so it never tells whether a token exists.

use axum::extract::State;
use axum::http::StatusCode;
use carnet_core::oauth::revocation;
use serde::Deserialize;
use utoipa::ToSchema;

use super::client_auth::{Authenticated, PostedCredentials};
use super::error::OAuthError;
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct RevokeRequest {
    pub token: Option<String>,
    /// `access_token` or `refresh_token`: accepted, not needed (tokens are found by hash, and
    /// a wrong hint does not stop the search).
    #[allow(dead_code)]
    pub token_type_hint: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

impl PostedCredentials for RevokeRequest {
    fn posted(&self) -> (Option<&str>, Option<&str>) {
        (self.client_id.as_deref(), self.client_secret.as_deref())
    }
}

/// Revoke a token.
#[utoipa::path(post, path = "/oauth/revoke", tag = "oauth",
    request_body(content = RevokeRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or was not a token of this client"),
        (status = 400, description = "RFC 6749 error", body = carnet_schemas::OAuthErrorBody),
        (status = 401, description = "invalid_client", body = carnet_schemas::OAuthErrorBody)),
    security((), ("client_secret_basic" = [])))]
pub async fn revoke(
    State(s): State<AppState>,
    auth: Authenticated<RevokeRequest>,
) -> Result<StatusCode, OAuthError> {
    let token = auth
        .form
        .token
        .ok_or_else(|| OAuthError::InvalidRequest("token is missing".into()))?;
    revocation::revoke(&s, &auth.client_id, &token).await?;
    Ok(StatusCode::OK)
}
