//! The security schemes operations name: the owner token, vendors as OAuth 2.0 clients (with
//! the flows carnetd serves and every scope a grant can hold), client authentication at the
//! token endpoints, and the initial access token of `carnet vendor invite`.

use carnet_schemas::Scope;
use utoipa::Modify;
use utoipa::openapi::OpenApi;
use utoipa::openapi::security::{
    AuthorizationCode, ClientCredentials, Flow, Http, HttpAuthScheme, OAuth2, Scopes,
    SecurityScheme,
};

pub struct Schemes;

/// Where the flows are, relative to the server (OpenAPI 3.1 resolves them against it).
const AUTHORIZE: &str = "/oauth/authorize";
const TOKEN: &str = "/oauth/token";

fn scopes() -> Scopes {
    Scope::ALL
        .into_iter()
        .map(|s| (s.as_str(), s.describe()))
        .collect()
}

impl Modify for Schemes {
    fn modify(&self, api: &mut OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some("The owner token, from `owner.token` in the data dir".into());
        components.add_security_scheme("owner", SecurityScheme::Http(bearer));
        let vendor = OAuth2::with_description(
            [
                Flow::AuthorizationCode(AuthorizationCode::new(AUTHORIZE, TOKEN, scopes())),
                Flow::ClientCredentials(ClientCredentials::new(TOKEN, scopes())),
            ],
            "A vendor access token from /oauth/token, sent as `Authorization: Bearer`: by the \
             authorization code flow (PKCE S256 required; the owner consents on the page) or by \
             client credentials (only what the owner pre-granted). Refresh tokens rotate. \
             The server's metadata (RFC 8414): /.well-known/oauth-authorization-server.",
        );
        components.add_security_scheme("vendor", SecurityScheme::OAuth2(vendor));
        let mut basic = Http::new(HttpAuthScheme::Basic);
        basic.description = Some(
            "OAuth client authentication (client_secret_basic); client_secret_post sends client_id and client_secret in the form instead".into(),
        );
        components.add_security_scheme("client_secret_basic", SecurityScheme::Http(basic));
        let mut iat = Http::new(HttpAuthScheme::Bearer);
        iat.description = Some("An initial access token from `carnet vendor invite`".into());
        components.add_security_scheme("initial_access_token", SecurityScheme::Http(iat));
    }
}
