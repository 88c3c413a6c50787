//! The relay's outbox as carnetd's publisher drains it: what is due (opened), an attempt
//! recorded *before* the message goes (so after a crash the next attempt knows the relay may
//! already hold it, and JetStream's de-duplication rather than a first-publish check decides),
//! and the outcome after: delivered only on JetStream's PubAck, else retried with the same
//! message id, at most every `MAX_BACKOFF_SECONDS`, until the relay would no longer keep it.

use std::borrow::Cow;
use std::sync::Arc;

use carnet_schemas::{RelayLevel, Scope};
use chrono::{DateTime, Utc};

use super::LONGEST_WINDOW_DAYS;
use super::announce::{Audience, Queued};
use crate::access::log::{AccessEvent, Withheld};
use crate::context::Core;
use crate::store::StoreError;
use crate::store::outbox::{self as rows, Attempt, Outbox, OutboxRow, OutboxState};

/// The longest wait between two attempts while the relay does not answer.
pub const MAX_BACKOFF_SECONDS: i64 = 30;

/// A message due for the relay.
#[derive(Debug, Clone)]
pub struct Pending {
    pub id: String,
    /// Attempts made before this one: with none, no relay has seen its id yet.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    pub message: Queued,
}

/// What became of an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Published {
    /// JetStream acknowledged it (stored, or already stored under its id).
    Acked,
    /// The relay did not answer or refused: tried again later.
    Retry(&'static str),
    /// Its first publication found the id taken by someone else: never sent again.
    Suppressed,
}

/// The messages due at `now`, oldest first, opened. A row that does not open is dropped.
pub async fn due(core: &Core, limit: u32) -> Result<Vec<Pending>, StoreError> {
    let now = core.now();
    let rows: Vec<OutboxRow<Queued>> = core
        .store
        .read(|c| rows::due(c, Outbox::Relay, now, limit))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        match core.keys.seal().open(&row.id, &row.sealed) {
            Ok(message) => out.push(Pending {
                id: row.id,
                attempts: row.attempts,
                created_at: row.created_at,
                message,
            }),
            Err(e) => {
                tracing::error!(error = %e, message = %row.id, "a relay message does not open: dropped");
                let attempt = Attempt {
                    state: OutboxState::Dropped,
                    attempts: row.attempts,
                    next_attempt_at: now,
                    status: None,
                    error: Some("unreadable"),
                    at: now,
                };
                record(core, vec![(row.id, attempt)]).await?;
            }
        }
    }
    Ok(out)
}

/// When the next pending message is due, if any.
pub fn next_due(core: &Core) -> Result<Option<DateTime<Utc>>, StoreError> {
    core.store.read(|c| rows::next_due(c, Outbox::Relay))
}

/// Records that `batch` is about to be published (each counted as an attempt, due again after
/// the back-off should no outcome be recorded), in one transaction.
pub async fn attempting(core: &Core, batch: &[Pending]) -> Result<(), StoreError> {
    let now = core.now();
    let attempts: Vec<_> = batch
        .iter()
        .map(|p| {
            let attempt = Attempt {
                state: OutboxState::Pending,
                attempts: p.attempts + 1,
                next_attempt_at: now + backoff(p.attempts),
                status: None,
                error: Some("in flight"),
                at: now,
            };
            (p.id.clone(), attempt)
        })
        .collect();
    record(core, attempts).await
}

/// Records the outcomes of the attempts `attempting` announced, in one transaction; a sealed
/// or notify revision the relay acknowledged goes into the access log, one entry per
/// recipient.
pub async fn settle(core: &Core, outcomes: &[(&Pending, Published)]) -> Result<(), StoreError> {
    let now = core.now();
    for (p, outcome) in outcomes {
        if let (Published::Acked, Some(audience)) = (outcome, &p.message.audience) {
            log_publication(core, audience);
        }
    }
    let attempts: Vec<_> = outcomes
        .iter()
        .map(|(p, outcome)| {
            let too_old = now - p.created_at > chrono::Duration::days(LONGEST_WINDOW_DAYS);
            let (state, error, next) = match *outcome {
                Published::Acked => (OutboxState::Delivered, None, now),
                Published::Suppressed => (OutboxState::Failed, Some("suppressed"), now),
                Published::Retry(why) if too_old => (OutboxState::Failed, Some(why), now),
                Published::Retry(why) => {
                    (OutboxState::Pending, Some(why), now + backoff(p.attempts))
                }
            };
            let attempt = Attempt {
                state,
                attempts: p.attempts + 1,
                next_attempt_at: next,
                status: None,
                error,
                at: now,
            };
            (p.id.clone(), attempt)
        })
        .collect();
    record(core, attempts).await
}

/// One access-log entry per recipient of a sealed or notify publication: the intent it named,
/// under the recipient's grant, as a pull of it would be.
fn log_publication(core: &Core, audience: &Audience) {
    let endpoint = match audience.level {
        RelayLevel::Notify => "RELAY notify",
        _ => "RELAY sealed",
    };
    let ids = Arc::new(vec![audience.intent_id.clone()]);
    let withheld = (!audience.withheld.is_empty()).then(|| {
        Arc::new(Withheld::from([(
            audience.intent_id.clone(),
            audience.withheld.clone(),
        )]))
    });
    for r in &audience.recipients {
        core.log_access(AccessEvent {
            vendor_id: r.vendor_id.clone(),
            client_id: r.client_id.clone(),
            grant_id: Some(r.grant_id.clone()),
            endpoint: Cow::Borrowed(endpoint),
            scopes: [Scope::IntentsRead].into_iter().collect(),
            ids: ids.clone(),
            status: 200,
            withheld: withheld.clone(),
        });
    }
}

/// 1, 2, 4, … seconds after the `failures`-th failure, at most `MAX_BACKOFF_SECONDS`.
fn backoff(failures: u32) -> chrono::Duration {
    chrono::Duration::seconds((1i64 << failures.min(8)).min(MAX_BACKOFF_SECONDS))
}

async fn record(core: &Core, attempts: Vec<(String, Attempt)>) -> Result<(), StoreError> {
    core.store
        .write(move |c| {
            for (id, a) in &attempts {
                rows::record_attempt(c, Outbox::Relay, id, a)?;
            }
            Ok(())
        })
        .await
}
