//! Reminders that reach the owner: the channels they go through (a webhook, ntfy, email), and
//! the message a channel is sent. The scheduler (the reminders module) decides what to say and
//! when; this module keeps the channels and delivers.

use carnet_schemas::{NotifyEvent, NotifyTiming};
use chrono::{DateTime, NaiveDate, Utc};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

use crate::crypto::Keys;
use crate::store::StoreError;

// TEMPORARY on main until the `notify` branch (channels, outbox, delivery) merges: no channel
// exists yet, so the scheduler has nowhere to write.
pub fn routes(_c: &Connection, _keys: &Keys) -> Result<Vec<Route>, StoreError> {
    Ok(Vec::new())
}

pub fn queue(
    _c: &Connection,
    _keys: &Keys,
    _channel_id: &str,
    _message: &Message,
    _now: DateTime<Utc>,
) -> Result<(), StoreError> {
    Ok(())
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
