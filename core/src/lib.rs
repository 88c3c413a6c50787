//! Carnet's domain, apart from HTTP: the vault (keys, envelopes, sealing), the store (rows,
//! migrations, the one writer) and the services over them — the ledger, intents and offers,
//! vendor access (clients, grants, tokens, receipts, the access log), webhooks' outbox and
//! worker, export and import, backup. Adapters (`carnetd`'s HTTP server, tools) call it; it
//! never knows a request, a status code or a router.
#![forbid(unsafe_code)]

pub mod access;
pub mod active;
pub mod archive;
pub mod audit;
pub mod backup;
pub mod clients;
pub mod clock;
pub mod consent;
pub mod context;
pub mod credential;
pub mod crypto;
pub mod documents;
pub mod fsutil;
pub mod grants;
pub mod intents;
pub mod ledger;
pub mod limits;
pub mod notify;
pub mod oauth;
pub mod relay;
pub mod reminders;
pub mod sessions;
pub mod store;
pub mod tasks;
pub mod vault;
pub mod webhooks;

pub use context::{Core, DeliveryCounts, Policy};
