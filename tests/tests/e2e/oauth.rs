//! The OAuth 2.0 authorization server: discovery, client authentication, client_credentials,
//! revocation (RFC 7009) and introspection (RFC 7662).

use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, Resp, TestServer, http};
use serde_json::json;

#[test]
fn metadata_names_the_configured_issuer_whatever_the_host_header_says() {
    let s = TestServer::spawn();
    let r = http()
        .get(s.url("/.well-known/oauth-authorization-server"))
        .header("host", "evil.example")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    let m: serde_json::Value = r.json().unwrap();
    assert_eq!(m["issuer"], s.base.as_str());
    assert_eq!(m["token_endpoint"], format!("{}/oauth/token", s.base));
    assert_eq!(
        m["grant_types_supported"],
        json!(["authorization_code", "refresh_token", "client_credentials"])
    );
    assert_eq!(
        m["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post"])
    );
    let text = m.to_string();
    for absent in ["password", "implicit", "\"plain\"", "evil.example"] {
        assert!(!text.contains(absent), "{absent} advertised: {text}");
    }
}

fn token_request(s: &TestServer, auth: Option<(&str, &str)>, form: &[(&str, &str)]) -> Resp {
    let mut req = http().post(s.url("/oauth/token")).form(form);
    if let Some((id, secret)) = auth {
        req = req.basic_auth(id, Some(secret));
    }
    Resp::from(req.send().unwrap())
}

#[test]
fn wrong_secret_and_unknown_client_answer_identically() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["relationship:read"], None);
    let form = [("grant_type", "client_credentials")];
    let wrong = token_request(&s, Some((&v.client_id, "not-the-secret")), &form);
    let unknown = token_request(&s, Some(("cli_0123456789abcdef", "not-the-secret")), &form);
    let garbage = token_request(&s, Some(("nobody", "x")), &form);
    for r in [&wrong, &unknown, &garbage] {
        assert_eq!(r.status, 401);
        assert_eq!(r.json()["error"], "invalid_client");
        assert_eq!(
            r.header("www-authenticate"),
            Some(r#"Basic realm="carnet""#)
        );
    }
    assert_eq!(wrong.text, unknown.text);
    assert_eq!(wrong.text, garbage.text);
    // The same headers too, but for the two that differ on every response.
    let headers = |r: &Resp| {
        let mut h: Vec<(String, String)> = r
            .headers
            .iter()
            .filter(|(name, _)| !["date", "x-request-id"].contains(&name.as_str()))
            .map(|(name, value)| (name.to_string(), value.to_str().unwrap().to_owned()))
            .collect();
        h.sort();
        h
    };
    assert_eq!(headers(&wrong), headers(&unknown));
    assert_eq!(headers(&wrong), headers(&garbage));
    // That they take the same time is measured by the `client_auth` bench.
}

#[test]
fn client_secret_basic_and_client_secret_post_both_work() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["relationship:read"], None);
    let basic = token_request(
        &s,
        Some((&v.client_id, &v.secret)),
        &[("grant_type", "client_credentials")],
    );
    assert_eq!(basic.status, 200, "{}", basic.text);
    let post = token_request(
        &s,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &v.client_id),
            ("client_secret", &v.secret),
        ],
    );
    assert_eq!(post.status, 200, "{}", post.text);
    assert_eq!(post.json()["token_type"], "Bearer");
    assert_eq!(post.json()["expires_in"], 3600);
    let both = token_request(
        &s,
        Some((&v.client_id, &v.secret)),
        &[
            ("grant_type", "client_credentials"),
            ("client_secret", &v.secret),
        ],
    );
    assert_eq!(both.status, 400);
    assert_eq!(both.json()["error"], "invalid_request");
    let none = token_request(&s, None, &[("grant_type", "client_credentials")]);
    assert_eq!(none.status, 401);
}

#[test]
fn password_implicit_and_unknown_grant_types_are_unsupported() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["relationship:read"], None);
    for gt in ["password", "implicit", "token", "urn:example:magic"] {
        let r = v.oauth(
            "/oauth/token",
            &[("grant_type", gt), ("username", "u"), ("password", "p")],
        );
        assert_eq!(r.status, 400, "{gt}");
        assert_eq!(r.json()["error"], "unsupported_grant_type", "{gt}");
    }
    let r = v.oauth("/oauth/token", &[]);
    assert_eq!(r.json()["error"], "invalid_request");
}

#[test]
fn scope_escalation_is_invalid_scope() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["relationship:read"], None);
    for scope in ["profile:read", "relationship:read profile:read", "admin"] {
        let r = v.oauth(
            "/oauth/token",
            &[("grant_type", "client_credentials"), ("scope", scope)],
        );
        assert_eq!(r.status, 400, "{scope}");
        assert_eq!(r.json()["error"], "invalid_scope", "{scope}");
    }
}

#[test]
fn category_escalation_is_invalid_scope() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["relationship:read"], Some(&["home.appliances"]));
    for cats in [
        "home",
        "home.appliancesx",
        "garden",
        "home.appliances garden",
    ] {
        let r = v.oauth(
            "/oauth/token",
            &[("grant_type", "client_credentials"), ("categories", cats)],
        );
        assert_eq!(r.status, 400, "{cats}");
        assert_eq!(r.json()["error"], "invalid_scope", "{cats}");
    }
    let ok = v.oauth(
        "/oauth/token",
        &[
            ("grant_type", "client_credentials"),
            ("categories", "home.appliances.washing-machine"),
        ],
    );
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(
        ok.json()["categories"],
        json!(["home.appliances.washing-machine"])
    );
}

#[test]
fn a_token_gets_exactly_what_was_asked_within_the_grant() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["relationship:read", "profile:read"], Some(&["home"]));
    let all = v
        .oauth("/oauth/token", &[("grant_type", "client_credentials")])
        .json();
    assert_eq!(all["scope"], "relationship:read profile:read");
    assert_eq!(all["categories"], json!(["home"]));
    let narrow = v
        .oauth(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("scope", "profile:read"),
            ],
        )
        .json();
    assert_eq!(narrow["scope"], "profile:read");
    let token = narrow["access_token"].as_str().unwrap();
    assert_eq!(v.get(token, "/v1/vendor/profile").status, 200);
    assert_eq!(v.get(token, "/v1/vendor/relationship").status, 403);
}

#[test]
fn without_a_live_grant_a_client_gets_no_token() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    let r = v.oauth("/oauth/token", &[("grant_type", "client_credentials")]);
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "unauthorized_client");
}

#[test]
fn token_responses_are_never_cached() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["relationship:read"], None);
    let ok = v.oauth("/oauth/token", &[("grant_type", "client_credentials")]);
    let err = v.oauth("/oauth/token", &[("grant_type", "password")]);
    let introspection = v.oauth("/oauth/introspect", &[("token", "x")]);
    for r in [ok, err, introspection] {
        assert_eq!(r.header("cache-control"), Some("no-store"), "{}", r.text);
        assert_eq!(r.header("pragma"), Some("no-cache"));
    }
}

#[test]
fn a_revoked_grant_kills_its_tokens_at_once() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    let grant = v.grant(&s, &["relationship:read"], None);
    let token = v.token();
    assert_eq!(v.get(&token, "/v1/vendor/relationship").status, 200);
    assert_eq!(v.introspect(&token)["active"], true);
    let r = s.post(&format!("/v1/grants/{grant}/revoke"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["state"], "revoked");
    let after = v.get(&token, "/v1/vendor/relationship");
    assert_eq!(after.status, 401);
    assert!(
        after
            .header("www-authenticate")
            .unwrap()
            .contains(r#"error="invalid_token""#)
    );
    let i = v.oauth("/oauth/introspect", &[("token", &token)]);
    assert_eq!(i.text, r#"{"active":false}"#);
    let again = v.oauth("/oauth/token", &[("grant_type", "client_credentials")]);
    assert_eq!(again.json()["error"], "unauthorized_client");
}

#[test]
fn tokens_and_grants_expire_on_the_clock() {
    let s = TestServer::spawn_with_manual_clock();
    let v = VendorApp::connect(&s, "Acme");
    let grant = s
        .post(
            "/v1/grants",
            &json!({"vendor_id": v.vendor_id, "scopes": ["relationship:read"], "all_categories": true, "days": 2}),
        )
        .json();
    assert_eq!(grant["state"], "live");
    let token = v.token();
    s.clock.advance(chrono::Duration::seconds(3599));
    assert_eq!(v.get(&token, "/v1/vendor/relationship").status, 200);
    s.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(
        v.get(&token, "/v1/vendor/relationship").status,
        401,
        "the hour is up"
    );
    let fresh = v.token();
    s.clock.advance(chrono::Duration::days(2));
    assert_eq!(
        v.get(&fresh, "/v1/vendor/relationship").status,
        401,
        "the grant ended"
    );
    assert_eq!(
        v.oauth("/oauth/token", &[("grant_type", "client_credentials")])
            .json()["error"],
        "unauthorized_client"
    );
    let listed = s.get("/v1/grants").json();
    assert_eq!(listed[0]["state"], "expired");
    let id = listed[0]["id"].as_str().unwrap();
    let revoked = s
        .post(&format!("/v1/grants/{id}/revoke"), &json!({}))
        .json();
    assert_eq!(
        revoked["state"], "expired",
        "an expired grant stays expired"
    );
    assert!(revoked["revoked_at"].is_null());
}

#[test]
fn a_new_grant_replaces_the_live_one_and_its_tokens() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    let first = v.grant(&s, &["relationship:read", "profile:read"], None);
    let old = v.token();
    let second = v.grant(&s, &["relationship:read"], None);
    assert_eq!(v.get(&old, "/v1/vendor/relationship").status, 401);
    assert_eq!(
        s.get(&format!("/v1/grants/{first}")).json()["state"],
        "revoked"
    );
    assert_eq!(
        s.get(&format!("/v1/grants/{second}")).json()["state"],
        "live"
    );
    let new = v.token();
    assert_eq!(v.get(&new, "/v1/vendor/profile").status, 403);
}

#[test]
fn removing_a_vendor_kills_its_tokens_at_once() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["relationship:read"], None);
    let token = v.token();
    assert_eq!(
        s.delete(&format!("/v1/vendors/{}", v.vendor_id)).status,
        204
    );
    assert_eq!(v.get(&token, "/v1/vendor/relationship").status, 401);
    let r = v.oauth("/oauth/token", &[("grant_type", "client_credentials")]);
    assert_eq!(r.json()["error"], "invalid_client");
}

#[test]
fn rotating_the_client_secret_retires_the_old_secret_and_its_tokens() {
    let s = TestServer::spawn();
    let mut v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["relationship:read"], None);
    let token = v.token();
    let r = s.post(
        &format!("/v1/vendors/{}/client/rotate-secret", v.vendor_id),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let new_secret = r.json()["client_secret"].as_str().unwrap().to_owned();
    assert!(r.json()["webhook_secret"].is_null());
    assert_eq!(v.get(&token, "/v1/vendor/relationship").status, 401);
    assert_eq!(
        v.oauth("/oauth/token", &[("grant_type", "client_credentials")])
            .status,
        401
    );
    v.secret = new_secret;
    let fresh = v.token();
    assert_eq!(v.get(&fresh, "/v1/vendor/relationship").status, 200);

    let old_hook = v.webhook_secret.clone().unwrap();
    let r = s.post(
        &format!("/v1/vendors/{}/client/rotate-secret", v.vendor_id),
        &json!({"webhook": true}),
    );
    let hook = r.json()["webhook_secret"].as_str().unwrap().to_owned();
    assert!(hook.starts_with("whsec_") && hook != old_hook);
    assert_eq!(
        v.get(&fresh, "/v1/vendor/relationship").status,
        200,
        "client secret untouched"
    );
}

#[test]
fn revocation_follows_rfc_7009() {
    let s = TestServer::spawn();
    let a = VendorApp::connect(&s, "A");
    let b = VendorApp::connect(&s, "B");
    a.grant(&s, &["relationship:read"], None);
    b.grant(&s, &["relationship:read"], None);
    let (ta, tb) = (a.token(), b.token());
    // Another client's token: 200, and it keeps working.
    assert_eq!(a.oauth("/oauth/revoke", &[("token", &tb)]).status, 200);
    assert_eq!(b.get(&tb, "/v1/vendor/relationship").status, 200);
    // Unknown token: 200.
    assert_eq!(
        a.oauth("/oauth/revoke", &[("token", "no-such-token")])
            .status,
        200
    );
    // Its own token: revoked.
    let r = a.oauth(
        "/oauth/revoke",
        &[("token", &ta), ("token_type_hint", "access_token")],
    );
    assert_eq!(r.status, 200);
    assert_eq!(a.get(&ta, "/v1/vendor/relationship").status, 401);
    // Without client authentication: refused.
    let anon = Resp::from(
        http()
            .post(s.url("/oauth/revoke"))
            .form(&[("token", &tb)])
            .send()
            .unwrap(),
    );
    assert_eq!(anon.status, 401);
    assert_eq!(b.get(&tb, "/v1/vendor/relationship").status, 200);
}

#[test]
fn introspection_answers_only_for_the_clients_own_active_tokens() {
    let s = TestServer::spawn();
    let a = VendorApp::connect(&s, "A");
    let b = VendorApp::connect(&s, "B");
    a.grant(&s, &["relationship:read", "profile:read"], Some(&["home"]));
    b.grant(&s, &["relationship:read"], None);
    let ta = a.token();
    let i = a.introspect(&ta);
    assert_eq!(i["active"], true);
    assert_eq!(i["scope"], "relationship:read profile:read");
    assert_eq!(i["client_id"], a.client_id.as_str());
    assert_eq!(i["token_type"], "Bearer");
    assert_eq!(i["iss"], s.base.as_str());
    assert!(i["exp"].as_i64().unwrap() > i["iat"].as_i64().unwrap());
    assert!(i["sub"].as_str().unwrap().starts_with("cus_"));
    let other = b.oauth("/oauth/introspect", &[("token", &ta)]);
    assert_eq!(other.text, r#"{"active":false}"#);
    let unknown = a.oauth("/oauth/introspect", &[("token", "nope")]);
    assert_eq!(unknown.text, r#"{"active":false}"#);
    let anon = Resp::from(
        http()
            .post(s.url("/oauth/introspect"))
            .form(&[("token", &ta)])
            .send()
            .unwrap(),
    );
    assert_eq!(anon.status, 401);
}

#[test]
fn a_vendor_using_the_oauth2_crate_gets_a_token_and_reads_its_relationship() {
    use oauth2::basic::BasicClient;
    use oauth2::{ClientId, ClientSecret, Scope, TokenResponse, TokenUrl};

    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["relationship:read", "profile:read"], None);
    let client = BasicClient::new(ClientId::new(v.client_id.clone()))
        .set_client_secret(ClientSecret::new(v.secret.clone()))
        .set_token_uri(TokenUrl::new(s.url("/oauth/token")).unwrap());
    let http_client = carnet_tests::oauth2_http::client();
    let token = client
        .exchange_client_credentials()
        .add_scope(Scope::new("relationship:read".into()))
        .request(&http_client)
        .expect("client_credentials with the oauth2 crate");
    let scopes: Vec<String> = token
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(scopes, vec!["relationship:read"]);
    let r = v.get(token.access_token().secret(), "/v1/vendor/relationship");
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn a_client_holds_at_most_max_live_tokens_and_is_told_to_reuse_them() {
    let s = TestServer::spawn_with_settings(carnet_server::state::Settings {
        max_live_tokens: 3,
        ..Default::default()
    });
    let a = VendorApp::connect(&s, "A");
    let b = VendorApp::connect(&s, "B");
    let grant = a.grant(&s, &["relationship:read"], None);
    b.grant(&s, &["relationship:read"], None);
    let held: Vec<String> = (0..3).map(|_| a.token()).collect();

    let refused = a.oauth("/oauth/token", &[("grant_type", "client_credentials")]);
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert_eq!(refused.json()["error"], "temporarily_unavailable");
    let told = refused.json()["error_description"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(told.contains("3 unexpired access tokens"), "{told}");
    assert_eq!(refused.header("retry-after"), Some("60"));
    assert_eq!(refused.header("cache-control"), Some("no-store"));
    // What it holds still works, and another client is not affected.
    for t in &held {
        assert_eq!(a.get(t, "/v1/vendor/relationship").status, 200);
    }
    b.token();

    // A token it revokes makes room for one more, and only one.
    assert_eq!(a.oauth("/oauth/revoke", &[("token", &held[0])]).status, 200);
    a.token();
    let again = a.oauth("/oauth/token", &[("grant_type", "client_credentials")]);
    assert_eq!(again.status, 429, "{}", again.text);

    // A new grant replaces the old one and its tokens: the client starts afresh.
    assert_eq!(
        s.post(&format!("/v1/grants/{grant}/revoke"), &json!({}))
            .status,
        200
    );
    a.grant(&s, &["relationship:read"], None);
    for _ in 0..3 {
        a.token();
    }
}
