//! The local vendor scorecard: its figures and score as the README documents them, on the
//! server's clock; `carnet vendor list --sort score`; the vendor page's Scorecard; and never in
//! a vendor's own answers.

use carnet_tests::vendor::VendorApp;
use carnet_tests::webapp::WebApp;
use carnet_tests::{Api, TestServer};
use chrono::Duration;
use serde_json::{Value, json};

use crate::{interaction, vendor};

fn now(s: &TestServer) -> String {
    s.clock_now().to_rfc3339()
}

fn purchase(s: &TestServer, vendor: &str, amount: &str) {
    s.create(
        "/v1/purchases",
        &json!({"vendor_id": vendor, "item": "Filter", "amount": amount, "currency": "EUR",
                "date": s.clock_now().date_naive()}),
    );
}

fn promise(s: &TestServer, vendor: &str, how: &str) {
    let id = s.create(
        "/v1/promises",
        &json!({"vendor_id": vendor, "what": "Call back", "due": s.clock_now().date_naive()}),
    );
    let r = s.post(&format!("/v1/promises/{id}/{how}"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
}

fn card(s: &TestServer, vendor: &str) -> Value {
    s.get(&format!("/v1/vendors/{vendor}")).json()["scorecard"].clone()
}

/// Zed: 2 of 3 promises kept, its one incident resolved in 2 days (satisfaction 8), sentiment
/// −1 then +2 some 200 days later, 100 + 50 EUR spent. Beta: one broken promise. Alpha:
/// nothing known.
fn ledger(s: &TestServer) -> (VendorApp, String, String) {
    let zed = VendorApp::connect(s, "Zed");
    let z = zed.vendor_id.clone();
    let beta = vendor(s, "Beta");
    let alpha = vendor(s, "Alpha");
    purchase(s, &z, "100.00");
    interaction(s, &z, json!({"at": now(s), "sentiment": -1}));
    let inc = s.create(
        "/v1/incidents",
        &json!({"vendor_id": z, "description": "Leaks"}),
    );
    for how in ["kept", "broken", "kept"] {
        promise(s, &z, how);
    }
    promise(s, &beta, "broken");
    s.clock.advance(Duration::days(2));
    let r = s.post(
        &format!("/v1/incidents/{inc}/resolve"),
        &json!({"resolution": "Replaced", "satisfaction": 8}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    s.clock.advance(Duration::days(200));
    interaction(s, &z, json!({"at": now(s), "sentiment": 2}));
    purchase(s, &z, "50.00");
    (zed, beta, alpha)
}

#[test]
fn the_scorecard_gives_each_figure_and_the_score_as_documented() {
    let s = TestServer::spawn_with_manual_clock();
    let (zed, beta, alpha) = ledger(&s);
    let c = card(&s, &zed.vendor_id);
    assert_eq!(c["promises_kept"], 2);
    assert_eq!(c["promises_settled"], 3);
    assert_eq!(
        (c["incidents_resolved"].clone(), c["incidents"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(c["median_days_to_resolution"], 2.0);
    assert_eq!(c["average_satisfaction"], 8.0);
    assert_eq!(c["average_sentiment"], 0.5);
    // The last 6 months: +2; the 6 before: −1.
    assert_eq!(c["sentiment_trend"], 3.0);
    assert_eq!(c["spend_last_12_months"], json!({"EUR": "150.00"}));
    assert_eq!(c["spend_total"], json!({"EUR": "150.00"}));
    assert_eq!(c["tenure_months"], 6);
    // mean(2/3, 1/1, 8/10, (0.5 + 2)/4) = 0.7729…
    assert_eq!(c["score"], 77);
    // The loyalty facts are unchanged beside it.
    assert_eq!(
        s.get(&format!("/v1/vendors/{}", zed.vendor_id)).json()["loyalty"]["incidents_resolved"],
        1
    );

    let b = card(&s, &beta);
    assert_eq!(b["score"], 0, "only a broken promise is known: {b}");
    assert_eq!(b["sentiment_trend"], Value::Null);
    let a = card(&s, &alpha);
    assert_eq!(a["score"], Value::Null, "nothing known: {a}");
    assert_eq!(a["tenure_months"], 6);

    // A year on, the old sentiment has left the window: not enough data for a trend.
    s.clock.advance(Duration::days(200));
    let later = card(&s, &zed.vendor_id);
    assert_eq!(later["sentiment_trend"], Value::Null);
    assert_eq!(later["average_sentiment"], 2.0);
    assert_eq!(later["spend_last_12_months"], json!({"EUR": "50.00"}));
}

#[test]
fn vendor_list_sorts_by_score_highest_first_unknown_last() {
    let s = TestServer::spawn_with_manual_clock();
    ledger(&s);
    let names = |args: &[&str]| -> Vec<String> {
        let out = s.carnet(args);
        assert_eq!(out.code, 0, "{}", out.stderr);
        out.stdout
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().nth(1).unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&["vendor", "list"]), ["Alpha", "Beta", "Zed"]);
    let out = s.carnet(&["vendor", "list", "--sort", "score"]);
    assert!(out.stdout.starts_with("ID"), "{}", out.stdout);
    assert!(out.stdout.lines().next().unwrap().contains("SCORE"));
    assert_eq!(
        names(&["vendor", "list", "--sort", "score"]),
        ["Zed", "Beta", "Alpha"]
    );
    let zed_line = out.stdout.lines().nth(1).unwrap().to_owned();
    assert_eq!(zed_line.split_whitespace().nth(2), Some("77"), "{zed_line}");

    let json = s.carnet(&["--json", "vendor", "list", "--sort", "score"]);
    let items: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(items[0]["name"], "Zed");
    assert_eq!(items[0]["scorecard"]["score"], 77);
    assert_eq!(items[2]["scorecard"]["score"], Value::Null);
    let plain: Value =
        serde_json::from_str(&s.carnet(&["--json", "vendor", "list"]).stdout).unwrap();
    assert!(
        plain[0].get("scorecard").is_none(),
        "default order unchanged: {plain}"
    );

    let shown = s.carnet(&["vendor", "show", "Zed"]);
    for text in [
        "score:",
        "77/100",
        "2 of 3 settled",
        "+3.00",
        "150.00 EUR",
        "6 months",
    ] {
        assert!(shown.stdout.contains(text), "{text}: {}", shown.stdout);
    }
}

#[test]
fn the_vendor_page_shows_the_scorecard_and_vendors_never_read_it() {
    let s = TestServer::spawn_with_manual_clock();
    let (zed, _, _) = ledger(&s);
    let mut app = WebApp::signed_in(&s);
    let page = app.get(&format!("/app/vendors/{}", zed.vendor_id));
    assert_eq!(page.status, 200, "{}", page.text);
    for text in [
        "Scorecard",
        "77/100",
        "2 of 3",
        "median time from opening to resolution",
    ] {
        assert!(page.text.contains(text), "{text}: {}", page.text);
    }

    zed.grant(&s, &["relationship:read", "promises:read"], None);
    let token = zed.token();
    for path in ["/v1/vendor/relationship", "/v1/vendor/promises"] {
        let r = zed.get(&token, path);
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        assert!(!r.text.contains("scorecard"), "{path}: {}", r.text);
        assert!(!r.text.contains("score"), "{path}: {}", r.text);
    }
}
