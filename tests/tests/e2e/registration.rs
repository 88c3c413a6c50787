//! Open registration (RFC 7591) as a hostile vendor would use it: grant types it did not
//! register, a flood of registrations, and a name made to look like a vendor the owner knows.

use carnet_server::state::Settings;
use carnet_tests::browser::{Browser, Pkce};
use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, Resp, TestServer, http};
use serde_json::{Value, json};

use super::consent::{REDIRECT, authorize_url};

fn open_server() -> TestServer {
    TestServer::spawn_with_settings_and_manual_clock(Settings {
        open_registration: true,
        ..Settings::default()
    })
}

fn register(s: &TestServer, body: &Value) -> Resp {
    Resp::from(
        http()
            .post(s.url("/oauth/register"))
            .json(body)
            .send()
            .unwrap(),
    )
}

/// Registers `name` and returns it as a vendor app (its vendor found by name).
fn registered(s: &TestServer, name: &str, grant_types: Option<&[&str]>) -> VendorApp {
    let mut body = json!({"redirect_uris": [REDIRECT], "client_name": name});
    if let Some(g) = grant_types {
        body["grant_types"] = json!(g);
    }
    let r = register(s, &body);
    assert_eq!(r.status, 201, "{}", r.text);
    let r = r.json();
    let vendor_id = s
        .list_all("/v1/vendors")
        .iter()
        .find(|v| v["name"].as_str().map(str::trim) == Some(name.trim()))
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .unwrap();
    VendorApp {
        base: s.base.clone(),
        vendor_id,
        client_id: r["client_id"].as_str().unwrap().into(),
        secret: r["client_secret"].as_str().unwrap().into(),
        webhook_secret: None,
    }
}

#[test]
fn a_client_may_use_only_the_grant_types_it_registered() {
    let s = open_server();
    // The default: authorization_code and refresh_token, not client_credentials.
    let consent_only = registered(&s, "Consent Only", None);
    consent_only.grant(&s, &["relationship:read"], None);
    let r = consent_only.oauth("/oauth/token", &[("grant_type", "client_credentials")]);
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json()["error"], "unauthorized_client");
    // Registered for client_credentials only: that works, the code flow does not.
    let machine = registered(&s, "Machine", Some(&["client_credentials"]));
    machine.grant(&s, &["relationship:read"], None);
    let token = machine.token();
    assert_eq!(machine.get(&token, "/v1/vendor/relationship").status, 200);
    for grant_type in ["authorization_code", "refresh_token"] {
        let r = machine.oauth(
            "/oauth/token",
            &[
                ("grant_type", grant_type),
                ("code", "x"),
                ("refresh_token", "x"),
                ("redirect_uri", REDIRECT),
                ("code_verifier", &"v".repeat(43)),
            ],
        );
        assert_eq!(r.json()["error"], "unauthorized_client", "{grant_type}");
    }
    // A client the owner connected may use every grant type, as before.
    let connected = VendorApp::connect(&s, "Connected");
    connected.grant(&s, &["relationship:read"], None);
    connected.token();
}

#[test]
fn open_registration_is_rate_limited_per_address_with_retry_after() {
    let s = open_server();
    // Refused registrations do not count: only clients created do.
    for _ in 0..8 {
        let r = register(&s, &json!({"redirect_uris": ["http://evil.example/cb"]}));
        assert_eq!(r.status, 400, "{}", r.text);
    }
    for n in 0..5 {
        let r = register(
            &s,
            &json!({"redirect_uris": [REDIRECT], "client_name": format!("Flood {n}")}),
        );
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let refused = register(
        &s,
        &json!({"redirect_uris": [REDIRECT], "client_name": "One too many"}),
    );
    assert_eq!(refused.status, 429, "{}", refused.text);
    assert_eq!(refused.json()["error"], "temporarily_unavailable");
    let wait: i64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(wait > 0 && wait <= 3600, "{wait}");
    assert_eq!(s.list_all("/v1/vendors").len(), 5, "nothing was created");
    // An invitation from the owner is not limited.
    let vendor = s.create("/v1/vendors", &json!({"name": "Invited"}));
    let token = s
        .post(&format!("/v1/vendors/{vendor}/invite"), &json!({}))
        .json()["initial_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let invited = Resp::from(
        http()
            .post(s.url("/oauth/register"))
            .bearer_auth(token)
            .json(&json!({"redirect_uris": [REDIRECT]}))
            .send()
            .unwrap(),
    );
    assert_eq!(invited.status, 201, "{}", invited.text);
    s.clock.advance(chrono::Duration::seconds(wait));
    let later = register(
        &s,
        &json!({"redirect_uris": [REDIRECT], "client_name": "Later"}),
    );
    assert_eq!(later.status, 201, "{}", later.text);
}

#[test]
fn a_name_that_looks_like_an_existing_vendor_is_flagged_to_the_owner() {
    let s = open_server();
    s.put(
        "/v1/password",
        &json!({"password": super::consent::PASSWORD}),
    );
    s.create("/v1/vendors", &json!({"name": "Acme"}));
    // A Cyrillic "о" and "А", and another case with a trailing space.
    for (n, name) in ["Асme", "acme "].into_iter().enumerate() {
        let fake = registered(&s, name, None);
        let pkce = Pkce::new(100 + u8::try_from(n).unwrap());
        let page = Browser::default().get(&authorize_url(&s, &fake, &pkce, &[]));
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(
            page.text.contains("Looks like a vendor you know"),
            "{name:?}: {}",
            page.text
        );
        assert!(page.text.contains("“Acme”"), "{}", page.text);
    }
    let listed = s.get("/v1/consents").json();
    assert_eq!(listed[0]["looks_like"], "Acme", "{listed}");
    let cli = s.carnet(&["consent", "list"]);
    assert!(
        cli.stdout.contains("LOOKS LIKE"),
        "{}{}",
        cli.stdout,
        cli.stderr
    );
    // A name of its own is not flagged.
    let honest = registered(&s, "Bolt Shop", None);
    let page = Browser::default().get(&authorize_url(&s, &honest, &Pkce::new(110), &[]));
    assert!(!page.text.contains("Looks like a vendor you know"));
}
