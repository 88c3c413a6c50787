//! `POST /oauth/token`: reads a `TokenRequest` (one per grant type) from an authenticated
//! client and answers with what `carnet_core::oauth` issues — `client_credentials` in
//! `tokens`, `authorization_code` and `refresh_token` in `exchange` — never cached. Each
//! token issued is written to the access log and counted by grant type.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use carnet_core::Core;
use carnet_core::access::log::AccessEvent;
use carnet_core::access::{ClientEntry, GrantType};
use carnet_core::oauth::codes::CodeVerifier;
use carnet_core::oauth::exchange;
use carnet_core::oauth::tokens::{self, Issued, TokenError};
use carnet_schemas::{ClientId, TokenResponse};
use serde::Deserialize;
use utoipa::openapi::{RefOr, schema::Schema};
use utoipa::{PartialSchema, ToSchema};

use super::client_auth::{Authenticated, PostedCredentials};
use super::error::{OAuthError, no_store};
use crate::metrics::TokenGrant;
use crate::state::AppState;

/// Token request parameters (unknown ones are ignored, as RFC 6749 §3.2 requires).
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenForm {
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

impl PostedCredentials for TokenForm {
    fn posted(&self) -> (Option<&str>, Option<&str>) {
        (self.client_id.as_deref(), self.client_secret.as_deref())
    }
}

/// A token request: what each grant type needs, present and well-formed. Scopes and
/// categories stay as asked: they are judged against the grant once it is found.
pub enum TokenRequest {
    AuthorizationCode {
        code: String,
        /// The redirect URI of the authorization request.
        redirect_uri: String,
        verifier: CodeVerifier,
    },
    RefreshToken {
        refresh_token: String,
        scope: Option<String>,
    },
    ClientCredentials {
        scope: Option<String>,
        categories: Option<String>,
    },
}

impl TryFrom<TokenForm> for TokenRequest {
    type Error = OAuthError;

    fn try_from(f: TokenForm) -> Result<Self, OAuthError> {
        let missing = |what: &str| OAuthError::InvalidRequest(what.into());
        let grant_type = f
            .grant_type
            .as_deref()
            .ok_or_else(|| missing("grant_type is missing"))?;
        match GrantType::named(grant_type) {
            Some(GrantType::AuthorizationCode) => Ok(TokenRequest::AuthorizationCode {
                code: f.code.ok_or_else(|| missing("code is missing"))?,
                redirect_uri: f.redirect_uri.ok_or_else(|| {
                    missing("redirect_uri is missing (send the one of the authorization request)")
                })?,
                verifier: CodeVerifier::try_from(
                    f.code_verifier
                        .ok_or_else(|| missing("code_verifier is missing: PKCE is required"))?,
                )?,
            }),
            Some(GrantType::RefreshToken) => Ok(TokenRequest::RefreshToken {
                refresh_token: f
                    .refresh_token
                    .ok_or_else(|| missing("refresh_token is missing"))?,
                scope: f.scope,
            }),
            Some(GrantType::ClientCredentials) => Ok(TokenRequest::ClientCredentials {
                scope: f.scope,
                categories: f.categories,
            }),
            None => Err(OAuthError::UnsupportedGrantType(format!(
                "grant_type {grant_type:?} is not supported; use authorization_code, refresh_token or client_credentials"
            ))),
        }
    }
}

/// On the wire, a token request is its form.
impl PartialSchema for TokenRequest {
    fn schema() -> RefOr<Schema> {
        TokenForm::schema()
    }
}

impl ToSchema for TokenRequest {}

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
    auth: Authenticated<TokenForm>,
) -> Result<Response, OAuthError> {
    let Authenticated {
        client_id,
        client,
        form,
    } = auth;
    let named = form.grant_type.as_deref().and_then(GrantType::named);
    tokens::admit(&s, &client_id, &client, named)?;
    let request = TokenRequest::try_from(form)?;
    let counted = request.counted_as();
    let issued = request.issue(&s, &client_id, &client).await?;
    log_issue(&s, &client, client_id, &issued);
    s.metrics.token_issued(counted);
    let mut res = axum::Json::<TokenResponse>(issued.response).into_response();
    no_store(&mut res);
    Ok(res)
}

impl TokenRequest {
    /// What the core issues for it.
    async fn issue(
        self,
        core: &Core,
        client_id: &ClientId,
        client: &ClientEntry,
    ) -> Result<Issued, TokenError> {
        match self {
            TokenRequest::AuthorizationCode {
                code,
                redirect_uri,
                verifier,
            } => exchange::redeem_code(core, client_id, &code, redirect_uri, verifier).await,
            TokenRequest::RefreshToken {
                refresh_token,
                scope,
            } => exchange::refresh(core, client_id, &refresh_token, scope).await,
            TokenRequest::ClientCredentials { scope, categories } => {
                let (scope, categories) = (scope.as_deref(), categories.as_deref());
                tokens::client_credentials(core, client_id.clone(), client, scope, categories).await
            }
        }
    }

    /// The metric a token issued for it is counted under.
    fn counted_as(&self) -> TokenGrant {
        match self {
            TokenRequest::AuthorizationCode { .. } => TokenGrant::AuthorizationCode,
            TokenRequest::RefreshToken { .. } => TokenGrant::RefreshToken,
            TokenRequest::ClientCredentials { .. } => TokenGrant::ClientCredentials,
        }
    }
}

/// Writes a token issued to the access log.
fn log_issue(s: &AppState, client: &ClientEntry, client_id: ClientId, issued: &Issued) {
    s.log_access(AccessEvent {
        vendor_id: client.vendor_id.clone(),
        client_id,
        grant_id: Some(issued.grant_id.clone()),
        endpoint: "POST /oauth/token".into(),
        scopes: issued.scopes,
        ids: Default::default(),
        status: 200,
        withheld: None,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> TokenForm {
        let fields = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
            .collect();
        serde_json::from_value(serde_json::Value::Object(fields)).unwrap()
    }

    fn refused(pairs: &[(&str, &str)]) -> String {
        match TokenRequest::try_from(form(pairs)) {
            Ok(_) => panic!("{pairs:?} was accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn each_grant_type_needs_its_parameters() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        assert_eq!(refused(&[]), "invalid_request: grant_type is missing");
        assert_eq!(
            refused(&[("grant_type", "password")]),
            "unsupported_grant_type: grant_type \"password\" is not supported; use authorization_code, refresh_token or client_credentials"
        );
        assert_eq!(
            refused(&[("grant_type", "authorization_code"), ("redirect_uri", "x")]),
            "invalid_request: code is missing"
        );
        assert_eq!(
            refused(&[("grant_type", "authorization_code"), ("code", "c")]),
            "invalid_request: redirect_uri is missing (send the one of the authorization request)"
        );
        assert_eq!(
            refused(&[
                ("grant_type", "authorization_code"),
                ("code", "c"),
                ("redirect_uri", "x"),
                ("code_verifier", "short"),
            ]),
            "invalid_request: code_verifier must be 43 to 128 unreserved characters"
        );
        assert_eq!(
            refused(&[("grant_type", "refresh_token"), ("scope", "x")]),
            "invalid_request: refresh_token is missing"
        );
        assert!(matches!(
            TokenRequest::try_from(form(&[
                ("grant_type", "authorization_code"),
                ("code", "c"),
                ("redirect_uri", "x"),
                ("code_verifier", verifier),
            ])),
            Ok(TokenRequest::AuthorizationCode { .. })
        ));
        assert!(matches!(
            TokenRequest::try_from(form(&[("grant_type", "client_credentials")])),
            Ok(TokenRequest::ClientCredentials {
                scope: None,
                categories: None
            })
        ));
    }
}
