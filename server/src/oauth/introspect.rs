//! `POST /oauth/introspect` (RFC 7662): a client asks whether one of its tokens is active: an
//! access token (`token_type` `Bearer`) or a refresh token (`token_type` `refresh_token`, live
//! while unused, unrevoked, unexpired and under a live grant). Anything else — unknown, expired, revoked, or another client's token — is exactly
//! `{"active":false}`.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use carnet_schemas::{ClientId, GrantFields, Introspection, ScopeSet};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use super::client_auth::{Authenticated, PostedCredentials};
use super::error::{OAuthError, no_store};
use crate::state::AppState;
use carnet_core::access::pseudonym::customer_ref;
use carnet_core::access::{TokenCategories, token_row_id};
use carnet_core::credential;
use carnet_core::store::access as token_rows;
use carnet_core::store::consent as consent_rows;

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
    let client_id = auth.client_id;
    let token = auth
        .form
        .token
        .ok_or_else(|| OAuthError::InvalidRequest("token is missing".into()))?;
    let hash = credential::hash(&token);
    let now = s.now();
    let access = s
        .access
        .check(&hash, now)
        .filter(|a| a.client_id == client_id);
    let described = match access {
        Some(a) => Some(Introspection {
            active: true,
            scope: Some(a.scopes.to_oauth()),
            client_id: Some(a.client_id.clone()),
            token_type: Some("Bearer".into()),
            exp: Some(a.expires_at.timestamp()),
            iat: Some(a.issued_at.timestamp()),
            sub: Some(customer_ref(&s.keys, &a.vendor_id)),
            iss: Some(s.settings.public_url.clone()),
            categories: a.categories.clone(),
        }),
        None => live_refresh(&s, &client_id, &hash, now)?,
    };
    let mut res = match described {
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

/// A refresh token of this client that would still refresh now, described.
fn live_refresh(
    s: &AppState,
    client_id: &ClientId,
    hash: &[u8; 32],
    now: DateTime<Utc>,
) -> Result<Option<Introspection>, OAuthError> {
    let Some(client) = s.access.client(client_id) else {
        return Ok(None);
    };
    let found = s.store.read(|c| {
        let Some(r) = consent_rows::refresh_token::<TokenCategories>(c, hash)? else {
            return Ok::<_, OAuthError>(None);
        };
        let live = !r.used
            && !r.revoked
            && now < r.row.expires_at
            && r.row.client_id == client_id.as_str()
            && token_rows::grant::<GrantFields>(c, &r.row.grant_id)?
                .is_some_and(|g| g.revoked_at.is_none() && g.expires_at > now);
        Ok(live.then_some(r))
    })?;
    let Some(r) = found else {
        return Ok(None);
    };
    let TokenCategories(categories) = s.keys.seal().open(&token_row_id(hash), &r.row.sealed)?;
    Ok(Some(Introspection {
        active: true,
        scope: Some(ScopeSet::from_bits(r.row.scopes).to_oauth()),
        client_id: Some(client_id.clone()),
        token_type: Some("refresh_token".into()),
        exp: Some(r.row.expires_at.timestamp()),
        iat: Some(r.created_at.timestamp()),
        sub: Some(customer_ref(&s.keys, &client.vendor_id)),
        iss: Some(s.settings.public_url.clone()),
        categories,
    }))
}
