//! The vault's life while carnetd runs: sealed (no key in memory; only health, metrics, the
//! API description, discovery and `POST /v1/unlock` answer, everything else is 503 before any
//! authentication) or unsealed (the whole API). A passphrase vault starts sealed; any vault can
//! be sealed again with `POST /v1/lock`. Unlocking is authenticated by the passphrase, the
//! recovery key, or (identity mode, where the identity file on the server opens the key) the
//! owner token, checked against the MAC'd owner-token rows once the key is open; failed
//! attempts slow down the address they come from, never lock anyone out, and key derivation
//! runs one at a time off the async workers.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, RwLock, Weak};

use age::secrecy::SecretString;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use tokio::task::JoinHandle;

use crate::metrics::Metrics;
use crate::routes;
use crate::state::{AppState, Settings};
use carnet_core::Core;
use carnet_core::clock::Clock;
use carnet_core::store::{Store, Synchronous};
use carnet_core::vault::Secret;
use carnet_core::vault::{self, Found, KeyMode, VaultError, VaultKey, VaultPaths};

/// How to open a vault.
pub struct OpenOptions {
    pub paths: VaultPaths,
    pub synchronous: Synchronous,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
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

/// Failed unlocks per client address: each failure doubles the wait before the next attempt
/// (1, 2, 4 … 60 s), so guessing is slow but the owner is never locked out.
#[derive(Default)]
struct Attempts(std::sync::Mutex<HashMap<IpAddr, (u32, DateTime<Utc>)>>);

impl Attempts {
    fn check(&self, ip: IpAddr, now: DateTime<Utc>) -> Result<(), u64> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        match map.get(&ip) {
            Some((failures, last)) => {
                let wait = Duration::seconds(delay(*failures));
                let ready = *last + wait;
                if now < ready {
                    Err((ready - now).num_seconds().max(1) as u64)
                } else {
                    Ok(())
                }
            }
            None => Ok(()),
        }
    }

    fn failed(&self, ip: IpAddr, now: DateTime<Utc>) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 10_000 {
            map.retain(|_, (_, last)| now - *last < Duration::hours(1));
        }
        let e = map.entry(ip).or_insert((0, now));
        e.0 = e.0.saturating_add(1);
        e.1 = now;
    }

    fn succeeded(&self, ip: IpAddr) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(&ip);
    }
}

/// Seconds to wait after `failures` failed attempts.
fn delay(failures: u32) -> i64 {
    1i64.checked_shl(failures.saturating_sub(1).min(6))
        .unwrap_or(60)
        .min(60)
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
    mode: KeyMode,
    unsealed: RwLock<Option<Unsealed>>,
    sealed_router: RwLock<Option<Router>>,
    attempts: Attempts,
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
        let lifecycle = Arc::new(Lifecycle {
            paths,
            settings: Arc::new(opts.settings),
            clock: opts.clock,
            store,
            metrics: Arc::default(),
            mode,
            unsealed: RwLock::new(None),
            sealed_router: RwLock::new(None),
            attempts: Attempts::default(),
            deriving: tokio::sync::Mutex::new(()),
        });
        *lifecycle
            .sealed_router
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(routes::sealed_router(&lifecycle));
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
        let core = Core::open(
            self.store.clone(),
            keys,
            self.clock.clone(),
            self.paths.clone(),
            Arc::new(self.settings.policy()),
            self.metrics.webhooks.clone(),
        )
        .await?;
        let tasks = carnet_core::tasks::spawn(&core);
        core.verify_access_log_later();
        let state = AppState::new(
            core,
            self.settings.clone(),
            self.metrics.clone(),
            Arc::downgrade(self),
        );
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
        .flush(&u.state.store, &u.state.keys)
        .await
    {
        tracing::error!(error = %e, "could not append the last access-log entries");
    }
}

/// `POST /v1/unlock` while sealed.
pub(crate) async fn unlock_handler(
    State(l): State<Arc<Lifecycle>>,
    crate::client_ip::ClientIp(client): crate::client_ip::ClientIp,
    headers: axum::http::HeaderMap,
    body: Result<
        axum::Json<carnet_schemas::UnlockRequest>,
        axum::extract::rejection::JsonRejection,
    >,
) -> Response {
    let secret = match body {
        Err(_) => return crate::error::ApiError::bad_request(
            "the body must be JSON: {\"passphrase\": …} or {\"recovery_key\": …}, or {} for an identity vault",
            "`carnet unlock` sends it for you",
        )
        .into_response(),
        Ok(axum::Json(r)) => match (r.passphrase, r.recovery_key) {
            (Some(p), None) => Secret::Passphrase(SecretString::from(p)),
            (None, Some(k)) => Secret::RecoveryKey(SecretString::from(k)),
            (None, None) => Secret::IdentityFile,
            (Some(_), Some(_)) => {
                return crate::error::ApiError::bad_request(
                    "give the passphrase or the recovery key, not both",
                    "`carnet unlock` asks for the passphrase; `--recovery-key-file` uses the recovery key",
                )
                .into_response();
            }
        },
    };
    let owner_token = crate::extract::bearer(&headers).ok();
    match l.unlock(secret, owner_token, client).await {
        Ok(()) => unlocked(),
        Err(e) => unlock_error(e),
    }
}

pub(crate) fn unlocked() -> Response {
    axum::Json(carnet_schemas::Health {
        status: carnet_schemas::HealthStatus::Ok,
        version: env!("CARGO_PKG_VERSION").into(),
    })
    .into_response()
}

pub(crate) fn unlock_error(e: UnlockError) -> Response {
    use crate::error::ApiError;
    let err = match e {
        UnlockError::AlreadyUnlocked => {
            ApiError::conflict("the vault is already unlocked", "nothing to do")
        }
        UnlockError::Wrong => ApiError::Unauthorized {
            detail: "wrong passphrase or recovery key".into(),
        },
        UnlockError::OwnerToken => ApiError::Unauthorized {
            detail: "an identity vault unlocks only with its owner token: send it as `Authorization: Bearer <token>` (`carnet unlock --identity` does)".into(),
        },
        UnlockError::TooSoon(wait) => ApiError::TooMany {
            what: "failed unlock attempts",
            retry_after: wait,
        },
        UnlockError::WrongKind(why) => {
            ApiError::bad_request(why, "`carnet unlock --help` shows the ways in")
        }
        UnlockError::Vault(VaultError::Generation(g)) => {
            tracing::error!(error = %g, "unlock refused: the vault stays sealed");
            ApiError::conflict(
                g.to_string(),
                "the vault stays sealed; carnetd's log says the same",
            )
        }
        UnlockError::Vault(v) => ApiError::Internal(v.to_string()),
    };
    err.into_response()
}

/// Everything else while sealed: 503, before any authentication.
pub(crate) async fn sealed() -> Response {
    let mut res = crate::error::ApiError::Sealed.into_response();
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    res
}

/// A handle to seal from inside the API (`POST /v1/lock`).
pub(crate) async fn lock(lifecycle: &Weak<Lifecycle>) -> Response {
    if let Some(l) = lifecycle.upgrade() {
        l.seal().await;
    }
    axum::Json(carnet_schemas::Health {
        status: carnet_schemas::HealthStatus::Sealed,
        version: env!("CARGO_PKG_VERSION").into(),
    })
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_unlocks_slow_down_without_locking_out() {
        assert_eq!(delay(1), 1);
        assert_eq!(delay(2), 2);
        assert_eq!(delay(7), 60);
        assert_eq!(delay(40), 60);
        let a = Attempts::default();
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t = Utc::now();
        assert!(a.check(ip, t).is_ok());
        a.failed(ip, t);
        assert!(a.check(ip, t).is_err());
        assert!(a.check(ip, t + Duration::seconds(1)).is_ok());
        a.failed(ip, t + Duration::seconds(1));
        assert_eq!(a.check(ip, t + Duration::seconds(1)), Err(2));
        assert!(
            a.check("192.0.2.2".parse().unwrap(), t).is_ok(),
            "per address"
        );
    }
}
