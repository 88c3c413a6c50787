//! Vendor access, apart from HTTP: the in-memory view of clients, grants and tokens, pairwise
//! pseudonyms, consent receipts and the access log. The services that change access
//! (`grants`, `clients`, consent) keep it up to date after each commit; the server's OAuth
//! endpoints and vendor API read it on every request.

pub mod cache;
pub mod chain;
pub mod checkpoint;
pub mod compaction;
pub mod log;
pub mod password;
pub mod pseudonym;
pub mod receipts;
pub mod record;
pub mod verification;

use carnet_schemas::{Category, GrantFields, RedirectUri, ScopeSet, WebUrl};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use cache::{Access, AccessCache, ClientEntry, GrantEntry, GrantType, GrantTypes, TokenEntry};

use crate::store::{Store, StoreError, access as rows};
use crate::vault::{Keys, Sealable, Table, Unreadable, VaultError};

/// What the vault keeps about a client beyond its secret hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientRecord {
    pub redirect_uris: Vec<RedirectUri>,
    pub webhook_url: Option<WebUrl>,
    /// The Standard Webhooks secret (`whsec_…`): kept, not hashed, since it signs pushes.
    pub webhook_secret: Option<String>,
    /// The grant types a client registered through `/oauth/register`, the only ones it may use
    /// at the token endpoint; `None`: every grant type (a client the owner connected, or one
    /// registered before grant types were kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant_types: Option<Vec<String>>,
}

impl Sealable for ClientRecord {
    const TABLE: Table = Table::Clients;
}

impl Sealable for GrantFields {
    const TABLE: Table = Table::Grants;
}

/// The categories a token covers (`None`: all the grant allows).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenCategories(pub Option<Vec<Category>>);

impl Sealable for TokenCategories {
    const TABLE: Table = Table::Tokens;
}

/// A signed consent receipt as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReceiptRecord {
    pub jws: String,
}

impl Sealable for ReceiptRecord {
    const TABLE: Table = Table::Receipts;
}

/// A token's row id for sealing: its hash in base64url.
pub fn token_row_id(hash: &[u8]) -> String {
    data_encoding::BASE64URL_NOPAD.encode(hash)
}

fn unreadable(table: Table, id: &str) -> Unreadable {
    Unreadable {
        table: table.name(),
        id: id.to_owned(),
    }
}

/// Builds the in-memory view from the database: every client, live grant and live token
/// (tokens one row at a time, straight into the view).
pub fn load(store: &Store, keys: &Keys, now: DateTime<Utc>) -> Result<AccessCache, VaultError> {
    let cache = AccessCache::default();
    let (clients, grants) = store.read(|c| {
        Ok::<_, StoreError>((
            rows::clients::<ClientRecord>(c)?,
            rows::live_grants::<GrantFields>(c, now)?,
        ))
    })?;
    for row in clients {
        let record: ClientRecord = keys.seal().open(&row.id, &row.sealed)?;
        let (Ok(id), Ok(vendor_id), Ok(secret_hash)) = (
            row.id.parse(),
            row.vendor_id.parse(),
            <[u8; 32]>::try_from(row.secret_hash.as_slice()),
        ) else {
            return Err(unreadable(Table::Clients, &row.id).into());
        };
        cache.put_client(
            id,
            ClientEntry {
                vendor_id,
                secret_hash,
                grant_types: GrantTypes::of(record.grant_types.as_deref()),
            },
        );
    }
    for row in grants {
        let fields: GrantFields = keys.seal().open(&row.id, &row.sealed)?;
        let id = row
            .id
            .parse()
            .map_err(|_| unreadable(Table::Grants, &row.id))?;
        cache.put_grant(id, grant_entry(&fields, row.created_at, row.expires_at));
    }
    store.read(|c| {
        rows::live_tokens::<TokenCategories, VaultError>(c, now, |row| {
            put_token_row(&cache, keys, row)
        })
    })?;
    Ok(cache)
}

/// Opens a token row and puts it in the view.
fn put_token_row(
    cache: &AccessCache,
    keys: &Keys,
    row: rows::TokenRow<TokenCategories>,
) -> Result<(), VaultError> {
    let row_id = token_row_id(&row.hash);
    let TokenCategories(categories) = keys.seal().open(&row_id, &row.sealed)?;
    let (Ok(hash), Ok(client_id), Ok(grant_id)) = (
        <[u8; 32]>::try_from(row.hash.as_slice()),
        row.client_id.parse(),
        row.grant_id.parse(),
    ) else {
        return Err(unreadable(Table::Tokens, &row_id).into());
    };
    cache.put_token(
        hash,
        TokenEntry {
            client_id,
            grant_id,
            scopes: ScopeSet::from_bits(row.scopes),
            categories,
            issued_at: row.created_at,
            expires_at: row.expires_at,
            refresh: row.refresh,
            family: row.family,
            access: Default::default(),
        },
    );
    Ok(())
}

/// The cache entry of a grant.
pub fn grant_entry(
    fields: &GrantFields,
    created_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> GrantEntry {
    GrantEntry {
        vendor_id: fields.vendor_id.clone(),
        scopes: fields.scopes.iter().copied().collect(),
        categories: (!fields.all_categories).then(|| fields.categories.clone()),
        created_at,
        expires_at,
        revoked: false,
    }
}
