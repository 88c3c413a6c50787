//! The access log's sealed checkpoint, and retention. Pruning removes the oldest entries (in
//! log order, only those older than the retention) after checking their chain, and records in
//! one sealed value how many were removed, the position and MAC of the last one, and its time.
//! The chain goes on from that MAC, so the remaining entries still prove themselves, and the
//! head still counts every entry ever written: an entry removed without the checkpoint moving
//! along, or a checkpoint edited or removed, is found by `chain::verify`.

use carnet_schemas::PrunedEntries;
use chrono::{DateTime, Utc};
use data_encoding::BASE64URL_NOPAD;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use super::chain;
use crate::store::StoreError;
use crate::store::access as rows;
use crate::store::records;
use crate::vault::Keys;

const CHECKPOINT: &str = "access_log_checkpoint";

/// Entries pruned per write transaction, so pruning a large backlog never holds the writer long.
pub const PRUNE_BATCH: usize = 2048;

/// What retention removed: the chain resumes after `last_seq`, from `last_mac`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Entries pruned, in all.
    pub pruned: u64,
    /// The position of the last entry pruned (0: none of this log's own; see import).
    pub last_seq: i64,
    /// The MAC of the last entry pruned (base64url), where the chain resumes.
    pub last_mac: String,
    /// The time of the last entry pruned.
    pub until: DateTime<Utc>,
}

impl Checkpoint {
    pub fn summary(&self) -> PrunedEntries {
        PrunedEntries {
            entries: self.pruned,
            last_seq: self.last_seq,
            until: self.until,
        }
    }
}

/// The checkpoint: `Ok(None)` when nothing was ever pruned, `Err(())` when it is there but
/// does not open (altered).
#[allow(clippy::result_unit_err)]
pub fn read(c: &Connection, keys: &Keys) -> Result<Result<Option<Checkpoint>, ()>, StoreError> {
    Ok(match records::meta_get_sealed(c, keys, CHECKPOINT)? {
        None => Ok(None),
        Some(opened) => opened.map(Some).ok_or(()),
    })
}

pub fn save(c: &Connection, keys: &Keys, cp: &Checkpoint) -> Result<(), StoreError> {
    records::meta_put_sealed(c, keys, CHECKPOINT, cp)
}

/// Why a prune stopped short of what it was asked.
#[derive(Debug, thiserror::Error)]
pub enum PruneRefused {
    #[error("the access log's checkpoint does not open: it was altered; nothing is pruned")]
    Checkpoint,
    #[error("access-log entry {0} does not check out; nothing from it on is pruned")]
    Entry(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// In the writer's transaction: prunes at most `PRUNE_BATCH` of the oldest entries whose time
/// is before `before`, after checking each against the chain (a stretch that does not check
/// out is kept, as evidence). Returns how many were pruned.
pub fn prune_batch(
    c: &Connection,
    keys: &Keys,
    before: DateTime<Utc>,
) -> Result<usize, PruneRefused> {
    // A log not chained yet (written before the chain) is chained first.
    if chain::head(c, keys)?.is_none() {
        return Ok(0);
    }
    let cp = match read(c, keys)? {
        Ok(cp) => cp,
        Err(()) => return Err(PruneRefused::Checkpoint),
    };
    let after = cp.as_ref().map_or(0, |cp| cp.last_seq);
    let chunk = rows::access_chunk::<()>(c, after, PRUNE_BATCH)?;
    let mut previous = cp
        .as_ref()
        .map_or_else(Vec::new, |cp| chain::decode_mac(&cp.last_mac));
    let mut expected = cp.as_ref().map(|cp| cp.last_seq + 1);
    let mut last: Option<(i64, DateTime<Utc>)> = None;
    let mut refused = None;
    for row in chunk.iter().take_while(|r| r.at < before) {
        let want = *expected.get_or_insert(row.seq.min(1));
        let (ok, m) = chain::checks_out(keys, &previous, row);
        if row.seq != want || !ok {
            refused = Some(PruneRefused::Entry(row.seq.min(want)));
            break;
        }
        previous = m;
        expected = Some(row.seq + 1);
        last = Some((row.seq, row.at));
    }
    let Some((last_seq, until)) = last else {
        return refused.map_or(Ok(0), Err);
    };
    let n = rows::delete_access_through(c, last_seq)?;
    let pruned = cp.as_ref().map_or(0, |cp| cp.pruned) + n as u64;
    let next = Checkpoint {
        pruned,
        last_seq,
        last_mac: BASE64URL_NOPAD.encode(&previous),
        until,
    };
    save(c, keys, &next)?;
    match refused {
        Some(e) => Err(e),
        None => Ok(n),
    }
}

/// On import into an empty log: the archive's checkpoint becomes this log's, sealed under this
/// vault's key, and `head` moves past it (the archive's entries then keep their positions).
/// A log that already has entries keeps its own chain, and counts the archive's pruned entries
/// in its checkpoint.
pub fn adopt(
    c: &Connection,
    keys: &Keys,
    head: &mut chain::Head,
    archived: &PrunedEntries,
) -> Result<(), StoreError> {
    let own = read(c, keys)?.ok().flatten();
    let cp = match own {
        None if head.count == 0 => {
            *head = chain::Head {
                count: archived.entries,
                last_seq: archived.last_seq,
                last_mac: String::new(),
                runs: Vec::new(),
            };
            Checkpoint {
                pruned: archived.entries,
                last_seq: archived.last_seq,
                last_mac: String::new(),
                until: archived.until,
            }
        }
        own => {
            head.count += archived.entries;
            let own = own.unwrap_or(Checkpoint {
                pruned: 0,
                last_seq: 0,
                last_mac: String::new(),
                until: archived.until,
            });
            Checkpoint {
                pruned: own.pruned + archived.entries,
                until: own.until.max(archived.until),
                ..own
            }
        }
    };
    save(c, keys, &cp)
}
