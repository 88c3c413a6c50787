//! Webhook push: signed Standard Webhooks deliveries, at least once, to the vendors that may
//! see each event and to no one else; retries survive a receiver that is down and a SIGKILL;
//! no redirect is followed; a slow receiver does not hold up the others.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use carnet_tests::vendor::VendorApp;
use carnet_tests::webhook::{Delivery, Mode, Receiver};
use carnet_tests::{Api, Carnetd, TestServer};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

fn fields(category: &str, title: &str) -> Value {
    let until = Utc::now() + chrono::Duration::days(7);
    json!({"category": category, "title": title, "valid_through": until.to_rfc3339(),
           "price_specification": {"max_price": "700", "price_currency": "EUR"}})
}

fn intent(s: &impl Api, category: &str, title: &str) -> String {
    s.create("/v1/intents", &fields(category, title))
}

/// Rewrites an intent (in category `home.appliances`) with a new title.
fn retitle(s: &impl Api, id: &str, title: &str) {
    let r = s.put(
        &format!("/v1/intents/{id}"),
        &fields("home.appliances", title),
    );
    assert_eq!(r.status, 200, "{}", r.text);
}

fn activate(s: &impl Api, id: &str) {
    let r = s.post(&format!("/v1/intents/{id}/activate"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
}

/// A vendor whose webhooks go to `to`, granted intents and offers in every category.
fn hooked(s: &impl Api, name: &str, to: &Receiver) -> VendorApp {
    let v = VendorApp::connect_with_webhook(s, name, &to.url);
    v.grant(s, &["intents:read", "offers:write"], None);
    v
}

/// The vendor's webhook deliveries as `GET /v1/webhooks` lists them.
fn outbox(s: &impl Api, vendor: &str) -> Vec<Value> {
    let r = s.get(&format!("/v1/webhooks?vendor={vendor}"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.json().as_array().expect("list").clone()
}

/// Polls the listing until `done` holds for it (the server's view, not the receiver's).
#[track_caller]
fn wait_outbox(
    s: &impl Api,
    vendor: &str,
    what: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let rows = outbox(s, vendor);
        if done(&rows) {
            return rows;
        }
        assert!(
            Instant::now() < deadline,
            "waited a minute for {what}: {rows:#?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn events(d: &[Delivery]) -> Vec<String> {
    d.iter().map(Delivery::event).collect()
}

fn kinds(rows: &[Value]) -> BTreeSet<String> {
    rows.iter()
        .map(|r| {
            format!(
                "{} {}",
                r["event"].as_str().unwrap(),
                r["state"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn deliveries_are_signed_standard_webhooks_with_one_id_across_retries() {
    let s = TestServer::spawn();
    let hook = Receiver::with_mode(Mode::FailFirst(2));
    let v = hooked(&s, "Acme", &hook);
    let old_secret = v.webhook_secret.clone().expect("a webhook secret");
    let washer = intent(&s, "home.appliances.washing-machine", "Washing machine");
    activate(&s, &washer);

    let attempts = hook.wait_accepted(1);
    let all = hook.deliveries();
    assert_eq!(
        all.len(),
        3,
        "two refused attempts, then the accepted one: {all:#?}"
    );
    let id = &all[0].id;
    assert!(id.starts_with("msg_"), "{id}");
    for a in &all {
        assert_eq!(&a.id, id, "every attempt carries the same webhook-id");
        assert!(a.signed_with(&old_secret), "each attempt is signed: {a:?}");
        assert!(!a.signed_with("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
        assert!((Utc::now().timestamp() - a.timestamp).abs() < 300, "{a:?}");
    }
    let body = attempts[0].json();
    assert_eq!(body["type"], "intent.activated");
    assert!(DateTime::parse_from_rfc3339(body["timestamp"].as_str().unwrap()).is_ok());
    assert_eq!(body["data"]["id"], washer.as_str());
    assert_eq!(body["data"]["title"], "Washing machine");
    let customer = body["data"]["customer_ref"].as_str().unwrap().to_owned();
    assert!(!customer.is_empty());
    // The receiver has answered; carnetd records the outcome just after.
    let rows = wait_outbox(&s, &v.vendor_id, "the delivery recorded", |r| {
        r.len() == 1 && r[0]["state"] == "delivered"
    });
    let metrics =
        carnet_tests::Resp::from(carnet_tests::http().get(s.url("/metrics")).send().unwrap()).text;
    let counter = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in {metrics}"))
    };
    assert_eq!(counter("carnet_webhook_deliveries_total"), 1.0);
    assert_eq!(counter("carnet_webhook_delivery_failures_total"), 2.0);
    assert_eq!(rows[0]["id"], id.as_str());
    assert_eq!(rows[0]["attempts"], 3);

    // A new webhook secret (from the CLI) signs what follows; the old one no longer does.
    let out = s.carnet(&["--json", "vendor", "rotate-secret", "Acme", "--webhook"]);
    out.ok();
    let new_secret = out.json()["webhook_secret"].as_str().unwrap().to_owned();
    assert!(out.json()["client_secret"].is_null(), "{}", out.stdout);
    assert_ne!(new_secret, old_secret);
    hook.set_mode(Mode::Accept);
    let token = v.token();
    let offer = carnet_tests::Resp::from(
        carnet_tests::http()
            .post(format!("{}/v1/vendor/intents/{washer}/offers", s.base))
            .bearer_auth(&token)
            .json(&json!({"price": "649.90", "price_currency": "EUR", "description": "WM-9"}))
            .send()
            .unwrap(),
    );
    assert_eq!(offer.status, 201, "{}", offer.text);
    let offer = offer.json()["id"].as_str().unwrap().to_owned();
    let r = s.post(&format!("/v1/offers/{offer}/accept"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);

    let later: Vec<Delivery> = hook.wait_accepted(3).into_iter().skip(1).collect();
    let mut got = events(&later);
    got.sort();
    assert_eq!(got, ["intent.fulfilled", "offer.accepted"]);
    for d in &later {
        assert!(
            d.signed_with(&new_secret) && !d.signed_with(&old_secret),
            "{d:?}"
        );
        assert_eq!(d.json()["data"]["customer_ref"], customer.as_str());
    }
    let accepted = later
        .iter()
        .find(|d| d.event() == "offer.accepted")
        .unwrap();
    assert_eq!(accepted.json()["data"]["offer_id"], offer.as_str());
    assert_eq!(accepted.json()["data"]["intent_id"], washer.as_str());
}

#[test]
fn a_receiver_that_is_down_gets_every_event_once_it_is_back() {
    let s = TestServer::spawn();
    let hook = Receiver::start();
    hook.down();
    let v = hooked(&s, "Acme", &hook);
    let ids: Vec<String> = (0..3)
        .map(|i| intent(&s, "home.appliances", &format!("Thing {i}")))
        .collect();
    for id in &ids {
        activate(&s, id);
    }
    // Each activation is announced, then the updates and the withdrawal are written with
    // their changes.
    wait_outbox(&s, &v.vendor_id, "three activations", |r| r.len() == 3);
    retitle(&s, &ids[0], "Thing 0, bigger");
    let r = s.post(&format!("/v1/intents/{}/withdraw", ids[1]), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);

    // While it is down, each event is tried again and again.
    let rows = wait_outbox(
        &s,
        &v.vendor_id,
        "retries while the receiver is down",
        |r| r.len() == 5 && r.iter().all(|d| d["attempts"].as_u64() >= Some(2)),
    );
    for row in &rows {
        assert_eq!(row["state"], "pending", "{row}");
        assert_eq!(row["last_error"], "connect", "{row}");
        assert!(row["next_attempt_at"].is_string(), "{row}");
    }
    let queued: BTreeSet<String> = rows
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();

    hook.up();
    let got = hook.wait_accepted(5);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for d in &got {
        *seen.entry(d.id.clone()).or_default() += 1;
        assert!(d.signed_with(v.webhook_secret.as_deref().unwrap()), "{d:?}");
    }
    assert_eq!(
        seen.keys().cloned().collect::<BTreeSet<_>>(),
        queued,
        "the ids queued are the ids delivered"
    );
    assert!(
        seen.values().all(|n| *n == 1),
        "each event delivered once: {seen:?}"
    );
    let mut kinds_got = events(&got);
    kinds_got.sort();
    assert_eq!(
        kinds_got,
        [
            "intent.activated",
            "intent.activated",
            "intent.activated",
            "intent.updated",
            "intent.withdrawn"
        ]
    );
    let rows = wait_outbox(&s, &v.vendor_id, "all delivered", |r| {
        r.iter().all(|d| d["state"] == "delivered")
    });
    assert!(
        rows.iter()
            .all(|r| r["delivered_at"].is_string() && r["next_attempt_at"].is_null())
    );
}

#[test]
fn sigkill_between_the_change_and_the_delivery_loses_no_event() {
    let dir = tempfile::tempdir().unwrap();
    let hook = Receiver::start();
    hook.down();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    let v = hooked(&d, "Acme", &hook);
    let first = intent(&d, "home.appliances", "Kettle");
    let second = intent(&d, "home.appliances", "Toaster");
    let third = intent(&d, "home.appliances", "Blender");
    activate(&d, &first);
    activate(&d, &second);
    wait_outbox(&d, &v.vendor_id, "two activations", |r| r.len() == 2);
    // A change whose event is written with it, and an activation the worker has not
    // announced yet: then SIGKILL.
    let r = d.post(&format!("/v1/intents/{first}/withdraw"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    activate(&d, &third);
    d.kill();

    hook.up();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    let got = hook.wait_accepted(4);
    let mut kinds_got: Vec<String> = got
        .iter()
        .map(|g| format!("{} {}", g.event(), g.json()["data"]["id"].as_str().unwrap()))
        .collect();
    kinds_got.sort();
    let mut want = vec![
        format!("intent.activated {first}"),
        format!("intent.activated {second}"),
        format!("intent.activated {third}"),
        format!("intent.withdrawn {first}"),
    ];
    want.sort();
    assert_eq!(kinds_got, want);
    let ids: BTreeSet<&str> = got.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(ids.len(), 4, "no event delivered twice: {got:#?}");
    wait_outbox(&d, &v.vendor_id, "all delivered", |r| {
        r.len() == 4 && r.iter().all(|d| d["state"] == "delivered")
    });
}

#[test]
fn a_revoked_grant_gets_grant_revoked_and_nothing_after() {
    let s = TestServer::spawn();
    let (hook_a, hook_b, hook_c) = (Receiver::start(), Receiver::start(), Receiver::start());
    hook_b.down();
    let a = VendorApp::connect_with_webhook(&s, "Acme", &hook_a.url);
    let grant_a = a.grant(&s, &["intents:read"], None);
    let b = VendorApp::connect_with_webhook(&s, "Bolt", &hook_b.url);
    let grant_b = b.grant(&s, &["intents:read"], None);
    let watcher = hooked(&s, "Control", &hook_c);

    let kettle = intent(&s, "home.appliances", "Kettle");
    activate(&s, &kettle);
    assert_eq!(events(&hook_a.wait_accepted(1)), ["intent.activated"]);
    hook_c.wait_accepted(1);
    // Bolt's receiver is down: its event is still queued when its grant is revoked.
    wait_outbox(&s, &b.vendor_id, "a failed attempt", |r| {
        r.len() == 1 && r[0]["attempts"].as_u64() >= Some(1)
    });
    for g in [&grant_a, &grant_b] {
        let r = s.post(&format!("/v1/grants/{g}/revoke"), &json!({}));
        assert!(r.status < 300, "{}", r.text);
    }
    let got = hook_a.wait_accepted(2);
    assert_eq!(events(&got), ["intent.activated", "grant.revoked"]);
    let revoked = got[1].json();
    assert_eq!(revoked["data"]["grant_id"], grant_a.as_str());
    hook_b.up();
    let got = hook_b.wait_accepted(1);
    assert_eq!(
        events(&got),
        ["grant.revoked"],
        "the queued intent event is not sent after the revoke"
    );
    assert_eq!(got[0].json()["data"]["grant_id"], grant_b.as_str());

    // What happens next reaches the vendor that still has its grant, and not the others.
    let toaster = intent(&s, "home.appliances", "Toaster");
    activate(&s, &toaster);
    retitle(&s, &kettle, "Kettle, 1.7 l");
    let r = s.post(&format!("/v1/intents/{kettle}/withdraw"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let mut control = events(&hook_c.wait_accepted(4));
    control.sort();
    assert_eq!(
        control,
        [
            "intent.activated",
            "intent.activated",
            "intent.updated",
            "intent.withdrawn"
        ]
    );
    assert_eq!(outbox(&s, &watcher.vendor_id).len(), 4);
    let a_rows = wait_outbox(&s, &a.vendor_id, "Acme's deliveries recorded", |r| {
        r.iter().all(|d| d["state"] != "pending")
    });
    assert_eq!(
        kinds(&a_rows),
        BTreeSet::from([
            "intent.activated delivered".to_owned(),
            "grant.revoked delivered".to_owned()
        ])
    );
    let b_rows = wait_outbox(&s, &b.vendor_id, "the queued event dropped", |r| {
        r.iter().all(|d| d["state"] != "pending")
    });
    assert_eq!(
        kinds(&b_rows),
        BTreeSet::from([
            "intent.activated dropped".to_owned(),
            "grant.revoked delivered".to_owned()
        ])
    );
    assert_eq!(hook_a.deliveries().len(), 2);
    assert_eq!(hook_b.accepted().len(), 1);
}

#[test]
fn only_vendors_whose_grant_covers_the_category_are_notified() {
    let s = TestServer::spawn();
    let hooks: Vec<Receiver> = (0..4).map(|_| Receiver::start()).collect();
    let appliances = VendorApp::connect_with_webhook(&s, "Appliances", &hooks[0].url);
    appliances.grant(&s, &["intents:read"], Some(&["home.appliances"]));
    let travel = VendorApp::connect_with_webhook(&s, "Travel", &hooks[1].url);
    travel.grant(&s, &["intents:read"], Some(&["travel"]));
    let profile_only = VendorApp::connect_with_webhook(&s, "Profile only", &hooks[2].url);
    profile_only.grant(&s, &["profile:read"], None);
    let no_grant = VendorApp::connect_with_webhook(&s, "No grant", &hooks[3].url);

    let washer = intent(&s, "home.appliances.washing-machine", "Washing machine");
    activate(&s, &washer);
    let got = hooks[0].wait_accepted(1);
    assert_eq!(got[0].json()["data"]["id"], washer.as_str());
    // The activation was written for every recipient at once: the others have none.
    for v in [&travel, &profile_only, &no_grant] {
        assert!(
            outbox(&s, &v.vendor_id).is_empty(),
            "{} got an event",
            v.vendor_id
        );
    }
    for h in &hooks[1..] {
        assert!(h.deliveries().is_empty());
    }
}

#[test]
fn activation_and_expiry_are_announced_when_the_window_opens_and_closes() {
    let s = TestServer::spawn_with_manual_clock();
    let hook = Receiver::start();
    let v = hooked(&s, "Acme", &hook);
    let now = s.clock_now();
    let (from, until) = (
        now + chrono::Duration::hours(1),
        now + chrono::Duration::hours(3),
    );
    let mut body = fields("home.appliances", "Kettle");
    body["valid_from"] = json!(from.to_rfc3339());
    body["valid_through"] = json!(until.to_rfc3339());
    let kettle = s.create("/v1/intents", &body);
    activate(&s, &kettle);

    s.clock.set(from);
    let got = hook.wait_accepted(1);
    let activated = got[0].json();
    assert_eq!(activated["type"], "intent.activated");
    let at = DateTime::parse_from_rfc3339(activated["timestamp"].as_str().unwrap()).unwrap();
    assert!(
        at >= from,
        "announced when the window opened ({at}), not at activation ({now})"
    );
    assert_eq!(got[0].timestamp, from.timestamp());

    s.clock.set(until);
    let got = hook.wait_accepted(2);
    let expired = got[1].json();
    assert_eq!(expired["type"], "intent.expired");
    assert_eq!(expired["data"]["id"], kettle.as_str());
    assert_eq!(
        expired["data"]["customer_ref"],
        activated["data"]["customer_ref"]
    );
    assert!(
        expired["data"].get("title").is_none(),
        "an ended intent's content is not re-sent"
    );
    assert_eq!(outbox(&s, &v.vendor_id).len(), 2);
}

#[test]
fn a_redirect_is_never_followed() {
    let s = TestServer::spawn();
    let target = Receiver::start();
    let redirecting = Receiver::with_mode(Mode::Redirect(target.url.clone()));
    let v = hooked(&s, "Acme", &redirecting);
    activate(&s, &intent(&s, "home.appliances", "Kettle"));
    redirecting.wait_until("two redirected attempts", |d| d.len() >= 2);
    let rows = wait_outbox(&s, &v.vendor_id, "the attempt recorded", |r| {
        r.len() == 1 && r[0]["attempts"].as_u64() >= Some(2)
    });
    assert_eq!(rows[0]["state"], "pending");
    assert_eq!(rows[0]["last_status"], 302);
    assert_eq!(rows[0]["last_error"], "redirect");
    assert!(target.deliveries().is_empty(), "the redirect was followed");
    let out = s.carnet(&["webhooks", "--vendor", "Acme"]);
    out.ok();
    let row = out.stdout.lines().nth(1).unwrap_or_default();
    assert!(
        row.contains("intent.activated") && row.contains("pending") && row.ends_with("HTTP 302"),
        "{}",
        out.stdout
    );
}

#[test]
fn a_slow_receiver_does_not_hold_up_the_others() {
    let s = TestServer::spawn();
    let slow = Receiver::with_mode(Mode::Hold);
    let fast: Vec<Receiver> = (0..3).map(|_| Receiver::start()).collect();
    hooked(&s, "Slow", &slow);
    for (i, h) in fast.iter().enumerate() {
        hooked(&s, &format!("Fast {i}"), h);
    }
    activate(&s, &intent(&s, "home.appliances", "Kettle"));
    slow.wait_until("the slow receiver's request", |d| !d.is_empty());
    for h in &fast {
        h.wait_accepted(1);
    }
    let held = slow.deliveries();
    assert_eq!(held.len(), 1);
    assert_eq!(
        held[0].status, 0,
        "still open while the others were delivered"
    );
    slow.release();
    slow.wait_accepted(1);
}

#[test]
fn a_vendor_registered_webhook_url_must_be_https_to_a_public_address() {
    let s = TestServer::spawn_with_open_registration();
    let register = |webhook_url: &str| {
        carnet_tests::Resp::from(
            carnet_tests::http()
                .post(format!("{}/oauth/register", s.base))
                .json(
                    &json!({"client_name": "Acme", "redirect_uris": ["https://acme.example/cb"],
                              "webhook_url": webhook_url}),
                )
                .send()
                .unwrap(),
        )
    };
    for refused in [
        "https://127.0.0.1:8443/hook",
        "https://[::1]/hook",
        "https://10.0.0.7/hook",
        "https://192.168.1.20/hook",
        "https://172.16.0.1/hook",
        "https://169.254.169.254/latest",
        "https://[fd00::1]/hook",
        "https://localhost/hook",
        "https://localhost./hook",
        "https://hooks.localhost/hook",
        "http://hooks.acme.example/hook",
        "https://user:secret@hooks.acme.example/hook",
    ] {
        let r = register(refused);
        assert_eq!(r.status, 400, "{refused} was accepted: {}", r.text);
        assert_eq!(r.json()["error"], "invalid_client_metadata", "{refused}");
        assert!(
            r.json()["error_description"]
                .as_str()
                .unwrap()
                .contains("webhook_url"),
            "{}",
            r.text
        );
    }
    let r = register("https://hooks.acme.example/carnet");
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(
        r.json()["webhook_secret"]
            .as_str()
            .unwrap()
            .starts_with("whsec_")
    );
}

/// An IPv6 literal that carries a loopback or private IPv4 (compatible, NAT64, 6to4, Teredo) or
/// is site-local, unique-local, link-local, documentation, multicast or unspecified is no more
/// public than the address it stands for.
#[test]
fn a_vendor_webhook_url_in_an_ipv6_disguise_of_a_private_address_is_refused() {
    let s = TestServer::spawn_with_open_registration();
    let register = |webhook_url: &str| {
        carnet_tests::Resp::from(
            carnet_tests::http()
                .post(format!("{}/oauth/register", s.base))
                .json(
                    &json!({"client_name": "Acme", "redirect_uris": ["https://acme.example/cb"],
                              "webhook_url": webhook_url}),
                )
                .send()
                .unwrap(),
        )
    };
    for refused in [
        "https://[::127.0.0.1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://[::ffff:0:7f00:1]/hook",
        "https://[64:ff9b::7f00:1]/hook",
        "https://[64:ff9b::a9fe:a9fe]/latest",
        "https://[64:ff9b:1::7f00:1]/hook",
        "https://[fec0::1]/hook",
        "https://[fe80::1]/hook",
        "https://[fc00::1]/hook",
        "https://[2002:7f00:1::1]/hook",
        "https://[2002:c0a8:101::1]/hook",
        "https://[2001:0:7f00:1::a247:27dd]/hook",
        "https://[2001:db8::1]/hook",
        "https://[ff02::1]/hook",
        "https://[::]/hook",
    ] {
        let r = register(refused);
        assert_eq!(r.status, 400, "{refused} was accepted: {}", r.text);
        assert_eq!(r.json()["error"], "invalid_client_metadata", "{refused}");
        assert!(
            r.json()["error_description"]
                .as_str()
                .unwrap()
                .contains("public address"),
            "{}",
            r.text
        );
    }
    // The same forms around a public IPv4 stay usable.
    for accepted in [
        "https://[64:ff9b::5db8:d822]/hook",
        "https://[2002:5db8:d822::1]/hook",
        "https://[2606:4700:4700::1111]/hook",
    ] {
        let r = register(accepted);
        assert_eq!(r.status, 201, "{accepted}: {}", r.text);
    }
}

#[test]
fn a_backlog_is_delivered_once_per_event() {
    let s = TestServer::spawn();
    let hook = Receiver::start();
    let vendors: Vec<VendorApp> = (0..50)
        .map(|i| hooked(&s, &format!("Vendor {i}"), &hook))
        .collect();
    let ids: Vec<String> = (0..20)
        .map(|i| intent(&s, "home.appliances", &format!("Thing {i}")))
        .collect();
    for id in &ids {
        activate(&s, id);
    }
    let got = hook.wait_accepted(1000);
    let mut seen = BTreeMap::<&str, usize>::new();
    for d in &got {
        *seen.entry(d.id.as_str()).or_default() += 1;
    }
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    let mut pairs = BTreeSet::new();
    for d in &got {
        let data = d.json()["data"].clone();
        pairs.insert((
            data["customer_ref"].as_str().unwrap().to_owned(),
            data["id"].as_str().unwrap().to_owned(),
        ));
    }
    assert_eq!(pairs.len(), 1000, "every (vendor, intent) once");
    for v in &vendors {
        wait_outbox(&s, &v.vendor_id, "all delivered", |r| {
            r.len() == 20
                && r.iter()
                    .all(|d| d["state"] == "delivered" && d["attempts"] == 1)
        });
    }
}

#[test]
fn the_owner_moves_a_vendors_webhooks_and_redirect_uris_without_reconnecting_it() {
    let s = TestServer::spawn();
    let (first, second) = (Receiver::start(), Receiver::start());
    // Connected without a webhook URL, and granted.
    let vendor = s.create("/v1/vendors", &json!({"name": "Acme"}));
    let client = format!("/v1/vendors/{vendor}/client");
    let r = s.post(
        &client,
        &json!({"redirect_uris": ["https://acme.example/cb"]}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.json()["webhook_secret"].is_null());
    let client_secret = r.json()["client_secret"].as_str().unwrap().to_owned();
    s.create(
        "/v1/grants",
        &json!({"vendor_id": vendor, "scopes": ["intents:read"], "all_categories": true}),
    );

    // A first webhook URL comes with its secret, shown once; nothing else changes.
    let out = s.carnet(&[
        "--json",
        "vendor",
        "edit-client",
        "Acme",
        "--webhook-url",
        &first.url,
    ]);
    out.ok();
    let secret = out.json()["webhook_secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{}", out.stdout);
    assert!(out.json()["client_secret"].is_null(), "{}", out.stdout);
    assert_eq!(
        out.json()["redirect_uris"],
        json!(["https://acme.example/cb"])
    );
    let washer = intent(&s, "home.appliances", "Washing machine");
    activate(&s, &washer);
    let got = first.wait_accepted(1);
    assert_eq!(got[0].event(), "intent.activated");
    assert!(got[0].signed_with(&secret), "{:?}", got[0]);

    // Moved: the next event goes to the new URL, signed with the same secret.
    let out = s.carnet(&[
        "vendor",
        "edit-client",
        "Acme",
        "--webhook-url",
        &second.url,
    ]);
    out.ok();
    assert!(
        out.stdout.is_empty(),
        "no new secret to print: {}",
        out.stdout
    );
    assert!(out.stderr.contains(&second.url), "{}", out.stderr);
    let fridge = intent(&s, "home.appliances", "Fridge");
    activate(&s, &fridge);
    let moved = second.wait_accepted(1);
    assert_eq!(moved[0].json()["data"]["id"], fridge.as_str());
    assert!(moved[0].signed_with(&secret), "{:?}", moved[0]);
    assert_eq!(first.deliveries().len(), 1, "the old URL gets nothing more");

    // New redirect URIs; the webhook URL, the client secret and the grant stay.
    s.carnet(&[
        "vendor",
        "edit-client",
        "Acme",
        "--redirect-uri",
        "https://acme.example/new",
        "--redirect-uri",
        "https://app.acme.example/cb",
    ])
    .ok();
    let shown = s.get(&client).json();
    assert_eq!(
        shown["redirect_uris"],
        json!(["https://acme.example/new", "https://app.acme.example/cb"])
    );
    assert_eq!(shown["webhook_url"], second.url.as_str());
    let token = carnet_tests::Resp::from(
        carnet_tests::http()
            .post(s.url("/oauth/token"))
            .basic_auth(shown["client_id"].as_str().unwrap(), Some(&client_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .unwrap(),
    );
    assert_eq!(token.status, 200, "{}", token.text);

    // '' removes the URL and its secret: there is no webhook secret to rotate any more.
    s.carnet(&["vendor", "edit-client", "Acme", "--webhook-url", ""])
        .ok();
    assert!(s.get(&client).json()["webhook_url"].is_null());
    let rotate = s.carnet(&["vendor", "rotate-secret", "Acme", "--webhook"]);
    assert_eq!(rotate.code, 1, "{}", rotate.stderr);
    assert!(rotate.stderr.contains("edit-client"), "{}", rotate.stderr);

    // Bad input changes nothing.
    let r = s.put(&client, &json!({"redirect_uris": []}));
    assert_eq!(
        r.problem(422)["errors"][0]["field"],
        "redirect_uris",
        "{}",
        r.text
    );
    let r = s.put(
        &client,
        &json!({"redirect_uris": ["https://a.example/cb"], "secret": "x"}),
    );
    assert_eq!(r.problem(422)["errors"][0]["field"], "secret", "{}", r.text);
    let other = s.create("/v1/vendors", &json!({"name": "Boulangerie"}));
    let r = s.put(
        &format!("/v1/vendors/{other}/client"),
        &json!({"redirect_uris": ["https://b.example/cb"]}),
    );
    assert_eq!(r.status, 404, "{}", r.text);
    let usage = s.carnet(&["vendor", "edit-client", "Acme"]);
    assert_eq!(usage.code, 2, "{}", usage.stderr);
    assert_eq!(
        s.get(&client).json()["redirect_uris"],
        json!(["https://acme.example/new", "https://app.acme.example/cb"])
    );
}

#[test]
fn a_failed_delivery_is_logged_at_the_default_level() {
    let dir = tempfile::tempdir().unwrap();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    let hook = Receiver::start();
    hook.down();
    let v = hooked(&d, "Acme", &hook);
    let id = intent(&d, "home.appliances", "Washing machine");
    activate(&d, &id);
    let line = d.wait_for_log(&["webhook delivery failed", &v.vendor_id]);
    let entry: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(entry["level"], "WARN", "{line}");
    assert_eq!(entry["fields"]["error"], "connect", "{line}");
    assert_eq!(entry["fields"]["attempt"], 1, "{line}");
}
