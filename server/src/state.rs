//! The one state every handler gets: the open vault (`carnet_core::Core`, which it derefs to)
//! and the few things only HTTP needs — settings, metrics, consent sessions, rate limits, and
//! a way to seal. Never holds a domain rule of its own.

use std::sync::Arc;

use carnet_core::{Core, Policy};

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
    pub core: Core,
    pub settings: Arc<Settings>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Consent requests waiting for the owner.
    pub consents: Arc<crate::oauth::consent::Consents>,
    /// Open registrations at `/oauth/register`, per client address and in all.
    pub registrations: Arc<crate::oauth::register_limit::Registrations>,
    /// Sign-in attempts on the consent page, per client address.
    pub sign_in_attempts: Arc<carnet_core::access::password::Attempts>,
    /// Slow hashes (the web password) run one at a time, with a bounded queue per lane.
    pub slow_hashes: Arc<carnet_core::access::password::SlowHashes>,
    /// To seal from inside the API (`POST /v1/lock`).
    pub lifecycle: std::sync::Weak<crate::server::Lifecycle>,
}

impl std::ops::Deref for AppState {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}

impl Settings {
    /// The rules the core applies, from these settings.
    pub fn policy(&self) -> Policy {
        Policy {
            public_url: self.public_url.clone(),
            access_token_ttl: self.access_token_ttl,
            refresh_token_ttl: self.refresh_token_ttl,
            jurisdiction: self.jurisdiction.clone(),
            max_live_tokens: self.max_live_tokens,
            log_vendor_access: self.log_vendor_access,
        }
    }
}

impl AppState {
    pub fn new(
        core: Core,
        settings: Arc<Settings>,
        metrics: Arc<crate::metrics::Metrics>,
        lifecycle: std::sync::Weak<crate::server::Lifecycle>,
    ) -> Self {
        AppState {
            core,
            settings,
            metrics,
            consents: Arc::default(),
            registrations: Arc::default(),
            sign_in_attempts: Arc::default(),
            slow_hashes: Arc::default(),
            lifecycle,
        }
    }

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
