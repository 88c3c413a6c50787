//! `POST /oauth/revoke` (RFC 7009): a client revokes one of its own tokens. The answer is 200
//! for any token, known or not, and a token of another client is left alone.
//!
//! - A refresh token ends, with every token of its grant family (the access tokens it and its
//!   predecessors produced): the consent session is over, and a new one needs the owner.
//! - An access token ends alone: the refresh token of its family still works (RFC 7009 §2.1
//!   leaves this to the server; a vendor that drops a token it no longer needs keeps its
//!   session). To end everything, revoke the refresh token.
//!
//! `token_type_hint` is accepted and not needed: tokens are found by hash, whatever the hint.

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;

use super::client_auth::{Authenticated, PostedCredentials};
use super::error::OAuthError;
use crate::state::AppState;
use carnet_core::access::TokenCategories;
use carnet_core::credential;
use carnet_core::store::access as rows;
use carnet_core::store::consent as consent_rows;

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
    let client_id = auth.client_id;
    let token = auth
        .form
        .token
        .ok_or_else(|| OAuthError::InvalidRequest("token is missing".into()))?;
    let hash = credential::hash(&token);
    let now = s.now();
    if s.access
        .token(&hash)
        .is_some_and(|t| t.client_id == client_id && !t.refresh)
    {
        s.store
            .write(move |c| rows::revoke_token(c, &hash, now))
            .await?;
        s.access.remove_token(&hash);
        return Ok(StatusCode::OK);
    }
    let owner = client_id.to_string();
    let revoked = s
        .store
        .write(
            move |c| match consent_rows::refresh_token::<TokenCategories>(c, &hash)? {
                Some(r) if r.row.client_id == owner => {
                    rows::revoke_token(c, &hash, now)?;
                    if let Some(f) = &r.row.family {
                        consent_rows::revoke_family(c, f, now)?;
                    }
                    Ok::<_, OAuthError>(Some(r.row.family))
                }
                _ => Ok(None),
            },
        )
        .await?;
    if let Some(family) = revoked {
        s.access.remove_token(&hash);
        if let Some(f) = family {
            s.access.revoke_family(&f);
        }
    }
    Ok(StatusCode::OK)
}
