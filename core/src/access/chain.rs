//! The access log's HMAC chain. Each entry's MAC covers the previous entry's MAC and this
//! entry's position, id, time, vendor, client and sealed content, under a key derived from the
//! vault key; a sealed head in `meta` keeps the count and the last MAC. So an entry edited,
//! removed from the middle, or cut from the end is found by `verify`, which names the first
//! entry that does not check out. Entries written before the chain existed are chained (trusted
//! as they are) the first time the log is appended to.
//!
//! Retention removes the oldest entries behind a sealed checkpoint (`checkpoint.rs`): the chain
//! then resumes from the checkpoint's position and MAC, and the head's count still counts the
//! pruned entries. `verify` reads the log one row at a time: its memory does not grow with it.

use carnet_schemas::{AuditVerification, BadEntry, PrunedEntries};
use data_encoding::BASE64URL_NOPAD;
use ring::hmac;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::checkpoint::{self, Checkpoint};
use crate::store::StoreError;
use crate::store::access::{self as rows, AccessRow};
use crate::store::records::{self, millis};
use crate::vault::Keys;

const HEAD: &str = "access_log_head";

/// Rows chained per read when a log written before the chain is chained for the first time.
const CHAIN_CHUNK: usize = 1024;

/// The chain's head: how many entries were ever written (pruned ones included) and the MAC
/// of the last.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Head {
    pub count: u64,
    pub last_seq: i64,
    pub last_mac: String,
    /// Runs of identical reads being compacted (`log.rs`): sealed with the head, in the same
    /// transaction as the entries, so a crash loses no more of their counts than of entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runs: Vec<Run>,
}

/// Identical reads after a logged one, counted until the window closes.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    /// A digest of what makes reads identical (vendor, client and the entry's content).
    pub key: String,
    /// The entry of the first read.
    pub seq: i64,
    pub vendor_id: String,
    pub client_id: String,
    /// When the first read was made; the run closes `access_log_compact_window` after.
    pub started: chrono::DateTime<chrono::Utc>,
    /// Reads after the first, and the times of the first and last of them.
    pub count: u64,
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}

/// The bytes of the MAC a new entry stores: HMAC-SHA256 truncated to 128 bits. Entries
/// written before schema 8 keep their 32 bytes; the chain feeds each stored MAC, whatever its
/// length, into the next.
pub const MAC_LEN: usize = 16;

/// The (full, 32-byte) MAC of an entry given the previous one's stored MAC.
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

pub(super) fn decode_mac(mac: &str) -> Vec<u8> {
    BASE64URL_NOPAD.decode(mac.as_bytes()).unwrap_or_default()
}

/// Whether `row` carries the MAC it should after `previous` (its full 32 bytes, or their
/// first `MAC_LEN`); the MAC the next entry chains from (the stored one).
pub(super) fn checks_out<T>(keys: &Keys, previous: &[u8], row: &AccessRow<T>) -> (bool, Vec<u8>) {
    let m = mac(keys.access_log(), previous, row);
    let len = row.mac.len();
    let ok = (len == MAC_LEN || len == m.len())
        && bool::from(subtle::ConstantTimeEq::ct_eq(&m[..len], row.mac.as_slice()));
    if ok {
        (true, row.mac.clone())
    } else {
        (false, m[..MAC_LEN].to_vec())
    }
}

/// Reads the head; `None` before the chain exists.
pub fn head(c: &Connection, keys: &Keys) -> Result<Option<Head>, StoreError> {
    Ok(records::meta_get_sealed(c, keys, HEAD)?.flatten())
}

pub fn save_head(c: &Connection, keys: &Keys, head: &Head) -> Result<(), StoreError> {
    records::meta_put_sealed(c, keys, HEAD, head)
}

/// The head to append after: the saved one, or (first time) one built by chaining every entry
/// already there, a chunk of rows at a time.
pub fn head_for_append(c: &Connection, keys: &Keys) -> Result<Head, StoreError> {
    if let Some(h) = head(c, keys)? {
        return Ok(h);
    }
    let mut h = Head::default();
    let mut previous = Vec::new();
    loop {
        let chunk = rows::access_chunk::<()>(c, h.last_seq, CHAIN_CHUNK)?;
        for row in &chunk {
            let m = mac(keys.access_log(), &previous, row);
            rows::set_access_mac(c, row.seq, &m)?;
            h.count += 1;
            h.last_seq = row.seq;
            previous = m;
        }
        if chunk.len() < CHAIN_CHUNK {
            break;
        }
    }
    h.last_mac = BASE64URL_NOPAD.encode(&previous);
    Ok(h)
}

/// Chains `row` after `head` (sets its position and MAC) and moves the head on.
pub fn link<T>(keys: &Keys, head: &mut Head, row: &mut AccessRow<T>) {
    row.seq = head.last_seq + 1;
    row.mac = mac(keys.access_log(), &decode_mac(&head.last_mac), row);
    row.mac.truncate(MAC_LEN);
    head.count += 1;
    head.last_seq = row.seq;
    head.last_mac = BASE64URL_NOPAD.encode(&row.mac);
}

fn bad(seq: i64, reason: &str, entries: u64, pruned: Option<PrunedEntries>) -> AuditVerification {
    AuditVerification {
        ok: false,
        entries,
        first_bad: Some(BadEntry {
            seq,
            reason: reason.into(),
        }),
        pruned,
        ..AuditVerification::unchecked()
    }
}

/// Checks the whole log against its chain, checkpoint and head, one row at a time. Call it
/// inside a read transaction, so the head and the rows are one snapshot.
pub fn verify(c: &Connection, keys: &Keys) -> Result<AuditVerification, StoreError> {
    let head = head(c, keys)?;
    let checkpoint = match checkpoint::read(c, keys)? {
        Ok(cp) => cp,
        Err(()) => {
            return Ok(bad(
                1,
                "the pruning checkpoint does not open: it was altered",
                0,
                None,
            ));
        }
    };
    let pruned = checkpoint.as_ref().map(Checkpoint::summary);
    let mut stmt = rows::access_chain_statement(c)?;
    let mut cursor = stmt.query([])?;
    let Some(head) = head else {
        return Ok(match cursor.next()? {
            None if checkpoint.is_none() => AuditVerification {
                ok: true,
                ..AuditVerification::unchecked()
            },
            None => bad(
                1,
                "the log's head is missing or does not open: it was removed or altered",
                0,
                pruned,
            ),
            Some(first) => bad(
                rows::map_access::<()>(first)?.seq,
                "the log's head is missing or does not open: it was removed or altered",
                0,
                pruned,
            ),
        });
    };
    let (mut previous, mut expected_seq) = match &checkpoint {
        Some(cp) => (decode_mac(&cp.last_mac), Some(cp.last_seq + 1)),
        None => (Vec::new(), None),
    };
    let mut count = 0u64;
    let mut last_seq = checkpoint.as_ref().map_or(0, |cp| cp.last_seq);
    while let Some(r) = cursor.next()? {
        let row = rows::map_access::<()>(r)?;
        // Without a checkpoint the log starts at 1 (or wherever a log older than the chain did).
        let expected = *expected_seq.get_or_insert(row.seq.min(1));
        if row.seq != expected {
            return Ok(bad(
                expected,
                &format!(
                    "entry {expected} is missing (the next one is {}): entries were removed",
                    row.seq
                ),
                count,
                pruned,
            ));
        }
        let (ok, m) = checks_out(keys, &previous, &row);
        if !ok {
            return Ok(bad(
                row.seq,
                "its MAC does not match: the entry was altered, or one before it was removed",
                count,
                pruned,
            ));
        }
        previous = m;
        count += 1;
        last_seq = row.seq;
        expected_seq = Some(row.seq + 1);
    }
    let written = count + checkpoint.as_ref().map_or(0, |cp| cp.pruned);
    if written != head.count || (written > 0 && BASE64URL_NOPAD.encode(&previous) != head.last_mac)
    {
        return Ok(bad(
            last_seq + 1,
            &format!(
                "the log ends after {written} entries but {} were written: the last ones were removed",
                head.count
            ),
            count,
            pruned,
        ));
    }
    Ok(AuditVerification {
        ok: true,
        entries: count,
        pruned,
        ..AuditVerification::unchecked()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::Sealed;
    use crate::crypto::VaultKey;

    fn row(seq: i64, mac: Vec<u8>) -> AccessRow<()> {
        AccessRow {
            seq,
            id: rows::derived_entry_id(seq),
            at: chrono::DateTime::from_timestamp_millis(1_700_000_000_000).unwrap(),
            vendor_id: "ven_a".into(),
            client_id: "cli_a".into(),
            sealed: Sealed::from_stored(vec![7; 40]),
            mac,
        }
    }

    #[test]
    fn new_entries_carry_16_bytes_and_old_32_byte_macs_still_chain() {
        let keys = Keys::new(VaultKey::generate().unwrap());
        let mut head = Head::default();
        let mut first = row(0, Vec::new());
        link(&keys, &mut head, &mut first);
        assert_eq!(first.mac.len(), MAC_LEN);
        let (ok, next) = checks_out(&keys, &[], &first);
        assert!(ok);
        assert_eq!(next, first.mac, "the next entry chains from the stored MAC");

        // An entry written before schema 8: the full MAC, and the next one chains from it.
        let full = mac(keys.access_log(), &first.mac, &row(2, Vec::new()));
        let old = row(2, full.clone());
        let (ok, next) = checks_out(&keys, &first.mac, &old);
        assert!(ok);
        assert_eq!(next, full);
        let mut head = Head {
            count: 2,
            last_seq: 2,
            last_mac: BASE64URL_NOPAD.encode(&full),
            runs: Vec::new(),
        };
        let mut third = row(0, Vec::new());
        link(&keys, &mut head, &mut third);
        assert!(checks_out(&keys, &full, &third).0);
        assert!(
            !checks_out(&keys, &full[..MAC_LEN], &third).0,
            "chained from the full MAC, not its prefix"
        );

        // Any other length, a MAC cut shorter, or a flipped bit does not check out.
        for bad in [full[..20].to_vec(), full[..8].to_vec(), Vec::new(), {
            let mut m = full.clone();
            m[31] ^= 1;
            m
        }] {
            assert!(!checks_out(&keys, &first.mac, &row(2, bad)).0);
        }
    }
}
