//! `Core`: an open vault and what is kept in memory about it — the store, the keys, the clock,
//! the access and intent caches, the access log's buffer — all behind `Arc`s, cheap to clone.
//! Adapters (the HTTP server, tools) hold one; services take the parts they use. Never holds
//! anything of HTTP.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use carnet_schemas::{Id, IdKind, ids::ID_RANDOM_BYTES};
use chrono::{DateTime, SubsecRound, Utc};

use crate::access::AccessCache;
use crate::access::log::AccessLog;
use crate::access::verification::LogCheck;
use crate::active::ActiveIntents;
use crate::clock::Clock;
use crate::credential::random_bytes;
use crate::crypto::Keys;
use crate::ledger::index::LedgerIndex;
use crate::limits::OfferLimiter;
use crate::store::{Store, StoreError};
use crate::vault::{VaultError, VaultPaths};

/// The rules of the vault that come from its configuration.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The OAuth issuer, exactly as configured.
    pub public_url: String,
    pub access_token_ttl: chrono::Duration,
    pub refresh_token_ttl: chrono::Duration,
    /// Written into consent receipts (Kantara `jurisdiction`).
    pub jurisdiction: String,
    /// How many unexpired access tokens one client may hold.
    pub max_live_tokens: usize,
    /// Whether vendor reads are written to the access log (always, but for a benchmark).
    pub log_vendor_access: bool,
    /// Access-log entries older than this many days are pruned behind a sealed checkpoint
    /// (0: kept forever).
    pub access_log_retention_days: u32,
    /// Identical reads within this of the first are compacted into one entry (`None`: never).
    pub access_log_compact_window: Option<chrono::Duration>,
    /// The region announced intents name (`relay_region`); `None`: no market relay, and no
    /// intent may be announced.
    pub relay_region: Option<String>,
    /// The vault host every new intent's bucket is under (`<host>.<random>`); set whenever a
    /// relay is, `None` otherwise.
    pub relay_host: Option<carnet_market::wire::Host>,
}

/// Webhook delivery outcomes, counted for the operator's metrics.
#[derive(Debug, Default)]
pub struct DeliveryCounts {
    delivered: AtomicU64,
    failed: AtomicU64,
}

impl DeliveryCounts {
    pub fn delivered(&self) {
        self.delivered.fetch_add(1, Relaxed);
    }
    pub fn failed(&self) {
        self.failed.fetch_add(1, Relaxed);
    }
    /// (delivered, failed attempts) so far.
    pub fn read(&self) -> (u64, u64) {
        (self.delivered.load(Relaxed), self.failed.load(Relaxed))
    }
}

#[derive(Clone)]
pub struct Core {
    pub store: Arc<Store>,
    pub keys: Arc<Keys>,
    pub clock: Arc<dyn Clock>,
    pub paths: Arc<VaultPaths>,
    pub access: Arc<AccessCache>,
    pub intents: Arc<ActiveIntents>,
    /// The ledger index (in memory only), building in the background from `open` on.
    pub index: Arc<LedgerIndex>,
    pub offer_limits: Arc<OfferLimiter>,
    /// The same allowance for directory vendors offering through the market relay.
    pub relay_offer_limits: Arc<OfferLimiter<carnet_market::wire::VendorId>>,
    pub access_log: Arc<AccessLog>,
    /// The access log's last full check (see `access::verification`).
    pub log_check: Arc<LogCheck>,
    pub policy: Arc<Policy>,
    /// Wakes the webhook worker when a change has written to the outbox.
    pub webhook_wake: Arc<tokio::sync::Notify>,
    /// Wakes carnetd's relay publisher when a change has written to the relay's outbox.
    pub relay_wake: Arc<tokio::sync::Notify>,
    /// Wakes the reminders' worker when the scheduler has queued a message (`notify::queue`).
    pub notify_wake: Arc<tokio::sync::Notify>,
    /// Webhook outcomes, shared with whoever reports them (kept across unlocks).
    pub deliveries: Arc<DeliveryCounts>,
    /// The market directory carnetd's relay adapter holds (and refreshes); `None` without a
    /// relay. Sealed and notify intents are encrypted to its vendors' keys.
    pub directory: Option<Arc<std::sync::RwLock<carnet_market::directory::Directory>>>,
}

impl Core {
    /// A random id for rows that are not records of a kind (webhook messages).
    pub fn new_random_id(&self) -> String {
        data_encoding::BASE32HEX_NOPAD
            .encode(&random_bytes::<ID_RANDOM_BYTES>())
            .to_ascii_lowercase()
    }

    /// The current time, to the millisecond (what the database keeps), so an answer shows
    /// the same timestamps a later read will.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(3)
    }

    /// Records a vendor's access in the access log (unless a benchmark turned logging off);
    /// returns at once.
    pub fn log_access(&self, event: crate::access::log::AccessEvent) {
        if self.policy.log_vendor_access {
            self.access_log.record(self.now(), event);
        }
    }

    /// Runs a longer read (one that opens many records) off the async workers.
    pub async fn blocking<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
        F: FnOnce(&Core) -> Result<T, E> + Send + 'static,
    {
        let core = self.clone();
        tokio::task::spawn_blocking(move || f(&core))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// A fresh random id of kind `K`.
    pub fn new_id<K: IdKind>(&self) -> Id<K> {
        Id::from_random(&random_bytes::<ID_RANDOM_BYTES>())
    }
}

impl Core {
    /// Opens the in-memory views of a vault whose key `prove_key` accepted: refuses a
    /// database rolled back behind `vault.generation` (and advances it), loads the access and
    /// active-intent caches, starts building the ledger index, and publishes the receipt keys again from the vault key.
    pub async fn open(
        store: Arc<Store>,
        keys: Keys,
        clock: Arc<dyn Clock>,
        paths: VaultPaths,
        policy: Arc<Policy>,
        deliveries: Arc<DeliveryCounts>,
    ) -> Result<Core, VaultError> {
        let now = clock.now();
        crate::vault::generation::advance(&paths, &store, &keys).await?;
        let access = crate::access::load(&store, &keys, now)?;
        let intents = ActiveIntents::load(&store, &keys)?;
        let keys = Arc::new(keys);
        let index = LedgerIndex::start(
            store.clone(),
            keys.clone(),
            crate::documents::index::loader(crate::ledger::listing::loader()),
        );
        let core = Core {
            store,
            keys,
            index,
            clock,
            paths: Arc::new(paths),
            access: Arc::new(access),
            intents: Arc::new(intents),
            offer_limits: Arc::default(),
            relay_offer_limits: Arc::default(),
            access_log: Arc::new(AccessLog::new(policy.access_log_compact_window)),
            log_check: Arc::default(),
            policy,
            webhook_wake: Arc::default(),
            relay_wake: Arc::default(),
            notify_wake: Arc::default(),
            deliveries,
            directory: None,
        };
        // Keys published before receipts were kept in clear are published now.
        let keys = core.keys.clone();
        core.store
            .write(move |c| crate::access::receipts::publish_keys(c, &keys))
            .await?;
        // Uploads a stop cut short go before any new upload can start.
        let purged = core
            .store
            .write(crate::store::documents::purge_uploading)
            .await?;
        if purged > 0 {
            tracing::warn!(
                uploads = purged,
                "deleted document uploads a stop cut short"
            );
        }
        Ok(core)
    }

    /// Checks the access log's chain in the background and logs what is wrong: a tampered log
    /// does not stop carnetd, and the owner's data stays reachable. The result is kept
    /// (`log_check`).
    pub fn verify_access_log_later(&self) {
        self.log_check.request(&crate::access::verification::Vault {
            store: self.store.clone(),
            keys: self.keys.clone(),
            clock: self.clock.clone(),
        });
    }
}
