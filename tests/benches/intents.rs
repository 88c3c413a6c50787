//! Vendor pull of intents against a baseline measured in the same run: a bare axum JSON route
//! the bench serves itself, loaded by the same generator with 64 keep-alive connections.
//! `GET /v1/vendor/intents` returning 10 active ~1 KiB intents with a valid token:
//! target >= 0.25x the baseline's req/s, p99 <= 5 ms, no non-2xx responses.
//!
//! Run: `cargo bench -p carnet-tests --bench intents`.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use carnet_tests::TestServer;
use carnet_tests::intents;
use carnet_tests::load::{self, RequestSpec};
use carnet_tests::vendor::VendorApp;

fn main() {
    let bare = load::bare_axum();
    let server = TestServer::spawn();
    for i in 0..10 {
        intents::add_active(&server, i);
    }
    let v = VendorApp::connect(&server, "Bench vendor");
    v.grant(&server, &["intents:read"], Some(&["home.appliances"]));
    let token = v.token();
    let body = v.get(&token, "/v1/vendor/intents").text;
    let addr: SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let (warmup, duration) = (Duration::from_millis(500), Duration::from_secs(3));
    println!(
        "GET /v1/vendor/intents, 10 active intents ({} bytes per answer), 64 connections, \
         3 rounds of {}s alternating with the baseline (a bare axum JSON route)",
        body.len(),
        duration.as_secs()
    );
    let baseline = RequestSpec::get("/");
    let pull = load::compare(
        (bare, &baseline),
        (
            addr,
            &RequestSpec::get("/v1/vendor/intents")
                .header("authorization", &format!("Bearer {token}")),
        ),
        3,
        64,
        warmup,
        duration,
    );
    // The same ten intents with `updated_since`, which bypasses the first-page cache: what an
    // incremental pull costs when the page has to be built.
    let built = load::compare(
        (bare, &baseline),
        (
            addr,
            &RequestSpec::get("/v1/vendor/intents?updated_since=2000-01-01T00:00:00Z")
                .header("authorization", &format!("Bearer {token}")),
        ),
        3,
        64,
        warmup,
        duration,
    );
    println!("{}", pull.line("GET /v1/vendor/intents"));
    println!("{}", built.line("… ?updated_since= (page built each time)"));
    println!(
        "  ratio {:.2}x (target >= 0.25x), p99 {:.2} ms (target <= 5 ms); page built each time: {:.2}x, p99 {:.2} ms",
        pull.ratio,
        pull.target.p99.as_secs_f64() * 1e3,
        built.ratio,
        built.target.p99.as_secs_f64() * 1e3
    );
}
