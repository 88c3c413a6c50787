//! `POST /oauth/introspect` (RFC 7662): an authenticated client asks whether one of its tokens
//! is active (the rules are `carnet_core::oauth::introspection`). Anything not active —
//! unknown, expired, revoked, or another client's token — is exactly `{"active":false}`,
//! never cached.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use carnet_core::oauth::introspection;
use carnet_schemas::Introspection;
use serde::Deserialize;
use utoipa::ToSchema;

use super::client_auth::{Authenticated, PostedCredentials};
use super::error::{OAuthError, no_store};
use crate::state::AppState;

#[derive(Debug, Deserialize, ToSchema)]
pub struct IntrospectRequest {
    pub token: Option<String>,
    /// `access_token` or `refresh_token`: accepted, not needed (tokens are found by hash).
    #[allow(dead_code)]
    pub token_type_hint: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

impl PostedCredentials for IntrospectRequest {
    fn posted(&self) -> (Option<&str>, Option<&str>) {
        (self.client_id.as_deref(), self.client_secret.as_deref())
    }
}

const INACTIVE: &str = r#"{"active":false}"#;

/// Introspect a token.
#[utoipa::path(post, path = "/oauth/introspect", tag = "oauth",
    request_body(content = IntrospectRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Whether the token is active, and what it allows", body = Introspection),
        (status = 400, description = "RFC 6749 error", body = carnet_schemas::OAuthErrorBody),
        (status = 401, description = "invalid_client", body = carnet_schemas::OAuthErrorBody)),
    security((), ("client_secret_basic" = [])))]
pub async fn introspect(
    State(s): State<AppState>,
    auth: Authenticated<IntrospectRequest>,
) -> Result<Response, OAuthError> {
    let token = auth
        .form
        .token
        .ok_or_else(|| OAuthError::InvalidRequest("token is missing".into()))?;
    let mut res = match introspection::introspect(&s, &auth.client_id, &token)? {
        None => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            INACTIVE,
        )
            .into_response(),
        Some(d) => axum::Json(d).into_response(),
    };
    no_store(&mut res);
    Ok(res)
}
