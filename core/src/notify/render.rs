//! What a channel is sent, rendered from a `Message`: by default each item's kind, count and
//! day only; the `details` lines only when the channel opted in — dropped here otherwise,
//! whatever the scheduler filled (defence in depth). Webhooks get a Standard Webhooks
//! envelope; ntfy and email a title and lines of text.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Item, Message};
use crate::crypto::{Sealable, Table};

/// What the owner's outbox keeps sealed about one message to one channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Queued {
    pub message: Message,
    /// A test message (`notify test`), not a reminder.
    #[serde(default)]
    pub test: bool,
}

impl Sealable for Queued {
    const TABLE: Table = Table::NotifyOutbox;
}

/// A message rendered for one channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// `reminder`, `reminder.digest` or `reminder.test` (the webhook's `type`).
    pub kind: &'static str,
    /// One ASCII line (ntfy's `Title` header, the email's subject).
    pub title: String,
    /// The text, a line per item (and its details, when allowed).
    pub lines: Vec<String>,
    /// The webhook body.
    pub json: String,
}

/// One line of a detail (the owner's text or a vendor's name, going to a screen): a line
/// break or a tab becomes a space, any other control character is dropped.
fn clean(s: &str) -> String {
    s.chars()
        .filter_map(|c| match c {
            '\n' | '\r' | '\t' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect()
}

pub fn render(q: &Queued, details: bool, now: DateTime<Utc>) -> Rendered {
    let items: Vec<Item> = q
        .message
        .items
        .iter()
        .map(|i| Item {
            details: if details {
                i.details.iter().map(|d| clean(d)).collect()
            } else {
                Vec::new()
            },
            ..i.clone()
        })
        .collect();
    let kind = if q.test {
        "reminder.test"
    } else if q.message.digest {
        "reminder.digest"
    } else {
        "reminder"
    };
    let title = match (q.test, q.message.digest, items.as_slice()) {
        (true, _, _) => "Carnet: test reminder".to_owned(),
        (false, true, _) => format!("Carnet: the day's reminders ({})", items.len()),
        (false, false, [one]) => format!("Carnet: {}", one.event.headline(one.count)),
        (false, false, many) => format!("Carnet: {} reminders", many.len()),
    };
    let mut lines = Vec::new();
    if q.test {
        lines.push("A test from Carnet: reminders on this channel will arrive like this.".into());
    }
    for i in &items {
        lines.push(format!("{} · {}", i.event.headline(i.count), i.date));
        lines.extend(i.details.iter().map(|d| format!("  - {d}")));
    }
    let json = json!({
        "type": kind,
        "timestamp": now.to_rfc3339(),
        "data": {"items": items},
    })
    .to_string();
    Rendered {
        kind,
        title,
        lines,
        json,
    }
}

#[cfg(test)]
mod tests {
    use carnet_schemas::NotifyEvent;
    use chrono::NaiveDate;

    use super::*;

    fn message(digest: bool) -> Queued {
        let date = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        Queued {
            message: Message {
                digest,
                items: vec![
                    Item {
                        event: NotifyEvent::PromiseLate,
                        count: 3,
                        date,
                        details: vec!["Acme: refund the delivery fee\u{7}".into()],
                    },
                    Item {
                        event: NotifyEvent::FollowupDue,
                        count: 1,
                        date,
                        details: vec![],
                    },
                ],
            },
            test: false,
        }
    }

    #[test]
    fn without_details_a_reminder_says_kind_count_and_date_only() {
        let r = render(&message(false), false, Utc::now());
        assert_eq!(r.kind, "reminder");
        assert_eq!(r.title, "Carnet: 2 reminders");
        assert_eq!(
            r.lines,
            vec![
                "3 promises late · 2026-12-07",
                "1 follow-up due · 2026-12-07"
            ]
        );
        assert!(!r.json.contains("Acme"), "{}", r.json);
        let body: serde_json::Value = serde_json::from_str(&r.json).unwrap();
        assert_eq!(
            body["data"]["items"][0],
            json!({"event": "promise_late", "count": 3, "date": "2026-12-07"})
        );
    }

    #[test]
    fn with_details_the_lines_follow_their_item_without_control_characters() {
        let r = render(&message(true), true, Utc::now());
        assert_eq!(r.kind, "reminder.digest");
        assert_eq!(r.lines[1], "  - Acme: refund the delivery fee");
        let body: serde_json::Value = serde_json::from_str(&r.json).unwrap();
        assert_eq!(
            body["data"]["items"][0]["details"],
            json!(["Acme: refund the delivery fee"])
        );
        assert!(r.title.is_ascii());
    }
}
