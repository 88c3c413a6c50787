//! What the index keeps about one record, and the changes it is told of. Ids are kept as
//! their 10 random bytes (`Rid`), which sort as the ids' text does.

use carnet_schemas::{AttachedTo, Channel, Id, IdKind};
use chrono::{DateTime, FixedOffset, NaiveDate};

/// A record id's random part.
pub type Rid = [u8; 10];

const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";

/// The random part of `id` (`ven_…`), if it has the shape of an id.
pub fn rid(id: &str) -> Option<Rid> {
    let (_, random) = id.split_once('_')?;
    if random.len() != 16 {
        return None;
    }
    let mut bits: u128 = 0;
    for b in random.bytes() {
        let v = ALPHABET.iter().position(|a| *a == b)?;
        bits = (bits << 5) | v as u128;
    }
    let bytes = bits.to_be_bytes();
    let mut out = [0u8; 10];
    out.copy_from_slice(&bytes[6..]);
    Some(out)
}

/// The id of kind `K` whose random part is `rid`.
pub fn id_of<K: IdKind>(rid: &Rid) -> Id<K> {
    let mut full = [0u8; 16];
    full[6..].copy_from_slice(rid);
    let mut text = String::with_capacity(K::PREFIX.len() + 17);
    text.push_str(K::PREFIX);
    text.push('_');
    let bits = u128::from_be_bytes(full);
    for i in (0..16).rev() {
        text.push(char::from(ALPHABET[((bits >> (i * 5)) & 31) as usize]));
    }
    // Sixteen characters of the alphabet after the prefix: always an id.
    text.parse().unwrap_or_else(|_| Id::from_random(rid))
}

/// The kinds of records the index holds (the wire's kinds of search results).
pub use carnet_schemas::RecordKind;

/// A record's place in its listing, after its vendor: the two numbers of its kind's sort key
/// (`Kind::sort_key`) and its id.
pub type Key = (i64, i64, Rid);

/// A time to the nanosecond as (milliseconds, nanoseconds within the millisecond), which
/// orders as the time does.
pub type Instant = (i64, u32);

pub fn instant(t: &DateTime<FixedOffset>) -> Instant {
    (t.timestamp_millis(), t.timestamp_subsec_nanos() % 1_000_000)
}

/// What the index keeps about a record.
#[derive(Debug, Clone)]
pub struct Item {
    pub kind: RecordKind,
    pub id: Rid,
    /// The vendor it belongs to (`None` for a vendor).
    pub vendor: Option<Rid>,
    /// The sort key's numbers (see `Key`); a vendor sorts by `name`.
    pub key: (i64, i64),
    /// A vendor's name, lower-cased (its listing's order).
    pub name: Option<Box<str>>,
    /// An interaction's time.
    pub at: Option<Instant>,
    pub channel: Option<Channel>,
    /// An interaction's sentiment (−2…+2), for a vendor's charts and loyalty facts.
    pub sentiment: Option<i8>,
    /// An interaction's next step, when not done: its due date if any.
    pub pending: Option<Option<NaiveDate>>,
    /// A purchase's warranty end.
    pub warranty_until: Option<NaiveDate>,
    /// What breaks ties between equal search scores (newer first), in milliseconds.
    pub newest: i64,
    /// Its words: (text, whether a title).
    pub texts: Vec<(String, bool)>,
    /// A document's search hit (documents only).
    pub document: Option<Box<DocumentFacts>>,
}

/// What the index keeps of a document to answer a search with it, and to forget it with the
/// record it is attached to (whose deletion deletes it in the database): its title and file
/// name (in memory only, as every word the index holds), never its content.
#[derive(Debug, Clone)]
pub struct DocumentFacts {
    /// Its title, else its file name, else "(untitled)".
    pub title: Box<str>,
    pub file_name: Option<Box<str>>,
    pub attached_to: AttachedTo,
}

impl Item {
    /// A record of `kind` with id `id` (`newest`: its time in milliseconds), of `vendor`,
    /// sorted by `key`, with nothing else known yet.
    pub fn new(
        kind: RecordKind,
        id: &str,
        vendor: Option<&str>,
        key: (i64, i64),
        newest: i64,
    ) -> Item {
        Item {
            kind,
            id: rid(id).unwrap_or_default(),
            vendor: vendor.and_then(rid),
            key,
            name: None,
            at: None,
            channel: None,
            sentiment: None,
            pending: None,
            warranty_until: None,
            newest,
            texts: Vec::new(),
            document: None,
        }
    }

    /// Adds a text to index (`title`: it names the record, and weighs more).
    pub fn text(&mut self, text: Option<&str>, title: bool) {
        if let Some(t) = text {
            self.texts.push((t.to_owned(), title));
        }
    }
}

/// A change the index is told of, in the order the database commits them.
#[derive(Debug, Clone)]
pub enum Op {
    /// A record was added or rewritten.
    Put(Item),
    /// A record of a vendor (interaction, purchase, incident, promise, document) was deleted
    /// (the documents attached to it with it).
    Remove(RecordKind, Rid),
    /// A vendor was deleted, and its records with it.
    RemoveVendor(Rid),
}

#[cfg(test)]
mod tests {
    use super::*;
    use carnet_schemas::ids::InteractionKind;

    #[test]
    fn ids_round_trip_and_sort_as_text() {
        let mut ids: Vec<Id<InteractionKind>> = (0u8..50)
            .map(|i| Id::from_random(&[i.wrapping_mul(37), 255 - i, i, 0, 1, 2, 3, 4, 5, i]))
            .collect();
        for id in &ids {
            let r = rid(id.as_str()).unwrap();
            assert_eq!(id_of::<InteractionKind>(&r).as_str(), id.as_str());
        }
        let mut rids: Vec<Rid> = ids.iter().map(|i| rid(i.as_str()).unwrap()).collect();
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        rids.sort();
        let back: Vec<String> = rids
            .iter()
            .map(|r| id_of::<InteractionKind>(r).to_string())
            .collect();
        assert_eq!(
            back,
            ids.iter().map(ToString::to_string).collect::<Vec<_>>()
        );
        assert_eq!(rid("int_short"), None);
        assert_eq!(rid("int_zzzzzzzzzzzzzzzz"), None);
    }
}
