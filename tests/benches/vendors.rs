//! Vendors at scale, against a bare axum JSON route measured in the same run (alternating
//! rounds, as in `oauth`):
//! - `client_credentials` issuance with 1, 100 and 1,000 connected vendors, the load rotating
//!   over every vendor's client (64 connections);
//! - a vendor's pulls with 1,000 active intents in its categories: the cached first page, a
//!   deep page, a page built for `updated_since`, and `limit=1000` (4 connections: a page of
//!   200 intents is ~250 KB, and the targets are per request, not per queue).
//!
//! `CARNET_BENCH_PART=issuance` or `pulls` runs one part; `CARNET_BENCH_VENDORS=1,1000` picks
//! the fleet sizes.
//!
//! Run: `cargo build --release --bins && cargo bench -p carnet-tests --bench vendors`.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use carnet_tests::TestServer;
use carnet_tests::intents;
use carnet_tests::load::{self, RequestSpec};
use carnet_tests::vendor::{VendorApp, connect_many};

const ROUNDS: usize = 3;
const WARMUP: Duration = Duration::from_millis(500);
const DURATION: Duration = Duration::from_secs(3);

fn main() {
    let part = std::env::var("CARNET_BENCH_PART").unwrap_or_default();
    let bare = load::bare_axum();
    if part.is_empty() || part == "issuance" {
        issuance(bare);
    }
    if part.is_empty() || part == "pulls" {
        pulls(bare);
    }
}

fn addr(server: &TestServer) -> SocketAddr {
    server.base.trim_start_matches("http://").parse().unwrap()
}

fn issuance(bare: SocketAddr) {
    let sizes: Vec<usize> = std::env::var("CARNET_BENCH_VENDORS")
        .unwrap_or_else(|_| "1,100,1000".into())
        .split(',')
        .map(|n| n.trim().parse().expect("CARNET_BENCH_VENDORS: numbers"))
        .collect();
    println!(
        "POST /oauth/token client_credentials, 64 connections rotating over every vendor's \
         client, {ROUNDS} rounds of {}s alternating with the baseline",
        DURATION.as_secs()
    );
    for n in sizes {
        let server = TestServer::spawn_with_settings(carnet_server::state::Settings {
            max_live_tokens: usize::MAX,
            ..Default::default()
        });
        let vendors = connect_many(&server, n, &["profile:read"], None);
        let specs: Vec<RequestSpec> = vendors
            .iter()
            .map(|v| {
                RequestSpec::post_form("/oauth/token", "grant_type=client_credentials")
                    .header("authorization", &v.basic())
            })
            .collect();
        let measured = load::compare_rotating(
            (bare, &RequestSpec::get("/")),
            (addr(&server), &specs),
            ROUNDS,
            64,
            WARMUP,
            DURATION,
        );
        println!("{}", measured.line(&format!("{n} vendors")));
    }
}

fn pulls(bare: SocketAddr) {
    let server = TestServer::spawn();
    std::thread::scope(|scope| {
        for t in 0..8 {
            let server = &server;
            scope.spawn(move || {
                for i in (t..1000).step_by(8) {
                    intents::add_active(server, i);
                }
            });
        }
    });
    let v = VendorApp::connect(&server, "Bench vendor");
    v.grant(&server, &["intents:read"], Some(&["home.appliances"]));
    let token = v.token();
    let bearer = format!("Bearer {token}");
    let first = v.get(&token, "/v1/vendor/intents?limit=200").json();
    let mut cursor = first["next_cursor"].as_str().unwrap().to_owned();
    for _ in 0..2 {
        let next = v.get(
            &token,
            &format!("/v1/vendor/intents?limit=200&cursor={cursor}"),
        );
        cursor = next.json()["next_cursor"].as_str().unwrap().to_owned();
    }
    println!(
        "GET /v1/vendor/intents with 1,000 active intents in the vendor's categories, \
         4 connections, {ROUNDS} rounds of {}s alternating with the baseline",
        DURATION.as_secs()
    );
    let pages = [
        (
            "first page (cached)".to_owned(),
            "/v1/vendor/intents".to_owned(),
        ),
        (
            "limit=200, first".to_owned(),
            "/v1/vendor/intents?limit=200".to_owned(),
        ),
        (
            "limit=200, fourth page (cursor)".to_owned(),
            format!("/v1/vendor/intents?limit=200&cursor={cursor}"),
        ),
        (
            "limit=200, updated_since (built)".to_owned(),
            "/v1/vendor/intents?limit=200&updated_since=2000-01-01T00:00:00Z".to_owned(),
        ),
        (
            "limit=1000".to_owned(),
            "/v1/vendor/intents?limit=1000".to_owned(),
        ),
    ];
    for (name, path) in pages {
        let measured = load::compare(
            (bare, &RequestSpec::get("/")),
            (
                addr(&server),
                &RequestSpec::get(&path).header("authorization", &bearer),
            ),
            ROUNDS,
            4,
            WARMUP,
            DURATION,
        );
        println!("{}", measured.line(&name));
    }
}
