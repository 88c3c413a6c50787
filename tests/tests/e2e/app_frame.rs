//! The web app's frame as a browser meets it: an unknown page under `/app/` is an HTML page
//! that says so (not the API's JSON problem), for a signed-in owner and for anyone else.

use carnet_tests::webapp::WebApp;
use carnet_tests::{Api, TestServer};

#[test]
fn an_unknown_page_of_the_app_says_so_in_html() {
    let s = TestServer::spawn();
    let mut app = WebApp::signed_in(&s);
    for path in [
        "/app/no-such-page",
        "/app/vendors/ven_0123456789abcdef/nope",
    ] {
        let r = app.get(path);
        assert_eq!(r.status, 404, "{path}");
        assert!(
            r.header("content-type")
                .is_some_and(|c| c.starts_with("text/html")),
            "{path}: {:?}",
            r.header("content-type")
        );
        assert!(r.text.contains("No such page"), "{path}: {}", r.text);
    }
    // The API's unknown paths stay JSON problems.
    let api = s.get("/v1/no-such-thing");
    assert_eq!(api.status, 404);
    assert_eq!(api.json()["status"], 404);
}
