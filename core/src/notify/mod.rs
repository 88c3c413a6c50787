//! Reminders that reach the owner: the channels they go through (a webhook, ntfy, email), and
//! the message a channel is sent. The scheduler (the reminders module) decides what to say and
//! when; this module keeps the channels and delivers.
//!
//! The scheduler reads `routes` and writes each message with `queue`, inside its own write
//! transaction (its marks and the message commit together: nothing lost or doubled across a
//! crash), then pokes `Core::notify_wake`. The worker (`deliver`) takes the owner's outbox
//! (`notify_outbox`) from there: at least once, retried with back-off, given up after three
//! days like vendor webhooks. Secrets live only sealed in the channel's record; no answer,
//! log or export carries them (an export leaves channels out altogether).

pub mod channel;
pub mod deliver;
pub mod email;
pub mod render;
pub mod send;
pub mod service;

use carnet_schemas::{NotifyEvent, NotifyTiming};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::crypto::{Keys, Unreadable};
use crate::store::outbox::{self as rows, Outbox};
use crate::store::{StoreError, records};
pub use channel::ChannelRecord;
pub use render::Queued;
pub use service::{create, delete, list, show, test, update};

/// Why a channel operation failed.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("no reminder channel {0}")]
    NotFound(String),
    #[error(transparent)]
    Unreadable(#[from] Unreadable),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Every channel's routing (events, timing, digest hour, details), no secret. A channel whose
/// record does not open is left out, and logged.
pub fn routes(c: &Connection, keys: &Keys) -> Result<Vec<Route>, StoreError> {
    let mut out = Vec::new();
    for row in records::list::<ChannelRecord>(c, None)? {
        match keys.seal().open(&row.id, &row.sealed) {
            Ok(ch) => out.push(Route {
                channel_id: row.id.clone(),
                events: ch.events.clone(),
                timing: ch.timing(),
                digest_hour: ch.digest_hour.unwrap_or(0),
                details: ch.details,
            }),
            Err(e) => {
                tracing::error!(error = %e, "a reminder channel does not open; it gets nothing")
            }
        }
    }
    out.sort_by(|a, b| a.channel_id.cmp(&b.channel_id));
    Ok(out)
}

/// A fresh id for an outbox row (`msg_…`, the `webhook-id` of a webhook channel).
fn message_id() -> String {
    format!(
        "msg_{}",
        data_encoding::BASE32HEX_NOPAD
            .encode(&crate::credential::random_bytes::<
                { carnet_schemas::ids::ID_RANDOM_BYTES },
            >())
            .to_ascii_lowercase()
    )
}

/// Writes one message for one channel to the owner's outbox, sealed, inside the caller's
/// write transaction; the caller pokes `Core::notify_wake` after the commit.
pub fn queue(
    c: &Connection,
    keys: &Keys,
    channel_id: &str,
    message: &Message,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let id = message_id();
    let queued = Queued {
        message: message.clone(),
        test: false,
    };
    let sealed = keys.seal().seal(&id, &queued);
    rows::insert(c, Outbox::Owner, &id, channel_id, now, &sealed)
}

/// What the scheduler needs to know of a channel to route events to it (no secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub channel_id: String,
    /// The events it takes.
    pub events: Vec<NotifyEvent>,
    pub timing: NotifyTiming,
    /// For a digest: the hour (0–23) in the owner's time zone.
    pub digest_hour: u8,
    /// Whether its messages may name vendors and carry text (`--details`).
    pub details: bool,
}

/// One message to one channel: a reminder at once, or a day's digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub digest: bool,
    pub items: Vec<Item>,
}

/// One line of a message: an event's kind, how many, and the day they concern. `details`
/// (vendor names, what was promised…) is empty unless the channel opted in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub event: NotifyEvent,
    pub count: u32,
    pub date: NaiveDate,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<String>,
}
