//! The relay's publisher: drains the vault's relay outbox (`carnet_core::relay::outbox`) while
//! the vault is unsealed. It wakes when a change wrote an announcement (and at least once a
//! second), records each attempt before it publishes, and records the message delivered only on
//! JetStream's PubAck. A message's first attempt uses `publish_new` (a PubAck saying "duplicate"
//! then means someone else published under its id first: it is never sent again, and the
//! operator is told); every later attempt may find its earlier self stored, so it uses `publish`.

use std::time::Duration;

use async_nats::jetstream;
use carnet_core::Core;
use carnet_core::relay::outbox::{self, Pending, Published};
use carnet_market::relay::{self, RelayError};
use carnet_market::wire::announcement::Publication;
use carnet_market::wire::{EVENT_HEADER, MSG_ID_HEADER};

/// How many messages one pass takes.
const BATCH: u32 = 64;
/// How long a PubAck may take before the attempt counts as failed.
const ACK_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest sleep between two passes (a retry falls due without a wake).
const IDLE: Duration = Duration::from_secs(1);

/// Runs until aborted (the vault sealed).
pub async fn run(core: Core, js: jetstream::Context) {
    loop {
        match outbox::due(&core, BATCH).await {
            Ok(batch) => {
                let full = batch.len() == BATCH as usize;
                for p in batch {
                    publish_one(&core, &js, p).await;
                }
                if full {
                    continue;
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read the relay's outbox"),
        }
        tokio::select! {
            () = core.relay_wake.notified() => {}
            () = tokio::time::sleep(IDLE) => {}
        }
    }
}

async fn publish_one(core: &Core, js: &jetstream::Context, p: Pending) {
    if let Err(e) = outbox::attempting(core, &p).await {
        tracing::error!(error = %e, "cannot record a relay attempt: not published now");
        return;
    }
    let message = publication(&p);
    let sent = if p.attempts == 0 {
        relay::publish_new(js, &message, ACK_TIMEOUT).await
    } else {
        relay::publish(js, &message, ACK_TIMEOUT).await
    };
    let outcome = match sent {
        Ok(_) => Published::Acked,
        Err(RelayError::Suppressed(id)) => {
            tracing::warn!(
                message_id = %id,
                "the relay already held another message under this announcement's id: not published (see the wire spec on Nats-Msg-Id)"
            );
            Published::Suppressed
        }
        Err(e) => {
            tracing::warn!(error = %e, attempt = p.attempts + 1, "relay publish failed; retrying");
            Published::Retry("relay")
        }
    };
    if let Err(e) = outbox::settle(core, &p, outcome).await {
        tracing::error!(error = %e, "cannot record a relay delivery (it is sent again)");
    }
}

/// The stored message as `relay::publish` takes it (only the wire's own headers).
fn publication(p: &Pending) -> Publication {
    let headers = p
        .message
        .headers
        .iter()
        .filter_map(|(name, value)| {
            [MSG_ID_HEADER, EVENT_HEADER]
                .into_iter()
                .find(|known| known == name)
                .map(|known| (known, value.clone()))
        })
        .collect();
    Publication {
        subject: p.message.subject.clone(),
        headers,
        body: p.message.body.clone().into_bytes(),
    }
}
