//! The market simulation timed (issue 20): the same market as `tests/tests/market_sim.rs`
//! (simulated vaults on 20 hosts, 100 SDK vendors, the four phases, consent at the transport; no
//! kill here), then, in the same process against the same nats-server (with the operator's
//! credentials), a bare async-nats run of the same shape: as many
//! messages, of the same mean size, on the same subjects, published from 20 connections with
//! the same batches of PubAcks in flight, read by as many durable pull consumers (one per
//! vendor and category) that acknowledge each.
//!
//! Reported for each: publishes/s (messages over the publishing time), deliveries/s (receipts
//! over first publication to last receipt), p50 and p99 from a message's first send to a
//! vendor's receipt (for the market: activations, heard by the SDK), and nats-server's peak RSS
//! (VmHWM) before and after.
//!
//! `CARNET_SIM_SIZES` lists the vault counts to run (default `2000,10000`), each on its own
//! nats-server. Run: `cargo bench -p carnet-tests --bench market_sim`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer};
use carnet_tests::load::percentile;
use carnet_tests::market::bare_stream;
use carnet_tests::market_sim::world::Size;
use carnet_tests::market_sim::{Options, Run, Transport, run};
use carnet_tests::memory::{peak_rss_mib, reset_peak};
use futures_util::StreamExt;

/// A bare run's publishers: as the market's 20 hosts × 4 lanes, batches of 64.
const HOSTS: usize = 20;
const LANES: usize = 4;
const BATCH: usize = 64;

struct Figures {
    messages: usize,
    publish: Duration,
    deliveries: usize,
    to_last: Duration,
    latencies: Vec<Duration>,
    relay_mib: (f64, f64),
}

impl Figures {
    fn row(&self, name: &str) -> String {
        format!(
            "  {name:<22} {:>7} msgs {:>9.0}/s {:>8} recv {:>9.0}/s   p50 {:>9} p99 {:>9}   relay {:>4.0} → {:>4.0} MiB",
            self.messages,
            self.messages as f64 / self.publish.as_secs_f64(),
            self.deliveries,
            self.deliveries as f64 / self.to_last.as_secs_f64(),
            ms(percentile(&self.latencies, 0.5)),
            ms(percentile(&self.latencies, 0.99)),
            self.relay_mib.0,
            self.relay_mib.1,
        )
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let sizes: Vec<usize> = std::env::var("CARNET_SIM_SIZES")
        .unwrap_or_else(|_| "2000,10000".into())
        .split(',')
        .map(|s| s.trim().parse().expect("CARNET_SIM_SIZES: vault counts"))
        .collect();
    for vaults in sizes {
        let t = Instant::now();
        let market = run(Options {
            transport: Transport::Consent,
            size: Size {
                vaults,
                vendors: 100,
                hosts: HOSTS,
                seed: 20,
            },
            kill: false,
            deadline: Duration::from_secs(600),
            republish: 0,
        });
        let wall = t.elapsed();
        assert_eq!(
            market.timing.received, market.timing.expected,
            "the market run lost receipts"
        );
        let sim = Figures {
            messages: market.published.len(),
            publish: market.timing.phases.iter().sum(),
            deliveries: market.deliveries(),
            to_last: market.timing.to_last_receipt,
            latencies: market.activation_latencies(),
            relay_mib: market.timing.relay_mib,
        };
        let bare = bare(&market);
        println!(
            "market_sim bench: {vaults} vaults on {HOSTS} hosts, 100 vendors, nats-server 2.9 on loopback (file storage) \
             with nats-config's configuration, each party on its own credentials; mean announcement {} B; setup {:.1} s, whole run {:.1} s",
            mean_size(&market),
            market.timing.setup.as_secs_f64(),
            wall.as_secs_f64()
        );
        println!("{}", bare.row("bare async-nats"));
        println!("{}", sim.row("carnet market"));
        println!(
            "  ratio (market / bare): publishes {:.2}, deliveries {:.2}, p99 {:.1}×",
            (sim.messages as f64 / sim.publish.as_secs_f64())
                / (bare.messages as f64 / bare.publish.as_secs_f64()),
            (sim.deliveries as f64 / sim.to_last.as_secs_f64())
                / (bare.deliveries as f64 / bare.to_last.as_secs_f64()),
            percentile(&sim.latencies, 0.99).as_secs_f64()
                / percentile(&bare.latencies, 0.99).as_secs_f64().max(1e-9)
        );
    }
}

/// The mean size of the market's announcements (the bare run's payload size).
fn mean_size(market: &Run) -> usize {
    let n = market.published.len().max(1);
    market
        .published
        .iter()
        .map(|p| p.publication.body.len())
        .sum::<usize>()
        / n
}

/// The bare run on the market's nats-server: its own stream `BARE` on `bare.>`, the market's
/// subjects under it, the market's consumers' filters.
fn bare(market: &Run) -> Figures {
    // The operator's credentials: the bare run is no vault host nor vendor.
    let (access, pid) = {
        let relay = market.relay.lock().unwrap();
        (relay.access.clone(), relay.pid())
    };
    let n = market.published.len();
    let size = mean_size(market);
    let subjects: Vec<String> = market
        .published
        .iter()
        .map(|p| p.subject.replacen("icast.v1", "bare", 1))
        .collect();
    let filters: Vec<String> = market
        .world
        .vendors
        .iter()
        .flat_map(|v| v.categories.iter())
        .map(|&c| format!("bare.{}.>", market.world.categories[c]))
        .collect();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        bare_stream(&jetstream::new(access.admin().await)).await;
        reset_peak(pid);
        let before = peak_rss_mib(pid).unwrap_or(0.0);
        let sent: Arc<Vec<Mutex<Option<Instant>>>> =
            Arc::new((0..n).map(|_| Mutex::new(None)).collect());
        let receipts: Arc<Mutex<Vec<(Instant, Duration)>>> = Arc::default();
        let expected: usize = filters
            .iter()
            .map(|f| {
                let prefix = f.trim_end_matches('>');
                subjects.iter().filter(|s| s.starts_with(prefix)).count()
            })
            .sum();
        let done = Arc::new(tokio::sync::Notify::new());
        for (i, filter) in filters.iter().enumerate() {
            // Each consumer on its own connection, as each vendor has one.
            let own = jetstream::new(access.admin().await);
            let c: consumer::PullConsumer = own
                .get_stream("BARE")
                .await
                .unwrap()
                .create_consumer(consumer::pull::Config {
                    durable_name: Some(format!("bare{i}")),
                    filter_subject: filter.clone(),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ..Default::default()
                })
                .await
                .unwrap();
            let (sent, receipts, done) = (sent.clone(), receipts.clone(), done.clone());
            tokio::spawn(async move {
                let mut messages = c.messages().await.unwrap();
                while let Some(Ok(m)) = messages.next().await {
                    let at = Instant::now();
                    let k: usize = m
                        .headers
                        .as_ref()
                        .unwrap()
                        .get("n")
                        .unwrap()
                        .as_str()
                        .parse()
                        .unwrap();
                    m.ack().await.unwrap();
                    let from = sent[k].lock().unwrap().unwrap();
                    let mut all = receipts.lock().unwrap();
                    all.push((at, at - from));
                    if all.len() >= expected {
                        done.notify_one();
                    }
                }
            });
        }
        let body = bytes::Bytes::from(vec![b'x'; size]);
        let start = Instant::now();
        let order: Vec<usize> = (0..n).collect();
        let per_host = n.div_ceil(HOSTS);
        let mut hosts = Vec::new();
        for part in order.chunks(per_host) {
            let js = jetstream::new(access.admin().await);
            let (part, subjects, sent, body) =
                (part.to_vec(), subjects.clone(), sent.clone(), body.clone());
            hosts.push(tokio::spawn(async move {
                let lanes = part.chunks(part.len().div_ceil(LANES)).map(|lane| {
                    let (js, subjects, sent, body) = (&js, &subjects, &sent, &body);
                    async move {
                        for batch in lane.chunks(BATCH) {
                            let mut acks = Vec::with_capacity(batch.len());
                            for &k in batch {
                                let mut headers = async_nats::HeaderMap::new();
                                headers.insert("n", k.to_string().as_str());
                                *sent[k].lock().unwrap() = Some(Instant::now());
                                acks.push(
                                    js.publish_with_headers(
                                        subjects[k].clone(),
                                        headers,
                                        body.clone(),
                                    )
                                    .await
                                    .unwrap(),
                                );
                            }
                            for a in futures_util::future::join_all(
                                acks.into_iter().map(std::future::IntoFuture::into_future),
                            )
                            .await
                            {
                                a.unwrap();
                            }
                        }
                    }
                });
                futures_util::future::join_all(lanes).await;
            }));
        }
        for h in hosts {
            h.await.unwrap();
        }
        let publish = start.elapsed();
        tokio::time::timeout(Duration::from_secs(600), async {
            while receipts.lock().unwrap().len() < expected {
                done.notified().await;
            }
        })
        .await
        .expect("the bare run's receipts within 10 minutes");
        let all = receipts.lock().unwrap();
        let last = all.iter().map(|r| r.0).max().unwrap();
        let mut latencies: Vec<Duration> = all.iter().map(|r| r.1).collect();
        latencies.sort();
        Figures {
            messages: n,
            publish,
            deliveries: all.len(),
            to_last: last - start,
            latencies,
            relay_mib: (before, peak_rss_mib(pid).unwrap_or(0.0)),
        }
    })
}
