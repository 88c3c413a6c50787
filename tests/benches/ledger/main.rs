//! The ledger at scale (issue 15), every figure beside a baseline measured in the same run:
//! - `listings`: vaults of 10k, 100k and 1M interactions over 100 vendors (with purchases and
//!   incidents), built through the import path; owner listings (first and deep page of a
//!   vendor, by channel, by time, unfiltered) beside opening the same 50 records one by one;
//!   carnetd's memory, and the index's gauges from `/metrics`;
//! - `search`: `GET /v1/search` beside a linear scan of every opened record;
//! - `app`: every page of the web app (`/app/…`, with a signed-in session) on the same vaults,
//!   beside the owner API's first page of a vendor's interactions;
//! - `vendor`: a vendor's intent pulls at 10, 100 and 1,000 active intents;
//! - `issuance`: `client_credentials` issuance and introspection at 1, 100 and 1,000 vendors;
//! - `accesslog`: the access log at 200k and 2M entries: bytes per entry, start-up, memory and
//!   verification.
//!
//! Run: `cargo bench -p carnet-tests --bench ledger`; `CARNET_BENCH_SIZES=10k,100k` (vault
//! sizes of `listings`, `search` and `app`), `CARNET_BENCH_LOG_SIZES=200k` (access-log sizes) and
//! `CARNET_BENCH_PARTS=listings,search` choose what runs. Archives are cached under
//! `target/bench-ledger/` (delete it to make them again).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark that cannot unwrap has failed

mod accesslog;
mod app;
mod archive;
mod issuance;
mod listings;
mod search;
mod vendor;

use std::time::Duration;

use carnet_tests::Api;
use carnet_tests::load::{Compared, LoadResult};

const PARTS: [&str; 6] = [
    "listings",
    "search",
    "app",
    "vendor",
    "issuance",
    "accesslog",
];

fn main() {
    let parts = env_list("CARNET_BENCH_PARTS", &PARTS.join(","));
    for p in &parts {
        assert!(
            PARTS.contains(&p.as_str()),
            "CARNET_BENCH_PARTS: unknown part {p:?} (parts: {PARTS:?})"
        );
    }
    let sizes: Vec<usize> = env_list("CARNET_BENCH_SIZES", "10k,100k,1M")
        .iter()
        .map(|s| parse_size(s))
        .collect();
    let log_sizes: Vec<usize> = env_list("CARNET_BENCH_LOG_SIZES", "200k,2M")
        .iter()
        .map(|s| parse_size(s))
        .collect();
    // Installs the TLS provider reqwest wants before the bench builds its own clients.
    let _ = carnet_tests::http();
    let wanted = |p: &str| parts.iter().any(|x| x == p);
    let started = std::time::Instant::now();
    println!(
        "# cargo bench --bench ledger: parts {parts:?}, vault sizes {sizes:?}, access-log sizes {log_sizes:?}\n"
    );
    if wanted("listings") || wanted("search") || wanted("app") {
        listings::run(&sizes, wanted("listings"), wanted("search"), wanted("app"));
    }
    if wanted("vendor") {
        vendor::run();
    }
    if wanted("issuance") {
        issuance::run();
    }
    if wanted("accesslog") {
        accesslog::run(&log_sizes);
    }
    println!(
        "whole run: {:.0} s",
        started.elapsed().as_secs_f64().round()
    );
}

/// A comma-separated list from the environment, or `default`.
fn env_list(name: &str, default: &str) -> Vec<String> {
    std::env::var(name)
        .unwrap_or_else(|_| default.to_owned())
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// `10k` → 10,000; `2M` → 2,000,000; `500` → 500.
fn parse_size(s: &str) -> usize {
    let (num, mul) = match s.chars().last() {
        Some('k' | 'K') => (&s[..s.len() - 1], 1_000),
        Some('m' | 'M') => (&s[..s.len() - 1], 1_000_000),
        _ => (s, 1),
    };
    let n: f64 = num
        .parse()
        .unwrap_or_else(|_| panic!("not a size: {s:?} (try 10k, 100k, 1M)"));
    (n * mul as f64) as usize
}

/// `10k`, `1M`: how a size is printed.
fn size_name(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n % 1_000_000 == 0 => format!("{}M", n / 1_000_000),
        n if n >= 1_000 && n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `p50 / p99 ms` of a run, or `n/a` when the route refused every request (not there yet).
fn p50_p99(r: &LoadResult) -> String {
    if r.requests == 0 || r.non_2xx == r.requests {
        return "n/a".into();
    }
    let bad = if r.non_2xx > 0 {
        format!(" ({} non-2xx)", r.non_2xx)
    } else {
        String::new()
    };
    format!("{:.1} / {:.1}{bad}", ms(r.p50), ms(r.p99))
}

/// VmRSS and VmHWM of a process, in MiB.
fn rss_mib(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// A gauge's value from `/metrics` (no labels), or `None` when carnetd does not export it.
fn gauge(server: &impl Api, name: &str) -> Option<f64> {
    let text = carnet_tests::http()
        .get(server.url("/metrics"))
        .send()
        .ok()?
        .text()
        .ok()?;
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (key, value) = l.split_once(' ')?;
        (key == name || key.starts_with(&format!("{name}{{")))
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}

/// Prints a markdown table.
fn table(head: &[String], rows: &[Vec<String>]) {
    println!("| {} |", head.join(" | "));
    println!("|{}", "---|".repeat(head.len()));
    for r in rows {
        println!("| {} |", r.join(" | "));
    }
    println!();
}

/// The table of a part measured against the bare route: a row per endpoint of `names`, a
/// column per level (`results[level][endpoint]`), and the bare route's row (`connections`).
fn compared_table(
    head: Vec<String>,
    names: &[&str],
    results: &[&[Compared]],
    cell: fn(&Compared) -> String,
    connections: usize,
) {
    let mut rows: Vec<Vec<String>> = names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut row = vec![(*name).to_owned()];
            row.extend(results.iter().map(|level| cell(&level[i])));
            row
        })
        .collect();
    let mut row = vec![format!(
        "**baseline**: bare axum JSON route, same generator ({connections} connections)"
    )];
    row.extend(results.iter().map(|level| {
        let b = &level[0].baseline;
        format!("{:.0}/s; {}", b.per_second(), p50_p99(b))
    }));
    rows.push(row);
    table(&head, &rows);
}

/// "×9.8 for ×10 records": how a p50 grew from the first size to the last (`n/a` when either
/// route refused every request).
fn growth(first: &LoadResult, last: &LoadResult, sizes: (usize, usize)) -> String {
    let refused = |r: &LoadResult| r.requests == 0 || r.non_2xx == r.requests;
    if refused(first) || refused(last) || first.p50.is_zero() || sizes.0 == 0 {
        return "n/a".into();
    }
    format!(
        "×{:.1} for ×{} records",
        last.p50.as_secs_f64() / first.p50.as_secs_f64(),
        sizes.1 / sizes.0
    )
}
