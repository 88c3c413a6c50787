//! A new grant replaces the vendor's live one: `carnet grant create` says what the live one
//! gives that the new one would not, and asks first (a script without `--yes` is refused, it
//! never waits for an answer nobody can type). `carnet grant edit` widens the live grant
//! instead: it keeps its id and tokens and gets a new signed receipt.

use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, TestServer};
use serde_json::{Value, json};

fn grants_of(s: &TestServer, vendor: &str) -> Vec<Value> {
    s.get(&format!("/v1/grants?vendor={vendor}"))
        .json()
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn a_second_grant_create_says_what_would_be_lost_and_is_not_made_without_a_yes() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme Appliances");
    // The README's tour: first a grant for the relationship and the shared interactions …
    s.carnet(&[
        "grant",
        "create",
        "Acme Appliances",
        "--scope",
        "relationship:read",
        "--scope",
        "interactions:read",
        "--category",
        "home.appliances",
        "--days",
        "90",
    ])
    .ok();
    let first = grants_of(&s, &v.vendor_id)[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // … then one for intents: it would replace the first, so carnet asks, and a script
    // (no terminal) without --yes is refused with the command to run.
    let second = [
        "grant",
        "create",
        "Acme Appliances",
        "--scope",
        "intents:read",
        "--scope",
        "offers:write",
        "--category",
        "home.appliances",
    ];
    let out = s.carnet(&second);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains(&format!("has a live grant {first}")),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr
            .contains("would lose: scopes relationship:read, interactions:read"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("access from"), "{}", out.stderr);
    assert!(out.stderr.contains("carnet grant edit"), "{}", out.stderr);
    let error: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("carnet: error:"))
        .collect();
    assert_eq!(error.len(), 1, "{}", out.stderr);
    assert!(error[0].contains("without confirmation"), "{}", out.stderr);
    assert!(
        out.stderr.contains("  hint: pass --yes") && out.stderr.contains("--yes"),
        "{}",
        out.stderr
    );
    let grants = grants_of(&s, &v.vendor_id);
    assert_eq!(grants.len(), 1, "nothing was granted: {grants:?}");
    assert_eq!(grants[0]["state"], "live");

    // With --yes it replaces it (and still says what was lost).
    let mut yes = second.to_vec();
    yes.push("--yes");
    let out = s.carnet(&yes);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("would lose"), "{}", out.stderr);
    let states: Vec<(String, String)> = grants_of(&s, &v.vendor_id)
        .iter()
        .map(|g| {
            (
                g["id"].as_str().unwrap().into(),
                g["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(states.contains(&(first, "revoked".into())), "{states:?}");
}

#[test]
fn grant_edit_widens_the_live_grant_keeps_its_tokens_and_signs_a_new_receipt() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    let id = v.grant(&s, &["relationship:read"], Some(&["home.appliances"]));
    let before = s.get(&format!("/v1/grants/{id}")).json();
    let token = v.token();

    let out = s.carnet(&[
        "grant",
        "edit",
        "Acme",
        "--scope",
        "intents:read",
        "--category",
        "home.garden",
        "--days",
        "90",
    ]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(&format!("widened grant {id}")),
        "{}",
        out.stdout
    );

    let after = s.get(&format!("/v1/grants/{id}")).json();
    assert_eq!(after["state"], "live");
    assert_eq!(
        after["scopes"],
        json!(["intents:read", "relationship:read"])
    );
    assert_eq!(
        after["categories"],
        json!(["home.appliances", "home.garden"])
    );
    assert!(after["expires_at"].as_str() > before["expires_at"].as_str());
    assert_ne!(after["receipt_id"], before["receipt_id"], "a new receipt");
    assert_eq!(grants_of(&s, &v.vendor_id).len(), 1, "the same grant");

    // The new receipt records the grant as it now is, signed like the first.
    let receipts = s
        .get(&format!("/v1/receipts?vendor={}", v.vendor_id))
        .json();
    let receipts = receipts.as_array().unwrap();
    assert_eq!(receipts.len(), 2, "{receipts:?}");
    let new = receipts
        .iter()
        .find(|r| r["id"] == after["receipt_id"])
        .expect("the new receipt is listed");
    assert_eq!(new["grant_id"], json!(id));
    assert_eq!(
        new["receipt"]["carnet"]["scopes"],
        json!(["intents:read", "relationship:read"])
    );

    // The token issued before still works; a new one may use what was added.
    assert_eq!(v.get(&token, "/v1/vendor/relationship").status, 200);
    let wider = v.token_with(&[("scope", "intents:read")]);
    assert_eq!(v.get(&wider, "/v1/vendor/intents").status, 200);
}

#[test]
fn a_grant_is_never_narrowed_by_edit_and_an_ended_one_cannot_be_widened() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    let id = v.grant(&s, &["relationship:read"], Some(&["home"]));
    // Fewer days than it has left: refused, it would shorten the grant.
    let out = s.carnet(&["grant", "edit", &id, "--days", "1"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("sooner"), "{}", out.stderr);
    // Nothing new: refused, with what to name.
    let r = s.post(
        &format!("/v1/grants/{id}/widen"),
        &json!({"scopes": ["relationship:read"], "categories": ["home.garden"]}),
    );
    assert_eq!(r.status, 422, "{}", r.text);
    // An unknown field is a client mistake too.
    let r = s.post(&format!("/v1/grants/{id}/widen"), &json!({"remove": true}));
    assert!(r.status == 400 || r.status == 422, "{}", r.text);

    s.post(&format!("/v1/grants/{id}/revoke"), &json!({}));
    let r = s.post(
        &format!("/v1/grants/{id}/widen"),
        &json!({"scopes": ["profile:read"]}),
    );
    let p = r.problem(409);
    assert!(
        p["detail"].as_str().unwrap().contains("only a live grant"),
        "{p}"
    );
    let out = s.carnet(&["grant", "edit", "Acme", "--scope", "profile:read"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("no live grant"), "{}", out.stderr);
}
