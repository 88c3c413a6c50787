//! Issuing tokens. This server issues opaque bearer tokens, stored only as hashes and bound
//! to the client, the grant, and the scopes and categories asked for — never more than the
//! grant allows. Here: who may ask (`admit`), `client_credentials` (what the owner
//! pre-granted), and the rules shared with the consent flow's grant types (`exchange`).
//! Never issues a token outside a live grant, nor more access tokens than a client may hold.

use carnet_schemas::{Category, ClientId, GrantId, ScopeSet, TokenResponse};

use super::codes::CODE_TTL_SECONDS;
use crate::access::{
    ClientEntry, GrantEntry, GrantType, TokenCategories, TokenEntry, token_row_id,
};
use crate::context::Core;
use crate::credential::Credential;
use crate::store::StoreError;
use crate::store::access::{self as rows, TokenRow};
use crate::vault::Unreadable;

/// Why a token was not issued. Each message is what the client is told.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(
        "this client did not register the grant type {0} (grant_types at /oauth/register), so it may not use it"
    )]
    NotRegistered(GrantType),
    #[error(
        "this client already holds {0} unexpired access tokens, as many as this server allows (max_live_tokens); use a token until it expires (expires_in) instead of asking for one per request, or revoke those it no longer needs"
    )]
    TooManyTokens(usize),
    /// `client_credentials` with no live grant for the client's vendor.
    #[error("the owner has not granted this client access, or the grant expired or was revoked")]
    NotGranted,
    /// A scope or category that is not one.
    #[error("{0}")]
    BadScope(String),
    #[error("the grant allows only: {}", .0.to_oauth())]
    ScopesOutsideGrant(ScopeSet),
    #[error("category {outside} is outside the grant ({})", spaced(.allowed))]
    CategoryOutsideGrant {
        outside: Category,
        allowed: Vec<Category>,
    },
    #[error("a refresh cannot widen the scopes: {}", .0.to_oauth())]
    WiderThanRefreshed(ScopeSet),
    #[error("unknown authorization code")]
    UnknownCode,
    /// Another client's code, or another redirect URI.
    #[error("this code was not issued for this request")]
    CodeMismatch,
    #[error("the code has expired (codes last {} s)", CODE_TTL_SECONDS)]
    CodeExpired,
    #[error("code_verifier does not match the code_challenge")]
    VerifierMismatch,
    /// A replayed code: the tokens it produced were revoked.
    #[error("this code was already used: the tokens it produced are revoked")]
    CodeReused,
    #[error("unknown or revoked refresh token")]
    UnknownRefreshToken,
    #[error("this refresh token belongs to another client")]
    OtherClientsRefreshToken,
    #[error("the refresh token has expired")]
    RefreshTokenExpired,
    /// A replayed refresh token: its whole family was revoked.
    #[error("this refresh token was already used: every token of its family is revoked")]
    RefreshTokenReused,
    /// The grant behind a code or refresh token ended.
    #[error("the owner's grant behind it has ended or was revoked")]
    GrantEnded,
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn spaced(categories: &[Category]) -> String {
    categories
        .iter()
        .map(Category::as_str)
        .collect::<Vec<_>>()
        .join(" ")
}

/// A token issued: the answer, and what the access log records of it.
pub struct Issued {
    pub grant_id: GrantId,
    pub scopes: ScopeSet,
    pub response: TokenResponse,
}

/// Whether `client` may ask for a token now: with `grant_type` (if it named one this server
/// knows) only if it registered it, and only while it holds fewer access tokens than allowed.
pub fn admit(
    core: &Core,
    client_id: &ClientId,
    client: &ClientEntry,
    grant_type: Option<GrantType>,
) -> Result<(), TokenError> {
    if let Some(g) = grant_type
        && !client.grant_types.allows(g)
    {
        return Err(TokenError::NotRegistered(g));
    }
    let held = core.access.access_tokens_of(client_id);
    if held >= core.policy.max_live_tokens {
        return Err(TokenError::TooManyTokens(held));
    }
    Ok(())
}

/// `client_credentials`: an access token under the live grant of the client's vendor, with
/// the `scope` and `categories` asked for (space-separated; default: all the grant's). They
/// are read after the grant is found, so a missing grant is what the client hears first.
pub async fn client_credentials(
    core: &Core,
    client_id: ClientId,
    client: &ClientEntry,
    scope: Option<&str>,
    categories: Option<&str>,
) -> Result<Issued, TokenError> {
    let now = core.now();
    let (grant_id, grant) = core
        .access
        .live_grant(&client.vendor_id, now)
        .ok_or(TokenError::NotGranted)?;
    let scopes = narrow_scopes(&grant, scope)?;
    let categories = narrow_categories(&grant, categories)?;

    let token = Credential::generate();
    let hash = token.hash();
    let expires_at = now + core.policy.access_token_ttl;
    let row = TokenRow {
        hash: hash.to_vec(),
        refresh: false,
        family: None,
        client_id: client_id.to_string(),
        grant_id: grant_id.to_string(),
        scopes: scopes.bits(),
        created_at: now,
        expires_at,
        sealed: core
            .keys
            .seal()
            .seal(&token_row_id(&hash), &TokenCategories(categories.clone())),
    };
    // Not awaited (unless the writer is far behind, see `write_behind`): the token works at
    // once from memory and commits with the next batch. A crash in those milliseconds loses
    // the token (the vendor asks again) and nothing else; a later revocation is queued
    // behind this insert, so it always wins.
    let stored = core
        .store
        .write_behind("storing an issued token", move |c| {
            rows::insert_token(c, &row)
        });
    core.access.put_token(
        hash,
        TokenEntry {
            client_id,
            grant_id: grant_id.clone(),
            scopes,
            categories: categories.clone(),
            issued_at: now,
            expires_at,
            refresh: false,
            family: None,
            access: Default::default(),
        },
    );
    stored.await;
    Ok(issued(core, &token, None, grant_id, scopes, categories))
}

/// The answer for a new access token (and refresh token).
pub(super) fn issued(
    core: &Core,
    access: &Credential,
    refresh: Option<&Credential>,
    grant_id: GrantId,
    scopes: ScopeSet,
    categories: Option<Vec<Category>>,
) -> Issued {
    Issued {
        grant_id,
        scopes,
        response: TokenResponse {
            access_token: access.expose().to_owned(),
            token_type: "Bearer".into(),
            expires_in: core.policy.access_token_ttl.num_seconds().max(0) as u64,
            scope: scopes.to_oauth(),
            categories,
            refresh_token: refresh.map(|r| r.expose().to_owned()),
        },
    }
}

/// The scopes of a new token: those asked for, if `within` has them all.
pub(super) fn narrow(
    within: ScopeSet,
    asked: Option<&str>,
    wider: fn(ScopeSet) -> TokenError,
) -> Result<ScopeSet, TokenError> {
    let Some(asked) = asked.filter(|a| !a.trim().is_empty()) else {
        return Ok(within);
    };
    let wanted = ScopeSet::parse_oauth(asked).map_err(|e| TokenError::BadScope(e.0))?;
    if !wanted.is_subset(within) {
        return Err(wider(within));
    }
    Ok(wanted)
}

fn narrow_scopes(grant: &GrantEntry, asked: Option<&str>) -> Result<ScopeSet, TokenError> {
    narrow(grant.scopes, asked, TokenError::ScopesOutsideGrant)
}

/// The categories of a new token: those asked for, if each is inside the grant's.
fn narrow_categories(
    grant: &GrantEntry,
    asked: Option<&str>,
) -> Result<Option<Vec<Category>>, TokenError> {
    let Some(asked) = asked.filter(|a| !a.trim().is_empty()) else {
        return Ok(grant.categories.clone());
    };
    let wanted = asked
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(|w| w.parse::<Category>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TokenError::BadScope(e.0))?;
    if let Some(allowed) = &grant.categories
        && let Some(outside) = wanted.iter().find(|w| !allowed.iter().any(|a| a.covers(w)))
    {
        return Err(TokenError::CategoryOutsideGrant {
            outside: outside.clone(),
            allowed: allowed.clone(),
        });
    }
    Ok(Some(wanted))
}
