//! The relay's publisher: drains the vault's relay outbox (`carnet_core::relay::outbox`) while
//! the vault is unsealed. It wakes when a change wrote an announcement (and at least once a
//! second), records each batch's attempts before it publishes (one transaction), sends the
//! batch's messages with their PubAcks in flight together, and records each message delivered
//! only on its PubAck. A message's first attempt uses `publish_new` (a PubAck saying "duplicate"
//! then means someone else published under its id first: it is never sent again, and the
//! operator is told); every later attempt may find its earlier self stored, so it uses `publish`.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::publish::PublishAck;
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
                if !batch.is_empty() {
                    publish_batch(&core, &js, batch).await;
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

/// Publishes a batch: its attempts recorded first (one transaction), every message sent, then
/// every PubAck awaited, and the outcomes recorded (one transaction).
async fn publish_batch(core: &Core, js: &jetstream::Context, batch: Vec<Pending>) {
    if let Err(e) = outbox::attempting(core, &batch).await {
        tracing::error!(error = %e, "cannot record relay attempts: not published now");
        return;
    }
    let messages: Vec<Publication> = batch.iter().map(publication).collect();
    let mut sent = Vec::with_capacity(batch.len());
    for message in &messages {
        sent.push(relay::send(js, message).await);
    }
    // Awaited together: a relay that stopped answering costs one ACK_TIMEOUT, not one each.
    let confirmed = futures_util::future::join_all(batch.iter().zip(&messages).zip(sent).map(
        |((p, message), sent)| async move {
            match sent {
                Ok(ack) => relay::confirm(ack, message, p.attempts == 0, ACK_TIMEOUT).await,
                Err(e) => Err(e),
            }
        },
    ))
    .await;
    let outcomes: Vec<_> = batch
        .iter()
        .zip(confirmed)
        .map(|(p, c)| (p, outcome(p, c)))
        .collect();
    if let Err(e) = outbox::settle(core, &outcomes).await {
        tracing::error!(error = %e, "cannot record relay deliveries (they are sent again)");
    }
}

/// What an attempt came to, said in the log when it failed.
fn outcome(p: &Pending, confirmed: Result<PublishAck, RelayError>) -> Published {
    match confirmed {
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
