//! `POST /oauth/register` (RFC 7591): reads the initial access token and the metadata, and
//! answers with what `carnet_core::oauth::registration` registers (off unless open
//! registration is set or the request carries an invitation from `carnet vendor invite`).
//! The client's secret is in the answer, shown once and never cached.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use carnet_core::oauth::registration::{self, Registrant};
use carnet_schemas::{RegistrationRequest, RegistrationResponse};

use super::error::{OAuthError, no_store};
use crate::client_ip::ClientIp;
use crate::extract::{BodyRejection, bearer_token, object_body};
use crate::state::AppState;

/// Register a client (RFC 7591).
#[utoipa::path(post, path = "/oauth/register", tag = "oauth",
    request_body(content = RegistrationRequest, content_type = "application/json"),
    responses(
        (status = 201, description = "Registered; the secret is shown once", body = RegistrationResponse),
        (status = 400, description = "invalid_redirect_uri or invalid_client_metadata", body = carnet_schemas::OAuthErrorBody),
        (status = 401, description = "No valid initial access token, and open registration is off", body = carnet_schemas::OAuthErrorBody),
        (status = 429, description = "temporarily_unavailable: too many open registrations from this address or in all (Retry-After)", body = carnet_schemas::OAuthErrorBody)),
    security((), ("initial_access_token" = [])))]
pub async fn register(
    State(s): State<AppState>,
    ClientIp(ip): ClientIp,
    req: Request,
) -> Result<Response, OAuthError> {
    // An empty token is an invitation too (one that will not be found).
    let invite = bearer_token(req.headers()).ok().map(str::to_owned);
    let now = s.now();
    let registrant = registration::admit(
        &s.registrations,
        s.settings.open_registration,
        invite,
        ip,
        now,
    )?;
    let registered = create(&s, &registrant, req).await;
    if registered.is_err() {
        registrant.refused(&s.registrations, now);
    }
    let mut res = (StatusCode::CREATED, axum::Json(registered?)).into_response();
    no_store(&mut res);
    Ok(res)
}

async fn create(
    s: &AppState,
    registrant: &Registrant,
    req: Request,
) -> Result<RegistrationResponse, OAuthError> {
    let body = object_body::<RegistrationRequest, _>(req, s)
        .await
        .map_err(|e| {
            OAuthError::InvalidClientMetadata(match e {
                BodyRejection::Json(r) => r.body_text(),
                BodyRejection::NotAnObject(found) => {
                    format!("the client metadata must be a JSON object, not {found}")
                }
            })
        })?;
    Ok(registration::register(s, registrant, body).await?)
}
