//! The vault host: the first token of every bucket this vault makes, so the relay can let it
//! read `offer.v1.<host>.>` and nothing else, and carnetd reads all its offers with one
//! consumer. Settled once at start: `relay_host` when configured; else the credentials' user
//! JWT tag `carnet-host:<host>`; else the one kept in the data dir (`relay-host`, mode 0600),
//! made at random the first time, so the same buckets answer after a restart.
//!
//! Never starts with two hosts: a configured host that differs from the credentials' tag stops
//! carnetd with one line naming both.

use std::path::Path;

use carnet_market::wire::Host;

use crate::config::RelayConfig;
use carnet_market::creds::{CredsError, host_of};

/// The file in the data dir that keeps a host made at random.
pub const HOST_FILE: &str = "relay-host";

/// Where the host came from (said in the log at start).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostSource {
    Config,
    Creds,
    Kept,
    Made,
}

impl HostSource {
    /// The words of the start log.
    pub fn as_str(self) -> &'static str {
        match self {
            HostSource::Config => "relay_host",
            HostSource::Creds => "the credentials' carnet-host tag",
            HostSource::Kept => "kept in the data dir",
            HostSource::Made => "made at random and kept in the data dir",
        }
    }
}

/// Why no host could be settled.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    #[error(
        "relay_host is {configured} but the credentials file {creds} is for vault host {tagged}: set relay_host to {tagged}, or unset it"
    )]
    Differ {
        configured: Host,
        tagged: Host,
        creds: String,
    },
    #[error(transparent)]
    Creds(#[from] CredsError),
    #[error("cannot keep the vault host in {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "{path} does not hold a vault host ({problem}); set relay_host, or remove the file to have one made (the announced intents' buckets keep their host)"
    )]
    Kept { path: String, problem: String },
}

/// The host of this vault, and where it came from.
pub fn settle(config: &RelayConfig, data_dir: &Path) -> Result<(Host, HostSource), HostError> {
    let tagged = match &config.creds_file {
        Some(path) => host_of(path)?,
        None => None,
    };
    match (&config.host, tagged) {
        (Some(configured), Some(tagged)) if *configured != tagged => Err(HostError::Differ {
            configured: configured.clone(),
            tagged,
            creds: config
                .creds_file
                .as_deref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        }),
        (Some(configured), _) => Ok((configured.clone(), HostSource::Config)),
        (None, Some(tagged)) => Ok((tagged, HostSource::Creds)),
        (None, None) => kept_or_made(data_dir),
    }
}

/// The host kept in `data_dir`, or a fresh one written there.
fn kept_or_made(data_dir: &Path) -> Result<(Host, HostSource), HostError> {
    let path = data_dir.join(HOST_FILE);
    let shown = || path.display().to_string();
    match std::fs::read_to_string(&path) {
        Ok(text) => text.trim().parse().map(|h| (h, HostSource::Kept)).map_err(
            |e: carnet_market::wire::BadValue| HostError::Kept {
                path: shown(),
                problem: e.to_string(),
            },
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let host = Host::generate();
            carnet_core::fsutil::write_private(&path, format!("{host}\n").as_bytes(), false)
                .map_err(|source| HostError::Write {
                    path: shown(),
                    source,
                })?;
            Ok((host, HostSource::Made))
        }
        Err(e) => Err(HostError::Kept {
            path: shown(),
            problem: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(host: Option<&str>, creds: Option<&Path>) -> RelayConfig {
        RelayConfig {
            url: "nats://127.0.0.1:4222".into(),
            creds_file: creds.map(Path::to_path_buf),
            directory: crate::config::DirectorySource::File("/dev/null".into()),
            directory_key: carnet_market::keys::SigningKey::generate().verifying_key(),
            region: "FR".parse().unwrap(),
            host: host.map(|h| h.parse().unwrap()),
        }
    }

    /// Vault credentials as `carnet-market vault-user --id HOST` issues them.
    fn tagged_creds(dir: &Path, host: &str) -> std::path::PathBuf {
        let path = dir.join("vault.creds");
        let operator = carnet_market::keys::SigningKey::generate();
        carnet_market::creds::issue_vault(
            &operator,
            &host.parse().unwrap(),
            &path,
            chrono::Utc::now(),
        )
        .unwrap();
        path
    }

    #[test]
    fn a_host_made_at_random_is_kept_private_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let (made, source) = settle(&config(None, None), dir.path()).unwrap();
        assert_eq!(source, HostSource::Made);
        let mode = std::fs::metadata(dir.path().join(HOST_FILE)).unwrap();
        assert_eq!(
            std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
            0o600
        );
        assert_eq!(
            settle(&config(None, None), dir.path()).unwrap(),
            (made, HostSource::Kept)
        );
    }

    #[test]
    fn the_configured_host_beats_the_kept_one_and_must_agree_with_the_credentials() {
        let dir = tempfile::tempdir().unwrap();
        let creds = tagged_creds(dir.path(), "vault-7");
        let (host, source) = settle(&config(None, Some(&creds)), dir.path()).unwrap();
        assert_eq!((host.as_str(), source), ("vault-7", HostSource::Creds));
        let (host, source) = settle(&config(Some("vault-7"), Some(&creds)), dir.path()).unwrap();
        assert_eq!((host.as_str(), source), ("vault-7", HostSource::Config));
        let (host, source) = settle(&config(Some("mine"), None), dir.path()).unwrap();
        assert_eq!((host.as_str(), source), ("mine", HostSource::Config));
        let e = settle(&config(Some("vault-8"), Some(&creds)), dir.path()).unwrap_err();
        assert!(
            matches!(e, HostError::Differ { .. }) && e.to_string().contains("vault-7"),
            "{e}"
        );
        // Nothing was made or kept for a host that came from elsewhere.
        assert!(!dir.path().join(HOST_FILE).exists());
    }

    #[test]
    fn a_kept_file_that_is_not_a_host_stops_the_start() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(HOST_FILE), "a.b>\n").unwrap();
        assert!(matches!(
            settle(&config(None, None), dir.path()),
            Err(HostError::Kept { .. })
        ));
    }
}
