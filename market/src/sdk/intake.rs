//! The vendor's judgement of a verified announcement against what it remembers: the rules that
//! need memory. Pure (the state is passed in, the clock too), so each rule is tested alone.
//!
//! - the first key seen for an `intent_ref` is the only one ever accepted for it;
//! - one `(intent_ref, revision)` is accepted once, and an older revision never;
//! - after a terminal event (withdrawn, fulfilled, expired) nothing is accepted for the intent,
//!   whatever its revision, so a replayed announcement cannot revive it;
//! - an intent first seen after its window ended is not shown (it is not live).

use chrono::{DateTime, Utc};

use super::state::IntentRecord;
use crate::wire::announcement::Verified;

/// Why an announcement was dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Drop {
    #[error("duplicate of revision {0}")]
    Duplicate(u64),
    #[error("revision {got} is older than revision {have} already seen")]
    Stale { have: u64, got: u64 },
    #[error("the intent ended ({0}) before: nothing more is accepted for it")]
    AfterTerminal(&'static str),
    #[error("signed by another key than the intent's first announcement")]
    KeyChanged,
    #[error("its window ended at {0}")]
    NotLive(DateTime<Utc>),
    #[error("the intent ended ({0}) before this vendor saw it")]
    EndedUnseen(&'static str),
}

/// What to do with an announcement.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    /// New: save the record and hand the announcement to the vendor.
    Accept(IntentRecord),
    /// Not for the vendor, but save the record (an intent that ended unseen, so that a replay of
    /// its earlier announcements is refused later).
    Remember(IntentRecord, Drop),
    /// Drop it; the state does not change.
    Refuse(Drop),
}

/// Judges `verified` given the intent's record `known`, at `now`.
pub fn judge(known: Option<&IntentRecord>, verified: &Verified, now: DateTime<Utc>) -> Judgement {
    let a = &verified.announcement;
    let record = |first_seen| IntentRecord {
        intent_ref: a.intent_ref.clone(),
        intent_key: verified.intent_key.to_string(),
        revision: a.revision,
        event: a.event,
        terminal: a.event.is_terminal(),
        category: a.category.clone(),
        region: a.region.clone(),
        window: a.window,
        public: a.public.clone(),
        level: a.level,
        // A terminal event of a sealed intent has no reply: the one heard before stays.
        bucket: verified
            .reply
            .as_ref()
            .map(|(b, _)| b.clone())
            .or_else(|| known.and_then(|k| k.bucket.clone())),
        recipient: verified
            .reply
            .as_ref()
            .map(|(_, r)| r.to_string())
            .or_else(|| known.and_then(|k| k.recipient.clone())),
        first_seen,
        updated_at: now,
    };
    match known {
        Some(k) => {
            if k.intent_key != verified.intent_key.to_string() {
                Judgement::Refuse(Drop::KeyChanged)
            } else if a.revision == k.revision {
                Judgement::Refuse(Drop::Duplicate(a.revision))
            } else if a.revision < k.revision {
                Judgement::Refuse(Drop::Stale {
                    have: k.revision,
                    got: a.revision,
                })
            } else if k.terminal {
                Judgement::Refuse(Drop::AfterTerminal(k.event.as_str()))
            } else {
                Judgement::Accept(record(k.first_seen))
            }
        }
        None if a.event.is_terminal() => {
            Judgement::Remember(record(now), Drop::EndedUnseen(a.event.as_str()))
        }
        None if a.window.valid_through <= now => {
            Judgement::Refuse(Drop::NotLive(a.window.valid_through))
        }
        None => Judgement::Accept(record(now)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Event;
    use crate::wire::announcement::{Body, IntentKeys, PublicFields, Window, verify_announcement};

    fn heard(keys: &IntentKeys, revision: u64, event: Event, days: i64) -> Verified {
        let now = Utc::now();
        let p = keys
            .announce(
                revision,
                event,
                "home.appliances".parse().unwrap(),
                "FR".parse().unwrap(),
                Window {
                    valid_from: now - chrono::Duration::days(30),
                    valid_through: now + chrono::Duration::days(days),
                },
                Body::Public(PublicFields::default()),
                now,
            )
            .unwrap();
        verify_announcement(&p.subject, |_| None, &p.body).unwrap()
    }

    fn accepted(j: Judgement) -> IntentRecord {
        match j {
            Judgement::Accept(r) => r,
            other => panic!("not accepted: {other:?}"),
        }
    }

    #[test]
    fn a_revision_is_accepted_once_and_never_an_older_one() {
        let keys = IntentKeys::generate();
        let now = Utc::now();
        let r1 = accepted(judge(None, &heard(&keys, 1, Event::Activated, 7), now));
        let again = judge(Some(&r1), &heard(&keys, 1, Event::Activated, 7), now);
        assert_eq!(again, Judgement::Refuse(Drop::Duplicate(1)));
        let r3 = accepted(judge(Some(&r1), &heard(&keys, 3, Event::Updated, 7), now));
        assert_eq!(
            judge(Some(&r3), &heard(&keys, 2, Event::Updated, 7), now),
            Judgement::Refuse(Drop::Stale { have: 3, got: 2 })
        );
    }

    #[test]
    fn nothing_revives_an_intent_after_a_terminal_event() {
        let keys = IntentKeys::generate();
        let now = Utc::now();
        let r1 = accepted(judge(None, &heard(&keys, 1, Event::Activated, 7), now));
        let gone = accepted(judge(Some(&r1), &heard(&keys, 2, Event::Withdrawn, 7), now));
        assert!(gone.terminal);
        // Even a higher revision signed by the intent's own key.
        assert_eq!(
            judge(Some(&gone), &heard(&keys, 3, Event::Activated, 7), now),
            Judgement::Refuse(Drop::AfterTerminal("intent.withdrawn"))
        );
        // An intent that ended before the vendor saw it is remembered, not shown.
        let other = IntentKeys::generate();
        let j = judge(None, &heard(&other, 2, Event::Fulfilled, 7), now);
        assert!(matches!(j, Judgement::Remember(ref r, _) if r.terminal));
    }

    #[test]
    fn another_key_cannot_speak_for_a_known_intent() {
        let keys = IntentKeys::generate();
        let now = Utc::now();
        let r1 = accepted(judge(None, &heard(&keys, 1, Event::Activated, 7), now));
        let mut forger = IntentKeys::generate();
        forger.intent_ref = keys.intent_ref.clone();
        assert_eq!(
            judge(Some(&r1), &heard(&forger, 2, Event::Withdrawn, 7), now),
            Judgement::Refuse(Drop::KeyChanged)
        );
    }

    #[test]
    fn an_intent_first_seen_after_its_window_is_not_live() {
        let keys = IntentKeys::generate();
        let j = judge(None, &heard(&keys, 1, Event::Activated, -1), Utc::now());
        assert!(matches!(j, Judgement::Refuse(Drop::NotLive(_))));
    }
}
