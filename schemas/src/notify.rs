//! Reminders that reach the owner: the events Carnet tells the owner about, and how a channel
//! takes them (at once, or in a daily digest at an hour of the owner's time zone).

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ids::NotifyChannelId;
use crate::oauth::DeliveryState;

/// What a reminder is about.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    JsonSchema,
    ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NotifyEvent {
    /// A follow-up's next step is due today.
    FollowupDue,
    /// A follow-up's next step is past its due day.
    FollowupLate,
    /// A vendor's promise is due today.
    PromiseDue,
    /// A vendor's promise is past its due day and still open.
    PromiseLate,
    /// A purchase's warranty ends within 30 days.
    WarrantyEnding,
    /// A subscription's last day to give notice before it renews is near.
    RenewalNotice,
    /// A vendor answered an intent with an offer.
    OfferNew,
    /// A vendor asks for access and waits for the owner's answer.
    ConsentWaiting,
    /// A grant ends within 7 days.
    GrantExpiring,
    /// The access log's check failed: an entry was changed or removed.
    AccessLogFailed,
}

impl NotifyEvent {
    pub const ALL: [NotifyEvent; 10] = [
        NotifyEvent::FollowupDue,
        NotifyEvent::FollowupLate,
        NotifyEvent::PromiseDue,
        NotifyEvent::PromiseLate,
        NotifyEvent::WarrantyEnding,
        NotifyEvent::RenewalNotice,
        NotifyEvent::OfferNew,
        NotifyEvent::ConsentWaiting,
        NotifyEvent::GrantExpiring,
        NotifyEvent::AccessLogFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotifyEvent::FollowupDue => "followup_due",
            NotifyEvent::FollowupLate => "followup_late",
            NotifyEvent::PromiseDue => "promise_due",
            NotifyEvent::PromiseLate => "promise_late",
            NotifyEvent::WarrantyEnding => "warranty_ending",
            NotifyEvent::RenewalNotice => "renewal_notice",
            NotifyEvent::OfferNew => "offer_new",
            NotifyEvent::ConsentWaiting => "consent_waiting",
            NotifyEvent::GrantExpiring => "grant_expiring",
            NotifyEvent::AccessLogFailed => "access_log_failed",
        }
    }

    /// The reminder's headline for `count` of them, without a vendor name or any text: what a
    /// channel without `details` is told.
    pub fn headline(self, count: u32) -> String {
        let (one, many) = match self {
            NotifyEvent::FollowupDue => ("follow-up due", "follow-ups due"),
            NotifyEvent::FollowupLate => ("follow-up late", "follow-ups late"),
            NotifyEvent::PromiseDue => ("promise due", "promises due"),
            NotifyEvent::PromiseLate => ("promise late", "promises late"),
            NotifyEvent::WarrantyEnding => ("warranty ending", "warranties ending"),
            NotifyEvent::RenewalNotice => ("renewal notice deadline", "renewal notice deadlines"),
            NotifyEvent::OfferNew => ("new offer", "new offers"),
            NotifyEvent::ConsentWaiting => ("consent request waiting", "consent requests waiting"),
            NotifyEvent::GrantExpiring => ("grant about to expire", "grants about to expire"),
            NotifyEvent::AccessLogFailed => ("access-log check failed", "access-log checks failed"),
        };
        format!("{count} {}", if count == 1 { one } else { many })
    }
}

impl std::fmt::Display for NotifyEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for NotifyEvent {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        NotifyEvent::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<_> = NotifyEvent::ALL.iter().map(|e| e.as_str()).collect();
                format!("unknown event {s:?}: one of {}", all.join(", "))
            })
    }
}

/// When a channel is told.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NotifyTiming {
    /// As soon as the scheduler sees the event (within a minute).
    #[default]
    AtOnce,
    /// Once a day, at `digest_hour` in the owner's time zone: how many of each kind are the case.
    Digest,
}

impl NotifyTiming {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyTiming::AtOnce => "at_once",
            NotifyTiming::Digest => "digest",
        }
    }
}

/// How a channel reaches the owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NotifyKind {
    /// A signed POST (Standard Webhooks) to the owner's own URL (home automation…).
    Webhook,
    /// A message published to an ntfy topic (ntfy's HTTP publish API).
    Ntfy,
    /// An email through the owner's SMTP server.
    Email,
}

impl NotifyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyKind::Webhook => "webhook",
            NotifyKind::Ntfy => "ntfy",
            NotifyKind::Email => "email",
        }
    }
}

/// Body of `POST /v1/notify/channels`. Secrets (the ntfy token, the SMTP password) go in
/// here once and are sealed in the vault; no answer carries them back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNotifyChannel {
    pub kind: NotifyKind,
    /// webhook: the URL to POST to (http or https; the owner's LAN allowed). ntfy: the topic's
    /// URL (`https://ntfy.example/topic`).
    #[serde(default)]
    pub url: Option<String>,
    /// email: the address reminders go to (and come from).
    #[serde(default)]
    pub address: Option<String>,
    /// email: `smtps://HOST:PORT` (TLS from the start) or `smtp://HOST:PORT` (STARTTLS
    /// required, except to a loopback host).
    #[serde(default)]
    pub smtp_url: Option<String>,
    /// email: the SMTP user name (with `smtp_password`).
    #[serde(default)]
    pub smtp_user: Option<String>,
    /// email: the SMTP password (sealed; never answered).
    #[serde(default)]
    pub smtp_password: Option<String>,
    /// ntfy: the access token sent as `Authorization: Bearer` (sealed; never answered).
    #[serde(default)]
    pub token: Option<String>,
    /// The events the channel takes (default: all of them; never empty).
    #[serde(default)]
    pub events: Option<Vec<NotifyEvent>>,
    /// A daily digest at this hour (0–23) of the owner's time zone; absent: each reminder at
    /// once.
    #[serde(default)]
    #[schema(maximum = 23)]
    pub digest_hour: Option<u8>,
    /// Whether reminders may name vendors and carry text (default: kind, count and date only).
    #[serde(default)]
    pub details: bool,
}

impl NewNotifyChannel {
    /// A channel of `kind` with nothing set yet: all events, at once, no details.
    pub fn of(kind: NotifyKind) -> Self {
        NewNotifyChannel {
            kind,
            url: None,
            address: None,
            smtp_url: None,
            smtp_user: None,
            smtp_password: None,
            token: None,
            events: None,
            digest_hour: None,
            details: false,
        }
    }
}

/// Where a channel's latest delivery stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct NotifyDelivery {
    /// When it was last tried.
    pub at: DateTime<Utc>,
    /// Whether it arrived.
    pub ok: bool,
    /// `delivered`, `pending` (tried again later), `failed` (given up; a test is never
    /// retried) or `dropped` (the channel could not take it).
    pub state: DeliveryState,
    pub attempts: u32,
    /// The receiver's HTTP status or SMTP reply code, when there was one.
    pub status: Option<u16>,
    /// A short reason when it failed (`connect`, `timeout`, `status`, `smtp`, `tls`, …).
    pub error: Option<String>,
}

/// A reminder channel as the owner sees it: where it goes, what it takes, how its last
/// delivery went. Never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct NotifyChannel {
    pub id: NotifyChannelId,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub kind: NotifyKind,
    /// webhook and ntfy: the URL.
    pub url: Option<String>,
    /// email: the address.
    pub address: Option<String>,
    pub smtp_url: Option<String>,
    pub smtp_user: Option<String>,
    /// Whether a secret is kept for it (the webhook's signing secret, the ntfy token, the SMTP
    /// password); the secret itself is never answered.
    pub has_secret: bool,
    pub events: Vec<NotifyEvent>,
    pub timing: NotifyTiming,
    /// The digest's hour (0–23) in the owner's time zone; null when at once.
    pub digest_hour: Option<u8>,
    pub details: bool,
    /// Reminders waiting to be delivered.
    pub pending: u32,
    /// The latest delivery tried; null before the first.
    pub last_delivery: Option<NotifyDelivery>,
}

/// The answer to `POST /v1/notify/channels`: the channel, its webhook secret (shown this once)
/// and what the owner should know about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct NotifyChannelCreated {
    #[serde(flatten)]
    pub channel: NotifyChannel,
    /// webhook: the `whsec_…` secret its deliveries are signed with. Shown once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Risks worth a second thought (a public ntfy server: anyone who guesses the topic reads
    /// it).
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// The answer to `POST /v1/notify/channels/{id}/test`: what a delivery tried now did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
pub struct NotifyTest {
    pub channel_id: NotifyChannelId,
    pub delivered: bool,
    /// The receiver's HTTP status or SMTP reply code, when there was one.
    pub status: Option<u16>,
    /// A short reason when it failed.
    pub error: Option<String>,
}

/// Body of `PATCH /v1/notify/channels/{id}`: what changes in how the channel is told (its
/// address and secrets stay; remove and add it again to change them). Absent fields keep.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotifyChannelPatch {
    /// The events it takes (never empty).
    #[serde(default)]
    pub events: Option<Vec<NotifyEvent>>,
    /// `at_once`, or `digest` (with `digest_hour`, unless it is a digest already).
    #[serde(default)]
    pub timing: Option<NotifyTiming>,
    /// The digest's hour (0–23): makes it a digest at that hour.
    #[serde(default)]
    #[schema(maximum = 23)]
    pub digest_hour: Option<u8>,
    #[serde(default)]
    pub details: Option<bool>,
}
