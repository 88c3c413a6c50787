//! The environment layer: `CARNET_<KEY>` for each key, `CARNET_LOG` as the short spelling of
//! `CARNET_LOG_LEVEL`, and the warning for a `CARNET_*` variable carnetd does not read (a typo
//! would otherwise be ignored in silence).

use std::ffi::OsString;
use std::path::PathBuf;

use super::{ConfigError, Layer, LogFormat, Origin, check_filter};

/// Every key of carnetd.toml, each also read as `CARNET_<KEY>`. A unit test checks that the
/// effective configuration prints exactly these keys (and `data_dir`, `identity_file`).
pub const KEYS: [&str; 26] = [
    "data_dir",
    "listen",
    "public_url",
    "identity_file",
    "log_format",
    "log_level",
    "access_token_ttl",
    "refresh_token_ttl",
    "max_live_tokens",
    "trusted_proxies",
    "open_registration",
    "jurisdiction",
    "header_read_timeout",
    "idle_timeout",
    "max_connections",
    "access_log_retention_days",
    "access_log_compact_window",
    "app_idle_timeout",
    "document_max_mib",
    "document_quota_mib",
    "relay_url",
    "relay_creds_file",
    "relay_directory",
    "relay_directory_key",
    "relay_region",
    "relay_host",
];

/// Variables carnetd reads besides a key's: the file, the short log level. The `carnet` CLI's
/// own (a shell often holds both programs' variables) are not warned about either.
const OTHER_VARIABLES: [&str; 4] = [
    "CARNET_CONFIG",
    "CARNET_LOG",
    "CARNET_SERVER",
    "CARNET_TOKEN",
];

/// One warning per `CARNET_*` name in `names` that carnetd does not read, with the closest
/// name it does read when one is near.
pub fn unknown_variables(names: impl IntoIterator<Item = OsString>) -> Vec<String> {
    let known: Vec<String> = KEYS
        .iter()
        .map(|k| env_name(k))
        .chain(OTHER_VARIABLES.iter().map(|v| (*v).to_owned()))
        .collect();
    let mut unknown: Vec<String> = names
        .into_iter()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| n.starts_with("CARNET_") && !known.contains(n))
        .collect();
    unknown.sort();
    unknown
        .into_iter()
        .map(|name| {
            let near = known
                .iter()
                .map(|k| (strsim::damerau_levenshtein(k, &name), k))
                .filter(|(d, _)| *d <= 3)
                .min();
            match near {
                Some((_, k)) => format!(
                    "{name} is set but carnetd reads no such variable: did you mean {k}? (it is ignored)"
                ),
                None => format!(
                    "{name} is set but carnetd reads no such variable (it is ignored); `carnetd print-config` lists the keys, each read as CARNET_<KEY>"
                ),
            }
        })
        .collect()
}

/// `CARNET_` and the key in capitals: `access_token_ttl` → `CARNET_ACCESS_TOKEN_TTL`.
pub fn env_name(key: &str) -> String {
    format!("CARNET_{}", key.to_ascii_uppercase())
}

/// Reads the environment through `env` (the process's in `carnetd`, a map in tests). An empty
/// variable counts as unset, as with clap.
pub(super) struct EnvLayer<'a>(pub(super) &'a dyn Fn(&str) -> Option<OsString>);

impl EnvLayer<'_> {
    fn raw(&self, name: &str) -> Option<OsString> {
        (self.0)(name).filter(|v| !v.is_empty())
    }

    pub(super) fn path(&self, key: &'static str) -> Option<PathBuf> {
        self.raw(&env_name(key)).map(PathBuf::from)
    }

    fn text(&self, key: &'static str) -> Result<Option<String>, ConfigError> {
        self.raw(&env_name(key))
            .map(|v| {
                v.into_string().map_err(|_| ConfigError::Invalid {
                    key,
                    origin: Origin::Env.describe(key),
                    message: "not valid UTF-8".into(),
                })
            })
            .transpose()
    }

    fn parse<T>(
        &self,
        key: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        self.text(key)?
            .map(|v| {
                parse(v.trim()).map_err(|message| ConfigError::Invalid {
                    key,
                    origin: Origin::Env.describe(key),
                    message,
                })
            })
            .transpose()
    }

    /// `CARNET_LOG`, the older and shorter spelling, used when `CARNET_LOG_LEVEL` is unset.
    fn short_log_level(&self) -> Result<Option<String>, ConfigError> {
        let invalid = |message| ConfigError::Invalid {
            key: "log_level",
            origin: "environment variable CARNET_LOG".into(),
            message,
        };
        let Some(v) = self.raw("CARNET_LOG") else {
            return Ok(None);
        };
        let v = v
            .into_string()
            .map_err(|_| invalid("not valid UTF-8".into()))?;
        check_filter(&v).map_err(invalid)?;
        Ok(Some(v))
    }

    pub(super) fn layer(&self) -> Result<Layer, ConfigError> {
        let seconds = |v: &str| {
            v.parse::<u32>()
                .map_err(|_| format!("{v:?} is not a whole number of seconds"))
        };
        let mib = |v: &str| {
            v.parse::<u32>()
                .map_err(|_| format!("{v:?} is not a whole number of MiB"))
        };
        Ok(Layer {
            data_dir: self.path("data_dir"),
            listen: self.parse("listen", |v| {
                v.parse()
                    .map_err(|_| format!("{v:?} is not an address and port like 127.0.0.1:8787"))
            })?,
            public_url: self.text("public_url")?,
            identity_file: self.path("identity_file"),
            log_format: self.parse("log_format", |v| {
                <LogFormat as clap::ValueEnum>::from_str(v, true)
                    .map_err(|_| format!("{v:?} is not a log format: use pretty or json"))
            })?,
            log_level: match self.text("log_level")? {
                Some(v) => Some(v),
                None => self.short_log_level()?,
            },
            access_token_ttl: self.parse("access_token_ttl", seconds)?,
            refresh_token_ttl: self.parse("refresh_token_ttl", seconds)?,
            max_live_tokens: self.parse("max_live_tokens", |v| {
                v.parse::<u32>()
                    .map_err(|_| format!("{v:?} is not a whole number"))
            })?,
            trusted_proxies: self.parse("trusted_proxies", |v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::parse)
                    .collect()
            })?,
            open_registration: self.parse("open_registration", |v| {
                match v.to_ascii_lowercase().as_str() {
                    "true" | "1" | "yes" | "on" => Ok(true),
                    "false" | "0" | "no" | "off" => Ok(false),
                    _ => Err(format!("{v:?} is not true or false")),
                }
            })?,
            jurisdiction: self.text("jurisdiction")?,
            header_read_timeout: self.parse("header_read_timeout", seconds)?,
            idle_timeout: self.parse("idle_timeout", seconds)?,
            max_connections: self.parse("max_connections", |v| {
                v.parse::<u32>()
                    .map_err(|_| format!("{v:?} is not a whole number"))
            })?,
            access_log_retention_days: self.parse("access_log_retention_days", |v| {
                v.parse::<u32>()
                    .map_err(|_| format!("{v:?} is not a whole number of days"))
            })?,
            access_log_compact_window: self.parse("access_log_compact_window", seconds)?,
            app_idle_timeout: self.parse("app_idle_timeout", seconds)?,
            document_max_mib: self.parse("document_max_mib", mib)?,
            document_quota_mib: self.parse("document_quota_mib", mib)?,
            relay_url: self.text("relay_url")?,
            relay_creds_file: self.path("relay_creds_file"),
            relay_directory: self.text("relay_directory")?,
            relay_directory_key: self.text("relay_directory_key")?,
            relay_region: self.text("relay_region")?,
            relay_host: self.text("relay_host")?,
        })
    }
}
