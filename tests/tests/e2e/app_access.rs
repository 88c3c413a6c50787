//! The web app's vendors' access page: each grant in plain words with Revoke (which really
//! stops the vendor's token), the consent receipts, and the access log by vendor with its
//! check. Nothing changes without the session's form token.

use carnet_tests::browser::input_value;
use carnet_tests::vendor::VendorApp;
use carnet_tests::webapp::WebApp;
use carnet_tests::{Api, TestServer};

const ACCESS: &str = "/app/access";

fn grant_state(s: &TestServer, id: &str) -> String {
    s.get(&format!("/v1/grants/{id}")).json()["state"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn the_access_page_says_what_each_grant_allows_and_lists_its_receipt() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    let v = VendorApp::connect(&s, "Acme <b>Appliances</b>");
    let grant = v.grant(
        &s,
        &["intents:read", "offers:write"],
        Some(&["home.appliances"]),
    );
    let page = app.get(ACCESS);
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text
            .contains(carnet_schemas::Scope::IntentsRead.describe())
    );
    assert!(page.text.contains("home.appliances"));
    assert!(page.text.contains(&format!("/app/grants/{grant}/revoke")));
    assert!(page.text.contains("data-confirm="), "revoking asks first");
    assert!(page.text.contains("Acme &lt;b&gt;Appliances&lt;/b&gt;"));
    let receipts = s.get("/v1/receipts").json();
    let receipt = receipts[0]["id"].as_str().unwrap();
    assert!(page.text.contains(receipt), "the receipt is listed");
    for anchor in ["id=\"grants\"", "id=\"receipts\"", "id=\"log\""] {
        assert!(page.text.contains(anchor), "{anchor}");
    }
}

#[test]
fn revoking_from_the_access_page_refuses_the_vendors_token() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    let v = VendorApp::connect(&s, "Acme");
    let grant = v.grant(&s, &["intents:read"], None);
    let token = v.token();
    assert_eq!(v.get(&token, "/v1/vendor/intents").status, 200);
    let r = app.submit(ACCESS, &format!("/app/grants/{grant}/revoke"), &[]);
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.header("location"), Some("/app/access#grants"));
    assert_eq!(v.get(&token, "/v1/vendor/intents").status, 401);
    assert_eq!(grant_state(&s, &grant), "revoked");
    let page = app.get(ACCESS);
    assert!(!page.text.contains(&format!("/app/grants/{grant}/revoke")));
}

#[test]
fn revoke_goes_back_only_to_a_page_of_the_app() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    let v = VendorApp::connect(&s, "Acme");
    let first = v.grant(&s, &["intents:read"], None);
    let path = format!("/app/vendors/{}", v.vendor_id);
    let r = app.submit(
        ACCESS,
        &format!("/app/grants/{first}/revoke"),
        &[("next", &path)],
    );
    assert_eq!(r.header("location"), Some(path.as_str()));
    let second = v.grant(&s, &["intents:read"], None);
    let r = app.submit(
        ACCESS,
        &format!("/app/grants/{second}/revoke"),
        &[("next", "//evil.example/app/")],
    );
    assert_eq!(r.header("location"), Some("/app/access#grants"));
    assert_eq!(grant_state(&s, &second), "revoked");
}

#[test]
fn the_access_log_shows_a_vendors_read_and_filters_by_vendor() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    let acme = VendorApp::connect(&s, "Acme");
    acme.grant(&s, &["intents:read"], None);
    let globex = VendorApp::connect(&s, "Globex");
    globex.grant(&s, &["profile:read"], None);
    assert_eq!(acme.get(&acme.token(), "/v1/vendor/intents").status, 200);
    assert_eq!(
        globex.get(&globex.token(), "/v1/vendor/profile").status,
        200
    );

    let all = app.get(ACCESS);
    assert!(all.text.contains("GET /v1/vendor/intents"), "{}", all.text);
    assert!(all.text.contains("GET /v1/vendor/profile"), "{}", all.text);
    assert!(
        all.text
            .contains(&format!("<option value=\"{}\"", acme.vendor_id))
    );

    let only = app.get(&format!("{ACCESS}?vendor={}", acme.vendor_id));
    assert_eq!(only.status, 200, "{}", only.text);
    assert!(only.text.contains("GET /v1/vendor/intents"));
    assert!(
        !only.text.contains("GET /v1/vendor/profile"),
        "{}",
        only.text
    );
    assert!(
        only.text
            .contains(&format!("<option value=\"{}\" selected", acme.vendor_id))
    );

    let bad = app.get(&format!("{ACCESS}?cursor=nonsense"));
    assert_eq!(bad.status, 400, "{}", bad.text);
}

#[test]
fn the_access_log_is_paged_by_its_cursor() {
    let s = TestServer::spawn_logging_every_read();
    let mut app = WebApp::signed_in(&s);
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["intents:read", "profile:read"], None);
    v.alternating_reads(60);
    let first = app.get(ACCESS);
    let older = first
        .text
        .split("href=\"")
        .find_map(|h| h.strip_prefix("/app/access?cursor="))
        .and_then(|h| h.split('"').next())
        .expect("a link to older entries");
    let second = app.get(&format!("{ACCESS}?cursor={}", older.replace("&amp;", "&")));
    assert_eq!(second.status, 200, "{}", second.text);
    assert!(second.text.contains("GET /v1/vendor/"), "{}", second.text);
    assert!(second.text.contains(">Newest<"));
}

#[test]
fn the_access_page_shows_the_logs_check_and_asks_for_a_fresh_one() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    let r = app.submit(ACCESS, "/app/access/verify", &[]);
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.header("location"), Some("/app/access#verify"));
    let done = s.get("/v1/access-log/verify?wait=true").json();
    assert_eq!(done["ok"], true, "{done}");
    let page = app.get(ACCESS);
    assert!(
        page.text.contains("The access log checked out at "),
        "{}",
        page.text
    );
}

#[test]
fn no_grant_is_revoked_without_the_sessions_form_token() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    let v = VendorApp::connect(&s, "Acme");
    let grant = v.grant(&s, &["intents:read"], None);
    let token = v.token();
    let r = app.post_raw(&format!("/app/grants/{grant}/revoke"), &[]);
    assert_eq!(r.status, 403, "{}", r.text);
    let mut other = WebApp::new(&s);
    assert_eq!(other.sign_in(carnet_tests::webapp::PASSWORD).status, 303);
    let theirs = input_value(&other.get(ACCESS).text, "csrf").unwrap();
    let r = app.post_raw(
        &format!("/app/grants/{grant}/revoke"),
        &[("csrf", theirs.as_str())],
    );
    assert_eq!(r.status, 403, "{}", r.text);
    // Without a session at all: sent to sign in.
    let r = WebApp::new(&s).post_raw(&format!("/app/grants/{grant}/revoke"), &[]);
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(grant_state(&s, &grant), "live");
    assert_eq!(v.get(&token, "/v1/vendor/intents").status, 200);
}
