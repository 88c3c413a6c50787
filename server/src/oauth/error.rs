//! Errors of the OAuth endpoints, as RFC 6749 §5.2 bodies (`{"error", "error_description"}`),
//! never cached. Each variant maps to exactly one status.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use carnet_core::oauth::clients::InvalidClient;
use carnet_core::oauth::codes::InvalidVerifier;
use carnet_core::oauth::registration::RegistrationError;
use carnet_core::oauth::tokens::TokenError;
use carnet_schemas::OAuthErrorBody;

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// Unknown client or wrong secret: one answer for both, so neither can be told apart.
    #[error("invalid_client")]
    InvalidClient,
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(String),
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(String),
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    #[error("server_error: {0}")]
    Server(String),
    /// Registration (RFC 7591): a redirect URI is not acceptable.
    #[error("invalid_redirect_uri: {0}")]
    InvalidRedirectUri(String),
    /// Registration: other metadata is not acceptable.
    #[error("invalid_client_metadata: {0}")]
    InvalidClientMetadata(String),
    /// Registration without a valid initial access token (RFC 6750 at the endpoint).
    #[error("invalid_token: {0}")]
    InvalidToken(String),
    /// The client already holds as many unexpired access tokens as it may (429).
    #[error("temporarily_unavailable: {0}")]
    TooManyTokens(String),
    /// Too many open registrations (429 with `Retry-After`, in seconds).
    #[error("temporarily_unavailable: {detail}")]
    TooManyRegistrations { retry_after: u64, detail: String },
}

/// What a client holding too many tokens is told to wait: expired tokens are forgotten
/// within this many seconds.
const TOO_MANY_TOKENS_RETRY_AFTER: &str = "60";

impl OAuthError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            OAuthError::InvalidRequest(d) => {
                (StatusCode::BAD_REQUEST, "invalid_request", d.clone())
            }
            OAuthError::InvalidClient => (
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed: unknown client or wrong secret".into(),
            ),
            OAuthError::InvalidGrant(d) => (StatusCode::BAD_REQUEST, "invalid_grant", d.clone()),
            OAuthError::UnauthorizedClient(d) => {
                (StatusCode::BAD_REQUEST, "unauthorized_client", d.clone())
            }
            OAuthError::UnsupportedGrantType(d) => {
                (StatusCode::BAD_REQUEST, "unsupported_grant_type", d.clone())
            }
            OAuthError::InvalidScope(d) => (StatusCode::BAD_REQUEST, "invalid_scope", d.clone()),
            OAuthError::InvalidRedirectUri(d) => {
                (StatusCode::BAD_REQUEST, "invalid_redirect_uri", d.clone())
            }
            OAuthError::InvalidClientMetadata(d) => (
                StatusCode::BAD_REQUEST,
                "invalid_client_metadata",
                d.clone(),
            ),
            OAuthError::InvalidToken(d) => (StatusCode::UNAUTHORIZED, "invalid_token", d.clone()),
            OAuthError::TooManyRegistrations { detail, .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "temporarily_unavailable",
                detail.clone(),
            ),
            OAuthError::TooManyTokens(d) => (
                StatusCode::TOO_MANY_REQUESTS,
                "temporarily_unavailable",
                d.clone(),
            ),
            OAuthError::Server(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "the server could not complete the request; its log says why".into(),
            ),
        }
    }
}

/// Headers every token-endpoint answer carries (RFC 6749 §5.1).
pub fn no_store(res: &mut Response) {
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        if let OAuthError::Server(detail) = &self {
            tracing::error!(error = %detail, "OAuth request failed");
        }
        let (status, error, description) = self.parts();
        let body = OAuthErrorBody {
            error: error.into(),
            error_description: Some(description),
        };
        let mut res = (status, axum::Json(body)).into_response();
        no_store(&mut res);
        let challenge = match &self {
            OAuthError::InvalidClient => Some(r#"Basic realm="carnet""#),
            OAuthError::InvalidToken(_) => Some(r#"Bearer realm="carnet", error="invalid_token""#),
            _ => None,
        };
        if let Some(c) = challenge {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(c));
        }
        if let OAuthError::TooManyRegistrations { retry_after, .. } = &self
            && let Ok(v) = HeaderValue::from_str(&retry_after.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if let OAuthError::TooManyTokens(_) = self {
            res.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from_static(TOO_MANY_TOKENS_RETRY_AFTER),
            );
        }
        res
    }
}

impl From<carnet_core::store::StoreError> for OAuthError {
    fn from(e: carnet_core::store::StoreError) -> Self {
        OAuthError::Server(e.to_string())
    }
}

impl From<carnet_core::vault::Unreadable> for OAuthError {
    fn from(e: carnet_core::vault::Unreadable) -> Self {
        OAuthError::Server(e.to_string())
    }
}

impl From<InvalidClient> for OAuthError {
    fn from(_: InvalidClient) -> Self {
        OAuthError::InvalidClient
    }
}

impl From<InvalidVerifier> for OAuthError {
    fn from(e: InvalidVerifier) -> Self {
        OAuthError::InvalidRequest(e.to_string())
    }
}

impl From<TokenError> for OAuthError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::NotRegistered(_) | TokenError::NotGranted => {
                OAuthError::UnauthorizedClient(e.to_string())
            }
            TokenError::TooManyTokens(_) => OAuthError::TooManyTokens(e.to_string()),
            TokenError::BadScope(_)
            | TokenError::ScopesOutsideGrant(_)
            | TokenError::CategoryOutsideGrant { .. }
            | TokenError::WiderThanRefreshed(_) => OAuthError::InvalidScope(e.to_string()),
            TokenError::UnknownCode
            | TokenError::CodeMismatch
            | TokenError::CodeExpired
            | TokenError::VerifierMismatch
            | TokenError::CodeReused
            | TokenError::UnknownRefreshToken
            | TokenError::OtherClientsRefreshToken
            | TokenError::RefreshTokenExpired
            | TokenError::RefreshTokenReused
            | TokenError::GrantEnded => OAuthError::InvalidGrant(e.to_string()),
            TokenError::Unreadable(u) => u.into(),
            TokenError::Store(s) => s.into(),
        }
    }
}

impl From<RegistrationError> for OAuthError {
    fn from(e: RegistrationError) -> Self {
        match e {
            RegistrationError::NoInvitation | RegistrationError::BadInvitation => {
                OAuthError::InvalidToken(e.to_string())
            }
            RegistrationError::TooMany { retry_after } => OAuthError::TooManyRegistrations {
                retry_after,
                detail: e.to_string(),
            },
            RegistrationError::RedirectUri(d) => OAuthError::InvalidRedirectUri(d),
            RegistrationError::Metadata(d) => OAuthError::InvalidClientMetadata(d),
            RegistrationError::VendorHasClient => OAuthError::InvalidClientMetadata(e.to_string()),
            RegistrationError::Unreadable(u) => u.into(),
            RegistrationError::Store(s) => s.into(),
        }
    }
}

/// A form body; anything malformed is `invalid_request`.
pub struct Form<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for Form<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = OAuthError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, OAuthError> {
        axum::Form::<T>::from_request(req, state)
            .await
            .map(|axum::Form(v)| Form(v))
            .map_err(|r| {
                OAuthError::InvalidRequest(format!(
                    "{} (send the parameters as application/x-www-form-urlencoded, each once)",
                    r.body_text()
                ))
            })
    }
}
