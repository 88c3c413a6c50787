//! Vendors as OAuth clients over HTTP: `/v1/vendors/{id}/client` and `/v1/clients` (the
//! rules are `carnet_core::clients`).

use axum::extract::State;
use axum::http::StatusCode;
use carnet_core::clients;
use carnet_schemas::{Client, ClientCredentials, ClientFields, RotateSecret, VendorId};

use crate::error::ApiResult;
use crate::extract::{Json, Owner, Path};
use crate::state::AppState;

/// Connect a vendor as an OAuth client; the secrets are shown in this answer only.
#[utoipa::path(post, path = "/v1/vendors/{id}/client", tag = "clients", request_body = ClientFields,
    params(("id" = VendorId, Path, description = "Vendor id")),
    security(("owner" = [])),
    responses(
        (status = 201, description = "Connected; keep the secrets now, they are not shown again", body = ClientCredentials),
        (status = 409, description = "The vendor is already connected", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn connect(
    _: Owner,
    State(s): State<AppState>,
    Path(vendor): Path<VendorId>,
    Json(fields): Json<ClientFields>,
) -> ApiResult<(StatusCode, Json<ClientCredentials>)> {
    let created = clients::connect(&s, vendor, fields).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// A vendor's client (no secrets).
#[utoipa::path(get, path = "/v1/vendors/{id}/client", tag = "clients",
    params(("id" = VendorId, Path, description = "Vendor id")),
    security(("owner" = [])),
    responses((status = 200, description = "The client", body = Client)))]
pub async fn show(
    _: Owner,
    State(s): State<AppState>,
    Path(vendor): Path<VendorId>,
) -> ApiResult<Json<Client>> {
    Ok(Json(clients::show(&s, &vendor)?))
}

/// Disconnect a vendor: its client, its live grant and every token stop working at once.
#[utoipa::path(delete, path = "/v1/vendors/{id}/client", tag = "clients",
    params(("id" = VendorId, Path, description = "Vendor id")),
    security(("owner" = [])),
    responses((status = 204, description = "Disconnected")))]
pub async fn disconnect(
    _: Owner,
    State(s): State<AppState>,
    Path(vendor): Path<VendorId>,
) -> ApiResult<StatusCode> {
    clients::disconnect(&s, vendor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Change a connected vendor's redirect URIs and webhook URL; its secrets, grant and tokens
/// stay. A webhook URL given where there was none comes with a new webhook secret, shown in
/// this answer only; no webhook URL removes the URL and its secret.
#[utoipa::path(put, path = "/v1/vendors/{id}/client", tag = "clients", request_body = ClientFields,
    params(("id" = VendorId, Path, description = "Vendor id")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "Changed; `webhook_secret` only when a new one was made", body = ClientCredentials),
        (status = 404, description = "The vendor is not connected", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn replace(
    _: Owner,
    State(s): State<AppState>,
    Path(vendor): Path<VendorId>,
    Json(fields): Json<ClientFields>,
) -> ApiResult<Json<ClientCredentials>> {
    Ok(Json(clients::replace(&s, vendor, fields).await?))
}

/// Replace the client secret (its tokens stop working) or, with `webhook`, the webhook secret.
#[utoipa::path(post, path = "/v1/vendors/{id}/client/rotate-secret", tag = "clients", request_body = RotateSecret,
    params(("id" = VendorId, Path, description = "Vendor id")),
    security(("owner" = [])),
    responses(
        (status = 200, description = "The new secret, shown once", body = ClientCredentials),
        (status = 409, description = "A webhook secret was asked for, and the client has no webhook URL", body = carnet_schemas::Problem, content_type = "application/problem+json")))]
pub async fn rotate_secret(
    _: Owner,
    State(s): State<AppState>,
    Path(vendor): Path<VendorId>,
    Json(what): Json<RotateSecret>,
) -> ApiResult<Json<ClientCredentials>> {
    Ok(Json(clients::rotate_secret(&s, vendor, what).await?))
}

/// Every connected client.
#[utoipa::path(get, path = "/v1/clients", tag = "clients",
    security(("owner" = [])),
    responses((status = 200, description = "All clients", body = Vec<Client>)))]
pub async fn list(_: Owner, State(s): State<AppState>) -> ApiResult<Json<Vec<Client>>> {
    Ok(Json(clients::list(&s)?))
}
