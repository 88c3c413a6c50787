//! Authorization codes: 256 random bits, stored as a hash, valid 60 seconds, bound to the
//! client, the redirect URI, the PKCE challenge, and what the owner approved. Redeeming one is
//! a single atomic update; a second redemption revokes every token the first produced.

use carnet_schemas::{Category, GrantId, ScopeSet};
use chrono::Duration;
use data_encoding::BASE64URL_NOPAD;
use ring::digest::{SHA256, digest};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::state::AppState;
use carnet_core::consent::Pending;
use carnet_core::credential::Credential;
use carnet_core::store::StoreError;
use carnet_core::store::consent::{self as rows, CodeRow};
use carnet_core::vault::{Sealable, Table};

/// How long a code may wait to be redeemed.
pub const CODE_TTL_SECONDS: i64 = 60;

/// What a code is bound to, sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeRecord {
    pub redirect_uri: String,
    pub code_challenge: String,
    pub scopes: u8,
    /// `None`: all categories.
    pub categories: Option<Vec<Category>>,
}

impl Sealable for CodeRecord {
    const TABLE: Table = Table::Codes;
}

/// A code challenge is base64url(SHA-256): 43 characters.
pub fn valid_challenge(c: &str) -> bool {
    c.len() == 43
        && BASE64URL_NOPAD
            .decode(c.as_bytes())
            .is_ok_and(|b| b.len() == 32)
}

/// RFC 7636 §4.1: 43 to 128 unreserved characters.
pub fn valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether `verifier` is the one `challenge` was made from (S256), in constant time.
pub fn verifier_matches(verifier: &str, challenge: &str) -> bool {
    let computed = BASE64URL_NOPAD.encode(digest(&SHA256, verifier.as_bytes()).as_ref());
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

/// Issues the code for an approved consent request.
pub async fn issue(
    s: &AppState,
    p: &Pending,
    grant_id: &GrantId,
    categories: Option<Vec<Category>>,
) -> Result<String, StoreError> {
    let code = Credential::generate();
    let hash = code.hash();
    let now = s.now();
    let row = CodeRow {
        hash: hash.to_vec(),
        client_id: p.asked.client_id.to_string(),
        grant_id: grant_id.to_string(),
        created_at: now,
        expires_at: now + Duration::seconds(CODE_TTL_SECONDS),
        sealed: s.keys.seal().seal(
            &carnet_core::access::token_row_id(&hash),
            &CodeRecord {
                redirect_uri: p.asked.redirect_uri.clone(),
                code_challenge: p.asked.code_challenge.clone(),
                scopes: p.asked.scopes.bits(),
                categories,
            },
        ),
    };
    s.store.write(move |c| rows::insert_code(c, &row)).await?;
    Ok(code.expose().to_owned())
}

/// The scopes a code carries.
pub fn scopes(r: &CodeRecord) -> ScopeSet {
    ScopeSet::from_bits(r.scopes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_round_trips() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(valid_verifier(verifier));
        assert!(valid_challenge(challenge));
        assert!(verifier_matches(verifier, challenge));
        assert!(!verifier_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX",
            challenge
        ));
        assert!(!valid_verifier("short"));
        assert!(!valid_verifier(&"a".repeat(129)));
        assert!(!valid_verifier(&format!("{}!", "a".repeat(50))));
    }
}
