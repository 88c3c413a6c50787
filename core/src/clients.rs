//! Connecting vendors as OAuth clients: one confidential client per vendor, its secret shown
//! once and stored as a hash, its webhook secret shown once and kept sealed. Disconnecting or
//! rotating the secret stops the vendor's tokens before the call returns.

use carnet_schemas::{
    Client, ClientCredentials, ClientFields, ClientId, RotateSecret, VendorFields, VendorId,
};
use rusqlite::Connection;

use crate::access::{ClientEntry, ClientRecord, GrantTypes};
use crate::context::Core;
use crate::credential::Credential;
use crate::crypto::{Keys, Unreadable};
use crate::store::StoreError;
use crate::store::access::{self as rows, ClientRow};
use crate::store::records;
use crate::webhooks::new_secret;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("no vendor {0}")]
    NoVendor(VendorId),
    /// The vendor has no client.
    #[error("vendor {0} is not connected")]
    NotConnected(VendorId),
    #[error("vendor {vendor} is already connected as client {client}")]
    AlreadyConnected { vendor: VendorId, client: String },
    /// A webhook secret was asked of a client without a webhook URL.
    #[error("vendor {0} has no webhook URL, so no webhook secret")]
    NoWebhookUrl(VendorId),
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn check(fields: &ClientFields) -> Result<(), ClientError> {
    if fields.redirect_uris.is_empty() || fields.redirect_uris.len() > 10 {
        return Err(ClientError::Invalid {
            field: "redirect_uris",
            message: "give between 1 and 10 redirect URIs".into(),
        });
    }
    Ok(())
}

type StoredClient = (ClientRow<ClientRecord>, ClientRecord);

fn stored(conn: &Connection, keys: &Keys, vendor: &VendorId) -> Result<StoredClient, ClientError> {
    let row = rows::client_of_vendor::<ClientRecord>(conn, vendor.as_str())?
        .ok_or_else(|| ClientError::NotConnected(vendor.clone()))?;
    let record = keys.seal().open(&row.id, &row.sealed)?;
    Ok((row, record))
}

fn to_wire((row, record): StoredClient) -> Result<Client, ClientError> {
    let unreadable = || Unreadable {
        table: "clients",
        id: row.id.clone(),
    };
    Ok(Client {
        client_id: row.id.parse().map_err(|_| unreadable())?,
        vendor_id: row.vendor_id.parse().map_err(|_| unreadable())?,
        redirect_uris: record.redirect_uris,
        webhook_url: record.webhook_url,
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

/// What a change of secrets answers: the client, and the secrets made now (shown once).
fn credentials(
    client: Client,
    client_secret: Option<String>,
    webhook_secret: Option<String>,
) -> ClientCredentials {
    ClientCredentials {
        client_id: client.client_id,
        vendor_id: client.vendor_id,
        client_secret,
        webhook_secret,
        redirect_uris: client.redirect_uris,
        webhook_url: client.webhook_url,
    }
}

/// Connects `vendor` as an OAuth client; the answer holds its secrets, never shown again.
pub async fn connect(
    core: &Core,
    vendor: VendorId,
    fields: ClientFields,
) -> Result<ClientCredentials, ClientError> {
    check(&fields)?;
    let client_id: ClientId = core.new_id();
    let secret = Credential::generate();
    let secret_hash = secret.hash();
    let webhook_secret = fields.webhook_url.as_ref().map(|_| new_secret());
    let record = ClientRecord {
        redirect_uris: fields.redirect_uris.clone(),
        webhook_url: fields.webhook_url.clone(),
        webhook_secret: webhook_secret.clone(),
        grant_types: None,
    };
    let now = core.now();
    let row = ClientRow {
        id: client_id.to_string(),
        vendor_id: vendor.to_string(),
        secret_hash: secret_hash.to_vec(),
        verified: true,
        created_at: now,
        updated_at: now,
        sealed: core.keys.seal().seal(client_id.as_str(), &record),
    };
    let v = vendor.clone();
    core.store
        .write(move |c| {
            if records::get::<VendorFields>(c, v.as_str())?.is_none() {
                return Err(ClientError::NoVendor(v));
            }
            if let Some(existing) = rows::client_of_vendor::<ClientRecord>(c, v.as_str())? {
                return Err(ClientError::AlreadyConnected {
                    vendor: v,
                    client: existing.id,
                });
            }
            rows::insert_client(c, &row)?;
            Ok::<_, ClientError>(())
        })
        .await?;
    core.access.put_client(
        client_id.clone(),
        ClientEntry {
            grant_types: GrantTypes::ALL,
            vendor_id: vendor.clone(),
            secret_hash,
        },
    );
    Ok(ClientCredentials {
        client_id,
        vendor_id: vendor,
        client_secret: Some(secret.expose().to_owned()),
        webhook_secret,
        redirect_uris: fields.redirect_uris,
        webhook_url: fields.webhook_url,
    })
}

/// A vendor's client (no secrets).
pub fn show(core: &Core, vendor: &VendorId) -> Result<Client, ClientError> {
    to_wire(core.store.read(|c| stored(c, &core.keys, vendor))?)
}

/// Disconnects `vendor`: its client, its live grant and every token stop working at once.
pub async fn disconnect(core: &Core, vendor: VendorId) -> Result<(), ClientError> {
    let keys = core.keys.clone();
    let now = core.now();
    let (client_id, revoked) = core
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
            Ok::<_, ClientError>((row.id, live))
        })
        .await?;
    if let Ok(id) = client_id.parse() {
        core.access.remove_client(&id);
    }
    for g in revoked.iter().filter_map(|g| g.parse().ok()) {
        core.access.revoke_grant(&g);
    }
    Ok(())
}

/// Changes a connected vendor's redirect URIs and webhook URL; its secrets, grant and tokens
/// stay. A webhook URL where there was none comes with a new webhook secret (in the answer);
/// no webhook URL removes the URL and its secret.
pub async fn replace(
    core: &Core,
    vendor: VendorId,
    fields: ClientFields,
) -> Result<ClientCredentials, ClientError> {
    check(&fields)?;
    let now = core.now();
    let state = core.clone();
    let (client, new_webhook) = core
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
            Ok::<_, ClientError>(((row, record), new_webhook))
        })
        .await?;
    Ok(credentials(to_wire(client)?, None, new_webhook))
}

/// Replaces the client secret (its tokens stop working) or, with `webhook`, the webhook
/// secret; the new one is in the answer only.
pub async fn rotate_secret(
    core: &Core,
    vendor: VendorId,
    what: RotateSecret,
) -> Result<ClientCredentials, ClientError> {
    let now = core.now();
    let state = core.clone();
    let v = vendor.clone();
    let (client, client_secret, new_hash, new_webhook) = core
        .store
        .write(move |c| {
            let (row, mut record) = stored(c, &state.keys, &v)?;
            if what.webhook {
                if record.webhook_url.is_none() {
                    return Err(ClientError::NoWebhookUrl(v));
                }
                let secret = new_secret();
                record.webhook_secret = Some(secret.clone());
                let sealed = state.keys.seal().seal(&row.id, &record);
                rows::update_client_blob(c, &row.id, &sealed, now)?;
                Ok::<_, ClientError>(((row, record), None, None, Some(secret)))
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
        core.access.rotate_client_secret(&wire.client_id, hash);
    }
    Ok(credentials(wire, client_secret, new_webhook))
}

/// Every connected client.
pub fn list(core: &Core) -> Result<Vec<Client>, ClientError> {
    core.store
        .read(rows::clients::<ClientRecord>)?
        .into_iter()
        .map(|row| {
            let record = core.keys.seal().open(&row.id, &row.sealed)?;
            to_wire((row, record))
        })
        .collect()
}
