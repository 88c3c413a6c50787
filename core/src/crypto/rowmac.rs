//! Row MACs: the rule that makes the clear columns of `carnet.db` unforgeable without the
//! vault key.
//!
//! Sealed blobs are authenticated by their AEAD (bound to table and row id), but the columns
//! that decide access are clear so that SQL can select on them: credential hashes, a grant's
//! expiry and revocation, an intent's state, an interaction's `shared` flag and vendor, an
//! outbox row's recipient and state, the consent-page password in `meta`. A writer of the
//! file who lacks the key could otherwise open doors by editing them. So every row of those
//! tables carries `mac` = HMAC-SHA256, under a key derived from the vault key
//! (`Purpose::RowMac`), over the table's name and the row's clear columns in a fixed order
//! (`store::integrity::PROTECTED` lists them), each value tagged with its SQLite type and
//! length so that no two rows encode alike.
//!
//! This file is the one home of the rule (key and encoding); it never touches the database. `store::integrity` applies it:
//! carnetd's own connections compute the MAC of every row they insert or update, re-MAC a row
//! they update only if its old MAC held, and refuse (never serve) a row whose MAC fails, naming
//! it in the log. What stays possible without the key: deleting rows, and putting back an
//! older copy of a row or of the whole file (a rollback).

use ring::hmac;
use rusqlite::types::ValueRef;

use super::Keys;
use super::key::Purpose;

/// The key of the row MACs (derived from the vault key; held like the other HMAC keys).
pub struct RowMac(hmac::Key);

impl std::fmt::Debug for RowMac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RowMac([redacted])")
    }
}

const DOMAIN: &[u8] = b"carnet/v1/row\0";

fn encode(msg: &mut Vec<u8>, v: ValueRef<'_>) {
    let mut put = |tag: u8, bytes: &[u8]| {
        msg.push(tag);
        msg.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        msg.extend_from_slice(bytes);
    };
    match v {
        ValueRef::Null => put(0, &[]),
        ValueRef::Integer(i) => put(1, &i.to_be_bytes()),
        ValueRef::Real(r) => put(2, &r.to_bits().to_be_bytes()),
        ValueRef::Text(t) => put(3, t),
        ValueRef::Blob(b) => put(4, b),
    }
}

/// What a row's MAC covers: a domain label, the table's name, then each value.
fn message<'a>(table: &str, values: impl IntoIterator<Item = ValueRef<'a>>) -> Vec<u8> {
    let mut msg = Vec::with_capacity(128);
    msg.extend_from_slice(DOMAIN);
    encode(&mut msg, ValueRef::Text(table.as_bytes()));
    for v in values {
        encode(&mut msg, v);
    }
    msg
}

impl RowMac {
    pub fn new(keys: &Keys) -> Self {
        RowMac(hmac::Key::new(
            hmac::HMAC_SHA256,
            keys.derive(Purpose::RowMac, b"").expose(),
        ))
    }

    /// The MAC of a row of `table` whose protected columns hold `values`, in the table's order.
    pub fn sign<'a>(&self, table: &str, values: impl IntoIterator<Item = ValueRef<'a>>) -> Vec<u8> {
        hmac::sign(&self.0, &message(table, values))
            .as_ref()
            .to_vec()
    }

    /// Whether `mac` is the MAC of that row (in constant time). A missing MAC never is.
    pub fn verify<'a>(
        &self,
        table: &str,
        mac: Option<&[u8]>,
        values: impl IntoIterator<Item = ValueRef<'a>>,
    ) -> bool {
        mac.is_some_and(|mac| hmac::verify(&self.0, &message(table, values), mac).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::VaultKey;

    #[test]
    fn a_mac_binds_table_values_types_and_key() {
        let keys = Keys::new(VaultKey::generate().unwrap());
        let m = RowMac::new(&keys);
        let row = [ValueRef::Text(b"grt_1"), ValueRef::Null];
        let mac = m.sign("grants", row);
        assert!(m.verify("grants", Some(&mac), row));
        assert!(!m.verify("grants", None, row));
        assert!(!m.verify("tokens", Some(&mac), row));
        assert!(!m.verify(
            "grants",
            Some(&mac),
            [ValueRef::Text(b"grt_1"), ValueRef::Integer(0)]
        ));
        assert!(!m.verify(
            "grants",
            Some(&mac),
            [ValueRef::Blob(b"grt_1"), ValueRef::Null]
        ));
        // Concatenations do not collide.
        let a = m.sign("t", [ValueRef::Text(b"ab"), ValueRef::Text(b"c")]);
        let b = m.sign("t", [ValueRef::Text(b"a"), ValueRef::Text(b"bc")]);
        assert_ne!(a, b);
        let other = RowMac::new(&Keys::new(VaultKey::generate().unwrap()));
        assert!(!other.verify("grants", Some(&mac), row));
    }
}
