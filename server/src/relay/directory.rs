//! The market directory carnetd works with: read from `relay_directory` (a file, or an https
//! URL), verified with `relay_directory_key`, and kept in the data directory
//! (`market-directory.json`) once verified, so that a directory older than the newest one seen
//! is refused after a restart too. It never returns a directory that is unsigned, signed by
//! another key, expired or older than the one kept, and never keeps one it did not verify.

use std::path::{Path, PathBuf};
use std::time::Duration;

use carnet_market::directory::{self, Directory, DirectoryError, MAX_DIRECTORY};
use carnet_market::keys::VerifyingKey;
use chrono::{DateTime, Utc};

use crate::config::DirectorySource;

/// The newest verified directory, in the data directory.
pub const KEPT_FILE: &str = "market-directory.json";
/// How long a fetch of the directory may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);

/// Why no directory could be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read the market directory {from}: {message}")]
    Read { from: String, message: String },
    #[error("the market directory {from} is refused: {error}")]
    Refused { from: String, error: DirectoryError },
    #[error("cannot keep the market directory in {path}: {source}")]
    Keep {
        path: String,
        source: std::io::Error,
    },
}

/// Reads, verifies and keeps directories for one configuration.
#[derive(Debug, Clone)]
pub struct DirectoryLoader {
    pub source: DirectorySource,
    pub key: VerifyingKey,
    /// Where the newest verified directory is kept.
    pub kept: PathBuf,
}

impl DirectoryLoader {
    /// A loader for `source`, verified with `key`, keeping its directory in `data_dir`.
    pub fn new(source: DirectorySource, key: VerifyingKey, data_dir: &Path) -> Self {
        DirectoryLoader {
            source,
            key,
            kept: data_dir.join(KEPT_FILE),
        }
    }

    /// Reads the source and verifies it at `now` against the key and the kept directory's
    /// version; keeps it when it is newer (or the first). Returns the verified directory.
    pub async fn load(&self, now: DateTime<Utc>) -> Result<Directory, LoadError> {
        let bytes = self.read_source().await?;
        self.verify_and_keep(&bytes, now)
    }

    /// Like `load`, but when the source cannot be read (the operator's web server is down, the
    /// file is being replaced) and the kept directory verifies and has not expired, that one is
    /// used, with the reason. A source that is read and refused is never bypassed.
    pub async fn load_or_kept(
        &self,
        now: DateTime<Utc>,
    ) -> Result<(Directory, Option<LoadError>), LoadError> {
        let bytes = match self.read_source().await {
            Ok(bytes) => bytes,
            Err(unread) => {
                let kept = std::fs::read(&self.kept)
                    .ok()
                    .and_then(|bytes| directory::verify(&bytes, &self.key, now, None).ok());
                return match kept {
                    Some(d) => Ok((d, Some(unread))),
                    None => Err(unread),
                };
            }
        };
        Ok((self.verify_and_keep(&bytes, now)?, None))
    }

    fn verify_and_keep(&self, bytes: &[u8], now: DateTime<Utc>) -> Result<Directory, LoadError> {
        let have = self.kept_version();
        let directory =
            directory::verify(bytes, &self.key, now, have).map_err(|error| LoadError::Refused {
                from: self.source.to_string(),
                error,
            })?;
        if have.is_none_or(|v| directory.version > v) {
            self.keep(bytes)?;
        }
        Ok(directory)
    }

    /// The version of the kept directory, if it is there and signed by the key (whether it
    /// expired since does not matter: an older directory is still older). A kept file signed by
    /// another key, after the operator's key changed, counts for nothing.
    fn kept_version(&self) -> Option<u64> {
        let bytes = std::fs::read(&self.kept).ok()?;
        directory::verify(&bytes, &self.key, DateTime::<Utc>::MIN_UTC, None)
            .ok()
            .map(|d| d.version)
    }

    fn keep(&self, bytes: &[u8]) -> Result<(), LoadError> {
        let keep_error = |source| LoadError::Keep {
            path: self.kept.display().to_string(),
            source,
        };
        let tmp = self.kept.with_extension("json.tmp");
        std::fs::write(&tmp, bytes).map_err(keep_error)?;
        std::fs::rename(&tmp, &self.kept).map_err(keep_error)
    }

    async fn read_source(&self) -> Result<Vec<u8>, LoadError> {
        let read_error = |message: String| LoadError::Read {
            from: self.source.to_string(),
            message,
        };
        match &self.source {
            DirectorySource::File(path) => {
                let bytes = tokio::fs::read(path)
                    .await
                    .map_err(|e| read_error(e.to_string()))?;
                if bytes.len() > MAX_DIRECTORY {
                    return Err(read_error(format!("larger than {MAX_DIRECTORY} bytes")));
                }
                Ok(bytes)
            }
            DirectorySource::Url(url) => fetch(url).await.map_err(read_error),
        }
    }
}

/// Fetches `url` over https: no redirect, a time limit, at most `MAX_DIRECTORY` bytes.
async fn fetch(url: &str) -> Result<Vec<u8>, String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .https_only(true)
        .timeout(FETCH_TIMEOUT)
        .user_agent(concat!("carnetd/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())?;
    let mut response = client.get(url).send().await.map_err(|e| e.to_string())?;
    if !response.status().is_success() {
        return Err(format!("the server answered {}", response.status()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > MAX_DIRECTORY {
            return Err(format!("larger than {MAX_DIRECTORY} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

#[cfg(test)]
#[path = "directory_tests.rs"]
mod tests;
