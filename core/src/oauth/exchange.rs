//! The consent flow's grant types.
//!
//! - `authorization_code`: a code works once, within 60 s, for the client it was issued to,
//!   with the same redirect URI and the PKCE verifier of its challenge. It yields an access
//!   token and a refresh token of a new family. A second redemption revokes that family.
//! - `refresh_token`: a refresh token works once; it yields a new pair in the same family.
//!   Presenting an already-used refresh token revokes the whole family, so of several
//!   concurrent refreshes with one token at most one succeeds.
//!
//! Every check happens inside one writer transaction; a refused request rolls back (the code or
//! token stays unused for its rightful client), while a detected replay commits the revocation.

use carnet_schemas::{Category, ClientId, GrantFields, GrantId, ScopeSet};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::codes::{CodeRecord, CodeVerifier};
use super::tokens::{Issued, TokenError, issued, narrow};
use crate::access::{TokenCategories, TokenEntry, token_row_id};
use crate::consent::random_token;
use crate::context::{Core, Policy};
use crate::credential::{self, Credential};
use crate::store::StoreError;
use crate::store::access::{self as token_rows, TokenRow};
use crate::store::consent::{self as rows, CodeRow, RefreshRow, Taken};
use crate::vault::{Keys, Unreadable};

/// A new pair of tokens, minted inside the transaction.
struct Minted {
    access: Credential,
    refresh: Credential,
    access_entry: TokenEntry,
    grant_id: GrantId,
    scopes: ScopeSet,
    categories: Option<Vec<Category>>,
}

/// What a redemption came to, once committed.
enum Outcome {
    Minted(Box<Minted>),
    /// A replay: this family was revoked.
    Replayed(Option<String>),
}

/// How a code or a refresh token is taken: marked used, if this is its first use.
type Take<R> = fn(&Connection, &[u8], DateTime<Utc>) -> Result<Taken<R>, StoreError>;

/// Redeems the code or refresh token `secret` in one transaction. At its first use, `first`
/// checks the row and mints the new pair; a second use revokes the family of tokens the
/// first produced (committed with this transaction) and is refused as `reused`; one never
/// issued (or revoked) is `unknown`. The committed outcome is then applied to the in-memory
/// view.
async fn redeem<R, F>(
    core: &Core,
    secret: &str,
    take: Take<R>,
    unknown: TokenError,
    reused: TokenError,
    first: F,
) -> Result<Issued, TokenError>
where
    R: 'static,
    F: FnOnce(&Connection, &Core, R, &[u8; 32], DateTime<Utc>) -> Result<Minted, TokenError>
        + Send
        + 'static,
{
    let now = core.now();
    let hash = credential::hash(secret);
    let state = core.clone();
    let outcome = core
        .store
        .write(move |c| match take(c, &hash, now)? {
            Taken::Fresh(row) => Ok(Outcome::Minted(Box::new(first(
                c, &state, row, &hash, now,
            )?))),
            Taken::Reused(family) => {
                if let Some(f) = &family {
                    rows::revoke_family(c, f, now)?;
                }
                Ok(Outcome::Replayed(family))
            }
            Taken::Unknown => Err(unknown),
        })
        .await?;
    match outcome {
        Outcome::Replayed(family) => {
            if let Some(f) = family {
                core.access.revoke_family(&f);
            }
            Err(reused)
        }
        Outcome::Minted(m) => {
            let Minted {
                access,
                refresh,
                access_entry,
                grant_id,
                scopes,
                categories,
            } = *m;
            core.access.put_token(access.hash(), access_entry);
            Ok(issued(
                core,
                &access,
                Some(&refresh),
                grant_id,
                scopes,
                categories,
            ))
        }
    }
}

fn live_grant(c: &Connection, grant_id: &str, now: DateTime<Utc>) -> Result<GrantId, TokenError> {
    match token_rows::grant::<GrantFields>(c, grant_id)? {
        Some(g) if g.revoked_at.is_none() && g.expires_at > now => grant_id.parse().map_err(|_| {
            Unreadable {
                table: "grants",
                id: grant_id.to_owned(),
            }
            .into()
        }),
        _ => Err(TokenError::GrantEnded),
    }
}

/// What a new pair of tokens is bound to.
struct Binding<'a> {
    client_id: &'a ClientId,
    grant_id: GrantId,
    scopes: ScopeSet,
    categories: Option<Vec<Category>>,
    family: String,
}

/// Mints an access and a refresh token of `b.family` inside the transaction.
fn mint(
    c: &Connection,
    keys: &Keys,
    policy: &Policy,
    b: Binding<'_>,
    now: DateTime<Utc>,
) -> Result<Minted, TokenError> {
    let access = Credential::generate();
    let refresh = Credential::generate();
    for (token, is_refresh, ttl) in [
        (&access, false, policy.access_token_ttl),
        (&refresh, true, policy.refresh_token_ttl),
    ] {
        let hash = token.hash();
        token_rows::insert_token(
            c,
            &TokenRow {
                hash: hash.to_vec(),
                refresh: is_refresh,
                family: Some(b.family.clone()),
                client_id: b.client_id.to_string(),
                grant_id: b.grant_id.to_string(),
                scopes: b.scopes.bits(),
                created_at: now,
                expires_at: now + ttl,
                sealed: keys
                    .seal()
                    .seal(&token_row_id(&hash), &TokenCategories(b.categories.clone())),
            },
        )?;
    }
    Ok(Minted {
        access_entry: TokenEntry {
            client_id: b.client_id.clone(),
            grant_id: b.grant_id.clone(),
            scopes: b.scopes,
            categories: b.categories.clone(),
            issued_at: now,
            expires_at: now + policy.access_token_ttl,
            refresh: false,
            family: Some(b.family),
            access: Default::default(),
        },
        access,
        refresh,
        grant_id: b.grant_id,
        scopes: b.scopes,
        categories: b.categories,
    })
}

/// `authorization_code`: redeems `code` for `client_id`, presented with the redirect URI of
/// the authorization request and the PKCE verifier.
pub async fn redeem_code(
    core: &Core,
    client_id: &ClientId,
    code: &str,
    redirect_uri: String,
    verifier: CodeVerifier,
) -> Result<Issued, TokenError> {
    let cid = client_id.clone();
    let first = move |c: &Connection, core: &Core, row: CodeRow<CodeRecord>, _: &[u8; 32], now| {
        if row.client_id != cid.as_str() {
            return Err(TokenError::CodeMismatch);
        }
        if now >= row.expires_at {
            return Err(TokenError::CodeExpired);
        }
        let record: CodeRecord = core
            .keys
            .seal()
            .open(&token_row_id(&row.hash), &row.sealed)?;
        if record.redirect_uri != redirect_uri {
            return Err(TokenError::CodeMismatch);
        }
        if !verifier.matches(&record.code_challenge) {
            return Err(TokenError::VerifierMismatch);
        }
        let grant_id = live_grant(c, &row.grant_id, now)?;
        let family = random_token(16);
        rows::set_code_family(c, &row.hash, &family)?;
        let binding = Binding {
            client_id: &cid,
            grant_id,
            scopes: record.scopes(),
            categories: record.categories,
            family,
        };
        mint(c, &core.keys, &core.policy, binding, now)
    };
    redeem(
        core,
        code,
        rows::take_code::<CodeRecord>,
        TokenError::UnknownCode,
        TokenError::CodeReused,
        first,
    )
    .await
}

/// `refresh_token`: a new pair for `refresh_token` of `client_id`, with the `scope` asked
/// for (space-separated; never wider than the refresh token's, default all of them).
pub async fn refresh(
    core: &Core,
    client_id: &ClientId,
    refresh_token: &str,
    scope: Option<String>,
) -> Result<Issued, TokenError> {
    let cid = client_id.clone();
    let first = move |c: &Connection,
                      core: &Core,
                      row: RefreshRow<TokenCategories>,
                      hash: &[u8; 32],
                      now| {
        if row.client_id != cid.as_str() {
            return Err(TokenError::OtherClientsRefreshToken);
        }
        if now >= row.expires_at {
            return Err(TokenError::RefreshTokenExpired);
        }
        let grant_id = live_grant(c, &row.grant_id, now)?;
        let had = ScopeSet::from_bits(row.scopes);
        let scopes = narrow(had, scope.as_deref(), TokenError::WiderThanRefreshed)?;
        let TokenCategories(categories) =
            core.keys.seal().open(&token_row_id(hash), &row.sealed)?;
        let binding = Binding {
            client_id: &cid,
            grant_id,
            scopes,
            categories,
            family: row.family.unwrap_or_else(|| random_token(16)),
        };
        mint(c, &core.keys, &core.policy, binding, now)
    };
    redeem(
        core,
        refresh_token,
        rows::take_refresh::<TokenCategories>,
        TokenError::UnknownRefreshToken,
        TokenError::RefreshTokenReused,
        first,
    )
    .await
}
