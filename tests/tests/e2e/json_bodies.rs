//! Every JSON body the API takes is an object. serde reads a struct from an array too, field
//! by field in order (`[null, null]` is a profile with no name and no locale), so an array —
//! or any JSON that is not an object — is refused with 422 (RFC 7591's
//! `invalid_client_metadata` at registration) and changes nothing.

use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, Resp, TestServer, http};
use chrono::{Duration, Utc};
use serde_json::{Value, json};

/// Asserts a 422 that names the body and says it must be an object.
#[track_caller]
fn refused_as_not_an_object(r: &Resp) {
    let p = r.problem(422);
    assert_eq!(p["errors"][0]["field"], "body", "{p}");
    assert!(
        p["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("must be a JSON object"),
        "{p}"
    );
}

#[test]
fn a_json_array_does_not_null_the_profile() {
    let s = TestServer::spawn();
    let set = s.put(
        "/v1/profile",
        &json!({"display_name": "Camille", "locale": "fr-FR", "city": "Lyon"}),
    );
    assert_eq!(set.status, 200, "{}", set.text);
    refused_as_not_an_object(&s.put("/v1/profile", &json!([null, null])));
    refused_as_not_an_object(&s.put("/v1/profile", &json!([null, null, null, null])));
    let profile = s.get("/v1/profile").json();
    assert_eq!(profile["display_name"], "Camille", "{profile}");
    assert_eq!(profile["locale"], "fr-FR", "{profile}");
    assert_eq!(profile["city"], "Lyon", "{profile}");
}

#[test]
fn owner_bodies_that_are_not_objects_are_422_and_write_nothing() {
    let s = TestServer::spawn();
    let acme = crate::vendor(&s, "Acme");
    let edit = format!("/v1/vendors/{acme}");
    let attempts: [(&str, &str, Value); 8] = [
        ("POST", "/v1/vendors", json!(["Array Shop"])),
        ("PUT", &edit, json!(["Renamed by an array"])),
        (
            "POST",
            "/v1/interactions",
            json!([acme, "email", "Asked about delivery"]),
        ),
        ("POST", "/v1/intents", json!(["home.appliances", "Washer"])),
        ("POST", "/v1/vendors", json!("Acme")),
        ("POST", "/v1/vendors", json!(42)),
        ("POST", "/v1/vendors", json!(null)),
        ("POST", "/v1/vendors", json!(true)),
    ];
    for (method, path, body) in &attempts {
        refused_as_not_an_object(&s.send(method, path, Some(body)));
    }
    let vendors = s.list_all("/v1/vendors");
    assert_eq!(vendors.len(), 1, "{vendors:?}");
    assert_eq!(vendors[0]["name"], "Acme");
    assert!(s.list_all("/v1/interactions").is_empty());
    assert!(s.get("/v1/intents").json().as_array().unwrap().is_empty());
    // Malformed JSON is still a syntax error (400), whatever it was meant to be.
    let r = Resp::from(
        http()
            .post(s.url("/v1/vendors"))
            .bearer_auth(s.token())
            .header("content-type", "application/json")
            .body("[\"Acme\"")
            .send()
            .unwrap(),
    );
    r.problem(400);
}

#[test]
fn an_offer_or_an_answer_sent_as_an_array_is_refused() {
    let s = TestServer::spawn();
    let intent = s.create(
        "/v1/intents",
        &json!({"category": "home.appliances", "title": "Washing machine",
                "price_specification": {"max_price": "700", "price_currency": "EUR"},
                "valid_through": (Utc::now() + Duration::days(5)).to_rfc3339()}),
    );
    s.post(&format!("/v1/intents/{intent}/activate"), &json!({}));
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["intents:read", "offers:write"], None);
    let t = v.token();
    let offer = |body: &Value| {
        Resp::from(
            http()
                .post(format!("{}/v1/vendor/intents/{intent}/offers", v.base))
                .bearer_auth(&t)
                .json(body)
                .send()
                .unwrap(),
        )
    };
    refused_as_not_an_object(&offer(&json!(["600", "EUR", "WM-9, delivered Friday"])));
    assert!(s.get("/v1/offers").json().as_array().unwrap().is_empty());

    let made = offer(&json!({"price": "600", "price_currency": "EUR", "description": "WM-9"}));
    assert_eq!(made.status, 201, "{}", made.text);
    let id = made.json()["id"].as_str().unwrap().to_owned();
    // `[true]` would be `{"keep_open": true}`.
    refused_as_not_an_object(&s.post(&format!("/v1/offers/{id}/accept"), &json!([true])));
    assert_eq!(
        s.get(&format!("/v1/offers/{id}")).json()["state"],
        "pending"
    );
}

#[test]
fn a_registration_sent_as_an_array_is_refused() {
    let s = TestServer::spawn_with_open_registration();
    let r = Resp::from(
        http()
            .post(s.url("/oauth/register"))
            .json(&json!([["https://shop.example/cb"], "Array Shop"]))
            .send()
            .unwrap(),
    );
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json()["error"], "invalid_client_metadata");
    assert!(
        r.json()["error_description"]
            .as_str()
            .unwrap()
            .contains("JSON object"),
        "{}",
        r.text
    );
    let vendors = s.list_all("/v1/vendors");
    assert!(vendors.is_empty(), "{vendors:?}");
}
