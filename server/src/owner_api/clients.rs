//! Connecting vendors as OAuth clients: one confidential client per vendor, its secret shown
//! once and stored as a hash, its webhook secret shown once and kept sealed.

use axum::extract::State;
use axum::http::StatusCode;
use carnet_core::webhooks::new_secret;
use carnet_schemas::{
    Client, ClientCredentials, ClientFields, ClientId, RotateSecret, VendorFields, VendorId,
};
use rusqlite::Connection;

use crate::error::{ApiError, ApiResult};
use crate::extract::{Json, Owner, Path};
use crate::state::AppState;
use carnet_core::access::{ClientEntry, ClientRecord};
use carnet_core::credential::Credential;
use carnet_core::store::access::{self as rows, ClientRow};
use carnet_core::store::records;
use carnet_core::vault::Keys;

fn check(fields: &ClientFields) -> ApiResult<()> {
    if fields.redirect_uris.is_empty() || fields.redirect_uris.len() > 10 {
        return Err(ApiError::invalid(
            "redirect_uris",
            "give between 1 and 10 redirect URIs",
        ));
    }
    Ok(())
}

type StoredClient = (ClientRow<ClientRecord>, ClientRecord);

fn stored(conn: &Connection, keys: &Keys, vendor: &VendorId) -> ApiResult<StoredClient> {
    let row = rows::client_of_vendor::<ClientRecord>(conn, vendor.as_str())?.ok_or_else(|| {
        ApiError::NotFound {
            noun: "client",
            id: format!("for vendor {vendor}"),
            hint: Some(
                "the vendor is not connected: connect it first (`carnet vendor connect`)".into(),
            ),
        }
    })?;
    let record = keys.seal().open(&row.id, &row.sealed)?;
    Ok((row, record))
}

fn to_wire((row, record): StoredClient) -> ApiResult<Client> {
    Ok(Client {
        client_id: row
            .id
            .parse()
            .map_err(|_| ApiError::Internal("bad client id".into()))?,
        vendor_id: row
            .vendor_id
            .parse()
            .map_err(|_| ApiError::Internal("bad vendor id".into()))?,
        redirect_uris: record.redirect_uris,
        webhook_url: record.webhook_url,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

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
    check(&fields)?;
    let client_id: ClientId = s.new_id();
    let secret = Credential::generate();
    let secret_hash = secret.hash();
    let webhook_secret = fields.webhook_url.as_ref().map(|_| new_secret());
    let record = ClientRecord {
        redirect_uris: fields.redirect_uris.clone(),
        webhook_url: fields.webhook_url.clone(),
        webhook_secret: webhook_secret.clone(),
        grant_types: None,
    };
    let now = s.now();
    let row = ClientRow {
        id: client_id.to_string(),
        vendor_id: vendor.to_string(),
        secret_hash: secret_hash.to_vec(),
        verified: true,
        created_at: now,
        updated_at: now,
        sealed: s.keys.seal().seal(client_id.as_str(), &record),
    };
    let v = vendor.clone();
    s.store
        .write(move |c| {
            if records::get::<VendorFields>(c, v.as_str())?.is_none() {
                return Err(ApiError::not_found("vendor", v.as_str()));
            }
            if let Some(existing) = rows::client_of_vendor::<ClientRecord>(c, v.as_str())? {
                return Err(ApiError::conflict(
                    format!("vendor {v} is already connected as client {}", existing.id),
                    "rotate its secret with `carnet vendor rotate-secret`, or disconnect it first",
                ));
            }
            rows::insert_client(c, &row)?;
            Ok(())
        })
        .await?;
    s.access.put_client(
        client_id.clone(),
        ClientEntry {
            grant_types: carnet_core::access::GrantTypes::ALL,
            vendor_id: vendor.clone(),
            secret_hash,
        },
    );
    Ok((
        StatusCode::CREATED,
        Json(ClientCredentials {
            client_id,
            vendor_id: vendor,
            client_secret: Some(secret.expose().to_owned()),
            webhook_secret,
            redirect_uris: fields.redirect_uris,
            webhook_url: fields.webhook_url,
        }),
    ))
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
    let client = s.store.read(|c| stored(c, &s.keys, &vendor))?;
    Ok(Json(to_wire(client)?))
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
    let keys = s.keys.clone();
    let now = s.now();
    let (client_id, revoked) = s
        .store
        .write(move |c| {
            let (row, _) = stored(c, &keys, &vendor)?;
            rows::delete_client(c, &row.id)?;
            // Disconnecting ends the vendor's access, so its live grant ends too.
            let live = rows::grants::<carnet_schemas::GrantFields>(c, Some(vendor.as_str()))?
                .into_iter()
                .filter(|g| g.revoked_at.is_none() && g.expires_at > now)
                .map(|g| g.id)
                .collect::<Vec<_>>();
            for g in &live {
                rows::revoke_grant(c, g, now)?;
            }
            Ok::<_, ApiError>((row.id, live))
        })
        .await?;
    if let Ok(id) = client_id.parse() {
        s.access.remove_client(&id);
    }
    for g in revoked.iter().filter_map(|g| g.parse().ok()) {
        s.access.revoke_grant(&g);
    }
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
    check(&fields)?;
    let now = s.now();
    let state = s.clone();
    let (client, new_webhook) = s
        .store
        .write(move |c| {
            let (mut row, mut record) = stored(c, &state.keys, &vendor)?;
            let new_webhook = match (&fields.webhook_url, &record.webhook_secret) {
                (Some(_), None) => Some(new_secret()),
                _ => None,
            };
            record.redirect_uris = fields.redirect_uris;
            record.webhook_secret = match fields.webhook_url {
                Some(_) => new_webhook.clone().or(record.webhook_secret),
                None => None,
            };
            record.webhook_url = fields.webhook_url;
            let sealed = state.keys.seal().seal(&row.id, &record);
            rows::update_client_blob(c, &row.id, &sealed, now)?;
            row.updated_at = now;
            Ok::<_, ApiError>(((row, record), new_webhook))
        })
        .await?;
    let wire = to_wire(client)?;
    Ok(Json(ClientCredentials {
        client_id: wire.client_id,
        vendor_id: wire.vendor_id,
        client_secret: None,
        webhook_secret: new_webhook,
        redirect_uris: wire.redirect_uris,
        webhook_url: wire.webhook_url,
    }))
}

/// Replace the client secret (its tokens stop working) or, with `webhook`, the webhook secret.
#[utoipa::path(post, path = "/v1/vendors/{id}/client/rotate-secret", tag = "clients", request_body = RotateSecret,
    params(("id" = VendorId, Path, description = "Vendor id")),
    security(("owner" = [])),
    responses((status = 200, description = "The new secret, shown once", body = ClientCredentials)))]
pub async fn rotate_secret(
    _: Owner,
    State(s): State<AppState>,
    Path(vendor): Path<VendorId>,
    Json(what): Json<RotateSecret>,
) -> ApiResult<Json<ClientCredentials>> {
    let now = s.now();
    let state = s.clone();
    let v = vendor.clone();
    let (client, new_secret, new_hash, new_webhook) = s
        .store
        .write(move |c| {
            let (row, mut record) = stored(c, &state.keys, &v)?;
            if what.webhook {
                if record.webhook_url.is_none() {
                    return Err(ApiError::conflict(
                        format!("vendor {v} has no webhook URL, so no webhook secret"),
                        "give the vendor a webhook URL first (`carnet vendor edit-client VENDOR --webhook-url URL`)",
                    ));
                }
                let secret = new_secret();
                record.webhook_secret = Some(secret.clone());
                let sealed = state.keys.seal().seal(&row.id, &record);
                rows::update_client_blob(c, &row.id, &sealed, now)?;
                Ok(((row, record), None, None, Some(secret)))
            } else {
                let secret = Credential::generate();
                let hash = secret.hash();
                rows::update_client_secret(c, &row.id, &hash, now)?;
                rows::revoke_client_tokens(c, &row.id, now)?;
                Ok((
                    (row, record),
                    Some(secret.expose().to_owned()),
                    Some(hash),
                    None,
                ))
            }
        })
        .await?;
    let wire = to_wire(client)?;
    if let Some(hash) = new_hash {
        s.access.rotate_client_secret(&wire.client_id, hash);
    }
    Ok(Json(ClientCredentials {
        client_id: wire.client_id,
        vendor_id: wire.vendor_id,
        client_secret: new_secret,
        webhook_secret: new_webhook,
        redirect_uris: wire.redirect_uris,
        webhook_url: wire.webhook_url,
    }))
}

/// Every connected client.
#[utoipa::path(get, path = "/v1/clients", tag = "clients",
    security(("owner" = [])),
    responses((status = 200, description = "All clients", body = Vec<Client>)))]
pub async fn list(_: Owner, State(s): State<AppState>) -> ApiResult<Json<Vec<Client>>> {
    let rows = s.store.read(rows::clients::<ClientRecord>)?;
    let clients = rows
        .into_iter()
        .map(|row| {
            let record = s.keys.seal().open(&row.id, &row.sealed)?;
            to_wire((row, record))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(clients))
}
