//! The consent page in a real browser: headless Chromium, driven through ChromeDriver's
//! WebDriver protocol, signs in, picks a category, approves, and lands on the vendor's
//! redirect URI with a code. Screenshots are kept in `target/ci-artifacts/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them), so it is ignored
//! by a plain `cargo test`; run it with
//! `cargo test -p carnet-tests --test browser -- --ignored`.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed anyway

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use carnet_tests::browser::{Pkce, query_param};
use carnet_tests::webdriver::Driver;
use carnet_tests::{Api, TestServer, http};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

/// A vendor's redirect endpoint on loopback: answers 200 and reports each request line.
fn vendor_callback() -> (u16, mpsc::Receiver<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut s = stream;
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let text = String::from_utf8_lossy(&buf[..n]).to_string();
            let line = text.lines().next().unwrap_or("").to_owned();
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 22\r\nconnection: close\r\n\r\nBack at the vendor. OK");
            let _ = tx.send(line);
        }
    });
    (port, rx)
}

#[test]
#[ignore = "needs Chromium and ChromeDriver: run by .ci/run with --ignored"]
fn headless_chromium_signs_in_picks_a_category_approves_and_lands_on_the_redirect() {
    let s = TestServer::spawn();
    assert_eq!(
        s.put("/v1/password", &json!({"password": PASSWORD})).status,
        204
    );
    let (port, callbacks) = vendor_callback();
    let redirect = format!("http://127.0.0.1:{port}/cb");
    let vendor_id = s.create(
        "/v1/vendors",
        &json!({"name": "Acme Appliances", "website": "https://acme.example", "categories": ["home.garden"]}),
    );
    let client = s
        .post(
            &format!("/v1/vendors/{vendor_id}/client"),
            &json!({"redirect_uris": [redirect]}),
        )
        .json();
    let client_id = client["client_id"].as_str().unwrap();
    // Acme has a live grant already, which approving replaces: the page says so.
    s.create(
        "/v1/grants",
        &json!({"vendor_id": vendor_id, "scopes": ["profile:read"], "categories": ["home.appliances"]}),
    );
    let secret = client["client_secret"].as_str().unwrap();
    let pkce = Pkce::new(42);
    let mut authorize = url::Url::parse(&s.url("/oauth/authorize")).unwrap();
    authorize.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect.as_str()),
        ("scope", "relationship:read intents:read"),
        ("state", "browser-state"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("categories", "home.appliances"),
    ]);

    let d = Driver::start();
    // Phone width first: the page must fit without scrolling sideways.
    d.call(
        "POST",
        "/window/rect",
        Some(json!({"width": 390, "height": 844})),
    );
    d.go(authorize.as_str());
    let fits = d.script("return document.documentElement.scrollWidth <= window.innerWidth");
    assert_eq!(fits, json!(true), "the consent page fits a phone screen");
    d.screenshot("consent-page-phone.png");
    d.call(
        "POST",
        "/window/rect",
        Some(json!({"width": 1000, "height": 1100})),
    );
    d.go(authorize.as_str());
    // The stylesheet from `/oauth/carnet.css` applies under the page's CSP (no inline style).
    let width = d.script("return getComputedStyle(document.body).maxWidth");
    assert_eq!(width, json!("544px"), "34rem from the stylesheet");
    let text = d.script("return document.body.innerText");
    assert!(
        text.as_str()
            .unwrap()
            .contains("Acme Appliances asks to access your Carnet")
    );
    assert!(
        text.as_str()
            .unwrap()
            .contains("This replaces the access Acme Appliances has now"),
        "{text}"
    );
    assert!(text.as_str().unwrap().contains("profile:read"), "{text}");
    // The vendor asked for appliances; the owner adds the garden too, and mistypes the
    // password: the page comes back with the garden still ticked.
    d.click("input[name=category][value='home.garden']");
    d.type_into("input[name=password]", "not the password");
    d.click("button[value=approve]");
    let again = d.script("return document.body.innerText");
    assert!(
        again.as_str().unwrap().contains("Sign-in failed"),
        "{again}"
    );
    let ticked = d.script(
        "return [...document.querySelectorAll('input[name=category]:checked')].map(e => e.value)",
    );
    assert_eq!(ticked, json!(["home.appliances", "home.garden"]));
    d.screenshot("consent-page-after-a-failed-sign-in.png");
    d.type_into("input[name=password]", PASSWORD);
    d.screenshot("consent-page.png");
    d.click("button[value=approve]");

    let deadline = Instant::now() + Duration::from_secs(20);
    let landed = loop {
        let url = d.url();
        if url.starts_with(&redirect) {
            break url;
        }
        assert!(
            Instant::now() < deadline,
            "the browser did not land on the redirect (at {url})"
        );
        std::thread::yield_now();
    };
    d.screenshot("back-at-vendor.png");
    assert_eq!(
        query_param(&landed, "state").as_deref(),
        Some("browser-state")
    );
    assert_eq!(
        query_param(&landed, "iss").as_deref(),
        Some(s.base.as_str())
    );
    let line = callbacks.recv_timeout(Duration::from_secs(10)).unwrap();
    assert!(line.starts_with("GET /cb?code="), "{line}");

    let tokens = http()
        .post(s.url("/oauth/token"))
        .basic_auth(client_id, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &query_param(&landed, "code").unwrap()),
            ("redirect_uri", &redirect),
            ("code_verifier", &pkce.verifier),
        ])
        .send()
        .unwrap()
        .json::<Value>()
        .unwrap();
    assert_eq!(tokens["scope"], "intents:read relationship:read");
    assert_eq!(
        tokens["categories"],
        json!(["home.appliances", "home.garden"])
    );
}
