//! carnetd as a library: open (or create) a vault, build the HTTP surface, serve it. The
//! `carnetd` binary only parses flags and calls these; tests call the same functions on a
//! port-0 listener.
#![forbid(unsafe_code)]

pub mod access;
pub mod client_ip;
pub mod clock;
pub mod config;
pub mod credential;
mod error;
mod extract;
pub mod fsutil;
pub mod intents;
pub mod metrics;
mod oauth;
mod openapi;
mod owner_api;
mod page;
pub mod routes;
pub mod state;
pub mod store;
pub mod vault;
mod vendor_api;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;

use crate::clock::Clock;
use crate::state::AppState;
pub use crate::state::Settings;
use crate::store::Synchronous;
use crate::vault::{Created, Found, KeyMode, VaultError, VaultPaths};

/// How to open a vault.
pub struct OpenOptions {
    pub paths: VaultPaths,
    pub synchronous: Synchronous,
    pub clock: Arc<dyn Clock>,
    pub settings: Settings,
}

/// Opens the vault at `opts.paths`, first creating an identity-mode vault if the directory has
/// none. Returns what was created, if anything, so the caller can say where it is.
pub async fn open_vault(opts: OpenOptions) -> Result<(AppState, Option<Created>), VaultError> {
    let paths = opts.paths;
    let created = match vault::detect(&paths)? {
        Found::Nothing => Some(vault::init_identity(&paths, opts.clock.now()).await?),
        Found::Vault(KeyMode::Passphrase) => {
            return Err(VaultError::PassphraseVault {
                dir: paths.dir.display().to_string(),
            });
        }
        Found::Vault(KeyMode::Identity) => None,
    };
    let key = vault::unwrap_identity(&paths)?;
    let (store, keys) = vault::open_store(&paths, key, opts.synchronous, opts.clock.now()).await?;
    let loaded = access::load(&store, &keys, opts.clock.now())
        .and_then(|access| Ok((access, intents::ActiveIntents::load(&store, &keys)?)));
    let (access, intents) = match loaded {
        Ok(v) => v,
        Err(e) => {
            store.close();
            return Err(e);
        }
    };
    let state = AppState::new(state::Parts {
        store,
        keys,
        clock: opts.clock,
        paths,
        access,
        intents,
        settings: opts.settings,
    });
    Ok((state, created))
}

/// Serves the API on `listener` until `shutdown` completes, then lets in-flight requests
/// finish and commits every queued write before returning.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = routes::router(state.clone());
    let janitor = tokio::spawn(janitor(state.clone()));
    let flusher = tokio::spawn(access::log::AccessLog::run(state.clone()));
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    janitor.abort();
    flusher.abort();
    if let Err(e) = state.access_log.flush(&state).await {
        tracing::error!(error = %e, "could not append the last access-log entries");
    }
    state.store.close();
    served
}

/// Forgets expired tokens and grants every minute, so memory stays bounded, and deletes
/// token rows that expired more than a day ago (they can never be used again).
async fn janitor(s: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        let now = s.now();
        s.access.prune(now);
        let before = now - chrono::Duration::days(1);
        s.store.write_detached("purging expired tokens", move |c| {
            store::access::purge_tokens(c, before).map(drop)
        });
    }
}
