//! The web app under `/app/` in a real browser: headless Chromium, driven through
//! ChromeDriver's WebDriver protocol (`carnet_tests::webdriver`), as the owner uses it: signing
//! in, Today, adding an interaction from a phone, answering a consent request, accepting an
//! offer, revoking a grant; what an attacker tries (a form posted from another site, script in
//! vendor-supplied text); and every page checked with axe-core at 360 and 1280 px, kept as
//! screenshots in `target/ci-artifacts/` (`pages`).
//!
//! Needs Debian's `chromium` and `chromium-driver`, and axe-core from npm (`.ci/run` installs
//! them), so it is ignored by a plain `cargo test`; run it with
//! `cargo test -p carnet-tests --test browser_app -- --ignored`.
#![allow(clippy::unwrap_used)] // a test that cannot unwrap has failed anyway

#[path = "browser_app/pages.rs"]
mod pages;
#[path = "browser_app/seed.rs"]
mod seed;

use std::io::{Read, Write};
use std::net::TcpListener;

use carnet_tests::browser::{Browser, Pkce, REDIRECT, authorize_url, input_value, query_param};
use carnet_tests::vendor::VendorApp;
use carnet_tests::webdriver::{Driver, ELEMENT};
use carnet_tests::{Api, TestServer};
use chrono::{Duration, Utc};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";

/// The HTTP status of the page shown (the Navigation Timing entry's).
fn navigation_status(d: &Driver) -> Value {
    d.script(
        "const n = performance.getEntriesByType('navigation')[0];
         return n ? n.responseStatus : null;",
    )
}

/// The page's `<h1>`.
fn h1(d: &Driver) -> String {
    d.script("const h = document.querySelector('h1'); return h ? h.textContent.trim() : null")
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Types `password` on the sign-in page and sends it.
fn sign_in(d: &Driver, s: &TestServer, password: &str) {
    d.go(&s.url("/app/sign-in"));
    assert_eq!(h1(d), "Sign in", "{}", d.text());
    d.fill("Password", password);
    d.click_text("button", "Sign in");
    d.wait_for(
        "return document.readyState === 'complete' && !!document.querySelector('h1')",
        "the page after signing in",
    );
}

/// A browser signed in (the web password set first), on Today, at 1280 × 900.
fn signed_in(s: &TestServer) -> Driver {
    let set = s.put("/v1/password", &json!({"password": PASSWORD}));
    assert_eq!(set.status, 204, "{}", set.text);
    let d = Driver::start();
    d.viewport(1280, 900);
    sign_in(&d, s, PASSWORD);
    assert_eq!(h1(&d), "Today", "{}", d.text());
    d
}

/// Opens `path` of the app; asserts it answered 200.
#[track_caller]
fn open(d: &Driver, s: &TestServer, path: &str) {
    d.go(&s.url(path));
    assert_eq!(
        navigation_status(d),
        json!(200),
        "{path}: {}",
        d.text().chars().take(600).collect::<String>()
    );
}

/// Submits the form `control` belongs to by clicking its submit button (`novalidate` first
/// when `skip_browser_checks`, so the server's checks are the ones seen).
fn submit_form_of(d: &Driver, control: &str, skip_browser_checks: bool) {
    let button = d.script_with(
        "const [c, skip] = arguments;
         if (skip) c.form.noValidate = true;
         return c.form.querySelector('button[type=submit], button:not([type]), input[type=submit]');",
        vec![json!({ ELEMENT: control }), json!(skip_browser_checks)],
    );
    let id = button[ELEMENT]
        .as_str()
        .expect("the form has a submit button")
        .to_owned();
    d.click_element(&id);
    d.wait_for(
        "return document.readyState === 'complete'",
        "the answer to the form",
    );
}

/// Sets a date or time input's value (typing into them depends on the browser's locale).
fn set_value(d: &Driver, label: &str, value: &str) {
    let id = d.labelled(label);
    d.script_with(
        "arguments[0].value = arguments[1];",
        vec![json!({ ELEMENT: id }), json!(value)],
    );
}

/// The value of the control labelled `label`.
fn value_of(d: &Driver, label: &str) -> Value {
    let id = d.labelled(label);
    d.script_with(
        "const c = arguments[0]; return c.type === 'checkbox' ? c.checked : c.value;",
        vec![json!({ ELEMENT: id })],
    )
}

#[test]
#[ignore = "needs Chromium and ChromeDriver: run by .ci/run with --ignored"]
fn signing_in_with_the_web_password_lands_on_today() {
    let s = TestServer::spawn();
    let d = signed_in(&s);
    assert!(d.url().ends_with("/app/"), "{}", d.url());
    assert!(d.text().contains("Add interaction"));
}

#[test]
#[ignore = "needs Chromium and ChromeDriver: run by .ci/run with --ignored"]
fn a_wrong_password_stays_on_sign_in_with_an_error() {
    let s = TestServer::spawn();
    assert_eq!(
        s.put("/v1/password", &json!({"password": PASSWORD})).status,
        204
    );
    let d = Driver::start();
    sign_in(&d, &s, "not the password");
    assert_eq!(navigation_status(&d), json!(401));
    assert_eq!(h1(&d), "Sign in");
    assert!(d.text().contains("Sign-in failed"), "{}", d.text());
    // Nothing signed in: Today still sends to sign in.
    d.go(&s.url("/app/"));
    assert!(d.url().contains("/app/sign-in"), "{}", d.url());
}

#[test]
#[ignore = "needs Chromium and ChromeDriver: run by .ci/run with --ignored"]
fn a_session_left_unused_past_the_idle_timeout_sends_the_next_page_to_sign_in_saying_so() {
    let s = TestServer::spawn_with_manual_clock();
    let d = signed_in(&s);
    let idle = carnet_server::Settings::default().app_idle_timeout;
    // Used just before the timeout, it lives on (each page starts the wait again).
    s.clock.advance(idle - Duration::minutes(1));
    open(&d, &s, "/app/");
    assert_eq!(h1(&d), "Today");
    s.clock.advance(idle + Duration::seconds(1));
    d.go(&s.url("/app/"));
    assert!(d.url().contains("/app/sign-in"), "{}", d.url());
    assert_eq!(query_param(&d.url(), "ended").as_deref(), Some("idle"));
    assert!(
        d.text().contains("Your session ended after a while unused"),
        "{}",
        d.text()
    );
    // The ended session's cookie is worth nothing now, even with the clock back in range.
    d.go(&s.url("/app/"));
    assert!(d.url().contains("/app/sign-in"), "{}", d.url());
    d.fill("Password", PASSWORD);
    d.click_text("button", "Sign in");
    d.wait_for(
        "return document.readyState === 'complete' && location.pathname === '/app/'",
        "Today after signing in again",
    );
    assert_eq!(h1(&d), "Today");
}

#[test]
#[ignore = "needs Chromium and ChromeDriver: run by .ci/run with --ignored"]
fn a_follow_up_made_with_the_cli_shows_on_today_and_is_marked_done_there() {
    let s = TestServer::spawn();
    let vendor = s.create("/v1/vendors", &json!({"name": "Acme"}));
    let due = (Utc::now().date_naive() + Duration::days(2)).to_string();
    s.carnet(&[
        "interaction",
        "add",
        &vendor,
        "--channel",
        "phone",
        "--summary",
        "Asked about the leaking door",
        "--next",
        "Call back",
        "--due",
        &due,
    ])
    .ok();
    let d = signed_in(&s);
    let text = d.text();
    assert!(text.contains("Call back"), "{text}");
    assert!(text.contains(&format!("due {due}")), "{text}");
    d.click_text("button", "Done");
    d.wait_for(
        "return document.readyState === 'complete' && location.pathname === '/app/'",
        "Today again",
    );
    assert!(!d.text().contains("Call back"), "{}", d.text());
    let listed = s.get("/v1/followups").json();
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");
}

#[test]
#[ignore = "needs Chromium and ChromeDriver: run by .ci/run with --ignored"]
fn an_interaction_added_from_a_phone_keeps_the_form_when_incomplete_and_reaches_the_cli() {
    let s = TestServer::spawn();
    let acme = s.create("/v1/vendors", &json!({"name": "Acme Appliances"}));
    s.create("/v1/vendors", &json!({"name": "Dupont Plomberie"}));
    let d = signed_in(&s);
    d.viewport(360, 780);
    open(&d, &s, "/app/");
    assert!(d.fits_width(), "Today scrolls sideways at 360 px");
    d.click_text("a", "Add interaction");
    d.wait_for(
        "return location.pathname === '/app/interactions/new'",
        "the Add interaction page",
    );
    assert_eq!(navigation_status(&d), json!(200), "{}", d.text());
    assert!(d.fits_width(), "Add interaction scrolls sideways at 360 px");
    let due = (Utc::now().date_naive() + Duration::days(4)).to_string();
    d.choose("Vendor", &acme);
    d.choose("Channel", "phone");
    set_value(&d, "When", "2026-11-30T09:15");
    d.fill("With", "Marie at the help desk");
    d.fill("Expected", "A technician this week");
    d.fill("I said", "The door still leaks");
    d.fill("They said", "Someone comes on Thursday");
    d.fill("Outcome", "Visit booked");
    d.choose("Sentiment", "-1");
    d.fill("Next step", "Be home Thursday");
    set_value(&d, "Due", &due);
    let shared = d.labelled("Let this vendor read it");
    d.click_element(&shared);
    // Summary left empty: the server sends the form back with everything else kept.
    let summary = d.labelled("Summary");
    submit_form_of(&d, &summary, true);
    assert_eq!(navigation_status(&d), json!(422), "{}", d.text());
    d.screenshot("app-add-interaction-sent-back-360.png");
    for (label, typed) in [
        ("Vendor", json!(acme)),
        ("Channel", json!("phone")),
        ("With", json!("Marie at the help desk")),
        ("Expected", json!("A technician this week")),
        ("I said", json!("The door still leaks")),
        ("They said", json!("Someone comes on Thursday")),
        ("Outcome", json!("Visit booked")),
        ("Sentiment", json!("-1")),
        ("Next step", json!("Be home Thursday")),
        ("Due", json!(due)),
        ("Let this vendor read it", json!(true)),
    ] {
        assert_eq!(
            value_of(&d, label),
            typed,
            "{label} after the form came back"
        );
    }
    assert!(
        value_of(&d, "When")
            .as_str()
            .is_some_and(|w| w.starts_with("2026-11-30T09:15")),
        "When after the form came back: {}",
        value_of(&d, "When")
    );
    assert!(
        s.list_all("/v1/interactions").is_empty(),
        "nothing saved yet"
    );
    d.fill("Summary", "Phoned about the leaking door");
    let summary = d.labelled("Summary");
    submit_form_of(&d, &summary, false);
    let landed = (navigation_status(&d), d.url(), d.text());

    let listed = s
        .carnet(&["--json", "interaction", "list", "--vendor", &acme])
        .ok()
        .json();
    let items = listed.as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    let i = &items[0];
    assert_eq!(i["summary"], "Phoned about the leaking door");
    assert_eq!(i["channel"], "phone");
    assert_eq!(i["with"], "Marie at the help desk");
    assert_eq!(i["expected"], "A technician this week");
    assert_eq!(i["i_said"], "The door still leaks");
    assert_eq!(i["they_said"], "Someone comes on Thursday");
    assert_eq!(i["outcome"], "Visit booked");
    assert_eq!(i["sentiment"], -1);
    assert_eq!(i["next_step"], "Be home Thursday");
    assert_eq!(i["next_due"], due.as_str());
    assert_eq!(i["shared"], true);
    // Saved, the browser lands on a page that is there (the vendor's, or wherever it says).
    assert_eq!(landed.0, json!(200), "at {}: {}", landed.1, landed.2);
    assert!(!landed.1.contains("/app/interactions/new"), "{}", landed.1);
}

/// A consent request opened by `v` in a browser of its own (plain HTTP); that browser and the
/// request's id.
fn consent_opened(s: &TestServer, v: &VendorApp, pkce: &Pkce) -> (Browser, String) {
    let mut b = Browser::default();
    let page = b.get(&authorize_url(s, v, pkce, &[]));
    assert_eq!(page.status, 200, "{}", page.text);
    let request = input_value(&page.text, "request").expect("the consent form's request");
    (b, request)
}

#[test]
#[ignore = "needs Chromium and ChromeDriver: run by .ci/run with --ignored"]
fn a_consent_request_allowed_on_today_lets_the_vendor_continue_with_a_code() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme Appliances");
    let d = signed_in(&s);
    let pkce = Pkce::new(7);
    let (mut vendor_browser, request) = consent_opened(&s, &v, &pkce);
    let continue_url = s.url(&format!("/oauth/authorize/continue?request={request}"));
    // Before the owner answers, the vendor's page waits.
    let waiting = vendor_browser.get(&continue_url);
    assert_eq!(waiting.status, 200, "{}", waiting.text);

    open(&d, &s, "/app/");
    let text = d.text();
    assert!(text.contains("Waiting for your consent"), "{text}");
    assert!(
        text.contains("Acme Appliances asks to access your Carnet"),
        "{text}"
    );
    d.by_text("button", "Deny");
    d.screenshot("app-today-consent-1280.png");
    d.click_text("button", "Allow");
    d.wait_for(
        "return document.readyState === 'complete' && location.pathname === '/app/'",
        "Today after allowing",
    );
    assert!(
        !d.text().contains("Waiting for your consent"),
        "{}",
        d.text()
    );

    let back = vendor_browser.get(&continue_url);
    assert_eq!(back.status, 303, "{}", back.text);
    let location = back.header("location").unwrap().to_owned();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some("xyz-state")
    );
    let code = query_param(&location, "code").expect("a code");
    let tokens = v.oauth(
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &pkce.verifier),
        ],
    );
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    let token = tokens.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(v.get(&token, "/v1/vendor/profile").status, 200);
}

#[test]
#[ignore = "needs Chromium and ChromeDriver: run by .ci/run with --ignored"]
fn accepting_an_offer_on_the_intent_s_page_records_the_purchase() {
    let s = TestServer::spawn();
    let acme = seed::seller(&s, "Acme Appliances");
    let intent = seed::intent(&s, "Washing machine", "A quiet 8 kg washer.");
    seed::offer(&acme, &intent, "649.90", "WM-9, delivered and installed");
    let d = signed_in(&s);
    open(&d, &s, &format!("/app/intents/{intent}"));
    let text = d.text();
    assert!(text.contains("649.90"), "{text}");
    assert!(text.contains("Acme Appliances"), "{text}");
    d.click_text("button", "Accept");
    d.accept_alert();
    d.wait_for(
        "return document.readyState === 'complete'",
        "the page after accepting",
    );
    let purchases = s.list_all("/v1/purchases");
    assert_eq!(purchases.len(), 1, "{purchases:?}");
    assert_eq!(purchases[0]["vendor_id"], acme.vendor_id.as_str());
    assert_eq!(purchases[0]["amount"], "649.90");
    assert_eq!(purchases[0]["item"], "Washing machine");
    assert_eq!(
        s.get(&format!("/v1/intents/{intent}")).json()["state"],
        "fulfilled"
    );
    open(&d, &s, &format!("/app/vendors/{}", acme.vendor_id));
    let text = d.text();
    assert!(text.contains("Washing machine"), "{text}");
    assert!(text.contains("649.90"), "{text}");
}

#[test]
#[ignore = "needs Chromium and ChromeDriver: run by .ci/run with --ignored"]
fn revoking_a_grant_on_the_access_page_refuses_the_vendor_s_token() {
    let s = TestServer::spawn();
    let acme = VendorApp::connect(&s, "Acme Appliances");
    acme.grant(&s, &["profile:read"], Some(&["home.appliances"]));
    let token = acme.token();
    assert_eq!(acme.get(&token, "/v1/vendor/profile").status, 200);
    let d = signed_in(&s);
    open(&d, &s, "/app/access");
    assert!(d.text().contains("Acme Appliances"), "{}", d.text());
    d.click_text("button", "Revoke");
    // A confirm() first, if the page asks.
    d.accept_alert();
    d.wait_for(
        "return document.readyState === 'complete'",
        "the page after revoking",
    );
    assert_eq!(acme.get(&token, "/v1/vendor/profile").status, 401);
    let grants = s.get("/v1/grants").json();
    let live: Vec<&Value> = grants
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["revoked_at"].is_null())
        .collect();
    assert!(live.is_empty(), "{live:?}");
}

/// A page on another loopback origin that posts `fields` to `action` as soon as it loads: an
/// attacker's. Serves it to every request; its URL on `host`.
fn attacker_page(host: &str, action: &str, fields: &[(&str, &str)]) -> String {
    let inputs: String = fields
        .iter()
        .map(|(k, v)| format!("<input type=\"hidden\" name=\"{k}\" value=\"{v}\">"))
        .collect();
    let html = format!(
        "<!doctype html><html><head><title>Win a prize</title></head><body>\
         <form id=\"f\" method=\"post\" action=\"{action}\">{inputs}</form>\
         <script>document.getElementById('f').submit()</script></body></html>"
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{html}",
                    html.len()
                )
                .as_bytes(),
            );
        }
    });
    format!("http://{host}:{port}/")
}

#[test]
#[ignore = "needs Chromium and ChromeDriver: run by .ci/run with --ignored"]
fn a_form_posted_from_another_site_changes_nothing() {
    let s = TestServer::spawn();
    let vendor = s.create("/v1/vendors", &json!({"name": "Acme"}));
    let due = (Utc::now().date_naive() + Duration::days(2)).to_string();
    let interaction = s.create(
        "/v1/interactions",
        &json!({"vendor_id": vendor, "channel": "phone", "summary": "Asked",
            "next_step": "Call back", "next_due": due}),
    );
    let d = signed_in(&s);
    let done = s.url(&format!("/app/followups/{interaction}/done"));
    let sign_out = s.url("/app/sign-out");
    // `localhost` is another site than 127.0.0.1 (no cookie goes with it); another port of
    // 127.0.0.1 is the same site (the cookie goes): neither has the session's form token.
    for host in ["localhost", "127.0.0.1"] {
        for (action, fields) in [
            (done.as_str(), vec![]),
            (done.as_str(), vec![("csrf", "forged")]),
            (sign_out.as_str(), vec![("csrf", "forged")]),
        ] {
            let page = attacker_page(host, action, &fields);
            d.go(&page);
            d.wait_for(
                &format!(
                    "return document.readyState === 'complete' && location.href.startsWith({})",
                    json!(s.base)
                ),
                "the attacker's form to be posted",
            );
            // Refused (403), or sent to sign in when the browser kept the cookie back.
            let landed = h1(&d);
            assert!(
                landed == "This form cannot be sent" || landed == "Sign in",
                "{host} → {action}: {}",
                d.text()
            );
            let i = s.get(&format!("/v1/interactions/{interaction}")).json();
            assert_eq!(i["next_done"], false, "{host} → {action}: {i}");
        }
    }
    // Still signed in: the attacker's sign-out did nothing.
    open(&d, &s, "/app/");
    assert_eq!(h1(&d), "Today");
    assert!(d.text().contains("Call back"), "{}", d.text());
}

#[test]
#[ignore = "needs Chromium and ChromeDriver: run by .ci/run with --ignored"]
fn no_script_runs_from_vendor_supplied_text() {
    const IMG: &str = "<img src=x onerror=\"document.title='pwned';alert('pwned')\">";
    const SCRIPT: &str = "<script>document.title='pwned';alert('pwned')</script>";
    let s = TestServer::spawn();
    let img = seed::seller(&s, IMG);
    let script = s.create(
        "/v1/vendors",
        &json!({"name": SCRIPT, "note": IMG, "contact_policy": SCRIPT}),
    );
    s.create(
        "/v1/interactions",
        &json!({"vendor_id": script, "channel": "phone", "summary": SCRIPT,
            "next_step": IMG, "next_due": (Utc::now().date_naive() + Duration::days(1)).to_string()}),
    );
    let intent = seed::intent(&s, "Washing machine", "A quiet washer.");
    seed::offer(&img, &intent, "600", &format!("{IMG}{SCRIPT}"));
    img.alternating_reads(2);
    let pkce = Pkce::new(3);
    let _waiting = consent_opened(&s, &img, &pkce);
    let d = signed_in(&s);
    // Each page, and whether it shows the vendor's words (then as text, never as markup).
    for (path, shows_vendor_text) in [
        ("/app/".to_owned(), true),
        (format!("/app/vendors/{}", img.vendor_id), true),
        (format!("/app/vendors/{script}"), true),
        ("/app/vendors".to_owned(), true),
        (format!("/app/intents/{intent}"), true),
        ("/app/intents".to_owned(), false),
        ("/app/access".to_owned(), true),
        ("/app/search?q=pwned".to_owned(), false),
    ] {
        open(&d, &s, &path);
        assert_eq!(d.alert_text(), None, "an alert on {path}");
        let title = d.title();
        assert_ne!(title, "pwned", "{path}");
        assert!(title.ends_with("— Carnet"), "{path}: {title}");
        let shown = d.script(
            "return [...document.querySelectorAll('img, script:not([src])')].map(e => e.outerHTML)",
        );
        assert_eq!(shown, json!([]), "{path}: markup from vendor text");
        if shows_vendor_text {
            let text = d.text();
            assert!(
                text.contains("<img src=x") || text.contains("<script>"),
                "{path} shows the vendor's words as text: {text}"
            );
        }
    }
}
