//! Carnet's market relay, the part that does not live in the vault: the wire format of
//! announcements, offers and answers (`wire`), the signed market directory (`directory`), the
//! streams a relay needs (`streams`), and the vendor SDK over NATS JetStream (`sdk`), which the
//! `carnet-vendor` tool drives. Consent at the transport: who may do what on the relay
//! (`access`), the NATS JWTs and credentials files that carry it (`jwt`, `creds`), and the
//! server's configuration (`nats_config`).
//!
//! The vault (carnet-core) depends on this crate for the vault-side helpers
//! (`wire::announcement::IntentKeys`, `wire::offer::open_offer`, `wire::answer`), never the other
//! way: nothing here opens a vault or knows an intent's id.
#![forbid(unsafe_code)]

pub mod access;
#[cfg(feature = "relay")]
pub mod creds;
pub mod directory;
#[cfg(feature = "relay")]
pub mod jwt;
pub mod keys;
#[cfg(feature = "relay")]
pub mod nats_config;
#[cfg(feature = "relay")]
pub mod relay;
pub mod schema;
#[cfg(feature = "relay")]
pub mod sdk;
#[cfg(feature = "test-support")]
pub mod testing;
#[cfg(feature = "relay")]
pub mod tool;
pub mod wire;
