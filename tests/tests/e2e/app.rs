//! The web app under `/app/`: off until a web password is set, signed in with it, every page
//! behind a live session, every change behind the session's form token; sessions that end
//! when they should; the quick capture, search and settings.

use carnet_tests::browser::{Browser, Pkce, input_value};
use carnet_tests::vendor::VendorApp;
use carnet_tests::webapp::{PASSWORD, WebApp};
use carnet_tests::{Api, Resp, TestServer, http, run_carnetd};
use serde_json::json;

use crate::consent::authorize_url;

fn vendor(s: &TestServer, name: &str) -> String {
    s.create("/v1/vendors", &json!({ "name": name }))
}

/// Whether the answer sends the browser to sign in (and why, if it says).
fn sent_to_sign_in(r: &Resp) -> Option<String> {
    (r.status == 303)
        .then(|| r.header("location").unwrap_or("").to_owned())
        .filter(|l| l.starts_with("/app/sign-in"))
}

#[test]
fn the_web_app_is_off_until_a_web_password_is_set() {
    let s = TestServer::spawn();
    let mut b = WebApp::new(&s);
    let page = b.get("/app/sign-in");
    assert_eq!(page.status, 403);
    assert!(page.text.contains("carnet password set"), "{}", page.text);
    // Every page sends a browser without a session to sign in first, and back after.
    assert_eq!(
        sent_to_sign_in(&b.get("/app/")).as_deref(),
        Some("/app/sign-in")
    );
    assert_eq!(
        sent_to_sign_in(&b.get("/app/settings")).as_deref(),
        Some("/app/sign-in?next=%2Fapp%2Fsettings")
    );
    // Even with the form token of a sign-in page, there is nothing to sign in to.
    let tried = b.post_raw("/app/sign-in", &[("password", PASSWORD)]);
    assert_eq!(tried.status, 403);
    assert!(
        !tried
            .headers
            .get_all("set-cookie")
            .iter()
            .any(|c| c.to_str().unwrap().starts_with("carnet_session="))
    );
}

#[test]
fn signing_in_lands_on_today_with_a_cookie_scripts_and_other_sites_cannot_use() {
    let s = TestServer::spawn();
    s.put("/v1/password", &json!({ "password": PASSWORD }));
    let mut b = WebApp::new(&s);
    let signed = b.sign_in(PASSWORD);
    assert_eq!(signed.status, 303, "{}", signed.text);
    assert_eq!(signed.header("location"), Some("/app/"));
    let cookie = signed
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|c| c.to_str().unwrap().to_owned())
        .find(|c| c.starts_with("carnet_session="))
        .expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/app"] {
        assert!(cookie.contains(attribute), "{attribute} missing: {cookie}");
    }
    assert!(!cookie.contains("Secure"), "http public_url: {cookie}");
    let today = b.get("/app/");
    assert_eq!(today.status, 200, "{}", today.text);
    assert!(today.text.contains("<h1>Today</h1>"));
    assert!(today.text.contains(r#"href="/app/interactions/new""#));
    assert!(today.text.contains(">Add interaction<"));
}

#[test]
fn a_wrong_password_signs_nobody_in_and_guessing_is_slowed_down() {
    let s = TestServer::spawn();
    s.put("/v1/password", &json!({ "password": PASSWORD }));
    let mut b = WebApp::new(&s);
    let wrong = b.sign_in("not the password at all");
    assert_eq!(wrong.status, 401);
    assert!(wrong.text.contains("Sign-in failed"), "{}", wrong.text);
    assert!(!b.cookies.contains_key("carnet_session"));
    assert_eq!(
        sent_to_sign_in(&b.get("/app/")).as_deref(),
        Some("/app/sign-in")
    );
    // The consent page's limiter: a few tries a minute per address, then 429.
    let mut last = 0;
    for _ in 0..6 {
        last = b.sign_in("still not it").status;
    }
    assert_eq!(last, 429);
    // Even the right password waits its turn.
    assert_eq!(b.sign_in(PASSWORD).status, 429);
}

#[test]
fn the_sign_in_form_works_only_with_the_cookie_it_was_shown_with() {
    let s = TestServer::spawn();
    s.put("/v1/password", &json!({ "password": PASSWORD }));
    let mut shown = WebApp::new(&s);
    let page = shown.get("/app/sign-in");
    let token = input_value(&page.text, "csrf").unwrap();
    // Another browser (a page on another site posting the form) has no such cookie.
    let mut other = WebApp::new(&s);
    let r = other.post_raw("/app/sign-in", &[("csrf", &token), ("password", PASSWORD)]);
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(!other.cookies.contains_key("carnet_session"));
}

#[test]
fn every_page_refuses_frames_inline_code_referrers_and_caching() {
    let s = TestServer::spawn();
    let mut b = WebApp::signed_in(&s);
    for path in [
        "/app/",
        "/app/interactions/new",
        "/app/search?q=x",
        "/app/settings",
        "/app/sign-in",
        "/app/no-such-page",
    ] {
        let r = b.get(path);
        assert!([200, 404].contains(&r.status), "{path}: {}", r.status);
        let csp = r
            .header("content-security-policy")
            .unwrap_or_default()
            .to_owned();
        assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        for refused in ["unsafe-inline", "unsafe-eval", "*"] {
            assert!(!csp.contains(refused), "{path}: {csp}");
        }
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{path}");
        assert_eq!(r.header("cache-control"), Some("no-store"), "{path}");
        for inline in ["<style", " style=", "<script>", " onclick=", " onload="] {
            assert!(!r.text.contains(inline), "{path}: {inline} in the page");
        }
    }
    // The files the pages use are served from carnetd itself.
    for (path, kind) in [
        ("/app/app.css", "text/css; charset=utf-8"),
        ("/app/app.js", "text/javascript; charset=utf-8"),
        ("/app/manifest.webmanifest", "application/manifest+json"),
        ("/app/icon-192.png", "image/png"),
        ("/app/icon-512.png", "image/png"),
        ("/app/icon.svg", "image/svg+xml"),
    ] {
        let r = b.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some(kind), "{path}");
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    }
    let manifest: serde_json::Value =
        serde_json::from_str(&b.get("/app/manifest.webmanifest").text).unwrap();
    assert_eq!(manifest["start_url"], "/app/");
    assert!(
        manifest["icons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["sizes"] == "512x512")
    );
}

#[test]
fn a_form_without_its_session_token_or_from_another_site_changes_nothing() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let i = s.create(
        "/v1/interactions",
        &json!({"vendor_id": v, "channel": "phone", "summary": "Call", "next_step": "Call back"}),
    );
    let done = format!("/app/followups/{i}/done");
    let mut b = WebApp::signed_in(&s);
    let mut other = WebApp::new(&s);
    assert_eq!(other.sign_in(PASSWORD).status, 303);
    let others_token = input_value(&other.get("/app/").text, "csrf").unwrap();
    // No token, a made-up one, another session's.
    assert_eq!(b.post_raw(&done, &[]).status, 403);
    assert_eq!(b.post_raw(&done, &[("csrf", "guess")]).status, 403);
    assert_eq!(b.post_raw(&done, &[("csrf", &others_token)]).status, 403);
    // The right token, but the browser says the form came from another site.
    let token = input_value(&b.get("/app/").text, "csrf").unwrap();
    let cross = Resp::from(
        http()
            .post(s.url(&done))
            .header(
                "cookie",
                format!("carnet_session={}", b.cookies["carnet_session"]),
            )
            .header("sec-fetch-site", "cross-site")
            .form(&[("csrf", token.as_str())])
            .send()
            .unwrap(),
    );
    assert_eq!(cross.status, 403);
    // No session at all: sent to sign in.
    assert!(sent_to_sign_in(&WebApp::new(&s).post_raw(&done, &[("csrf", &token)])).is_some());
    assert_eq!(
        s.get("/v1/followups").json().as_array().unwrap().len(),
        1,
        "nothing changed"
    );
    // The page's own form works.
    assert_eq!(b.post_raw(&done, &[("csrf", &token)]).status, 303);
    assert!(s.get("/v1/followups").json().as_array().unwrap().is_empty());
    let _ = other.get("/app/");
}

#[test]
fn today_shows_the_follow_ups_due_and_late_and_marks_them_done() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let today = chrono::Utc::now().date_naive();
    for (step, due) in [
        (
            "Call back the technician",
            today + chrono::Duration::days(2),
        ),
        ("Send the invoice", today - chrono::Duration::days(3)),
        ("Much later", today + chrono::Duration::days(30)),
    ] {
        s.create(
            "/v1/interactions",
            &json!({"vendor_id": v, "channel": "phone", "summary": "Washer", "next_step": step, "next_due": due}),
        );
    }
    let mut b = WebApp::signed_in(&s);
    let page = b.get("/app/");
    assert!(
        page.text.contains("Call back the technician"),
        "{}",
        page.text
    );
    assert!(page.text.contains("Send the invoice"));
    assert!(page.text.contains("late, due"), "a late step says so");
    assert!(
        !page.text.contains("Much later"),
        "beyond 7 days: not today's"
    );
    let f = s.get("/v1/followups").json();
    let late = f
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["next_step"] == "Send the invoice")
        .unwrap();
    let r = b.submit(
        "/app/",
        &format!(
            "/app/followups/{}/done",
            late["interaction_id"].as_str().unwrap()
        ),
        &[],
    );
    assert_eq!(r.status, 303);
    assert!(!b.get("/app/").text.contains("Send the invoice"));
}

#[test]
fn sessions_end_when_idle_locked_out_everywhere_or_the_credentials_change() {
    let s = TestServer::spawn_with_manual_clock();
    let mut b = WebApp::signed_in(&s);
    // Used within the idle timeout: still signed in.
    s.clock.advance(chrono::Duration::hours(7));
    assert_eq!(b.get("/app/").status, 200);
    s.clock.advance(chrono::Duration::hours(7));
    assert_eq!(b.get("/app/").status, 200);
    // Unused longer than 8 hours: ended.
    s.clock
        .advance(chrono::Duration::hours(8) + chrono::Duration::seconds(1));
    assert_eq!(
        sent_to_sign_in(&b.get("/app/")).as_deref(),
        Some("/app/sign-in?ended=idle")
    );

    // A password change from the CLI ends every session.
    let mut b = WebApp::new(&s);
    assert_eq!(b.sign_in(PASSWORD).status, 303);
    s.put(
        "/v1/password",
        &json!({ "password": "another long password" }),
    );
    assert_eq!(
        sent_to_sign_in(&b.get("/app/")).as_deref(),
        Some("/app/sign-in?ended=changed")
    );
    assert_eq!(b.sign_in(PASSWORD).status, 401, "the old password is gone");

    // Signing out everywhere ends the other browser's session too.
    let mut phone = WebApp::new(&s);
    let mut laptop = WebApp::new(&s);
    assert_eq!(phone.sign_in("another long password").status, 303);
    assert_eq!(laptop.sign_in("another long password").status, 303);
    let out = laptop.submit("/app/settings", "/app/sign-out-everywhere", &[]);
    assert_eq!(
        sent_to_sign_in(&out).as_deref(),
        Some("/app/sign-in?ended=out")
    );
    assert!(sent_to_sign_in(&phone.get("/app/")).is_some());
    assert!(sent_to_sign_in(&laptop.get("/app/")).is_some());
}

#[test]
fn locking_the_vault_ends_every_session_and_the_app_says_it_is_locked() {
    let s = TestServer::spawn();
    let mut b = WebApp::signed_in(&s);
    let token = s.token();
    assert_eq!(s.post("/v1/lock", &json!({})).status, 200);
    let locked = b.get("/app/");
    assert_eq!(locked.status, 503);
    assert!(locked.text.contains("Carnet is locked"), "{}", locked.text);
    assert_eq!(
        locked.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        locked
            .header("content-security-policy")
            .unwrap()
            .starts_with("default-src 'self'")
    );
    let unlocked = Resp::from(
        http()
            .post(s.url("/v1/unlock"))
            .bearer_auth(&token)
            .json(&json!({}))
            .send()
            .unwrap(),
    );
    assert_eq!(unlocked.status, 200, "{}", unlocked.text);
    assert!(
        sent_to_sign_in(&b.get("/app/")).is_some(),
        "the session did not survive the seal"
    );
}

#[test]
fn locking_from_the_settings_page_seals_the_vault() {
    let s = TestServer::spawn();
    let mut b = WebApp::signed_in(&s);
    let r = b.submit("/app/settings", "/app/settings/lock", &[]);
    assert_eq!(r.status, 303);
    s.get("/v1/vendors").problem(503);
    assert_eq!(b.get("/app/").status, 503);
}

#[test]
fn rotating_the_owner_token_from_another_process_ends_every_session() {
    let s = TestServer::spawn();
    let mut b = WebApp::signed_in(&s);
    assert_eq!(b.get("/app/").status, 200);
    let rotated = run_carnetd(s.path(), &["owner-token", "rotate"], None);
    assert_eq!(rotated.code, 0, "{}", rotated.stderr);
    assert_eq!(
        sent_to_sign_in(&b.get("/app/")).as_deref(),
        Some("/app/sign-in?ended=changed")
    );
}

#[test]
fn changing_the_password_in_the_app_keeps_this_session_and_ends_the_others() {
    let s = TestServer::spawn_with_manual_clock();
    let mut phone = WebApp::signed_in(&s);
    let mut laptop = WebApp::new(&s);
    assert_eq!(laptop.sign_in(PASSWORD).status, 303);
    let wrong = phone.submit(
        "/app/settings",
        "/app/settings/password",
        &[
            ("current", "not it"),
            ("new", "a brand new password"),
            ("again", "a brand new password"),
        ],
    );
    assert_eq!(wrong.status, 401);
    let short = phone.submit(
        "/app/settings",
        "/app/settings/password",
        &[("current", PASSWORD), ("new", "short"), ("again", "short")],
    );
    assert_eq!(short.status, 422, "{}", short.text);
    let changed = phone.submit(
        "/app/settings",
        "/app/settings/password",
        &[
            ("current", PASSWORD),
            ("new", "a brand new password"),
            ("again", "a brand new password"),
        ],
    );
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert!(changed.text.contains("password is changed"));
    assert_eq!(phone.get("/app/").status, 200);
    assert!(sent_to_sign_in(&laptop.get("/app/")).is_some());
    // Past the sign-in limiter's minute (each check of the current password counted).
    s.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(WebApp::new(&s).sign_in("a brand new password").status, 303);
}

#[test]
fn an_interaction_added_in_the_app_is_in_the_ledger_and_a_wrong_field_keeps_what_was_typed() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let mut b = WebApp::signed_in(&s);
    let form = b.get(&format!("/app/interactions/new?vendor={v}"));
    assert_eq!(form.status, 200);
    for label in [
        "Vendor",
        "Channel",
        "Summary",
        "When",
        "With",
        "Expected",
        "I said",
        "They said",
        "Outcome",
        "Sentiment",
        "Next step",
        "Due",
    ] {
        assert!(
            form.text.contains(&format!(">{label}</label>")),
            "no field labelled {label}"
        );
    }
    assert!(
        form.text
            .contains(&format!(r#"<option value="{v}" selected>Acme</option>"#))
    );
    // The summary forgotten, a wrong sentiment: the form comes back, all kept.
    let sent = [
        ("vendor", v.as_str()),
        ("channel", "phone"),
        ("summary", ""),
        ("they_said", "A technician comes <b>Tuesday</b>"),
        ("sentiment", "9"),
        ("next", "Check he came"),
        ("due", "2026-12-20"),
    ];
    let back = b.submit("/app/interactions/new", "/app/interactions/new", &sent);
    assert_eq!(back.status, 422, "{}", back.text);
    assert!(
        back.text
            .contains("A technician comes &lt;b&gt;Tuesday&lt;/b&gt;"),
        "kept, escaped"
    );
    assert!(back.text.contains("Check he came"));
    assert!(back.text.contains(r#"value="2026-12-20""#));
    assert!(back.text.contains(r#"aria-invalid="true""#));
    assert!(
        s.get("/v1/interactions").json()["items"]
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing saved"
    );
    // Corrected: saved, and the browser goes to the vendor's page.
    let mut fixed = sent.to_vec();
    fixed[2] = ("summary", "The washer leaks again");
    fixed[4] = ("sentiment", "-1");
    fixed.push(("shared", "yes"));
    let saved = b.submit("/app/interactions/new", "/app/interactions/new", &fixed);
    assert_eq!(saved.status, 303, "{}", saved.text);
    assert!(
        saved
            .header("location")
            .unwrap()
            .starts_with(&format!("/app/vendors/{v}#int_"))
    );
    let items = s.get("/v1/interactions").json()["items"].clone();
    let i = &items[0];
    assert_eq!(i["summary"], "The washer leaks again");
    assert_eq!(i["they_said"], "A technician comes <b>Tuesday</b>");
    assert_eq!(i["sentiment"], -1);
    assert_eq!(i["next_due"], "2026-12-20");
    assert_eq!(i["shared"], true);
    // What the CLI lists.
    let listed = s.carnet(&["--json", "interaction", "list"]);
    assert!(
        listed.stdout.contains("The washer leaks again"),
        "{}",
        listed.stdout
    );
}

#[test]
fn search_finds_what_was_written_and_shows_it_as_text() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme <script>alert(1)</script>");
    s.create("/v1/interactions", &json!({"vendor_id": v, "channel": "phone", "summary": "Dishwasher <img src=x onerror=alert(1)> noisy"}));
    let mut b = WebApp::signed_in(&s);
    let found = b.get("/app/search?q=dishwasher");
    assert_eq!(found.status, 200);
    assert!(
        found.text.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{}",
        found.text
    );
    assert!(!found.text.contains("<img src=x"));
    assert!(found.text.contains(&format!("/app/vendors/{v}#int_")));
    let vendor_hit = b.get("/app/search?q=acme&kind=vendor");
    assert!(
        vendor_hit.text.contains("Acme &lt;script&gt;"),
        "{}",
        vendor_hit.text
    );
    assert!(!vendor_hit.text.contains("<script>alert"));
    assert_eq!(b.get("/app/search?q=%21%21").status, 422);
    assert_eq!(
        b.get("/app/search").status,
        200,
        "an empty search is the form"
    );
}

#[test]
fn a_consent_request_is_answered_from_today_and_the_vendor_gets_its_code() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    let mut owner = WebApp::signed_in(&s);
    let pkce = Pkce::new(3);
    let mut vendor_browser = Browser::default();
    let page = vendor_browser.get(&authorize_url(&s, &v, &pkce, &[]));
    assert_eq!(page.status, 200);
    let request = input_value(&page.text, "request").unwrap();
    let today = owner.get("/app/");
    assert!(
        today.text.contains("Waiting for your consent"),
        "{}",
        today.text
    );
    let code = carnet_tests::browser::short_code(&page.text).unwrap();
    let approved = owner.submit(
        "/app/",
        &format!("/app/consents/{code}/approve"),
        &[("categories", "home.appliances"), ("days", "30")],
    );
    assert_eq!(approved.status, 303, "{}", approved.text);
    let grants = s.get("/v1/grants").json();
    assert_eq!(grants.as_array().unwrap().len(), 1, "{grants}");
    // The vendor's page continues with a code that buys a token.
    let cont = vendor_browser.get(&s.url(&format!("/oauth/authorize/continue?request={request}")));
    assert_eq!(cont.status, 303, "{}", cont.text);
    let code =
        carnet_tests::browser::query_param(cont.header("location").unwrap(), "code").unwrap();
    let token = crate::consent::exchange(&v, &code, &pkce.verifier);
    assert_eq!(token.status, 200, "{}", token.text);
    assert!(!owner.get("/app/").text.contains("Waiting for your consent"));
}

#[test]
fn a_restart_ends_every_session() {
    let s = TestServer::spawn();
    let b = WebApp::signed_in(&s);
    let cookie = b.cookies["carnet_session"].clone();
    let s = TestServer::restart_in(s.stop());
    let mut again = WebApp::new(&s);
    again.cookies.insert("carnet_session".into(), cookie);
    assert_eq!(
        sent_to_sign_in(&again.get("/app/")).as_deref(),
        Some("/app/sign-in?ended=out")
    );
}

#[test]
fn a_form_sent_to_a_page_that_takes_none_is_refused_in_html() {
    let s = TestServer::spawn();
    let mut b = WebApp::signed_in(&s);
    let r = b.post_raw("/app/vendors", &[("csrf", "x")]);
    assert_eq!(r.status, 405, "{}", r.text);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    // The API keeps its problem+json.
    assert_eq!(
        Resp::from(http().delete(s.url("/healthz")).send().unwrap()).header("content-type"),
        Some("application/problem+json")
    );
}

#[test]
fn today_shows_the_soonest_follow_ups_and_says_how_many_more_there_are() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let today = chrono::Utc::now().date_naive();
    for d in 0..25i64 {
        s.create(
            "/v1/interactions",
            &json!({"vendor_id": v, "channel": "phone", "summary": "Step",
                    "next_step": format!("Step due in {d} days"), "next_due": today - chrono::Duration::days(30) + chrono::Duration::days(d)}),
        );
    }
    let mut b = WebApp::signed_in(&s);
    let page = b.get("/app/");
    assert_eq!(page.status, 200);
    for d in 0..20 {
        assert!(
            page.text.contains(&format!(">Step due in {d} days<")),
            "step {d}"
        );
    }
    for d in 20..25 {
        assert!(
            !page.text.contains(&format!(">Step due in {d} days<")),
            "step {d}"
        );
    }
    assert!(page.text.contains("And 5 more, due later"), "{}", page.text);
}
