//! Subscriptions and contracts: each state change (active → cancelled → ended, a cancellation
//! taken back), payments from the anchor at month ends and a stale `next` moving on with the
//! injected clock, the 12-month projection per currency, `shop` (a draft intent whose window
//! closes at the notice deadline, and its refusals), bad input, unknown ids, vendor tokens
//! refused on every path, the CLI verbs, and the archive (subscriptions move; a version 3
//! archive written before them still imports).

use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, TestServer, http};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};

use crate::export::{Key, encrypt_to, export};
use crate::vendor;

/// A server whose manual clock reads 10:00 UTC on `day`.
fn at(day: &str) -> TestServer {
    let s = TestServer::spawn_with_manual_clock();
    set_day(&s, day);
    s
}

fn set_day(s: &TestServer, day: &str) {
    let d: NaiveDate = day.parse().unwrap();
    s.clock
        .set(Utc.from_utc_datetime(&d.and_hms_opt(10, 0, 0).unwrap()));
}

fn add(s: &TestServer, body: Value) -> Value {
    let r = s.post("/v1/subscriptions", &body);
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

fn fibre(vendor: &str) -> Value {
    json!({"vendor_id": vendor, "item": "Fibre 1 Gb/s", "amount": "29.99", "currency": "EUR",
           "every": "month", "next": "2026-01-31"})
}

fn show(s: &TestServer, id: &str) -> Value {
    let r = s.get(&format!("/v1/subscriptions/{id}"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

#[test]
fn a_subscription_is_cancelled_then_ends_and_a_cancellation_can_be_taken_back() {
    let s = at("2026-01-10");
    let acme = vendor(&s, "Acme");
    let mut body = fibre(&acme);
    body["ends"] = json!("2026-06-30");
    body["notice_days"] = json!(30);
    let sub = add(&s, body);
    let id = sub["id"].as_str().unwrap();
    assert!(id.starts_with("sub_"), "{sub}");
    assert_eq!(sub["state"], "active");
    assert_eq!(sub["next_payment"], "2026-01-31");
    assert_eq!(sub["renewal"], "2026-06-30");
    assert_eq!(sub["notice_deadline"], "2026-05-31");

    let r = s.post(
        &format!("/v1/subscriptions/{id}/cancel"),
        &json!({"at": "2026-03-15"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let c = r.json();
    assert_eq!(c["state"], "cancelled");
    assert_eq!(c["cancelled_at"], "2026-03-15");
    assert_eq!(
        (c["renewal"].clone(), c["notice_deadline"].clone()),
        (Value::Null, Value::Null)
    );
    // Cancelled twice: a conflict that says how to change the day.
    let p = s
        .post(&format!("/v1/subscriptions/{id}/cancel"), &json!({}))
        .problem(409);
    assert!(
        p["detail"].as_str().unwrap().contains("already cancelled"),
        "{p}"
    );

    // Payments go on through the cancellation's day, not after.
    set_day(&s, "2026-02-28");
    assert_eq!(show(&s, id)["next_payment"], "2026-02-28");
    set_day(&s, "2026-03-01");
    let listed = s.get("/v1/subscriptions/payments").json();
    let dates: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["date"].as_str().unwrap())
        .collect();
    assert!(
        dates.is_empty(),
        "31 March is after the 15 March cancellation: {dates:?}"
    );
    assert_eq!(show(&s, id)["next_payment"], Value::Null);

    // The term's end passes: ended.
    set_day(&s, "2026-06-30");
    assert_eq!(show(&s, id)["state"], "cancelled");
    set_day(&s, "2026-07-01");
    assert_eq!(show(&s, id)["state"], "ended");
    let ended = s.get("/v1/subscriptions?state=ended").json();
    assert_eq!(ended["items"].as_array().unwrap().len(), 1);
    assert!(
        s.get("/v1/subscriptions?state=active").json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Taken back (PATCH cancelled_at: null): active again, renewing with its payments.
    let r = s.send(
        "PATCH",
        &format!("/v1/subscriptions/{id}"),
        Some(&json!({"cancelled_at": null})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let back = r.json();
    assert_eq!(back["state"], "active");
    assert_eq!(back["cancelled_at"], Value::Null);
    // `ends` passed without a cancellation: renewed tacitly, the next payment renews.
    assert_eq!(back["next_payment"], "2026-07-31");
    assert_eq!(back["renewal"], "2026-07-31");
    assert_eq!(back["notice_deadline"], "2026-07-01");

    // Deleted: gone.
    assert_eq!(s.delete(&format!("/v1/subscriptions/{id}")).status, 204);
    s.get(&format!("/v1/subscriptions/{id}")).problem(404);
    s.delete(&format!("/v1/subscriptions/{id}")).problem(404);
}

#[test]
fn cancel_defaults_to_today_and_edit_changes_only_what_it_names() {
    let s = at("2026-02-10");
    let acme = vendor(&s, "Acme");
    let mut body = fibre(&acme);
    body["note"] = json!("Promo price for a year");
    body["category"] = json!("telecom.internet");
    let id = add(&s, body)["id"].as_str().unwrap().to_owned();

    let r = s.send(
        "PATCH",
        &format!("/v1/subscriptions/{id}"),
        Some(&json!({"amount": "34.99", "notice_days": 10, "note": null})),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let e = r.json();
    assert_eq!(e["amount"], "34.99");
    assert_eq!(e["notice_days"], 10);
    assert_eq!(e["note"], Value::Null, "null clears");
    assert_eq!(e["category"], "telecom.internet", "left out: kept");
    assert_eq!(e["item"], "Fibre 1 Gb/s");
    assert_eq!(e["next_payment"], "2026-02-28");
    assert_eq!(e["notice_deadline"], "2026-02-18");

    let c = s
        .post(&format!("/v1/subscriptions/{id}/cancel"), &json!({}))
        .json();
    assert_eq!(c["cancelled_at"], "2026-02-10");
    assert_eq!(
        c["next_payment"],
        Value::Null,
        "28 Feb is after today's cancellation"
    );
}

#[test]
fn month_end_payments_fall_on_the_anchor_plus_whole_months_and_a_stale_next_moves_on() {
    let s = at("2026-01-10");
    let acme = vendor(&s, "Acme");
    let id = add(&s, fibre(&acme))["id"].as_str().unwrap().to_owned();
    let next = |s: &TestServer| show(s, &id)["next_payment"].as_str().unwrap().to_owned();
    assert_eq!(next(&s), "2026-01-31");
    set_day(&s, "2026-02-01");
    assert_eq!(next(&s), "2026-02-28", "31 January + 1 month");
    set_day(&s, "2026-03-01");
    assert_eq!(
        next(&s),
        "2026-03-31",
        "from the anchor, not from 28 February"
    );
    s.clock.advance(Duration::days(365 + 30));
    assert_eq!(
        next(&s),
        "2027-03-31",
        "a year and a month on, from the anchor"
    );
    // The stored anchor never moved: the next payment is computed.
    assert_eq!(show(&s, &id)["next"], "2026-01-31");

    let proj = s
        .get(&format!("/v1/subscriptions/payments?subscription={id}"))
        .json();
    let dates: Vec<&str> = proj["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["date"].as_str().unwrap())
        .collect();
    assert_eq!(dates.len(), 12, "{dates:?}");
    assert_eq!(dates[0], "2027-03-31");
    assert_eq!(dates[11], "2028-02-29", "a leap February: {dates:?}");
    assert!(
        dates.contains(&"2027-04-30") && dates.contains(&"2027-12-31"),
        "{dates:?}"
    );
}

#[test]
fn the_projection_totals_each_currency_apart_per_month_and_for_twelve_months() {
    let s = at("2026-01-10");
    let acme = vendor(&s, "Acme");
    let other = vendor(&s, "Streamly");
    add(&s, fibre(&acme));
    add(
        &s,
        json!({"vendor_id": other, "item": "Streaming", "amount": "9.5", "currency": "USD",
               "every": "quarter", "next": "2025-11-20"}),
    );
    add(
        &s,
        json!({"vendor_id": other, "item": "Insurance", "amount": "120", "currency": "EUR",
               "every": "year", "next": "2026-09-01"}),
    );
    add(
        &s,
        json!({"vendor_id": other, "item": "Yen plan", "amount": "1000", "currency": "JPY",
               "every": "week", "next": "2026-01-12"}),
    );
    let p = s.get("/v1/subscriptions/payments").json();
    assert_eq!(p["from"], "2026-01-10");
    assert_eq!(p["through"], "2027-01-09");
    let year: Vec<(String, String)> = p["year"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["currency"].as_str().unwrap().into(),
                t["amount"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        year,
        [
            ("EUR".into(), "479.88".into()), // 12 × 29.99 + 120
            ("JPY".into(), "52000".into()),  // 52 Mondays from 12 January
            ("USD".into(), "38.0".into()),   // 20 Feb, May, Aug, Nov
        ]
    );
    let month = |m: &str, c: &str| -> Option<String> {
        p["months"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["month"] == m && t["currency"] == c)
            .map(|t| t["amount"].as_str().unwrap().to_owned())
    };
    assert_eq!(month("2026-09", "EUR").as_deref(), Some("149.99"));
    assert_eq!(month("2026-02", "USD").as_deref(), Some("9.5"));
    assert_eq!(month("2026-03", "USD"), None);
    assert_eq!(month("2026-01", "JPY").as_deref(), Some("3000"));
    // One vendor's only.
    let only = s
        .get(&format!("/v1/subscriptions/payments?vendor={acme}"))
        .json();
    assert_eq!(
        only["year"],
        json!([{"currency": "EUR", "amount": "359.88"}])
    );
}

#[test]
fn shop_drafts_an_intent_closing_at_the_notice_deadline_and_refuses_what_cannot_be_shopped() {
    let s = at("2026-03-01");
    let acme = vendor(&s, "Acme");
    let mut body = fibre(&acme);
    body["category"] = json!("telecom.internet");
    body["notice_days"] = json!(30);
    body["ends"] = json!("2026-06-30");
    let id = add(&s, body)["id"].as_str().unwrap().to_owned();
    let r = s.post(&format!("/v1/subscriptions/{id}/shop"), &json!({}));
    assert_eq!(r.status, 201, "{}", r.text);
    let intent = r.json();
    let intent_id = intent["id"].as_str().unwrap();
    assert_eq!(
        r.header("location"),
        Some(format!("/v1/intents/{intent_id}").as_str())
    );
    assert_eq!(
        intent["state"], "draft",
        "activating it is the owner's choice"
    );
    assert_eq!(intent["category"], "telecom.internet");
    assert_eq!(intent["title"], "Fibre 1 Gb/s");
    assert_eq!(
        intent["price_specification"],
        json!({"max_price": "29.99", "min_price": null, "price_currency": "EUR"})
    );
    let through =
        chrono::DateTime::parse_from_rfc3339(intent["valid_through"].as_str().unwrap()).unwrap();
    assert_eq!(through.to_utc().to_rfc3339(), "2026-05-31T23:59:59+00:00");
    let from =
        chrono::DateTime::parse_from_rfc3339(intent["valid_from"].as_str().unwrap()).unwrap();
    assert_eq!(from.to_utc(), s.clock_now());
    assert_eq!(
        s.get(&format!("/v1/intents/{intent_id}")).json()["state"],
        "draft"
    );
    // It activates like any intent.
    let a = s.post(&format!("/v1/intents/{intent_id}/activate"), &json!({}));
    assert_eq!(a.status, 200, "{}", a.text);

    // The deadline day itself still shops; the day after, a conflict.
    set_day(&s, "2026-05-31");
    assert_eq!(
        s.post(&format!("/v1/subscriptions/{id}/shop"), &json!({}))
            .status,
        201
    );
    set_day(&s, "2026-06-01");
    let p = s
        .post(&format!("/v1/subscriptions/{id}/shop"), &json!({}))
        .problem(409);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("passed on 2026-05-31"),
        "{p}"
    );

    // No category; no notice days; cancelled: conflicts that say what is missing.
    set_day(&s, "2026-03-01");
    let bare = add(&s, fibre(&acme))["id"].as_str().unwrap().to_owned();
    let p = s
        .post(&format!("/v1/subscriptions/{bare}/shop"), &json!({}))
        .problem(409);
    assert!(p["detail"].as_str().unwrap().contains("no category"), "{p}");
    s.send(
        "PATCH",
        &format!("/v1/subscriptions/{bare}"),
        Some(&json!({"category": "telecom"})),
    );
    let p = s
        .post(&format!("/v1/subscriptions/{bare}/shop"), &json!({}))
        .problem(409);
    assert!(
        p["detail"].as_str().unwrap().contains("no notice deadline"),
        "{p}"
    );
    s.post(&format!("/v1/subscriptions/{id}/cancel"), &json!({}));
    let p = s
        .post(&format!("/v1/subscriptions/{id}/shop"), &json!({}))
        .problem(409);
    assert!(p["detail"].as_str().unwrap().contains("cancelled"), "{p}");
    s.post("/v1/subscriptions/sub_0000000000000000/shop", &json!({}))
        .problem(404);
}

#[test]
fn bad_input_is_a_422_and_an_unknown_id_a_404() {
    let s = at("2026-01-10");
    let acme = vendor(&s, "Acme");
    let bad = |change: Value, field: &str| {
        let mut body = fibre(&acme);
        for (k, v) in change.as_object().unwrap() {
            body[k] = v.clone();
        }
        let p = s.post("/v1/subscriptions", &body).problem(422);
        assert!(p.to_string().contains(field), "{field}: {p}");
    };
    bad(json!({"every": "fortnight"}), "every");
    bad(json!({"amount": "-3"}), "amount");
    bad(json!({"amount": "10.123"}), "amount");
    bad(json!({"currency": "eur"}), "currency");
    bad(json!({"next": "2026-02-30"}), "next");
    bad(json!({"notice_days": -1}), "notice_days");
    bad(json!({"notice_days": 100000}), "notice_days");
    bad(json!({"category": "Not A Category"}), "category");
    bad(json!({"vendor_id": "ven_0000000000000000"}), "vendor_id");
    bad(json!({"colour": "red"}), "colour");
    let id = add(&s, fibre(&acme))["id"].as_str().unwrap().to_owned();
    let patch = |body: Value| s.send("PATCH", &format!("/v1/subscriptions/{id}"), Some(&body));
    patch(json!({"amount": "1.5", "currency": "JPY"})).problem(422);
    patch(json!({"vendor_id": acme})).problem(422);
    patch(json!({"every": null})).problem(422);
    s.post(
        &format!("/v1/subscriptions/{id}/cancel"),
        &json!({"at": "soon"}),
    )
    .problem(422);
    // Nothing was changed by the refusals.
    assert_eq!(show(&s, &id)["amount"], "29.99");
    assert_eq!(show(&s, &id)["state"], "active");

    let unknown = "sub_0000000000000000";
    s.get(&format!("/v1/subscriptions/{unknown}")).problem(404);
    s.send(
        "PATCH",
        &format!("/v1/subscriptions/{unknown}"),
        Some(&json!({})),
    )
    .problem(404);
    s.post(&format!("/v1/subscriptions/{unknown}/cancel"), &json!({}))
        .problem(404);
    s.delete(&format!("/v1/subscriptions/{unknown}"))
        .problem(404);
    s.get("/v1/subscriptions/prm_0000000000000000").problem(400);
    s.get("/v1/subscriptions?state=paused").problem(400);
}

#[test]
fn no_vendor_token_reaches_any_subscription_path() {
    let s = at("2026-01-10");
    let v = VendorApp::connect(&s, "Acme");
    v.grant(
        &s,
        &["relationship:read", "promises:read", "intents:read"],
        Some(&["telecom"]),
    );
    let mut body = fibre(&v.vendor_id);
    body["category"] = json!("telecom");
    body["notice_days"] = json!(5);
    let id = add(&s, body)["id"].as_str().unwrap().to_owned();
    let token = v.token();
    let paths = [
        ("GET", "/v1/subscriptions".to_owned()),
        ("POST", "/v1/subscriptions".to_owned()),
        ("GET", "/v1/subscriptions/payments".to_owned()),
        ("GET", format!("/v1/subscriptions/{id}")),
        ("PATCH", format!("/v1/subscriptions/{id}")),
        ("DELETE", format!("/v1/subscriptions/{id}")),
        ("POST", format!("/v1/subscriptions/{id}/cancel")),
        ("POST", format!("/v1/subscriptions/{id}/shop")),
    ];
    for (method, path) in &paths {
        for bearer in [Some(token.as_str()), None] {
            let mut req = http().request(method.parse().unwrap(), format!("{}{path}", s.base));
            if let Some(t) = bearer {
                req = req.bearer_auth(t);
            }
            let r = req.json(&fibre(&v.vendor_id)).send().unwrap();
            assert_eq!(r.status(), 401, "{method} {path} with {bearer:?}");
        }
    }
    // Nothing moved.
    let after = show(&s, &id);
    assert_eq!(after["state"], "active");
    assert_eq!(
        s.get("/v1/subscriptions").json()["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(s.get("/v1/intents").json().as_array().unwrap().is_empty());
    // And the vendor API has nothing about them.
    let rel = v.get(&token, "/v1/vendor/relationship").text;
    assert!(
        !rel.contains("Fibre") && !rel.contains("subscription"),
        "{rel}"
    );
}

#[test]
fn subscriptions_move_with_an_export_and_a_v3_archive_without_them_still_imports() {
    let s = at("2026-01-10");
    let acme = vendor(&s, "Acme");
    let mut body = fibre(&acme);
    body["notice_days"] = json!(30);
    body["category"] = json!("telecom.internet");
    body["note"] = json!("Loyalty discount");
    let id = add(&s, body)["id"].as_str().unwrap().to_owned();
    s.post(
        &format!("/v1/subscriptions/{id}/cancel"),
        &json!({"at": "2026-05-01"}),
    );
    add(
        &s,
        json!({"vendor_id": acme, "item": "Cloud", "amount": "2", "currency": "USD",
                   "every": "year", "next": "2026-04-01"}),
    );
    let before = s.get("/v1/subscriptions").json();

    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(dir.path(), "key.txt");
    let out = dir.path().join("vault.age");
    let plain = export(&s, &out, &key);
    let doc: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(doc["version"], 5);
    assert_eq!(doc["counts"]["subscriptions"], 2);
    let archived = doc["subscriptions"].as_array().unwrap();
    assert!(
        archived
            .iter()
            .all(|a| a.get("state").is_none() && a.get("next_payment").is_none()),
        "what is computed is never archived: {archived:?}"
    );

    let b = TestServer::spawn_with_manual_clock();
    b.clock.set(s.clock_now());
    b.carnet(&["import", out.to_str().unwrap(), "--identity", key.path()])
        .ok();
    assert_eq!(b.get("/v1/subscriptions").json(), before);

    // Version 3 as written before subscriptions: no member, no count.
    let text = String::from_utf8(plain).unwrap();
    let old = cut(&text, "subscriptions")
        .replace(",\"subscriptions\":2", "")
        .replace("\n\"version\":5,\n", "\n\"version\":3,\n");
    assert!(
        !old.contains("subscriptions") && old.contains("\"version\":3,"),
        "{old}"
    );
    let (c, out) = import(dir.path(), &key, &old);
    out.ok();
    assert_eq!(c.get("/v1/vendors").json()["items"][0]["id"], acme.as_str());
    assert!(
        c.get("/v1/subscriptions").json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // An archived subscription whose amount its currency cannot have is refused, nothing
    // imported.
    let bad = text.replacen("\"amount\":\"2\"", "\"amount\":\"2.123\"", 1);
    assert_ne!(bad, text);
    let (d, out) = import(dir.path(), &key, &bad);
    assert_ne!(out.code, 0, "{}", out.stderr);
    assert!(
        d.get("/v1/vendors").json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn older_archives_still_import_after_subscriptions() {
    // Versions 1 and 2 are covered where they were written (export.rs, promises.rs); this one
    // checks a version 2 archive next to subscriptions: no promises, no subscriptions.
    let s = at("2026-01-10");
    let acme = vendor(&s, "Acme");
    add(&s, fibre(&acme));
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(dir.path(), "key.txt");
    let out = dir.path().join("vault.age");
    let text = String::from_utf8(export(&s, &out, &key)).unwrap();
    let v2 = cut(&text, "promises")
        .replace("\n\"version\":5,\n", "\n\"version\":2,\n")
        .replace(",\"promises\":0", "")
        .replace(",\"subscriptions\":1", "");
    assert!(
        !v2.contains("subscriptions") && v2.contains("\"version\":2,"),
        "{v2}"
    );
    let (c, out) = import(dir.path(), &key, &v2);
    out.ok();
    assert_eq!(c.get("/v1/vendors").json()["items"][0]["id"], acme.as_str());
}

/// An archive's text without its members from `first` up to the intents.
fn cut(text: &str, first: &str) -> String {
    let from = text.find(&format!("\n\"{first}\":[")).unwrap();
    let to = text.find("\n\"intents\":[").unwrap();
    format!("{}{}", &text[..from], &text[to..])
}

/// A new server, and the CLI's import into it of archive `text` encrypted to `key`.
fn import(dir: &std::path::Path, key: &Key, text: &str) -> (TestServer, carnet_tests::CliOutput) {
    let file = dir.join("edited.age");
    std::fs::write(
        &file,
        encrypt_to(text.as_bytes(), &key.identity.to_public()),
    )
    .unwrap();
    let s = TestServer::spawn();
    let out = s.carnet(&["import", file.to_str().unwrap(), "--identity", key.path()]);
    (s, out)
}

#[test]
fn the_cli_adds_lists_shows_edits_cancels_shops_and_removes_subscriptions() {
    let s = at("2026-12-07");
    let acme = vendor(&s, "Acme");
    let added = s
        .carnet(&[
            "--json",
            "subscription",
            "add",
            "Acme",
            "--item",
            "Fibre 1 Gb/s",
            "--amount",
            "29.99",
            "--currency",
            "EUR",
            "--every",
            "month",
            "--next",
            "2026-12-31",
            "--notice-days",
            "30",
            "--ends",
            "2027-06-30",
            "--category",
            "telecom.internet",
            "--note",
            "Promo for a year",
        ])
        .ok()
        .json();
    let id = added["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("sub_"), "{added}");
    assert_eq!(added["vendor_id"], acme.as_str());
    assert_eq!(added["notice_deadline"], "2027-05-31");
    let human = s
        .carnet(&[
            "subscription",
            "add",
            "Acme",
            "--item",
            "Cloud",
            "--amount",
            "2",
            "--currency",
            "USD",
            "--every",
            "year",
            "--next",
            "2027-02-01",
        ])
        .ok()
        .stdout
        .clone();
    assert!(
        human.starts_with("added subscription sub_") && human.contains("next payment 2027-02-01"),
        "{human}"
    );

    let list = s.carnet(&["subscription", "list"]).ok().stdout.clone();
    assert!(
        list.contains(&id) && list.contains("29.99 EUR/month"),
        "{list}"
    );
    assert!(
        list.contains("2026-12-31") && list.contains("2027-05-31"),
        "{list}"
    );
    // The totals per currency, never added together: 12 × 29.99 and 1 × 2.
    assert!(
        list.contains("total EUR: 359.88") && list.contains("total USD: 2"),
        "{list}"
    );
    assert!(list.contains("2027-02") && list.contains("MONTH"), "{list}");
    let json = s
        .carnet(&["--json", "subscription", "list", "--state", "active"])
        .ok()
        .json();
    assert_eq!(json.as_array().unwrap().len(), 2);
    assert!(json[0]["id"].is_string() && json[0]["next_payment"].is_string());

    let payments = s
        .carnet(&["--json", "subscription", "payments", "--vendor", "Acme"])
        .ok()
        .json();
    assert_eq!(
        payments["items"].as_array().unwrap().len(),
        13,
        "{payments}"
    );
    assert_eq!(
        payments["year"],
        json!([{"currency": "EUR", "amount": "359.88"}, {"currency": "USD", "amount": "2"}])
    );
    let table = s.carnet(&["subscription", "payments"]).ok().stdout.clone();
    assert!(
        table.contains("2027-02-01") && table.contains("2 USD"),
        "{table}"
    );

    let shown = s.carnet(&["subscription", "show", &id]).ok().stdout.clone();
    assert!(
        shown.contains("2026-12-31, 2027-01-31") && shown.contains("2027-05-31 (30 days before"),
        "{shown}"
    );

    let edited = s
        .carnet(&[
            "--json",
            "subscription",
            "edit",
            &id,
            "--amount",
            "34.99",
            "--note",
            "",
            "--notice-days",
            "10",
        ])
        .ok()
        .json();
    assert_eq!(edited["amount"], "34.99");
    assert_eq!(edited["note"], Value::Null);
    assert_eq!(edited["notice_deadline"], "2027-06-20");
    // Nothing to change is a usage error; a bad value names its flag.
    let none = s.carnet(&["subscription", "edit", &id]);
    assert_eq!(none.code, 2, "{}", none.stderr);
    let bad = s.carnet(&["subscription", "edit", &id, "--every", "fortnight"]);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--every"), "{}", bad.stderr);
    let jpy = s.carnet(&["subscription", "edit", &id, "--currency", "JPY"]);
    assert_eq!(jpy.code, 1, "{}", jpy.stderr);
    assert!(jpy.stderr.contains("decimals"), "{}", jpy.stderr);

    let shop = s.carnet(&["subscription", "shop", &id]);
    shop.ok();
    assert!(
        shop.stdout.contains("draft") && shop.stdout.contains("≤ 34.99 EUR"),
        "{}",
        shop.stdout
    );
    assert!(
        shop.stdout.contains("carnet intent activate itt_"),
        "{}",
        shop.stdout
    );
    let intent = s
        .carnet(&["--json", "subscription", "shop", &id])
        .ok()
        .json();
    assert_eq!(intent["state"], "draft");
    assert!(intent["id"].as_str().unwrap().starts_with("itt_"));

    let cancelled = s
        .carnet(&["subscription", "cancel", &id, "--at", "2027-03-31"])
        .ok()
        .stdout
        .clone();
    assert!(
        cancelled.contains("no payment after 2027-03-31"),
        "{cancelled}"
    );
    let again = s.carnet(&["subscription", "cancel", &id]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    let lines: Vec<&str> = again.stderr.lines().collect();
    assert!(lines[0].contains("already cancelled"), "{}", again.stderr);
    assert!(lines[1].starts_with("  hint: "), "{}", again.stderr);
    let refused = s.carnet(&["subscription", "shop", &id]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("cancelled"), "{}", refused.stderr);
    let listed = s
        .carnet(&["--json", "subscription", "list", "--state", "cancelled"])
        .ok()
        .json();
    assert_eq!(listed[0]["id"], id.as_str());

    // rm asks first; without a terminal it refuses and says how.
    let asked = s.carnet(&["subscription", "rm", &id]);
    assert_eq!(asked.code, 1, "{}", asked.stderr);
    assert!(asked.stderr.contains("--yes"), "{}", asked.stderr);
    s.carnet(&["subscription", "rm", &id, "--yes"]).ok();
    let gone = s.carnet(&["subscription", "show", &id]);
    assert_eq!(gone.code, 1, "{}", gone.stderr);
    assert!(gone.stderr.contains("no subscription"), "{}", gone.stderr);
}

#[test]
fn deleting_a_vendor_deletes_its_subscriptions() {
    let s = at("2026-01-10");
    let acme = vendor(&s, "Acme");
    let other = vendor(&s, "Other");
    let gone = add(&s, fibre(&acme))["id"].as_str().unwrap().to_owned();
    let kept = add(&s, fibre(&other))["id"].as_str().unwrap().to_owned();
    assert_eq!(s.delete(&format!("/v1/vendors/{acme}")).status, 204);
    s.get(&format!("/v1/subscriptions/{gone}")).problem(404);
    show(&s, &kept);
    let p = s.get("/v1/subscriptions/payments").json();
    assert!(
        p["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["subscription_id"] == kept.as_str()),
        "{p}"
    );
}

#[test]
fn a_subscription_moved_to_another_vendor_in_the_file_is_refused_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let d = carnet_tests::Carnetd::start(dir.path(), &[]).unwrap();
    let acme = d.create("/v1/vendors", &json!({"name": "Acme"}));
    let other = d.create("/v1/vendors", &json!({"name": "Other"}));
    let id = d.create("/v1/subscriptions", &fibre(&acme));
    let (status, log) = d.terminate();
    assert!(status.success(), "{log}");
    let changed = rusqlite::Connection::open(dir.path().join("carnet.db"))
        .unwrap()
        .execute(
            "UPDATE subscriptions SET vendor_id = ?1 WHERE id = ?2",
            [&other, &id],
        )
        .unwrap();
    assert_eq!(changed, 1);

    let d = carnet_tests::Carnetd::start(dir.path(), &[]).unwrap();
    d.get(&format!("/v1/subscriptions/{id}")).problem(404);
    let listed = d.get(&format!("/v1/subscriptions?vendor={other}")).json();
    assert!(listed["items"].as_array().unwrap().is_empty(), "{listed}");
    let out = d.carnet(&["audit", "verify"]);
    assert_eq!(out.code, 6, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains(&format!("subscriptions {id}")),
        "{}",
        out.stderr
    );
}
