//! Client authentication at the token, revocation and introspection endpoints:
//! `client_secret_basic` or `client_secret_post`, never both. `Authenticated` reads the form
//! and the credentials it or the Authorization header carries, and checks them
//! (`carnet_core::oauth::clients`: an unknown client and a wrong secret get the same answer).

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, header};
use carnet_core::access::ClientEntry;
use carnet_core::oauth::clients;
use carnet_schemas::ClientId;
use data_encoding::{BASE64, BASE64_NOPAD};
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use super::error::{Form, OAuthError};
use crate::state::AppState;

/// A form that may carry `client_secret_post` credentials.
pub trait PostedCredentials {
    /// Its `client_id` and `client_secret`.
    fn posted(&self) -> (Option<&str>, Option<&str>);
}

/// A form `T` from a client whose credentials check out.
pub struct Authenticated<T> {
    pub client_id: ClientId,
    pub client: ClientEntry,
    pub form: T,
}

impl<T> FromRequest<AppState> for Authenticated<T>
where
    T: DeserializeOwned + PostedCredentials,
{
    type Rejection = OAuthError;

    async fn from_request(req: Request, s: &AppState) -> Result<Self, OAuthError> {
        let authorization = req.headers().get(header::AUTHORIZATION).cloned();
        let Form(form) = Form::<T>::from_request(req, s).await?;
        let (id, secret) = form.posted();
        let presented = presented(authorization.as_ref(), id, secret)?;
        let (client_id, client) =
            clients::authenticate(&s.access, &presented.id, &presented.secret)?;
        Ok(Authenticated {
            client_id,
            client,
            form,
        })
    }
}

/// Credentials as presented.
struct Presented {
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

fn basic(authorization: Option<&HeaderValue>) -> Result<Option<Presented>, OAuthError> {
    let Some(value) = authorization else {
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
fn presented(
    authorization: Option<&HeaderValue>,
    form_id: Option<&str>,
    form_secret: Option<&str>,
) -> Result<Presented, OAuthError> {
    match (basic(authorization)?, form_id, form_secret) {
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
