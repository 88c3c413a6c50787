//! Market offers in the web app, end to end with a real carnetd, nats-server and
//! `carnet-vendor`: an offer that came through the market relay shows on its intent's page
//! (the directory vendor's name marked as the relay's, price, state, description, validity) and
//! on Today while it waits; Accept records the purchase (its vendor's page linked), keeps the
//! intent open when asked and answers "accepted" through the relay; Decline keeps the reason in
//! the vault and the relay's answer never carries it; nothing changes without the session's
//! form token; a wrong id is a page, an answered offer a conflict page.

use carnet_tests::Api;
use carnet_tests::market::Market;
use carnet_tests::webapp::WebApp;
use serde_json::Value;

use super::relay_offers::{Announced, announce, first_answer, market_offers, offer, wait_until};

/// A market with vendor `acme`, a carnetd on it, an announced intent with one offer from acme
/// taken into the vault, and a signed-in browser; the offer as `carnet offers` lists it.
fn offered(
    title: &str,
) -> (
    Market,
    tempfile::TempDir,
    carnet_tests::Carnetd,
    Announced,
    Value,
    WebApp,
) {
    let market = Market::start(&[("acme", &["home.appliances"])]);
    let data = tempfile::tempdir().unwrap();
    let carnetd = market.carnetd(data.path());
    let intent = announce(&market, &carnetd, title, &[]);
    offer(&market, &intent, "649.00", "EUR");
    let listed = wait_until("the market offer in the vault", || {
        market_offers(&carnetd, &intent.id).into_iter().next()
    });
    let app = WebApp::signed_in(&carnetd);
    (market, data, carnetd, intent, listed, app)
}

#[test]
fn a_market_offer_shows_on_its_intent_and_today_and_accepting_it_in_the_app_buys_and_answers() {
    let (market, _data, carnetd, intent, listed, mut app) = offered("Washing machine");
    let id = listed["id"].as_str().unwrap();
    let page_path = format!("/app/intents/{}", intent.id);

    let page = app.get(&page_path);
    assert_eq!(page.status, 200, "{}", page.text);
    let card = &page.text[page
        .text
        .find(&format!("id=\"offer-{id}\""))
        .expect("the market offer's card")..];
    for shown in [
        "649.00 EUR",
        "acme shop",
        "through the market relay",
        "pending",
        "Delivered on Tuesday",
        "valid through",
        &format!("action=\"/app/market-offers/{id}/accept\""),
        &format!("action=\"/app/market-offers/{id}/decline\""),
        "keep_open",
        "never why",
    ] {
        assert!(card.contains(shown), "{shown:?} missing from {card}");
    }

    let today = app.get("/app/");
    assert_eq!(today.status, 200, "{}", today.text);
    assert!(
        today
            .text
            .contains(&format!("href=\"/app/intents/{}#offer-{id}\"", intent.id)),
        "{}",
        today.text
    );
    assert!(today.text.contains("acme shop"), "{}", today.text);

    let answers = market.vendor_spawn("answers", "acme", &["--count", "1", "--json"]);
    let r = app.submit(
        &page_path,
        &format!("/app/market-offers/{id}/accept"),
        &[("keep_open", "yes")],
    );
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        r.header("location"),
        Some(format!("/app/intents/{}#offer-{id}", intent.id).as_str())
    );

    let m = carnetd.get(&format!("/v1/market/offers/{id}")).json();
    assert_eq!(m["state"], "accepted");
    let purchase = m["purchase_id"].as_str().expect("a purchase");
    let vendor = m["vendor_id"].as_str().expect("the vault's vendor");
    let p = carnetd.get(&format!("/v1/purchases/{purchase}")).json();
    assert_eq!(
        (p["vendor_id"].as_str(), p["amount"].as_str()),
        (Some(vendor), Some("649.00"))
    );
    let i = carnetd.get(&format!("/v1/intents/{}", intent.id)).json();
    assert_eq!(i["state"], "active", "kept open");

    let page = app.get(&page_path).text;
    assert!(page.contains(purchase), "{page}");
    assert!(
        page.contains(&format!("href=\"/app/vendors/{vendor}\"")),
        "{page}"
    );
    assert!(
        !page.contains(&format!("/app/market-offers/{id}/accept")),
        "no Accept once accepted: {page}"
    );
    let today = app.get("/app/").text;
    assert!(
        !today.contains(&format!("#offer-{id}")),
        "no longer waiting: {today}"
    );

    let answer = first_answer(answers);
    assert_eq!(answer["decision"], "accepted");
}

#[test]
fn declining_a_market_offer_keeps_the_reason_in_the_vault_and_forged_or_wrong_posts_change_nothing()
{
    let (market, _data, carnetd, intent, listed, mut app) = offered("Dryer");
    let id = listed["id"].as_str().unwrap();
    let page_path = format!("/app/intents/{}", intent.id);
    let decline = format!("/app/market-offers/{id}/decline");
    let state = || carnetd.get(&format!("/v1/market/offers/{id}")).json()["state"].clone();

    // Posted from another site: no form token, or another session's.
    let r = app.post_raw(&format!("/app/market-offers/{id}/accept"), &[]);
    assert_eq!(r.status, 403, "{}", r.text);
    let r = app.post_raw(&decline, &[("reason", "forged")]);
    assert_eq!(r.status, 403, "{}", r.text);
    let mut other = WebApp::new(&carnetd);
    assert_eq!(other.sign_in(carnet_tests::webapp::PASSWORD).status, 303);
    let theirs =
        carnet_tests::browser::input_value(&other.get("/app/").text, "csrf").expect("a token");
    let r = app.post_raw(&decline, &[("csrf", theirs.as_str())]);
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(state(), "pending");

    // Ids that are not this offer's: a page, never a 500, nothing changed.
    for wrong in [
        "/app/market-offers/mof_aaaaaaaaaaaaaaaa/accept".to_owned(),
        "/app/market-offers/not-an-id/decline".to_owned(),
        format!("/app/offers/{id}/accept"),
    ] {
        let r = app.submit(&page_path, &wrong, &[]);
        assert_eq!(r.status, 404, "{wrong}: {}", r.text);
        assert!(r.text.contains("<html"), "{wrong}: {}", r.text);
    }
    assert_eq!(state(), "pending");

    let answers = market.vendor_spawn("answers", "acme", &["--count", "1", "--json"]);
    let r = app.submit(&page_path, &decline, &[("reason", "Too far, sorry")]);
    assert_eq!(r.status, 303, "{}", r.text);
    let m = carnetd.get(&format!("/v1/market/offers/{id}")).json();
    assert_eq!(m["state"], "declined");
    assert_eq!(m["decline_reason"], "Too far, sorry");
    let page = app.get(&page_path).text;
    assert!(page.contains("Declined because: Too far, sorry"), "{page}");
    let i = carnetd.get(&format!("/v1/intents/{}", intent.id)).json();
    assert_eq!(i["state"], "active");

    let answer = first_answer(answers);
    assert_eq!(answer["decision"], "declined");
    assert!(
        !answer.to_string().contains("Too far"),
        "the relay's answer carries the reason: {answer}"
    );

    // Answered already: a conflict page, the answer unchanged.
    let r = app.submit(&page_path, &format!("/app/market-offers/{id}/accept"), &[]);
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.text.contains("not pending"), "{}", r.text);
    assert_eq!(state(), "declined");
}

#[test]
fn an_intent_written_in_the_app_at_relay_announce_reaches_the_market_with_its_public_fields_only() {
    let market = Market::start(&[("acme", &["home.appliances"])]);
    let data = tempfile::tempdir().unwrap();
    let carnetd = market.carnetd(data.path());
    let mut app = WebApp::signed_in(&carnetd);
    let form = [
        ("category", "home.appliances.washing-machine"),
        ("title", "Washing machine"),
        ("description", "quiet-one-for-the-flat-above"),
        ("retention_days", "30"),
        ("relay", "announce"),
        ("public", "title"),
        ("then", "activate"),
    ];
    let page = app.get("/app/intents/new");
    assert!(
        page.text.contains("with no grant from you"),
        "{}",
        page.text
    );
    let r = app.submit("/app/intents/new", "/app/intents/new", &form);
    assert_eq!(r.status, 303, "{}", r.text);
    let heard = market.listen("acme", 1, &["--category", "home.appliances"]);
    assert_eq!(heard[0]["public"]["title"], "Washing machine");
    assert!(
        heard[0]["public"].get("description").is_none(),
        "{}",
        heard[0]
    );
    // The edit form shows the level and the public fields as they are.
    let id = r
        .header("location")
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let edit = app.get(&format!("/app/intents/{id}/edit"));
    assert!(
        edit.text.contains("value=\"announce\" selected"),
        "{}",
        edit.text
    );
    assert!(
        edit.text.contains("value=\"title\" checked"),
        "{}",
        edit.text
    );
}

#[test]
fn an_intent_written_in_the_app_at_relay_sealed_reaches_its_granted_vendor_alone() {
    let market = Market::start(&[("acme", &["home.appliances"])]);
    let data = tempfile::tempdir().unwrap();
    let carnetd = market.carnetd(data.path());
    let added = carnetd.post(
        "/v1/market/vendors",
        &serde_json::json!({ "directory_id": "acme" }),
    );
    assert_eq!(added.status, 201, "{}", added.text);
    let vendor_id = added.json()["id"].as_str().unwrap().to_owned();
    let grant = carnetd.post(
        "/v1/grants",
        &serde_json::json!({"vendor_id": vendor_id, "scopes": ["intents:read"],
            "categories": ["home.appliances"]}),
    );
    assert_eq!(grant.status, 201, "{}", grant.text);
    let mut app = WebApp::signed_in(&carnetd);
    let page = app.get("/app/intents/new");
    assert!(page.text.contains("value=\"sealed\""), "{}", page.text);
    let form = [
        ("category", "home.appliances.washing-machine"),
        ("title", "Washing machine"),
        ("retention_days", "30"),
        ("relay", "sealed"),
        ("then", "activate"),
    ];
    let r = app.submit("/app/intents/new", "/app/intents/new", &form);
    assert_eq!(r.status, 303, "{}", r.text);
    let heard = market.listen("acme", 1, &["--category", "home.appliances"]);
    assert_eq!(heard[0]["level"], "sealed", "{}", heard[0]);
    assert_eq!(heard[0]["opened"]["intent"]["title"], "Washing machine");
    // A public field with sealed: refused beside it, nothing written.
    let refused = app.submit(
        "/app/intents/new",
        "/app/intents/new",
        &[
            ("category", "home.appliances.dryer"),
            ("title", "Dryer"),
            ("retention_days", "30"),
            ("relay", "sealed"),
            ("public", "title"),
        ],
    );
    assert_eq!(refused.status, 422, "{}", refused.text);
    assert!(
        refused
            .text
            .contains("Public fields are for relay announce"),
        "{}",
        refused.text
    );
}
