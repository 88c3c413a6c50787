//! What the janitor keeps of tokens and codes, and that purging never revives or forgets a
//! refusal: dead rows go (revoked access tokens and unused refresh tokens at once, everything a
//! day after it expires), while what revocation and replay detection need stays.

use carnet_core::credential;
use carnet_tests::browser::Pkce;
use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, TestServer};
use serde_json::json;

use super::consent::{PASSWORD, code_from, consent_from_terminal, exchange};
use super::revocation::tokens;

/// One pass of the janitor, now.
fn sweep(s: &TestServer) {
    let state = s.state();
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(carnet_core::tasks::sweep(&state));
}

/// Whether the token's row is still in the database.
fn stored(s: &TestServer, token: &str) -> bool {
    let hash = credential::hash(token).to_vec();
    s.state()
        .store
        .read(|c| {
            c.query_row(
                "SELECT count(*) FROM main.tokens WHERE hash = ?1",
                [&hash],
                |r| r.get::<_, i64>(0),
            )
        })
        .unwrap()
        == 1
}

fn rows(s: &TestServer, table: &str) -> i64 {
    s.state()
        .store
        .read(|c| {
            c.query_row(&format!("SELECT count(*) FROM main.{table}"), [], |r| {
                r.get(0)
            })
        })
        .unwrap()
}

fn revoke(v: &VendorApp, token: &str) {
    assert_eq!(v.oauth("/oauth/revoke", &[("token", token)]).status, 200);
}

fn refresh(v: &VendorApp, token: &str) -> carnet_tests::Resp {
    v.oauth(
        "/oauth/token",
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
}

#[test]
fn revoked_and_long_expired_access_token_rows_are_purged_and_stay_refused() {
    let s = TestServer::spawn_with_manual_clock();
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["profile:read"], None);
    let (revoked, expiring, kept) = (v.token(), v.token(), v.token());
    revoke(&v, &revoked);
    sweep(&s);
    assert!(
        !stored(&s, &revoked),
        "a revoked access token's row goes at once"
    );
    assert!(stored(&s, &expiring) && stored(&s, &kept));
    assert_eq!(v.get(&revoked, "/v1/vendor/profile").status, 401);
    assert_eq!(v.introspect(&revoked)["active"], false);

    // An hour later both expired; their rows stay a day, then go.
    s.clock.advance(chrono::Duration::hours(2));
    sweep(&s);
    assert!(stored(&s, &expiring), "an expired row is kept for a day");
    s.clock.advance(chrono::Duration::days(1));
    let fresh = v.token();
    sweep(&s);
    assert!(!stored(&s, &expiring) && !stored(&s, &kept));
    assert!(stored(&s, &fresh), "a live token is never purged");
    for t in [&revoked, &expiring] {
        assert_eq!(v.get(t, "/v1/vendor/profile").status, 401);
        assert_eq!(v.introspect(t)["active"], false);
    }
    assert_eq!(v.get(&fresh, "/v1/vendor/profile").status, 200);
}

#[test]
fn a_revoked_refresh_token_stays_refused_after_its_row_is_purged() {
    let s = TestServer::spawn();
    assert_eq!(
        s.put("/v1/password", &json!({"password": PASSWORD})).status,
        204
    );
    let v = VendorApp::connect(&s, "Acme");
    let (access, refresh_token) = tokens(&s, &v, 70);
    revoke(&v, &refresh_token);
    sweep(&s);
    assert!(!stored(&s, &refresh_token) && !stored(&s, &access));
    let r = refresh(&v, &refresh_token);
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json()["error"], "invalid_grant");
    assert_eq!(v.introspect(&refresh_token)["active"], false);
    assert_eq!(v.get(&access, "/v1/vendor/relationship").status, 401);
    revoke(&v, &refresh_token); // still 200, still nothing
}

#[test]
fn a_used_refresh_token_is_kept_so_its_replay_still_ends_the_family() {
    let s = TestServer::spawn();
    assert_eq!(
        s.put("/v1/password", &json!({"password": PASSWORD})).status,
        204
    );
    let v = VendorApp::connect(&s, "Acme");
    let (_, first) = tokens(&s, &v, 72);
    let rotated = refresh(&v, &first).json();
    let (access2, second) = (
        rotated["access_token"].as_str().unwrap().to_owned(),
        rotated["refresh_token"].as_str().unwrap().to_owned(),
    );
    sweep(&s);
    assert!(
        stored(&s, &first),
        "a used refresh token is kept until it expires"
    );
    let replay = refresh(&v, &first);
    assert_eq!(replay.status, 400, "{}", replay.text);
    assert!(replay.text.contains("already used"), "{}", replay.text);
    assert_eq!(refresh(&v, &second).status, 400, "the family is revoked");
    assert_eq!(v.get(&access2, "/v1/vendor/relationship").status, 401);
    sweep(&s);
    assert!(!stored(&s, &second) && !stored(&s, &access2));
    assert!(stored(&s, &first));
}

#[test]
fn unused_codes_go_a_day_after_they_expire_and_used_ones_when_their_tokens_cannot_live() {
    let s = TestServer::spawn_with_manual_clock();
    assert_eq!(
        s.put("/v1/password", &json!({"password": PASSWORD})).status,
        204
    );
    let v = VendorApp::connect(&s, "Acme");
    let (used, unused) = (Pkce::new(74), Pkce::new(75));
    let code = code_from(&consent_from_terminal(&s, &v, &used));
    assert_eq!(exchange(&v, &code, &used.verifier).status, 200);
    let _never_redeemed = code_from(&consent_from_terminal(&s, &v, &unused));
    assert_eq!(rows(&s, "codes"), 2);
    sweep(&s);
    assert_eq!(rows(&s, "codes"), 2);
    s.clock
        .advance(chrono::Duration::days(1) + chrono::Duration::minutes(2));
    sweep(&s);
    assert_eq!(
        rows(&s, "codes"),
        1,
        "the used code is kept to catch its replay"
    );
    let replay = exchange(&v, &code, &used.verifier);
    assert!(replay.text.contains("already used"), "{}", replay.text);
    // Refresh tokens last 30 days: a day after that, the code goes too.
    s.clock.advance(chrono::Duration::days(30));
    sweep(&s);
    assert_eq!(rows(&s, "codes"), 0);
    let again = exchange(&v, &code, &used.verifier);
    assert_eq!(again.status, 400, "{}", again.text);
    assert_eq!(again.json()["error"], "invalid_grant");
}

#[test]
fn a_revoked_grant_is_refused_at_once_for_one_vendor_among_a_thousand() {
    let s = TestServer::spawn();
    let vendors = carnet_tests::vendor::connect_many(&s, 1000, &["profile:read"], None);
    let (target, neighbour) = (&vendors[500], &vendors[501]);
    let token = target.token();
    assert_eq!(target.get(&token, "/v1/vendor/profile").status, 200);
    let grants = s.get(&format!("/v1/grants?vendor={}", target.vendor_id));
    let grant = grants.json()[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        s.post(&format!("/v1/grants/{grant}/revoke"), &json!({}))
            .status,
        200
    );
    assert_eq!(target.get(&token, "/v1/vendor/profile").status, 401);
    let refused = target.oauth("/oauth/token", &[("grant_type", "client_credentials")]);
    assert_eq!(refused.status, 400, "{}", refused.text);
    assert_eq!(refused.json()["error"], "unauthorized_client");
    let other = neighbour.token();
    assert_eq!(neighbour.get(&other, "/v1/vendor/profile").status, 200);
}
