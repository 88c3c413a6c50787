//! The relay's offer intake: while the vault is unsealed, ONE durable JetStream pull consumer
//! for the vault host (`vault_<host>`, filtered on `offer.v1.<host>.>`: every bucket this vault
//! makes is under its host, and a relay may let the host read nothing else). Each message is
//! routed to its intent by the bucket in its subject; an offer to a bucket of no intent, or of
//! an intent that ended, is refused and acknowledged. Nothing is rescanned and no consumer is
//! made or deleted as intents come and go.
//!
//! An intent announced before its vault had this host (a bucket of the random part alone, or
//! under an earlier host) keeps its bucket, which vendors hold: at start each such intent still
//! announced gets a consumer of its own (`carnetd-offers_<bucket>`, as before hosts), read until
//! the next start after it ends, when carnetd deletes it (only its own: on a shared relay,
//! other vaults' consumers are left alone).
//!
//! Each message goes to `carnet_core::relay::offers::take` with the directory vendor lookup;
//! it is acknowledged only once its outcome is committed (stored, duplicate, or refused for
//! good), so a restart loses nothing and an offer made while carnetd was down is taken when it
//! is back. A store failure leaves the message to come back.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer};
use carnet_core::Core;
use carnet_core::relay::buckets;
use carnet_core::relay::offers::{self, Outcome};
use carnet_market::access::vault_consumer;
use carnet_market::relay::OFFERS_STREAM;
use carnet_market::sdk;
use carnet_market::wire::OFFER_PREFIX;
use futures_util::TryStreamExt;
use tokio::task::JoinSet;

use super::Relay;

/// How long the relay waits for an acknowledgement before it delivers a message again.
const ACK_WAIT: Duration = Duration::from_secs(30);
/// How long before a consumer that failed (the relay restarting) is made again.
const RETRY: Duration = Duration::from_secs(1);
/// When a message could not be taken (a store failure), how long before it comes back.
const NAK_DELAY: Duration = Duration::from_secs(5);
/// How many offers one consumer takes at once: the store commits them together (one consumer
/// reads every intent's offers, so they are not taken one by one).
const IN_FLIGHT: usize = 64;
/// The name prefix of the consumers of intents announced before the vault's host.
const ALONE_PREFIX: &str = "carnetd-offers_";

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

/// The durable consumer carnetd reads the offers of one intent announced before its host with
/// (a consumer's name holds no `.`, a bucket under a host does).
pub fn durable_name(bucket: &str) -> String {
    format!("{ALONE_PREFIX}{}", bucket.replace('.', "_"))
}

/// Runs until aborted (the vault sealed); its consumers' tasks end with it.
pub async fn run(core: Core, relay: Relay, counts: Arc<OfferCounts>) {
    let mut tasks = JoinSet::new();
    tasks.spawn(consume(
        core.clone(),
        relay.clone(),
        vault_consumer(&relay.host),
        carnet_market::access::vault_offers_filter(&relay.host),
        counts.clone(),
    ));
    match core.store.read(carnet_core::store::relay::intents) {
        Ok(rows) => {
            let alone = buckets::alone(&rows, &relay.host);
            for bucket in &alone.open {
                tasks.spawn(consume(
                    core.clone(),
                    relay.clone(),
                    durable_name(bucket),
                    format!("{OFFER_PREFIX}.{bucket}"),
                    counts.clone(),
                ));
            }
            let ended: HashSet<String> = alone.ended.iter().map(|b| durable_name(b)).collect();
            delete_ended(&relay.jetstream, &ended).await;
        }
        Err(e) => tracing::error!(
            error = %e,
            "cannot read the announced intents: those announced before the vault host are not read"
        ),
    }
    while tasks.join_next().await.is_some() {}
}

/// Deletes those of the consumers `ended` (of this vault's intents announced before its host,
/// that ended) still on the relay. A relay that does not let carnetd list them is left as it is.
async fn delete_ended(js: &jetstream::Context, ended: &HashSet<String>) {
    if ended.is_empty() {
        return;
    }
    let Ok(stream) = js.get_stream(OFFERS_STREAM).await else {
        return;
    };
    let names: Vec<String> = match stream.consumer_names().try_collect().await {
        Ok(names) => names,
        Err(e) => {
            tracing::debug!(error = %e, "cannot list the offer consumers; none deleted");
            return;
        }
    };
    for name in names {
        if ended.contains(&name)
            && let Err(e) = stream.delete_consumer(&name).await
        {
            tracing::debug!(error = %e, "cannot delete an ended intent's offer consumer");
        }
    }
}

/// Reads the offers of consumer `name` (filtered on `subject`), for as long as it runs, making
/// it again after a failure.
async fn consume(
    core: Core,
    relay: Relay,
    name: String,
    subject: String,
    counts: Arc<OfferCounts>,
) {
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
            Ok(messages) => {
                let read = messages
                    .try_for_each_concurrent(IN_FLIGHT, |m| async {
                        take(&core, &relay, &counts, m).await;
                        Ok(())
                    })
                    .await;
                if let Err(e) = read {
                    tracing::warn!(error = %e, consumer = %name, "offer consumer interrupted; reading again");
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, consumer = %name, "cannot read offers; trying again")
            }
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
