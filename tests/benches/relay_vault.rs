//! carnetd on the market relay, beside a bare async-nats loop measured in the same run against
//! the same nats-server: how many announcements per second one carnetd gets onto the relay, and
//! how long from an owner's activation (the HTTP answer) to a vendor's receipt (the SDK's
//! listener, which verifies each one), p50 and p99.
//!
//! - Baseline: 1 KiB messages published with a window of PubAcks and consumed by a durable pull
//!   consumer (throughput), then one at a time, each waited for (latency).
//! - carnetd: N intents at `relay announce` written as drafts, then activated over HTTP by
//!   16 clients at once while a vendor listens (throughput: first activation to last receipt); then 200
//!   activated one at a time, each waited for (latency).
//!
//! - Offers: 500 signed, encrypted offers from 50 directory vendors to the announced intents,
//!   published at once; timed until carnetd has stored them all (`carnet_relay_offers_total`).
//!
//! `CARNET_BENCH_N` sets N (1,000 by default). Run: `cargo bench -p carnet-tests --bench relay_vault`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::mpsc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer};
use carnet_market::keys::VendorKeys;
use carnet_market::relay::OFFERS_STREAM;
use carnet_market::sdk::{Heard, ListenOptions, Listener, State};
use carnet_market::wire::OfferId as WireOfferId;
use carnet_market::wire::announcement::{Announcement, Publication};
use carnet_market::wire::offer::{OfferTarget, OfferTerms, make_offer};
use carnet_tests::Api;
use carnet_tests::load::percentile;
use carnet_tests::market::Market;
use futures_util::StreamExt;
use serde_json::json;

const LATENCY_SAMPLES: usize = 200;
/// The owner's HTTP clients activating at once in the throughput run.
const CLIENTS: usize = 16;
/// Directory vendors offering in the offers run, each within its allowance (10 at once).
const OFFERING_VENDORS: usize = 50;
const OFFERS_EACH: usize = 10;

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let n: usize = std::env::var("CARNET_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);
    let ids: Vec<String> = (0..OFFERING_VENDORS).map(|v| format!("v{v}")).collect();
    let mut vendors: Vec<(&str, &[&str])> = vec![("bench", &["home.appliances"])];
    vendors.extend(ids.iter().map(|id| (id.as_str(), &["home.appliances"][..])));
    let market = Market::start(&vendors);
    let data = tempfile::tempdir().unwrap();
    let carnetd = market.carnetd(data.path());
    let runtime = tokio::runtime::Runtime::new().unwrap();

    let (bare_rate, bare_p50, bare_p99) = runtime.block_on(bare(&market.nats.url(), n));

    // The vendor's listener on its own thread: each verified announcement's title and when.
    let (tx, heard) = mpsc::channel::<(Announcement, Instant)>();
    let url = market.nats.url();
    let state = tempfile::tempdir().unwrap();
    let state_path = state.path().to_owned();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let js = jetstream::new(async_nats::connect(url).await.unwrap());
            let options = ListenOptions {
                vendor: "bench".parse().unwrap(),
                categories: vec!["home.appliances".into()],
                region: None,
                since: None,
                ack_wait: Duration::from_secs(30),
            };
            let mut listener =
                Listener::start(&js, &options, State::open(&state_path).unwrap(), |_| {})
                    .await
                    .unwrap();
            while let Some(h) = listener.next().await.unwrap() {
                if let Heard::Intent(a) = h
                    && tx.send((a.announcement, Instant::now())).is_err()
                {
                    break;
                }
            }
        });
    });

    let draft = |title: &str| -> String {
        let r = carnetd.post(
            "/v1/intents",
            &json!({"category": "home.appliances.washer", "title": title,
                    "relay": "announce", "public": ["title"]}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
        r.json()["id"].as_str().unwrap().to_owned()
    };
    // Plain HTTP, so the activating threads share nothing but the address and the token.
    let (base, token) = (carnetd.base.clone(), carnetd.token());
    let activate = |client: &reqwest::blocking::Client, id: &str| {
        let r = client
            .post(format!("{base}/v1/intents/{id}/activate"))
            .bearer_auth(&token)
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
    };

    // Throughput: N drafts, activated by CLIENTS at once, until the vendor has them all.
    let drafts: Vec<String> = (0..n).map(|i| draft(&format!("bulk {i}"))).collect();
    let t = Instant::now();
    std::thread::scope(|scope| {
        for part in drafts.chunks(drafts.len().div_ceil(CLIENTS)) {
            scope.spawn(|| {
                let client = carnet_tests::http();
                part.iter().for_each(|id| activate(&client, id));
            });
        }
    });
    let activated = t.elapsed();
    let mut bulk = Vec::with_capacity(n);
    for _ in 0..n {
        let (a, _) = heard
            .recv_timeout(Duration::from_secs(120))
            .expect("an announcement");
        bulk.push(a);
    }
    let carnet_all = t.elapsed();

    // Latency: one activation at a time, waited for.
    let client = carnet_tests::http();
    let mut lat = Vec::with_capacity(LATENCY_SAMPLES);
    for i in 0..LATENCY_SAMPLES {
        let title = format!("one {i}");
        let id = draft(&title);
        let start = Instant::now();
        activate(&client, &id);
        let (got, at) = heard
            .recv_timeout(Duration::from_secs(60))
            .expect("receipt");
        assert_eq!(got.public.title.as_deref(), Some(title.as_str()));
        lat.push(at - start);
    }
    lat.sort();
    let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    let carnet_rate = n as f64 / carnet_all.as_secs_f64();

    // Offers: OFFERING_VENDORS × OFFERS_EACH signed, encrypted offers to the bulk intents, made
    // beforehand; timed from the first publication until carnetd has stored them all.
    // carnetd reads every offer of the vault with one consumer (`vault_<host>`).
    let consumers = runtime.block_on(wait_for_consumers(&market.nats.url(), 1));
    let mut offers = Vec::new();
    for (v, id) in ids.iter().enumerate() {
        let keys = VendorKeys::read(&market.key_file(id)).unwrap();
        for k in 0..OFFERS_EACH {
            let a = &bulk[(v * OFFERS_EACH + k) % n];
            let target = OfferTarget {
                intent_ref: a.intent_ref.clone(),
                revision: a.revision,
                bucket: a.reply.as_ref().unwrap().bucket.clone(),
                recipient: a.reply.as_ref().unwrap().recipient.parse().unwrap(),
            };
            let terms = OfferTerms {
                intent_ref: a.intent_ref.clone(),
                revision: a.revision,
                vendor_id: id.parse().unwrap(),
                offer_id: WireOfferId::generate(),
                price: "649.00".parse().unwrap(),
                currency: "EUR".parse().unwrap(),
                valid_through: a.window.valid_through,
                description: None,
                made_at: chrono::Utc::now(),
            };
            offers.push(make_offer(&target, &terms, &keys.signing));
        }
    }
    let m = offers.len();
    let stored = || -> u64 {
        let text = carnetd.get("/metrics").text;
        text.lines()
            .find_map(|l| l.strip_prefix("carnet_relay_offers_total{outcome=\"stored\"} "))
            .map_or(0, |v| v.trim().parse().unwrap())
    };
    let before = stored();
    let t = Instant::now();
    runtime.block_on(publish_all(&market.nats.url(), &offers));
    let published = t.elapsed();
    let deadline = Instant::now() + Duration::from_secs(300);
    // A bench may poll: it measures when the last offer is stored, to the poll's 10 ms.
    while stored() < before + m as u64 {
        assert!(
            Instant::now() < deadline,
            "offers not all stored in 5 minutes"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let offers_all = t.elapsed();
    let offers_rate = m as f64 / offers_all.as_secs_f64();

    println!("relay bench (carnetd), {n} intents, nats-server -js on loopback (file storage)");
    println!("  bare async-nats publish + consume, 1 KiB   {bare_rate:>9.0}/s");
    println!(
        "  carnetd announcements (activation to vendor) {carnet_rate:>7.0}/s ({:.2} s; the {n} activations, {CLIENTS} clients at once, took {:.2} s over HTTP)   ratio {:.3}",
        carnet_all.as_secs_f64(),
        activated.as_secs_f64(),
        carnet_rate / bare_rate
    );
    println!(
        "  offers into carnetd (publication to stored), {m} from {OFFERING_VENDORS} vendors to {consumers} consumers {offers_rate:>5.0}/s ({:.2} s; published in {:.2} s)   ratio {:.3}",
        offers_all.as_secs_f64(),
        published.as_secs_f64(),
        offers_rate / bare_rate
    );
    println!(
        "  latency, one at a time: bare publish→receipt p50 {} p99 {}; carnetd activation→vendor receipt p50 {} p99 {} ({LATENCY_SAMPLES} samples)",
        ms(bare_p50),
        ms(bare_p99),
        ms(p50),
        ms(p99)
    );
}

/// Waits until carnetd has at least `n` offer consumers on the relay (one per vault host);
/// returns how many.
async fn wait_for_consumers(url: &str, n: usize) -> usize {
    let js = jetstream::new(async_nats::connect(url).await.unwrap());
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let mut stream = js.get_stream(OFFERS_STREAM).await.unwrap();
        let count = stream.info().await.unwrap().state.consumer_count;
        if count >= n {
            return count;
        }
        assert!(Instant::now() < deadline, "{count} of {n} offer consumers");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Publishes every message, PubAcks awaited after all were sent.
async fn publish_all(url: &str, messages: &[Publication]) {
    let js = jetstream::new(async_nats::connect(url).await.unwrap());
    let mut acks = Vec::with_capacity(messages.len());
    for p in messages {
        acks.push(carnet_market::relay::send(&js, p).await.unwrap());
    }
    for a in acks {
        assert!(!a.await.unwrap().duplicate);
    }
}

/// The baseline: (messages/s published and consumed, p50, p99 of one message's trip).
async fn bare(url: &str, n: usize) -> (f64, Duration, Duration) {
    let js = jetstream::new(async_nats::connect(url).await.unwrap());
    let stream = carnet_tests::market::bare_stream(&js).await;
    let c: consumer::PullConsumer = stream
        .create_consumer(consumer::pull::Config {
            durable_name: Some("bare".into()),
            ack_policy: consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut msgs = c.messages().await.unwrap();
    let body = bytes::Bytes::from(vec![b'x'; 1024]);
    let t = Instant::now();
    let mut acks = Vec::with_capacity(n);
    for _ in 0..n {
        acks.push(js.publish("bare.one", body.clone()).await.unwrap());
    }
    for a in acks {
        a.await.unwrap();
    }
    for _ in 0..n {
        msgs.next().await.unwrap().unwrap().ack().await.unwrap();
    }
    let rate = n as f64 / t.elapsed().as_secs_f64();
    let mut lat = Vec::with_capacity(LATENCY_SAMPLES);
    for _ in 0..LATENCY_SAMPLES {
        let start = Instant::now();
        js.publish("bare.one", body.clone())
            .await
            .unwrap()
            .await
            .unwrap();
        msgs.next().await.unwrap().unwrap().ack().await.unwrap();
        lat.push(start.elapsed());
    }
    lat.sort();
    (rate, percentile(&lat, 0.5), percentile(&lat, 0.99))
}
