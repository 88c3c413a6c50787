//! The consent flow under attack: a flood of consent requests, oversized parameters, a
//! double-clicked Allow and concurrent terminal approvals, and a session cookie the attacker
//! chose.

use carnet_tests::browser::{Browser, Pkce, input_value, query_param, short_code};
use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, Resp, TestServer};
use serde_json::json;

use super::consent::{PASSWORD, REDIRECT, answer, authorize_url, code_from, exchange, setup};

/// Opens a consent page in a fresh browser.
fn open(s: &TestServer, v: &VendorApp, pkce: &Pkce) -> (Browser, Resp) {
    let mut b = Browser::default();
    let page = b.get(&authorize_url(s, v, pkce, &[]));
    assert_eq!(page.status, 200, "{}", page.text);
    (b, page)
}

fn waiting(s: &TestServer) -> usize {
    s.get("/v1/consents").json().as_array().unwrap().len()
}

fn count(s: &TestServer, path: &str) -> usize {
    s.get(path).json().as_array().unwrap().len()
}

fn continue_url(s: &TestServer, page: &Resp) -> String {
    let request = input_value(&page.text, "request").unwrap();
    s.url(&format!("/oauth/authorize/continue?request={request}"))
}

#[test]
fn a_flood_of_consent_requests_stays_at_the_cap_and_the_newest_still_works() {
    let (s, v) = setup();
    let pkce = Pkce::new(90);
    let mut pages = Vec::new();
    for _ in 0..25 {
        pages.push(open(&s, &v, &pkce));
    }
    assert_eq!(waiting(&s), 20, "at most 20 per client");
    // The oldest were evicted; the newest answers from the terminal and redeems its code.
    let (mut first_browser, first_page) = pages.remove(0);
    assert_eq!(
        first_browser.get(&continue_url(&s, &first_page)).status,
        400
    );
    let (mut b, page) = pages.pop().unwrap();
    let code = short_code(&page.text).unwrap();
    let r = s.post(&format!("/v1/consents/{code}/approve"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let back = b.get(&continue_url(&s, &page));
    let tokens = exchange(&v, &code_from(&back), &pkce.verifier);
    assert_eq!(tokens.status, 200, "{}", tokens.text);

    // In all: at most 200, whichever clients ask.
    let others: Vec<VendorApp> = (0..11)
        .map(|n| VendorApp::connect(&s, &format!("Flood {n}")))
        .collect();
    for o in &others {
        for _ in 0..20 {
            let mut b = Browser::default();
            assert_eq!(b.get(&authorize_url(&s, o, &pkce, &[])).status, 200);
        }
    }
    assert_eq!(waiting(&s), 200, "at most 200 in all");
    let (mut b, page) = open(&s, &others[10], &Pkce::new(91));
    let code = short_code(&page.text).unwrap();
    assert_eq!(
        s.post(&format!("/v1/consents/{code}/approve"), &json!({}))
            .status,
        200
    );
    let back = b.get(&continue_url(&s, &page));
    let tokens = exchange(&others[10], &code_from(&back), &Pkce::new(91).verifier);
    assert_eq!(tokens.status, 200, "{}", tokens.text);
}

#[test]
fn an_oversized_state_or_parameter_is_refused_and_not_kept() {
    let (s, v) = setup();
    let pkce = Pkce::new(92);
    let big = "s".repeat(8 * 1024);
    let mut b = Browser::default();
    let r = b.get(&authorize_url(&s, &v, &pkce, &[("state", &big)]));
    assert_eq!(r.status, 303, "{}", r.text);
    let location = r.header("location").unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(
        query_param(location, "error").as_deref(),
        Some("invalid_request")
    );
    assert!(
        query_param(location, "error_description")
            .unwrap()
            .contains("state"),
        "{location}"
    );
    assert!(query_param(location, "state").is_none(), "not echoed");
    let r = b.get(&authorize_url(&s, &v, &pkce, &[("categories", &big)]));
    assert_eq!(r.status, 303);
    assert_eq!(
        query_param(r.header("location").unwrap(), "error").as_deref(),
        Some("invalid_request")
    );
    // Before the client and redirect URI check out: an error page, no redirect.
    let long_uri = format!("{REDIRECT}?{big}");
    let r = b.get(&authorize_url(
        &s,
        &v,
        &pkce,
        &[("redirect_uri", &long_uri)],
    ));
    assert_eq!(r.status, 400);
    assert!(r.header("location").is_none());
    assert!(r.text.contains("too long"), "{}", r.text);
    assert_eq!(waiting(&s), 0, "nothing was kept");
    // A state at the limit is fine.
    let ok = "s".repeat(1024);
    let r = b.get(&authorize_url(&s, &v, &pkce, &[("state", &ok)]));
    assert_eq!(r.status, 200);
}

#[test]
fn a_double_clicked_allow_makes_one_grant_and_one_receipt_and_the_code_works() {
    let (s, v) = setup();
    let pkce = Pkce::new(93);
    let (b, page) = open(&s, &v, &pkce);
    let cookie = b.cookie.clone();
    let fields = [
        ("category", "home.appliances"),
        ("days", "30"),
        ("password", PASSWORD),
        ("decision", "approve"),
    ];
    let together = std::sync::Barrier::new(2);
    let answers: Vec<Resp> = std::thread::scope(|scope| {
        let clicks: Vec<_> = (0..2)
            .map(|_| {
                let (s, page, cookie, together) = (&s, &page, cookie.clone(), &together);
                scope.spawn(move || {
                    let mut b = Browser { cookie };
                    together.wait();
                    answer(&mut b, s, page, &fields)
                })
            })
            .collect();
        clicks.into_iter().map(|c| c.join().unwrap()).collect()
    });
    for a in &answers {
        assert_eq!(a.status, 303, "{}", a.text);
    }
    assert_eq!(count(&s, "/v1/grants"), 1, "one grant");
    assert_eq!(count(&s, "/v1/receipts"), 1, "one receipt");
    let codes: Vec<String> = answers.iter().map(code_from).collect();
    assert_eq!(
        codes[0], codes[1],
        "both clicks are sent back with the one code"
    );
    let tokens = exchange(&v, &codes[1], &pkce.verifier);
    assert_eq!(tokens.status, 200, "{}", tokens.text);
}

#[test]
fn concurrent_terminal_approvals_make_one_grant_and_the_code_works() {
    let (s, v) = setup();
    let pkce = Pkce::new(94);
    let (mut b, page) = open(&s, &v, &pkce);
    let code = short_code(&page.text).unwrap();
    let together = std::sync::Barrier::new(6);
    let answers: Vec<Resp> = std::thread::scope(|scope| {
        let calls: Vec<_> = (0..6)
            .map(|_| {
                let (s, code, together) = (&s, code.clone(), &together);
                scope.spawn(move || {
                    together.wait();
                    s.post(&format!("/v1/consents/{code}/approve"), &json!({}))
                })
            })
            .collect();
        calls.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let ids: Vec<String> = answers
        .iter()
        .filter(|a| a.status == 200)
        .map(|a| a.json()["id"].as_str().unwrap().to_owned())
        .collect();
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert!(!ids.is_empty(), "{statuses:?}");
    assert!(ids.iter().all(|i| *i == ids[0]), "one grant: {ids:?}");
    for a in &answers {
        assert!(a.status == 200 || a.status == 404, "{}", a.text);
    }
    assert_eq!(count(&s, "/v1/grants"), 1, "one grant: {statuses:?}");
    assert_eq!(count(&s, "/v1/receipts"), 1, "one receipt");
    let back = b.get(&continue_url(&s, &page));
    let again = b.get(&continue_url(&s, &page));
    assert_eq!(
        code_from(&back),
        code_from(&again),
        "a reload: the same code"
    );
    let tokens = exchange(&v, &code_from(&back), &pkce.verifier);
    assert_eq!(tokens.status, 200, "{}", tokens.text);
}

#[test]
fn a_session_cookie_the_attacker_chose_is_replaced_and_cannot_act() {
    let (s, v) = setup();
    let pkce = Pkce::new(95);
    let planted = "carnet_consent=attacker-chose-this-value-0123456789abcdef";
    let mut victim = Browser {
        cookie: Some(planted.to_owned()),
    };
    let page = victim.get(&authorize_url(&s, &v, &pkce, &[]));
    assert_eq!(page.status, 200);
    let issued = page.header("set-cookie").unwrap();
    assert!(issued.starts_with("carnet_consent="), "{issued}");
    assert!(
        !issued.starts_with(planted),
        "the server issues its own session: {issued}"
    );
    assert_ne!(victim.cookie.as_deref(), Some(planted));
    // The attacker, holding its planted value and even the page's hidden fields, cannot act.
    let mut attacker = Browser {
        cookie: Some(planted.to_owned()),
    };
    let forged = answer(
        &mut attacker,
        &s,
        &page,
        &[
            ("category", "home.appliances"),
            ("password", PASSWORD),
            ("decision", "approve"),
        ],
    );
    assert_eq!(forged.status, 403, "{}", forged.text);
    let code = short_code(&page.text).unwrap();
    assert_eq!(
        s.post(&format!("/v1/consents/{code}/approve"), &json!({}))
            .status,
        200
    );
    let mut attacker = Browser {
        cookie: Some(planted.to_owned()),
    };
    let stolen = attacker.get(&continue_url(&s, &page));
    assert_eq!(stolen.status, 403, "{}", stolen.text);
    assert!(stolen.header("location").is_none());
    // The victim's own browser continues.
    let back = victim.get(&continue_url(&s, &page));
    assert_eq!(exchange(&v, &code_from(&back), &pkce.verifier).status, 200);
    // A session the server issued is kept for the next request in the same browser.
    let next = victim.get(&authorize_url(&s, &v, &Pkce::new(96), &[]));
    assert_eq!(next.status, 200);
    assert!(
        next.header("set-cookie")
            .unwrap()
            .starts_with(victim.cookie.as_deref().unwrap()),
        "kept while a request of it lives"
    );
}
