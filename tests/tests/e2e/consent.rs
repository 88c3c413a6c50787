//! The consent flow: authorization code with PKCE, the consent page (password or terminal),
//! codes, refresh-token rotation, and dynamic registration.

use carnet_tests::browser::{Browser, Pkce, input_value, query_param, short_code};
use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, Resp, TestServer, http};
use serde_json::json;

pub(crate) const PASSWORD: &str = "correct horse battery staple";
pub(crate) use carnet_tests::browser::REDIRECT;

pub(crate) use carnet_tests::browser::authorize_url;

pub(crate) fn setup() -> (TestServer, VendorApp) {
    let s = TestServer::spawn();
    assert_eq!(
        s.put("/v1/password", &json!({"password": PASSWORD})).status,
        204
    );
    let v = VendorApp::connect(&s, "Acme");
    (s, v)
}

/// Opens the consent page and approves it with the password; returns the redirect.
pub(crate) fn consent(s: &TestServer, v: &VendorApp, pkce: &Pkce) -> Resp {
    let mut b = Browser::default();
    let page = b.get(&authorize_url(s, v, pkce, &[]));
    assert_eq!(page.status, 200, "{}", page.text);
    answer(
        &mut b,
        s,
        &page,
        &[
            ("category", "home.appliances"),
            ("days", "30"),
            ("password", PASSWORD),
            ("decision", "approve"),
        ],
    )
}

/// Opens the consent page and approves it from the terminal's API (no sign-in, so no sign-in
/// limit); returns the redirect of the page continuing.
pub(crate) fn consent_from_terminal(s: &TestServer, v: &VendorApp, pkce: &Pkce) -> Resp {
    let mut b = Browser::default();
    let page = b.get(&authorize_url(s, v, pkce, &[]));
    assert_eq!(page.status, 200, "{}", page.text);
    let code = short_code(&page.text).unwrap();
    let request = input_value(&page.text, "request").unwrap();
    let granted = s.post(
        &format!("/v1/consents/{code}/approve"),
        &json!({"days": 30}),
    );
    assert_eq!(granted.status, 200, "{}", granted.text);
    b.get(&s.url(&format!("/oauth/authorize/continue?request={request}")))
}

/// Posts the consent page's form back: its request id and CSRF token, and `fields`.
pub(crate) fn answer(
    b: &mut Browser,
    s: &TestServer,
    page: &Resp,
    fields: &[(&str, &str)],
) -> Resp {
    let request = input_value(&page.text, "request").unwrap();
    let csrf = input_value(&page.text, "csrf").unwrap();
    let mut form = vec![("request", request.as_str()), ("csrf", csrf.as_str())];
    form.extend_from_slice(fields);
    b.post_form(&s.url("/oauth/authorize"), &form)
}

pub(crate) fn code_from(r: &Resp) -> String {
    assert_eq!(r.status, 303, "{}", r.text);
    let location = r.header("location").unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    query_param(location, "code").expect("a code")
}

pub(crate) fn exchange(v: &VendorApp, code: &str, verifier: &str) -> Resp {
    v.oauth(
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", verifier),
        ],
    )
}

/// The consent page is where a vendor's words meet the owner's password: no inline style or
/// script may run there, even one smuggled into a vendor-supplied string, and its one
/// stylesheet comes from carnetd under `/oauth/` (which reverse proxies already route). The
/// policy is the one every page of carnetd's origin carries, the web app's included.
#[test]
fn the_consent_page_allows_no_inline_style_or_script_and_serves_its_stylesheet() {
    let (s, v) = setup();
    let pkce = Pkce::new(1);
    let mut b = Browser::default();
    let page = b.get(&authorize_url(&s, &v, &pkce, &[]));
    assert_eq!(page.status, 200);
    let csp = page.header("content-security-policy").unwrap().to_owned();
    for allowed in [
        "default-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(allowed), "{allowed} missing from {csp}");
    }
    for refused in ["unsafe-inline", "unsafe-eval", "script-src", "*"] {
        assert!(!csp.contains(refused), "{refused} in {csp}");
    }
    assert_eq!(page.header("referrer-policy"), Some("no-referrer"));
    assert_eq!(page.header("cache-control"), Some("no-store"));
    for inline in ["<style", " style=", "<script"] {
        assert!(!page.text.contains(inline), "{inline} in the page");
    }
    assert!(
        page.text
            .contains(r#"<link rel="stylesheet" href="/oauth/carnet.css">"#)
    );
    let css = b.get(&s.url("/oauth/carnet.css"));
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert_eq!(css.header("x-content-type-options"), Some("nosniff"));
    assert!(css.text.contains(".card {"), "{}", css.text);
}

#[test]
fn the_owner_signs_in_approves_and_the_vendor_gets_tokens() {
    let (s, v) = setup();
    let pkce = Pkce::new(1);
    let mut b = Browser::default();
    let page = b.get(&authorize_url(&s, &v, &pkce, &[]));
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Acme asks to access your Carnet"));
    assert!(
        page.text.contains("see your loyalty facts"),
        "scopes in plain words"
    );
    assert!(page.text.contains("You connected this vendor yourself"));
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert!(
        page.header("content-security-policy")
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    assert!(page.header("set-cookie").unwrap().contains("HttpOnly"));
    let approved = answer(
        &mut b,
        &s,
        &page,
        &[
            ("category", "home.appliances"),
            ("days", "90"),
            ("password", PASSWORD),
            ("decision", "approve"),
        ],
    );
    let location = approved.header("location").unwrap().to_owned();
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some("xyz-state")
    );
    assert_eq!(
        query_param(&location, "iss").as_deref(),
        Some(s.base.as_str())
    );
    let tokens = exchange(&v, &code_from(&approved), &pkce.verifier);
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    let t = tokens.json();
    assert_eq!(t["scope"], "relationship:read profile:read");
    assert!(t["refresh_token"].is_string());
    assert_eq!(t["categories"], json!(["home.appliances"]));
    let access = t["access_token"].as_str().unwrap();
    assert_eq!(v.get(access, "/v1/vendor/relationship").status, 200);
    let grants = s.get("/v1/grants").json();
    assert_eq!(grants[0]["collection_method"], "consent-page");
    let days = chrono::DateTime::parse_from_rfc3339(grants[0]["expires_at"].as_str().unwrap())
        .unwrap()
        - chrono::DateTime::parse_from_rfc3339(grants[0]["created_at"].as_str().unwrap()).unwrap();
    assert_eq!(days.num_days(), 90);
    assert_eq!(s.get("/v1/receipts").json().as_array().unwrap().len(), 1);
}

#[test]
fn a_vendor_using_the_oauth2_crate_completes_the_flow_through_the_html_form() {
    use oauth2::basic::BasicClient;
    use oauth2::{
        AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
        RedirectUrl, Scope, TokenResponse, TokenUrl,
    };
    let (s, v) = setup();
    let client = BasicClient::new(ClientId::new(v.client_id.clone()))
        .set_client_secret(ClientSecret::new(v.secret.clone()))
        .set_auth_uri(AuthUrl::new(s.url("/oauth/authorize")).unwrap())
        .set_token_uri(TokenUrl::new(s.url("/oauth/token")).unwrap())
        .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("relationship:read".into()))
        .add_extra_param("categories", "home")
        .set_pkce_challenge(challenge)
        .url();
    let mut b = Browser::default();
    let page = b.get(url.as_str());
    assert_eq!(page.status, 200, "{}", page.text);
    let back = answer(
        &mut b,
        &s,
        &page,
        &[
            ("category", "home"),
            ("password", PASSWORD),
            ("decision", "approve"),
        ],
    );
    let location = back.header("location").unwrap().to_owned();
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some(csrf.secret().as_str())
    );
    let token = client
        .exchange_code(AuthorizationCode::new(
            query_param(&location, "code").unwrap(),
        ))
        .set_pkce_verifier(verifier)
        .request(&carnet_tests::oauth2_http::client())
        .expect("code exchange with the oauth2 crate");
    assert!(token.refresh_token().is_some());
    assert_eq!(
        v.get(token.access_token().secret(), "/v1/vendor/relationship")
            .status,
        200
    );
}

#[test]
fn the_owner_can_answer_from_the_terminal_and_the_page_continues() {
    let (s, v) = setup();
    let pkce = Pkce::new(2);
    let mut b = Browser::default();
    let page = b.get(&authorize_url(&s, &v, &pkce, &[]));
    let code = short_code(&page.text).unwrap();
    let request = input_value(&page.text, "request").unwrap();
    let continue_url = s.url(&format!("/oauth/authorize/continue?request={request}"));
    let waiting = b.get(&continue_url);
    assert_eq!(waiting.status, 200);
    assert!(
        waiting.text.contains("http-equiv=\"refresh\""),
        "reloads itself without JavaScript"
    );
    let listed = s.get("/v1/consents").json();
    assert_eq!(listed[0]["code"], code.as_str());
    assert_eq!(listed[0]["vendor_name"], "Acme");
    assert_eq!(listed[0]["verified"], true);
    assert_eq!(
        listed[0]["requested_categories"],
        json!(["home.appliances"])
    );
    let lower = code.to_lowercase().replace('-', "");
    let granted = s.post(
        &format!("/v1/consents/{lower}/approve"),
        &json!({"days": 7}),
    );
    assert_eq!(granted.status, 200, "{}", granted.text);
    assert_eq!(granted.json()["categories"], json!(["home.appliances"]));
    let back = b.get(&continue_url);
    let tokens = exchange(&v, &code_from(&back), &pkce.verifier);
    assert_eq!(tokens.status, 200, "{}", tokens.text);
    assert!(s.get("/v1/consents").json().as_array().unwrap().is_empty());
    // Another browser cannot pick up the answer.
    let mut other = Browser::default();
    assert_ne!(other.get(&continue_url).status, 303);
}

#[test]
fn denying_sends_access_denied_back_with_state_and_issuer() {
    let (s, v) = setup();
    let pkce = Pkce::new(3);
    let mut b = Browser::default();
    let page = b.get(&authorize_url(&s, &v, &pkce, &[]));
    let r = answer(&mut b, &s, &page, &[("decision", "deny")]);
    assert_eq!(r.status, 303);
    let location = r.header("location").unwrap();
    assert_eq!(
        query_param(location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(location, "state").as_deref(), Some("xyz-state"));
    assert_eq!(
        query_param(location, "iss").as_deref(),
        Some(s.base.as_str())
    );
    assert!(s.get("/v1/grants").json().as_array().unwrap().is_empty());
}

#[test]
fn redirect_uri_variants_get_an_error_page_and_no_redirect() {
    let (s, v) = setup();
    let pkce = Pkce::new(4);
    for bad in [
        "https://vendor.example/cb/",
        "https://vendor.example/cb/more",
        "https://vendor.example/cb?x=1",
        "https://vendor.example/x/../cb",
        "https://evil.example/cb",
        "http://vendor.example/cb",
        "https://user@vendor.example/cb",
        "https://vendor.example/cb#frag",
    ] {
        let r = Browser::default().get(&authorize_url(&s, &v, &pkce, &[("redirect_uri", bad)]));
        assert_eq!(r.status, 400, "{bad}");
        assert!(
            r.header("location").is_none(),
            "{bad} must not be redirected to"
        );
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
    }
    let unknown = Browser::default().get(&authorize_url(
        &s,
        &v,
        &pkce,
        &[("client_id", "cli_0123456789abcdef")],
    ));
    assert_eq!(unknown.status, 400);
    assert!(unknown.header("location").is_none());
}

#[test]
fn a_loopback_redirect_uri_may_vary_its_port_only() {
    let s = TestServer::spawn();
    s.put("/v1/password", &json!({"password": PASSWORD}));
    let vendor_id = s.create("/v1/vendors", &json!({"name": "Desktop app"}));
    let c = s
        .post(
            &format!("/v1/vendors/{vendor_id}/client"),
            &json!({"redirect_uris": ["http://127.0.0.1:8000/cb"]}),
        )
        .json();
    let pkce = Pkce::new(5);
    let url = |redirect: &str| {
        let mut u = url::Url::parse(&s.url("/oauth/authorize")).unwrap();
        u.query_pairs_mut().extend_pairs([
            ("response_type", "code"),
            ("client_id", c["client_id"].as_str().unwrap()),
            ("redirect_uri", redirect),
            ("scope", "profile:read"),
            ("code_challenge", pkce.challenge.as_str()),
            ("code_challenge_method", "S256"),
        ]);
        u.to_string()
    };
    assert_eq!(
        Browser::default()
            .get(&url("http://127.0.0.1:51234/cb"))
            .status,
        200
    );
    assert_eq!(
        Browser::default()
            .get(&url("http://127.0.0.1:51234/other"))
            .status,
        400
    );
    assert_eq!(
        Browser::default()
            .get(&url("http://localhost:51234/cb"))
            .status,
        400
    );
}

fn redirected_error(r: &Resp) -> String {
    assert_eq!(r.status, 303, "{}", r.text);
    let location = r.header("location").unwrap();
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(query_param(location, "state").as_deref(), Some("xyz-state"));
    query_param(location, "error").unwrap()
}

#[test]
fn pkce_is_required_and_only_s256() {
    let (s, v) = setup();
    let pkce = Pkce::new(6);
    let missing = Browser::default().get(&authorize_url(
        &s,
        &v,
        &pkce,
        &[("code_challenge", ""), ("code_challenge_method", "")],
    ));
    assert_eq!(redirected_error(&missing), "invalid_request");
    let plain = Browser::default().get(&authorize_url(
        &s,
        &v,
        &pkce,
        &[("code_challenge_method", "plain")],
    ));
    assert_eq!(redirected_error(&plain), "invalid_request");
    let no_method = Browser::default().get(&authorize_url(
        &s,
        &v,
        &pkce,
        &[("code_challenge_method", "")],
    ));
    assert_eq!(
        redirected_error(&no_method),
        "invalid_request",
        "a missing method means plain"
    );
}

#[test]
fn a_wrong_or_missing_verifier_redeems_nothing() {
    let (s, v) = setup();
    let pkce = Pkce::new(7);
    let code = code_from(&consent(&s, &v, &pkce));
    let wrong = exchange(&v, &code, &Pkce::new(8).verifier);
    assert_eq!(wrong.json()["error"], "invalid_grant");
    let missing = v.oauth(
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    );
    assert_eq!(missing.json()["error"], "invalid_request");
    let other_redirect = v.oauth(
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "https://vendor.example/other"),
            ("code_verifier", &pkce.verifier),
        ],
    );
    assert_eq!(other_redirect.json()["error"], "invalid_grant");
    assert_eq!(
        exchange(&v, &code, &pkce.verifier).status,
        200,
        "failed attempts did not burn the code"
    );
}

#[test]
fn a_replayed_code_fails_and_revokes_the_tokens_it_produced() {
    let (s, v) = setup();
    let pkce = Pkce::new(9);
    let code = code_from(&consent(&s, &v, &pkce));
    let first = exchange(&v, &code, &pkce.verifier).json();
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(v.get(access, "/v1/vendor/relationship").status, 200);
    let again = exchange(&v, &code, &pkce.verifier);
    assert_eq!(again.status, 400);
    assert_eq!(again.json()["error"], "invalid_grant");
    assert_eq!(v.get(access, "/v1/vendor/relationship").status, 401);
    let refreshed = v.oauth(
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", first["refresh_token"].as_str().unwrap()),
        ],
    );
    assert_eq!(refreshed.json()["error"], "invalid_grant");
}

#[test]
fn a_code_expires_after_sixty_seconds() {
    let s = TestServer::spawn_with_manual_clock();
    s.put("/v1/password", &json!({"password": PASSWORD}));
    let v = VendorApp::connect(&s, "Acme");
    let pkce = Pkce::new(10);
    let code = code_from(&consent(&s, &v, &pkce));
    s.clock.advance(chrono::Duration::seconds(60));
    let r = exchange(&v, &code, &pkce.verifier);
    assert_eq!(r.json()["error"], "invalid_grant");
}

#[test]
fn another_client_cannot_redeem_a_code() {
    let (s, v) = setup();
    let other = VendorApp::connect(&s, "Other");
    let pkce = Pkce::new(11);
    let code = code_from(&consent(&s, &v, &pkce));
    assert_eq!(
        exchange(&other, &code, &pkce.verifier).json()["error"],
        "invalid_grant"
    );
    assert_eq!(exchange(&v, &code, &pkce.verifier).status, 200);
}

#[test]
fn scopes_cannot_be_escalated_at_authorize_or_refresh() {
    let (s, v) = setup();
    let pkce = Pkce::new(12);
    let unknown = Browser::default().get(&authorize_url(
        &s,
        &v,
        &pkce,
        &[("scope", "relationship:read admin")],
    ));
    assert_eq!(redirected_error(&unknown), "invalid_scope");
    let none = Browser::default().get(&authorize_url(&s, &v, &pkce, &[("scope", "")]));
    assert_eq!(redirected_error(&none), "invalid_scope");
    let tokens = exchange(&v, &code_from(&consent(&s, &v, &pkce)), &pkce.verifier).json();
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let wider = v.oauth(
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("scope", "relationship:read intents:read"),
        ],
    );
    assert_eq!(wider.json()["error"], "invalid_scope");
    let narrower = v.oauth(
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh),
            ("scope", "profile:read"),
        ],
    );
    assert_eq!(narrower.status, 200, "{}", narrower.text);
    assert_eq!(narrower.json()["scope"], "profile:read");
}

#[test]
fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    let (s, v) = setup();
    let pkce = Pkce::new(13);
    let first = exchange(&v, &code_from(&consent(&s, &v, &pkce)), &pkce.verifier).json();
    let old = first["refresh_token"].as_str().unwrap().to_owned();
    let second = v
        .oauth(
            "/oauth/token",
            &[("grant_type", "refresh_token"), ("refresh_token", &old)],
        )
        .json();
    let new_access = second["access_token"].as_str().unwrap().to_owned();
    let new_refresh = second["refresh_token"].as_str().unwrap().to_owned();
    assert_ne!(new_refresh, old, "rotated");
    assert_eq!(v.get(&new_access, "/v1/vendor/relationship").status, 200);
    let reuse = v.oauth(
        "/oauth/token",
        &[("grant_type", "refresh_token"), ("refresh_token", &old)],
    );
    assert_eq!(reuse.json()["error"], "invalid_grant");
    assert_eq!(
        v.get(&new_access, "/v1/vendor/relationship").status,
        401,
        "the family is revoked"
    );
    let r = v.oauth(
        "/oauth/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &new_refresh),
        ],
    );
    assert_eq!(r.json()["error"], "invalid_grant");
}

#[test]
fn concurrent_refreshes_with_one_token_yield_at_most_one_success() {
    let (s, v) = setup();
    let pkce = Pkce::new(14);
    let tokens = exchange(&v, &code_from(&consent(&s, &v, &pkce)), &pkce.verifier).json();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (v, refresh) = (v.clone(), refresh.clone());
            std::thread::spawn(move || {
                v.oauth(
                    "/oauth/token",
                    &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
                )
                .status
            })
        })
        .collect();
    let statuses: Vec<u16> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    assert!(
        statuses.iter().filter(|s| **s == 200).count() <= 1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "{statuses:?}"
    );
}

#[test]
fn a_form_without_the_csrf_token_or_from_another_session_is_refused() {
    let (s, v) = setup();
    let pkce = Pkce::new(15);
    let mut b = Browser::default();
    let page = b.get(&authorize_url(&s, &v, &pkce, &[]));
    let request = input_value(&page.text, "request").unwrap();
    let csrf = input_value(&page.text, "csrf").unwrap();
    let form = |csrf: &str| {
        vec![
            ("request", request.clone()),
            ("csrf", csrf.to_owned()),
            ("category", "home.appliances".to_owned()),
            ("password", PASSWORD.to_owned()),
            ("decision", "approve".to_owned()),
        ]
    };
    let post = |b: &mut Browser, f: Vec<(&str, String)>| {
        let pairs: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
        b.post_form(&s.url("/oauth/authorize"), &pairs)
    };
    assert_eq!(post(&mut b, form("")).status, 403, "no CSRF token");
    let mut stranger = Browser::default();
    stranger.get(&authorize_url(&s, &v, &pkce, &[]));
    assert_eq!(
        post(&mut stranger, form(&csrf)).status,
        403,
        "another session"
    );
    let mut cookieless = Browser::default();
    assert_eq!(post(&mut cookieless, form(&csrf)).status, 403, "no session");
    assert!(s.get("/v1/grants").json().as_array().unwrap().is_empty());
    assert_eq!(
        post(&mut b, form(&csrf)).status,
        303,
        "the real form still works"
    );
}

#[test]
fn sign_in_failures_get_one_answer_and_are_rate_limited() {
    let (s, v) = setup();
    let pkce = Pkce::new(16);
    let mut b = Browser::default();
    let page = b.get(&authorize_url(&s, &v, &pkce, &[]));
    let (request, csrf) = (
        input_value(&page.text, "request").unwrap(),
        input_value(&page.text, "csrf").unwrap(),
    );
    let attempt = |b: &mut Browser, password: &str| {
        b.post_form(
            &s.url("/oauth/authorize"),
            &[
                ("request", &request),
                ("csrf", &csrf),
                ("category", "home"),
                ("password", password),
                ("decision", "approve"),
            ],
        )
    };
    let wrong = attempt(&mut b, "not it");
    assert_eq!(wrong.status, 401);
    assert!(wrong.text.contains("Sign-in failed"));
    let empty = attempt(&mut b, "");
    assert_eq!(empty.status, 401);
    for _ in 0..3 {
        attempt(&mut b, "still not it");
    }
    let limited = attempt(&mut b, PASSWORD);
    assert_eq!(limited.status, 429, "five attempts a minute per address");
    assert!(s.get("/v1/grants").json().as_array().unwrap().is_empty());
}

#[test]
fn without_a_web_password_nobody_signs_in() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    let pkce = Pkce::new(17);
    let mut b = Browser::default();
    let page = b.get(&authorize_url(&s, &v, &pkce, &[]));
    let r = answer(
        &mut b,
        &s,
        &page,
        &[
            ("category", "home"),
            ("password", ""),
            ("decision", "approve"),
        ],
    );
    assert_eq!(r.status, 401);
    s.put("/v1/password", &json!({"password": "short"}))
        .problem(422);
}

#[test]
fn vendor_text_on_the_page_is_escaped() {
    let s = TestServer::spawn();
    let vendor_id = s.create("/v1/vendors", &json!({"name": "<b>Acme</b> & \"Co\""}));
    let c = s
        .post(
            &format!("/v1/vendors/{vendor_id}/client"),
            &json!({"redirect_uris": [REDIRECT]}),
        )
        .json();
    let pkce = Pkce::new(18);
    let mut u = url::Url::parse(&s.url("/oauth/authorize")).unwrap();
    u.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", c["client_id"].as_str().unwrap()),
        ("scope", "profile:read"),
        ("code_challenge", pkce.challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("state", "\"><script>alert(1)</script>"),
    ]);
    let page = Browser::default().get(u.as_str());
    assert_eq!(page.status, 200);
    assert!(
        page.text
            .contains("&lt;b&gt;Acme&lt;/b&gt; &amp; &quot;Co&quot;"),
        "{}",
        page.text
    );
    assert!(!page.text.contains("<b>Acme"));
    assert!(!page.text.contains("<script>"));
}

#[test]
fn registration_needs_an_invitation_unless_open_and_such_clients_are_unverified() {
    let s = TestServer::spawn();
    let body = json!({"redirect_uris": [REDIRECT], "client_name": "Bolt Shop", "client_uri": "https://bolt.example"});
    let refused = Resp::from(
        http()
            .post(s.url("/oauth/register"))
            .json(&body)
            .send()
            .unwrap(),
    );
    assert_eq!(refused.status, 401);
    assert_eq!(refused.json()["error"], "invalid_token");
    let vendor_id = s.create("/v1/vendors", &json!({"name": "Bolt"}));
    let invite = s.post(&format!("/v1/vendors/{vendor_id}/invite"), &json!({}));
    assert_eq!(invite.status, 201, "{}", invite.text);
    let token = invite.json()["initial_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let registered = Resp::from(
        http()
            .post(s.url("/oauth/register"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .unwrap(),
    );
    assert_eq!(registered.status, 201, "{}", registered.text);
    let r = registered.json();
    assert_eq!(r["client_secret_expires_at"], 0);
    assert_eq!(registered.header("cache-control"), Some("no-store"));
    let again = Resp::from(
        http()
            .post(s.url("/oauth/register"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .unwrap(),
    );
    assert_eq!(again.status, 401, "an invitation works once");
    let other = s.create("/v1/vendors", &json!({"name": "C"}));
    let other_token = s
        .post(&format!("/v1/vendors/{other}/invite"), &json!({}))
        .json()["initial_access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bad = Resp::from(
        http()
            .post(s.url("/oauth/register"))
            .bearer_auth(other_token)
            .json(&json!({"redirect_uris": ["http://evil.example/cb"]}))
            .send()
            .unwrap(),
    );
    assert_eq!(bad.json()["error"], "invalid_redirect_uri");

    let v = VendorApp {
        base: s.base.clone(),
        vendor_id,
        client_id: r["client_id"].as_str().unwrap().into(),
        secret: r["client_secret"].as_str().unwrap().into(),
        webhook_secret: None,
    };
    let page = Browser::default().get(&authorize_url(&s, &v, &Pkce::new(19), &[]));
    assert_eq!(page.status, 200);
    assert!(page.text.contains("Not verified"), "{}", page.text);
    assert_eq!(s.get("/v1/consents").json()[0]["verified"], false);

    let open = TestServer::spawn_with_open_registration();
    let self_made = Resp::from(
        http()
            .post(open.url("/oauth/register"))
            .json(&body)
            .send()
            .unwrap(),
    );
    assert_eq!(self_made.status, 201, "{}", self_made.text);
    let vendors = open.list_all("/v1/vendors");
    assert_eq!(vendors[0]["name"], "Bolt Shop");
}

#[test]
fn metadata_advertises_the_consent_flow() {
    let s = TestServer::spawn();
    let m = http()
        .get(s.url("/.well-known/oauth-authorization-server"))
        .send()
        .unwrap()
        .json::<serde_json::Value>()
        .unwrap();
    assert_eq!(
        m["authorization_endpoint"],
        format!("{}/oauth/authorize", s.base)
    );
    assert_eq!(
        m["registration_endpoint"],
        format!("{}/oauth/register", s.base)
    );
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(m["response_types_supported"], json!(["code"]));
    assert_eq!(m["authorization_response_iss_parameter_supported"], true);
}

#[test]
fn terminal_approval_names_the_field_at_fault_and_invitations_need_an_unconnected_vendor() {
    let (s, v) = setup();
    let mut b = Browser::default();
    let page = b.get(&authorize_url(&s, &v, &Pkce::new(20), &[]));
    let code = short_code(&page.text).unwrap();
    let p = s
        .post(&format!("/v1/consents/{code}/approve"), &json!({"days": 0}))
        .problem(422);
    assert_eq!(p["errors"][0]["field"], "days");
    s.post("/v1/consents/ZZZZ-ZZZZ/approve", &json!({}))
        .problem(404);
    let p = s
        .post(&format!("/v1/vendors/{}/invite", v.vendor_id), &json!({}))
        .problem(409);
    assert!(p["hint"].as_str().unwrap().contains("disconnect"), "{p}");
}
