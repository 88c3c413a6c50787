//! The one state every handler gets: the open vault (`carnet_core::Core`, which it derefs to)
//! and the few things only HTTP needs — settings, metrics, consent sessions, rate limits, and
//! a way to seal. Never holds a domain rule of its own.

use std::sync::Arc;

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use carnet_core::Core;
use carnet_core::vault::{Secret, VaultError};

pub use crate::config::Settings;

/// What every route reads, shared: one reference count moves when a request takes it.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub core: Core,
    pub settings: Arc<Settings>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Consent requests waiting for the owner.
    pub consents: Arc<carnet_core::consent::Consents>,
    /// Open registrations at `/oauth/register`, per client address and in all.
    pub registrations: Arc<carnet_core::limits::Registrations>,
    /// Sign-in attempts on the consent page, per client address.
    pub sign_in_attempts: Arc<carnet_core::limits::SignInAttempts>,
    /// The owner's web-app sessions (gone with this state when the vault seals).
    pub sessions: Arc<carnet_core::sessions::Sessions>,
    /// Slow hashes (the web password) run one at a time, with a bounded queue per lane.
    pub slow_hashes: Arc<carnet_core::access::password::SlowHashes>,
    /// To seal from inside the API (`POST /v1/lock`).
    pub lifecycle: Arc<dyn VaultControl>,
    /// The market directory carnetd holds (replaced by its daily refresh); `None` without a
    /// market relay.
    pub market: Option<Arc<std::sync::RwLock<carnet_market::directory::Directory>>>,
}

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl std::ops::Deref for Shared {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}

impl AppState {
    pub fn new(
        core: Core,
        settings: Arc<Settings>,
        metrics: Arc<crate::metrics::Metrics>,
        lifecycle: Arc<dyn VaultControl>,
        market: Option<Arc<std::sync::RwLock<carnet_market::directory::Directory>>>,
    ) -> Self {
        let sessions = Arc::new(carnet_core::sessions::Sessions::new(
            settings.app_idle_timeout,
        ));
        AppState(Arc::new(Shared {
            core,
            settings,
            metrics,
            consents: Arc::default(),
            registrations: Arc::default(),
            sign_in_attempts: Arc::default(),
            sessions,
            slow_hashes: Arc::default(),
            lifecycle,
            market,
        }))
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

/// A boxed future, for the object-safe `VaultControl`.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the HTTP layer may ask of the vault's life (`server::Lifecycle` answers): seal it,
/// open it again in place (after an import), unlock it.
pub trait VaultControl: Send + Sync {
    fn seal(&self) -> BoxFuture<'_, ()>;
    fn reopen(&self) -> BoxFuture<'_, Result<(), VaultError>>;
    /// Unlocks with `secret`, slowing `client` down after failures; an identity vault needs
    /// `owner_token` too.
    fn unlock<'a>(
        &'a self,
        secret: Secret,
        owner_token: Option<&'a str>,
        client: IpAddr,
    ) -> BoxFuture<'a, Result<(), UnlockError>>;
}

/// What the sealed routes hold: no key, no store of records; the way in, and the settings.
#[derive(Clone)]
pub struct SealedState {
    pub control: Arc<dyn VaultControl>,
    pub settings: Arc<Settings>,
}

#[derive(Debug, thiserror::Error)]
pub enum UnlockError {
    #[error("the vault is already unlocked")]
    AlreadyUnlocked,
    #[error("wrong passphrase or recovery key")]
    Wrong,
    /// Identity mode: the identity file opened the key, but the request did not carry this
    /// vault's owner token.
    #[error("an identity vault unlocks only with its owner token")]
    OwnerToken,
    #[error("too many failed attempts from this address: wait {0} s")]
    TooSoon(u64),
    /// The wrong kind of secret for this vault (no guess was made, so no penalty).
    #[error("{0}")]
    WrongKind(String),
    #[error("{0}")]
    Vault(#[from] VaultError),
}
