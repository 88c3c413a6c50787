//! The web app's pages on the listings part's vaults: the web password set and signed in once
//! (a real session cookie, as a browser sends it), then every page loaded like the listings
//! (`CONNECTIONS` keep-alive connections, the same warm-up and span), beside a baseline in the
//! same run: the owner API's first page of a vendor's interactions,
//! `GET /v1/interactions?vendor=V&limit=50` (what a vendor's page and Today read at least).
//! A page that does not answer 200 is a failure of the run (printed in its row, then the bench
//! fails), never left out.

use carnet_tests::load::{LoadResult, RequestSpec};
use carnet_tests::webapp::{PASSWORD, WebApp};
use carnet_tests::{Api, Carnetd};
use serde_json::json;

use crate::listings::{CONNECTIONS, MIN_REQUESTS, load_owner, load_spec};
use crate::{p50_p99, size_name, table};

/// The search part's common word (in many summaries of the bench vaults).
const COMMON_WORD: &str = "livraison";

/// What one vault measured: per page, its load or why it could not be loaded.
pub struct Shown {
    rows: Vec<(String, Result<LoadResult, String>)>,
    baseline: LoadResult,
}

pub fn measure(server: &Carnetd) -> Shown {
    let set = server.put("/v1/password", &json!({ "password": PASSWORD }));
    assert_eq!(set.status, 204, "the web password: {}", set.text);
    let app = WebApp::signed_in(server);
    let cookie = app.cookie_header();
    let vendors = server.get("/v1/vendors?limit=1");
    assert_eq!(vendors.status, 200, "{}", vendors.text);
    let vendor = vendors.json()["items"][0]["id"]
        .as_str()
        .expect("a vendor")
        .to_owned();
    // The vaults hold no intent: one, active, for the intent's page.
    let intent = server.create("/v1/intents", &carnet_tests::intents::washing_machine(0));
    carnet_tests::intents::activate(server, &intent);
    // Each page's row says its path with `{id}` for the vault's own ids.
    let pages = [
        ("Today", "/app/"),
        ("Vendors", "/app/vendors"),
        ("a vendor", "/app/vendors/{vendor}"),
        ("Add interaction", "/app/interactions/new"),
        ("Intents", "/app/intents"),
        ("an intent", "/app/intents/{intent}"),
        ("Access", "/app/access"),
        ("Search, a common word", "/app/search?q={word}"),
        ("Settings", "/app/settings"),
    ];
    let client = carnet_tests::http();
    let rows = pages
        .into_iter()
        .map(|(name, shown)| {
            let name = format!("{name}: `GET {shown}`");
            let path = shown
                .replace("{vendor}", &vendor)
                .replace("{intent}", &intent)
                .replace("{word}", COMMON_WORD);
            let first = client
                .get(server.url(&path))
                .header("cookie", &cookie)
                .send()
                .map(|r| r.status().as_u16());
            let measured = match first {
                Ok(200) => {
                    let spec = RequestSpec::get(&path).header("cookie", &cookie);
                    let r = load_spec(server, spec, CONNECTIONS, MIN_REQUESTS);
                    if r.non_2xx > 0 {
                        Err(format!("{} of {} not 200", r.non_2xx, r.requests))
                    } else {
                        Ok(r)
                    }
                }
                Ok(status) => Err(format!("answered {status}, not 200")),
                Err(e) => Err(format!("no answer: {e}")),
            };
            eprintln!(
                "  {name}: {}",
                measured.as_ref().map_or_else(Clone::clone, p50_p99)
            );
            (name, measured)
        })
        .collect();
    let baseline = load_owner(
        server,
        &format!("/v1/interactions?vendor={vendor}&limit=50"),
        CONNECTIONS,
        MIN_REQUESTS,
    );
    Shown { rows, baseline }
}

/// A page's cell: p50 / p99 and its p50 over the baseline's, or why it failed.
fn cell(r: &Result<LoadResult, String>, baseline: &LoadResult) -> String {
    match r {
        Ok(r) if !baseline.p50.is_zero() => format!(
            "{} (×{:.1})",
            p50_p99(r),
            r.p50.as_secs_f64() / baseline.p50.as_secs_f64()
        ),
        Ok(r) => p50_p99(r),
        Err(e) => format!("**FAILED**: {e}"),
    }
}

pub fn print(all: &[(usize, Shown)]) {
    let mut head = vec![format!(
        "web-app page ({CONNECTIONS} connections), p50 / p99 ms (p50 × the baseline's)"
    )];
    head.extend(
        all.iter()
            .map(|(n, _)| format!("{} interactions", size_name(*n))),
    );
    let mut rows: Vec<Vec<String>> = Vec::new();
    if let Some((_, first)) = all.first() {
        for (i, (name, _)) in first.rows.iter().enumerate() {
            let mut row = vec![name.clone()];
            row.extend(all.iter().map(|(_, m)| cell(&m.rows[i].1, &m.baseline)));
            rows.push(row);
        }
    }
    let mut row = vec![format!(
        "**baseline**: the owner API's `GET /v1/interactions?vendor=V&limit=50` ({CONNECTIONS} connections)"
    )];
    row.extend(all.iter().map(|(_, m)| p50_p99(&m.baseline)));
    rows.push(row);
    table(&head, &rows);
    let failed: Vec<String> = all
        .iter()
        .flat_map(|(n, m)| {
            m.rows.iter().filter_map(move |(name, r)| {
                r.as_ref()
                    .err()
                    .map(|e| format!("{} interactions, {name}: {e}", size_name(*n)))
            })
        })
        .collect();
    assert!(
        failed.is_empty(),
        "web-app pages that did not answer 200:\n{}",
        failed.join("\n")
    );
}
