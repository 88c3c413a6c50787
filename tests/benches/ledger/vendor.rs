//! A vendor's intent pulls at 10, 100 and 1,000 active ~1 KiB intents in its categories (one
//! in-process carnetd, the intents added between levels), each loaded like `--bench intents`
//! (64 keep-alive connections, rounds alternating with the bare axum route the bench serves
//! itself; the ratio is the median of the rounds'):
//! - the usual poll, `GET /v1/vendor/intents` (the page cached for the vendor's view);
//! - the last page of `limit=200` (reached by walking `next_cursor`; the first page at 200 or
//!   fewer intents);
//! - `?updated_since=…&limit=200`, a page built for each request.

use std::net::SocketAddr;
use std::time::Duration;

use carnet_tests::TestServer;
use carnet_tests::intents;
use carnet_tests::load::{self, Compared, RequestSpec};
use carnet_tests::vendor::VendorApp;

use crate::p50_p99;

const LEVELS: [usize; 3] = [10, 100, 1000];
const CONNECTIONS: usize = 64;
const ROUNDS: usize = 2;
const WARMUP: Duration = Duration::from_millis(300);
const DURATION: Duration = Duration::from_secs(2);

fn add_intents(s: &TestServer, from: usize, to: usize) {
    for i in from..to {
        intents::add_active(s, i);
    }
}

/// The query of the last page of `limit=200`.
fn last_page(v: &VendorApp, token: &str) -> String {
    let mut path = "/v1/vendor/intents?limit=200".to_owned();
    loop {
        let r = v.get(token, &path);
        assert_eq!(r.status, 200, "{}", r.text);
        match r.json()["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/vendor/intents?limit=200&cursor={c}"),
            None => return path,
        }
    }
}

pub fn run() {
    let bare = load::bare_axum();
    let server = TestServer::spawn();
    let v = VendorApp::connect(&server, "Vendeur électroménager");
    v.grant(&server, &["intents:read"], Some(&["home.appliances"]));
    let addr: SocketAddr = crate::listings::addr(&server);
    let baseline = RequestSpec::get("/");
    let mut results: Vec<Vec<Compared>> = Vec::new();
    let mut made = 0;
    for level in LEVELS {
        eprintln!("vendor pulls at {level} active intents");
        add_intents(&server, made, level);
        made = level;
        // A fresh token per level: the run before may have used it for minutes.
        let token = v.token();
        let bearer = format!("Bearer {token}");
        let paths = [
            "/v1/vendor/intents".to_owned(),
            last_page(&v, &token),
            "/v1/vendor/intents?updated_since=2000-01-01T00:00:00Z&limit=200".to_owned(),
        ];
        results.push(
            paths
                .iter()
                .map(|p| {
                    load::compare(
                        (bare, &baseline),
                        (addr, &RequestSpec::get(p).header("authorization", &bearer)),
                        ROUNDS,
                        CONNECTIONS,
                        WARMUP,
                        DURATION,
                    )
                })
                .collect(),
        );
    }
    let names = [
        "first page, cached: `GET /v1/vendor/intents`",
        "last page of `limit=200` (cursor)",
        "`?updated_since=…&limit=200` (built each time)",
    ];
    let mut head = vec!["vendor pull: p50 / p99 ms; req/s; ratio to the bare route".to_owned()];
    head.extend(LEVELS.iter().map(|l| format!("{l} active intents")));
    let levels: Vec<&[Compared]> = results.iter().map(Vec::as_slice).collect();
    let cell: fn(&Compared) -> String = |c| {
        format!(
            "{}; {:.0}/s; {:.3}×",
            p50_p99(&c.target),
            c.target.per_second(),
            c.ratio
        )
    };
    crate::compared_table(head, &names, &levels, cell, CONNECTIONS);
    let grow: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let (a, b) = (&results[0][i].target, &results[LEVELS.len() - 1][i].target);
            format!(
                "{} p99 ×{:.1}",
                n.split(':').next().unwrap_or(n),
                b.p99.as_secs_f64() / a.p99.as_secs_f64().max(1e-9)
            )
        })
        .collect();
    println!(
        "How p99 grows from 10 to 1,000 active intents: {}.\n",
        grow.join("; ")
    );
}
