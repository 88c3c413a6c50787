//! The reminder scheduler, end to end on the manual clock: each event reaches a channel that
//! takes it, once, counted, dated, without a name or a text unless the channel has `details`
//! on; digests come once a day at their hour in the owner's time zone; a restart between the
//! scheduling and the delivery loses nothing and doubles nothing.

use carnet_tests::browser::{Browser, Pkce, authorize_url};
use carnet_tests::vendor::VendorApp;
use carnet_tests::webhook::{Delivery, Mode, Receiver};
use carnet_tests::{Api, TestServer, http};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::{interaction, vendor};

/// 09:00 UTC on 2026-12-07.
fn start() -> DateTime<Utc> {
    "2026-12-07T09:00:00Z".parse().unwrap()
}

/// A manual-clock server at `start()`, the owner in UTC (the server's own zone is the
/// machine's: a test cannot count on it).
fn server() -> TestServer {
    let s = TestServer::spawn_with_manual_clock();
    s.clock.set(start());
    utc(&s);
    s
}

fn utc(s: &TestServer) {
    let set = s.put("/v1/profile", &json!({"time_zone": "UTC"}));
    assert_eq!(set.status, 200, "{}", set.text);
}

fn today(s: &TestServer) -> NaiveDate {
    s.clock_now().date_naive()
}

fn day(s: &TestServer, days: i64) -> String {
    (today(s) + Duration::days(days)).to_string()
}

/// A webhook channel to `r` with `extra` settings; returns its id and signing secret.
fn channel(s: &TestServer, r: &Receiver, extra: Value) -> (String, String) {
    let mut body = json!({"kind": "webhook", "url": r.url});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let created = s.post("/v1/notify/channels", &body);
    assert_eq!(created.status, 201, "{}", created.text);
    let c = created.json();
    (
        c["id"].as_str().unwrap().to_owned(),
        c["secret"].as_str().unwrap().to_owned(),
    )
}

/// Moves the clock to the next minute: the scheduler passes once.
fn tick(s: &TestServer) {
    s.clock.advance(Duration::minutes(1));
}

/// A message's items as (event, count, date).
fn items(d: &Delivery) -> Vec<(String, u64, String)> {
    d.json()["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["event"].as_str().unwrap().to_owned(),
                i["count"].as_u64().unwrap(),
                i["date"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn promise(s: &TestServer, vendor: &str, what: &str, due: &str) -> String {
    s.create(
        "/v1/promises",
        &json!({"vendor_id": vendor, "what": what, "due": due}),
    )
}

/// An active intent a vendor with `offers:write` answers; returns the vendor.
fn offered(s: &TestServer) -> VendorApp {
    let until = s.clock_now() + Duration::days(10);
    let intent = s.create(
        "/v1/intents",
        &json!({"category": "home.appliances", "title": "Washing machine",
            "price_specification": {"max_price": "700", "price_currency": "EUR"},
            "valid_through": until.to_rfc3339()}),
    );
    let r = s.post(&format!("/v1/intents/{intent}/activate"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let v = VendorApp::connect(s, "Bolt Appliances");
    s.create(
        "/v1/grants",
        &json!({"vendor_id": v.vendor_id, "scopes": ["intents:read", "offers:write"],
            "all_categories": true, "days": 90}),
    );
    let made = http()
        .post(format!("{}/v1/vendor/intents/{intent}/offers", v.base))
        .bearer_auth(v.token())
        .json(&json!({"price": "650", "price_currency": "EUR", "description": "WM-9"}))
        .send()
        .unwrap();
    assert_eq!(made.status(), 201);
    v
}

/// Makes sure every pass before now has run and written what it would: a new late follow-up
/// due `days_ago` days ago (a day no other test step has), a tick, and the at-once `sentinel`
/// channel (taking `followup_late` only) told of it. A message a pass wrote for another
/// channel is in the outbox by then: it was written in the same transaction.
fn settle(s: &TestServer, sentinel: &Receiver, days_ago: i64) {
    let v = vendor(s, &format!("Sentinel {days_ago}"));
    let due = day(s, -days_ago);
    interaction(s, &v, json!({"next_step": "Sentinel", "next_due": due}));
    tick(s);
    sentinel.wait_until(&format!("the sentinel's {due}"), |got| {
        got.iter()
            .any(|d| d.accepted() && items(d).iter().any(|i| i.2 == due))
    });
}

fn sentinel(s: &TestServer) -> Receiver {
    let r = Receiver::start();
    channel(s, &r, json!({"events": ["followup_late"]}));
    r
}

#[test]
fn each_event_reaches_an_at_once_channel_once_counted_and_dated_without_names() {
    let s = server();
    let r = Receiver::start();
    let acme = vendor(&s, "Acme Secret Vendor");
    interaction(
        &s,
        &acme,
        json!({"next_step": "Call about the hinge", "next_due": day(&s, 0)}),
    );
    interaction(
        &s,
        &acme,
        json!({"next_step": "Send the photos", "next_due": day(&s, -3)}),
    );
    interaction(
        &s,
        &acme,
        json!({"next_step": "Not yet", "next_due": day(&s, 5)}),
    );
    promise(&s, &acme, "Refund the fee", &day(&s, 0));
    promise(&s, &acme, "Deliver the fridge", &day(&s, -2));
    promise(&s, &acme, "Deliver the fridge again", &day(&s, -1));
    s.create(
        "/v1/purchases",
        &json!({"vendor_id": acme, "item": "Fridge", "amount": "899", "currency": "EUR",
            "warranty_until": day(&s, 12)}),
    );
    offered(&s);
    let ending = VendorApp::connect(&s, "Clock Shop");
    s.create(
        "/v1/grants",
        &json!({"vendor_id": ending.vendor_id, "scopes": ["profile:read"],
            "all_categories": true, "days": 3}),
    );
    let asking = VendorApp::connect(&s, "Door Co");
    let mut browser = Browser::default();
    assert_eq!(
        browser
            .get(&authorize_url(&s, &asking, &Pkce::new(5), &[]))
            .status,
        200
    );
    let (_, secret) = channel(&s, &r, json!({}));

    tick(&s);
    let got = r.wait_accepted(1);
    let first = &got[0];
    assert!(
        first.signed_with(&secret),
        "signed with the channel's secret"
    );
    assert_eq!(first.event(), "reminder");
    let mut said = items(first);
    said.sort();
    let t = today(&s).to_string();
    let mut expected = vec![
        ("consent_waiting".to_owned(), 1, t.clone()),
        ("followup_due".to_owned(), 1, t.clone()),
        ("followup_late".to_owned(), 1, day(&s, -3)),
        ("grant_expiring".to_owned(), 1, day(&s, 3)),
        ("offer_new".to_owned(), 1, t.clone()),
        ("promise_due".to_owned(), 1, t.clone()),
        ("promise_late".to_owned(), 2, day(&s, -2)),
        ("warranty_ending".to_owned(), 1, day(&s, 12)),
    ];
    expected.sort();
    assert_eq!(said, expected, "{}", first.body);
    for secret_text in [
        "Acme", "Secret", "hinge", "fridge", "Fridge", "Bolt", "Door", "Clock",
    ] {
        assert!(
            !first.body.contains(secret_text),
            "{secret_text} left: {}",
            first.body
        );
    }

    // The next pass sees the same things: nothing is said again. Something new: only it.
    tick(&s);
    promise(&s, &acme, "Call back", &day(&s, -5));
    tick(&s);
    let got = r.wait_accepted(2);
    assert_eq!(
        items(&got[1]),
        [("promise_late".to_owned(), 1, day(&s, -5))],
        "{}",
        got[1].body
    );
    assert_eq!(r.deliveries().len(), 2);
}

#[test]
fn a_channel_hears_only_the_events_it_takes_and_details_only_when_it_asked() {
    let s = server();
    let plain = Receiver::start();
    let detailed = Receiver::start();
    let acme = vendor(&s, "Acme");
    promise(&s, &acme, "Deliver the fridge", &day(&s, -1));
    interaction(
        &s,
        &acme,
        json!({"next_step": "Send the photos", "next_due": day(&s, -3)}),
    );
    channel(&s, &plain, json!({"events": ["promise_late"]}));
    channel(
        &s,
        &detailed,
        json!({"events": ["promise_late", "followup_late"], "details": true}),
    );
    tick(&s);
    let p = &plain.wait_accepted(1)[0];
    assert_eq!(items(p), [("promise_late".to_owned(), 1, day(&s, -1))]);
    assert!(
        !p.body.contains("Acme") && !p.body.contains("fridge"),
        "{}",
        p.body
    );
    let d = &detailed.wait_accepted(1)[0];
    let body = d.json();
    let lines: Vec<String> = body["data"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["details"].as_array().cloned().unwrap_or_default())
        .map(|l| l.as_str().unwrap().to_owned())
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Acme") && l.contains("Deliver the fridge")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Acme") && l.contains("Send the photos")),
        "{lines:?}"
    );
}

#[test]
fn a_digest_comes_once_a_day_at_its_hour_in_the_owners_time_zone() {
    let s = server();
    let r = Receiver::start();
    // 09:00 UTC is 18:00 in Tokyo: a digest at 19 waits an hour.
    let set = s.put("/v1/profile", &json!({"time_zone": "Asia/Tokyo"}));
    assert_eq!(set.status, 200, "{}", set.text);
    let acme = vendor(&s, "Acme");
    promise(&s, &acme, "Deliver the fridge", "2026-12-07");
    promise(&s, &acme, "Refund", "2026-12-05");
    channel(&s, &r, json!({"digest_hour": 19}));
    let watch = sentinel(&s);
    tick(&s);
    s.clock.advance(Duration::minutes(58));
    // Now 18:59 in Tokyo: a new promise is made, still no digest. 19:00: one.
    promise(&s, &acme, "Call back", "2026-12-06");
    tick(&s);
    let got = r.wait_accepted(1);
    assert_eq!(got[0].event(), "reminder.digest");
    let mut said = items(&got[0]);
    said.sort();
    assert_eq!(
        said,
        [
            ("promise_due".to_owned(), 1, "2026-12-07".to_owned()),
            ("promise_late".to_owned(), 2, "2026-12-05".to_owned()),
        ]
    );
    // Not again that day; the next day at 19:00 Tokyo the same three (still the case), now
    // all late.
    s.clock.advance(Duration::hours(2));
    tick(&s);
    s.clock.set("2026-12-08T10:00:30Z".parse().unwrap());
    let got = r.wait_accepted(2);
    assert_eq!(
        items(&got[1]),
        [("promise_late".to_owned(), 3, "2026-12-05".to_owned())]
    );
    settle(&s, &watch, 100);
    assert_eq!(r.deliveries().len(), 2, "one digest a day");
}

#[test]
fn a_restart_between_the_scheduling_and_the_delivery_delivers_once() {
    let s = server();
    let r = Receiver::with_mode(Mode::Fail(503));
    let acme = vendor(&s, "Acme");
    promise(&s, &acme, "Deliver the fridge", &day(&s, -1));
    let (id, secret) = channel(&s, &r, json!({"events": ["promise_late"]}));
    let watch = sentinel(&s);
    tick(&s);
    // Scheduled: the first attempt failed, the message waits in the outbox.
    r.wait_until("a first attempt", |d| !d.is_empty());
    let dir = s.stop();
    r.set_mode(Mode::Accept);
    let s = TestServer::restart_in_with_manual_clock(dir);
    s.clock.set(start() + Duration::hours(1));
    let got = r.wait_accepted(1);
    assert!(got[0].signed_with(&secret));
    assert_eq!(
        items(&got[0]),
        [("promise_late".to_owned(), 1, day(&s, -1))]
    );
    // Every attempt carried the same message id; the scheduler did not write it twice.
    let ids: std::collections::BTreeSet<String> =
        r.deliveries().iter().map(|d| d.id.clone()).collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    settle(&s, &watch, 100);
    let shown = s.get(&format!("/v1/notify/channels/{id}")).json();
    assert_eq!(shown["pending"], 0, "{shown}");
    assert_eq!(r.accepted().len(), 1);
}

#[test]
fn a_failed_access_log_check_is_told_once() {
    let s = TestServer::spawn_with_settings_and_manual_clock(carnet_server::Settings {
        access_log_compact_window: 0,
        ..carnet_server::Settings::default()
    });
    s.clock.set(start());
    utc(&s);
    let r = Receiver::start();
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["intents:read", "profile:read"], None);
    v.alternating_reads(4);
    channel(&s, &r, json!({"events": ["access_log_failed"]}));
    let watch = sentinel(&s);
    let dir = s.stop();
    let db = rusqlite::Connection::open(dir.path().join("carnet.db")).unwrap();
    let changed = db
        .execute("UPDATE access_log SET at = at + 1000 WHERE seq = 3", [])
        .unwrap();
    assert_eq!(changed, 1);
    drop(db);
    let s = TestServer::restart_in_with_manual_clock(dir);
    s.clock.set(start() + Duration::hours(1));
    let checked = s.check_access_log();
    assert_eq!(checked["ok"], false, "{checked}");
    tick(&s);
    let got = r.wait_accepted(1);
    assert_eq!(
        items(&got[0]),
        [("access_log_failed".to_owned(), 1, today(&s).to_string())]
    );
    // Another check finding the same entry is not news.
    s.check_access_log();
    settle(&s, &watch, 100);
    assert_eq!(r.deliveries().len(), 1);
}

#[test]
fn a_renewal_is_told_when_its_notice_deadline_nears_and_again_in_its_last_week() {
    let s = server();
    let r = Receiver::start();
    let acme = vendor(&s, "Acme Fibre");
    let sub = |next: i64| {
        s.create(
            "/v1/subscriptions",
            &json!({"vendor_id": acme, "item": "Fibre 1 Gb/s", "amount": "29.99",
                "currency": "EUR", "every": "year", "next": day(&s, next), "notice_days": 30}),
        )
    };
    sub(40); // notice deadline in 10 days
    sub(90); // in 60 days: not yet
    channel(
        &s,
        &r,
        json!({"events": ["renewal_notice"], "details": true}),
    );
    tick(&s);
    let got = r.wait_accepted(1);
    assert_eq!(
        items(&got[0]),
        [("renewal_notice".to_owned(), 1, day(&s, 10))]
    );
    assert!(
        got[0]
            .body
            .contains("Acme Fibre: Fibre 1 Gb/s (last day to give notice"),
        "{}",
        got[0].body
    );
    // Seven days before the deadline: once more.
    s.clock.advance(Duration::days(3));
    let got = r.wait_accepted(2);
    assert_eq!(
        items(&got[1]),
        [("renewal_notice".to_owned(), 1, day(&s, 7))]
    );
}
