//! Reminders that reach the owner: the events Carnet tells the owner about, and how a channel
//! takes them (at once, or in a daily digest at an hour of the owner's time zone).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
