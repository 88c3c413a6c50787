//! `POST /oauth/introspect` (RFC 7662): a client asks whether one of its tokens is active.
//! Anything else — unknown, expired, revoked, or another client's token — is exactly
//! `{"active":false}`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use carnet_schemas::Introspection;
use serde::Deserialize;
use utoipa::ToSchema;

use super::client_auth;
use super::error::{Form, OAuthError, no_store};
use crate::access::pseudonym::customer_ref;
use crate::credential;
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
    headers: HeaderMap,
    Form(req): Form<IntrospectRequest>,
) -> Result<Response, OAuthError> {
    let presented = client_auth::presented(
        &headers,
        req.client_id.as_deref(),
        req.client_secret.as_deref(),
    )?;
    let (client_id, _) = client_auth::authenticate(&s, &presented)?;
    let token = req
        .token
        .ok_or_else(|| OAuthError::InvalidRequest("token is missing".into()))?;
    let access = s
        .access
        .check(&credential::hash(&token), s.now())
        .filter(|a| a.client_id == client_id);
    let mut res = match access {
        None => (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            INACTIVE,
        )
            .into_response(),
        Some(a) => axum::Json(Introspection {
            active: true,
            scope: Some(a.scopes.to_oauth()),
            client_id: Some(a.client_id.clone()),
            token_type: Some("Bearer".into()),
            exp: Some(a.expires_at.timestamp()),
            iat: Some(a.issued_at.timestamp()),
            sub: Some(customer_ref(&s.keys, &a.vendor_id)),
            iss: Some(s.settings.public_url.clone()),
            categories: a.categories.clone(),
        })
        .into_response(),
    };
    no_store(&mut res);
    Ok(res)
}
