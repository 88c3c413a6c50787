//! Revoking and introspecting the consent flow's refresh tokens (RFC 7009, RFC 7662), as a
//! vendor client would: with `client_secret_basic` or `client_secret_post`, with or without
//! `token_type_hint`.

use carnet_tests::browser::Pkce;
use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, Resp, TestServer, http};
use serde_json::{Value, json};

use super::consent::{PASSWORD, code_from, consent_from_terminal, exchange};

/// How the vendor authenticates to `/oauth/revoke` and `/oauth/introspect`.
#[derive(Clone, Copy, Debug)]
enum Auth {
    Basic,
    Post,
}

fn call(v: &VendorApp, auth: Auth, path: &str, form: &[(&str, &str)]) -> Resp {
    let req = http().post(format!("{}{path}", v.base));
    let req = match auth {
        Auth::Basic => req.basic_auth(&v.client_id, Some(&v.secret)).form(form),
        Auth::Post => {
            let mut all = form.to_vec();
            all.push(("client_id", &v.client_id));
            all.push(("client_secret", &v.secret));
            req.form(&all)
        }
    };
    Resp::from(req.send().unwrap())
}

/// An access and a refresh token from the consent flow.
pub(crate) fn tokens(s: &TestServer, v: &VendorApp, seed: u8) -> (String, String) {
    let pkce = Pkce::new(seed);
    let t = exchange(
        v,
        &code_from(&consent_from_terminal(s, v, &pkce)),
        &pkce.verifier,
    )
    .json();
    (
        t["access_token"].as_str().unwrap().to_owned(),
        t["refresh_token"].as_str().unwrap().to_owned(),
    )
}

fn refresh(v: &VendorApp, token: &str) -> Resp {
    v.oauth(
        "/oauth/token",
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
}

fn introspect(v: &VendorApp, auth: Auth, token: &str) -> Resp {
    let r = call(v, auth, "/oauth/introspect", &[("token", token)]);
    assert_eq!(r.status, 200, "{}", r.text);
    r
}

fn setup_two() -> (TestServer, VendorApp, VendorApp) {
    let s = TestServer::spawn();
    assert_eq!(
        s.put("/v1/password", &json!({"password": PASSWORD})).status,
        204
    );
    let a = VendorApp::connect(&s, "Acme");
    let b = VendorApp::connect(&s, "Bolt");
    (s, a, b)
}

#[test]
fn revoking_a_refresh_token_ends_it_and_its_family_whatever_the_auth_and_hint() {
    let (s, a, b) = setup_two();
    let variants = [
        (Auth::Basic, None),
        (Auth::Basic, Some("refresh_token")),
        (Auth::Post, None),
        (Auth::Post, Some("access_token")),
    ];
    for (n, (auth, hint)) in variants.into_iter().enumerate() {
        let seed = 40 + u8::try_from(n).unwrap() * 2;
        let (access, refresh_token) = tokens(&s, &a, seed);
        // A refreshed pair of the same family: its access token must die too.
        let rotated = refresh(&a, &refresh_token).json();
        let (access2, refresh2) = (
            rotated["access_token"].as_str().unwrap().to_owned(),
            rotated["refresh_token"].as_str().unwrap().to_owned(),
        );
        let (b_access, b_refresh) = tokens(&s, &b, seed + 1);
        let what = format!("{auth:?} with hint {hint:?}");
        let mut form = vec![("token", refresh2.as_str())];
        if let Some(h) = hint {
            form.push(("token_type_hint", h));
        }
        // Another client's refresh token: 200, and left alone.
        let mut other = vec![("token", b_refresh.as_str())];
        other.extend(hint.map(|h| ("token_type_hint", h)));
        assert_eq!(
            call(&a, auth, "/oauth/revoke", &other).status,
            200,
            "{what}"
        );
        assert_eq!(
            introspect(&b, auth, &b_refresh).json()["active"],
            true,
            "{what}: another client's token is left alone"
        );
        assert_eq!(b.get(&b_access, "/v1/vendor/relationship").status, 200);

        let r = call(&a, auth, "/oauth/revoke", &form);
        assert_eq!(r.status, 200, "{what}: {}", r.text);
        let again = refresh(&a, &refresh2);
        assert_eq!(again.status, 400, "{what}: {}", again.text);
        assert_eq!(again.json()["error"], "invalid_grant", "{what}");
        for t in [&access, &access2] {
            assert_eq!(
                a.get(t, "/v1/vendor/relationship").status,
                401,
                "{what}: the family's access tokens end"
            );
        }
        assert_eq!(
            introspect(&a, auth, &refresh2).text,
            r#"{"active":false}"#,
            "{what}"
        );
        // Revoking twice is still 200.
        assert_eq!(call(&a, auth, "/oauth/revoke", &form).status, 200, "{what}");
        // Bolt's own session still refreshes.
        assert_eq!(refresh(&b, &b_refresh).status, 200, "{what}");
    }
}

#[test]
fn revoking_an_access_token_ends_it_alone_and_the_refresh_token_still_works() {
    let (s, a, _) = setup_two();
    let (access, refresh_token) = tokens(&s, &a, 60);
    assert_eq!(
        call(&a, Auth::Basic, "/oauth/revoke", &[("token", &access)]).status,
        200
    );
    assert_eq!(a.get(&access, "/v1/vendor/relationship").status, 401);
    let r = refresh(&a, &refresh_token);
    assert_eq!(r.status, 200, "{}", r.text);
}

#[test]
fn introspection_describes_a_live_refresh_token_and_nothing_else() {
    let (s, a, b) = setup_two();
    let (_, live) = tokens(&s, &a, 70);
    for auth in [Auth::Basic, Auth::Post] {
        let i: Value = introspect(&a, auth, &live).json();
        assert_eq!(i["active"], true, "{auth:?}: {i}");
        assert_eq!(i["token_type"], "refresh_token");
        assert_eq!(i["scope"], "relationship:read profile:read");
        assert_eq!(i["client_id"], a.client_id.as_str());
        assert_eq!(i["iss"], s.base.as_str());
        assert_eq!(i["categories"], json!(["home.appliances"]));
        assert!(i["exp"].as_i64().unwrap() > i["iat"].as_i64().unwrap());
        assert!(i["sub"].as_str().unwrap().starts_with("cus_"));
    }
    // Another client's: inactive.
    assert_eq!(
        introspect(&b, Auth::Basic, &live).text,
        r#"{"active":false}"#
    );
    // Used (rotated): inactive; its successor is live.
    let next = refresh(&a, &live).json()["refresh_token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        introspect(&a, Auth::Basic, &live).text,
        r#"{"active":false}"#
    );
    assert_eq!(introspect(&a, Auth::Post, &next).json()["active"], true);
    // Under a revoked grant: inactive.
    let grant = s.get("/v1/grants").json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        s.post(&format!("/v1/grants/{grant}/revoke"), &json!({}))
            .status,
        200
    );
    assert_eq!(
        introspect(&a, Auth::Basic, &next).text,
        r#"{"active":false}"#
    );
}

#[test]
fn an_expired_refresh_token_is_inactive() {
    let s = TestServer::spawn_with_manual_clock();
    assert_eq!(
        s.put("/v1/password", &json!({"password": PASSWORD})).status,
        204
    );
    let a = VendorApp::connect(&s, "Acme");
    let (_, live) = tokens(&s, &a, 80);
    assert_eq!(introspect(&a, Auth::Basic, &live).json()["active"], true);
    s.clock.advance(chrono::Duration::days(400));
    assert_eq!(
        introspect(&a, Auth::Basic, &live).text,
        r#"{"active":false}"#
    );
}
