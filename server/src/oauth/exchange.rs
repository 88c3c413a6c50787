//! The consent flow's grant types at the token endpoint.
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

use std::ops::ControlFlow;

use carnet_schemas::{Category, ClientId, GrantFields, GrantId, ScopeSet, TokenResponse};
use chrono::{DateTime, Utc};
use rusqlite::Connection;

use super::codes::{self, CodeRecord};
use super::error::OAuthError;
use super::token::{TokenRequest, log_issue};
use crate::metrics::TokenGrant;
use crate::state::AppState;
use carnet_core::access::{ClientEntry, TokenCategories, TokenEntry, token_row_id};
use carnet_core::consent::random_token;
use carnet_core::credential::{self, Credential};
use carnet_core::store::access::{self as token_rows, TokenRow};
use carnet_core::store::consent::{self as rows, Taken};
use carnet_core::vault::Keys;

/// What a redemption came to, once committed.
enum Outcome {
    Issued(Box<Issued>),
    /// A replay: this family was revoked.
    Replayed(Option<String>),
}

struct Issued {
    access: Credential,
    refresh: Credential,
    access_entry: TokenEntry,
    grant_id: GrantId,
    scopes: ScopeSet,
    categories: Option<Vec<Category>>,
}

/// The row of a code's or refresh token's first use. A second use revokes the family of
/// tokens the first one produced (committed with this transaction) and ends the redemption
/// as a replay; an unknown one is `invalid_grant` with `unknown`.
fn first_use<R>(
    c: &Connection,
    taken: Taken<R>,
    now: DateTime<Utc>,
    unknown: &str,
) -> Result<ControlFlow<Outcome, R>, OAuthError> {
    match taken {
        Taken::Fresh(row) => Ok(ControlFlow::Continue(row)),
        Taken::Reused(family) => {
            if let Some(f) = &family {
                rows::revoke_family(c, f, now)?;
            }
            Ok(ControlFlow::Break(Outcome::Replayed(family)))
        }
        Taken::Unknown => Err(OAuthError::InvalidGrant(unknown.into())),
    }
}

fn live_grant(c: &Connection, grant_id: &str, now: DateTime<Utc>) -> Result<GrantId, OAuthError> {
    match token_rows::grant::<GrantFields>(c, grant_id)? {
        Some(g) if g.revoked_at.is_none() && g.expires_at > now => grant_id
            .parse()
            .map_err(|_| OAuthError::Server("bad grant id".into())),
        _ => Err(OAuthError::InvalidGrant(
            "the owner's grant behind it has ended or was revoked".into(),
        )),
    }
}

/// Mints an access and a refresh token of `family` inside the transaction.
#[allow(clippy::too_many_arguments)]
fn mint(
    c: &Connection,
    keys: &Keys,
    s: &crate::state::Settings,
    client_id: &ClientId,
    grant_id: GrantId,
    scopes: ScopeSet,
    categories: Option<Vec<Category>>,
    family: String,
    now: DateTime<Utc>,
) -> Result<Issued, OAuthError> {
    let access = Credential::generate();
    let refresh = Credential::generate();
    for (token, is_refresh, ttl) in [
        (&access, false, s.access_token_ttl),
        (&refresh, true, s.refresh_token_ttl),
    ] {
        let hash = token.hash();
        token_rows::insert_token(
            c,
            &TokenRow {
                hash: hash.to_vec(),
                refresh: is_refresh,
                family: Some(family.clone()),
                client_id: client_id.to_string(),
                grant_id: grant_id.to_string(),
                scopes: scopes.bits(),
                created_at: now,
                expires_at: now + ttl,
                sealed: keys
                    .seal()
                    .seal(&token_row_id(&hash), &TokenCategories(categories.clone())),
            },
        )?;
    }
    Ok(Issued {
        access_entry: TokenEntry {
            client_id: client_id.clone(),
            grant_id: grant_id.clone(),
            scopes,
            categories: categories.clone(),
            issued_at: now,
            expires_at: now + s.access_token_ttl,
            refresh: false,
            family: Some(family),
            access: Default::default(),
        },
        access,
        refresh,
        grant_id,
        scopes,
        categories,
    })
}

/// Applies a committed outcome: the new access token to the in-memory view, or a replay's
/// revocation; then the answer. An issue is counted under `grant_type`.
fn finish(
    s: &AppState,
    client_id: ClientId,
    client: &ClientEntry,
    outcome: Outcome,
    grant_type: TokenGrant,
    replay_message: &str,
) -> Result<TokenResponse, OAuthError> {
    match outcome {
        Outcome::Replayed(family) => {
            if let Some(f) = family {
                s.access.revoke_family(&f);
            }
            Err(OAuthError::InvalidGrant(replay_message.into()))
        }
        Outcome::Issued(i) => {
            let Issued {
                access,
                refresh,
                access_entry,
                grant_id,
                scopes,
                categories,
            } = *i;
            s.access.put_token(access.hash(), access_entry);
            log_issue(s, client, client_id, grant_id, scopes);
            s.metrics.token_issued(grant_type);
            Ok(TokenResponse {
                access_token: access.expose().to_owned(),
                token_type: "Bearer".into(),
                expires_in: s.settings.access_token_ttl.num_seconds().max(0) as u64,
                scope: scopes.to_oauth(),
                categories,
                refresh_token: Some(refresh.expose().to_owned()),
            })
        }
    }
}

/// `grant_type=authorization_code`.
pub async fn authorization_code(
    s: &AppState,
    client_id: ClientId,
    client: &ClientEntry,
    req: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let code = req
        .code
        .clone()
        .ok_or_else(|| OAuthError::InvalidRequest("code is missing".into()))?;
    let redirect_uri = req.redirect_uri.clone().ok_or_else(|| {
        OAuthError::InvalidRequest(
            "redirect_uri is missing (send the one of the authorization request)".into(),
        )
    })?;
    let verifier = req.code_verifier.clone().ok_or_else(|| {
        OAuthError::InvalidRequest("code_verifier is missing: PKCE is required".into())
    })?;
    if !codes::valid_verifier(&verifier) {
        return Err(OAuthError::InvalidRequest(
            "code_verifier must be 43 to 128 unreserved characters".into(),
        ));
    }
    let now = s.now();
    let hash = credential::hash(&code);
    let (state, cid) = (s.clone(), client_id.clone());
    let outcome = s
        .store
        .write(move |c| {
            let taken = rows::take_code::<CodeRecord>(c, &hash, now)?;
            let row = match first_use(c, taken, now, "unknown authorization code")? {
                ControlFlow::Continue(row) => row,
                ControlFlow::Break(replayed) => return Ok(replayed),
            };
            let wrong =
                || OAuthError::InvalidGrant("this code was not issued for this request".into());
            if row.client_id != cid.as_str() {
                return Err(wrong());
            }
            if now >= row.expires_at {
                return Err(OAuthError::InvalidGrant(
                    "the code has expired (codes last 60 s)".into(),
                ));
            }
            let record: CodeRecord = state
                .keys
                .seal()
                .open(&token_row_id(&row.hash), &row.sealed)?;
            if record.redirect_uri != redirect_uri {
                return Err(wrong());
            }
            if !codes::verifier_matches(&verifier, &record.code_challenge) {
                return Err(OAuthError::InvalidGrant(
                    "code_verifier does not match the code_challenge".into(),
                ));
            }
            let grant_id = live_grant(c, &row.grant_id, now)?;
            let family = random_token(16);
            rows::set_code_family(c, &row.hash, &family)?;
            let issued = mint(
                c,
                &state.keys,
                &state.settings,
                &cid,
                grant_id,
                codes::scopes(&record),
                record.categories,
                family,
                now,
            )?;
            Ok(Outcome::Issued(Box::new(issued)))
        })
        .await?;
    finish(
        s,
        client_id,
        client,
        outcome,
        TokenGrant::AuthorizationCode,
        "this code was already used: the tokens it produced are revoked",
    )
}

/// `grant_type=refresh_token`.
pub async fn refresh(
    s: &AppState,
    client_id: ClientId,
    client: &ClientEntry,
    req: &TokenRequest,
) -> Result<TokenResponse, OAuthError> {
    let token = req
        .refresh_token
        .clone()
        .ok_or_else(|| OAuthError::InvalidRequest("refresh_token is missing".into()))?;
    let asked = req.scope.clone();
    let now = s.now();
    let hash = credential::hash(&token);
    let (state, cid) = (s.clone(), client_id.clone());
    let outcome = s
        .store
        .write(move |c| {
            let taken = rows::take_refresh::<TokenCategories>(c, &hash, now)?;
            let row = match first_use(c, taken, now, "unknown or revoked refresh token")? {
                ControlFlow::Continue(row) => row,
                ControlFlow::Break(replayed) => return Ok(replayed),
            };
            if row.client_id != cid.as_str() {
                return Err(OAuthError::InvalidGrant(
                    "this refresh token belongs to another client".into(),
                ));
            }
            if now >= row.expires_at {
                return Err(OAuthError::InvalidGrant(
                    "the refresh token has expired".into(),
                ));
            }
            let grant_id = live_grant(c, &row.grant_id, now)?;
            let had = ScopeSet::from_bits(row.scopes);
            let scopes = match asked.as_deref().filter(|a| !a.trim().is_empty()) {
                None => had,
                Some(a) => {
                    let wanted =
                        ScopeSet::parse_oauth(a).map_err(|e| OAuthError::InvalidScope(e.0))?;
                    if !wanted.is_subset(had) {
                        return Err(OAuthError::InvalidScope(format!(
                            "a refresh cannot widen the scopes: {}",
                            had.to_oauth()
                        )));
                    }
                    wanted
                }
            };
            let TokenCategories(categories) =
                state.keys.seal().open(&token_row_id(&hash), &row.sealed)?;
            let family = row.family.unwrap_or_else(|| random_token(16));
            let issued = mint(
                c,
                &state.keys,
                &state.settings,
                &cid,
                grant_id,
                scopes,
                categories,
                family,
                now,
            )?;
            Ok(Outcome::Issued(Box::new(issued)))
        })
        .await?;
    finish(
        s,
        client_id,
        client,
        outcome,
        TokenGrant::RefreshToken,
        "this refresh token was already used: every token of its family is revoked",
    )
}
