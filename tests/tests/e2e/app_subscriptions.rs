//! The web app's subscriptions: the Subscriptions page (next payment, notice deadline, the
//! projected totals per currency), the vendor page's section with "Add subscription" (a wrong
//! form comes back with what was typed), Cancel, "Ask the market" (a draft intent, then its
//! page), and Today's renewals; each checked through the owner API.

use carnet_tests::browser::input_value;
use carnet_tests::webapp::WebApp;
use carnet_tests::{Api, TestServer};
use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};

fn at(day: &str) -> TestServer {
    let s = TestServer::spawn_with_manual_clock();
    let d: NaiveDate = day.parse().unwrap();
    s.clock
        .set(Utc.from_utc_datetime(&d.and_hms_opt(10, 0, 0).unwrap()));
    s
}

fn subs(s: &TestServer) -> Vec<Value> {
    s.get("/v1/subscriptions").json()["items"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn a_subscription_added_on_the_vendor_page_shows_its_dates_and_the_projection() {
    let s = at("2026-01-10");
    let acme = s.create("/v1/vendors", &json!({"name": "Acme Telecom"}));
    let mut app = WebApp::signed_in(&s);
    let page = app.get(&format!("/app/vendors/{acme}"));
    let form = format!("/app/vendors/{acme}/subscriptions/new");
    assert!(page.text.contains(&form), "{}", page.text);
    assert!(
        page.text
            .contains("No subscription or contract with this vendor.")
    );

    // A wrong amount for its currency comes back with what was typed; nothing is recorded.
    let fields = |amount: &'static str| {
        vec![
            ("item", "Fibre 1 Gb/s"),
            ("amount", amount),
            ("currency", "eur"),
            ("every", "month"),
            ("next", "2026-01-31"),
            ("notice_days", "30"),
            ("ends", "2026-06-30"),
            ("category", "telecom.internet"),
            ("note", ""),
        ]
    };
    let bad = app.submit(&form, &form, &fields("29.999"));
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains("decimals"), "{}", bad.text);
    assert_eq!(input_value(&bad.text, "amount").as_deref(), Some("29.999"));
    assert_eq!(
        input_value(&bad.text, "item").as_deref(),
        Some("Fibre 1 Gb/s")
    );
    assert!(subs(&s).is_empty());
    let bad = app.submit(
        &form,
        &form,
        &[
            ("item", "x"),
            ("amount", "1"),
            ("currency", "EUR"),
            ("every", "month"),
            ("next", "soon"),
        ],
    );
    assert_eq!(bad.status, 422, "{}", bad.text);
    assert!(bad.text.contains("is not a day"), "{}", bad.text);

    let r = app.submit(&form, &form, &fields("29.99"));
    assert_eq!(r.status, 303, "{}", r.text);
    let back = format!("/app/vendors/{acme}#subscriptions");
    assert_eq!(r.header("location"), Some(back.as_str()));
    let all = subs(&s);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["currency"], "EUR");
    assert_eq!(all[0]["notice_deadline"], "2026-05-31");

    let page = app.get(&format!("/app/vendors/{acme}")).text;
    assert!(
        page.contains("Fibre 1 Gb/s") && page.contains("next payment 2026-01-31"),
        "{page}"
    );
    assert!(
        page.contains("notice deadline <strong>2026-05-31"),
        "{page}"
    );

    s.create(
        "/v1/subscriptions",
        &json!({"vendor_id": acme, "item": "Cloud", "amount": "2", "currency": "USD",
                "every": "year", "next": "2026-04-01"}),
    );
    let list = app.get("/app/subscriptions");
    assert_eq!(list.status, 200, "{}", list.text);
    assert!(
        list.text.contains("Acme Telecom") && list.text.contains("Cloud"),
        "{}",
        list.text
    );
    // 12 × 29.99 EUR and 2 USD, apart.
    assert!(list.text.contains("359.88 EUR"), "{}", list.text);
    assert!(list.text.contains("2 USD"), "{}", list.text);
    assert!(list.text.contains("2026-04"), "{}", list.text);
    // Reached from the Vendors list and from Today.
    assert!(
        app.get("/app/vendors")
            .text
            .contains("href=\"/app/subscriptions\"")
    );
    assert!(
        app.get("/app/")
            .text
            .contains("href=\"/app/subscriptions\"")
    );

    // Ask the market is offered while the notice deadline has not passed.
    let fibre = all[0]["id"].as_str().unwrap();
    let shop = format!("/app/subscriptions/{fibre}/shop");
    assert!(list.text.contains(&shop), "{}", list.text);
    let d: NaiveDate = "2026-06-01".parse().unwrap();
    s.clock
        .set(Utc.from_utc_datetime(&d.and_hms_opt(10, 0, 0).unwrap()));
    let mut app = WebApp::signed_in(&s);
    let later = app.get("/app/subscriptions").text;
    assert!(
        later.contains("notice deadline <strong>2026-05-31"),
        "{later}"
    );
    assert!(!later.contains(&shop), "the deadline passed: {later}");
}

#[test]
fn cancel_and_ask_the_market_from_the_pages_and_renewals_on_today() {
    let s = at("2026-05-10");
    let acme = s.create("/v1/vendors", &json!({"name": "Acme Telecom"}));
    let fibre = s.create(
        "/v1/subscriptions",
        &json!({"vendor_id": acme, "item": "Fibre 1 Gb/s", "amount": "29.99", "currency": "EUR",
                "every": "month", "next": "2026-01-31", "notice_days": 30, "ends": "2026-06-30",
                "category": "telecom.internet"}),
    );
    let gym = s.create(
        "/v1/subscriptions",
        &json!({"vendor_id": acme, "item": "Gym", "amount": "40", "currency": "EUR",
                "every": "year", "next": "2026-12-01", "notice_days": 30}),
    );
    let mut app = WebApp::signed_in(&s);

    // Today: the fibre's deadline (31 May) is within 30 days, the gym's (1 November) is not.
    let today = app.get("/app/").text;
    assert!(
        today.contains("Renewals: notice deadline within 30 days"),
        "{today}"
    );
    assert!(today.contains("give notice by 2026-05-31"), "{today}");
    assert!(!today.contains("Gym"), "{today}");

    // Ask the market: a draft intent, and its page.
    let list = app.get("/app/subscriptions").text;
    let shop = format!("/app/subscriptions/{fibre}/shop");
    assert!(list.contains(&shop), "{list}");
    assert!(
        !list.contains(&format!("/app/subscriptions/{gym}/shop")),
        "no category: no Ask the market"
    );
    let r = app.submit("/app/subscriptions", &shop, &[]);
    assert_eq!(r.status, 303, "{}", r.text);
    let to = r.header("location").unwrap().to_owned();
    assert!(to.starts_with("/app/intents/itt_"), "{to}");
    let intent_id = to.trim_start_matches("/app/intents/");
    let intent = s.get(&format!("/v1/intents/{intent_id}")).json();
    assert_eq!(intent["state"], "draft");
    assert_eq!(intent["price_specification"]["max_price"], "29.99");
    let page = app.get(&to);
    assert_eq!(page.status, 200, "{}", page.text);

    // Cancel from the vendor page: back to it, cancelled, gone from Today.
    let vendor_page = format!("/app/vendors/{acme}");
    let cancel = format!("/app/subscriptions/{fibre}/cancel?back=vendor");
    assert!(app.get(&vendor_page).text.contains(&cancel));
    let r = app.submit(&vendor_page, &cancel, &[]);
    assert_eq!(r.status, 303, "{}", r.text);
    let back = format!("/app/vendors/{acme}#subscriptions");
    assert_eq!(r.header("location"), Some(back.as_str()));
    let f = s.get(&format!("/v1/subscriptions/{fibre}")).json();
    assert_eq!(f["state"], "cancelled");
    assert_eq!(f["cancelled_at"], "2026-05-10");
    assert!(!app.get("/app/").text.contains("give notice by 2026-05-31"));
    assert!(
        app.get(&vendor_page)
            .text
            .contains("cancelled as of 2026-05-10")
    );

    // Cancelled twice, or an unknown id: a page that says so, nothing changed.
    let again = app.submit(
        "/app/subscriptions",
        &format!("/app/subscriptions/{fibre}/cancel"),
        &[],
    );
    assert_eq!(again.status, 409, "{}", again.text);
    assert!(again.text.contains("already cancelled"), "{}", again.text);
    let none = app.submit(
        "/app/subscriptions",
        "/app/subscriptions/sub_0000000000000000/shop",
        &[],
    );
    assert_eq!(none.status, 404, "{}", none.text);
    let bad = app.submit(
        "/app/subscriptions",
        "/app/subscriptions/nonsense/cancel",
        &[],
    );
    assert_eq!(bad.status, 404, "{}", bad.text);
    // A form without its token changes nothing.
    let forged = app.post_raw(&format!("/app/subscriptions/{gym}/cancel"), &[]);
    assert!(forged.status >= 400, "{}", forged.text);
    assert_eq!(
        s.get(&format!("/v1/subscriptions/{gym}")).json()["state"],
        "active"
    );
}
