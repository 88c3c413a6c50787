//! The one state every handler gets: store, keys, clock and settings, all behind `Arc`s.

use std::sync::Arc;

use carnet_schemas::{Id, IdKind, ids::ID_RANDOM_BYTES};
use chrono::{DateTime, SubsecRound, Utc};

use crate::access::AccessCache;
use crate::access::log::AccessLog;
use crate::clock::Clock;
use crate::credential::random_bytes;
use crate::intents::{ActiveIntents, OfferLimiter};
use crate::store::Store;
use crate::vault::{Keys, VaultPaths};

/// Settings handlers need (from the configuration).
#[derive(Debug, Clone)]
pub struct Settings {
    /// The OAuth issuer, exactly as configured; never taken from a request.
    pub public_url: String,
    pub access_token_ttl: chrono::Duration,
    /// Written into consent receipts (Kantara `jurisdiction`).
    pub jurisdiction: String,
    pub refresh_token_ttl: chrono::Duration,
    /// How many unexpired access tokens one client may hold; the token endpoint refuses more.
    pub max_live_tokens: usize,
    /// Whether `POST /oauth/register` takes clients without an initial access token.
    pub open_registration: bool,
    /// Peers whose `X-Forwarded-For` is believed (see `client_ip`).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Whether vendor reads are written to the access log. Always on in carnetd (there is no
    /// configuration key for it: the log is a promise to the owner); the benchmark turns it off
    /// to measure what logging costs.
    pub log_vendor_access: bool,
    /// How long an import's upload may stay silent, and take in all, before it is refused
    /// (no configuration key: tests shorten them).
    pub import_idle_timeout: std::time::Duration,
    pub import_total_timeout: std::time::Duration,
    /// Header-read and idle timeouts, and the connection cap (see `accept`).
    pub connections: crate::config::ConnectionLimits,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            public_url: "http://127.0.0.1:8787".into(),
            access_token_ttl: chrono::Duration::hours(1),
            jurisdiction: String::new(),
            refresh_token_ttl: chrono::Duration::days(30),
            max_live_tokens: crate::config::DEFAULT_MAX_LIVE_TOKENS as usize,
            open_registration: false,
            trusted_proxies: Vec::new(),
            log_vendor_access: true,
            import_idle_timeout: std::time::Duration::from_secs(60),
            import_total_timeout: std::time::Duration::from_secs(30 * 60),
            connections: crate::config::ConnectionLimits::default(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub keys: Arc<Keys>,
    pub clock: Arc<dyn Clock>,
    pub paths: Arc<VaultPaths>,
    pub access: Arc<AccessCache>,
    pub intents: Arc<ActiveIntents>,
    pub offer_limits: Arc<OfferLimiter>,
    pub access_log: Arc<AccessLog>,
    pub settings: Arc<Settings>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Consent requests waiting for the owner.
    pub consents: Arc<crate::oauth::consent::Consents>,
    /// Open registrations at `/oauth/register`, per client address and in all.
    pub registrations: Arc<crate::oauth::register_limit::Registrations>,
    /// Sign-in attempts on the consent page, per client address.
    pub sign_in_attempts: Arc<crate::access::password::Attempts>,
    /// Slow hashes (the web password) run one at a time, with a bounded queue per lane.
    pub slow_hashes: Arc<crate::access::password::SlowHashes>,
    /// Wakes the webhook worker when a change has written to the outbox.
    pub webhook_wake: Arc<tokio::sync::Notify>,
    /// To seal from inside the API (`POST /v1/lock`).
    pub lifecycle: std::sync::Weak<crate::server::Lifecycle>,
}

/// What `AppState::new` assembles.
pub struct Parts {
    pub store: Arc<Store>,
    pub keys: Keys,
    pub clock: Arc<dyn Clock>,
    pub paths: VaultPaths,
    pub access: AccessCache,
    pub intents: ActiveIntents,
    pub settings: Arc<Settings>,
    pub metrics: Arc<crate::metrics::Metrics>,
    pub lifecycle: std::sync::Weak<crate::server::Lifecycle>,
}

impl AppState {
    pub fn new(p: Parts) -> Self {
        AppState {
            store: p.store,
            keys: Arc::new(p.keys),
            clock: p.clock,
            paths: Arc::new(p.paths),
            access: Arc::new(p.access),
            intents: Arc::new(p.intents),
            offer_limits: Arc::default(),
            access_log: Arc::default(),
            settings: p.settings,
            metrics: p.metrics,
            consents: Arc::default(),
            registrations: Arc::default(),
            sign_in_attempts: Arc::default(),
            slow_hashes: Arc::default(),
            lifecycle: p.lifecycle,
            webhook_wake: Arc::default(),
        }
    }

    /// A random id for rows that are not records of a kind (webhook messages).
    pub fn new_random_id(&self) -> String {
        data_encoding::BASE32HEX_NOPAD
            .encode(&random_bytes::<ID_RANDOM_BYTES>())
            .to_ascii_lowercase()
    }

    /// The current time, to the millisecond (what the database keeps), so a response shows
    /// the same timestamps a later read will.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now().trunc_subsecs(3)
    }

    /// A fresh random id of kind `K`.
    pub fn new_id<K: IdKind>(&self) -> Id<K> {
        Id::from_random(&random_bytes::<ID_RANDOM_BYTES>())
    }
}

impl AppState {
    /// Runs a longer read (one that opens many records) off the async workers.
    pub async fn blocking<T, F>(&self, f: F) -> crate::error::ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&AppState) -> crate::error::ApiResult<T> + Send + 'static,
    {
        let state = self.clone();
        tokio::task::spawn_blocking(move || f(&state))
            .await
            .map_err(|e| crate::error::ApiError::Internal(format!("read task failed: {e}")))?
    }
}
