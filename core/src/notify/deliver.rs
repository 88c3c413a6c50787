//! Delivering the owner's outbox (`notify_outbox`). The worker wakes when the scheduler
//! queued something (`Core::notify_wake`) and a few times a second anyway, takes what is due
//! on the injected clock (up to 32 messages), tries them together, each with its time limit,
//! and reads again once they are all settled. A failure is retried with the vendor webhooks'
//! back-off (within a second, then doubling with jitter to ten minutes) and given up after
//! the same three days; every state is in the database, so delivery survives restarts (at
//! least once).

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::channel::ChannelRecord;
use super::render::{Queued, render};
use super::send::{Outcome, http_client, send};
use crate::context::Core;
use crate::store::outbox::{self as rows, Outbox, OutboxRow};
use crate::store::{StoreError, records};
use crate::webhooks::deliver::{GIVE_UP_AFTER_DAYS, record, settle};

/// How many due messages one read of the outbox takes.
const BATCH: u32 = 32;

/// The worker: runs while the vault is unsealed.
pub async fn run(s: Core) {
    // Built at the first message: a vault without channels does not pay for it.
    let mut http: Option<reqwest::Client> = None;
    loop {
        tokio::select! {
            () = s.notify_wake.notified() => {}
            () = tokio::time::sleep(Duration::from_millis(250)) => {}
        }
        let now = s.now();
        let due = match s
            .store
            .read(|c| rows::due::<Queued>(c, Outbox::Owner, now, BATCH))
        {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the reminders' outbox");
                continue;
            }
        };
        if due.is_empty() {
            continue;
        }
        let client = match &http {
            Some(c) => c.clone(),
            None => match http_client() {
                Some(c) => http.insert(c).clone(),
                None => {
                    tracing::error!("cannot build the reminders' HTTP client; reminders wait");
                    continue;
                }
            },
        };
        // The pass's messages go out together (a receiver that holds its 10 s does not hold
        // up the others), and the next read waits for all of them: none is started twice.
        let mut pass = tokio::task::JoinSet::new();
        for row in due {
            let (s, client) = (s.clone(), client.clone());
            pass.spawn(async move { attempt(&s, &client, row).await });
        }
        while pass.join_next().await.is_some() {}
    }
}

/// Opens a channel's record; `None` if it is gone or does not open.
fn channel(s: &Core, id: &str) -> Option<ChannelRecord> {
    let row = s
        .store
        .read(|c| records::get::<ChannelRecord>(c, id))
        .ok()??;
    s.keys.seal().open(&row.id, &row.sealed).ok()
}

/// Renders and sends one message to its channel now.
pub(super) async fn try_now(
    http: &reqwest::Client,
    ch: &ChannelRecord,
    id: &str,
    queued: &Queued,
    now: DateTime<Utc>,
) -> Outcome {
    let rendered = render(queued, ch.details, now);
    send(http, ch, id, &rendered, now).await
}

async fn attempt(s: &Core, http: &reqwest::Client, row: OutboxRow<Queued>) {
    let now = s.now();
    let outcome = match (
        s.keys.seal().open(&row.id, &row.sealed),
        channel(s, &row.recipient),
    ) {
        (Ok(queued), Some(ch)) => try_now(http, &ch, &row.id, &queued, now).await,
        (Err(e), _) => {
            tracing::error!(error = %e, "a reminder does not open");
            Outcome::Drop("unreadable")
        }
        (_, None) => Outcome::Drop("channel"),
    };
    let given_up = now - row.created_at > chrono::Duration::days(GIVE_UP_AFTER_DAYS);
    if let Outcome::Retry(status, why) = outcome {
        tracing::warn!(
            channel = %row.recipient,
            message = %row.id,
            attempt = row.attempts + 1,
            status = status.map(i64::from),
            error = why,
            given_up,
            "reminder delivery failed"
        );
    }
    let attempt = settle(outcome, row.attempts, given_up, now);
    record(&s.store, Outbox::Owner, row.id, attempt).await;
}

/// Writes a test message for a channel, tries it now, and records its one attempt (a test is
/// not retried). Returns the outcome.
pub(super) async fn test_now(
    s: &Core,
    channel_id: &str,
    ch: &ChannelRecord,
) -> Result<Outcome, StoreError> {
    let now = s.now();
    let id = super::message_id();
    let queued = Queued {
        message: super::Message {
            digest: false,
            items: Vec::new(),
        },
        test: true,
    };
    let outcome = match http_client() {
        Some(http) => try_now(&http, ch, &id, &queued, now).await,
        None => Outcome::Retry(None, "client"),
    };
    // One attempt, not retried: settled as given up when it failed.
    let attempt = settle(outcome, 0, true, now);
    let sealed = s.keys.seal().seal(&id, &queued);
    let channel_id = channel_id.to_owned();
    s.store
        .write(move |c| {
            rows::insert(c, Outbox::Owner, &id, &channel_id, now, &sealed)?;
            rows::record_attempt(c, Outbox::Owner, &id, &attempt)
        })
        .await?;
    Ok(outcome)
}
