//! The authorization request (RFC 6749 §4.1.1, RFC 7636), read and checked: first the client
//! and its redirect URI (until both check out, nothing may be redirected), then the rest
//! (refused at the redirect URI). Every parameter is length-limited before it is read.

use axum::http::StatusCode;
use axum::response::Response;
use carnet_core::access::ClientRecord;
use carnet_core::consent::MAX_PARAM_BYTES;
use carnet_core::oauth::codes;
use carnet_core::store::access as rows;
use carnet_core::store::records;
use carnet_schemas::{Category, ClientId, ScopeSet, VendorFields, VendorId};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::oauth::{page, redirect};
use crate::state::AppState;

/// Authorization request parameters (RFC 6749 §4.1.1, RFC 7636).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuthorizeQuery {
    /// `code`.
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    /// Exactly as registered (a loopback URI may differ in port only).
    pub redirect_uri: Option<String>,
    /// Space-separated scopes.
    pub scope: Option<String>,
    pub state: Option<String>,
    /// base64url(SHA-256(code_verifier)).
    pub code_challenge: Option<String>,
    /// `S256` (required).
    pub code_challenge_method: Option<String>,
    /// Space-separated categories the vendor asks for; the owner chooses.
    pub categories: Option<String>,
}

/// A client as the authorization request names it.
pub(super) struct Client {
    pub(super) id: ClientId,
    pub(super) record: ClientRecord,
    /// Whether the owner connected it (not a client that registered itself).
    pub(super) verified: bool,
    pub(super) vendor_id: VendorId,
}

/// The client asking, if it exists.
fn client(s: &AppState, id: Option<&str>) -> Option<Client> {
    let id: ClientId = id?.parse().ok()?;
    let row = s
        .store
        .read(|c| rows::client::<ClientRecord>(c, id.as_str()))
        .ok()??;
    let record = s.keys.seal().open(&row.id, &row.sealed).ok()?;
    Some(Client {
        id,
        record,
        verified: row.verified,
        vendor_id: row.vendor_id.parse().ok()?,
    })
}

/// Why an authorization request cannot be answered at a redirect URI: shown on an error page.
pub(super) enum Unanswerable {
    TooLong,
    UnknownClient,
    WrongRedirect,
}

impl Unanswerable {
    pub(super) fn page(self) -> Response {
        let (title, detail) = match self {
            Unanswerable::TooLong => (
                "This request is too long",
                "The link that brought you here names its application or return address with more characters than Carnet accepts.",
            ),
            Unanswerable::UnknownClient => (
                "Unknown application",
                "This application is not connected to your Carnet, so it cannot ask for access.",
            ),
            Unanswerable::WrongRedirect => (
                "Wrong return address",
                "The application asked to send you back to an address it did not register. Carnet will not send you there.",
            ),
        };
        page::error(StatusCode::BAD_REQUEST, title, detail)
    }
}

/// The client and the redirect URI to answer it at: the one given, if registered; the only
/// one registered, if none is given.
pub(super) fn client_and_redirect(
    s: &AppState,
    q: &AuthorizeQuery,
) -> Result<(Client, String), Unanswerable> {
    if [&q.client_id, &q.redirect_uri]
        .iter()
        .any(|v| v.as_ref().is_some_and(|v| v.len() > MAX_PARAM_BYTES))
    {
        return Err(Unanswerable::TooLong);
    }
    let client = client(s, q.client_id.as_deref()).ok_or(Unanswerable::UnknownClient)?;
    let registered = &client.record.redirect_uris;
    let redirect_uri = match q.redirect_uri.as_deref() {
        Some(given) if registered.iter().any(|r| redirect::matches(r, given)) => given.to_owned(),
        None if registered.len() == 1 => registered[0].to_string(),
        _ => return Err(Unanswerable::WrongRedirect),
    };
    Ok((client, redirect_uri))
}

/// What the vendor asks for, checked.
pub(super) struct Asked {
    pub(super) state: Option<String>,
    pub(super) code_challenge: String,
    pub(super) scopes: ScopeSet,
    pub(super) requested_categories: Vec<Category>,
}

/// Checks the rest of the request; a refusal is the RFC 6749 `error` and its description.
pub(super) fn read_request(q: &AuthorizeQuery) -> Result<Asked, (&'static str, String)> {
    let invalid = |description: &str| ("invalid_request", description.to_owned());
    for (name, value) in [
        ("scope", &q.scope),
        ("categories", &q.categories),
        ("code_challenge", &q.code_challenge),
        ("response_type", &q.response_type),
        ("code_challenge_method", &q.code_challenge_method),
    ] {
        if value.as_ref().is_some_and(|v| v.len() > MAX_PARAM_BYTES) {
            return Err(invalid(&format!(
                "{name} is longer than {MAX_PARAM_BYTES} bytes"
            )));
        }
    }
    if q.response_type.as_deref() != Some("code") {
        return Err((
            "unsupported_response_type",
            "only response_type=code is supported".into(),
        ));
    }
    let Some(code_challenge) = q
        .code_challenge
        .clone()
        .filter(|c| codes::valid_challenge(c))
    else {
        return Err(invalid(
            "PKCE is required: send code_challenge (43 base64url characters) with code_challenge_method=S256",
        ));
    };
    if q.code_challenge_method.as_deref() != Some("S256") {
        return Err(invalid(
            "code_challenge_method must be S256 (plain is not accepted)",
        ));
    }
    let scopes = match q.scope.as_deref().map(ScopeSet::parse_oauth) {
        Some(Ok(s)) if !s.is_empty() => s,
        Some(Err(e)) => return Err(("invalid_scope", e.0)),
        _ => return Err(("invalid_scope", "ask for at least one scope".into())),
    };
    let requested_categories = q
        .categories
        .as_deref()
        .unwrap_or("")
        .split(' ')
        .filter(|c| !c.is_empty())
        .map(str::parse::<Category>)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(&e.0))?;
    Ok(Asked {
        state: q.state.clone(),
        code_challenge,
        scopes,
        requested_categories,
    })
}

/// The vendor's record, if it opens.
pub(super) fn vendor_of(s: &AppState, vendor_id: &VendorId) -> Option<VendorFields> {
    let row = s
        .store
        .read(|c| records::get::<VendorFields>(c, vendor_id.as_str()))
        .ok()??;
    s.keys
        .seal()
        .open::<VendorFields>(&row.id, &row.sealed)
        .ok()
}
