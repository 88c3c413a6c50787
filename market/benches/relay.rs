//! The relay's throughput on this machine, against a real `nats-server -js` started for the run:
//! a bare async-nats publish/consume loop of 1 KiB messages, and beside it the same count of
//! Carnet announcements (signed, published with their headers, then read by the vendor SDK, which
//! verifies, judges and records each one). `CARNET_BENCH_N` sets the count (10,000 by default).
//! Run: `cargo bench -p carnet-market --bench relay`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer};
use carnet_market::sdk::{Heard, ListenOptions, Listener, State};
use carnet_market::wire::Event;
use carnet_market::wire::announcement::IntentKeys;
use futures_util::StreamExt;

/// PubAcks awaited at most this many messages behind (async-nats waits past 5,000 in flight).
const WINDOW: usize = 1_000;

fn rate(n: usize, d: Duration) -> String {
    format!(
        "{:>9.0}/s ({:.2} s)",
        n as f64 / d.as_secs_f64(),
        d.as_secs_f64()
    )
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("CARNET_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let server = common::NatsServer::start();
    let js = common::relay_with_streams(&server).await;

    // Bare async-nats: a stream of its own, 1 KiB payloads, acks awaited after all were sent.
    js.create_stream(jetstream::stream::Config {
        name: "BARE".into(),
        subjects: vec!["bare.>".into()],
        storage: jetstream::stream::StorageType::File,
        ..Default::default()
    })
    .await
    .unwrap();
    let body = bytes::Bytes::from(vec![b'x'; 1024]);
    let t = Instant::now();
    let mut acks: VecDeque<jetstream::context::PublishAckFuture> = VecDeque::with_capacity(WINDOW);
    for _ in 0..n {
        if acks.len() == WINDOW {
            acks.pop_front().unwrap().await.unwrap();
        }
        acks.push_back(js.publish("bare.one", body.clone()).await.unwrap());
    }
    for a in acks {
        a.await.unwrap();
    }
    let bare_pub = t.elapsed();
    let stream = js.get_stream("BARE").await.unwrap();
    let c: consumer::PullConsumer = stream
        .create_consumer(consumer::pull::Config {
            durable_name: Some("bare".into()),
            ack_policy: consumer::AckPolicy::Explicit,
            ..Default::default()
        })
        .await
        .unwrap();
    let t = Instant::now();
    let mut msgs = c.messages().await.unwrap();
    for _ in 0..n {
        msgs.next().await.unwrap().unwrap().ack().await.unwrap();
    }
    let bare_sub = t.elapsed();

    // Carnet: n intents, each with its own keys, announced in one category.
    let t = Instant::now();
    let pubs: Vec<_> = (0..n)
        .map(|i| {
            let keys = IntentKeys::generate();
            common::announce(
                &keys,
                1,
                Event::Activated,
                "home.appliances",
                &format!("item {i}"),
            )
        })
        .collect();
    let sign = t.elapsed();
    let size = pubs.iter().map(|p| p.body.len()).sum::<usize>() / n;
    let t = Instant::now();
    let mut acks: VecDeque<jetstream::context::PublishAckFuture> = VecDeque::with_capacity(WINDOW);
    for p in &pubs {
        if acks.len() == WINDOW {
            assert!(!acks.pop_front().unwrap().await.unwrap().duplicate);
        }
        acks.push_back(carnet_market::relay::send(&js, p).await.unwrap());
    }
    for a in acks {
        assert!(!a.await.unwrap().duplicate);
    }
    let carnet_pub = t.elapsed();
    let dir = tempfile::tempdir().unwrap();
    let options = ListenOptions {
        vendor: "bench".parse().unwrap(),
        categories: vec!["home".into()],
        region: None,
        since: None,
        ack_wait: Duration::from_secs(30),
    };
    let t = Instant::now();
    let mut listener = Listener::start(&js, &options, State::open(dir.path()).unwrap(), |_| {})
        .await
        .unwrap();
    for _ in 0..n {
        match listener.next().await.unwrap().unwrap() {
            Heard::Intent(_) => {}
            Heard::Dropped { reason, .. } => panic!("dropped: {reason}"),
        }
    }
    let carnet_sub = t.elapsed();

    println!("relay bench, {n} messages, nats-server -js on loopback (file storage)");
    println!(
        "  bare async-nats publish (1 KiB)        {}",
        rate(n, bare_pub)
    );
    println!(
        "  bare async-nats consume + ack          {}",
        rate(n, bare_sub)
    );
    println!(
        "  announcements: keys + sign (~{size} B)   {}",
        rate(n, sign)
    );
    println!(
        "  announcements: publish                 {}",
        rate(n, carnet_pub)
    );
    println!(
        "  SDK: receive, verify, record, ack      {}",
        rate(n, carnet_sub)
    );
}
