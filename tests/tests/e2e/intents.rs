//! Intentcasting: an intent is visible to a granted vendor only while active, inside its
//! window and in a granted category; offers are bounded and rate-limited; accepting one
//! records the purchase.

use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, TestServer};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

fn intent_body(category: &str, until: DateTime<Utc>) -> Value {
    json!({
        "category": category,
        "title": "Washing machine",
        "description": "8 kg, quiet, A-rated",
        "price_specification": {"max_price": "700", "price_currency": "EUR"},
        "eligible_quantity": 1,
        "area_served": "Lyon",
        "item_condition": "new",
        "valid_through": until.to_rfc3339(),
    })
}

/// Writes and activates an intent; returns its id.
fn active_intent(s: &TestServer, category: &str, until: DateTime<Utc>) -> String {
    let id = s.create("/v1/intents", &intent_body(category, until));
    let r = s.post(&format!("/v1/intents/{id}/activate"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["state"], "active");
    id
}

fn pulled(v: &VendorApp, token: &str) -> Vec<String> {
    let r = v.get(token, "/v1/vendor/intents");
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

fn buyer_vendor(s: &TestServer, name: &str, categories: Option<&[&str]>) -> (VendorApp, String) {
    let v = VendorApp::connect(s, name);
    v.grant(s, &["intents:read", "offers:write"], categories);
    let t = v.token();
    (v, t)
}

#[test]
fn an_expired_intent_is_invisible_from_the_boundary_second() {
    let s = TestServer::spawn_with_manual_clock();
    let now = s.clock_now();
    let until = now + Duration::hours(2);
    let (v, _) = buyer_vendor(&s, "Acme", Some(&["home.appliances"]));
    let id = active_intent(&s, "home.appliances.washing-machine", until);
    let t = v.token();
    assert_eq!(pulled(&v, &t), vec![id.clone()]);
    s.clock.set(until - Duration::seconds(1));
    let t = v.token();
    assert_eq!(pulled(&v, &t), vec![id.clone()]);
    assert_eq!(v.get(&t, &format!("/v1/vendor/intents/{id}")).status, 200);
    s.clock.set(until);
    assert!(pulled(&v, &t).is_empty(), "expired that same second");
    v.get(&t, &format!("/v1/vendor/intents/{id}")).problem(404);
    assert_eq!(
        s.get(&format!("/v1/intents/{id}")).json()["state"],
        "expired"
    );
    s.post(&format!("/v1/intents/{id}/withdraw"), &json!({}))
        .problem(409);
}

#[test]
fn an_intent_is_invisible_before_activation_and_before_its_window_opens() {
    let s = TestServer::spawn_with_manual_clock();
    let now = s.clock_now();
    let (v, t) = buyer_vendor(&s, "Acme", None);
    let mut body = intent_body("home.appliances", now + Duration::days(3));
    body["valid_from"] = json!((now + Duration::days(1)).to_rfc3339());
    let id = s.create("/v1/intents", &body);
    assert!(pulled(&v, &t).is_empty(), "a draft is invisible");
    v.get(&t, &format!("/v1/vendor/intents/{id}")).problem(404);
    s.post(&format!("/v1/intents/{id}/activate"), &json!({}));
    assert!(pulled(&v, &t).is_empty(), "the window has not opened");
    s.clock.set(now + Duration::days(1));
    let t = v.token();
    assert_eq!(pulled(&v, &t), vec![id]);
}

#[test]
fn withdrawn_and_fulfilled_intents_are_invisible() {
    let s = TestServer::spawn();
    let (v, t) = buyer_vendor(&s, "Acme", None);
    let until = Utc::now() + Duration::days(5);
    let a = active_intent(&s, "home.appliances", until);
    let b = active_intent(&s, "home.garden", until);
    assert_eq!(pulled(&v, &t).len(), 2);
    assert_eq!(
        s.post(&format!("/v1/intents/{a}/withdraw"), &json!({}))
            .json()["state"],
        "withdrawn"
    );
    assert_eq!(
        s.post(&format!("/v1/intents/{b}/fulfil"), &json!({}))
            .json()["state"],
        "fulfilled"
    );
    assert!(pulled(&v, &t).is_empty());
    v.get(&t, &format!("/v1/vendor/intents/{a}")).problem(404);
    v.get(&t, &format!("/v1/vendor/intents/{b}")).problem(404);
    s.post(&format!("/v1/intents/{a}/activate"), &json!({}))
        .problem(409);
}

#[test]
fn a_vendor_sees_only_the_categories_it_was_granted() {
    let s = TestServer::spawn();
    let until = Utc::now() + Duration::days(5);
    let washer = active_intent(&s, "home.appliances.washing-machine", until);
    let sibling = active_intent(&s, "home.appliancesx", until);
    let garden = active_intent(&s, "home.garden", until);
    let (parent, tp) = buyer_vendor(&s, "Parent", Some(&["home.appliances"]));
    assert_eq!(pulled(&parent, &tp), vec![washer.clone()]);
    parent
        .get(&tp, &format!("/v1/vendor/intents/{sibling}"))
        .problem(404);
    let (gardener, tg) = buyer_vendor(&s, "Gardener", Some(&["home.garden"]));
    assert_eq!(pulled(&gardener, &tg), vec![garden]);
    gardener
        .get(&tg, &format!("/v1/vendor/intents/{washer}"))
        .problem(404);
    let ungranted = VendorApp::connect(&s, "Nobody");
    assert_eq!(
        ungranted
            .oauth("/oauth/token", &[("grant_type", "client_credentials")])
            .json()["error"],
        "unauthorized_client"
    );
    let narrow = parent.token_with(&[("categories", "home.appliances.dryer")]);
    assert!(
        pulled(&parent, &narrow).is_empty(),
        "a token narrowed to dryers"
    );
}

#[test]
fn a_revoked_grant_stops_pulls_at_once() {
    let s = TestServer::spawn();
    let until = Utc::now() + Duration::days(5);
    active_intent(&s, "home.appliances", until);
    let v = VendorApp::connect(&s, "Acme");
    let grant = v.grant(&s, &["intents:read"], None);
    let t = v.token();
    assert_eq!(pulled(&v, &t).len(), 1);
    s.post(&format!("/v1/grants/{grant}/revoke"), &json!({}));
    v.get(&t, "/v1/vendor/intents").problem(401);
}

#[test]
fn vendors_see_only_what_the_terms_allow() {
    // Every read its own entry: the cached second read is checked below.
    let s = TestServer::spawn_logging_every_read();
    let (v, t) = buyer_vendor(&s, "Acme", None);
    let mut body = intent_body("home.appliances", Utc::now() + Duration::days(5));
    body["terms"] = json!({"withhold": ["price_specification", "area_served"], "purpose": "find a washer", "retention_days": 7});
    let id = s.create("/v1/intents", &body);
    s.post(&format!("/v1/intents/{id}/activate"), &json!({}));
    let seen = v.get(&t, &format!("/v1/vendor/intents/{id}")).json();
    assert!(seen.get("price_specification").is_none(), "{seen}");
    assert!(seen.get("area_served").is_none(), "{seen}");
    assert_eq!(seen["description"], "8 kg, quiet, A-rated");
    assert_eq!(
        seen["terms"],
        json!({"purpose": "find a washer", "retention_days": 7, "no_resale": true, "no_tracking": true})
    );
    assert!(seen["customer_ref"].as_str().unwrap().starts_with("cus_"));
    assert_eq!(
        seen["id"], id,
        "one id in the owner's and the vendors' views"
    );
    // The access log says which intents each read returned and which of their fields it
    // withheld (twice: the list's first page is served again from the cache).
    let plain = active_intent(&s, "home.appliances", Utc::now() + Duration::days(5));
    for _ in 0..2 {
        pulled(&v, &t);
    }
    let log = s.list_all(&format!("/v1/access-log?vendor={}", v.vendor_id));
    let withheld = json!({ id.as_str(): ["price_specification", "area_served"] });
    let reads: Vec<&serde_json::Value> = log
        .iter()
        .filter(|e| {
            e["endpoint"]
                .as_str()
                .unwrap()
                .starts_with("GET /v1/vendor/intents")
        })
        .collect();
    assert_eq!(reads.len(), 3, "{log:#?}");
    for e in &reads[..2] {
        assert_eq!(e["endpoint"], "GET /v1/vendor/intents");
        let mut ids: Vec<&str> = e["ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i.as_str().unwrap())
            .collect();
        ids.sort();
        let mut want = vec![id.as_str(), plain.as_str()];
        want.sort();
        assert_eq!(ids, want);
        assert_eq!(e["withheld"], withheld, "{e}");
    }
    let grant = reads[0]["grant_id"].as_str().unwrap().to_owned();
    assert!(grant.starts_with("grt_"), "under which grant: {}", reads[0]);
    assert_eq!(reads[2]["endpoint"], "GET /v1/vendor/intents/{id}");
    assert_eq!(reads[2]["withheld"], withheld);
    let out = carnet_tests::run_carnet_env(
        s.path(),
        &[
            ("CARNET_SERVER", s.base.as_str()),
            ("CARNET_TOKEN", s.token().as_str()),
            ("COLUMNS", "250"),
        ],
        &["audit", "--vendor", "Acme"],
        None,
    );
    out.ok();
    assert!(
        out.stdout.contains(&grant),
        "the grant is shown: {}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("(withheld: price_specification, area_served)"),
        "{}",
        out.stdout
    );
}

#[test]
fn forged_tampered_and_other_vendor_cursors_are_rejected() {
    let s = TestServer::spawn();
    let until = Utc::now() + Duration::days(5);
    for _ in 0..3 {
        active_intent(&s, "home.appliances", until);
    }
    let (a, ta) = buyer_vendor(&s, "A", None);
    let (b, tb) = buyer_vendor(&s, "B", None);
    let first = a.get(&ta, "/v1/vendor/intents?limit=2").json();
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let rest = a
        .get(&ta, &format!("/v1/vendor/intents?limit=2&cursor={cursor}"))
        .json();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    b.get(&tb, &format!("/v1/vendor/intents?cursor={cursor}"))
        .problem(400);
    let (payload, tag) = cursor.split_once('.').unwrap();
    let forged = format!("{}.{tag}", payload.chars().rev().collect::<String>());
    a.get(&ta, &format!("/v1/vendor/intents?cursor={forged}"))
        .problem(400);
    a.get(&ta, "/v1/vendor/intents?cursor=eyJ4IjoxfQ")
        .problem(400);
}

fn offer(v: &VendorApp, t: &str, intent: &str, price: &str) -> carnet_tests::Resp {
    carnet_tests::Resp::from(
        carnet_tests::http()
            .post(format!("{}/v1/vendor/intents/{intent}/offers", v.base))
            .bearer_auth(t)
            .json(&json!({"price": price, "price_currency": "EUR", "description": "WM-9, delivered Friday", "url": "https://acme.example/wm9"}))
            .send()
            .unwrap(),
    )
}

#[test]
fn offers_on_someone_elses_or_a_non_active_intent_are_rejected() {
    let s = TestServer::spawn();
    let until = Utc::now() + Duration::days(5);
    let washer = active_intent(&s, "home.appliances", until);
    let draft = s.create("/v1/intents", &intent_body("home.appliances", until));
    let (gardener, tg) = buyer_vendor(&s, "Gardener", Some(&["home.garden"]));
    offer(&gardener, &tg, &washer, "600").problem(404);
    let (v, t) = buyer_vendor(&s, "Acme", None);
    offer(&v, &t, &draft, "600").problem(404);
    s.post(&format!("/v1/intents/{washer}/withdraw"), &json!({}));
    offer(&v, &t, &washer, "600").problem(404);
    let reader = VendorApp::connect(&s, "Reader");
    reader.grant(&s, &["intents:read"], None);
    let tr = reader.token();
    let live = active_intent(&s, "home.appliances", until);
    offer(&reader, &tr, &live, "600").problem(403);
    assert!(s.get("/v1/offers").json().as_array().unwrap().is_empty());
}

#[test]
fn offers_are_rate_limited_per_vendor_and_capped_per_intent() {
    let s = TestServer::spawn_with_manual_clock();
    let until = s.clock_now() + Duration::days(5);
    let mut body = intent_body("home.appliances", until);
    body["max_offers"] = json!(100);
    let big = s.create("/v1/intents", &body);
    s.post(&format!("/v1/intents/{big}/activate"), &json!({}));
    let (v, t) = buyer_vendor(&s, "Acme", None);
    for i in 0..10 {
        assert_eq!(
            offer(&v, &t, &big, &format!("{}", 600 + i)).status,
            201,
            "offer {i}"
        );
    }
    let limited = offer(&v, &t, &big, "599");
    limited.problem(429);
    assert!(
        limited
            .header("retry-after")
            .unwrap()
            .parse::<u64>()
            .unwrap()
            >= 1
    );
    let (other, to) = buyer_vendor(&s, "Other", None);
    assert_eq!(
        offer(&other, &to, &big, "590").status,
        201,
        "another vendor has its own allowance"
    );
    s.clock.advance(Duration::seconds(6));
    let t = v.token();
    assert_eq!(
        offer(&v, &t, &big, "598").status,
        201,
        "the allowance comes back"
    );

    let mut body = intent_body("home.appliances", until);
    body["max_offers"] = json!(2);
    let small = s.create("/v1/intents", &body);
    s.post(&format!("/v1/intents/{small}/activate"), &json!({}));
    s.clock.advance(Duration::seconds(60));
    let t = v.token();
    assert_eq!(offer(&v, &t, &small, "650").status, 201);
    assert_eq!(offer(&other, &other.token(), &small, "640").status, 201);
    offer(&v, &t, &small, "630").problem(409);
}

#[test]
fn accepting_an_offer_records_the_purchase_and_fulfils_the_intent() {
    let s = TestServer::spawn();
    let until = Utc::now() + Duration::days(5);
    let washer = active_intent(&s, "home.appliances", until);
    let (acme, ta) = buyer_vendor(&s, "Acme", None);
    let (other, to) = buyer_vendor(&s, "Other", None);
    let good = offer(&acme, &ta, &washer, "649.90").json();
    let meh = offer(&other, &to, &washer, "699.00").json();
    assert_eq!(good["state"], "pending");
    let listed = s.get(&format!("/v1/offers?intent={washer}")).json();
    assert_eq!(listed.as_array().unwrap().len(), 2);

    let accepted = s.post(
        &format!("/v1/offers/{}/accept", good["id"].as_str().unwrap()),
        &json!({}),
    );
    assert_eq!(accepted.status, 200, "{}", accepted.text);
    let accepted = accepted.json();
    assert_eq!(accepted["state"], "accepted");
    let purchase = accepted["purchase_id"].as_str().unwrap();
    let p = s.get(&format!("/v1/purchases/{purchase}")).json();
    assert_eq!(p["vendor_id"], acme.vendor_id.as_str());
    assert_eq!(p["amount"], "649.90");
    assert_eq!(p["item"], "Washing machine");
    let loyalty = s.get(&format!("/v1/vendors/{}", acme.vendor_id)).json()["loyalty"].clone();
    assert_eq!(loyalty["purchases"], 1);
    assert_eq!(loyalty["total_spent"]["EUR"], "649.90");
    assert_eq!(
        s.get(&format!("/v1/intents/{washer}")).json()["state"],
        "fulfilled"
    );
    assert!(pulled(&acme, &ta).is_empty());
    let meh_id = meh["id"].as_str().unwrap();
    assert_eq!(
        s.get(&format!("/v1/offers/{meh_id}")).json()["state"],
        "expired"
    );
    s.post(&format!("/v1/offers/{meh_id}/accept"), &json!({}))
        .problem(409);
}

#[test]
fn an_offer_can_be_accepted_keeping_the_intent_open_or_declined_with_a_reason() {
    let s = TestServer::spawn();
    let until = Utc::now() + Duration::days(5);
    let id = active_intent(&s, "home.appliances", until);
    let (v, t) = buyer_vendor(&s, "Acme", None);
    let a = offer(&v, &t, &id, "100").json();
    let b = offer(&v, &t, &id, "200").json();
    let kept = s
        .post(
            &format!("/v1/offers/{}/accept", a["id"].as_str().unwrap()),
            &json!({"keep_open": true}),
        )
        .json();
    assert_eq!(kept["state"], "accepted");
    assert_eq!(
        s.get(&format!("/v1/intents/{id}")).json()["state"],
        "active"
    );
    let declined = s
        .post(
            &format!("/v1/offers/{}/decline", b["id"].as_str().unwrap()),
            &json!({"reason": "too dear"}),
        )
        .json();
    assert_eq!(declined["state"], "declined");
    assert_eq!(declined["decline_reason"], "too dear");
    assert_eq!(pulled(&v, &t), vec![id]);
}

#[test]
fn intent_content_is_sealed_in_the_database() {
    let s = TestServer::spawn();
    let mut body = intent_body("home.secretcategoryzq", Utc::now() + Duration::days(5));
    body["title"] = json!("Secret title zqx");
    let id = s.create("/v1/intents", &body);
    s.post(&format!("/v1/intents/{id}/activate"), &json!({}));
    let (v, t) = buyer_vendor(&s, "Acme", None);
    offer(&v, &t, &id, "1.00");
    let dir = s.stop();
    for name in ["carnet.db", "carnet.db-wal"] {
        let bytes = std::fs::read(dir.path().join(name)).unwrap_or_default();
        for needle in [
            "secretcategoryzq",
            "Secret title zqx",
            "WM-9, delivered Friday",
        ] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} in {name}"
            );
        }
    }
}

#[test]
fn bad_intents_are_refused_with_the_field_named() {
    let s = TestServer::spawn();
    let until = Utc::now() + Duration::days(5);
    let mut body = intent_body("home.appliances", until);
    body["price_specification"] =
        json!({"min_price": "800", "max_price": "700", "price_currency": "EUR"});
    let p = s.post("/v1/intents", &body).problem(422);
    assert_eq!(p["errors"][0]["field"], "price_specification.min_price");
    let mut body = intent_body("home.appliances", until);
    body["max_offers"] = json!(0);
    s.post("/v1/intents", &body).problem(422);
    let mut body = intent_body("Home Appliances", until);
    body["title"] = json!("x");
    let p = s.post("/v1/intents", &body).problem(422);
    assert_eq!(p["errors"][0]["field"], "category");
    let later = TestServer::spawn_with_manual_clock();
    let soon = later.create(
        "/v1/intents",
        &intent_body("home.appliances", later.clock_now() + Duration::hours(1)),
    );
    later.clock.advance(Duration::hours(1));
    let p = later
        .post(&format!("/v1/intents/{soon}/activate"), &json!({}))
        .problem(409);
    assert!(p["hint"].as_str().unwrap().contains("--until"), "{p}");
}

#[test]
fn offers_of_an_unknown_intent_are_404_and_a_past_window_is_refused_at_once() {
    let s = TestServer::spawn();
    s.get("/v1/offers?intent=itt_0123456789abcdef").problem(404);
    let p = s
        .post(
            "/v1/intents",
            &intent_body("home.appliances", Utc::now() - Duration::hours(1)),
        )
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "valid_through");
}
