//! The sealed content of an access-log entry, in its compact binary form. An entry used to be
//! sealed JSON (about 580 bytes on disk for a pull of 10 intents, 8.5 KB for a page of 200);
//! it is now a few bytes before its ids: the endpoint as a code of `ENDPOINTS`, the scopes as
//! their bits, the status, the grant id and each returned id as 1 + 10 bytes (their prefix as
//! a code, their random part raw), and the withheld fields deduplicated: each distinct set once
//! as a bit mask, then one byte per id naming its set. Entries written as JSON still open
//! (`open`): the first byte tells the forms apart (`{` for JSON).

use carnet_schemas::{IntentField, Repeats, ScopeSet};
use chrono::DateTime;
use zeroize::Zeroizing;

use super::log::{AccessEvent, AccessRecord, Withheld};
use crate::crypto::{Keys, Sealed, Table, Unreadable};

/// The first byte of a compact record (JSON starts with `{`).
const COMPACT_V1: u8 = 0xC1;
/// The first byte of a compact record of repeated reads: the first read's position, the count
/// and the time of the first repeat come next, then the record as `COMPACT_V1`'s.
const COMPACT_REPEATS: u8 = 0xC2;

/// Endpoint codes (code = position + 1). Append only: a code, once written, means its name
/// forever. A name not in the table is written out.
pub const ENDPOINTS: &[&str] = &[
    "POST /oauth/token",
    "GET /v1/vendor/intents",
    "GET /v1/vendor/intents/{id}",
    "POST /v1/vendor/intents/{id}/offers",
    "GET /v1/vendor/offers",
    "GET /v1/vendor/relationship",
    "GET /v1/vendor/interactions",
    "GET /v1/vendor/interactions/{id}",
    "GET /v1/vendor/profile",
    "GET /v1/vendor/receipts",
    "GET /v1/vendor/promises",
    "GET /v1/vendor/documents/{id}",
];

/// Id prefixes (code = position + 1); append only, like `ENDPOINTS`.
const ID_PREFIXES: &[&str] = &[
    "ven", "int", "pur", "inc", "cli", "grt", "rcp", "itt", "ofr", "doc",
];

/// Withheld fields as bits (bit = position); append only.
const FIELDS: [IntentField; 6] = [
    IntentField::Description,
    IntentField::PriceSpecification,
    IntentField::EligibleQuantity,
    IntentField::AreaServed,
    IntentField::AvailableDeliveryMethod,
    IntentField::ItemCondition,
];

const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
const OTHER: u8 = 0xFF;

/// The value of an `ALPHABET` digit.
fn digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'v' => Some(b - b'a' + 10),
        _ => None,
    }
}

fn varint(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7F) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn text(out: &mut Vec<u8>, s: &str) {
    varint(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

/// An id as its prefix code and 10 raw bytes, or (any other string) written out.
fn id(out: &mut Vec<u8>, s: &str) {
    let packed = s.split_once('_').and_then(|(prefix, random)| {
        let code = ID_PREFIXES.iter().position(|p| *p == prefix)?;
        if random.len() != 16 {
            return None;
        }
        let mut bits: u128 = 0;
        for b in random.bytes() {
            bits = (bits << 5) | u128::from(digit(b)?);
        }
        Some((code as u8 + 1, bits.to_be_bytes()))
    });
    match packed {
        Some((code, bits)) => {
            out.push(code);
            out.extend_from_slice(&bits[6..]);
        }
        None => {
            out.push(OTHER);
            text(out, s);
        }
    }
}

fn mask(fields: &[IntentField]) -> u8 {
    fields
        .iter()
        .filter_map(|f| FIELDS.iter().position(|g| g == f))
        .fold(0, |m, i| m | (1 << i))
}

/// What a compact record holds.
struct Parts<'a> {
    endpoint: &'a str,
    scope_bits: u8,
    status: u16,
    grant_id: Option<&'a str>,
    ids: &'a [String],
    withheld: Option<&'a Withheld>,
    repeats: Option<&'a Repeats>,
}

/// The compact plaintext of an event's entry.
pub fn encode(e: &AccessEvent) -> Zeroizing<Vec<u8>> {
    encode_parts(&Parts {
        endpoint: &e.endpoint,
        scope_bits: e.scopes.bits(),
        status: e.status,
        grant_id: e.grant_id.as_ref().map(|g| g.as_str()),
        ids: &e.ids,
        withheld: e.withheld.as_deref(),
        repeats: None,
    })
}

/// The compact plaintext of a record (a scope that does not parse is kept as no scope).
pub fn encode_record(r: &AccessRecord) -> Zeroizing<Vec<u8>> {
    encode_parts(&Parts {
        endpoint: &r.endpoint,
        scope_bits: ScopeSet::parse_oauth(&r.scope).map_or(0, |s| s.bits()),
        status: r.status,
        grant_id: r.grant_id.as_ref().map(|g| g.as_str()),
        ids: &r.ids,
        withheld: Some(&r.withheld),
        repeats: r.repeats.as_ref(),
    })
}

fn encode_parts(e: &Parts<'_>) -> Zeroizing<Vec<u8>> {
    let mut out = Vec::with_capacity(32 + 11 * e.ids.len());
    match e.repeats {
        None => out.push(COMPACT_V1),
        Some(r) => {
            out.push(COMPACT_REPEATS);
            varint(&mut out, usize::try_from(r.first_seq).unwrap_or(0));
            varint(&mut out, usize::try_from(r.count).unwrap_or(usize::MAX));
            out.extend_from_slice(&r.from.timestamp_millis().to_be_bytes());
        }
    }
    match ENDPOINTS.iter().position(|n| *n == e.endpoint) {
        Some(i) => out.push(i as u8 + 1),
        None => {
            out.push(OTHER);
            text(&mut out, e.endpoint);
        }
    }
    out.push(e.scope_bits);
    out.extend_from_slice(&e.status.to_be_bytes());
    match e.grant_id {
        Some(g) => {
            out.push(1);
            id(&mut out, g);
        }
        None => out.push(0),
    }
    varint(&mut out, e.ids.len());
    for i in e.ids.iter() {
        id(&mut out, i);
    }
    // Withheld fields: the distinct sets, then each id's set (0: none).
    let withheld = e.withheld;
    let mut sets: Vec<u8> = Vec::new();
    let per_id: Vec<u8> = e
        .ids
        .iter()
        .map(|i| match withheld.and_then(|w| w.get(i)) {
            Some(fields) if !fields.is_empty() => {
                let m = mask(fields);
                let at = sets.iter().position(|s| *s == m).unwrap_or_else(|| {
                    sets.push(m);
                    sets.len() - 1
                });
                at as u8 + 1
            }
            _ => 0,
        })
        .collect();
    // More distinct sets than a byte can name cannot happen (6 fields: 63 sets).
    varint(&mut out, sets.len());
    out.extend_from_slice(&sets);
    if !sets.is_empty() {
        out.extend_from_slice(&per_id);
    }
    Zeroizing::new(out)
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(a)
    }
    fn varint(&mut self) -> Option<usize> {
        let mut n = 0usize;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= usize::from(b & 0x7F) << shift;
            if b < 0x80 {
                return Some(n);
            }
        }
        None
    }
    fn text(&mut self) -> Option<String> {
        let n = self.varint()?;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }
    fn id(&mut self) -> Option<String> {
        let code = self.byte()?;
        if code == OTHER {
            return self.text();
        }
        let prefix = ID_PREFIXES.get(usize::from(code).checked_sub(1)?)?;
        let mut bits = [0u8; 16];
        bits[6..].copy_from_slice(self.take(10)?);
        let bits = u128::from_be_bytes(bits);
        let mut s = String::with_capacity(20);
        s.push_str(prefix);
        s.push('_');
        for i in (0..16).rev() {
            s.push(char::from(ALPHABET[((bits >> (i * 5)) & 31) as usize]));
        }
        Some(s)
    }
}

fn decode(bytes: &[u8]) -> Option<AccessRecord> {
    let mut r = Reader(bytes);
    let repeats = match r.byte()? {
        COMPACT_V1 => None,
        COMPACT_REPEATS => Some(Repeats {
            first_seq: i64::try_from(r.varint()?).ok()?,
            count: r.varint()? as u64,
            from: DateTime::from_timestamp_millis(i64::from_be_bytes(r.take(8)?.try_into().ok()?))?,
        }),
        _ => return None,
    };
    let endpoint = match r.byte()? {
        OTHER => r.text()?,
        code => (*ENDPOINTS.get(usize::from(code).checked_sub(1)?)?).to_owned(),
    };
    let scope = ScopeSet::from_bits(r.byte()?).to_oauth();
    let status = u16::from_be_bytes(r.take(2)?.try_into().ok()?);
    let grant_id = match r.byte()? {
        0 => None,
        _ => Some(r.id()?.parse().ok()?),
    };
    let n = r.varint()?;
    let ids = (0..n).map(|_| r.id()).collect::<Option<Vec<_>>>()?;
    let sets = r.varint()?;
    let sets = r.take(sets)?.to_vec();
    let mut withheld = Withheld::new();
    if !sets.is_empty() {
        for (i, at) in ids.iter().zip(r.take(ids.len())?) {
            if *at == 0 {
                continue;
            }
            let m = *sets.get(usize::from(*at) - 1)?;
            let fields = FIELDS
                .iter()
                .enumerate()
                .filter(|(b, _)| m & (1 << b) != 0)
                .map(|(_, f)| *f)
                .collect();
            withheld.insert(i.clone(), fields);
        }
    }
    r.0.is_empty().then_some(AccessRecord {
        grant_id,
        endpoint,
        scope,
        ids,
        status,
        withheld,
        repeats,
    })
}

/// Seals an event's entry, compact, for row `id`.
pub fn seal(keys: &Keys, row_id: &str, e: &AccessEvent) -> Sealed<AccessRecord> {
    Sealed::from_stored(keys.seal().seal_bytes(Table::AccessLog, row_id, &encode(e)))
}

/// Seals a record for row `id`: compact when that form gives it back exactly, else as JSON (a
/// record from an archive may hold what the compact form cannot say, such as a scope this
/// server does not know).
pub fn seal_record(keys: &Keys, row_id: &str, r: &AccessRecord) -> Sealed<AccessRecord> {
    let plain = encode_record(r);
    if decode(&plain).as_ref() == Some(r) {
        Sealed::from_stored(keys.seal().seal_bytes(Table::AccessLog, row_id, &plain))
    } else {
        keys.seal().seal(row_id, r)
    }
}

/// Opens an entry, compact or (written before) JSON.
pub fn open(
    keys: &Keys,
    row_id: &str,
    sealed: &Sealed<AccessRecord>,
) -> Result<AccessRecord, Unreadable> {
    let plain = keys
        .seal()
        .open_bytes(Table::AccessLog, row_id, sealed.as_bytes())?;
    let read = match plain.first() {
        Some(&COMPACT_V1 | &COMPACT_REPEATS) => decode(&plain),
        _ => serde_json::from_slice(&plain).ok(),
    };
    read.ok_or_else(|| Unreadable {
        table: Table::AccessLog.name(),
        id: row_id.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::sync::Arc;

    use carnet_schemas::{IntentField, ScopeSet};

    use super::*;
    use crate::crypto::VaultKey;

    fn some_id<K: carnet_schemas::IdKind>(n: u8) -> carnet_schemas::Id<K> {
        carnet_schemas::Id::from_random(&[n; 10])
    }

    fn event(ids: usize, withheld: Option<Withheld>) -> AccessEvent {
        AccessEvent {
            vendor_id: some_id::<carnet_schemas::ids::VendorKind>(1),
            client_id: some_id::<carnet_schemas::ids::ClientKind>(2),
            grant_id: Some(some_id::<carnet_schemas::ids::GrantKind>(3)),
            endpoint: Cow::Borrowed("GET /v1/vendor/intents"),
            scopes: ScopeSet::from_bits(0b101),
            ids: Arc::new(
                (0..ids)
                    .map(|i| some_id::<carnet_schemas::ids::IntentKind>(i as u8).to_string())
                    .collect(),
            ),
            status: 200,
            withheld: withheld.map(Arc::new),
        }
    }

    fn round_trip(e: &AccessEvent) -> AccessRecord {
        let keys = Keys::new(VaultKey::generate().unwrap());
        open(&keys, "row", &seal(&keys, "row", e)).unwrap()
    }

    #[test]
    fn digits_are_the_alphabets_positions() {
        for b in 0..=255u8 {
            let at = ALPHABET.iter().position(|a| *a == b);
            assert_eq!(digit(b).map(usize::from), at, "byte {b}");
        }
    }

    #[test]
    fn a_compact_entry_reads_back_as_it_was_logged() {
        let mut withheld = Withheld::new();
        let e = event(5, None);
        for i in e.ids.iter().take(3) {
            withheld.insert(
                i.clone(),
                vec![IntentField::Description, IntentField::AreaServed],
            );
        }
        withheld.insert(e.ids[4].clone(), vec![IntentField::ItemCondition]);
        let e = AccessEvent {
            withheld: Some(Arc::new(withheld.clone())),
            ..e
        };
        let r = round_trip(&e);
        assert_eq!(r.endpoint, "GET /v1/vendor/intents");
        assert_eq!(r.scope, e.scopes.to_oauth());
        assert_eq!(r.status, 200);
        assert_eq!(r.grant_id, e.grant_id);
        assert_eq!(r.ids, *e.ids);
        assert_eq!(r.withheld, withheld);
    }

    #[test]
    fn what_has_no_code_is_written_out_and_still_reads() {
        let e = AccessEvent {
            endpoint: Cow::Borrowed("GET /v1/vendor/something-new"),
            grant_id: None,
            ids: Arc::new(vec!["itt_nope".into(), "../x".into(), "".into()]),
            status: 403,
            ..event(0, None)
        };
        let r = round_trip(&e);
        assert_eq!(r.endpoint, "GET /v1/vendor/something-new");
        assert_eq!(r.grant_id, None);
        assert_eq!(r.ids, *e.ids);
        assert_eq!(r.status, 403);
        assert!(r.withheld.is_empty());
    }

    #[test]
    fn an_entry_sealed_as_json_before_still_opens() {
        let keys = Keys::new(VaultKey::generate().unwrap());
        let old = AccessRecord {
            grant_id: None,
            endpoint: "POST /oauth/token".into(),
            scope: "intents:read".into(),
            ids: vec![],
            status: 200,
            withheld: Withheld::new(),
            repeats: None,
        };
        let sealed = keys.seal().seal("row", &old);
        let r = open(&keys, "row", &sealed).unwrap();
        assert_eq!(r.endpoint, old.endpoint);
        assert_eq!(r.scope, old.scope);
        // Another row's id does not open it.
        assert!(open(&keys, "other", &sealed).is_err());
    }

    #[test]
    fn a_compact_entry_costs_a_few_bytes_plus_eleven_per_id() {
        let e = event(10, None);
        let n = encode(&e).len();
        assert!(n <= 8 + 11 + 1 + 10 * 11 + 1, "{n} bytes");
        // The same withheld set on 200 intents costs one byte per intent, and the set once.
        let big = event(200, None);
        let withheld: Withheld = big
            .ids
            .iter()
            .map(|i| (i.clone(), vec![IntentField::PriceSpecification]))
            .collect();
        let big = AccessEvent {
            withheld: Some(Arc::new(withheld)),
            ..big
        };
        let n = encode(&big).len();
        assert!(n <= 8 + 11 + 2 + 200 * 11 + 2 + 200, "{n} bytes");
    }

    #[test]
    fn a_cut_or_padded_record_does_not_read() {
        let e = event(3, None);
        let plain = encode(&e);
        for cut in 1..plain.len() {
            assert!(decode(&plain[..cut]).is_none(), "cut at {cut}");
        }
        let mut padded = plain.to_vec();
        padded.push(0);
        assert!(decode(&padded).is_none());
        assert!(decode(&plain).is_some());
    }

    #[test]
    fn a_closing_entry_keeps_its_count_and_span() {
        let keys = Keys::new(VaultKey::generate().unwrap());
        let mut r = round_trip(&event(2, None));
        r.repeats = Some(Repeats {
            first_seq: 41,
            count: 3_599,
            from: DateTime::from_timestamp_millis(1_765_000_000_123).unwrap(),
        });
        let sealed = seal_record(&keys, "row", &r);
        assert_eq!(
            sealed.as_bytes().len(),
            1 + 12 + encode_record(&r).len() + 16,
            "compact, not JSON"
        );
        assert_eq!(open(&keys, "row", &sealed).unwrap(), r);
        // What the compact form cannot say exactly is sealed as JSON, and reads back the same.
        let odd = AccessRecord {
            scope: "not-a-scope".into(),
            ..r
        };
        assert_eq!(
            open(&keys, "row", &seal_record(&keys, "row", &odd)).unwrap(),
            odd
        );
    }
}
