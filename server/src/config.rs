//! carnetd's configuration, in layers: defaults → TOML file → `CARNET_*` environment →
//! command-line flags (clap reads the environment for each flag, so the last two arrive
//! together). Unknown keys in the file are refused by name.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";
pub const CONFIG_FILE: &str = "carnetd.toml";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Pretty,
    Json,
}

/// The TOML file, every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub data_dir: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub public_url: Option<String>,
    pub identity_file: Option<PathBuf>,
    pub log_format: Option<LogFormat>,
    /// A `tracing` filter such as `info` or `carnet_server=debug`.
    pub log_level: Option<String>,
    /// Lifetime of vendor access tokens, in seconds (default 3600).
    pub access_token_ttl: Option<u32>,
    /// Written into consent receipts (Kantara `jurisdiction`), e.g. "FR".
    pub jurisdiction: Option<String>,
}

/// What flags and environment said (already merged by clap).
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub data_dir: Option<PathBuf>,
    pub config: Option<PathBuf>,
    pub identity_file: Option<PathBuf>,
    pub listen: Option<SocketAddr>,
    pub public_url: Option<String>,
    pub log_format: Option<LogFormat>,
}

/// The effective configuration.
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
    pub jurisdiction: String,
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
    #[error("config key {key}: {message}")]
    Range { key: &'static str, message: String },
    #[error(
        "public_url {0:?} is not an absolute http(s) URL (e.g. \"https://carnet.example.net\")"
    )]
    PublicUrl(String),
}

fn default_data_dir() -> Result<PathBuf, ConfigError> {
    dirs::data_dir()
        .map(|d| d.join("carnet"))
        .ok_or(ConfigError::NoDataDir)
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.display().to_string(),
        message: e.to_string().trim().replace('\n', " "),
    })
}

impl Config {
    /// What handlers need of it.
    pub fn settings(&self) -> crate::state::Settings {
        crate::state::Settings {
            public_url: self.public_url.clone(),
            access_token_ttl: chrono::Duration::seconds(i64::from(self.access_token_ttl)),
            jurisdiction: self.jurisdiction.clone(),
        }
    }

    /// Merges the layers. The file is `--config` if given, else `DATA_DIR/carnetd.toml` if
    /// that exists (a `data_dir` key is only honoured from an explicit `--config` file).
    pub fn resolve(o: Overrides) -> Result<Config, ConfigError> {
        let (file, config_file) = match &o.config {
            Some(path) => (read_file(path)?, Some(path.clone())),
            None => {
                let dir = match &o.data_dir {
                    Some(d) => d.clone(),
                    None => default_data_dir()?,
                };
                let path = dir.join(CONFIG_FILE);
                if path.exists() {
                    (read_file(&path)?, Some(path))
                } else {
                    (FileConfig::default(), None)
                }
            }
        };
        let data_dir = match (o.data_dir, file.data_dir) {
            (Some(d), _) | (None, Some(d)) => d,
            (None, None) => default_data_dir()?,
        };
        #[allow(clippy::unwrap_used)] // a constant that parses
        let listen = o
            .listen
            .or(file.listen)
            .unwrap_or_else(|| DEFAULT_LISTEN.parse().unwrap());
        let public_url = o
            .public_url
            .or(file.public_url)
            .unwrap_or_else(|| format!("http://{listen}"));
        match url::Url::parse(&public_url) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => return Err(ConfigError::PublicUrl(public_url)),
        }
        Ok(Config {
            config_file,
            data_dir,
            listen,
            public_url,
            identity_file: o.identity_file.or(file.identity_file),
            log_format: o.log_format.or(file.log_format).unwrap_or_default(),
            log_level: file.log_level.unwrap_or_else(|| "info".into()),
            access_token_ttl: match file.access_token_ttl {
                None => 3600,
                Some(t) if (60..=86_400).contains(&t) => t,
                Some(t) => {
                    return Err(ConfigError::Range {
                        key: "access_token_ttl",
                        message: format!("{t} seconds; use 60 to 86400"),
                    });
                }
            },
            jurisdiction: file.jurisdiction.unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overrides(dir: &Path) -> Overrides {
        Overrides {
            data_dir: Some(dir.to_owned()),
            ..Overrides::default()
        }
    }

    #[test]
    fn defaults_then_file_then_flags() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config::resolve(overrides(dir.path())).unwrap();
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(c.public_url, "http://127.0.0.1:8787");

        std::fs::write(
            dir.path().join(CONFIG_FILE),
            "listen = \"127.0.0.1:9000\"\npublic_url = \"https://vault.example.net/carnet\"\n",
        )
        .unwrap();
        let c = Config::resolve(overrides(dir.path())).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:9000");
        assert_eq!(c.public_url, "https://vault.example.net/carnet");

        let mut o = overrides(dir.path());
        o.listen = Some("127.0.0.1:9100".parse().unwrap());
        assert_eq!(
            Config::resolve(o).unwrap().listen.to_string(),
            "127.0.0.1:9100"
        );
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(CONFIG_FILE), "lisen = \"x\"\n").unwrap();
        let err = Config::resolve(overrides(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("lisen"), "{err}");
        std::fs::write(dir.path().join(CONFIG_FILE), "listen = \"nowhere\"\n").unwrap();
        let err = Config::resolve(overrides(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("listen"), "{err}");
        std::fs::write(dir.path().join(CONFIG_FILE), "public_url = \"vault\"\n").unwrap();
        assert!(Config::resolve(overrides(dir.path())).is_err());
    }
}
