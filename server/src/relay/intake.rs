//! The relay's offer intake: while the vault is unsealed, one durable JetStream pull consumer
//! per announced intent that has not ended, filtered on its own `offer.v1.<bucket>` (nats-server
//! 2.9 takes one filter subject per consumer; carnetd never reads `offer.v1.>`, which is every
//! vault's offers). Consumers are created as intents get their relay row (the rows are read
//! again every `RESCAN`) and deleted once the intent's terminal announcement is written, so an
//! offer made after that is never taken.
//!
//! Each message goes to `carnet_core::relay::offers::take` with the directory vendor lookup;
//! it is acknowledged only once its outcome is committed (stored, duplicate, or refused for
//! good), so a restart loses nothing and an offer made while carnetd was down is taken when it
//! is back. A store failure leaves the message to come back.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer};
use carnet_core::Core;
use carnet_core::relay::offers::{self, Outcome};
use carnet_market::relay::OFFERS_STREAM;
use carnet_market::sdk;
use carnet_market::wire::OFFER_PREFIX;
use futures_util::StreamExt;
use tokio::task::{AbortHandle, JoinSet};

use super::Relay;

/// How often the intents' relay rows are read again for new and ended intents.
pub const RESCAN: Duration = Duration::from_secs(2);
/// How long the relay waits for an acknowledgement before it delivers a message again.
const ACK_WAIT: Duration = Duration::from_secs(30);
/// How long before a consumer that failed (the relay restarting) is made again.
const RETRY: Duration = Duration::from_secs(1);
/// When a message could not be taken (a store failure), how long before it comes back.
const NAK_DELAY: Duration = Duration::from_secs(5);

/// Offer messages taken, by outcome (`carnet_relay_offers_total`).
#[derive(Debug, Default)]
pub struct OfferCounts {
    stored: AtomicU64,
    duplicate: AtomicU64,
    refused: AtomicU64,
}

impl OfferCounts {
    fn count(&self, outcome: &Outcome) {
        match outcome {
            Outcome::Stored(_) => &self.stored,
            Outcome::Duplicate => &self.duplicate,
            Outcome::Refused(_) => &self.refused,
        }
        .fetch_add(1, Relaxed);
    }

    /// Each outcome's label and count.
    pub fn read(&self) -> [(&'static str, u64); 3] {
        [
            ("stored", self.stored.load(Relaxed)),
            ("duplicate", self.duplicate.load(Relaxed)),
            ("refused", self.refused.load(Relaxed)),
        ]
    }
}

/// The durable consumer carnetd reads an intent's offers with.
pub fn durable_name(bucket: &str) -> String {
    format!("carnetd-offers_{bucket}")
}

/// Runs until aborted (the vault sealed); its consumers' tasks end with it.
pub async fn run(core: Core, relay: Relay, counts: Arc<OfferCounts>) {
    let mut tasks = JoinSet::new();
    let mut running: HashMap<String, AbortHandle> = HashMap::new();
    let mut deleted: HashSet<String> = HashSet::new();
    loop {
        while tasks.try_join_next().is_some() {}
        match core.store.read(carnet_core::store::relay::intents) {
            Ok(rows) => {
                for row in rows {
                    if row.ended {
                        if let Some(task) = running.remove(&row.bucket) {
                            task.abort();
                        }
                        if deleted.insert(row.bucket.clone()) {
                            delete(&relay.jetstream, &row.bucket).await;
                        }
                    } else if running
                        .get(&row.bucket)
                        .is_none_or(AbortHandle::is_finished)
                    {
                        let task = tasks.spawn(consume(
                            core.clone(),
                            relay.clone(),
                            row.bucket.clone(),
                            counts.clone(),
                        ));
                        running.insert(row.bucket, task);
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot read the announced intents"),
        }
        tokio::time::sleep(RESCAN).await;
    }
}

/// Deletes an ended intent's consumer (there may be none).
async fn delete(js: &jetstream::Context, bucket: &str) {
    let Ok(stream) = js.get_stream(OFFERS_STREAM).await else {
        return;
    };
    if let Err(e) = stream.delete_consumer(&durable_name(bucket)).await {
        tracing::debug!(error = %e, "no offer consumer to delete for an ended intent");
    }
}

/// Reads one intent's offers, for as long as it runs, making its consumer again after a
/// failure.
async fn consume(core: Core, relay: Relay, bucket: String, counts: Arc<OfferCounts>) {
    let subject = format!("{OFFER_PREFIX}.{bucket}");
    let name = durable_name(&bucket);
    loop {
        let messages = match relay.jetstream.get_stream(OFFERS_STREAM).await {
            Ok(stream) => {
                sdk::consume(
                    &stream,
                    &name,
                    &subject,
                    consumer::DeliverPolicy::All,
                    ACK_WAIT,
                )
                .await
            }
            Err(e) => Err(sdk::SdkError::Consumer(e.to_string())),
        };
        match messages {
            Ok(mut messages) => {
                while let Some(message) = messages.next().await {
                    match message {
                        Ok(m) => take(&core, &relay, &counts, m).await,
                        Err(e) => {
                            tracing::warn!(error = %e, "offer consumer interrupted; reading again");
                            break;
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read an intent's offers; trying again"),
        }
        tokio::time::sleep(RETRY).await;
    }
}

/// Takes one message, then acknowledges it, or leaves it to come back after a store failure.
async fn take(core: &Core, relay: &Relay, counts: &OfferCounts, m: jetstream::Message) {
    let header = |name: &str| {
        m.headers
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_owned())
    };
    let directory = relay.directory.clone();
    let lookup = move |id: &carnet_market::wire::VendorId| {
        directory
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .vendor(id)
            .cloned()
    };
    match offers::take(core, &m.subject, header, &m.payload, lookup).await {
        Ok(outcome) => {
            counts.count(&outcome);
            match &outcome {
                Outcome::Stored(id) => tracing::info!(offer = %id, "market offer received"),
                Outcome::Duplicate => tracing::info!("market offer already received: dropped"),
                Outcome::Refused(why) => tracing::warn!(reason = %why, "market offer refused"),
            }
            if let Err(e) = m.ack().await {
                // It comes back, and is then a duplicate.
                tracing::warn!(error = %e, "cannot acknowledge a market offer");
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot store a market offer; it comes back");
            let _ = m.ack_with(AckKind::Nak(Some(NAK_DELAY))).await;
        }
    }
}
