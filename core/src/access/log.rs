//! The access log: every token issued and every vendor API request. Requests only push an
//! entry into a buffer; a flusher seals the buffered entries and appends them through the
//! writer in one job every few milliseconds (`FLUSH_EVERY`), so logging never makes a vendor
//! wait and costs one small transaction per batch. If carnetd dies, what can be lost is the
//! entries of the last `FLUSH_EVERY` plus the batch being committed: about 10 ms of accesses.
//! The owner's reads of the log flush first, so they always see every access made before them.
//! Each batch extends the HMAC chain (`chain.rs`) in the same transaction; entries are sealed
//! in their compact form (`record.rs`). An entry's id is derived from its position
//! (`store::access::derived_entry_id`) and not stored.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use carnet_schemas::{ClientId, GrantId, ScopeSet, VendorId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{chain, compaction};
use crate::crypto::Keys;
use crate::store::Store;
use crate::store::StoreError;
use crate::store::access::{self as rows, AccessRow};
use crate::vault::{Sealable, Table};

/// Intent id → the fields it withholds from vendors.
pub type Withheld = std::collections::BTreeMap<String, Vec<carnet_schemas::IntentField>>;

/// How often buffered entries are appended.
pub const FLUSH_EVERY: Duration = Duration::from_millis(2);

/// What the log keeps sealed about one access.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessRecord {
    pub grant_id: Option<GrantId>,
    pub endpoint: String,
    pub scope: String,
    pub ids: Vec<String>,
    /// The HTTP status answered (a refused request is logged too).
    pub status: u16,
    /// For intent reads: the fields each returned intent withheld (every other was sent).
    #[serde(default, skip_serializing_if = "Withheld::is_empty")]
    pub withheld: Withheld,
    /// Identical reads this entry stands for (compaction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeats: Option<carnet_schemas::Repeats>,
}

impl Sealable for AccessRecord {
    const TABLE: Table = Table::AccessLog;
}

/// One access to record, as cheap to build on a request's path as it can be: the strings
/// are made, and the entry sealed, on the writer thread.
#[derive(Debug, Clone)]
pub struct AccessEvent {
    pub vendor_id: VendorId,
    pub client_id: ClientId,
    pub grant_id: Option<GrantId>,
    /// `METHOD /route` (the route template, never the path as sent).
    pub endpoint: Cow<'static, str>,
    pub scopes: ScopeSet,
    pub ids: Arc<Vec<String>>,
    pub status: u16,
    /// Intent reads: what the intents returned withheld.
    pub withheld: Option<Arc<Withheld>>,
}

/// Entries waiting for the next flush.
#[derive(Default)]
pub struct AccessLog {
    pending: Mutex<Vec<(DateTime<Utc>, AccessEvent)>>,
    /// Held while a batch is taken and queued, so batches reach the writer in order.
    flushing: Mutex<()>,
    /// `access_log_compact_window` (`None`: no compaction).
    window: Option<chrono::Duration>,
}

impl AccessLog {
    /// A log that compacts identical reads within `window` (`None` or zero: never).
    pub fn new(window: Option<chrono::Duration>) -> Self {
        AccessLog {
            window: window.filter(|w| *w > chrono::Duration::zero()),
            ..AccessLog::default()
        }
    }

    /// Queues the buffered entries as one write, closing the compaction runs whose window
    /// ended by `close_by`; returns its completion, if there was one. Ids, sealing and inserts
    /// all happen on the writer thread, off the async workers.
    fn queue_batch(
        &self,
        store: &Store,
        keys: &Arc<Keys>,
        close_by: Option<DateTime<Utc>>,
    ) -> Option<tokio::sync::oneshot::Receiver<Result<(), StoreError>>> {
        let _order = self.flushing.lock().unwrap_or_else(|p| p.into_inner());
        let batch = std::mem::take(&mut *self.pending.lock().unwrap_or_else(|p| p.into_inner()));
        let window = self.window;
        let close_by = close_by.filter(|_| window.is_some());
        if batch.is_empty() && close_by.is_none() {
            return None;
        }
        let keys = keys.clone();
        let queued = store.submit(move |c| {
            let mut head = chain::head_for_append(c, &keys)?;
            for (at, e) in &batch {
                let run = match window {
                    Some(w) => {
                        compaction::close(c, &keys, &mut head, |r| *at - r.started >= w)?;
                        match compaction::key(e) {
                            Some(k) if compaction::count(&mut head, &k, *at) => continue,
                            k => k,
                        }
                    }
                    None => None,
                };
                let id = rows::new_entry_id(c, head.last_seq + 1)?;
                let mut row = AccessRow {
                    seq: 0,
                    at: *at,
                    vendor_id: e.vendor_id.to_string(),
                    client_id: e.client_id.to_string(),
                    sealed: super::record::seal(&keys, &id, e),
                    id,
                    mac: Vec::new(),
                };
                chain::link(&keys, &mut head, &mut row);
                rows::append_access(c, &row)?;
                if let Some(k) = run {
                    compaction::open(c, &keys, &mut head, k, row.seq, e, *at)?;
                }
            }
            if let (Some(w), Some(now)) = (window, close_by) {
                compaction::close(c, &keys, &mut head, |r| now - r.started >= w)?;
            }
            chain::save_head(c, &keys, &head)
        });
        match queued {
            Ok(done) => Some(done),
            Err(e) => {
                tracing::error!(error = %e, "could not append to the access log");
                None
            }
        }
    }

    /// Appends everything buffered, and closes the compaction runs whose window ended by
    /// `now`, and waits until it (and all before it) is committed.
    pub async fn flush(
        &self,
        store: &Store,
        keys: &Arc<Keys>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        match self.queue_batch(store, keys, Some(now)) {
            Some(done) => done.await.map_err(|_| StoreError::WriterGone)?,
            // Nothing buffered: wait for batches already queued by the flusher.
            None => store.write(|_| Ok(())).await,
        }
    }

    /// The background flusher; runs until the server stops.
    pub async fn run(self: Arc<Self>, store: Arc<Store>, keys: Arc<Keys>) {
        let mut tick = tokio::time::interval(FLUSH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            // One batch in flight at a time: while it commits, new entries gather into the
            // next one, so a busy log makes bigger batches instead of a longer queue.
            if let Some(done) = self.queue_batch(&store, &keys, None)
                && let Ok(Err(e)) = done.await
            {
                tracing::error!(error = %e, "could not append to the access log");
            }
        }
    }
}

impl AccessLog {
    /// Records an access made at `at`; returns at once (it is appended with the next batch).
    pub fn record(&self, at: DateTime<Utc>, event: AccessEvent) {
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((at, event));
    }
}

#[cfg(test)]
mod tests {
    use super::rows::derived_entry_id;

    #[test]
    fn entry_ids_look_like_every_id_and_sort_by_position() {
        let ids: Vec<String> = [1i64, 2, 255, 256, 70_000, i64::MAX]
            .iter()
            .map(|&seq| derived_entry_id(seq))
            .collect();
        for id in &ids {
            // The length and alphabet of ids made from ID_RANDOM_BYTES random bytes.
            assert_eq!(id.len(), 16, "{id}");
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b)),
                "{id}"
            );
        }
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(sorted, ids, "ids must grow with the position");
        let mut unique = ids.clone();
        unique.dedup();
        assert_eq!(unique, ids, "one id per position");
    }
}
