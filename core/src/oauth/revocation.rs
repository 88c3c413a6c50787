//! Revocation (RFC 7009): a client revokes one of its own tokens; a token of another client,
//! or no token at all, is left alone without saying so.
//!
//! - A refresh token ends, with every token of its grant family (the access tokens it and its
//!   predecessors produced): the consent session is over, and a new one needs the owner.
//! - An access token ends alone: the refresh token of its family still works (RFC 7009 §2.1
//!   leaves this to the server; a vendor that drops a token it no longer needs keeps its
//!   session). To end everything, revoke the refresh token.
//!
//! Tokens are found by hash, whatever the client hints they are.

use carnet_schemas::ClientId;

use crate::access::TokenCategories;
use crate::context::Core;
use crate::credential;
use crate::store::StoreError;
use crate::store::access as rows;
use crate::store::consent as consent_rows;

/// Revokes `token` if it is one of `client_id`'s; nothing otherwise.
pub async fn revoke(core: &Core, client_id: &ClientId, token: &str) -> Result<(), StoreError> {
    let hash = credential::hash(token);
    let now = core.now();
    if core
        .access
        .token(&hash)
        .is_some_and(|t| t.client_id == *client_id && !t.refresh)
    {
        core.store
            .write(move |c| rows::revoke_token(c, &hash, now))
            .await?;
        core.access.remove_token(&hash);
        return Ok(());
    }
    let owner = client_id.to_string();
    let revoked = core
        .store
        .write(
            move |c| match consent_rows::refresh_token::<TokenCategories>(c, &hash)? {
                Some(r) if r.row.client_id == owner => {
                    rows::revoke_token(c, &hash, now)?;
                    if let Some(f) = &r.row.family {
                        consent_rows::revoke_family(c, f, now)?;
                    }
                    Ok::<_, StoreError>(Some(r.row.family))
                }
                _ => Ok(None),
            },
        )
        .await?;
    if let Some(family) = revoked {
        core.access.remove_token(&hash);
        if let Some(f) = family {
            core.access.revoke_family(&f);
        }
    }
    Ok(())
}
