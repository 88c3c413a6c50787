//! The simulated vaults: what each changes in a phase, the announcement it builds for a change
//! (the same `IntentKeys::announce` carnetd's core calls, with the same rules:
//! `core/src/relay/announce.rs` `record` and `recipients.rs` `entitled`), and each host's
//! publisher (as carnetd's `server/src/relay/publisher.rs`: batches sent with their PubAcks in
//! flight together, a message's first attempt refused if JetStream calls it a duplicate, every
//! retry the same bytes under the same `Nats-Msg-Id`, until the relay acknowledges it).
//!
//! A full carnet-core `Core` (SQLite, vault keys, outbox) per vault is not built: 10,000 of them
//! cannot start in a minute. What a vault puts on the wire is built by the same functions.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use carnet_market::relay::{self, RelayError};
use carnet_market::wire::announcement::{Body, Level, PublicFields, Publication, Window};
use carnet_market::wire::{Event, IntentRef, MSG_ID_HEADER};
use chrono::Utc;
use tokio::sync::Notify;

use super::world::{Rng, SimVault, World};

/// How many messages a publisher sends before it waits for their PubAcks (carnetd's `BATCH`).
const BATCH: usize = 64;
/// Publishers per host at once (a host runs many vaults, each with its own publisher).
const LANES: usize = 4;
/// How long a PubAck may take before the attempt counts as failed.
const ACK_TIMEOUT: Duration = Duration::from_secs(2);
/// A message not acknowledged after this many attempts fails the run.
const MAX_ATTEMPTS: u32 = 40;

/// The run's phases, in order: every intent activated; some updated; some grants revoked and
/// the intents of their vaults updated; some intents withdrawn or fulfilled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Activate = 0,
    Update = 1,
    Revoke = 2,
    End = 3,
}

impl Phase {
    pub const ALL: [Phase; 4] = [Phase::Activate, Phase::Update, Phase::Revoke, Phase::End];
}

/// One publication the relay acknowledged, with what the oracle needs to judge its receipts.
#[derive(Debug, Clone)]
pub struct Published {
    pub vault: usize,
    pub intent: usize,
    pub intent_ref: IntentRef,
    pub msg_id: String,
    pub subject: String,
    pub category: usize,
    pub revision: u64,
    pub event: Event,
    pub level: Level,
    /// Directory vendors the box was encrypted to (none at `announce` or for a terminal event).
    pub recipients: Vec<usize>,
    pub phase: Phase,
    pub first_sent: Instant,
    pub acked_at: Instant,
    /// The stream sequence its PubAck named.
    pub sequence: u64,
    pub attempts: u32,
    /// Its first attempt was called a duplicate (someone else used its id): never expected.
    pub suppressed: bool,
    pub publication: Publication,
}

/// What the publishers have had acknowledged so far, for whoever waits on it (the kill).
#[derive(Debug, Default)]
pub struct Progress {
    pub acked: AtomicUsize,
    pub notify: Notify,
}

/// What `vault` changes in `phase`: (intent, event) pairs. In `Revoke`, a vault with a live
/// grant revokes one first (the grant is marked with the phase).
pub fn changes(vault: &mut SimVault, phase: Phase, rng: &mut Rng) -> Vec<(usize, Event)> {
    let live: Vec<usize> = (0..vault.intents.len())
        .filter(|&i| !vault.intents[i].ended)
        .collect();
    match phase {
        Phase::Activate => live.into_iter().map(|i| (i, Event::Activated)).collect(),
        Phase::Update => live
            .into_iter()
            .filter(|_| rng.chance(30))
            .map(|i| (i, Event::Updated))
            .collect(),
        Phase::Revoke => {
            let grants: Vec<usize> = (0..vault.grants.len())
                .filter(|&g| vault.grants[g].revoked_in.is_none())
                .collect();
            if grants.is_empty() || !rng.chance(15) {
                return Vec::new();
            }
            vault.grants[grants[rng.below(grants.len())]].revoked_in = Some(phase as usize);
            live.into_iter().map(|i| (i, Event::Updated)).collect()
        }
        Phase::End => live
            .into_iter()
            .filter_map(|i| {
                let event = match rng.below(10) {
                    0 => Event::Withdrawn,
                    1 => Event::Fulfilled,
                    _ => return None,
                };
                Some((i, event))
            })
            .collect(),
    }
}

/// The directory vendors entitled to an intent of category `c` of `vault` now: a live grant
/// covering it (recipients.rs's rule; every directory vendor here has an X25519 key).
pub fn entitled(vault: &SimVault, c: usize) -> Vec<usize> {
    let mut out: Vec<usize> = vault
        .grants
        .iter()
        .filter(|g| g.revoked_in.is_none() && g.categories.contains(&c))
        .map(|g| g.vendor)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Builds the announcement of `event` for intent `i` of `vault`, as carnetd's core does; `None`
/// where the core publishes nothing (an intent ended before; a terminal event of an intent never
/// announced; a sealed or notify revision no vendor is entitled to).
pub fn build(
    world: &World,
    index: usize,
    vault: &mut SimVault,
    i: usize,
    event: Event,
    phase: Phase,
) -> Option<Published> {
    let recipients = match (vault.intents[i].level, event.is_terminal()) {
        (Level::Sealed | Level::Notify, false) => entitled(vault, vault.intents[i].category),
        _ => Vec::new(),
    };
    let intent = &mut vault.intents[i];
    if intent.ended {
        return None;
    }
    if event.is_terminal() {
        intent.ended = true;
        if intent.revision == 0 {
            return None;
        }
    }
    let keys = |r: &[usize]| {
        r.iter()
            .map(|&v| world.vendors[v].keys.identity.recipient())
            .collect::<Vec<_>>()
    };
    let body = match (intent.level, event.is_terminal()) {
        (Level::Sealed, true) => Body::Ended(Level::Sealed),
        (Level::Notify, true) => Body::Ended(Level::Notify),
        (Level::Announce, _) => Body::Public(PublicFields {
            title: Some(format!("intent {index}.{i}")),
            quantity: Some(1),
            ..PublicFields::default()
        }),
        (_, false) if recipients.is_empty() => return None,
        (Level::Sealed, false) => Body::Sealed {
            intent: serde_json::json!({
                "title": format!("sealed intent {index}.{i}"),
                "category": world.categories[intent.category].to_string(),
                "price_specification": {"max_price": "700.00", "price_currency": "EUR"},
            }),
            recipients: keys(&recipients),
        },
        (_, false) => Body::Notify {
            vendor_api: format!("https://h{}.vaults.example/v{index}", vault.host),
            intent_url: format!(
                "https://h{}.vaults.example/v{index}/v1/vendor/intents/{i}",
                vault.host
            ),
            recipients: keys(&recipients),
        },
    };
    let revision = intent.revision + 1;
    let now = Utc::now();
    let publication = intent
        .keys
        .announce(
            revision,
            event,
            world.categories[intent.category].clone(),
            World::region(intent.region),
            Window {
                valid_from: world.window.0,
                valid_through: world.window.1,
            },
            body,
            now,
        )
        .expect("a simulated announcement fits");
    intent.revision = revision;
    let msg_id = publication
        .headers
        .iter()
        .find(|(name, _)| *name == MSG_ID_HEADER)
        .map(|(_, v)| v.clone())
        .expect("an announcement's Nats-Msg-Id");
    let started = Instant::now();
    Some(Published {
        vault: index,
        intent: i,
        intent_ref: intent.keys.intent_ref.clone(),
        msg_id,
        subject: publication.subject.clone(),
        category: intent.category,
        revision,
        event,
        level: intent.level,
        recipients,
        phase,
        first_sent: started,
        acked_at: started,
        sequence: 0,
        attempts: 0,
        suppressed: false,
        publication,
    })
}

/// One host's publishers running `phase` over its vaults (`(index, vault)`), `LANES` at once,
/// each building a batch, publishing it, and retrying what was not acknowledged until all is.
pub async fn run_phase(
    world: Arc<World>,
    js: jetstream::Context,
    mut vaults: Vec<(usize, SimVault)>,
    phase: Phase,
    seed: u64,
    progress: Arc<Progress>,
) -> (Vec<(usize, SimVault)>, Vec<Published>) {
    let lane_size = vaults.len().div_ceil(LANES).max(1);
    let lanes = vaults.chunks_mut(lane_size).map(|lane| {
        let (world, js, progress) = (&world, &js, &progress);
        async move {
            let mut out = Vec::new();
            let mut batch = Vec::with_capacity(BATCH);
            for (index, vault) in lane.iter_mut() {
                let mut rng = Rng::new(seed ^ ((*index as u64) << 8) ^ phase as u64);
                for (i, event) in changes(vault, phase, &mut rng) {
                    if let Some(p) = build(world, *index, vault, i, event, phase) {
                        batch.push(p);
                    }
                }
                if batch.len() >= BATCH {
                    out.extend(publish_batch(js, std::mem::take(&mut batch), progress).await);
                }
            }
            out.extend(publish_batch(js, batch, progress).await);
            out
        }
    });
    let published = futures_util::future::join_all(lanes)
        .await
        .into_iter()
        .flatten()
        .collect();
    (vaults, published)
}

/// Sends every message, awaits every PubAck together, and sends again (same bytes) those not
/// acknowledged, after a short back-off, until all are.
async fn publish_batch(
    js: &jetstream::Context,
    mut pending: Vec<Published>,
    progress: &Progress,
) -> Vec<Published> {
    let mut done = Vec::with_capacity(pending.len());
    while !pending.is_empty() {
        let round = pending.iter().map(|p| p.attempts).max().unwrap_or(0);
        assert!(
            round < MAX_ATTEMPTS,
            "{} not acknowledged after {MAX_ATTEMPTS} attempts",
            pending[0].msg_id
        );
        if round > 0 {
            // A retry's back-off, as carnetd's outbox waits before the next attempt.
            tokio::time::sleep(Duration::from_millis(100 * u64::from(round.min(10)))).await;
        }
        let mut sent = Vec::with_capacity(pending.len());
        for p in &mut pending {
            if p.attempts == 0 {
                // What a vendor's receipt is measured from.
                p.first_sent = Instant::now();
            }
            sent.push(relay::send(js, &p.publication).await);
        }
        let confirmed =
            futures_util::future::join_all(pending.iter().zip(sent).map(|(p, sent)| async move {
                match sent {
                    Ok(ack) => {
                        relay::confirm(ack, &p.publication, p.attempts == 0, ACK_TIMEOUT).await
                    }
                    Err(e) => Err(e),
                }
            }))
            .await;
        let mut again = Vec::new();
        for (mut p, confirmed) in pending.into_iter().zip(confirmed) {
            p.attempts += 1;
            match confirmed {
                Ok(ack) => {
                    p.acked_at = Instant::now();
                    p.sequence = ack.sequence;
                    done.push(p);
                    progress.acked.fetch_add(1, Ordering::Relaxed);
                }
                Err(RelayError::Suppressed(_)) => {
                    p.suppressed = true;
                    done.push(p);
                }
                Err(_) => again.push(p),
            }
        }
        progress.notify.notify_waiters();
        pending = again;
    }
    done
}
