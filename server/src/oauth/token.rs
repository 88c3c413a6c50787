//! `POST /oauth/token`. This server issues opaque bearer tokens, stored only as hashes and
//! bound to the client, the grant, and the scopes and categories asked for (never more than
//! the grant allows). Grant types: `client_credentials` (what the owner pre-granted, here),
//! `authorization_code` and `refresh_token` (the consent flow, `exchange.rs`).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use carnet_schemas::{Category, ClientId, ScopeSet, TokenResponse};
use serde::Deserialize;
use utoipa::ToSchema;

use super::client_auth::{Authenticated, PostedCredentials};
use super::error::{OAuthError, no_store};
use crate::state::AppState;
use carnet_core::access::log::AccessEvent;
use carnet_core::access::{GrantEntry, GrantType, TokenCategories, TokenEntry, token_row_id};
use carnet_core::credential::Credential;
use carnet_core::store::access::{self as rows, TokenRow};

/// Token request parameters (unknown ones are ignored, as RFC 6749 §3.2 requires).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// `client_credentials`, `authorization_code` or `refresh_token`.
    pub grant_type: Option<String>,
    /// With `authorization_code`.
    pub code: Option<String>,
    /// With `authorization_code`: the redirect URI of the authorization request.
    pub redirect_uri: Option<String>,
    /// With `authorization_code`: the PKCE verifier.
    pub code_verifier: Option<String>,
    /// With `refresh_token`.
    pub refresh_token: Option<String>,
    /// Space-separated scopes, a subset of the grant's (default: all of them).
    pub scope: Option<String>,
    /// Space-separated categories, each inside the grant's (default: all of them).
    pub categories: Option<String>,
    /// With `client_secret_post`.
    pub client_id: Option<String>,
    /// With `client_secret_post`.
    pub client_secret: Option<String>,
}

impl PostedCredentials for TokenRequest {
    fn posted(&self) -> (Option<&str>, Option<&str>) {
        (self.client_id.as_deref(), self.client_secret.as_deref())
    }
}

/// Issue an access token.
#[utoipa::path(post, path = "/oauth/token", tag = "oauth",
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "A token", body = TokenResponse),
        (status = 400, description = "RFC 6749 error", body = carnet_schemas::OAuthErrorBody),
        (status = 401, description = "invalid_client", body = carnet_schemas::OAuthErrorBody),
        (status = 429, description = "temporarily_unavailable: the client already holds max_live_tokens unexpired access tokens (Retry-After)", body = carnet_schemas::OAuthErrorBody)),
    security((), ("client_secret_basic" = [])))]
pub async fn token(
    State(s): State<AppState>,
    auth: Authenticated<TokenRequest>,
) -> Result<Response, OAuthError> {
    let Authenticated {
        client_id,
        client,
        form: req,
    } = auth;
    if let Some(g) = req.grant_type.as_deref().and_then(GrantType::named)
        && !client.grant_types.allows(g)
    {
        return Err(OAuthError::UnauthorizedClient(format!(
            "this client did not register the grant type {g} (grant_types at /oauth/register), so it may not use it"
        )));
    }
    let held = s.access.access_tokens_of(&client_id);
    if held >= s.settings.max_live_tokens {
        return Err(OAuthError::TooManyTokens(format!(
            "this client already holds {held} unexpired access tokens, as many as this server \
             allows (max_live_tokens); use a token until it expires (expires_in) instead of \
             asking for one per request, or revoke those it no longer needs"
        )));
    }
    let grant_type = req
        .grant_type
        .as_deref()
        .ok_or_else(|| OAuthError::InvalidRequest("grant_type is missing".into()))?;
    let body = match grant_type {
        "client_credentials" => client_credentials(&s, client_id, &client, &req).await?,
        "authorization_code" => {
            super::exchange::authorization_code(&s, client_id, &client, &req).await?
        }
        "refresh_token" => super::exchange::refresh(&s, client_id, &client, &req).await?,
        other => {
            return Err(OAuthError::UnsupportedGrantType(format!(
                "grant_type {other:?} is not supported; use authorization_code, refresh_token or client_credentials"
            )));
        }
    };
    let mut res = axum::Json(body).into_response();
    no_store(&mut res);
    Ok(res)
}

async fn client_credentials(
    s: &AppState,
    client_id: ClientId,
    client: &carnet_core::access::ClientEntry,
    req: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let now = s.now();
    let (grant_id, grant) = s.access.live_grant(&client.vendor_id, now).ok_or_else(|| {
        OAuthError::UnauthorizedClient(
            "the owner has not granted this client access, or the grant expired or was revoked"
                .into(),
        )
    })?;
    let scopes = narrow_scopes(&grant, req.scope.as_deref())?;
    let categories = narrow_categories(&grant, req.categories.as_deref())?;

    let token = Credential::generate();
    let hash = token.hash();
    let expires_at = now + s.settings.access_token_ttl;
    let row = TokenRow {
        hash: hash.to_vec(),
        refresh: false,
        family: None,
        client_id: client_id.to_string(),
        grant_id: grant_id.to_string(),
        scopes: scopes.bits(),
        created_at: now,
        expires_at,
        sealed: s
            .keys
            .seal()
            .seal(&token_row_id(&hash), &TokenCategories(categories.clone())),
    };
    // Not awaited (unless the writer is far behind, see `write_behind`): the token works at
    // once from memory and commits with the next batch. A crash in those milliseconds loses
    // the token (the vendor asks again) and nothing else; a later revocation is queued
    // behind this insert, so it always wins.
    let stored = s.store.write_behind("storing an issued token", move |c| {
        rows::insert_token(c, &row)
    });
    s.access.put_token(
        hash,
        TokenEntry {
            client_id: client_id.clone(),
            grant_id: grant_id.clone(),
            scopes,
            categories: categories.clone(),
            issued_at: now,
            expires_at,
            refresh: false,
            family: None,
            access: Default::default(),
        },
    );
    log_issue(s, client, client_id, grant_id, scopes);
    s.metrics
        .token_issued(crate::metrics::TokenGrant::ClientCredentials);
    stored.await;
    Ok(TokenResponse {
        access_token: token.expose().to_owned(),
        token_type: "Bearer".into(),
        expires_in: s.settings.access_token_ttl.num_seconds().max(0) as u64,
        scope: scopes.to_oauth(),
        categories,
        refresh_token: None,
    })
}

pub(crate) fn log_issue(
    s: &AppState,
    client: &carnet_core::access::ClientEntry,
    client_id: ClientId,
    grant_id: carnet_schemas::GrantId,
    scopes: ScopeSet,
) {
    s.log_access(AccessEvent {
        vendor_id: client.vendor_id.clone(),
        client_id,
        grant_id: Some(grant_id),
        endpoint: "POST /oauth/token",
        scopes,
        ids: Default::default(),
        status: 200,
        withheld: None,
    });
}

/// The scopes of a new token: those asked for, if the grant has them all.
pub fn narrow_scopes(grant: &GrantEntry, asked: Option<&str>) -> Result<ScopeSet, OAuthError> {
    let Some(asked) = asked.filter(|a| !a.trim().is_empty()) else {
        return Ok(grant.scopes);
    };
    let wanted = ScopeSet::parse_oauth(asked).map_err(|e| OAuthError::InvalidScope(e.0))?;
    if !wanted.is_subset(grant.scopes) {
        return Err(OAuthError::InvalidScope(format!(
            "the grant allows only: {}",
            grant.scopes.to_oauth()
        )));
    }
    Ok(wanted)
}

/// The categories of a new token: those asked for, if each is inside the grant's.
pub fn narrow_categories(
    grant: &GrantEntry,
    asked: Option<&str>,
) -> Result<Option<Vec<Category>>, OAuthError> {
    let Some(asked) = asked.filter(|a| !a.trim().is_empty()) else {
        return Ok(grant.categories.clone());
    };
    let wanted = asked
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| w.parse::<Category>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| OAuthError::InvalidScope(e.0))?;
    if let Some(allowed) = &grant.categories
        && let Some(outside) = wanted.iter().find(|w| !allowed.iter().any(|a| a.covers(w)))
    {
        return Err(OAuthError::InvalidScope(format!(
            "category {outside} is outside the grant ({})",
            allowed
                .iter()
                .map(Category::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        )));
    }
    Ok(Some(wanted))
}
