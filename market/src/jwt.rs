//! NATS's decentralized authentication, as nats-server 2.9 reads it (nats-io/jwt v2): the
//! operator's NATS keys derived from the market operator's Ed25519 key, and the JWTs (operator,
//! account, user) signed with them.
//!
//! A JWT is `base64url(header).base64url(claims).base64url(signature)` with the header
//! `{"typ":"JWT","alg":"ed25519-nkey"}`, the signature an nkey's Ed25519 signature of the first
//! two parts. Deriving the operator and account keys (HKDF-SHA256, one fixed info string each)
//! means no NATS key is ever stored: the operator key file is the only secret. It never writes a
//! seed anywhere (`creds` writes a user's, to its own file).

use chrono::{DateTime, Utc};
use nkeys::{KeyPair, KeyPairType};
use ring::hkdf;
use serde_json::{Value, json};

use crate::access::Permissions;
use crate::keys::{SigningKey, b64, unb64};

/// The account that holds the three streams and every vendor and vault host user.
pub const MARKET_ACCOUNT: &str = "MARKET";
/// nats-server's system account (its own monitoring subjects; no user is issued in it).
pub const SYSTEM_ACCOUNT: &str = "SYS";

const HEADER: &str = r#"{"typ":"JWT","alg":"ed25519-nkey"}"#;
const SALT: &[u8] = b"carnet-market nats keys/1";

/// Why a NATS key or JWT could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("cannot make a NATS key: {0}")]
    Key(String),
    #[error("not a NATS JWT: {0}")]
    Malformed(&'static str),
}

/// Which of the operator's NATS keys: each is derived with its own info string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DerivedKey {
    Operator,
    MarketAccount,
    SystemAccount,
}

impl DerivedKey {
    fn info(self) -> (&'static [u8], KeyPairType) {
        match self {
            DerivedKey::Operator => (b"operator", KeyPairType::Operator),
            DerivedKey::MarketAccount => (b"account MARKET", KeyPairType::Account),
            DerivedKey::SystemAccount => (b"account SYS", KeyPairType::Account),
        }
    }
}

/// The NATS key `which`, derived from the market operator's key: the same key file always gives
/// the same NATS keys, so users issued later still verify against the running server.
pub fn derive(operator: &SigningKey, which: DerivedKey) -> Result<KeyPair, JwtError> {
    let (info, kind) = which.info();
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, SALT).extract(operator.pkcs8());
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    prk.expand(&[info], hkdf::HKDF_SHA256)
        .and_then(|okm| okm.fill(seed.as_mut()))
        .map_err(|_| JwtError::Key("HKDF expansion".into()))?;
    KeyPair::new_from_raw(kind, *seed).map_err(|e| JwtError::Key(e.to_string()))
}

/// Signs `claims` (its `nats` part, `name` and `sub`) as `issuer`, at `now`: fills `iss`, `iat`
/// and `jti` (a hash of the claims, as nats-io/jwt computes it).
pub fn sign(
    issuer: &KeyPair,
    subject: &str,
    name: &str,
    nats: Value,
    now: DateTime<Utc>,
) -> Result<String, JwtError> {
    let mut claims = json!({
        "jti": "",
        "iat": now.timestamp(),
        "iss": issuer.public_key(),
        "name": name,
        "sub": subject,
        "nats": nats,
    });
    let digest = ring::digest::digest(&ring::digest::SHA512_256, claims.to_string().as_bytes());
    claims["jti"] = Value::String(data_encoding::BASE32_NOPAD.encode(digest.as_ref()));
    let signing_input = format!(
        "{}.{}",
        b64(HEADER.as_bytes()),
        b64(claims.to_string().as_bytes())
    );
    let signature = issuer
        .sign(signing_input.as_bytes())
        .map_err(|e| JwtError::Key(e.to_string()))?;
    Ok(format!("{signing_input}.{}", b64(&signature)))
}

/// The claims of a JWT, not verified (the server verifies; this reads one's own credentials).
pub fn claims(jwt: &str) -> Result<Value, JwtError> {
    let mut parts = jwt.trim().split('.');
    let (Some(_), Some(body), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed("not three parts"));
    };
    let bytes = unb64(body).ok_or(JwtError::Malformed("claims are not base64url"))?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed("claims are not JSON"))
}

/// The operator's JWT, naming the system account.
pub fn operator_jwt(
    operator: &KeyPair,
    system: &KeyPair,
    now: DateTime<Utc>,
) -> Result<String, JwtError> {
    let nats = json!({"type": "operator", "version": 2, "system_account": system.public_key()});
    sign(operator, &operator.public_key(), "carnet-market", nats, now)
}

/// An account's JWT. With `jetstream`, the account may store streams without limit (the
/// operator sizes the server's store instead); without, it has no JetStream at all.
pub fn account_jwt(
    operator: &KeyPair,
    account: &KeyPair,
    name: &str,
    jetstream: bool,
    now: DateTime<Utc>,
) -> Result<String, JwtError> {
    let storage = if jetstream { -1 } else { 0 };
    let nats = json!({
        "type": "account",
        "version": 2,
        "limits": {
            "subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
            "wildcards": true, "conn": -1, "leaf": -1,
            "mem_storage": storage, "disk_storage": storage,
            "streams": storage, "consumer": storage,
        },
        "default_permissions": {"pub": {}, "sub": {}},
    });
    sign(operator, &account.public_key(), name, nats, now)
}

/// A user's JWT in `account`: `permissions` (none: everything in the account is allowed) and
/// `tags` (the user's identity, which `creds` reads back).
pub fn user_jwt(
    account: &KeyPair,
    user: &KeyPair,
    name: &str,
    permissions: Option<&Permissions>,
    tags: &[String],
    now: DateTime<Utc>,
) -> Result<String, JwtError> {
    let mut nats = json!({
        "type": "user",
        "version": 2,
        "subs": -1, "data": -1, "payload": -1,
        "tags": tags,
    });
    if let Some(p) = permissions {
        let list = |allow: &[String], deny: &[String]| {
            let mut side = json!({});
            if !allow.is_empty() {
                side["allow"] = json!(allow);
            }
            if !deny.is_empty() {
                side["deny"] = json!(deny);
            }
            side
        };
        nats["pub"] = list(&p.pub_allow, &p.pub_deny);
        nats["sub"] = list(&p.sub_allow, &p.sub_deny);
    }
    sign(account, &user.public_key(), name, nats, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_operator_key_always_derives_the_same_nats_keys_and_different_ones_per_role() {
        let key = SigningKey::generate();
        let a = derive(&key, DerivedKey::MarketAccount).unwrap();
        let b = derive(&key, DerivedKey::MarketAccount).unwrap();
        assert_eq!(a.public_key(), b.public_key());
        assert!(a.public_key().starts_with('A'));
        let sys = derive(&key, DerivedKey::SystemAccount).unwrap();
        assert_ne!(a.public_key(), sys.public_key());
        let op = derive(&key, DerivedKey::Operator).unwrap();
        assert!(op.public_key().starts_with('O'));
        let other = derive(&SigningKey::generate(), DerivedKey::MarketAccount).unwrap();
        assert_ne!(a.public_key(), other.public_key());
    }

    #[test]
    fn a_user_jwt_is_signed_by_its_account_and_carries_its_tags() {
        let key = SigningKey::generate();
        let account = derive(&key, DerivedKey::MarketAccount).unwrap();
        let user = KeyPair::new_user();
        let tags = vec!["carnet-host:v1".to_owned()];
        let jwt = user_jwt(&account, &user, "v1", None, &tags, Utc::now()).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        let signature = unb64(parts[2]).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        assert!(account.verify(input.as_bytes(), &signature).is_ok());
        let c = claims(&jwt).unwrap();
        assert_eq!(c["iss"], account.public_key());
        assert_eq!(c["sub"], user.public_key());
        assert_eq!(c["nats"]["tags"][0], "carnet-host:v1");
        assert!(claims("a.b").is_err());
    }
}
