//! carnetd's side of the market relay (issue 19): at start, the signed market directory is
//! loaded and verified (`directory`), the vault host is settled (`host`, from `relay_host`, the
//! credentials' tag (`creds`) or the data dir), the relay is reached and its streams are
//! created or checked (`INTENTS`, `OFFERS`, `ANSWERS`), and the directory is read again each
//! day. While
//! the vault is unsealed, the relay's outbox (announcements, answers to offers) is published
//! (`publisher`) and offers to announced intents are taken in (`intake`). Without `relay_url`
//! none of this runs and nothing connects.

pub mod directory;
pub mod host;
pub mod intake;
mod publisher;

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use carnet_core::clock::Clock;
use carnet_market::directory::Directory;
use carnet_market::relay::{self, RelayError, RelayOptions, StreamSettings};
use carnet_market::wire::{Host, Region};

use crate::config::RelayConfig;
pub use directory::{DirectoryLoader, KEPT_FILE, LoadError};

/// How long the relay keeps an announcement and an offer: the longest intent window carnetd
/// will announce.
pub const LONGEST_WINDOW: Duration =
    Duration::from_secs(carnet_core::relay::LONGEST_WINDOW_DAYS as u64 * 86_400);
/// How often the directory is read again.
pub const REFRESH_EVERY: Duration = Duration::from_secs(86_400);

/// Why the relay could not be started.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Directory(#[from] LoadError),
    #[error(transparent)]
    Host(#[from] host::HostError),
    #[error(
        "market relay {url}: {source}; is it running with JetStream (nats-server -js)? (unset relay_url to run without the relay)"
    )]
    Relay { url: String, source: RelayError },
}

/// The relay as carnetd holds it while it runs.
#[derive(Clone)]
pub struct Relay {
    /// The newest verified market directory (replaced by the daily refresh).
    pub directory: Arc<RwLock<Directory>>,
    /// JetStream on the relay, its streams in place.
    pub jetstream: async_nats::jetstream::Context,
    /// The region every announcement names.
    pub region: Region,
    /// The vault host every new bucket is under; its one consumer reads `offer.v1.<host>.>`.
    pub host: Host,
}

impl Relay {
    /// Loads and verifies the directory (keeping it in `data_dir`), connects to the relay and
    /// creates or checks its streams. Any failure is returned: carnetd does not start with a
    /// relay configured that it cannot use.
    pub async fn start(
        config: &RelayConfig,
        data_dir: &Path,
        clock: &dyn Clock,
    ) -> Result<Relay, StartError> {
        let loader = DirectoryLoader::new(config.directory.clone(), config.directory_key, data_dir);
        let (directory, unread) = loader.load_or_kept(clock.now()).await?;
        if let Some(e) = unread {
            tracing::warn!(
                error = %e,
                kept = %loader.kept.display(),
                "market directory: using the one kept, verified and unexpired"
            );
        }
        let (host, source) = host::settle(config, data_dir)?;
        let relay_error = |source| StartError::Relay {
            url: config.url.clone(),
            source,
        };
        let client = relay::connect(&RelayOptions {
            url: config.url.clone(),
            creds: config.creds_file.clone(),
            name: "carnetd".into(),
            wait_for_relay: false,
            inbox_prefix: None,
        })
        .await
        .map_err(relay_error)?;
        let jetstream = async_nats::jetstream::new(client);
        relay::ensure_streams(
            &jetstream,
            StreamSettings::for_longest_window(LONGEST_WINDOW),
        )
        .await
        .map_err(relay_error)?;
        tracing::info!(
            relay = %config.url,
            directory_version = directory.version,
            vendors = directory.vendors.len(),
            host = %host,
            host_from = source.as_str(),
            "market relay ready"
        );
        Ok(Relay {
            directory: Arc::new(RwLock::new(directory)),
            jetstream,
            region: config.region.clone(),
            host,
        })
    }

    /// Starts what runs while the vault `core` is unsealed: the publisher of its relay outbox,
    /// and the intake of offers to its announced intents (counted in `counts`).
    pub fn spawn(
        &self,
        core: &carnet_core::Core,
        counts: &Arc<intake::OfferCounts>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        vec![
            tokio::spawn(publisher::run(core.clone(), self.jetstream.clone())),
            tokio::spawn(intake::run(core.clone(), self.clone(), counts.clone())),
        ]
    }

    /// Reads the directory again every `REFRESH_EVERY`, keeping the one it has when the new one
    /// is refused or cannot be read (said in the log).
    pub fn refresh_daily(&self, config: &RelayConfig, data_dir: &Path, clock: Arc<dyn Clock>) {
        let loader = DirectoryLoader::new(config.directory.clone(), config.directory_key, data_dir);
        let current = self.directory.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(REFRESH_EVERY);
            every.tick().await;
            loop {
                every.tick().await;
                match loader.load(clock.now()).await {
                    Ok(d) => {
                        tracing::info!(version = d.version, "market directory read again");
                        *current.write().unwrap_or_else(|p| p.into_inner()) = d;
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "market directory kept as it was");
                    }
                }
            }
        });
    }
}
