//! OAuth throughput against a baseline measured in the same run: a bare axum JSON route the
//! bench serves itself, loaded by the same generator (64 keep-alive connections), in alternating
//! rounds; the ratio is the median of the rounds'.
//! - introspection of a valid token (target >= 0.5x the baseline's req/s)
//! - client_credentials token issuance (target >= 0.15x)
//!
//! Run: `cargo build --release --bins && cargo bench -p carnet-tests --bench oauth`.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use carnet_tests::TestServer;
use carnet_tests::load::{self, RequestSpec};
use carnet_tests::vendor::VendorApp;
use data_encoding::BASE64;

const CONNECTIONS: usize = 64;
const ROUNDS: usize = 3;
const WARMUP: Duration = Duration::from_millis(500);
const DURATION: Duration = Duration::from_secs(3);

fn main() {
    let bare = load::bare_axum();
    // Issuance is measured as a rate, well past the default cap on live tokens per client.
    let server = TestServer::spawn_with_settings(carnet_server::state::Settings {
        max_live_tokens: usize::MAX,
        ..Default::default()
    });
    let v = VendorApp::connect(&server, "Bench vendor");
    v.grant(&server, &["relationship:read", "profile:read"], None);
    let token = v.token();
    let addr: SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let basic = format!(
        "Basic {}",
        BASE64.encode(format!("{}:{}", v.client_id, v.secret).as_bytes())
    );

    println!(
        "OAuth endpoints, {CONNECTIONS} connections, {ROUNDS} rounds of {}s (after {} ms warm-up) \
         alternating with the baseline (a bare axum JSON route)",
        DURATION.as_secs(),
        WARMUP.as_millis()
    );
    let baseline = RequestSpec::get("/");
    let endpoints = [
        (
            "GET /healthz (carnetd's own floor: layers, no work)",
            RequestSpec::get("/healthz"),
        ),
        (
            "POST /oauth/introspect (target >= 0.5x)",
            RequestSpec::post_form("/oauth/introspect", &format!("token={token}"))
                .header("authorization", &basic),
        ),
        (
            "POST /oauth/token client_credentials (>= 0.15x)",
            RequestSpec::post_form("/oauth/token", "grant_type=client_credentials")
                .header("authorization", &basic),
        ),
        (
            "GET /v1/vendor/profile (logged)",
            RequestSpec::get("/v1/vendor/profile")
                .header("authorization", &format!("Bearer {token}")),
        ),
    ];
    for (name, spec) in &endpoints {
        let measured = load::compare(
            (bare, &baseline),
            (addr, spec),
            ROUNDS,
            CONNECTIONS,
            WARMUP,
            DURATION,
        );
        println!("{}", measured.line(name));
    }
}
