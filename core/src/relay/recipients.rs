//! Who a `sealed` or `notify` intent goes to: the market directory's vendors that the owner
//! added to the vault (`directory_id`) and whose live grant reads intents (`intents:read`) in
//! the intent's category — checked each time a revision is written, so a grant revoked or
//! narrowed keeps its vendor out of every later revision and intent. An offer through the relay
//! to such an intent is taken only from one of them, checked again when it arrives.
//!
//! Reads the grants from the access cache, the vendors' directory links from the vault, and
//! their X25519 keys from the directory carnetd holds (`Core::directory`); never the relay.

use carnet_market::keys::Recipient as Key;
use carnet_market::wire::VendorId as DirectoryId;
use carnet_schemas::{Category, ClientId, GrantId, VendorFields, VendorId};
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::context::Core;
use crate::store::StoreError;
use crate::store::records;

/// A vendor a box is encrypted to.
#[derive(Debug, Clone)]
pub struct Recipient {
    pub vendor_id: VendorId,
    pub grant_id: GrantId,
    pub directory_id: DirectoryId,
    /// Its directory X25519 key.
    pub key: Key,
}

/// A recipient as the access log names it once its publication is acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Logged {
    pub vendor_id: VendorId,
    pub client_id: ClientId,
    pub grant_id: GrantId,
}

/// The vendors entitled at `now` to an intent of `category` at `sealed` or `notify`, by
/// directory id (no vendor twice). Empty without a market directory.
pub fn entitled(
    c: &Connection,
    core: &Core,
    category: &Category,
    now: DateTime<Utc>,
) -> Result<Vec<Recipient>, StoreError> {
    let Some(directory) = &core.directory else {
        return Ok(Vec::new());
    };
    let mut out: Vec<Recipient> = Vec::new();
    for (grant_id, grant) in core.access.live_grants(now) {
        if !grant.reads_intents_in(category) {
            continue;
        }
        let Some(directory_id) = directory_link(c, core, &grant.vendor_id)? else {
            continue;
        };
        let listed = directory
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .vendor(&directory_id)
            .and_then(|v| v.x25519.parse::<Key>().ok());
        let Some(key) = listed else {
            continue;
        };
        if out.iter().any(|r| r.directory_id == directory_id) {
            continue;
        }
        out.push(Recipient {
            vendor_id: grant.vendor_id,
            grant_id,
            directory_id,
            key,
        });
    }
    out.sort_by(|a, b| a.directory_id.as_str().cmp(b.directory_id.as_str()));
    Ok(out)
}

/// Whether directory vendor `who` is entitled to an intent of `category` at `now`.
pub fn is_entitled(
    c: &Connection,
    core: &Core,
    category: &Category,
    who: &DirectoryId,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    Ok(entitled(c, core, category, now)?
        .iter()
        .any(|r| r.directory_id == *who))
}

/// The recipients as the access log will name them: under the vendor's OAuth client, or
/// `RELAY_CLIENT` for a directory vendor that has none (it hears of intents through the relay
/// alone).
pub fn logged(core: &Core, recipients: &[Recipient]) -> Vec<Logged> {
    recipients
        .iter()
        .map(|r| Logged {
            vendor_id: r.vendor_id.clone(),
            client_id: core
                .access
                .client_of_vendor(&r.vendor_id)
                .unwrap_or_else(relay_client),
            grant_id: r.grant_id.clone(),
        })
        .collect()
}

/// The client id an access-log entry names when its vendor has no OAuth client: all zeros
/// (`cli_000…`), which no registered client ever has.
pub fn relay_client() -> ClientId {
    carnet_schemas::Id::from_random(&[0u8; carnet_schemas::ids::ID_RANDOM_BYTES])
}

/// The directory id of the vault's vendor `vendor`, if it was added from the directory.
fn directory_link(
    c: &Connection,
    core: &Core,
    vendor: &VendorId,
) -> Result<Option<DirectoryId>, StoreError> {
    let Some(row) = records::get::<VendorFields>(c, vendor.as_str())? else {
        return Ok(None);
    };
    let Ok(fields) = core.keys.seal().open::<VendorFields>(&row.id, &row.sealed) else {
        return Ok(None);
    };
    Ok(fields
        .directory_id
        .and_then(|d| d.as_str().parse::<DirectoryId>().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relay_client_id_is_all_zeros_and_a_valid_client_id() {
        let id = relay_client();
        assert_eq!(id.as_str(), "cli_0000000000000000");
        assert_eq!(id.as_str().parse::<ClientId>().unwrap(), id);
    }
}
