//! carnetd's configuration, in layers, a later one winning key by key: defaults → TOML file
//! (`--config`/`CARNET_CONFIG`, else `DATA_DIR/carnetd.toml`) → `CARNET_<KEY>` environment →
//! command-line flags. Each layer is parsed into the same all-optional [`Layer`] and checked on
//! its own, so a bad value is refused at start with its key and where it came from; unknown
//! keys in the file are refused by name. It never reads a setting from a request.
//!
//! Secrets: no setting is a secret yet. A future secret setting `foo` must (1) also be readable
//! from a file named by `CARNET_FOO_FILE` (its first line; what systemd credentials and Docker
//! secrets provide), setting both being an error; (2) never be a flag, since argument values
//! show in `ps`; and (3) serialize with [`redacted`], so `carnetd print-config` never shows it.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use serde::{Deserialize, Serialize, Serializer};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
pub const CONFIG_FILE: &str = "carnetd.toml";
pub const DEFAULT_ACCESS_TOKEN_TTL: u32 = 3600;
pub const DEFAULT_REFRESH_TOKEN_TTL: u32 = 30 * 86_400;
const ACCESS_TOKEN_TTL_RANGE: std::ops::RangeInclusive<u32> = 60..=86_400;
/// How many unexpired access tokens one vendor client may hold, by default: far more than an
/// integration that asks for a token per request needs in an hour, far less than memory and
/// disk would have to hold for one that asks without pause.
pub const DEFAULT_MAX_LIVE_TOKENS: u32 = 10_000;
const MAX_LIVE_TOKENS_RANGE: std::ops::RangeInclusive<u32> = 1..=10_000_000;
const REFRESH_TOKEN_TTL_RANGE: std::ops::RangeInclusive<u32> = 3600..=31_536_000;
/// Seconds a client has to send its request headers, from connecting (or from the first byte
/// of its next request on a kept-alive connection).
pub const DEFAULT_HEADER_READ_TIMEOUT: u32 = 10;
const HEADER_READ_TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = 1..=600;
/// Seconds a kept-alive connection may wait for its next request.
pub const DEFAULT_IDLE_TIMEOUT: u32 = 60;
const IDLE_TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = 1..=3600;
/// A web-app session ends after this many seconds unused (8 hours: a working day on a phone).
pub const DEFAULT_APP_IDLE_TIMEOUT: u32 = 8 * 3600;
const APP_IDLE_TIMEOUT_RANGE: std::ops::RangeInclusive<u32> = 60..=30 * 86_400;
/// Connections held at once (fewer if the file-descriptor limit leaves less room).
pub const DEFAULT_MAX_CONNECTIONS: u32 = 4096;
/// Days the access log keeps an entry (0: forever).
pub const DEFAULT_ACCESS_LOG_RETENTION_DAYS: u32 = 365;
const ACCESS_LOG_RETENTION_DAYS_MAX: u32 = 36_500;
/// Seconds within which identical vendor reads are compacted into one entry (0: never).
pub const DEFAULT_ACCESS_LOG_COMPACT_WINDOW: u32 = 3600;
const ACCESS_LOG_COMPACT_WINDOW_MAX: u32 = 86_400;

/// How connections are bounded (configuration keys `header_read_timeout`, `idle_timeout`,
/// `max_connections`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub idle_timeout: Duration,
    /// As configured; the loop holds fewer if the descriptor limit says so (see [`cap`]).
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(u64::from(DEFAULT_HEADER_READ_TIMEOUT)),
            idle_timeout: Duration::from_secs(u64::from(DEFAULT_IDLE_TIMEOUT)),
            max_connections: DEFAULT_MAX_CONNECTIONS as usize,
        }
    }
}
const MAX_CONNECTIONS_RANGE: std::ops::RangeInclusive<u32> = 16..=1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

/// One layer: the TOML file, the environment or the flags. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// Only honoured from an explicit `--config` file (the default file lives in it).
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    /// The OAuth issuer, exactly as vendors reach this server.
    pub public_url: Option<String>,
    pub identity_file: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
    /// A `tracing` filter such as `info` or `carnet_server=debug`.
    pub log_level: Option<String>,
    /// Lifetime of vendor access tokens, in seconds.
    pub access_token_ttl: Option<u32>,
    /// Lifetime of refresh tokens, in seconds.
    pub refresh_token_ttl: Option<u32>,
    /// How many unexpired access tokens one vendor client may hold at once.
    pub max_live_tokens: Option<u32>,
    /// Peers whose `X-Forwarded-For` is believed (the reverse proxy in front of carnetd).
    pub trusted_proxies: Option<Vec<ProxyNet>>,
    /// Whether `POST /oauth/register` accepts clients without an initial access token.
    pub open_registration: Option<bool>,
    /// Written into consent receipts (Kantara `jurisdiction`), e.g. "FR".
    pub jurisdiction: Option<String>,
    /// Seconds a client has to send its request headers.
    pub header_read_timeout: Option<u32>,
    /// Seconds a kept-alive connection may idle between requests.
    pub idle_timeout: Option<u32>,
    /// How many connections are held at once (at most the descriptor limit less a reserve).
    pub max_connections: Option<u32>,
    /// Days an access-log entry is kept before it is pruned behind the sealed checkpoint
    /// (0: forever).
    pub access_log_retention_days: Option<u32>,
    /// Seconds within which identical vendor reads are compacted into one entry (0: never).
    pub access_log_compact_window: Option<u32>,
    /// Seconds a web-app session may stay unused before it ends.
    pub app_idle_timeout: Option<u32>,
    /// The most one document may hold, in MiB.
    pub document_max_mib: Option<u32>,
    /// The most all documents together may hold, in MiB.
    pub document_quota_mib: Option<u32>,
    /// The market relay, `nats://host:port` (or `tls://…`); unset, the relay is off.
    pub relay_url: Option<String>,
    /// A NATS credentials file for the relay; unset for a relay without authentication.
    pub relay_creds_file: Option<PathBuf>,
    /// The signed market directory: a file, or an https URL fetched at start and daily.
    pub relay_directory: Option<String>,
    /// The market operator's Ed25519 public key, which must have signed the directory.
    pub relay_directory_key: Option<String>,
    /// The coarse region every announcement names (ISO 3166-2, e.g. FR or FR-75).
    pub relay_region: Option<String>,
    /// The vault host: the first token of every bucket this vault makes (`offer.v1.<host>.…`);
    /// unset, it comes from the credentials' `carnet-host:` tag or is made once at random.
    pub relay_host: Option<String>,
}

/// What the flags said (clap parses them; the environment is read here, not by clap, so
/// both are refused the same way).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub identity_file: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub public_url: Option<String>,
    pub log_format: Option<LogFormat>,
}

/// The effective configuration; `carnetd print-config` prints it as TOML.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    /// The file that was read, if any.
    #[serde(skip)]
    pub config_file: Option<PathBuf>,
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    pub public_url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_file: Option<PathBuf>,
    pub log_format: LogFormat,
    pub log_level: String,
    pub access_token_ttl: u32,
    pub refresh_token_ttl: u32,
    pub max_live_tokens: u32,
    #[serde(serialize_with = "nets_as_strings")]
    pub trusted_proxies: Vec<IpNet>,
    pub open_registration: bool,
    pub jurisdiction: String,
    pub header_read_timeout: u32,
    pub idle_timeout: u32,
    pub max_connections: u32,
    pub access_log_retention_days: u32,
    pub access_log_compact_window: u32,
    pub app_idle_timeout: u32,
    pub document_max_mib: u32,
    pub document_quota_mib: u32,
    /// The market relay, when `relay_url` is set (its five keys, printed as they are).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub relay: Option<RelayConfig>,
    /// What carnetd should say at start about this configuration (it still starts).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "no data directory: $XDG_DATA_HOME and $HOME are unset; pass --data-dir or set CARNET_DATA_DIR"
    )]
    NoDataDir,
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("config file {path}: {message}")]
    Parse { path: String, message: String },
    /// A value outside what the key accepts, from `origin` (a file, a variable or a flag).
    #[error("{key} (from {origin}): {message}")]
    Invalid {
        key: &'static str,
        origin: String,
        message: String,
    },
}

/// Serializes a secret setting as `"(redacted)"` (`#[serde(serialize_with = "redacted")]`).
pub fn redacted<T, S: Serializer>(_: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("(redacted)")
}

fn nets_as_strings<S: Serializer>(nets: &[IpNet], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(nets.iter().map(ToString::to_string))
}

fn default_data_dir() -> Result<PathBuf, ConfigError> {
    dirs::data_dir()
        .map(|d| d.join("carnet"))
        .ok_or(ConfigError::NoDataDir)
}

fn read_file(path: &Path) -> Result<Layer, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.display().to_string(),
        message: e.to_string().trim().replace('\n', " "),
    })
}

/// A `log_level` is a list of `target=level` directives and at most one bare level, as
/// `tracing_subscriber::filter::Targets` reads it (EnvFilter's span and field directives are
/// not in carnetd: README, Performance).
fn check_filter(level: &str) -> Result<(), String> {
    let why = if level.contains(['[', '{']) {
        "span and field directives ([span]=level) are not read".to_owned()
    } else {
        match level.parse::<tracing_subscriber::filter::Targets>() {
            Ok(_) => return Ok(()),
            Err(e) => e.to_string(),
        }
    };
    Err(format!(
        "{level:?} is not a tracing filter such as info or carnet_server=debug: {why}"
    ))
}

/// Where a layer came from, for error messages.
enum Origin<'a> {
    File(&'a Path),
    Env,
    Flags,
}

impl Origin<'_> {
    fn describe(&self, key: &str) -> String {
        match self {
            Origin::File(p) => format!("config file {}", p.display()),
            Origin::Env => format!("environment variable {}", env_name(key)),
            Origin::Flags => format!("flag --{}", key.replace('_', "-")),
        }
    }
}

impl Overrides {
    fn layer(&self) -> Layer {
        Layer {
            data_dir: self.data_dir.clone(),
            listen: self.listen,
            public_url: self.public_url.clone(),
            identity_file: self.identity_file.clone(),
            log_format: self.log_format,
            ..Layer::default()
        }
    }
}

impl Layer {
    /// Refuses values outside what each key accepts, naming the key and `origin`.
    fn check(&self, origin: &Origin) -> Result<(), ConfigError> {
        let invalid = |key: &'static str, message: String| ConfigError::Invalid {
            key,
            origin: origin.describe(key),
            message,
        };
        if let Some(url) = &self.public_url {
            match url::Url::parse(url) {
                Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
                _ => {
                    return Err(invalid(
                        "public_url",
                        format!(
                            "{url:?} is not an absolute http(s) URL (e.g. \"https://carnet.example.net\")"
                        ),
                    ));
                }
            }
        }
        let ttls = [
            (
                "access_token_ttl",
                self.access_token_ttl,
                ACCESS_TOKEN_TTL_RANGE,
            ),
            (
                "refresh_token_ttl",
                self.refresh_token_ttl,
                REFRESH_TOKEN_TTL_RANGE,
            ),
            (
                "header_read_timeout",
                self.header_read_timeout,
                HEADER_READ_TIMEOUT_RANGE,
            ),
            ("idle_timeout", self.idle_timeout, IDLE_TIMEOUT_RANGE),
            (
                "app_idle_timeout",
                self.app_idle_timeout,
                APP_IDLE_TIMEOUT_RANGE,
            ),
        ];
        for (key, value, range) in ttls {
            if let Some(t) = value.filter(|t| !range.contains(t)) {
                return Err(invalid(
                    key,
                    format!("{t} seconds; use {} to {}", range.start(), range.end()),
                ));
            }
        }
        let counts = [
            (
                "max_live_tokens",
                self.max_live_tokens,
                MAX_LIVE_TOKENS_RANGE,
                "",
            ),
            (
                "max_connections",
                self.max_connections,
                MAX_CONNECTIONS_RANGE,
                "",
            ),
            (
                "document_max_mib",
                self.document_max_mib,
                DOCUMENT_MAX_MIB_RANGE,
                " MiB",
            ),
            (
                "document_quota_mib",
                self.document_quota_mib,
                DOCUMENT_QUOTA_MIB_RANGE,
                " MiB",
            ),
        ];
        for (key, value, range, unit) in counts {
            if let Some(n) = value.filter(|n| !range.contains(n)) {
                let (lo, hi) = (range.start(), range.end());
                return Err(invalid(key, format!("{n}{unit}; use {lo} to {hi}")));
            }
        }
        if let Some(n) = self
            .access_log_retention_days
            .filter(|n| *n > ACCESS_LOG_RETENTION_DAYS_MAX)
        {
            return Err(invalid(
                "access_log_retention_days",
                format!("{n} days; use 0 (keep forever) to {ACCESS_LOG_RETENTION_DAYS_MAX}"),
            ));
        }
        if let Some(n) = self
            .access_log_compact_window
            .filter(|n| *n > ACCESS_LOG_COMPACT_WINDOW_MAX)
        {
            return Err(invalid(
                "access_log_compact_window",
                format!("{n} seconds; use 0 (no compaction) to {ACCESS_LOG_COMPACT_WINDOW_MAX}"),
            ));
        }
        if let Some(level) = &self.log_level {
            check_filter(level).map_err(|m| invalid("log_level", m))?;
        }
        relay::check_layer(self, &invalid)
    }

    /// Keeps this layer's value for each key it sets, else `under`'s.
    fn over(self, under: Layer) -> Layer {
        Layer {
            data_dir: self.data_dir.or(under.data_dir),
            listen: self.listen.or(under.listen),
            public_url: self.public_url.or(under.public_url),
            identity_file: self.identity_file.or(under.identity_file),
            log_format: self.log_format.or(under.log_format),
            log_level: self.log_level.or(under.log_level),
            access_token_ttl: self.access_token_ttl.or(under.access_token_ttl),
            refresh_token_ttl: self.refresh_token_ttl.or(under.refresh_token_ttl),
            max_live_tokens: self.max_live_tokens.or(under.max_live_tokens),
            trusted_proxies: self.trusted_proxies.or(under.trusted_proxies),
            open_registration: self.open_registration.or(under.open_registration),
            jurisdiction: self.jurisdiction.or(under.jurisdiction),
            header_read_timeout: self.header_read_timeout.or(under.header_read_timeout),
            idle_timeout: self.idle_timeout.or(under.idle_timeout),
            max_connections: self.max_connections.or(under.max_connections),
            access_log_retention_days: self
                .access_log_retention_days
                .or(under.access_log_retention_days),
            access_log_compact_window: self
                .access_log_compact_window
                .or(under.access_log_compact_window),
            app_idle_timeout: self.app_idle_timeout.or(under.app_idle_timeout),
            document_max_mib: self.document_max_mib.or(under.document_max_mib),
            document_quota_mib: self.document_quota_mib.or(under.document_quota_mib),
            relay_url: self.relay_url.or(under.relay_url),
            relay_creds_file: self.relay_creds_file.or(under.relay_creds_file),
            relay_directory: self.relay_directory.or(under.relay_directory),
            relay_directory_key: self.relay_directory_key.or(under.relay_directory_key),
            relay_region: self.relay_region.or(under.relay_region),
            relay_host: self.relay_host.or(under.relay_host),
        }
    }
}

impl Config {
    /// What handlers need of it.
    pub fn settings(&self) -> Settings {
        Settings {
            public_url: self.public_url.clone(),
            access_token_ttl: chrono::Duration::seconds(i64::from(self.access_token_ttl)),
            refresh_token_ttl: chrono::Duration::seconds(i64::from(self.refresh_token_ttl)),
            jurisdiction: self.jurisdiction.clone(),
            max_live_tokens: self.max_live_tokens as usize,
            open_registration: self.open_registration,
            trusted_proxies: self.trusted_proxies.clone(),
            log_vendor_access: true,
            access_log_retention_days: self.access_log_retention_days,
            access_log_compact_window: self.access_log_compact_window,
            app_idle_timeout: chrono::Duration::seconds(i64::from(self.app_idle_timeout)),
            documents: carnet_core::documents::Limits::from_mib(
                u64::from(self.document_max_mib),
                u64::from(self.document_quota_mib),
            ),
            connections: ConnectionLimits {
                header_read_timeout: std::time::Duration::from_secs(u64::from(
                    self.header_read_timeout,
                )),
                idle_timeout: std::time::Duration::from_secs(u64::from(self.idle_timeout)),
                max_connections: self.max_connections as usize,
            },
            relay_region: self.relay.as_ref().map(|r| r.region.to_string()),
            ..Settings::default()
        }
    }

    /// The configuration of this process: `flags`, and the process environment.
    pub fn from_process(flags: Overrides) -> Result<Config, ConfigError> {
        let mut config = Config::resolve(flags, &|name| std::env::var_os(name))?;
        config
            .warnings
            .extend(unknown_variables(std::env::vars_os().map(|(k, _)| k)));
        Ok(config)
    }

    /// Merges the layers, reading variables through `env`. The file is `--config` (or
    /// `CARNET_CONFIG`) if given, else `DATA_DIR/carnetd.toml` if that exists; a `data_dir` key
    /// is only honoured from an explicit file.
    pub fn resolve(
        flags: Overrides,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<Config, ConfigError> {
        let env = EnvLayer(env);
        let env_layer = env.layer()?;
        env_layer.check(&Origin::Env)?;
        let flag_layer = flags.layer();
        flag_layer.check(&Origin::Flags)?;
        let explicit = flags.config.clone().or_else(|| env.path("config"));
        let (file, config_file) = match explicit {
            Some(path) => (read_file(&path)?, Some(path)),
            None => {
                let dir = match flag_layer.data_dir.as_ref().or(env_layer.data_dir.as_ref()) {
                    Some(d) => d.clone(),
                    None => default_data_dir()?,
                };
                let path = dir.join(CONFIG_FILE);
                if path.exists() {
                    let file = read_file(&path)?;
                    if file.data_dir.as_ref().is_some_and(|d| *d != dir) {
                        return Err(ConfigError::Invalid {
                            key: "data_dir",
                            origin: Origin::File(&path).describe("data_dir"),
                            message: "a file inside the data directory cannot move it; name \
                                      this file with --config or CARNET_CONFIG, or drop the key"
                                .into(),
                        });
                    }
                    (file, Some(path))
                } else {
                    (Layer::default(), None)
                }
            }
        };
        if let Some(path) = &config_file {
            file.check(&Origin::File(path))?;
        }
        let l = flag_layer.over(env_layer).over(file);
        let data_dir = match l.data_dir {
            Some(d) => d,
            None => default_data_dir()?,
        };
        #[allow(clippy::unwrap_used)] // a constant that parses
        let listen = l.listen.unwrap_or_else(|| DEFAULT_LISTEN.parse().unwrap());
        let mut trusted_proxies: Vec<IpNet> = l
            .trusted_proxies
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.0)
            .collect();
        trusted_proxies.dedup();
        let public_url = l.public_url.unwrap_or_else(|| format!("http://{listen}"));
        let mut warnings: Vec<String> = unreachable_issuer(&public_url).into_iter().collect();
        let relay = relay::resolve(
            relay::RelayKeys {
                url: l.relay_url,
                creds_file: l.relay_creds_file,
                directory: l.relay_directory,
                directory_key: l.relay_directory_key,
                region: l.relay_region,
                host: l.relay_host,
            },
            &mut warnings,
        )?;
        Ok(Config {
            config_file,
            data_dir,
            listen,
            public_url,
            identity_file: l.identity_file,
            log_format: l.log_format.unwrap_or_default(),
            log_level: l.log_level.unwrap_or_else(|| "info".into()),
            access_token_ttl: l.access_token_ttl.unwrap_or(DEFAULT_ACCESS_TOKEN_TTL),
            refresh_token_ttl: l.refresh_token_ttl.unwrap_or(DEFAULT_REFRESH_TOKEN_TTL),
            max_live_tokens: l.max_live_tokens.unwrap_or(DEFAULT_MAX_LIVE_TOKENS),
            trusted_proxies,
            open_registration: l.open_registration.unwrap_or(false),
            jurisdiction: l.jurisdiction.unwrap_or_default(),
            header_read_timeout: l.header_read_timeout.unwrap_or(DEFAULT_HEADER_READ_TIMEOUT),
            idle_timeout: l.idle_timeout.unwrap_or(DEFAULT_IDLE_TIMEOUT),
            max_connections: l.max_connections.unwrap_or(DEFAULT_MAX_CONNECTIONS),
            access_log_retention_days: l
                .access_log_retention_days
                .unwrap_or(DEFAULT_ACCESS_LOG_RETENTION_DAYS),
            access_log_compact_window: l
                .access_log_compact_window
                .unwrap_or(DEFAULT_ACCESS_LOG_COMPACT_WINDOW),
            app_idle_timeout: l.app_idle_timeout.unwrap_or(DEFAULT_APP_IDLE_TIMEOUT),
            document_max_mib: l.document_max_mib.unwrap_or(DEFAULT_DOCUMENT_MAX_MIB),
            document_quota_mib: l.document_quota_mib.unwrap_or(DEFAULT_DOCUMENT_QUOTA_MIB),
            relay,
            warnings,
        })
    }

    /// The effective configuration as TOML, secrets redacted (see the module's comment),
    /// preceded by a comment naming the file that was read.
    pub fn to_toml(&self) -> Result<String, toml::ser::Error> {
        let source = match &self.config_file {
            Some(p) => format!("# carnetd configuration; file read: {}\n", p.display()),
            None => "# carnetd configuration; no file read (defaults, environment, flags)\n".into(),
        };
        Ok(source + &toml::to_string(self)?)
    }
}

mod env;
mod proxy;
mod relay;
mod settings;
mod warnings;
use env::EnvLayer;
pub use env::{KEYS, env_name, unknown_variables};
pub use proxy::ProxyNet;
pub use relay::{DirectorySource, RelayConfig};
pub use settings::*;
pub use warnings::log_level_warning;
use warnings::unreachable_issuer;

#[cfg(test)]
mod tests;
