//! carnetd as a library: open (or create) a vault, build the HTTP surface, serve it. The
//! `carnetd` binary only parses flags and calls these; tests call the same functions on a
//! port-0 listener.
#![forbid(unsafe_code)]

pub mod accept;
mod api_routes;
mod app;
pub mod client_ip;
pub mod config;
mod error;
mod extract;
mod frame;
mod html;
pub mod log_fields;
pub mod metrics;
mod oauth;
mod openapi;
mod owner_api;
mod paging;
pub mod relay;
pub mod routes;
mod sealed;
pub mod server;
pub mod state;
mod vendor_api;

use std::future::Future;

use tokio::net::TcpListener;

pub use carnet_core::vault::Secret;

pub use crate::server::{OpenOptions, Server};
pub use crate::state::Settings;
pub use crate::state::UnlockError;

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
