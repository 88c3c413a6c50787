//! The vault's life while carnetd runs: sealed (no key in memory; only health, metrics, the
//! API description, discovery and `POST /v1/unlock` answer, everything else is 503 before any
//! authentication) or unsealed (the whole API). A passphrase vault starts sealed; any vault can
//! be sealed again with `POST /v1/lock`. Unlocking is authenticated by the passphrase, the
//! recovery key, or (identity mode, where the identity file on the server opens the key) the
//! owner token, checked against the MAC'd owner-token rows once the key is open; failed
//! attempts slow down the address they come from, never lock anyone out, and key derivation
//! runs one at a time off the async workers.

use std::net::IpAddr;
use std::sync::{Arc, RwLock, Weak};

use axum::Router;
use axum::extract::Request;
use tokio::task::JoinHandle;

use crate::metrics::Metrics;
use crate::relay::Relay;
use crate::routes;
use crate::state::{AppState, BoxFuture, SealedState, Settings, UnlockError, VaultControl};
use carnet_core::Core;
use carnet_core::clock::Clock;
use carnet_core::limits::UnlockBackoff;
use carnet_core::store::{Store, Synchronous};
use carnet_core::vault::Secret;
use carnet_core::vault::{self, Found, KeyMode, VaultError, VaultKey, VaultPaths};

/// How to open a vault.
pub struct OpenOptions {
    pub paths: VaultPaths,
    pub synchronous: Synchronous,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
    /// The market relay, started (`Relay::start`): its publisher and offer intake run while the
    /// vault is unsealed. `None`: no relay.
    pub relay: Option<Relay>,
}

struct Unsealed {
    state: AppState,
    router: Router,
    tasks: Vec<JoinHandle<()>>,
}

/// Everything carnetd holds whether sealed or not.
pub struct Lifecycle {
    pub(crate) paths: VaultPaths,
    pub(crate) settings: Arc<Settings>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) store: Arc<Store>,
    pub(crate) metrics: Arc<Metrics>,
    relay: Option<Relay>,
    mode: KeyMode,
    unsealed: RwLock<Option<Unsealed>>,
    sealed_router: RwLock<Option<Router>>,
    attempts: UnlockBackoff,
    /// Key derivations (scrypt) run one at a time.
    deriving: tokio::sync::Mutex<()>,
}

/// One connection's HTTP surface: each request goes to the router of the moment (the whole
/// API when unsealed, the sealed subset otherwise), with the peer's address as `ConnectInfo`.
/// No router of its own sits in front: this runs on every request.
#[derive(Clone)]
pub struct Connection {
    lifecycle: Arc<Lifecycle>,
    peer: std::net::SocketAddr,
}

impl tower::Service<Request> for Connection {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = axum::routing::future::RouteFuture<std::convert::Infallible>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(self.peer));
        tower::Service::call(&mut self.lifecycle.current_router(), req)
    }
}

/// A running carnetd: its lifecycle and its HTTP surface.
#[derive(Clone)]
pub struct Server {
    inner: Arc<Lifecycle>,
}

impl Server {
    /// Opens the vault at `opts.paths`, first creating an identity-mode vault if the directory
    /// has none. An identity vault is unsealed at once; a passphrase vault starts sealed.
    pub async fn start(opts: OpenOptions) -> Result<(Server, Option<vault::Created>), VaultError> {
        let paths = opts.paths;
        let (mode, created) = match vault::detect(&paths)? {
            Found::Nothing => (
                KeyMode::Identity,
                Some(vault::init_identity(&paths, opts.clock.now()).await?),
            ),
            Found::Vault(mode) => (mode, None),
        };
        // The identity is read before the database is touched, so a missing or wrong identity
        // is reported as such.
        let key = match mode {
            KeyMode::Identity => Some(vault::unwrap_identity(&paths)?),
            KeyMode::Passphrase => None,
        };
        let store = Arc::new(Store::open(&paths.db_file(), opts.synchronous)?);
        let mut settings = opts.settings;
        if let Some(relay) = &opts.relay {
            settings.relay_host = Some(relay.host.clone());
        }
        let lifecycle = Arc::new(Lifecycle {
            paths,
            settings: Arc::new(settings),
            clock: opts.clock,
            store,
            metrics: Arc::default(),
            relay: opts.relay,
            mode,
            unsealed: RwLock::new(None),
            sealed_router: RwLock::new(None),
            attempts: UnlockBackoff::default(),
            deriving: tokio::sync::Mutex::new(()),
        });
        *lifecycle
            .sealed_router
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(routes::sealed_router(
            SealedState {
                control: lifecycle.handle(),
                settings: lifecycle.settings.clone(),
            },
            lifecycle.store.clone(),
            lifecycle.metrics.clone(),
        ));
        match key {
            Some(key) => {
                if let Err(e) = lifecycle.unseal(key).await {
                    lifecycle.store.close();
                    return Err(e);
                }
            }
            None => {
                lifecycle.metrics.set_sealed(true);
                tracing::warn!("the vault is sealed: run `carnet unlock` to open it");
            }
        }
        Ok((Server { inner: lifecycle }, created))
    }

    /// The unsealed state, if the vault is open (tests and tools).
    pub fn state(&self) -> Option<AppState> {
        self.inner.current().map(|u| u.0)
    }

    pub fn is_sealed(&self) -> bool {
        self.inner.current().is_none()
    }

    /// The HTTP surface for one connection from `peer` (see `Connection`).
    pub fn connection(&self, peer: std::net::SocketAddr) -> Connection {
        Connection {
            lifecycle: self.inner.clone(),
            peer,
        }
    }

    /// The settings it was started with (the accept loop reads its connection limits here).
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    /// Its counters (the accept loop counts connections there).
    pub(crate) fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// Seals the vault (drops the key) and closes the database, after committing what is queued.
    pub async fn shut_down(&self) {
        self.inner.seal().await;
        self.inner.store.close();
    }
}

impl Lifecycle {
    fn current(&self) -> Option<(AppState, Router)> {
        self.unsealed
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|u| (u.state.clone(), u.router.clone()))
    }

    /// The router for the next request: only the router is cloned (one `Arc`), since this
    /// runs on every request.
    fn current_router(&self) -> Router {
        let unsealed = self
            .unsealed
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|u| u.router.clone());
        match unsealed {
            Some(router) => router,
            None => self
                .sealed_router
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .unwrap_or_default(),
        }
    }

    /// Proves the key belongs to the database, loads the in-memory views, and serves the API.
    async fn unseal(self: &Arc<Self>, key: VaultKey) -> Result<(), VaultError> {
        let keys = vault::prove_key(&self.paths, &self.store, key, self.clock.now()).await?;
        self.serve(keys).await
    }

    /// Loads the in-memory views of a proved vault and serves the API.
    async fn serve(self: &Arc<Self>, keys: vault::Keys) -> Result<(), VaultError> {
        let mut core = Core::open(
            self.store.clone(),
            keys,
            self.clock.clone(),
            self.paths.clone(),
            Arc::new(self.settings.policy()),
            self.metrics.webhooks.clone(),
        )
        .await?;
        core.directory = self.relay.as_ref().map(|r| r.directory.clone());
        self.metrics.set_ledger_index(&core.index);
        let mut tasks = carnet_core::tasks::spawn(&core);
        if let Some(relay) = &self.relay {
            tasks.extend(relay.spawn(&core, &self.metrics.relay_offers));
        }
        core.verify_access_log_later();
        let state = AppState::new(
            core,
            self.settings.clone(),
            self.metrics.clone(),
            self.handle(),
            self.relay.as_ref().map(|r| r.directory.clone()),
        );
        // The reminder scheduler reads the consent requests waiting, which live in the state.
        tasks.push(tokio::spawn(carnet_core::reminders::run(
            state.core.clone(),
            state.consents.clone(),
        )));
        let router = routes::router(state.clone());
        let replaced = self
            .unsealed
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .replace(Unsealed {
                state,
                router,
                tasks,
            });
        if let Some(old) = replaced {
            retire(old).await;
        }
        self.metrics.set_sealed(false);
        Ok(())
    }

    /// Opens the vault again in place, with the key it holds: the in-memory views, the keys an
    /// import took over and the background tasks are rebuilt from the database (after an
    /// import). Requests in flight finish with the state they hold; nothing answers sealed.
    pub(crate) async fn reopen(self: &Arc<Self>) -> Result<(), VaultError> {
        let Some((state, _)) = self.current() else {
            return Ok(());
        };
        let key = state.keys.root_copy();
        drop(state);
        self.unseal(key).await
    }

    /// Unlocks with `secret`, slowing down `client` after failures. An identity vault's file
    /// is on the server, so it proves nothing about the caller: there the key is opened and
    /// proved first, then `owner_token` must match a stored owner token, whose row MAC the
    /// key checks (a hash inserted into the database does not count).
    pub async fn unlock(
        self: &Arc<Self>,
        secret: Secret,
        owner_token: Option<&str>,
        client: IpAddr,
    ) -> Result<(), UnlockError> {
        if self.current().is_some() {
            return Err(UnlockError::AlreadyUnlocked);
        }
        let now = self.clock.now();
        self.attempts
            .check(client, now)
            .map_err(UnlockError::TooSoon)?;
        let _one_at_a_time = self.deriving.lock().await;
        if self.current().is_some() {
            return Err(UnlockError::AlreadyUnlocked);
        }
        let paths = self.paths.clone();
        let mode = self.mode;
        match (&secret, mode) {
            (Secret::IdentityFile, KeyMode::Passphrase) => {
                return Err(UnlockError::WrongKind(
                    "this vault is protected by a passphrase: send it (or the recovery key)".into(),
                ));
            }
            (Secret::Passphrase(_), KeyMode::Identity) => {
                return Err(UnlockError::WrongKind(
                    "this vault has no passphrase: its identity file opens it (send {})".into(),
                ));
            }
            (Secret::RecoveryKey(_), _) if !paths.recovery_file().exists() => {
                return Err(UnlockError::WrongKind(
                    "this vault has no recovery key (`carnetd rekey --add-recovery` makes one)"
                        .into(),
                ));
            }
            _ => {}
        }
        let needs_owner = matches!(secret, Secret::IdentityFile);
        let unwrapped =
            tokio::task::spawn_blocking(move || vault::unwrap_with(&paths, mode, secret))
                .await
                .map_err(|e| VaultError::Io {
                    path: "key derivation".into(),
                    error: std::io::Error::other(e.to_string()),
                })?;
        match unwrapped {
            Ok(key) => {
                let keys = vault::prove_key(&self.paths, &self.store, key, now).await?;
                if needs_owner && !self.owner_token_matches(owner_token)? {
                    drop(keys);
                    self.store.set_row_key(None);
                    self.attempts.failed(client, self.clock.now());
                    tracing::warn!(
                        "a failed unlock attempt (identity vault, no valid owner token)"
                    );
                    return Err(UnlockError::OwnerToken);
                }
                self.serve(keys).await?;
                self.attempts.succeeded(client);
                tracing::info!("vault unlocked");
                Ok(())
            }
            Err(VaultError::Envelope(_)) => {
                self.attempts.failed(client, self.clock.now());
                tracing::warn!("a failed unlock attempt");
                Err(UnlockError::Wrong)
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Whether `token` is one of the vault's owner tokens (rows whose MAC fails are not).
    fn owner_token_matches(&self, token: Option<&str>) -> Result<bool, VaultError> {
        let Some(token) = token else { return Ok(false) };
        let stored = self
            .store
            .read(carnet_core::store::records::owner_token_hashes)?;
        Ok(carnet_core::credential::matches_any(token, &stored))
    }

    /// Seals: in-flight requests finish with the key they hold; new ones find the vault sealed.
    pub async fn seal(&self) {
        let taken = self
            .unsealed
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(u) = taken {
            retire(u).await;
            self.store.set_row_key(None);
            self.metrics.set_sealed(true);
            tracing::info!("vault sealed");
        }
    }
}

/// Stops an unsealed state's background tasks and appends what its access log still buffers.
async fn retire(u: Unsealed) {
    for t in &u.tasks {
        t.abort();
    }
    if let Err(e) = u
        .state
        .access_log
        .flush(&u.state.store, &u.state.keys, u.state.now())
        .await
    {
        tracing::error!(error = %e, "could not append the last access-log entries");
    }
}

/// What handlers hold of the lifecycle: a weak handle (the lifecycle holds their state), so a
/// request that outlives the server finds nothing to seal or reopen.
struct Handle(Weak<Lifecycle>);

impl VaultControl for Handle {
    fn seal(&self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Some(l) = self.0.upgrade() {
                l.seal().await;
            }
        })
    }

    fn reopen(&self) -> BoxFuture<'_, Result<(), VaultError>> {
        Box::pin(async move {
            match self.0.upgrade() {
                Some(l) => l.reopen().await,
                None => Ok(()),
            }
        })
    }

    fn unlock<'a>(
        &'a self,
        secret: Secret,
        owner_token: Option<&'a str>,
        client: IpAddr,
    ) -> BoxFuture<'a, Result<(), UnlockError>> {
        Box::pin(async move {
            match self.0.upgrade() {
                Some(l) => l.unlock(secret, owner_token, client).await,
                // Shutting down: nothing to unlock any more.
                None => Err(UnlockError::AlreadyUnlocked),
            }
        })
    }
}

impl Lifecycle {
    fn handle(self: &Arc<Self>) -> Arc<dyn VaultControl> {
        Arc::new(Handle(Arc::downgrade(self)))
    }
}
