//! The web app under `/app/`: off until a web password is set, signed in with it, every page
//! behind a live session, every change behind the session's form token.

use carnet_tests::webapp::{PASSWORD, WebApp};
use carnet_tests::{Api, TestServer};
use serde_json::json;

#[test]
fn the_web_app_is_off_until_a_web_password_is_set() {
    let s = TestServer::spawn();
    let mut b = WebApp::new(&s);
    let page = b.get("/app/sign-in");
    assert_eq!(page.status, 403);
    assert!(page.text.contains("carnet password set"), "{}", page.text);
    // Every page sends a browser without a session to sign in first.
    let today = b.get("/app/");
    assert_eq!(today.status, 303);
    assert_eq!(today.header("location"), Some("/app/sign-in"));
}

#[test]
fn the_owner_signs_in_and_lands_on_today() {
    let s = TestServer::spawn();
    let app = WebApp::signed_in(&s);
    let mut app = app;
    let today = app.get("/app/");
    assert_eq!(today.status, 200, "{}", today.text);
    assert!(today.text.contains("<h1>Today</h1>"), "{}", today.text);
    assert!(today.text.contains("Add interaction"));
    let _ = json!({});
    let _ = PASSWORD;
}
