//! Bad input gets RFC 9457 problem+json a person can act on, and loses nothing.

use carnet_tests::{Api, TestServer, http};
use serde_json::json;

use crate::vendor;

#[test]
fn missing_or_invalid_owner_token_is_401_with_www_authenticate() {
    let s = TestServer::spawn();
    for auth in [
        None,
        Some("Bearer not-the-token"),
        Some("Basic Zm9vOmJhcg=="),
    ] {
        let mut req = http().get(s.url("/v1/vendors"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(
            r.headers()["www-authenticate"].to_str().unwrap(),
            r#"Bearer realm="carnet""#
        );
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let p: serde_json::Value = r.json().unwrap();
        assert!(p["hint"].as_str().unwrap().contains("Bearer"), "{p}");
    }
}

#[test]
fn malformed_json_is_400_and_stores_nothing() {
    let s = TestServer::spawn();
    let r = http()
        .post(s.url("/v1/vendors"))
        .bearer_auth(s.token())
        .header("content-type", "application/json")
        .body(r#"{"name": "Acme""#)
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
    let p: serde_json::Value = r.json().unwrap();
    assert!(
        p["detail"].as_str().unwrap().contains("not valid JSON"),
        "{p}"
    );
    assert!(s.list_all("/v1/vendors").is_empty());
}

#[test]
fn a_json_array_in_place_of_an_object_is_refused_and_changes_nothing() {
    // serde reads a struct from an array of its fields in order: `[null, null]` was taken as
    // an empty profile and cleared the one set before.
    let s = TestServer::spawn();
    let set = s.put(
        "/v1/profile",
        &json!({"display_name": "Sam", "city": "Lyon"}),
    );
    assert_eq!(set.status, 200, "{}", set.text);
    for body in [
        json!([null, null]),
        json!(["Sam", null, "Lyon"]),
        json!("Sam"),
        json!(7),
    ] {
        let p = s.put("/v1/profile", &body).problem(422);
        assert_eq!(p["errors"][0]["field"], "body", "{body}: {p}");
        assert!(
            p["detail"].as_str().unwrap().contains("JSON object"),
            "{body}: {p}"
        );
        let p = s.post("/v1/vendors", &json!(["Acme"])).problem(422);
        assert_eq!(p["errors"][0]["field"], "body", "{p}");
    }
    let profile = s.get("/v1/profile").json();
    assert_eq!(profile["display_name"], "Sam");
    assert_eq!(profile["city"], "Lyon");
    assert!(s.list_all("/v1/vendors").is_empty());
}

#[test]
fn unknown_fields_are_refused_by_name() {
    let s = TestServer::spawn();
    let p = s
        .post("/v1/vendors", &json!({"name": "Acme", "nmae": "typo"}))
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "nmae");
    assert!(
        p["detail"].as_str().unwrap().contains("unknown field"),
        "{p}"
    );
}

#[test]
fn wrong_types_name_the_field() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let p = s
        .post(
            "/v1/interactions",
            &json!({"vendor_id": v, "channel": "email", "summary": "x", "sentiment": "good"}),
        )
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "sentiment");
    let p = s
        .post(
            "/v1/interactions",
            &json!({"vendor_id": v, "channel": "pigeon", "summary": "x"}),
        )
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "channel");
}

#[test]
fn money_must_be_a_non_negative_decimal_string_with_an_iso_currency() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let purchase = |amount: serde_json::Value, currency: &str| {
        s.post(
            "/v1/purchases",
            &json!({"vendor_id": v, "item": "Washer", "amount": amount, "currency": currency}),
        )
    };
    for (amount, currency, field) in [
        (json!(699.9), "EUR", "amount"),
        (json!("-5"), "EUR", "amount"),
        (json!("12abc"), "EUR", "amount"),
        (json!("1e3"), "EUR", "amount"),
        (json!("10"), "EURO", "currency"),
        (json!("10"), "eur", "currency"),
        (json!("10"), "XYZ", "currency"),
    ] {
        let p = purchase(amount.clone(), currency).problem(422);
        assert_eq!(p["errors"][0]["field"], field, "{amount} {currency}: {p}");
    }
    let ok = purchase(json!("699.90"), "EUR");
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(
        ok.json()["amount"],
        "699.90",
        "amounts are kept exactly as written"
    );
}

#[test]
fn bad_dates_are_refused_with_the_expected_format() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    for (field, value) in [
        ("date", "2026-13-01"),
        ("date", "15/12/2026"),
        ("warranty_until", "tomorrow"),
    ] {
        let mut body = json!({"vendor_id": v, "item": "Washer", "amount": "1", "currency": "EUR"});
        body[field] = json!(value);
        let p = s.post("/v1/purchases", &body).problem(422);
        assert_eq!(p["errors"][0]["field"], field);
        assert!(p["detail"].as_str().unwrap().contains("YYYY-MM-DD"), "{p}");
    }
    let p = s
        .post(
            "/v1/interactions",
            &json!({"vendor_id": v, "channel": "email", "summary": "x", "at": "2026-12-01 10:00"}),
        )
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "at");
}

#[test]
fn oversized_bodies_are_413() {
    let s = TestServer::spawn();
    let huge = "a".repeat(100_000);
    let p = s
        .post("/v1/vendors", &json!({"name": "Acme", "note": huge}))
        .problem(413);
    assert!(p["detail"].as_str().unwrap().contains("bytes"), "{p}");
}

#[test]
fn text_over_its_limit_is_422() {
    let s = TestServer::spawn();
    let p = s
        .post("/v1/vendors", &json!({"name": "x".repeat(201)}))
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "name");
}

#[test]
fn bad_path_ids_are_400_and_unknown_ids_404() {
    let s = TestServer::spawn();
    let p = s.get("/v1/vendors/not-an-id").problem(400);
    assert!(
        p["detail"].as_str().unwrap().contains("not a vendor id"),
        "{p}"
    );
    s.get("/v1/interactions/ven_0123456789abcdef").problem(400);
    let p = s.get("/v1/vendors/ven_0123456789abcdef").problem(404);
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("ven_0123456789abcdef")
    );
    s.delete("/v1/purchases/pur_0123456789abcdef").problem(404);
}

#[test]
fn bad_query_values_and_unknown_parameters_are_400() {
    let s = TestServer::spawn();
    s.get("/v1/vendors?limit=abc").problem(400);
    s.get("/v1/vendors?limit=0").problem(400);
    s.get("/v1/interactions?since=yesterday").problem(400);
    let p = s
        .get("/v1/interactions?vendr=ven_0123456789abcdef")
        .problem(400);
    assert!(p["detail"].as_str().unwrap().contains("vendr"), "{p}");
    s.get("/v1/interactions?cursor=forged").problem(400);
}

#[test]
fn an_unknown_vendor_in_a_body_is_422() {
    let s = TestServer::spawn();
    for (path, body) in [
        (
            "/v1/interactions",
            json!({"vendor_id": "ven_0123456789abcdef", "channel": "email", "summary": "x"}),
        ),
        (
            "/v1/purchases",
            json!({"vendor_id": "ven_0123456789abcdef", "item": "x", "amount": "1", "currency": "EUR"}),
        ),
        (
            "/v1/incidents",
            json!({"vendor_id": "ven_0123456789abcdef", "description": "x"}),
        ),
    ] {
        let p = s.post(path, &body).problem(422);
        assert_eq!(p["errors"][0]["field"], "vendor_id", "{path}");
    }
}

#[test]
fn unknown_routes_and_methods_answer_problem_json() {
    let s = TestServer::spawn();
    s.get("/v1/nothing-here").problem(404);
    s.get("/").problem(404);
    s.send("PATCH", "/v1/vendors", None).problem(405);
    let r = http()
        .post(s.url("/v1/vendors"))
        .bearer_auth(s.token())
        .body("name=Acme")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .unwrap();
    assert_eq!(r.status(), 415);
}

#[test]
fn duplicate_vendor_names_conflict() {
    let s = TestServer::spawn();
    let first = vendor(&s, "Acme");
    let p = s.post("/v1/vendors", &json!({"name": "Acme"})).problem(409);
    assert!(p["detail"].as_str().unwrap().contains(&first), "{p}");
    let other = vendor(&s, "Other");
    s.put(&format!("/v1/vendors/{other}"), &json!({"name": "Acme"}))
        .problem(409);
}
