//! The reminder scheduler: once a minute (of the injected clock) it looks at what is the case
//! (`collect`), decides what each channel is told (`plan`: at once, each occurrence once; or a
//! daily digest at the channel's hour in the owner's time zone) and writes the messages to the
//! owner's outbox in the same transaction as what it remembers: a crash before the commit
//! loses nothing (the next pass sees the same), a crash after it doubles nothing (the outbox
//! delivers what was written, at least once).
//!
//! A vault without channels costs nothing: the pass stops at reading that there are none.

mod collect;
mod details;
pub mod plan;

use std::sync::Arc;

use chrono::{DateTime, Utc};

pub use collect::{GRANT_DAYS, RENEWAL_DAYS, RENEWAL_LAST_DAYS, WARRANTY_DAYS};

use crate::consent::Consents;
use crate::context::Core;
use crate::grants::GrantError;
use crate::intents::OfferError;
use crate::ledger::{LedgerError, profile};
use crate::notify::{self, Item, Message};
use crate::store::{StoreError, records};
use plan::Memory;

/// Where the scheduler's memory is kept (sealed) in `meta`.
const MEMORY: &str = "reminders";

#[derive(Debug, thiserror::Error)]
pub enum ReminderError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Grant(#[from] GrantError),
    #[error(transparent)]
    Offer(#[from] OfferError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs a pass on each new minute of the clock while the vault is open.
pub async fn run(core: Core, consents: Arc<Consents>) {
    let mut last: Option<i64> = None;
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
        let minute = core.now().timestamp().div_euclid(60);
        if last == Some(minute) {
            continue;
        }
        last = Some(minute);
        match pass(&core, &consents).await {
            Ok(_) => {}
            // Right after unlock the index may still be building: tried again shortly.
            Err(ReminderError::Ledger(LedgerError::Warming)) => last = None,
            Err(e) => {
                tracing::error!(error = %e, "the reminder pass failed; it runs again in a minute")
            }
        }
    }
}

/// One pass: returns how many messages it wrote to the outbox.
pub async fn pass(core: &Core, consents: &Arc<Consents>) -> Result<usize, ReminderError> {
    let now = core.now();
    // Reading the index (which may wait for its build) and the rows is blocking work.
    let (c, k) = (core.clone(), consents.clone());
    let planned = tokio::task::spawn_blocking(move || prepare(&c, &k, now))
        .await
        .map_err(|e| StoreError::Task(e.to_string()))??;
    let Some((messages, memory)) = planned else {
        return Ok(0);
    };
    let written = messages.len();
    let keys = core.keys.clone();
    core.store
        .write(move |c| write(c, &keys, &messages, &memory, now))
        .await?;
    if written > 0 {
        core.notify_wake.notify_one();
    }
    Ok(written)
}

/// What a pass writes: the messages and the memory; `None` when nothing changes.
type Prepared = Option<(Vec<(String, Message)>, Memory)>;

fn prepare(
    core: &Core,
    consents: &Consents,
    now: DateTime<Utc>,
) -> Result<Prepared, ReminderError> {
    let keys = &core.keys;
    let routes = core.store.read(|c| notify::routes(c, keys))?;
    if routes.is_empty() {
        return Ok(None);
    }
    let tz = profile::time_zone(&core.store, keys)?;
    let local = now.with_timezone(&tz).naive_local();
    let (occurrences, sources) = collect::current(core, consents, tz, now)?;
    let memory = remembered(core)?;
    let (planned, next) = plan::plan(&routes, &memory, &occurrences, local);
    if planned.is_empty() && next == memory {
        return Ok(None);
    }
    let messages = planned
        .iter()
        .map(|p| {
            let items = p
                .items
                .iter()
                .map(|i| Item {
                    event: i.event,
                    count: u32::try_from(i.of.len()).unwrap_or(u32::MAX),
                    date: i.date,
                    details: if p.details {
                        details::lines(core, &occurrences, &sources, &i.of)
                    } else {
                        Vec::new()
                    },
                })
                .collect();
            let message = Message {
                digest: p.digest,
                items,
            };
            (p.channel_id.clone(), message)
        })
        .collect();
    Ok(Some((messages, next)))
}

fn write(
    c: &rusqlite::Connection,
    keys: &crate::crypto::Keys,
    messages: &[(String, Message)],
    memory: &Memory,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for (channel, message) in messages {
        notify::queue(c, keys, channel, message, now)?;
    }
    records::meta_put_sealed(c, keys, MEMORY, memory)
}

/// What the last pass remembered (nothing before the first, or if it cannot be read: then
/// every occurrence is told again once, rather than none ever).
fn remembered(core: &Core) -> Result<Memory, StoreError> {
    let found = core
        .store
        .read(|c| records::meta_get_sealed::<Memory>(c, &core.keys, MEMORY))?;
    Ok(found.flatten().unwrap_or_default())
}
