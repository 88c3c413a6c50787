//! Authorization codes: 256 random bits, stored as a hash, valid 60 seconds, bound to the
//! client, the redirect URI, the PKCE challenge (S256 only), and what the owner approved.
//! Redeeming one (`exchange`) is a single atomic update; a second redemption revokes every
//! token the first produced. Never stores a code in clear.

use carnet_schemas::{Category, GrantId, ScopeSet};
use chrono::Duration;
use data_encoding::BASE64URL_NOPAD;
use ring::digest::{SHA256, digest};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::access::token_row_id;
use crate::consent::Pending;
use crate::context::Core;
use crate::credential::Credential;
use crate::store::StoreError;
use crate::store::consent::{self as rows, CodeRow};
use crate::vault::{Sealable, Table};

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

impl CodeRecord {
    /// The scopes the code carries.
    pub fn scopes(&self) -> ScopeSet {
        ScopeSet::from_bits(self.scopes)
    }
}

/// A code challenge is base64url(SHA-256): 43 characters.
pub fn valid_challenge(c: &str) -> bool {
    c.len() == 43
        && BASE64URL_NOPAD
            .decode(c.as_bytes())
            .is_ok_and(|b| b.len() == 32)
}

/// A PKCE code verifier (RFC 7636 §4.1): 43 to 128 unreserved characters.
#[derive(Clone)]
pub struct CodeVerifier(String);

#[derive(Debug, thiserror::Error)]
#[error("code_verifier must be 43 to 128 unreserved characters")]
pub struct InvalidVerifier;

impl TryFrom<String> for CodeVerifier {
    type Error = InvalidVerifier;

    fn try_from(v: String) -> Result<Self, InvalidVerifier> {
        let valid = (43..=128).contains(&v.len())
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if valid {
            Ok(CodeVerifier(v))
        } else {
            Err(InvalidVerifier)
        }
    }
}

impl CodeVerifier {
    /// Whether this is the verifier `challenge` was made from (S256), in constant time.
    pub fn matches(&self, challenge: &str) -> bool {
        let computed = BASE64URL_NOPAD.encode(digest(&SHA256, self.0.as_bytes()).as_ref());
        computed.as_bytes().ct_eq(challenge.as_bytes()).into()
    }
}

/// Issues the code for an approved consent request.
pub async fn issue(
    core: &Core,
    p: &Pending,
    grant_id: &GrantId,
    categories: Option<Vec<Category>>,
) -> Result<String, StoreError> {
    let code = Credential::generate();
    let hash = code.hash();
    let now = core.now();
    let row = CodeRow {
        hash: hash.to_vec(),
        client_id: p.asked.client_id.to_string(),
        grant_id: grant_id.to_string(),
        created_at: now,
        expires_at: now + Duration::seconds(CODE_TTL_SECONDS),
        sealed: core.keys.seal().seal(
            &token_row_id(&hash),
            &CodeRecord {
                redirect_uri: p.asked.redirect_uri.clone(),
                code_challenge: p.asked.code_challenge.clone(),
                scopes: p.asked.scopes.bits(),
                categories,
            },
        ),
    };
    core.store
        .write(move |c| rows::insert_code(c, &row))
        .await?;
    Ok(code.expose().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier(v: &str) -> Result<CodeVerifier, InvalidVerifier> {
        CodeVerifier::try_from(v.to_owned())
    }

    #[test]
    fn pkce_s256_round_trips() {
        // RFC 7636 Appendix B.
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(valid_challenge(challenge));
        assert!(
            verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
                .unwrap()
                .matches(challenge)
        );
        assert!(
            !verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX")
                .unwrap()
                .matches(challenge)
        );
        assert!(verifier("short").is_err());
        assert!(verifier(&"a".repeat(129)).is_err());
        assert!(verifier(&format!("{}!", "a".repeat(50))).is_err());
    }
}
