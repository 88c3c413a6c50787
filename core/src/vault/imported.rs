//! Key material taken over from an imported archive: the pseudonym key and the receipt seeds
//! of the imported vendors. They replace the keys this vault would derive, so a vault moved to
//! another server shows every vendor the same `customer_ref` and signs with the same receipt
//! keys. Kept sealed in `meta`, bound to its row like any record; never written in clear.

use std::collections::BTreeMap;

use data_encoding::BASE64URL_NOPAD;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto::{ImportedKeys, KEY_LEN, SubKey};
use crate::crypto::{SealKey, Table, Unreadable};
use crate::store::{self, records};

const ROW: &str = "imported_keys";

/// The stored form (base64url), wiped once serialised or parsed.
#[derive(Serialize, Deserialize)]
struct Stored {
    pseudonym: String,
    receipt_seeds: BTreeMap<String, String>,
}

impl Drop for Stored {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.pseudonym.zeroize();
        for seed in self.receipt_seeds.values_mut() {
            seed.zeroize();
        }
    }
}

/// Decodes a 32-byte key written as base64url without padding.
pub fn decode_key(text: &str) -> Option<SubKey> {
    let bytes = Zeroizing::new(BASE64URL_NOPAD.decode(text.as_bytes()).ok()?);
    let arr: [u8; KEY_LEN] = bytes.as_slice().try_into().ok()?;
    Some(SubKey::from_bytes(arr))
}

/// A key as base64url without padding.
pub fn encode_key(key: &SubKey) -> Zeroizing<String> {
    Zeroizing::new(BASE64URL_NOPAD.encode(key.expose()))
}

/// Reads the imported keys, if this vault was filled by an import.
pub fn load(c: &Connection, seal: &SealKey) -> Result<Option<ImportedKeys>, LoadError> {
    let Some(blob) = records::meta_get(c, ROW)? else {
        return Ok(None);
    };
    let unreadable = || Unreadable {
        table: Table::Meta.name(),
        id: ROW.into(),
    };
    let json = seal.open_bytes(Table::Meta, ROW, &blob)?;
    let stored: Stored = serde_json::from_slice(&json).map_err(|_| unreadable())?;
    let pseudonym = decode_key(&stored.pseudonym).ok_or_else(unreadable)?;
    let mut receipt_seeds = BTreeMap::new();
    for (vendor, seed) in &stored.receipt_seeds {
        receipt_seeds.insert(vendor.clone(), decode_key(seed).ok_or_else(unreadable)?);
    }
    Ok(Some(ImportedKeys {
        pseudonym,
        receipt_seeds,
    }))
}

/// Stores the imported keys (replacing any an earlier import stored).
pub fn save(c: &Connection, seal: &SealKey, keys: &ImportedKeys) -> store::Result<()> {
    let stored = Stored {
        pseudonym: encode_key(&keys.pseudonym).to_string(),
        receipt_seeds: keys
            .receipt_seeds
            .iter()
            .map(|(v, k)| (v.clone(), encode_key(k).to_string()))
            .collect(),
    };
    let json = Zeroizing::new(serde_json::to_vec(&stored).unwrap_or_default());
    records::meta_put(c, ROW, &seal.seal_bytes(Table::Meta, ROW, &json))
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Store(#[from] store::StoreError),
    #[error("{0}")]
    Unreadable(#[from] Unreadable),
}
