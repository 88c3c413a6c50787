//! The market relay's keys (`relay_url`, `relay_creds_file`, `relay_directory`,
//! `relay_directory_key`, `relay_region`, `relay_host`): each checked in its layer, then
//! together. Unset `relay_url` means the relay is off and nothing connects; set, the directory,
//! its key and the region are required. Nothing here reads the directory, the credentials or
//! the data dir, and nothing reaches the relay (`crate::relay` does, at start, and settles the
//! host there when `relay_host` is unset).

use std::path::PathBuf;

use carnet_market::keys::VerifyingKey;
use carnet_market::wire::{Host, Region};
use serde::{Serialize, Serializer};

use super::{ConfigError, Layer};

/// Where the signed market directory comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DirectorySource {
    /// A file carnetd reads at start and again each day.
    File(PathBuf),
    /// An https URL carnetd fetches at start and again each day.
    Url(String),
}

impl DirectorySource {
    /// Reads `relay_directory`: an `https://` URL, else a file path; `http://` is refused (the
    /// signature would still hold, but a directory's freshness should not rest on it alone).
    fn parse(text: &str) -> Result<DirectorySource, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty: give a file or an https URL".into());
        }
        if let Some(rest) = text.strip_prefix("http://") {
            return Err(format!(
                "http://{rest} is not https: give an https URL or a file (the market operator publishes it over https)"
            ));
        }
        if text.starts_with("https://") {
            return match url::Url::parse(text) {
                Ok(u) if u.host().is_some() => Ok(DirectorySource::Url(text.to_owned())),
                _ => Err(format!("{text:?} is not an https URL")),
            };
        }
        Ok(DirectorySource::File(PathBuf::from(text)))
    }
}

impl std::fmt::Display for DirectorySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DirectorySource::File(p) => write!(f, "{}", p.display()),
            DirectorySource::Url(u) => f.write_str(u),
        }
    }
}

/// The relay's configuration, when `relay_url` is set: every value checked.
#[derive(Debug, Clone, Serialize)]
pub struct RelayConfig {
    #[serde(rename = "relay_url")]
    pub url: String,
    #[serde(rename = "relay_creds_file", skip_serializing_if = "Option::is_none")]
    pub creds_file: Option<PathBuf>,
    #[serde(rename = "relay_directory", serialize_with = "as_text")]
    pub directory: DirectorySource,
    #[serde(rename = "relay_directory_key", serialize_with = "as_text")]
    pub directory_key: VerifyingKey,
    #[serde(rename = "relay_region", serialize_with = "as_text")]
    pub region: Region,
    /// `relay_host`, when configured (else settled at start: `crate::relay::host`).
    #[serde(rename = "relay_host", skip_serializing_if = "Option::is_none")]
    pub host: Option<Host>,
}

fn as_text<T: std::fmt::Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// The relay's keys of the merged layers.
pub(super) struct RelayKeys {
    pub(super) url: Option<String>,
    pub(super) creds_file: Option<PathBuf>,
    pub(super) directory: Option<String>,
    pub(super) directory_key: Option<String>,
    pub(super) region: Option<String>,
    pub(super) host: Option<String>,
}

fn check_url(url: &str) -> Result<(), String> {
    match url::Url::parse(url.trim()) {
        Ok(u) if matches!(u.scheme(), "nats" | "tls") && u.host().is_some() => Ok(()),
        _ => Err(format!(
            "{url:?} is not a relay URL such as nats://127.0.0.1:4222 (or tls://relay.example.net:4222)"
        )),
    }
}

fn parse_key(text: &str) -> Result<VerifyingKey, String> {
    text.parse().map_err(|_| {
        format!(
            "{text:?} is not an Ed25519 public key: give the 43 characters `carnet-market keygen` printed"
        )
    })
}

fn parse_host(text: &str) -> Result<Host, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "{text:?} is not a vault host: 1 to 32 lower-case letters, digits and '-' (e.g. vault-7)"
        )
    })
}

fn parse_region(text: &str) -> Result<Region, String> {
    text.trim().parse().map_err(|_| {
        format!("{text:?} is not a coarse ISO 3166-2 region such as FR or FR-75 (upper case)")
    })
}

/// Checks the relay keys one layer sets, each on its own.
pub(super) fn check_layer(
    layer: &Layer,
    invalid: &dyn Fn(&'static str, String) -> ConfigError,
) -> Result<(), ConfigError> {
    if let Some(url) = &layer.relay_url {
        check_url(url).map_err(|m| invalid("relay_url", m))?;
    }
    if let Some(d) = &layer.relay_directory {
        DirectorySource::parse(d).map_err(|m| invalid("relay_directory", m))?;
    }
    if let Some(k) = &layer.relay_directory_key {
        parse_key(k).map_err(|m| invalid("relay_directory_key", m))?;
    }
    if let Some(r) = &layer.relay_region {
        parse_region(r).map_err(|m| invalid("relay_region", m))?;
    }
    if let Some(h) = &layer.relay_host {
        parse_host(h).map_err(|m| invalid("relay_host", m))?;
    }
    Ok(())
}

/// The relay's configuration from the merged keys: none when `relay_url` is unset (a warning
/// if other relay keys are set, since they then do nothing), else every other key but the
/// credentials file is required.
pub(super) fn resolve(
    keys: RelayKeys,
    warnings: &mut Vec<String>,
) -> Result<Option<RelayConfig>, ConfigError> {
    let Some(url) = keys.url else {
        let stray: Vec<&str> = [
            ("relay_creds_file", keys.creds_file.is_some()),
            ("relay_directory", keys.directory.is_some()),
            ("relay_directory_key", keys.directory_key.is_some()),
            ("relay_region", keys.region.is_some()),
            ("relay_host", keys.host.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        if !stray.is_empty() {
            warnings.push(format!(
                "{} set but relay_url is not: the market relay is off and they are ignored",
                stray.join(", ")
            ));
        }
        return Ok(None);
    };
    let missing = |key: &'static str, what: &str| ConfigError::Invalid {
        key,
        origin: "the configuration".into(),
        message: format!("relay_url is set, so {key} is needed: {what}"),
    };
    let merged = |key: &'static str, message: String| ConfigError::Invalid {
        key,
        origin: "the configuration".into(),
        message,
    };
    let directory = keys.directory.ok_or_else(|| {
        missing(
            "relay_directory",
            "the market directory's file or https URL, from the market operator",
        )
    })?;
    let directory_key = keys.directory_key.ok_or_else(|| {
        missing(
            "relay_directory_key",
            "the market operator's public key, which signs the directory",
        )
    })?;
    let region = keys.region.ok_or_else(|| {
        missing(
            "relay_region",
            "the coarse region every announcement names, such as FR or FR-75",
        )
    })?;
    Ok(Some(RelayConfig {
        url: url.trim().to_owned(),
        creds_file: keys.creds_file,
        directory: DirectorySource::parse(&directory).map_err(|m| merged("relay_directory", m))?,
        directory_key: parse_key(&directory_key).map_err(|m| merged("relay_directory_key", m))?,
        region: parse_region(&region).map_err(|m| merged("relay_region", m))?,
        host: keys
            .host
            .as_deref()
            .map(parse_host)
            .transpose()
            .map_err(|m| merged("relay_host", m))?,
    }))
}
