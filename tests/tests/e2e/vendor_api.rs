//! The vendor API: a vendor sees its own relationship and what was shared with it, under a
//! pairwise pseudonym, with RFC 6750 errors; receipts verify offline; every access is logged.

use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, Carnetd, Resp, TestServer, http};
use data_encoding::BASE64URL_NOPAD;
use ring::signature::{ED25519, UnparsedPublicKey};
use serde_json::json;

use crate::interaction;

#[test]
fn vendor_a_cannot_read_vendor_b_data() {
    let s = TestServer::spawn();
    let a = VendorApp::connect(&s, "A");
    let b = VendorApp::connect(&s, "B");
    a.grant(&s, &["interactions:read", "relationship:read"], None);
    let b_shared = interaction(
        &s,
        &b.vendor_id,
        json!({"shared": true, "summary": "B's secret"}),
    );
    let a_private = interaction(&s, &a.vendor_id, json!({"shared": false}));
    let a_shared = interaction(&s, &a.vendor_id, json!({"shared": true}));
    s.create(
        "/v1/purchases",
        &json!({"vendor_id": b.vendor_id, "item": "x", "amount": "999", "currency": "EUR"}),
    );
    let token = a.token();
    let r = a.get(&token, &format!("/v1/vendor/interactions/{b_shared}"));
    let p = r.problem(404);
    assert!(!p.to_string().contains("B's secret"));
    a.get(&token, &format!("/v1/vendor/interactions/{a_private}"))
        .problem(404);
    assert_eq!(
        a.get(&token, &format!("/v1/vendor/interactions/{a_shared}"))
            .status,
        200
    );
    let listed = a.get(&token, "/v1/vendor/interactions").json();
    let ids: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![a_shared.as_str()]);
    let rel = a.get(&token, "/v1/vendor/relationship").json();
    assert_eq!(
        rel["loyalty"]["purchases"], 0,
        "B's purchase is not A's loyalty"
    );
}

#[test]
fn the_relationship_view_counts_only_shared_interactions_and_never_satisfaction() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["relationship:read"], None);
    interaction(
        &s,
        &v.vendor_id,
        json!({"shared": true, "sentiment": 2, "at": "2026-02-01T10:00:00+01:00"}),
    );
    interaction(
        &s,
        &v.vendor_id,
        json!({"shared": false, "sentiment": -2, "at": "2026-03-01T10:00:00+01:00"}),
    );
    let incident = s.create(
        "/v1/incidents",
        &json!({"vendor_id": v.vendor_id, "description": "Drum noise"}),
    );
    let r = s.post(
        &format!("/v1/incidents/{incident}/resolve"),
        &json!({"resolution": "Drum replaced", "satisfaction": 3}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    s.create(
        "/v1/purchases",
        &json!({"vendor_id": v.vendor_id, "item": "Washer", "amount": "499.00",
                "currency": "EUR", "date": "2025-01-10"}),
    );
    let token = v.token();
    let seen = v.get(&token, "/v1/vendor/relationship");
    assert_eq!(seen.status, 200, "{}", seen.text);
    let loyalty = seen.json()["loyalty"].clone();
    assert_eq!(loyalty["interactions"], 1, "only the shared one: {loyalty}");
    assert_eq!(loyalty["average_sentiment"], 2.0, "{loyalty}");
    assert_eq!(
        loyalty["last_contact"], "2026-02-01T10:00:00+01:00",
        "not the private interaction's date"
    );
    assert!(
        loyalty["average_satisfaction"].is_null(),
        "the owner's satisfaction rating is not the vendor's: {loyalty}"
    );
    assert!(!seen.text.contains("3.0"), "{}", seen.text);
    assert_eq!(loyalty["purchases"], 1);
    assert_eq!(loyalty["total_spent"], json!({"EUR": "499.00"}));
    assert_eq!(loyalty["customer_since"], "2025-01-10");
    assert_eq!(loyalty["incidents"], 1);
    assert_eq!(loyalty["incidents_resolved"], 1);
    // The owner's own view is unchanged: everything.
    let own = s.get(&format!("/v1/vendors/{}", v.vendor_id)).json()["loyalty"].clone();
    assert_eq!(own["interactions"], 2);
    assert_eq!(own["average_sentiment"], 0.0);
    assert_eq!(own["last_contact"], "2026-03-01T10:00:00+01:00");
    assert_eq!(own["average_satisfaction"], 3.0);
}

#[test]
fn the_consumer_appears_under_a_pairwise_pseudonym() {
    let s = TestServer::spawn();
    let a = VendorApp::connect(&s, "A");
    let b = VendorApp::connect(&s, "B");
    a.grant(&s, &["relationship:read", "profile:read"], None);
    b.grant(&s, &["relationship:read"], None);
    let (ta, tb) = (a.token(), b.token());
    let ra = a.get(&ta, "/v1/vendor/relationship").json()["customer_ref"].clone();
    let rb = b.get(&tb, "/v1/vendor/relationship").json()["customer_ref"].clone();
    assert_ne!(ra, rb);
    assert_eq!(a.get(&ta, "/v1/vendor/profile").json()["customer_ref"], ra);
    assert_eq!(a.introspect(&ta)["sub"], ra);
    let again = a.token();
    assert_eq!(
        a.get(&again, "/v1/vendor/relationship").json()["customer_ref"],
        ra
    );
}

#[test]
fn a_token_in_the_query_string_is_refused() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "A");
    v.grant(&s, &["relationship:read"], None);
    let token = v.token();
    let r = Resp::from(
        http()
            .get(s.url(&format!("/v1/vendor/relationship?access_token={token}")))
            .bearer_auth(&token)
            .send()
            .unwrap(),
    );
    r.problem(400);
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .contains(r#"error="invalid_request""#)
    );
}

#[test]
fn missing_and_invalid_tokens_get_rfc_6750_challenges() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "A");
    v.grant(&s, &["relationship:read"], None);
    let none = Resp::from(http().get(s.url("/v1/vendor/relationship")).send().unwrap());
    none.problem(401);
    assert_eq!(
        none.header("www-authenticate"),
        Some(r#"Bearer realm="carnet""#)
    );
    let bad = v.get("not-a-token", "/v1/vendor/relationship");
    bad.problem(401);
    assert!(
        bad.header("www-authenticate")
            .unwrap()
            .contains(r#"error="invalid_token""#)
    );
    let owner = v.get(&s.token(), "/v1/vendor/relationship");
    assert_eq!(owner.status, 401, "the owner token is not a vendor token");
}

#[test]
fn a_valid_token_without_the_scope_is_403_insufficient_scope() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "A");
    v.grant(&s, &["relationship:read"], None);
    let token = v.token();
    for (path, scope) in [
        ("/v1/vendor/interactions", "interactions:read"),
        ("/v1/vendor/profile", "profile:read"),
    ] {
        let r = v.get(&token, path);
        r.problem(403);
        let challenge = r.header("www-authenticate").unwrap();
        assert!(
            challenge.contains(r#"error="insufficient_scope""#),
            "{challenge}"
        );
        assert!(
            challenge.contains(&format!(r#"scope="{scope}""#)),
            "{challenge}"
        );
    }
    assert_eq!(
        v.get(&token, "/v1/vendor/receipts").status,
        200,
        "receipts need no scope"
    );
}

#[test]
fn shared_interactions_are_pulled_incrementally_with_cursors_only_the_vendor_can_use() {
    let s = TestServer::spawn_with_manual_clock();
    let a = VendorApp::connect(&s, "A");
    let b = VendorApp::connect(&s, "B");
    a.grant(&s, &["interactions:read"], None);
    b.grant(&s, &["interactions:read"], None);
    // One second apart, so each has its own `updated_at`.
    let ids: Vec<String> = (0..5)
        .map(|i| {
            s.clock.advance(chrono::Duration::seconds(1));
            interaction(
                &s,
                &a.vendor_id,
                json!({"shared": true, "summary": format!("n{i}")}),
            )
        })
        .collect();
    let ta = a.token();
    let first = a.get(&ta, "/v1/vendor/interactions?limit=2").json();
    assert_eq!(first["items"].as_array().unwrap().len(), 2);
    let cursor = first["next_cursor"].as_str().unwrap().to_owned();
    let second = a.get(
        &ta,
        &format!("/v1/vendor/interactions?limit=2&cursor={cursor}"),
    );
    assert_eq!(second.status, 200);
    let tb = b.token();
    b.get(
        &tb,
        &format!("/v1/vendor/interactions?limit=2&cursor={cursor}"),
    )
    .problem(400);
    let mut tampered = cursor.clone().into_bytes();
    tampered[1] ^= 1;
    let tampered = String::from_utf8(tampered).unwrap();
    a.get(&ta, &format!("/v1/vendor/interactions?cursor={tampered}"))
        .problem(400);

    let all = a.get(&ta, "/v1/vendor/interactions").json();
    let last_seen = all["items"][4]["updated_at"].as_str().unwrap().to_owned();
    let mut body = s.get(&format!("/v1/interactions/{}", ids[0])).json();
    for k in ["id", "created_at", "updated_at"] {
        body.as_object_mut().unwrap().remove(k);
    }
    body["outcome"] = json!("Resolved after all");
    s.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(
        s.put(&format!("/v1/interactions/{}", ids[0]), &body).status,
        200
    );
    let since = urlencode(&last_seen);
    let changed = a
        .get(
            &ta,
            &format!("/v1/vendor/interactions?updated_since={since}"),
        )
        .json();
    let changed_ids: Vec<&str> = changed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    // `updated_since` is inclusive: the last one seen, then the one changed since; the three
    // before it are not sent again.
    assert_eq!(changed_ids, [ids[4].as_str(), ids[0].as_str()], "{changed}");
    assert_eq!(
        changed["items"].as_array().unwrap().last().unwrap()["outcome"],
        "Resolved after all"
    );
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}

#[test]
fn the_profile_is_what_the_owner_discloses() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "A");
    v.grant(&s, &["profile:read"], None);
    s.put(
        "/v1/profile",
        &json!({"display_name": "Camille", "city": "Lyon"}),
    );
    let p = v.get(&v.token(), "/v1/vendor/profile").json();
    assert_eq!(p["display_name"], "Camille");
    assert_eq!(p["city"], "Lyon");
    assert!(p["locale"].is_null());
}

#[test]
fn a_receipt_verifies_offline_with_only_the_published_key() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme Appliances");
    let grant = s
        .post(
            "/v1/grants",
            &json!({"vendor_id": v.vendor_id, "scopes": ["relationship:read", "interactions:read"],
                    "categories": ["home.appliances"], "days": 90, "purpose": "After-sales follow-up"}),
        )
        .json();
    let token = v.token();
    let receipts = v.get(&token, "/v1/vendor/receipts").json();
    let receipt = &receipts["items"][0];
    assert_eq!(receipt["grant_id"], grant["id"]);
    let jws = receipt["jws"].as_str().unwrap();
    let owner_view = s.get("/v1/receipts").json();
    assert_eq!(
        owner_view[0]["jws"], jws,
        "owner and vendor hold the same receipt"
    );

    // Offline: only the JWK set and the JWS.
    let jwks: serde_json::Value = http()
        .get(s.url("/.well-known/carnet-receipt-keys"))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let parts: Vec<&str> = jws.split('.').collect();
    assert_eq!(parts.len(), 3);
    let header: serde_json::Value =
        serde_json::from_slice(&BASE64URL_NOPAD.decode(parts[0].as_bytes()).unwrap()).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    let key = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the receipt's key is published");
    assert_eq!(key["crv"], "Ed25519");
    let public = BASE64URL_NOPAD
        .decode(key["x"].as_str().unwrap().as_bytes())
        .unwrap();
    let signature = BASE64URL_NOPAD.decode(parts[2].as_bytes()).unwrap();
    let signed = format!("{}.{}", parts[0], parts[1]);
    UnparsedPublicKey::new(&ED25519, &public)
        .verify(signed.as_bytes(), &signature)
        .expect("signature verifies with the published key");
    let mut forged = signed.clone().into_bytes();
    forged[parts[0].len() + 5] ^= 1;
    assert!(
        UnparsedPublicKey::new(&ED25519, &public)
            .verify(&forged, &signature)
            .is_err()
    );

    let payload: serde_json::Value =
        serde_json::from_slice(&BASE64URL_NOPAD.decode(parts[1].as_bytes()).unwrap()).unwrap();
    assert_eq!(payload["version"], "KI-CR-v1.1.0");
    assert_eq!(payload["piiPrincipalId"], v.introspect(&token)["sub"]);
    assert_eq!(
        payload["piiControllers"][0]["piiController"],
        "Acme Appliances"
    );
    let purpose = &payload["services"][0]["purposes"][0];
    assert_eq!(purpose["purpose"], "After-sales follow-up");
    assert_eq!(purpose["piiCategory"], json!(["home.appliances"]));
    assert_eq!(purpose["thirdPartyDisclosure"], false);
    assert_eq!(
        payload["carnet"]["scopes"],
        json!(["relationship:read", "interactions:read"])
    );
    for field in [
        "jurisdiction",
        "consentTimestamp",
        "collectionMethod",
        "consentReceiptID",
    ] {
        assert!(!payload[field].is_null(), "{field}");
    }
    assert!(
        purpose["termination"]
            .as_str()
            .unwrap()
            .contains(grant["expires_at"].as_str().unwrap().get(..10).unwrap())
    );
}

#[test]
fn every_token_issued_and_vendor_request_is_in_the_access_log() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "A");
    v.grant(&s, &["interactions:read", "relationship:read"], None);
    let shared = interaction(&s, &v.vendor_id, json!({"shared": true}));
    let token = v.token();
    assert_eq!(v.get(&token, "/v1/vendor/interactions").status, 200);
    assert_eq!(v.get(&token, "/v1/vendor/relationship").status, 200);
    let log = s.list_all(&format!("/v1/access-log?vendor={}", v.vendor_id));
    let endpoints: Vec<&str> = log
        .iter()
        .map(|e| e["endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(
        endpoints,
        vec![
            "GET /v1/vendor/relationship",
            "GET /v1/vendor/interactions",
            "POST /oauth/token"
        ]
    );
    assert_eq!(log[1]["ids"], json!([shared]));
    assert_eq!(log[1]["scope"], "interactions:read");
    assert_eq!(log[2]["scope"], "relationship:read interactions:read");
    assert_eq!(log[0]["client_id"], v.client_id.as_str());
    assert!(log[0]["grant_id"].is_string());
}

#[test]
fn no_credential_or_token_is_in_clear_in_the_database_or_logs() {
    let dir = tempfile::tempdir().unwrap();
    let d = Carnetd::start(dir.path(), &[("CARNET_LOG", "trace")]).unwrap();
    let v = VendorApp::connect(&d, "Acme");
    v.grant(&d, &["relationship:read"], Some(&["home.secretcategoryzq"]));
    let token = v.token();
    assert_eq!(v.get(&token, "/v1/vendor/relationship").status, 200);
    let revoked = v.token();
    v.oauth("/oauth/revoke", &[("token", &revoked)]);
    let owner = d.token();
    let mut secrets = vec![
        v.secret.clone(),
        token.clone(),
        revoked,
        owner,
        v.webhook_secret.clone().unwrap(),
        "secretcategoryzq".into(),
        "vendor.example/cb".into(),
    ];
    secrets.push(
        v.webhook_secret
            .clone()
            .unwrap()
            .trim_start_matches("whsec_")
            .to_owned(),
    );
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    let read_all = |files: &mut Vec<(String, Vec<u8>)>| {
        for e in std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
        {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_file() && name != "owner.token" {
                files.push((name, std::fs::read(e.path()).unwrap()));
            }
        }
    };
    read_all(&mut files);
    let log = d.kill();
    read_all(&mut files);
    for secret in &secrets {
        for (name, bytes) in &files {
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                "{secret} readable in {name}"
            );
        }
        assert!(!log.contains(secret.as_str()), "{secret} in the log");
    }
}

#[test]
fn refused_vendor_requests_are_logged_with_their_status() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "A");
    let other = VendorApp::connect(&s, "B");
    v.grant(&s, &["interactions:read"], None);
    let theirs = interaction(&s, &other.vendor_id, json!({"shared": true}));
    let token = v.token();
    assert_eq!(v.get(&token, "/v1/vendor/profile").status, 403);
    assert_eq!(
        v.get(&token, &format!("/v1/vendor/interactions/{theirs}"))
            .status,
        404
    );
    let log = s.list_all(&format!("/v1/access-log?vendor={}", v.vendor_id));
    assert_eq!(log[0]["endpoint"], "GET /v1/vendor/interactions/{id}");
    assert_eq!(log[0]["status"], 404);
    assert_eq!(log[0]["ids"], json!([theirs]));
    assert_eq!(log[1]["endpoint"], "GET /v1/vendor/profile");
    assert_eq!(log[1]["status"], 403);
    assert_eq!(log[2]["status"], 200);
}

#[test]
fn disconnecting_a_vendor_ends_its_grant_and_tokens() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "A");
    let grant = v.grant(&s, &["relationship:read"], None);
    let token = v.token();
    assert_eq!(
        s.delete(&format!("/v1/vendors/{}/client", v.vendor_id))
            .status,
        204
    );
    assert_eq!(v.get(&token, "/v1/vendor/relationship").status, 401);
    assert_eq!(
        s.get(&format!("/v1/grants/{grant}")).json()["state"],
        "revoked"
    );
    let p = s
        .get(&format!("/v1/vendors/{}/client", v.vendor_id))
        .problem(404);
    assert!(
        p["hint"].as_str().unwrap().contains("vendor connect"),
        "{p}"
    );
}
