//! Every vendor request is in the access log with the status it really got: refusals by the
//! query or body parsers, 4xx from the rules and errors alike, as an attacker probing the
//! API would make them. A request without a valid token names no client and is not logged.

use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, Resp, TestServer, http};
use chrono::{Duration, Utc};
use serde_json::{Value, json};

fn post_offer(v: &VendorApp, token: &str, intent: &str, body: &Value) -> Resp {
    Resp::from(
        http()
            .post(format!("{}/v1/vendor/intents/{intent}/offers", v.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .unwrap(),
    )
}

/// (endpoint, status, ids) of this vendor's entries, oldest first.
fn entries(s: &TestServer, v: &VendorApp) -> Vec<(String, u64, Value)> {
    let mut log = s.list_all(&format!("/v1/access-log?vendor={}", v.vendor_id));
    log.reverse();
    log.iter()
        .map(|e| {
            (
                e["endpoint"].as_str().unwrap().to_owned(),
                e["status"].as_u64().unwrap(),
                e["ids"].clone(),
            )
        })
        .collect()
}

#[test]
fn refused_vendor_requests_are_in_the_access_log_with_their_real_status() {
    // Every request its own entry (identical refusals are otherwise compacted).
    let s = TestServer::spawn_logging_every_read();
    let until = Utc::now() + Duration::days(5);
    let intent_body = json!({"category": "home.appliances", "title": "Washing machine",
        "price_specification": {"max_price": "700", "price_currency": "EUR"},
        "valid_through": until.to_rfc3339()});
    let open = s.create("/v1/intents", &intent_body);
    s.post(&format!("/v1/intents/{open}/activate"), &json!({}));
    let closed = s.create("/v1/intents", &intent_body);
    s.post(&format!("/v1/intents/{closed}/activate"), &json!({}));
    s.post(&format!("/v1/intents/{closed}/withdraw"), &json!({}));
    let v = VendorApp::connect(&s, "Prober");
    v.grant(&s, &["intents:read", "offers:write"], None);
    let t = v.token();
    let offer = json!({"price": "650", "price_currency": "EUR", "description": "WM-9"});

    // What an attacker tries, and what each is answered.
    let forged = v.get(&t, "/v1/vendor/intents?cursor=eyJ4IjoxfQ.AAAA");
    forged.problem(400);
    v.get(&t, "/v1/vendor/intents?limit=0").problem(400);
    v.get(&t, "/v1/vendor/intents?limit=-1").problem(400);
    v.get(&t, "/v1/vendor/intents?admin=1").problem(400);
    v.get(&t, "/v1/vendor/intents/not-an-id").problem(400);
    let mut late = offer.clone();
    late["valid_through"] = json!((until + Duration::days(30)).to_rfc3339());
    post_offer(&v, &t, &open, &late).problem(422);
    let broken = Resp::from(
        http()
            .post(format!("{}/v1/vendor/intents/{open}/offers", v.base))
            .bearer_auth(&t)
            .header("content-type", "application/json")
            .body("{\"price\": ")
            .send()
            .unwrap(),
    );
    broken.problem(400);
    post_offer(&v, &t, &closed, &offer).problem(404);
    let made = post_offer(&v, &t, &open, &offer);
    assert_eq!(made.status, 201, "{}", made.text);
    let made = made.json()["id"].as_str().unwrap().to_owned();
    // Without a valid token nobody is named: nothing is logged for it.
    v.get("not-a-token", "/v1/vendor/intents").problem(401);

    let logged = entries(&s, &v);
    let vendor_side: Vec<_> = logged
        .iter()
        .filter(|(endpoint, ..)| endpoint != "POST /oauth/token")
        .cloned()
        .collect();
    let offers = "POST /v1/vendor/intents/{id}/offers";
    let want: Vec<(String, u64, Value)> = vec![
        ("GET /v1/vendor/intents".into(), 400, json!([])),
        ("GET /v1/vendor/intents".into(), 400, json!([])),
        ("GET /v1/vendor/intents".into(), 400, json!([])),
        ("GET /v1/vendor/intents".into(), 400, json!([])),
        ("GET /v1/vendor/intents/{id}".into(), 400, json!([])),
        (offers.into(), 422, json!([open])),
        (offers.into(), 400, json!([open])),
        (offers.into(), 404, json!([closed])),
        (offers.into(), 201, json!([open, made])),
    ];
    assert_eq!(vendor_side, want);

    // The owner sees the same in `carnet audit`.
    let out = s.carnet(&["--json", "audit", "--vendor", "Prober"]);
    out.ok();
    let statuses: Vec<u64> = out
        .json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["endpoint"] != "POST /oauth/token")
        .map(|e| e["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, vec![201, 404, 400, 422, 400, 400, 400, 400, 400]);
}

#[test]
fn a_full_intent_and_a_refused_scope_are_logged_as_answered() {
    let s = TestServer::spawn();
    let until = Utc::now() + Duration::days(5);
    let one = s.create(
        "/v1/intents",
        &json!({"category": "home.appliances", "title": "Dryer", "max_offers": 1,
                "valid_through": until.to_rfc3339()}),
    );
    s.post(&format!("/v1/intents/{one}/activate"), &json!({}));
    let v = VendorApp::connect(&s, "Eager");
    v.grant(&s, &["intents:read", "offers:write"], None);
    let t = v.token();
    let offer = json!({"price": "300", "price_currency": "EUR", "description": "D-1"});
    assert_eq!(post_offer(&v, &t, &one, &offer).status, 201);
    post_offer(&v, &t, &one, &offer).problem(409);
    v.get(&t, "/v1/vendor/profile").problem(403);
    let statuses: Vec<(String, u64)> = entries(&s, &v)
        .into_iter()
        .filter(|(endpoint, ..)| endpoint != "POST /oauth/token")
        .map(|(endpoint, status, _)| (endpoint, status))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("POST /v1/vendor/intents/{id}/offers".to_owned(), 201),
            ("POST /v1/vendor/intents/{id}/offers".to_owned(), 409),
            ("GET /v1/vendor/profile".to_owned(), 403),
        ]
    );
}
