//! Webhook push and what the access log costs, each against a baseline measured in the same
//! run:
//! 1. one intent activation fanned out to 100 granted vendors (loopback receivers): the time
//!    from the owner's `activate` to the last delivery, against a bare client POSTing the same
//!    100 bodies (32 in flight, like carnetd) to the same receiver;
//! 2. outbox throughput: 20 activations to the same 100 vendors (2,000 events) drained,
//!    against the bare client sending 2,000 POSTs;
//! 3. vendor pull (`GET /v1/vendor/intents`, 10 intents) with the access log on and off, two
//!    servers loaded by the same generator, with a bare axum route as the baseline.
//!
//! Run: `cargo bench -p carnet-tests --bench webhooks`.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use carnet_server::Settings;
use carnet_tests::intents;
use carnet_tests::load::{self, RequestSpec};
use carnet_tests::vendor::VendorApp;
use carnet_tests::webhook::Receiver;
use carnet_tests::{Api, TestServer};
use serde_json::json;

const VENDORS: usize = 100;
const ROUNDS: usize = 20;
const IN_FLIGHT: usize = 32;

/// Creates and activates `n` intents at once; returns when the last `activate` answered, and
/// when the first was sent.
fn activate_many(s: &TestServer, from: usize, n: usize) -> Instant {
    let ids: Vec<String> = (from..from + n)
        .map(|i| s.create("/v1/intents", &intents::washing_machine(i)))
        .collect();
    let start = Instant::now();
    for id in ids {
        let r = s.post(&format!("/v1/intents/{id}/activate"), &json!({}));
        assert_eq!(r.status, 200, "{}", r.text);
    }
    start
}

/// The bare baseline: `n` POSTs of `body` to `url`, `IN_FLIGHT` at a time; the elapsed time.
fn bare_posts(url: &str, body: &str, n: usize) -> Duration {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let permits = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
        let start = Instant::now();
        let mut tasks = Vec::with_capacity(n);
        for i in 0..n {
            let (client, permits) = (client.clone(), permits.clone());
            let (url, body) = (url.to_owned(), body.to_owned());
            tasks.push(tokio::spawn(async move {
                let _p = permits.acquire().await.unwrap();
                let r = client
                    .post(url)
                    .header("content-type", "application/json")
                    .header("webhook-id", format!("msg_bare{i}"))
                    .body(body)
                    .send()
                    .await
                    .unwrap();
                assert!(r.status().is_success());
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        start.elapsed()
    })
}

fn pull_server(settings: Settings) -> (TestServer, String) {
    let s = TestServer::spawn_with_settings(settings);
    for i in 0..10 {
        let id = s.create("/v1/intents", &intents::washing_machine(i));
        s.post(&format!("/v1/intents/{id}/activate"), &json!({}));
    }
    let v = VendorApp::connect(&s, "Bench vendor");
    v.grant(&s, &["intents:read"], Some(&["home.appliances"]));
    let token = v.token();
    (s, token)
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // 1 and 2: fan-out.
    let server = TestServer::spawn();
    let receiver = Receiver::start();
    for i in 0..VENDORS {
        let v = VendorApp::connect_with_webhook(&server, &format!("Vendor {i}"), &receiver.url);
        v.grant(&server, &["intents:read"], Some(&["home.appliances"]));
    }
    let start = activate_many(&server, 0, 1);
    let got = receiver.wait_accepted(VENDORS);
    let fan_out = got.iter().map(|d| d.received).max().unwrap() - start;
    let body = got[0].body.clone();
    let bare_fan_out = bare_posts(&receiver.url, &body, VENDORS);

    let start = activate_many(&server, 1, ROUNDS);
    let total = VENDORS * (ROUNDS + 1);
    let got = receiver.wait_accepted(total);
    let drained = got.iter().map(|d| d.received).max().unwrap() - start;
    let carnet_rate = (VENDORS * ROUNDS) as f64 / drained.as_secs_f64();
    let bare_rate = (VENDORS * ROUNDS) as f64
        / bare_posts(&receiver.url, &body, VENDORS * ROUNDS).as_secs_f64();
    let duplicates = got.len() - {
        let mut ids: Vec<&str> = got.iter().map(|d| d.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    };
    println!(
        "webhooks: one activation to {VENDORS} vendors ({} bytes per event), {IN_FLIGHT} in flight",
        body.len()
    );
    println!(
        "  time to the last delivery        {:>8.1} ms   bare client, same {VENDORS} POSTs {:>7.1} ms   = {:.2}x the baseline's time",
        fan_out.as_secs_f64() * 1e3,
        bare_fan_out.as_secs_f64() * 1e3,
        fan_out.as_secs_f64() / bare_fan_out.as_secs_f64()
    );
    println!(
        "  outbox throughput ({} events)  {:>8.0} /s   bare client {:>8.0} /s   = {:.2}x baseline (duplicates: {duplicates})",
        VENDORS * ROUNDS,
        carnet_rate,
        bare_rate,
        carnet_rate / bare_rate
    );
    drop(server);

    // 3: vendor pull with the access log on and off.
    let bare = load::bare_axum();
    let (logged, t_logged) = pull_server(Settings::default());
    let (unlogged, t_unlogged) = pull_server(Settings {
        log_vendor_access: false,
        ..Settings::default()
    });
    let (warmup, duration) = (Duration::from_secs(1), Duration::from_secs(5));
    let addr =
        |s: &TestServer| -> SocketAddr { s.base.trim_start_matches("http://").parse().unwrap() };
    let spec = |t: &str| {
        RequestSpec::get("/v1/vendor/intents").header("authorization", &format!("Bearer {t}"))
    };
    let baseline = load::run(bare, 64, warmup, duration, RequestSpec::get("/"));
    let on = load::run(addr(&logged), 64, warmup, duration, spec(&t_logged));
    let off = load::run(addr(&unlogged), 64, warmup, duration, spec(&t_unlogged));
    let entries = logged.check_access_log()["entries"].as_u64().unwrap();
    println!(
        "vendor pull, GET /v1/vendor/intents (10 intents), 64 connections, {}s",
        duration.as_secs()
    );
    println!("{}", baseline.line("bare axum JSON route (baseline)", None));
    println!("{}", on.line("access log on", Some(&baseline)));
    println!("{}", off.line("access log off", Some(&baseline)));
    println!(
        "  logging on / off: {:.2}x the throughput, p99 {:.2} ms vs {:.2} ms ({entries} entries logged and chained)",
        on.per_second() / off.per_second(),
        on.p99.as_secs_f64() * 1e3,
        off.p99.as_secs_f64() * 1e3
    );
}
