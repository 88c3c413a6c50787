//! A market simulation (issue 20): thousands of vaults and a hundred vendors against one real
//! nats-server, judged by an oracle built from the generated grants. The test
//! (`tests/tests/market_sim.rs`) asserts the oracle's promises; the bench
//! (`tests/benches/market_sim.rs`) runs the same market and times it.
//!
//! - `world`: the generated taxonomy, directory (vendors, keys) and vaults (hosts, grants,
//!   intents), from one seed;
//! - `relay`: nats-server (open, or with `carnet-market nats-config`'s configuration) and each
//!   party's connection and credentials;
//! - `vault`: each vault's changes, built with the functions carnetd's core uses, and each host's
//!   publisher (batches, PubAcks in flight together, retries under the same `Nats-Msg-Id`);
//! - `vendor`: each vendor the SDK's listener, logging all it is handed;
//! - `snoop`: a few vendors subscribing with plain NATS beyond their categories (an attacker);
//! - `oracle`: the promises, judged after the run.
//!
//! A vault here is not a carnet-core `Core` (SQLite, sealed rows, outbox): 10,000 of those do
//! not start in a minute. It is the part of one that speaks to the relay — its grants, its
//! intents' relay keys and revisions, the same announcement builder and recipient rule — and a
//! publisher that behaves as carnetd's. The run never sleeps to order anything: it waits on
//! counts (PubAcks, distinct receipts) with a deadline.

pub mod oracle;
pub mod relay;
pub mod snoop;
pub mod vault;
pub mod vendor;
pub mod world;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use carnet_market::relay::{INTENTS_STREAM, RelayError, StreamSettings};
use carnet_market::sdk::ListenOptions;
use carnet_market::wire::MSG_ID_HEADER;
use futures_util::StreamExt;

use crate::memory::peak_rss_mib;
use oracle::Evidence;
use relay::SimRelay;
use vault::{Phase, Progress, Published};
use vendor::{Ears, Listen, Receipt};
use world::{Rng, SimVault, Size, World};

/// How the relay lets parties in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// nats-server open to every client.
    Open,
    /// `carnet-market nats-config`'s configuration: each party on its own credentials.
    Consent,
}

/// What to run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub transport: Transport,
    pub size: Size,
    /// `kill -9` nats-server in the middle of the activations, and start it again.
    pub kill: bool,
    /// How long to wait for every vendor to have received every publication.
    pub deadline: Duration,
    /// How many acknowledged publications to publish again (each must be refused).
    pub republish: usize,
}

/// What republishing acknowledged messages came to.
#[derive(Debug, Default)]
pub struct Republished {
    pub tried: usize,
    /// Refused as duplicates (`RelayError::Suppressed`), as they must be.
    pub refused: usize,
    /// Anything else, named.
    pub problems: Vec<String>,
    /// The stream's message count before and after.
    pub stream_messages: (u64, u64),
    /// The category of each message tried.
    pub categories: Vec<usize>,
}

/// What one snooping vendor's plain subscriptions were handed (consent at the transport only).
#[derive(Debug)]
pub struct Snooped {
    pub vendor: String,
    pub forbidden: Vec<String>,
    /// Messages handed to its forbidden subscriptions: none, or the relay let it read them.
    pub forbidden_got: usize,
    /// Republished messages of its own category, and how many its control subscription got.
    pub control_expected: usize,
    pub control_got: usize,
}

/// Times and sizes of a run.
#[derive(Debug, Default)]
pub struct Timing {
    pub setup: Duration,
    /// Each phase, from its first build to its last PubAck.
    pub phases: Vec<Duration>,
    /// Receipts expected (publication × vendor registered in its category) and received.
    pub expected: usize,
    pub received: usize,
    /// From the first publication to the last receipt.
    pub to_last_receipt: Duration,
    /// The steps after the phases, each with its time.
    pub steps: Vec<(&'static str, Duration)>,
    /// nats-server's peak RSS (VmHWM) in MiB when the market starts and at its end (after a
    /// restart, the restarted process's).
    pub relay_mib: (f64, f64),
}

/// Everything a run leaves: the oracle's evidence and the measures.
pub struct Run {
    /// The relay, still running (a bench measures a baseline on it afterwards).
    pub relay: Arc<Mutex<SimRelay>>,
    pub world: Arc<World>,
    pub vaults: Vec<SimVault>,
    pub published: Vec<Published>,
    pub receipts: Vec<Vec<Receipt>>,
    /// Vendors whose listener stopped before the end (vendor id, why).
    pub stopped_listeners: Vec<(String, String)>,
    /// Failures of the relay's stream the vendors' listeners read past (the restart).
    pub interruptions: u64,
    pub killed_at: Option<Instant>,
    /// Publications acknowledged before the kill that the stream no longer holds at their
    /// sequence after the restart.
    pub lost: Vec<String>,
    pub checked_after_restart: usize,
    pub republished: Republished,
    /// Vendors subscribing, with plain NATS, beyond their categories (consent only).
    pub snooped: Vec<Snooped>,
    pub timing: Timing,
}

impl Run {
    /// From each activation's first send to each vendor's hearing it, sorted.
    pub fn activation_latencies(&self) -> Vec<Duration> {
        let sent: std::collections::HashMap<&str, Instant> = self
            .published
            .iter()
            .filter(|p| p.event == carnet_market::wire::Event::Activated)
            .map(|p| (p.msg_id.as_str(), p.first_sent))
            .collect();
        let mut out: Vec<Duration> = self
            .receipts
            .iter()
            .flatten()
            .filter(|r| r.heard.is_some())
            .filter_map(|r| Some(r.at - *sent.get(r.msg_id.as_deref()?)?))
            .collect();
        out.sort();
        out
    }

    /// Every receipt, redeliveries and drops included.
    pub fn deliveries(&self) -> usize {
        self.receipts.iter().map(Vec::len).sum()
    }

    pub fn evidence(&self) -> Evidence<'_> {
        Evidence {
            world: &self.world,
            vaults: &self.vaults,
            published: &self.published,
            receipts: &self.receipts,
            killed_at: self.killed_at,
        }
    }
}

/// Generates the market, starts its relay, and runs it to its end.
pub fn run(options: Options) -> Run {
    let started = Instant::now();
    let size = options.size;
    let mut rng = Rng::new(size.seed);
    let world = World::generate(size, &mut rng, chrono::Utc::now());
    let vaults = world.vaults(size, &mut rng);
    let relay = match options.transport {
        Transport::Open => SimRelay::open(&world, size.hosts),
        Transport::Consent => SimRelay::consent(&world, size.hosts),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(market(
        Arc::new(Mutex::new(relay)),
        Arc::new(world),
        vaults,
        options,
        started,
    ))
}

async fn market(
    relay: Arc<Mutex<SimRelay>>,
    world: Arc<World>,
    mut vaults: Vec<SimVault>,
    options: Options,
    started: Instant,
) -> Run {
    let size = options.size;
    let pid = |r: &Arc<Mutex<SimRelay>>| r.lock().unwrap_or_else(|p| p.into_inner()).pid();
    let access = relay
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .access
        .clone();
    let admin = jetstream::new(access.admin().await);
    carnet_market::relay::ensure_streams(
        &admin,
        StreamSettings::for_longest_window(Duration::from_secs(40 * 86_400)),
    )
    .await
    .expect("the relay's streams");
    let mut timing = Timing {
        relay_mib: (peak_rss_mib(pid(&relay)).unwrap_or(0.0), 0.0),
        ..Timing::default()
    };
    let mut hosts = Vec::with_capacity(size.hosts);
    for h in 0..size.hosts {
        hosts.push(jetstream::new(access.host(h).await));
    }
    let ears = Arc::new(Ears::new(world.vendors.len()));
    // On tmpfs when there is one: a hundred vendors each writing a file per announcement spend
    // most of a run in ext4's inode allocation, which is not what this measures.
    let state = match std::path::Path::new("/dev/shm").is_dir() {
        true => tempfile::tempdir_in("/dev/shm"),
        false => tempfile::tempdir(),
    }
    .expect("vendors' state");
    let mut listeners = Vec::with_capacity(world.vendors.len());
    let (stop, stopping) = tokio::sync::watch::channel(false);
    for (v, vendor) in world.vendors.iter().enumerate() {
        let js = jetstream::new(access.vendor(v).await);
        let identity =
            carnet_market::keys::Identity::from_secret_text(&vendor.keys.identity.secret_text())
                .expect("a vendor's key");
        let listen = Listen {
            index: v,
            options: ListenOptions {
                vendor: vendor.id.clone(),
                categories: vendor
                    .categories
                    .iter()
                    .map(|&c| world.categories[c].to_string())
                    .collect(),
                region: None,
                since: None,
                ack_wait: vendor::ACK_WAIT,
            },
            identity,
            state: state.path().join(vendor.id.as_str()),
        };
        listeners.push(vendor::start(js, listen, ears.clone(), stopping.clone()).await);
    }
    timing.setup = started.elapsed();

    let progress = Arc::new(Progress::default());
    let intents: usize = vaults.iter().map(|v| v.intents.len()).sum();
    let mut published: Vec<Published> = Vec::new();
    let mut killed_at = None;
    let first_publish = Instant::now();
    for phase in Phase::ALL {
        let t = Instant::now();
        let killer = (options.kill && phase == Phase::Activate).then(|| {
            let (relay, progress) = (relay.clone(), progress.clone());
            let at = progress.acked.load(std::sync::atomic::Ordering::Relaxed) + intents / 4;
            tokio::spawn(kill_when(relay, progress, at))
        });
        let mut by_host: Vec<Vec<(usize, SimVault)>> =
            (0..size.hosts).map(|_| Vec::new()).collect();
        for (i, v) in vaults.drain(..).enumerate() {
            by_host[v.host].push((i, v));
        }
        let tasks: Vec<_> = by_host
            .into_iter()
            .zip(&hosts)
            .map(|(mine, js)| {
                tokio::spawn(vault::run_phase(
                    world.clone(),
                    js.clone(),
                    mine,
                    phase,
                    size.seed,
                    progress.clone(),
                ))
            })
            .collect();
        let mut all = Vec::new();
        for task in tasks {
            let (mine, done) = task.await.expect("a host's publisher");
            all.extend(mine);
            published.extend(done);
        }
        all.sort_by_key(|(i, _)| *i);
        vaults = all.into_iter().map(|(_, v)| v).collect();
        if let Some(killer) = killer {
            killed_at = Some(killer.await.expect("the kill"));
        }
        timing.phases.push(t.elapsed());
    }

    let step = Instant::now();
    let snoops = match options.transport {
        Transport::Consent => Some(snoop::start(&access, &world, 10).await),
        Transport::Open => None,
    };
    let republished = republish(&admin, &hosts[0], &published, options.republish).await;
    let mut snooped = Vec::new();
    if let Some(snoops) = snoops {
        let want = |s: &snoop::Snoop| {
            republished
                .categories
                .iter()
                .filter(|&&c| c == s.control)
                .count()
        };
        snoops
            .wait_for(want, Instant::now() + Duration::from_secs(30))
            .await;
        for s in snoops.stop() {
            snooped.push(Snooped {
                vendor: world.vendors[s.vendor].id.to_string(),
                forbidden: s.forbidden.clone(),
                forbidden_got: s.forbidden_got.load(std::sync::atomic::Ordering::Relaxed),
                control_expected: want(&s),
                control_got: s.control_got.load(std::sync::atomic::Ordering::Relaxed),
            });
        }
    }
    timing.steps.push(("republish", step.elapsed()));
    let step = Instant::now();
    timing.expected = published
        .iter()
        .map(|p| world.registered(p.category).len())
        .sum();
    timing.received = ears
        .wait_for(timing.expected, Instant::now() + options.deadline)
        .await;
    timing.steps.push(("wait for receipts", step.elapsed()));
    let step = Instant::now();
    let (lost, checked_after_restart) = match killed_at {
        Some(at) => still_stored(&admin, &published, at).await,
        None => (Vec::new(), 0),
    };
    timing.steps.push(("stream check", step.elapsed()));
    let step = Instant::now();
    timing.relay_mib.1 = peak_rss_mib(pid(&relay)).unwrap_or(0.0);
    let _ = stop.send(true);
    let mut interruptions = 0;
    for l in listeners {
        interruptions += l.await.expect("a vendor's listener");
    }
    let ears = Arc::try_unwrap(ears).unwrap_or_else(|_| panic!("a listener outlived the run"));
    let mut receipts = Vec::with_capacity(ears.logs.len());
    let mut stopped_listeners = Vec::new();
    for (v, log) in ears.logs.into_iter().enumerate() {
        let ear = log.into_inner().unwrap_or_else(|p| p.into_inner());
        if let Some(why) = ear.stopped {
            stopped_listeners.push((world.vendors[v].id.to_string(), why));
        }
        receipts.push(ear.receipts);
    }
    timing.steps.push(("listeners stopped", step.elapsed()));
    let last = receipts.iter().flatten().map(|r| r.at).max();
    timing.to_last_receipt = last.map_or(Duration::ZERO, |t| t - first_publish);
    Run {
        relay,
        world,
        vaults,
        published,
        receipts,
        stopped_listeners,
        interruptions,
        killed_at,
        lost,
        checked_after_restart,
        republished,
        snooped,
        timing,
    }
}

/// Waits until the publishers have `at` PubAcks, then kills nats-server (SIGKILL) and starts it
/// again on the same port and store; returns the instant just before the kill.
async fn kill_when(relay: Arc<Mutex<SimRelay>>, progress: Arc<Progress>, at: usize) -> Instant {
    loop {
        let notified = progress.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if progress.acked.load(std::sync::atomic::Ordering::Relaxed) >= at {
            break;
        }
        notified.await;
    }
    tokio::task::spawn_blocking(move || {
        let mut relay = relay.lock().unwrap_or_else(|p| p.into_inner());
        let killed_at = Instant::now();
        // `restart` kills (SIGKILL, as `kill -9`) and starts it again on its port and store.
        relay.nats.restart();
        killed_at
    })
    .await
    .expect("kill and restart nats-server")
}

/// Publishes again, as first attempts, `n` messages the relay acknowledged (spread over the
/// run, so some from before a kill): each must be refused as a duplicate, and the stream must
/// not grow.
async fn republish(
    admin: &jetstream::Context,
    js: &jetstream::Context,
    published: &[Published],
    n: usize,
) -> Republished {
    let count = |admin: jetstream::Context| async move {
        let mut stream = admin.get_stream(INTENTS_STREAM).await.expect("INTENTS");
        stream.info().await.expect("INTENTS info").state.messages
    };
    let mut out = Republished {
        stream_messages: (count(admin.clone()).await, 0),
        ..Republished::default()
    };
    let step = (published.len() / n.max(1)).max(1);
    let again: Vec<&Published> = published.iter().step_by(step).take(n).collect();
    // Sent together, PubAcks awaited together, as a publisher's batch.
    let mut sent = Vec::with_capacity(again.len());
    for p in &again {
        sent.push(carnet_market::relay::send(js, &p.publication).await);
    }
    for (p, sent) in again.into_iter().zip(sent) {
        out.tried += 1;
        out.categories.push(p.category);
        let confirmed = match sent {
            Ok(ack) => {
                carnet_market::relay::confirm(ack, &p.publication, true, Duration::from_secs(10))
                    .await
            }
            Err(e) => Err(e),
        };
        match confirmed {
            Err(RelayError::Suppressed(_)) => out.refused += 1,
            Ok(ack) => out.problems.push(format!(
                "{} stored again at sequence {} (it was at {})",
                p.msg_id, ack.sequence, p.sequence
            )),
            Err(e) => out.problems.push(format!("{}: {e}", p.msg_id)),
        }
    }
    out.stream_messages.1 = count(admin.clone()).await;
    out
}

/// Reads back from the stream, at the sequence its PubAck named, every publication acknowledged
/// before `killed_at`: the ones it no longer holds (or holds another message at), and how many
/// were checked.
async fn still_stored(
    admin: &jetstream::Context,
    published: &[Published],
    killed_at: Instant,
) -> (Vec<String>, usize) {
    let stream = admin.get_stream(INTENTS_STREAM).await.expect("INTENTS");
    let before: Vec<&Published> = published
        .iter()
        .filter(|p| p.acked_at < killed_at)
        .collect();
    let lost: Vec<String> = futures_util::stream::iter(&before)
        .map(|p| {
            let stream = &stream;
            async move {
                match stream.get_raw_message(p.sequence).await {
                    Ok(m)
                        if m.headers.get(MSG_ID_HEADER).map(|v| v.as_str())
                            == Some(p.msg_id.as_str()) =>
                    {
                        None
                    }
                    Ok(_) => Some(format!(
                        "{}: another message at sequence {}",
                        p.msg_id, p.sequence
                    )),
                    Err(e) => Some(format!("{} (sequence {}): {e}", p.msg_id, p.sequence)),
                }
            }
        })
        .buffer_unordered(32)
        .filter_map(|x| async move { x })
        .collect()
        .await;
    (lost, before.len())
}
