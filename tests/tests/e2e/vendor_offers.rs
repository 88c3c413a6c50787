//! Offers follow the intent they answer: in its currency, marked for the owner when they are
//! over its budget, never past what it takes (and the vendor is told when it is full); a
//! vendor lists its own offers and what became of them.

use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, Resp, TestServer, http};
use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};

fn intent(s: &TestServer, until: DateTime<Utc>, extra: Value) -> String {
    let mut body = json!({"category": "home.appliances", "title": "Washing machine",
        "price_specification": {"max_price": "700", "price_currency": "EUR"},
        "valid_through": until.to_rfc3339()});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    let id = s.create("/v1/intents", &body);
    let r = s.post(&format!("/v1/intents/{id}/activate"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    id
}

fn seller(s: &TestServer, name: &str) -> (VendorApp, String) {
    let v = VendorApp::connect(s, name);
    v.grant(s, &["intents:read", "offers:write"], None);
    let t = v.token();
    (v, t)
}

fn offer(v: &VendorApp, t: &str, intent: &str, price: &str, currency: &str) -> Resp {
    Resp::from(
        http()
            .post(format!("{}/v1/vendor/intents/{intent}/offers", v.base))
            .bearer_auth(t)
            .json(&json!({"price": price, "price_currency": currency, "description": "WM-9"}))
            .send()
            .unwrap(),
    )
}

fn made(r: Resp) -> String {
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()["id"].as_str().unwrap().to_owned()
}

#[test]
fn an_offer_in_another_currency_than_the_intents_is_refused() {
    let s = TestServer::spawn();
    let until = Utc::now() + Duration::days(5);
    let eur = intent(&s, until, json!({}));
    let (v, t) = seller(&s, "Acme");
    let p = offer(&v, &t, &eur, "650", "USD").problem(422);
    assert_eq!(p["errors"][0]["field"], "price_currency", "{p}");
    let message = p["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("EUR") && message.contains("USD"), "{p}");
    assert!(s.get("/v1/offers").json().as_array().unwrap().is_empty());

    // An intent that withholds its price does not tell its currency either.
    let hidden = intent(
        &s,
        until,
        json!({"terms": {"withhold": ["price_specification"]}}),
    );
    let p = offer(&v, &t, &hidden, "650", "GBP").problem(422);
    let message = p["errors"][0]["message"].as_str().unwrap();
    assert!(!message.contains("EUR"), "{p}");
    made(offer(&v, &t, &hidden, "650", "EUR"));
    // An intent without a price takes any currency.
    let open = s.create(
        "/v1/intents",
        &json!({"category": "home.appliances", "title": "Anything",
                "valid_through": until.to_rfc3339()}),
    );
    s.post(&format!("/v1/intents/{open}/activate"), &json!({}));
    made(offer(&v, &t, &open, "650", "CHF"));
}

#[test]
fn an_offer_over_budget_is_allowed_and_marked_for_the_owner() {
    let s = TestServer::spawn();
    let washer = intent(&s, Utc::now() + Duration::days(5), json!({}));
    let (v, t) = seller(&s, "Acme");
    let dear = made(offer(&v, &t, &washer, "749.00", "EUR"));
    let exact = made(offer(&v, &t, &washer, "700.00", "EUR"));
    let cheap = made(offer(&v, &t, &washer, "650", "EUR"));
    let listed = s.get(&format!("/v1/offers?intent={washer}")).json();
    let over: Vec<(&str, bool)> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["id"].as_str().unwrap(), o["over_budget"] == true))
        .collect();
    assert!(over.contains(&(dear.as_str(), true)), "{listed}");
    assert!(over.contains(&(exact.as_str(), false)), "{listed}");
    assert!(over.contains(&(cheap.as_str(), false)), "{listed}");
    assert_eq!(
        s.get(&format!("/v1/offers/{dear}")).json()["over_budget"],
        true
    );

    let out = s.carnet(&["offers", "--intent", &washer]);
    out.ok();
    let line = |id: &str| {
        out.stdout
            .lines()
            .find(|l| l.contains(id))
            .unwrap_or_else(|| panic!("{id} not listed: {}", out.stdout))
            .to_owned()
    };
    assert!(line(&dear).contains("(over budget)"), "{}", out.stdout);
    assert!(!line(&exact).contains("over budget"), "{}", out.stdout);
    assert!(!line(&cheap).contains("over budget"), "{}", out.stdout);
}

#[test]
fn a_full_intent_says_so_and_refusing_it_costs_no_allowance() {
    let s = TestServer::spawn();
    let until = Utc::now() + Duration::days(5);
    let two = intent(&s, until, json!({"max_offers": 2}));
    let (v, t) = seller(&s, "Acme");
    let seen = |v: &VendorApp, t: &str| {
        let one = v.get(t, &format!("/v1/vendor/intents/{two}")).json();
        let page = v.get(t, "/v1/vendor/intents").json();
        let listed = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["id"] == two.as_str())
            .cloned()
            .unwrap();
        assert_eq!(
            one["accepts_offers"], listed["accepts_offers"],
            "{one} {listed}"
        );
        one["accepts_offers"].as_bool().unwrap()
    };
    assert!(seen(&v, &t));
    made(offer(&v, &t, &two, "650", "EUR"));
    assert!(seen(&v, &t), "one offer left");
    made(offer(&v, &t, &two, "640", "EUR"));
    assert!(!seen(&v, &t), "full");
    for _ in 0..8 {
        let p = offer(&v, &t, &two, "630", "EUR").problem(409);
        assert!(
            p["detail"].as_str().unwrap().contains("2 offers it takes"),
            "{p}"
        );
    }
    // The refusals did not spend the vendor's burst of 10 offers.
    let other = intent(&s, until, json!({"max_offers": 20}));
    for i in 0..8 {
        made(offer(&v, &t, &other, &format!("{}", 600 + i), "EUR"));
    }
    // It stays full after a restart.
    let s = TestServer::restart_in(s.stop());
    let v = VendorApp {
        base: s.base.clone(),
        ..v
    };
    let t = v.token();
    assert!(!seen(&v, &t));
}

#[test]
fn a_vendor_lists_its_own_offers_and_what_became_of_them() {
    let s = TestServer::spawn_with_manual_clock();
    let until = s.clock_now() + Duration::days(5);
    let washer = intent(&s, until, json!({}));
    let dryer = intent(&s, until, json!({"title": "Dryer"}));
    let (v, t) = seller(&s, "Acme");
    let (other, to) = seller(&s, "Other");
    let declined = made(offer(&v, &t, &washer, "690", "EUR"));
    let accepted = made(offer(&v, &t, &dryer, "400", "EUR"));
    let expired = made(offer(&v, &t, &dryer, "420", "EUR"));
    let theirs = made(offer(&other, &to, &washer, "680", "EUR"));
    s.clock.advance(Duration::seconds(1));
    let before_answers = s.clock_now();
    s.post(
        &format!("/v1/offers/{declined}/decline"),
        &json!({"reason": "too dear"}),
    );
    s.post(&format!("/v1/offers/{accepted}/accept"), &json!({}));

    let page = v.get(&t, "/v1/vendor/offers").json();
    let states: Vec<(String, String)> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["id"].as_str().unwrap().to_owned(),
                o["state"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(states.len(), 3, "only its own: {page}");
    assert!(!states.iter().any(|(id, _)| *id == theirs), "{page}");
    for (id, state) in [
        (&declined, "declined"),
        (&accepted, "accepted"),
        (&expired, "expired"),
    ] {
        assert!(
            states.contains(&(id.clone(), state.to_owned())),
            "{id} {state}: {page}"
        );
    }
    assert!(page["next_cursor"].is_null());

    // Paged like the other listings, with cursors only this vendor can use.
    let first = v.get(&t, "/v1/vendor/offers?limit=2").json();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let rest = v
        .get(&t, &format!("/v1/vendor/offers?limit=2&cursor={cursor}"))
        .json();
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    other
        .get(&to, &format!("/v1/vendor/offers?cursor={cursor}"))
        .problem(400);
    v.get(&t, "/v1/vendor/offers?limit=0").problem(400);

    // Incremental: what changed since.
    let since = before_answers.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let changed = v
        .get(
            &t,
            &format!(
                "/v1/vendor/offers?updated_since={}",
                since.replace('+', "%2B")
            ),
        )
        .json();
    let mut ids: Vec<&str> = changed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_str().unwrap())
        .collect();
    ids.sort();
    let mut want = vec![declined.as_str(), accepted.as_str()];
    want.sort();
    assert_eq!(ids, want, "{changed}");

    // It needs offers:write, and each listing is in the access log.
    let reader = VendorApp::connect(&s, "Reader");
    reader.grant(&s, &["intents:read"], None);
    reader
        .get(&reader.token(), "/v1/vendor/offers")
        .problem(403);
    let log = s.list_all(&format!("/v1/access-log?vendor={}", v.vendor_id));
    let listing = log
        .iter()
        .find(|e| e["endpoint"] == "GET /v1/vendor/offers" && e["status"] == 200)
        .unwrap();
    assert_eq!(listing["scope"], "offers:write");
}
