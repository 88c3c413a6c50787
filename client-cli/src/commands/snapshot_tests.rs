//! The human output of the main commands, pinned: tables, `show` views and error lines,
//! rendered by the same functions the commands print with, from wire values built here with
//! fixed times, at a fixed width. The snapshots are in `src/snapshots/`; a change to the output
//! fails `cargo test` until the new snapshot is reviewed (see the README's Development section).
//!
//! Local times depend on the time zone, which a test cannot set in its own process (changing
//! the environment is `unsafe`): each test runs itself again in a child process whose `TZ` is
//! pinned to Paris's rules, and only the child compares.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed anyway

use std::collections::HashMap;
use std::process::Command;

use carnet_schemas::{Line, Problem, VendorId};
use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::client::answer_error;
use crate::config::{ServerUrl, TokenSource};
use crate::error::{CliError, ExitKind, io_error};
use crate::output::{Fields, TableOut};
use unicode_width::UnicodeWidthStr;

/// Paris: UTC+01:00 in winter, +02:00 in summer, as a POSIX TZ rule (no tz database needed).
const OWNER_TZ: &str = "CET-1CEST,M3.5.0,M10.5.0/3";
const CHILD: &str = "CARNET_SNAPSHOT_CHILD";
/// Listings are pinned at these widths: a narrow terminal, the usual one, a wide one.
const WIDTHS: [usize; 3] = [60, 80, 120];

/// Runs the test `name` of this module again with `TZ` pinned; true in that child, which goes
/// on to compare, false in the parent, which has checked the child passed.
fn in_owner_zone(name: &str) -> bool {
    if std::env::var_os(CHILD).is_some() {
        return true;
    }
    let module = module_path!().split_once("::").map_or("", |(_, m)| m);
    let test = format!("{module}::{name}");
    let out = Command::new(std::env::current_exe().unwrap())
        .args([test.as_str(), "--exact", "--nocapture", "--test-threads=1"])
        .env("TZ", OWNER_TZ)
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{test} in TZ={OWNER_TZ}:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("1 passed"), "{test} did not run:\n{stdout}");
    false
}

macro_rules! in_owner_zone {
    ($name:ident) => {
        if !in_owner_zone(stringify!($name)) {
            return;
        }
    };
}

fn check(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// The table at each of `WIDTHS`, checked to fit it and, from 80 columns on, to cut no id
/// and no scope name.
fn table(t: TableOut) -> String {
    let mut out = String::new();
    for width in WIDTHS {
        let text = t.clone().width(width).render();
        for line in text.lines() {
            assert!(line.width() <= width, "wider than {width}:\n{text}");
            if width >= crate::output::FULL_WIDTH {
                for word in line.split(' ').filter(|w| w.contains('…')) {
                    let before = word.split('…').next().unwrap_or_default();
                    assert!(!is_cut_name(before), "{before}… cut at {width}:\n{text}");
                }
            }
        }
        out.push_str(&format!("--- {width} columns\n{text}"));
    }
    out
}

/// Whether `s` is the start of an id or of a scope name.
fn is_cut_name(s: &str) -> bool {
    let id =
        s.len() >= 4 && s.as_bytes()[3] == b'_' && s[..3].bytes().all(|b| b.is_ascii_lowercase());
    // Three letters at least: a description cut after "i" is not a cut "intents:read".
    let scope = s.len() >= 3
        && carnet_schemas::Scope::ALL
            .iter()
            .any(|sc| sc.as_str().starts_with(s) && sc.as_str() != s);
    id || scope
}

fn view(f: Fields) -> String {
    f.render()
}

fn value<T: DeserializeOwned>(v: serde_json::Value) -> T {
    serde_json::from_value(v).unwrap()
}

const ACME: &str = "ven_0123456789abcdef";
const MARTIN: &str = "ven_0123456789abcdeg";
/// A vendor removed since: listings show its id.
const GONE: &str = "ven_0123456789abcdeh";

fn names() -> HashMap<VendorId, Line> {
    [(ACME, "Acme Appliances"), (MARTIN, "Boulangerie Martin")]
        .into_iter()
        .map(|(id, name)| (id.parse().unwrap(), name.parse().unwrap()))
        .collect()
}

fn vendor(id: &str, fields: serde_json::Value) -> serde_json::Value {
    let mut v = json!({
        "id": id,
        "created_at": "2026-10-02T08:15:00Z",
        "updated_at": "2026-11-20T17:40:00Z",
    });
    merge(&mut v, fields);
    v
}

fn merge(into: &mut serde_json::Value, from: serde_json::Value) {
    if let (Some(into), serde_json::Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}

#[test]
fn vendor_list() {
    in_owner_zone!(vendor_list);
    let vendors: Vec<carnet_schemas::Vendor> = vec![
        value(vendor(
            ACME,
            json!({
                "name": "Acme Appliances",
                "website": "https://acme.example/",
                "categories": ["home.appliances", "home.appliances.washing-machine"],
            }),
        )),
        value(vendor(
            MARTIN,
            json!({"name": "Boulangerie Martin", "categories": ["food.bakery"]}),
        )),
        value(vendor(
            GONE,
            json!({
                "name": "A vendor whose name is long enough to be cut at 80 columns",
                "website": "https://www.a-very-long-domain-name.example/with/a/path",
            }),
        )),
    ];
    let refs: Vec<_> = vendors.iter().collect();
    check("vendor_list", &table(super::vendor::table(&refs, None)));
    let scores = [Some(92), Some(41), None];
    check(
        "vendor_list_by_score",
        &table(super::vendor::table(&refs, Some(&scores))),
    );
}

#[test]
fn vendor_show() {
    in_owner_zone!(vendor_show);
    let mut v = vendor(
        ACME,
        json!({
            "name": "Acme Appliances",
            "website": "https://acme.example/",
            "categories": ["home.appliances"],
            "accounts": ["C-1234", "camille@example.net"],
            "note": "Ask for Lea in after-sales.\nClosed on Sundays.",
            "channel": "email",
            "contact_policy": "monthly at most",
        }),
    );
    merge(
        &mut v,
        json!({"loyalty": {
            "customer_since": "2024-03-09",
            "purchases": 3,
            "total_spent": {"EUR": "1249.70", "USD": "89.00"},
            "interactions": 7,
            "last_contact": "2026-07-14T10:05:00+02:00",
            "average_sentiment": -0.42857,
            "incidents": 2,
            "incidents_resolved": 1,
            "average_satisfaction": 8.0,
            "promises": {"kept": 5, "broken": 1, "late": 1, "open": 2, "median_delay_days": 1.5},
        }, "scorecard": {
            "promises_kept": 5,
            "promises_settled": 6,
            "incidents": 2,
            "incidents_resolved": 1,
            "median_days_to_resolution": 3.5,
            "average_satisfaction": 8.0,
            "average_sentiment": -0.43,
            "sentiment_trend": 0.5,
            "spend_last_12_months": {"EUR": "249.70"},
            "spend_total": {"EUR": "1249.70", "USD": "89.00"},
            "tenure_months": 28,
            "score": 66,
        }}),
    );
    let d: carnet_schemas::VendorDetail = value(v);
    check("vendor_show", &view(super::vendor::view(&d)));
}

fn interaction(id: &str, vendor: &str, at: &str, fields: serde_json::Value) -> serde_json::Value {
    let mut v = json!({
        "id": id,
        "vendor_id": vendor,
        "at": at,
        "created_at": "2026-11-12T13:31:00Z",
        "updated_at": "2026-11-12T13:31:00Z",
    });
    merge(&mut v, fields);
    v
}

#[test]
fn interaction_list() {
    in_owner_zone!(interaction_list);
    let items: Vec<carnet_schemas::Interaction> = vec![
        value(interaction(
            "int_0123456789abcdef",
            ACME,
            "2026-11-12T14:30:00+01:00",
            json!({
                "channel": "phone",
                "summary": "Drum noise after three weeks; they will send a technician on Tuesday",
                "sentiment": -1,
            }),
        )),
        value(interaction(
            "int_0123456789abcdeg",
            MARTIN,
            "2026-07-01T09:00:00Z",
            json!({"channel": "store", "summary": "Ordered the cake", "sentiment": 2}),
        )),
        value(interaction(
            "int_0123456789abcdeh",
            GONE,
            "2026-01-05T23:30:00Z",
            json!({"channel": "email", "summary": "Asked for the invoice\tagain"}),
        )),
    ];
    let refs: Vec<_> = items.iter().collect();
    check(
        "interaction_list",
        &table(super::interaction::table(&refs, &names())),
    );
}

#[test]
fn interaction_show() {
    in_owner_zone!(interaction_show);
    let i: carnet_schemas::Interaction = value(interaction(
        "int_0123456789abcdef",
        ACME,
        "2026-11-12T14:30:00+01:00",
        json!({
            "channel": "phone",
            "summary": "Drum noise",
            "with": "Lea, after-sales",
            "expected": "A repair under warranty",
            "i_said": "It started after three weeks",
            "they_said": "A technician comes Tuesday\nbetween 8 and 12",
            "outcome": "Appointment set",
            "sentiment": -1,
            "next_step": "Check he came",
            "next_due": "2026-12-02",
            "incident_id": "inc_0123456789abcdef",
            "shared": true,
        }),
    ));
    check(
        "interaction_show",
        &view(super::interaction::view(&i, &names())),
    );
}

#[test]
fn search_list() {
    let items: Vec<carnet_schemas::SearchHit> = [
        json!({"kind": "interaction", "id": "int_0123456789abcdef", "vendor_id": ACME,
               "title": "The technician came and replaced the drum, finally", "score": 4.2}),
        json!({"kind": "vendor", "id": ACME, "vendor_id": null,
               "title": "Acme Appliances", "score": 2.0}),
        json!({"kind": "purchase", "id": "pur_0123456789abcdef", "vendor_id": GONE,
               "title": "Technical support plan", "score": 1.0}),
        json!({"kind": "document", "id": "doc_0123456789abcdef", "vendor_id": ACME,
               "title": "Technician's report", "file_name": "report-2026-11.pdf",
               "attached_to": {"kind": "interaction", "id": "int_0123456789abcdef"},
               "score": 0.9}),
    ]
    .into_iter()
    .map(value)
    .collect();
    let refs: Vec<_> = items.iter().collect();
    check("search_list", &table(super::search::table(&refs, &names())));
}

#[test]
fn purchase_list() {
    in_owner_zone!(purchase_list);
    let items: Vec<carnet_schemas::Purchase> = [
        json!({"id": "pur_0123456789abcdef", "vendor_id": ACME, "item": "Washing machine WM-700",
               "amount": "699.90", "currency": "EUR", "date": "2026-11-12",
               "warranty_until": "2028-11-12", "receipt": "ORD-5521"}),
        json!({"id": "pur_0123456789abcdeg", "vendor_id": MARTIN, "item": "Bread",
               "amount": "4.20", "currency": "EUR", "date": "2026-11-30"}),
    ]
    .into_iter()
    .map(|mut p| {
        merge(
            &mut p,
            json!({"created_at": "2026-11-30T08:00:00Z", "updated_at": "2026-11-30T08:00:00Z"}),
        );
        value(p)
    })
    .collect();
    let refs: Vec<_> = items.iter().collect();
    check(
        "purchase_list",
        &table(super::purchase::table(&refs, &names())),
    );
}

#[test]
fn incident_show() {
    in_owner_zone!(incident_show);
    let i: carnet_schemas::Incident = value(json!({
        "id": "inc_0123456789abcdef",
        "vendor_id": ACME,
        "description": "Drum broken after 3 weeks",
        "opened_at": "2026-11-20T09:00:00+01:00",
        "status": "resolved",
        "resolution": "Drum replaced",
        "satisfaction": 8,
        "resolved_at": "2026-12-01T15:20:00Z",
        "created_at": "2026-11-20T08:00:00Z",
        "updated_at": "2026-12-01T15:20:00Z",
    }));
    check(
        "incident_show",
        &view(super::incident::view(&i, "Acme Appliances")),
    );
}

#[test]
fn incident_list() {
    in_owner_zone!(incident_list);
    let incident = |id: &str, vendor: &str, status: &str, description: &str| {
        value::<carnet_schemas::Incident>(json!({
            "id": id,
            "vendor_id": vendor,
            "description": description,
            "opened_at": "2026-11-20T09:00:00+01:00",
            "status": status,
            "resolution": null,
            "satisfaction": null,
            "resolved_at": null,
            "created_at": "2026-11-20T08:00:00Z",
            "updated_at": "2026-12-01T15:20:00Z",
        }))
    };
    let items = [
        incident(
            "inc_0123456789abcdef",
            ACME,
            "resolved",
            "Drum broken after 3 weeks; the technician came twice before replacing it",
        ),
        incident("inc_0123456789abcdeg", GONE, "open", "Wrong loaf"),
    ];
    let refs: Vec<_> = items.iter().collect();
    check(
        "incident_list",
        &table(super::incident::table(&refs, &names())),
    );
}

fn promise(id: &str, vendor: &str, state: &str, late: bool, what: &str) -> carnet_schemas::Promise {
    value(json!({
        "id": id,
        "vendor_id": vendor,
        "what": what,
        "due": "2026-12-15",
        "by": "Léa, after-sales",
        "interaction_id": "int_0123456789abcdef",
        "state": state,
        "kept_at": if state == "kept" { json!("2026-12-16T10:00:00+01:00") } else { json!(null) },
        "broken_at": null,
        "note": null,
        "late": late,
        "created_at": "2026-11-20T08:00:00Z",
        "updated_at": "2026-12-16T09:00:00Z",
    }))
}

#[test]
fn promise_show() {
    in_owner_zone!(promise_show);
    let p = promise(
        "prm_0123456789abcdef",
        ACME,
        "kept",
        false,
        "Refund the delivery fee",
    );
    check(
        "promise_show",
        &view(super::promise::view(&p, "Acme Appliances")),
    );
}

#[test]
fn promise_list() {
    in_owner_zone!(promise_list);
    let items = [
        promise(
            "prm_0123456789abcdef",
            ACME,
            "open",
            true,
            "Send a technician before the end of the week, with the spare drum and the seal",
        ),
        promise("prm_0123456789abcdeg", GONE, "broken", false, "Call back"),
    ];
    let refs: Vec<_> = items.iter().collect();
    check(
        "promise_list",
        &table(super::promise::table(&refs, &names())),
    );
}

#[test]
fn notify_list() {
    in_owner_zone!(notify_list);
    let channel = |id: &str, extra: serde_json::Value| {
        let mut c = json!({"id": id, "created_at": "2026-12-01T09:00:00Z",
            "updated_at": "2026-12-01T09:00:00Z", "kind": "webhook",
            "url": "http://192.168.1.20:8123/api/webhook/carnet", "address": null,
            "smtp_url": null, "smtp_user": null, "has_secret": true,
            "events": ["followup_late", "promise_late"], "timing": "at_once",
            "digest_hour": null, "details": false, "pending": 0, "last_delivery": null});
        merge(&mut c, extra);
        value::<carnet_schemas::NotifyChannel>(c)
    };
    let all: Vec<&str> = carnet_schemas::NotifyEvent::ALL
        .iter()
        .map(|e| e.as_str())
        .collect();
    let items = [
        channel(
            "nch_0123456789abcdef",
            json!({"last_delivery": {"at": "2026-12-07T08:00:00Z",
            "ok": true, "state": "delivered", "attempts": 1, "status": 204, "error": null}}),
        ),
        channel(
            "nch_0123456789abcdeg",
            json!({"kind": "ntfy", "url": "https://ntfy.sh/carnet-7Hq2",
            "events": all, "timing": "digest", "digest_hour": 8, "details": true, "pending": 2,
            "last_delivery": {"at": "2026-12-07T07:00:00Z", "ok": false, "state": "pending",
            "attempts": 3, "status": 500, "error": "status"}}),
        ),
        channel(
            "nch_0123456789abcdeh",
            json!({"kind": "email", "url": null,
            "address": "owner@example.org", "smtp_url": "smtps://mail.example.org:465",
            "smtp_user": "owner"}),
        ),
    ];
    let refs: Vec<_> = items.iter().collect();
    check("notify_list", &table(super::notify::table(&refs)));
}

fn subscription(id: &str, vendor: &str, fields: serde_json::Value) -> carnet_schemas::Subscription {
    let mut v = json!({
        "id": id,
        "vendor_id": vendor,
        "item": "Fibre 1 Gb/s",
        "amount": "29.99",
        "currency": "EUR",
        "every": "month",
        "next": "2026-01-31",
        "notice_days": 30,
        "ends": "2027-06-30",
        "category": "telecom.internet",
        "cancelled_at": null,
        "note": null,
        "state": "active",
        "next_payment": "2026-12-31",
        "renewal": "2027-06-30",
        "notice_deadline": "2027-05-31",
        "created_at": "2026-11-20T08:00:00Z",
        "updated_at": "2026-11-20T08:00:00Z",
    });
    merge(&mut v, fields);
    value(v)
}

fn subscriptions() -> Vec<carnet_schemas::Subscription> {
    vec![
        subscription("sub_0123456789abcdef", ACME, json!({})),
        subscription(
            "sub_0123456789abcdeg",
            MARTIN,
            json!({"item": "Weekly bread basket, two loaves and a brioche on Sundays",
                   "amount": "1200", "currency": "JPY", "every": "week", "notice_days": null,
                   "ends": null, "category": null, "next_payment": "2026-12-14",
                   "renewal": "2026-12-14", "notice_deadline": null}),
        ),
        subscription(
            "sub_0123456789abcdeh",
            GONE,
            json!({"item": "Home insurance", "amount": "240", "every": "year",
                   "cancelled_at": "2026-12-01", "state": "cancelled", "next_payment": null,
                   "renewal": null, "notice_deadline": null}),
        ),
    ]
}

fn projection() -> carnet_schemas::PaymentProjection {
    value(json!({
        "from": "2026-12-10",
        "through": "2027-12-09",
        "items": [
            {"subscription_id": "sub_0123456789abcdeg", "vendor_id": MARTIN,
             "item": "Weekly bread basket", "date": "2026-12-14", "amount": "1200", "currency": "JPY"},
            {"subscription_id": "sub_0123456789abcdef", "vendor_id": ACME,
             "item": "Fibre 1 Gb/s", "date": "2026-12-31", "amount": "29.99", "currency": "EUR"},
            {"subscription_id": "sub_0123456789abcdef", "vendor_id": GONE,
             "item": "Fibre 1 Gb/s", "date": "2027-01-31", "amount": "29.99", "currency": "EUR"},
        ],
        "months": [
            {"month": "2026-12", "currency": "EUR", "amount": "29.99"},
            {"month": "2026-12", "currency": "JPY", "amount": "1200"},
            {"month": "2027-01", "currency": "EUR", "amount": "29.99"},
        ],
        "year": [
            {"currency": "EUR", "amount": "59.98"},
            {"currency": "JPY", "amount": "1200"},
        ],
    }))
}

#[test]
fn subscription_list() {
    in_owner_zone!(subscription_list);
    let items = subscriptions();
    let refs: Vec<_> = items.iter().collect();
    let p = projection();
    let mut text = table(super::subscription::table(&refs, &names()));
    text.push_str("--- totals\n");
    text.push_str(&view(super::subscription::totals(&p)));
    text.push_str(&table(super::subscription::months(&p)));
    check("subscription_list", &text);
}

#[test]
fn subscription_payments() {
    in_owner_zone!(subscription_payments);
    check(
        "subscription_payments",
        &table(super::subscription::payment_table(&projection(), &names())),
    );
}

#[test]
fn subscription_show() {
    in_owner_zone!(subscription_show);
    let next = ["2026-12-31".to_owned(), "2027-01-31".to_owned()];
    let mut text = view(super::subscription::view(
        &subscriptions()[0],
        "Acme Appliances",
        &next,
    ));
    text.push_str("---\n");
    text.push_str(&view(super::subscription::view(
        &subscriptions()[2],
        "ven_0123456789abcdeh",
        &[],
    )));
    check("subscription_show", &text);
}

fn intent(id: &str, state: &str, offers: u32, fields: serde_json::Value) -> serde_json::Value {
    let mut v = json!({
        "id": id,
        "state": state,
        "offers": offers,
        "created_at": "2026-11-14T19:00:00Z",
        "updated_at": "2026-11-15T08:00:00Z",
    });
    merge(&mut v, fields);
    v
}

fn intents() -> Vec<carnet_schemas::Intent> {
    vec![
        value(intent(
            "itt_0123456789abcdef",
            "active",
            2,
            json!({
                "category": "home.appliances.washing-machine",
                "title": "Washing machine, 8 kg, quiet",
                "description": "Delivered and installed; the old one taken away",
                "price_specification": {"max_price": "700", "price_currency": "EUR"},
                "eligible_quantity": 1,
                "area_served": "Lyon",
                "available_delivery_method": "home delivery",
                "item_condition": "new",
                "valid_from": "2026-11-15T09:00:00+01:00",
                // The end of 15 December in Paris: shown as that day's 24:00.
                "valid_through": "2026-12-16T00:00:00+01:00",
                "terms": {"purpose": "one quote", "retention_days": 30, "no_resale": true,
                          "no_tracking": true, "withhold": ["price_specification"]},
                "max_offers": 5,
            }),
        )),
        value(intent(
            "itt_0123456789abcdeg",
            "draft",
            0,
            json!({
                "category": "home.appliances.fridge",
                "title": "Fridge",
                "price_specification": {"min_price": "300", "max_price": "500",
                                        "price_currency": "EUR"},
            }),
        )),
        value(intent(
            "itt_0123456789abcdeh",
            "fulfilled",
            3,
            json!({
                "category": "travel.train",
                "title": "Two tickets Lyon–Paris for the weekend of the 12th, flexible",
                "price_specification": {"min_price": "80", "price_currency": "EUR"},
                "valid_through": "2026-09-10T18:30:00+02:00",
            }),
        )),
    ]
}

#[test]
fn intent_list() {
    in_owner_zone!(intent_list);
    let items = intents();
    let refs: Vec<_> = items.iter().collect();
    check("intent_list", &table(super::intent_view::table(&refs)));
}

#[test]
fn intent_show() {
    in_owner_zone!(intent_show);
    let items = intents();
    check(
        "intent_show",
        &view(super::intent_view::print_intent(&items[0])),
    );
}

fn offers() -> Vec<carnet_schemas::Offer> {
    let offer = |id: &str, vendor: &str, state: &str, fields: serde_json::Value| {
        let mut v = json!({
            "id": id,
            "intent_id": "itt_0123456789abcdef",
            "vendor_id": vendor,
            "state": state,
            "created_at": "2026-11-16T10:00:00Z",
            "updated_at": "2026-11-16T10:00:00Z",
            "decline_reason": null,
            "purchase_id": null,
        });
        merge(&mut v, fields);
        value(v)
    };
    vec![
        offer(
            "ofr_0123456789abcdef",
            ACME,
            "pending",
            json!({"price": "649.00", "price_currency": "EUR",
                   "description": "WM-700, delivered and installed Thursday, old one taken away",
                   "url": "https://acme.example/offers/wm-700"}),
        ),
        offer(
            "ofr_0123456789abcdeg",
            GONE,
            "declined",
            json!({"price": "689.90", "price_currency": "EUR",
                   "description": "Quiet 8 kg model",
                   "valid_through": "2026-11-30T18:00:00+01:00",
                   "decline_reason": "Too far away"}),
        ),
        offer(
            "ofr_0123456789abcdeh",
            ACME,
            "pending",
            json!({"price": "749.00", "price_currency": "EUR",
                   "description": "WM-900, the quietest",
                   "over_budget": true}),
        ),
    ]
}

#[test]
fn offer_list() {
    in_owner_zone!(offer_list);
    let items = offers();
    let refs: Vec<_> = items.iter().collect();
    let ends = intents()
        .into_iter()
        .filter_map(|i| Some((i.id, i.fields.valid_through?)))
        .collect();
    check(
        "offer_list",
        &table(super::offer::table(&refs, &names(), &ends)),
    );
}

#[test]
fn offer_show() {
    in_owner_zone!(offer_show);
    let (items, intents) = (offers(), intents());
    check(
        "offer_show",
        &view(super::offer::view(&items[0], &intents[0], &names())),
    );
}

fn grants() -> Vec<carnet_schemas::Grant> {
    let grant = |id: &str, state: &str, fields: serde_json::Value| {
        let mut v = json!({
            "id": id,
            "state": state,
            "vendor_id": ACME,
            "created_at": "2026-11-15T09:30:00Z",
            "expires_at": "2026-12-15T09:30:00Z",
            "revoked_at": null,
            "categories": [],
            "all_categories": false,
            "purpose": null,
            "collection_method": "carnet grant create",
            "receipt_id": "rcp_0123456789abcdef",
        });
        merge(&mut v, fields);
        value(v)
    };
    vec![
        grant(
            "grt_0123456789abcdef",
            "live",
            json!({"scopes": ["intents:read", "offers:write"],
                   "categories": ["home.appliances"], "purpose": "Quotes for appliances"}),
        ),
        grant(
            "grt_0123456789abcdeg",
            "revoked",
            json!({"vendor_id": MARTIN, "scopes": ["relationship:read"], "all_categories": true,
                   "revoked_at": "2026-11-20T12:00:00Z"}),
        ),
    ]
}

#[test]
fn grant_list() {
    in_owner_zone!(grant_list);
    let items = grants();
    let refs: Vec<_> = items.iter().collect();
    check("grant_list", &table(super::grant::table(&refs, &names())));
}

#[test]
fn grant_show() {
    in_owner_zone!(grant_show);
    check(
        "grant_show",
        &view(super::grant::view(&grants()[0], &names())),
    );
}

#[test]
fn audit_list() {
    in_owner_zone!(audit_list);
    let entry = |seq: i64, at: &str, fields: serde_json::Value| {
        let mut v = json!({
            "seq": seq,
            "at": at,
            "vendor_id": ACME,
            "client_id": "cli_0123456789abcdef",
            "grant_id": "grt_0123456789abcdef",
            "scope": "intents:read",
            "ids": [],
            "status": 200,
        });
        merge(&mut v, fields);
        value::<carnet_schemas::AccessEntry>(v)
    };
    let items = [
        entry(
            3,
            "2026-11-16T10:00:02Z",
            json!({"endpoint": "GET /v1/vendor/intents",
                   "ids": ["itt_0123456789abcdef", "itt_0123456789abcdeg"],
                   "withheld": {"itt_0123456789abcdef": ["price_specification"]}}),
        ),
        entry(
            2,
            "2026-11-16T10:00:01Z",
            json!({"endpoint": "GET /v1/vendor/intents/{id}",
                   "ids": ["itt_0123456789abcdef"], "vendor_id": GONE}),
        ),
        entry(
            1,
            "2026-11-16T10:00:00Z",
            json!({"endpoint": "POST /oauth/token", "grant_id": null,
                   "scope": "intents:read offers:write"}),
        ),
    ];
    let refs: Vec<_> = items.iter().collect();
    check("audit_list", &table(super::audit::table(&refs, &names())));
}

#[test]
fn webhook_list() {
    in_owner_zone!(webhook_list);
    let now: DateTime<Utc> = "2026-11-16T10:05:00Z".parse().unwrap();
    let delivery = |id: &str, state: &str, fields: serde_json::Value| {
        let mut v = json!({
            "id": id,
            "vendor_id": ACME,
            "event": "intent.activated",
            "state": state,
            "attempts": 1,
            "created_at": "2026-11-16T09:00:00Z",
            "next_attempt_at": null,
            "delivered_at": null,
            "last_status": null,
            "last_error": null,
        });
        merge(&mut v, fields);
        value::<carnet_schemas::WebhookDelivery>(v)
    };
    let items = [
        delivery(
            "whd_1",
            "delivered",
            json!({"last_status": 204, "delivered_at": "2026-11-16T09:00:01Z"}),
        ),
        delivery(
            "whd_2",
            "pending",
            json!({"event": "offer.declined", "attempts": 4, "last_status": 503,
                   "last_error": "status", "next_attempt_at": "2026-11-16T10:12:00Z"}),
        ),
        delivery(
            "whd_3",
            "pending",
            json!({"event": "intent.updated", "attempts": 12, "last_error": "connect",
                   "next_attempt_at": "2026-11-17T00:10:00Z"}),
        ),
        delivery(
            "whd_4",
            "dropped",
            json!({"vendor_id": MARTIN, "event": "intent.ended", "attempts": 0,
                   "last_error": "grant"}),
        ),
        delivery(
            "whd_5",
            "failed",
            json!({"vendor_id": GONE, "attempts": 60, "last_status": 302,
                   "last_error": "redirect"}),
        ),
    ];
    let refs: Vec<_> = items.iter().collect();
    check(
        "webhook_list",
        &table(super::webhooks::table(&refs, &names(), &now)),
    );
}

/// The error lines of the kinds of failure: each one line and a hint.
#[test]
fn error_lines() {
    in_owner_zone!(error_lines);
    let server: ServerUrl = "http://127.0.0.1:8787".parse().unwrap();
    let problem = |status: u16, title: &str, detail: &str, hint: Option<&str>| Problem {
        kind: "about:blank".into(),
        title: title.into(),
        status,
        detail: detail.into(),
        hint: hint.map(Into::into),
        errors: Vec::new(),
    };
    let answer = |status: u16, p: Option<Problem>| {
        answer_error(
            &server,
            Some(&TokenSource::Env),
            StatusCode::from_u16(status).unwrap(),
            p,
            None,
        )
    };
    let mut fields = problem(422, "invalid", "2 fields are invalid", None);
    fields.errors = value(json!([
        {"field": "amount", "message": "not a number"},
        {"field": "next_due", "message": "needs a next_step"},
    ]));
    let errors: Vec<(&str, CliError)> = vec![
        (
            "not found",
            answer(
                404,
                Some(problem(
                    404,
                    "not found",
                    "there is no vendor ven_0123456789abcdef",
                    Some("list them (`carnet vendor list`)"),
                )),
            ),
        ),
        ("fields", answer(422, Some(fields))),
        (
            "conflict without a hint",
            answer(
                409,
                Some(problem(409, "conflict", "the intent is fulfilled", None)),
            ),
        ),
        (
            "sealed",
            answer(
                503,
                Some(problem(503, crate::client::SEALED_TITLE, "sealed", None)),
            ),
        ),
        (
            "refused token",
            answer(401, Some(problem(401, "unauthorized", "bad token", None))),
        ),
        ("not carnetd", answer(404, None)),
        ("a proxy without carnetd behind it", answer(502, None)),
        (
            "a file",
            io_error(
                "read the token file",
                std::path::Path::new("/home/camille/owner.token"),
                &std::io::Error::from(std::io::ErrorKind::NotFound),
            ),
        ),
        (
            "usage",
            CliError::usage("--until: the window would be over already"),
        ),
        (
            "log altered",
            CliError::new(
                ExitKind::LogAltered,
                "the access log failed verification: entry 7: its MAC does not check out",
            ),
        ),
    ];
    let mut text = String::new();
    for (what, e) in errors {
        text.push_str(&format!(
            "# {what} (exit {})\n{}",
            e.kind.code(),
            e.render()
        ));
    }
    check("error_lines", &text);
}
