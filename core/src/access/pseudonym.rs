//! Pairwise pseudonyms: the consumer appears to each vendor under its own `customer_ref`,
//! an HMAC of the vendor id under a key derived from the vault key. Two vendors cannot join
//! their records on an identifier Carnet hands out, and the same vendor always sees the same
//! reference.

use carnet_schemas::VendorId;
use ring::hmac;

use crate::vault::Keys;

/// The consumer's reference for `vendor`: `cus_` and 26 base32 characters (128 bits).
pub fn customer_ref(keys: &Keys, vendor: &VendorId) -> String {
    customer_ref_with(keys.pseudonym(), vendor)
}

/// The reference under a given pseudonym key (an archive's, while it is imported).
pub fn customer_ref_with(key: &hmac::Key, vendor: &VendorId) -> String {
    let tag = hmac::sign(key, vendor.as_str().as_bytes());
    let encoded = data_encoding::BASE32HEX_NOPAD.encode(&tag.as_ref()[..16]);
    format!("cus_{}", encoded.to_ascii_lowercase())
}
