//! Consent receipts: one per grant, with the Kantara Consent Receipt v1.1 fields, signed as a
//! compact JWS (EdDSA) with the vendor's own receipt key, an Ed25519 key derived from the
//! vault key and the vendor id. The public keys are published as a JWK set, so owner and
//! vendor can verify a receipt offline with nothing else.

use carnet_schemas::{
    ConsentReceipt, GrantFields, GrantId, Jwk, PiiController, ReceiptGrant, ReceiptKeys,
    ReceiptPurpose, ReceiptService, VendorFields, VendorId,
};
use chrono::{DateTime, Utc};
use data_encoding::BASE64URL_NOPAD;
use ring::digest::{SHA256, digest};
use ring::signature::{Ed25519KeyPair, KeyPair};

use crate::store::access as rows;
use crate::store::{Store, StoreError, records};
use crate::vault::{Keys, SubKey};

fn key_pair(keys: &Keys, vendor: &VendorId) -> Ed25519KeyPair {
    pair_of_seed(&keys.receipt_seed(vendor.as_str()))
}

/// The key pair of a receipt seed (a vendor's, or one from an archive being imported).
pub fn pair_of_seed(seed: &SubKey) -> Ed25519KeyPair {
    // Any 32 bytes are a valid Ed25519 seed.
    Ed25519KeyPair::from_seed_unchecked(seed.expose()).expect("32-byte Ed25519 seed")
}

/// The key id of a receipt public key: as published, and in each JWS header.
pub fn kid_of(public: &[u8]) -> String {
    let d = digest(&SHA256, public);
    format!("rk_{}", BASE64URL_NOPAD.encode(&d.as_ref()[..12]))
}

/// What a receipt records about one grant.
pub struct ReceiptInput<'a> {
    pub grant_id: &'a GrantId,
    pub grant: &'a GrantFields,
    pub vendor: &'a VendorFields,
    pub customer_ref: String,
    pub jurisdiction: &'a str,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The Kantara v1.1 receipt of a grant.
pub fn build(i: ReceiptInput<'_>) -> ConsentReceipt {
    let g = i.grant;
    let categories: Vec<String> = if g.all_categories {
        vec!["all categories".into()]
    } else {
        g.categories.iter().map(|c| c.to_string()).collect()
    };
    ConsentReceipt {
        version: "KI-CR-v1.1.0".into(),
        jurisdiction: if i.jurisdiction.is_empty() {
            "unspecified".into()
        } else {
            i.jurisdiction.into()
        },
        consent_timestamp: i.created_at.timestamp(),
        collection_method: g.collection_method.clone(),
        consent_receipt_id: g.receipt_id.to_string(),
        language: "en".into(),
        pii_principal_id: i.customer_ref,
        pii_controllers: vec![PiiController {
            pii_controller: i.vendor.name.to_string(),
            url: i.vendor.website.as_ref().map(|w| w.to_string()),
            on_behalf: false,
        }],
        policy_url: String::new(),
        services: vec![ReceiptService {
            service: "Carnet vendor access".into(),
            purposes: vec![ReceiptPurpose {
                purpose: g.purpose.as_ref().map_or_else(
                    || "Access granted by the consumer through Carnet".into(),
                    |p| p.to_string(),
                ),
                purpose_category: g.scopes.iter().map(|s| s.describe().to_owned()).collect(),
                consent_type: "EXPLICIT".into(),
                pii_category: categories,
                primary_purpose: true,
                termination: format!(
                    "ends {} or when the consumer revokes it, whichever is first",
                    i.expires_at.to_rfc3339()
                ),
                third_party_disclosure: false,
            }],
        }],
        sensitive: false,
        spi_cat: vec![],
        carnet: ReceiptGrant {
            grant_id: i.grant_id.clone(),
            scopes: g.scopes.clone(),
            categories: g.categories.clone(),
            all_categories: g.all_categories,
            expires_at: i.expires_at,
        },
    }
}

/// The public key that verifies `vendor`'s receipts.
pub fn jwk(keys: &Keys, vendor: &VendorId) -> Jwk {
    let pair = key_pair(keys, vendor);
    let public = pair.public_key().as_ref();
    Jwk {
        kty: "OKP".into(),
        crv: "Ed25519".into(),
        x: BASE64URL_NOPAD.encode(public),
        kid: kid_of(public),
        key_use: "sig".into(),
        alg: "EdDSA".into(),
    }
}

/// Signs a receipt as a compact JWS with `vendor`'s receipt key.
pub fn sign(keys: &Keys, vendor: &VendorId, receipt: &ConsentReceipt) -> String {
    let pair = key_pair(keys, vendor);
    let header = serde_json::json!({
        "alg": "EdDSA",
        "kid": kid_of(pair.public_key().as_ref()),
        "typ": "JWT",
    });
    let signing_input = format!(
        "{}.{}",
        BASE64URL_NOPAD.encode(header.to_string().as_bytes()),
        BASE64URL_NOPAD.encode(&serde_json::to_vec(receipt).unwrap_or_default())
    );
    let signature = pair.sign(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        BASE64URL_NOPAD.encode(signature.as_ref())
    )
}

/// The payload of a JWS this server signed (no verification: it comes from the vault).
pub fn payload(jws: &str) -> Option<ConsentReceipt> {
    let part = jws.split('.').nth(1)?;
    let bytes = BASE64URL_NOPAD.decode(part.as_bytes()).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The `meta` key of the published receipt keys. They are public, so they are kept in clear,
/// where a sealed server can still serve them.
pub const RECEIPT_KEYS: &str = "receipt_keys";

/// The receipt keys as last published (none before the first receipt). `checked`: only if
/// their row's MAC holds (the vault is open). A sealed server cannot check it, and serves the
/// row as it is; each unlock publishes the keys again from the vault key, over whatever the
/// row held.
pub fn published_keys(store: &Store, checked: bool) -> Result<ReceiptKeys, StoreError> {
    let stored = store.read(|c| match checked {
        true => records::meta_get(c, RECEIPT_KEYS),
        false => records::meta_get_unchecked(c, RECEIPT_KEYS),
    })?;
    Ok(stored
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(ReceiptKeys { keys: vec![] }))
}

/// Recomputes the key set from every vendor with a receipt and publishes it; called in the
/// transaction that writes a receipt, and once at unlock.
pub fn publish_keys(c: &rusqlite::Connection, keys: &Keys) -> Result<(), StoreError> {
    let vendors = rows::receipt_vendors(c)?;
    let set = ReceiptKeys {
        keys: vendors
            .iter()
            .filter_map(|v| v.parse::<VendorId>().ok())
            .map(|v| jwk(keys, &v))
            .collect(),
    };
    records::meta_put(
        c,
        RECEIPT_KEYS,
        &serde_json::to_vec(&set).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::VaultKey;
    use ring::signature::{ED25519, UnparsedPublicKey};

    #[test]
    fn keys_are_per_vendor_and_stable() {
        let keys = Keys::new(VaultKey::generate().unwrap());
        let a: VendorId = "ven_0000000000000000".parse().unwrap();
        let b: VendorId = "ven_1111111111111111".parse().unwrap();
        assert_eq!(jwk(&keys, &a), jwk(&keys, &a));
        assert_ne!(jwk(&keys, &a).x, jwk(&keys, &b).x);
        let pair = key_pair(&keys, &a);
        let sig = pair.sign(b"x");
        let public = BASE64URL_NOPAD.decode(jwk(&keys, &a).x.as_bytes()).unwrap();
        assert!(
            UnparsedPublicKey::new(&ED25519, public)
                .verify(b"x", sig.as_ref())
                .is_ok()
        );
    }
}
