//! carnetd as a library: open (or create) a vault, build the HTTP surface, serve it. The
//! `carnetd` binary only parses flags and calls these; tests call the same functions on a
//! port-0 listener.
#![forbid(unsafe_code)]

pub mod accept;
pub mod access;
mod archive;
pub mod backup;
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
pub mod server;
pub mod state;
pub mod store;
pub mod vault;
mod vendor_api;
pub mod webhooks;

use std::future::Future;

use tokio::net::TcpListener;

pub use crate::server::{OpenOptions, Secret, Server, UnlockError};
use crate::state::AppState;
pub use crate::state::Settings;

/// Serves the API on `listener` until `shutdown` completes, then lets in-flight requests
/// finish, commits every queued write, and seals the vault before returning. Connections are
/// bounded as `Settings::connections` says (see `accept`).
pub async fn serve(
    listener: TcpListener,
    server: Server,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let served = accept::serve_connections(listener, server.clone(), shutdown).await;
    server.shut_down().await;
    served
}

/// Forgets expired tokens and grants every minute, so memory stays bounded, and deletes
/// token rows that expired more than a day ago (they can never be used again).
pub(crate) async fn janitor(s: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        let now = s.now();
        s.access.prune(now);
        let before = now - chrono::Duration::days(1);
        s.store
            .write_behind("purging expired tokens", move |c| {
                store::access::purge_tokens(c, before).map(drop)
            })
            .await;
    }
}
