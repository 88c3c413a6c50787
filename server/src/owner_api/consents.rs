//! The owner's side of the consent flow: answering consent requests from the terminal,
//! inviting a vendor to register its own client, and setting the web password.

use axum::extract::State;
use axum::http::StatusCode;
use carnet_schemas::{
    ConsentDecision, Grant, Invitation, PendingConsent, VendorFields, VendorId, WebPassword,
};
use chrono::Duration;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner, Path};
use crate::state::AppState;
use carnet_core::access::password::{self, SetError};
use carnet_core::consent::Pending;
use carnet_core::consent::{approve as approve_request, deny as deny_request};
use carnet_core::credential::Credential;
use carnet_core::store::consent as rows;
use carnet_core::store::records;

/// How long an invitation to register lasts.
pub const INVITE_HOURS: i64 = 24;

fn to_wire(p: Pending) -> PendingConsent {
    PendingConsent {
        code: p.short_code,
        client_id: p.asked.client_id,
        vendor_id: p.asked.vendor_id,
        vendor_name: p.asked.vendor_name,
        verified: p.asked.verified,
        looks_like: p.asked.looks_like,
        scopes: p.asked.scopes.iter().collect(),
        requested_categories: p.asked.requested_categories,
        redirect_uri: p.asked.redirect_uri,
        created_at: p.created_at,
        expires_at: p.expires_at,
    }
}

fn waiting(s: &AppState, code: &str) -> ApiResult<Pending> {
    s.consents.waiting(code, s.now()).ok_or_else(|| ApiError::NotFound {
        noun: "consent request",
        id: code.to_owned(),
        hint: Some("it may have expired (10 minutes) or been answered; `carnet consent list` shows those waiting".into()),
    })
}

/// Consent requests waiting for an answer, oldest first.
#[utoipa::path(get, path = "/v1/consents", tag = "consent",
    security(("owner" = [])),
    responses((status = 200, description = "Waiting consent requests", body = Vec<PendingConsent>)))]
pub async fn list(_: Owner, State(s): State<AppState>) -> Json<Vec<PendingConsent>> {
    Json(
        s.consents
            .all_waiting(s.now())
            .into_iter()
            .map(to_wire)
            .collect(),
    )
}

/// Approve a consent request shown on the consent page by its code; the page then continues.
#[utoipa::path(post, path = "/v1/consents/{code}/approve", tag = "consent", request_body = ConsentDecision,
    params(("code" = String, Path, description = "The code shown on the consent page, e.g. K7QM-2XPA")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "Granted; the vendor gets its code when the page continues", body = Grant),
        (status = 409, description = "The request was denied meanwhile (on the page)", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn approve(
    _: Owner,
    State(s): State<AppState>,
    Path(code): Path<String>,
    Json(d): Json<ConsentDecision>,
) -> ApiResult<Json<Grant>> {
    let p = waiting(&s, &code)?;
    let categories = if d.categories.is_empty() && !d.all_categories {
        p.asked.requested_categories.clone()
    } else {
        d.categories
    };
    if categories.is_empty() && !d.all_categories {
        return Err(ApiError::invalid(
            "categories",
            "the vendor named no categories: choose some, or all_categories",
        ));
    }
    let grant = approve_request(
        &s,
        &s.consents,
        &p,
        categories,
        d.all_categories,
        d.days,
        "owner-cli-consent",
    )
    .await?;
    Ok(Json(grant))
}

/// Deny a consent request; the page then sends the vendor `access_denied`.
#[utoipa::path(post, path = "/v1/consents/{code}/deny", tag = "consent",
    params(("code" = String, Path, description = "The code shown on the consent page")),
    security(("owner" = [])),
    responses(
        (status = 204, description = "Denied"),
        (status = 409, description = "The request was answered meanwhile (on the page)", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn deny(
    _: Owner,
    State(s): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<StatusCode> {
    let p = waiting(&s, &code)?;
    if !deny_request(&s.consents, &p.id).await {
        return Err(ApiError::conflict(
            format!("consent request {code} was answered meanwhile"),
            "`carnet consent list` shows those still waiting",
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Invite a vendor to register its own OAuth client (`POST /oauth/register`); the token works
/// once, for 24 hours. The client will show as unverified on the consent page.
#[utoipa::path(post, path = "/v1/vendors/{id}/invite", tag = "clients",
    params(("id" = VendorId, Path, description = "Vendor id")),
    security(("owner" = [])),
    responses(
        (status = 201, description = "An initial access token, shown once", body = Invitation),
        (status = 409, description = "The vendor already has a client", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn invite(
    _: Owner,
    State(s): State<AppState>,
    Path(vendor): Path<VendorId>,
) -> ApiResult<(StatusCode, Json<Invitation>)> {
    let token = Credential::generate();
    let hash = token.hash();
    let now = s.now();
    let expires_at = now + Duration::hours(INVITE_HOURS);
    let v = vendor.clone();
    s.store
        .write(move |c| {
            if records::get::<VendorFields>(c, v.as_str())?.is_none() {
                return Err(ApiError::not_found("vendor", v.as_str()));
            }
            if carnet_core::store::access::client_of_vendor::<carnet_core::access::ClientRecord>(c, v.as_str())?
                .is_some()
            {
                return Err(ApiError::conflict(
                    format!("vendor {v} already has a client, so it cannot register another"),
                    "disconnect it first (`carnet vendor disconnect`), or keep using the one it has",
                ));
            }
            rows::insert_invite(c, &hash, v.as_str(), now, expires_at)?;
            Ok(())
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Invitation {
            vendor_id: vendor,
            initial_access_token: token.expose().to_owned(),
            registration_endpoint: format!(
                "{}/oauth/register",
                s.settings.public_url.trim_end_matches('/')
            ),
            expires_at,
        }),
    ))
}

/// Set the password that signs the owner in on the consent page.
#[utoipa::path(put, path = "/v1/password", tag = "consent", request_body = WebPassword,
    security(("owner" = [])),
    responses(
        (status = 204, description = "Set"),
        (status = 429, description = "Password hashes are queued beyond the limit: try again after Retry-After", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn set_password(
    _: Owner,
    State(s): State<AppState>,
    Json(w): Json<WebPassword>,
) -> ApiResult<StatusCode> {
    let password = zeroize::Zeroizing::new(w.password);
    password::set(&s.store, &s.slow_hashes, password)
        .await
        .map_err(|e| match e {
            SetError::ControlCharacter | SetError::TooShort => {
                ApiError::invalid("password", e.to_string())
            }
            SetError::Busy { retry_after } => ApiError::TooMany {
                what: "password changes",
                retry_after,
            },
            SetError::Failed(e) => ApiError::Internal(e),
            SetError::Store(e) => ApiError::Store(e),
        })?;
    Ok(StatusCode::NO_CONTENT)
}
