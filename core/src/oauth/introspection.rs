//! Introspection (RFC 7662): whether a token of the asking client is active — an access token
//! (`token_type` `Bearer`), or a refresh token (`token_type` `refresh_token`, live while unused,
//! unrevoked, unexpired and under a live grant). Never describes another client's token:
//! that, like an unknown, expired or revoked one, is not active.

use carnet_schemas::{ClientId, GrantFields, Introspection, ScopeSet};
use chrono::{DateTime, Utc};

use super::tokens::TokenError;
use crate::access::pseudonym::customer_ref;
use crate::access::{TokenCategories, token_row_id};
use crate::context::Core;
use crate::credential;
use crate::store::access as token_rows;
use crate::store::consent as consent_rows;

/// `token` described, if it is an active token of `client_id`; `None` otherwise.
pub fn introspect(
    core: &Core,
    client_id: &ClientId,
    token: &str,
) -> Result<Option<Introspection>, TokenError> {
    let hash = credential::hash(token);
    let now = core.now();
    let access = core
        .access
        .check(&hash, now)
        .filter(|a| a.client_id == *client_id);
    match access {
        Some(a) => Ok(Some(Introspection {
            active: true,
            scope: Some(a.scopes.to_oauth()),
            client_id: Some(a.client_id.clone()),
            token_type: Some("Bearer".into()),
            exp: Some(a.expires_at.timestamp()),
            iat: Some(a.issued_at.timestamp()),
            sub: Some(customer_ref(&core.keys, &a.vendor_id)),
            iss: Some(core.policy.public_url.clone()),
            categories: a.categories.clone(),
        })),
        None => live_refresh(core, client_id, &hash, now),
    }
}

/// A refresh token of this client that would still refresh now, described.
fn live_refresh(
    core: &Core,
    client_id: &ClientId,
    hash: &[u8; 32],
    now: DateTime<Utc>,
) -> Result<Option<Introspection>, TokenError> {
    let Some(client) = core.access.client(client_id) else {
        return Ok(None);
    };
    let found = core.store.read(|c| {
        let Some(r) = consent_rows::refresh_token::<TokenCategories>(c, hash)? else {
            return Ok::<_, TokenError>(None);
        };
        let live = !r.used
            && !r.revoked
            && now < r.row.expires_at
            && r.row.client_id == client_id.as_str()
            && token_rows::grant::<GrantFields>(c, &r.row.grant_id)?
                .is_some_and(|g| g.revoked_at.is_none() && g.expires_at > now);
        Ok(live.then_some(r))
    })?;
    let Some(r) = found else {
        return Ok(None);
    };
    let TokenCategories(categories) = core.keys.seal().open(&token_row_id(hash), &r.row.sealed)?;
    Ok(Some(Introspection {
        active: true,
        scope: Some(ScopeSet::from_bits(r.row.scopes).to_oauth()),
        client_id: Some(client_id.clone()),
        token_type: Some("refresh_token".into()),
        exp: Some(r.row.expires_at.timestamp()),
        iat: Some(r.created_at.timestamp()),
        sub: Some(customer_ref(&core.keys, &client.vendor_id)),
        iss: Some(core.policy.public_url.clone()),
        categories,
    }))
}
