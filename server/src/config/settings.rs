//! What carnetd runs with, once the configuration layers are merged: the settings the HTTP
//! server needs, and the policy it hands the core.

use carnet_core::Policy;

/// The most one document may hold, in MiB (an invoice, a contract, a few photos' worth).
pub const DEFAULT_DOCUMENT_MAX_MIB: u32 = 25;
pub const DOCUMENT_MAX_MIB_RANGE: std::ops::RangeInclusive<u32> = 1..=4096;
/// The most all documents together may hold, in MiB.
pub const DEFAULT_DOCUMENT_QUOTA_MIB: u32 = 1024;
pub const DOCUMENT_QUOTA_MIB_RANGE: std::ops::RangeInclusive<u32> =
    1..=carnet_schemas::MAX_DOCUMENT_QUOTA_MIB;

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
    /// Days the access log keeps an entry (0: forever).
    pub access_log_retention_days: u32,
    /// Seconds within which identical vendor reads are compacted into one entry (0: never).
    pub access_log_compact_window: u32,
    /// How long a web-app session may stay unused before it ends.
    pub app_idle_timeout: chrono::Duration,
    /// How long an import's upload may stay silent, and take in all, before it is refused
    /// (no configuration key: tests shorten them).
    pub import_idle_timeout: std::time::Duration,
    pub import_total_timeout: std::time::Duration,
    /// The size of one document, and of all (`document_max_mib`, `document_quota_mib`).
    pub documents: carnet_core::documents::Limits,
    /// Header-read and idle timeouts, and the connection cap (see `accept`).
    pub connections: super::ConnectionLimits,
    /// `relay_region` when the market relay is configured (intents may then be announced).
    pub relay_region: Option<String>,
    /// The vault host, once the relay started (`Relay::host`).
    pub relay_host: Option<carnet_market::wire::Host>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            public_url: "http://127.0.0.1:8787".into(),
            access_token_ttl: chrono::Duration::hours(1),
            jurisdiction: String::new(),
            refresh_token_ttl: chrono::Duration::days(30),
            max_live_tokens: super::DEFAULT_MAX_LIVE_TOKENS as usize,
            open_registration: false,
            trusted_proxies: Vec::new(),
            log_vendor_access: true,
            access_log_retention_days: super::DEFAULT_ACCESS_LOG_RETENTION_DAYS,
            access_log_compact_window: super::DEFAULT_ACCESS_LOG_COMPACT_WINDOW,
            app_idle_timeout: chrono::Duration::seconds(i64::from(super::DEFAULT_APP_IDLE_TIMEOUT)),
            import_idle_timeout: std::time::Duration::from_secs(60),
            import_total_timeout: std::time::Duration::from_secs(30 * 60),
            documents: carnet_core::documents::Limits::from_mib(
                u64::from(DEFAULT_DOCUMENT_MAX_MIB),
                u64::from(DEFAULT_DOCUMENT_QUOTA_MIB),
            ),
            connections: super::ConnectionLimits::default(),
            relay_region: None,
            relay_host: None,
        }
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
            access_log_retention_days: self.access_log_retention_days,
            access_log_compact_window: (self.access_log_compact_window > 0)
                .then(|| chrono::Duration::seconds(i64::from(self.access_log_compact_window))),
            relay_region: self.relay_region.clone(),
            relay_host: self.relay_host.clone(),
        }
    }
}
