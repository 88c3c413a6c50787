//! OAuth throughput against a baseline measured in the same run: a bare axum JSON route the
//! bench serves itself, loaded by the same generator (64 keep-alive connections).
//! - introspection of a valid token (target >= 0.5x the baseline's req/s)
//! - client_credentials token issuance (target >= 0.15x)
//!
//! Run: `cargo build --release --bins && cargo bench -p carnet-tests --bench oauth`.
#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use carnet_tests::TestServer;
use carnet_tests::load::{self, LoadResult, RequestSpec};
use carnet_tests::vendor::VendorApp;
use data_encoding::BASE64;

const CONNECTIONS: usize = 64;
const WARMUP: Duration = Duration::from_secs(1);
const DURATION: Duration = Duration::from_secs(5);

fn report(name: &str, r: &LoadResult, baseline: Option<&LoadResult>) {
    println!("{}", r.line(name, baseline));
}

fn main() {
    let bare = load::bare_axum();
    let server = TestServer::spawn();
    let v = VendorApp::connect(&server, "Bench vendor");
    v.grant(&server, &["relationship:read", "profile:read"], None);
    let token = v.token();
    let addr: SocketAddr = server.base.trim_start_matches("http://").parse().unwrap();
    let basic = format!(
        "Basic {}",
        BASE64.encode(format!("{}:{}", v.client_id, v.secret).as_bytes())
    );

    println!(
        "OAuth endpoints, {CONNECTIONS} connections, {}s each after {}s warm-up",
        DURATION.as_secs(),
        WARMUP.as_secs()
    );
    let baseline = load::run(bare, CONNECTIONS, WARMUP, DURATION, RequestSpec::get("/"));
    report("bare axum JSON route (baseline)", &baseline, None);
    let introspect = load::run(
        addr,
        CONNECTIONS,
        WARMUP,
        DURATION,
        RequestSpec::post_form("/oauth/introspect", &format!("token={token}"))
            .header("authorization", &basic),
    );
    report(
        "POST /oauth/introspect (target >= 0.5x)",
        &introspect,
        Some(&baseline),
    );
    let issue = load::run(
        addr,
        CONNECTIONS,
        WARMUP,
        DURATION,
        RequestSpec::post_form("/oauth/token", "grant_type=client_credentials")
            .header("authorization", &basic),
    );
    report(
        "POST /oauth/token client_credentials (>= 0.15x)",
        &issue,
        Some(&baseline),
    );
    let pull = load::run(
        addr,
        CONNECTIONS,
        WARMUP,
        DURATION,
        RequestSpec::get("/v1/vendor/profile").header("authorization", &format!("Bearer {token}")),
    );
    report("GET /v1/vendor/profile (logged)", &pull, Some(&baseline));
}
