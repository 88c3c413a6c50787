//! The access log's HMAC chain. Each entry's MAC covers the previous entry's MAC and this
//! entry's position, id, time, vendor, client and sealed content, under a key derived from the
//! vault key; a sealed head in `meta` keeps the count and the last MAC. So an entry edited,
//! removed from the middle, or cut from the end is found by `verify`, which names the first
//! entry that does not check out. Entries written before the chain existed are chained (trusted
//! as they are) the first time the log is appended to.

use carnet_schemas::{AuditVerification, BadEntry};
use data_encoding::BASE64URL_NOPAD;
use ring::hmac;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::store::StoreError;
use crate::store::access::{self as rows, AccessRow};
use crate::store::records::{self, millis};
use crate::vault::{Keys, Table};

const HEAD: &str = "access_log_head";

/// The chain's head: how many entries there are and the MAC of the last.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Head {
    pub count: u64,
    pub last_seq: i64,
    pub last_mac: String,
}

/// The MAC of an entry given the previous one's.
pub fn mac<T>(key: &hmac::Key, previous: &[u8], r: &AccessRow<T>) -> Vec<u8> {
    let mut ctx = hmac::Context::with_key(key);
    ctx.update(previous);
    ctx.update(&r.seq.to_be_bytes());
    for part in [
        r.id.as_bytes(),
        r.vendor_id.as_bytes(),
        r.client_id.as_bytes(),
        r.sealed.as_bytes(),
    ] {
        ctx.update(&(part.len() as u64).to_be_bytes());
        ctx.update(part);
    }
    ctx.update(&millis(r.at).to_be_bytes());
    ctx.sign().as_ref().to_vec()
}

fn last_mac(head: &Head) -> Vec<u8> {
    BASE64URL_NOPAD
        .decode(head.last_mac.as_bytes())
        .unwrap_or_default()
}

/// Reads the head; `None` before the chain exists.
pub fn head(c: &Connection, keys: &Keys) -> Result<Option<Head>, StoreError> {
    let Some(blob) = records::meta_get(c, HEAD)? else {
        return Ok(None);
    };
    Ok(keys
        .seal()
        .open_bytes(Table::Meta, HEAD, &blob)
        .ok()
        .and_then(|json| serde_json::from_slice(&json).ok()))
}

pub fn save_head(c: &Connection, keys: &Keys, head: &Head) -> Result<(), StoreError> {
    let json = serde_json::to_vec(head).unwrap_or_default();
    records::meta_put(c, HEAD, &keys.seal().seal_bytes(Table::Meta, HEAD, &json))
}

/// The head to append after: the saved one, or (first time) one built by chaining every entry
/// already there.
pub fn head_for_append(c: &Connection, keys: &Keys) -> Result<Head, StoreError> {
    if let Some(h) = head(c, keys)? {
        return Ok(h);
    }
    let mut h = Head::default();
    let mut previous = Vec::new();
    for row in rows::access_chain::<()>(c)? {
        let m = mac(keys.access_log(), &previous, &row);
        rows::set_access_mac(c, row.seq, &m)?;
        h.count += 1;
        h.last_seq = row.seq;
        previous = m;
    }
    h.last_mac = BASE64URL_NOPAD.encode(&previous);
    Ok(h)
}

/// Chains `row` after `head` (sets its position and MAC) and moves the head on.
pub fn link<T>(keys: &Keys, head: &mut Head, row: &mut AccessRow<T>) {
    row.seq = head.last_seq + 1;
    row.mac = mac(keys.access_log(), &last_mac(head), row);
    head.count += 1;
    head.last_seq = row.seq;
    head.last_mac = BASE64URL_NOPAD.encode(&row.mac);
}

/// Checks the whole log against its chain and head.
pub fn verify(c: &Connection, keys: &Keys) -> Result<AuditVerification, StoreError> {
    let rows = rows::access_chain::<()>(c)?;
    let bad = |seq: i64, reason: &str, entries: u64| AuditVerification {
        ok: false,
        entries,
        first_bad: Some(BadEntry {
            seq,
            reason: reason.into(),
        }),
    };
    let Some(head) = head(c, keys)? else {
        return Ok(match rows.first() {
            None => AuditVerification {
                ok: true,
                entries: 0,
                first_bad: None,
            },
            Some(first) => bad(
                first.seq,
                "the log's head is missing or does not open: it was removed or altered",
                0,
            ),
        });
    };
    let mut previous = Vec::new();
    let mut expected_seq = rows.first().map_or(1, |r| r.seq.min(1));
    for (i, row) in rows.iter().enumerate() {
        let checked = i as u64;
        if row.seq != expected_seq {
            return Ok(bad(
                expected_seq,
                &format!(
                    "entry {expected_seq} is missing (the next one is {}): entries were removed",
                    row.seq
                ),
                checked,
            ));
        }
        let m = mac(keys.access_log(), &previous, row);
        if row.mac.is_empty()
            || !bool::from(subtle::ConstantTimeEq::ct_eq(
                m.as_slice(),
                row.mac.as_slice(),
            ))
        {
            return Ok(bad(
                row.seq,
                "its MAC does not match: the entry was altered, or one before it was removed",
                checked,
            ));
        }
        previous = m;
        expected_seq = row.seq + 1;
    }
    let count = rows.len() as u64;
    if count != head.count || (count > 0 && BASE64URL_NOPAD.encode(&previous) != head.last_mac) {
        let next = rows.last().map_or(1, |r| r.seq + 1);
        return Ok(bad(
            next,
            &format!(
                "the log ends after {count} entries but {} were written: the last ones were removed",
                head.count
            ),
            count,
        ));
    }
    Ok(AuditVerification {
        ok: true,
        entries: count,
        first_bad: None,
    })
}
