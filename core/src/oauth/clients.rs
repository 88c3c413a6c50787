//! Client authentication against the in-memory view of clients. An unknown client costs the
//! same work as a wrong secret (hash and constant-time compare against a stand-in) and gets
//! the same answer, so neither can be told apart. How the credentials were presented (header
//! or form) is the adapter's business.

use carnet_schemas::ClientId;
use subtle::ConstantTimeEq;

use crate::access::{AccessCache, ClientEntry};
use crate::credential;

/// Unknown client or wrong secret: one answer for both.
#[derive(Debug, thiserror::Error)]
#[error("client authentication failed: unknown client or wrong secret")]
pub struct InvalidClient;

/// Stands in for the secret hash of a client that does not exist.
const NO_CLIENT: [u8; 32] = [0x5c; 32];

/// The client `id` names, if `secret` is its secret.
#[tracing::instrument(skip_all)]
pub fn authenticate(
    clients: &AccessCache,
    id: &str,
    secret: &str,
) -> Result<(ClientId, ClientEntry), InvalidClient> {
    let found = id
        .parse::<ClientId>()
        .ok()
        .and_then(|id| clients.client(&id).map(|c| (id, c)));
    let expected = found.as_ref().map_or(NO_CLIENT, |(_, c)| c.secret_hash);
    let presented = credential::hash(secret);
    let matches: bool = presented.ct_eq(&expected).into();
    match found {
        Some(client) if matches => Ok(client),
        _ => Err(InvalidClient),
    }
}
