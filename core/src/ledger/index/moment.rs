//! A place in a vendor's timeline (`Moment`), which the index answers and a cursor carries.

use super::item::{Key, RecordKind};

pub(super) const DAY_MS: i64 = 86_400_000;
/// 1970-01-01 in days from the common era (how a purchase's day is kept).
pub(super) const UNIX_DAY_CE: i64 = 719_163;

/// A place in a vendor's timeline, which runs newest first: by time (a purchase's is its day at
/// 00:00 UTC), then by `rank` (interactions 0, purchases 1, incidents 2; the caller ranks
/// records the index does not hold after those), then by listing key.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct Moment {
    /// Minus the time, in milliseconds.
    pub neg_ms: i64,
    pub rank: u8,
    pub key: Key,
}

impl Moment {
    /// The place of the record of `kind` at `key` in its listing.
    pub fn of(kind: RecordKind, key: Key) -> Moment {
        let (neg_ms, rank) = match kind {
            RecordKind::Purchase => ((key.0 + UNIX_DAY_CE).saturating_mul(DAY_MS), 1),
            RecordKind::Incident => (key.0, 2),
            // Not in a timeline; ranked after the others should one be asked for.
            RecordKind::Promise => (key.0, 3),
            RecordKind::Document => (key.0, 4),
            RecordKind::Interaction | RecordKind::Vendor => (key.0, 0),
        };
        Moment { neg_ms, rank, key }
    }

    /// Its time, in milliseconds.
    pub fn ms(&self) -> i64 {
        -self.neg_ms
    }
}
