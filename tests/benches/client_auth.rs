//! The token endpoint takes as long to refuse a wrong secret as an unknown client, so timing
//! cannot tell an attacker which client ids exist. The server does the same work for both (one
//! SHA-256, one constant-time compare); this measures what a caller sees over loopback: the two
//! cases interleaved on one keep-alive connection, and the median of each.
//! Target: the medians' gap under a quarter of the slower one (or under 250 µs), which a slow
//! hash on one path alone would exceed. Status, body and headers are checked by the e2e test
//! `wrong_secret_and_unknown_client_answer_identically`; time is measured here, not asserted.
//!
//! Run: `cargo bench -p carnet-tests --bench client_auth`.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use carnet_tests::vendor::VendorApp;
use carnet_tests::{TestServer, http};

const REQUESTS: usize = 300;
const WARMUP: usize = 20;
const UNKNOWN: &str = "cli_0123456789abcdef";

fn main() {
    let server = TestServer::spawn();
    let v = VendorApp::connect(&server, "Bench vendor");
    v.grant(&server, &["relationship:read"], None);
    let client = http();
    let url = format!("{}/oauth/token", server.base);
    let time = |id: &str| {
        let t = Instant::now();
        let r = client
            .post(&url)
            .basic_auth(id, Some("not-the-secret"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .unwrap();
        assert_eq!(r.status(), 401, "{id}: {}", r.text().unwrap_or_default());
        t.elapsed()
    };
    for _ in 0..WARMUP {
        time(&v.client_id);
        time(UNKNOWN);
    }
    let (mut wrong, mut unknown) = (Vec::new(), Vec::new());
    for _ in 0..REQUESTS {
        wrong.push(time(&v.client_id));
        unknown.push(time(UNKNOWN));
    }
    let (mw, mu) = (median(&mut wrong), median(&mut unknown));
    let gap = mw.abs_diff(mu);
    let bound = (mw.max(mu) / 4).max(Duration::from_micros(250));
    println!(
        "POST /oauth/token refused (401 invalid_client), {REQUESTS} of each case interleaved \
         on one keep-alive connection, after {WARMUP} of each"
    );
    println!("  wrong secret:   median {:>8.1} µs", micros(mw));
    println!("  unknown client: median {:>8.1} µs", micros(mu));
    println!(
        "  ratio wrong/unknown {:.3}x, gap {:.1} µs  (target: gap < {:.1} µs: {})",
        mw.as_secs_f64() / mu.as_secs_f64(),
        micros(gap),
        micros(bound),
        if gap < bound { "met" } else { "MISSED" }
    );
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}
