//! Client authentication: `client_secret_basic` or `client_secret_post`, never both. An unknown
//! client costs the same work as a wrong secret (hash and constant-time compare against a
//! stand-in) and gets the same answer.

use axum::http::{HeaderMap, header};
use carnet_schemas::ClientId;
use data_encoding::{BASE64, BASE64_NOPAD};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::error::OAuthError;
use crate::state::AppState;
use carnet_core::access::ClientEntry;
use carnet_core::credential;

/// Credentials as presented.
pub struct Presented {
    id: String,
    secret: Zeroizing<String>,
}

/// `application/x-www-form-urlencoded` decoding of one credential (RFC 6749 §2.3.1).
fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(s.as_bytes())
        .next()
        .map(|(k, _)| k.into_owned())
        .unwrap_or_default()
}

fn basic(headers: &HeaderMap) -> Result<Option<Presented>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let bad = || {
        OAuthError::InvalidRequest(
            "the Authorization header is not `Basic base64(client_id:client_secret)`".into(),
        )
    };
    let v = value.to_str().map_err(|_| bad())?;
    let (scheme, b64) = v.split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let b64 = b64.trim();
    let raw = Zeroizing::new(
        BASE64
            .decode(b64.as_bytes())
            .or_else(|_| BASE64_NOPAD.decode(b64.as_bytes()))
            .map_err(|_| bad())?,
    );
    let text = std::str::from_utf8(&raw).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    Ok(Some(Presented {
        id: form_decode(id),
        secret: Zeroizing::new(form_decode(secret)),
    }))
}

/// The credentials of a request: from the Authorization header or the form, exactly one.
pub fn presented(
    headers: &HeaderMap,
    form_id: Option<&str>,
    form_secret: Option<&str>,
) -> Result<Presented, OAuthError> {
    match (basic(headers)?, form_id, form_secret) {
        (Some(_), _, Some(_)) => Err(OAuthError::InvalidRequest(
            "use one client authentication method: the Authorization header or client_secret in the body, not both".into(),
        )),
        (Some(p), id, None) => {
            if id.is_some_and(|i| i != p.id) {
                return Err(OAuthError::InvalidRequest(
                    "client_id in the body differs from the Authorization header".into(),
                ));
            }
            Ok(p)
        }
        (None, Some(id), Some(secret)) => Ok(Presented {
            id: id.to_owned(),
            secret: Zeroizing::new(secret.to_owned()),
        }),
        (None, _, _) => Err(OAuthError::InvalidClient),
    }
}

/// Stands in for the secret hash of a client that does not exist.
const NO_CLIENT: [u8; 32] = [0x5c; 32];

/// Checks the credentials; `InvalidClient` for an unknown client and a wrong secret alike.
#[tracing::instrument(skip_all)]
pub fn authenticate(s: &AppState, p: &Presented) -> Result<(ClientId, ClientEntry), OAuthError> {
    let found =
        p.id.parse::<ClientId>()
            .ok()
            .and_then(|id| s.access.client(&id).map(|c| (id, c)));
    let expected = found.as_ref().map_or(NO_CLIENT, |(_, c)| c.secret_hash);
    let presented = credential::hash(&p.secret);
    let matches: bool = presented.ct_eq(&expected).into();
    match found {
        Some(client) if matches => Ok(client),
        _ => Err(OAuthError::InvalidClient),
    }
}
