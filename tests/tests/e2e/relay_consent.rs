//! carnetd and vendors on a relay with consent at the transport: nats-server runs the
//! configuration `carnet-market nats-config` makes, carnetd connects with the credentials of
//! `carnet-market vault-user --id v1` and each vendor with those of `vendor-user`. What works on
//! an open relay works there too, end to end — a sealed intent reaches its granted vendor, whose
//! offer carnetd reads with its one host consumer, and the answer goes back — while the
//! adversarial checks of what each credential may not do are in market/tests/transport.rs.

use carnet_tests::market::{HOST, Market};

use super::relay_offers::{first_answer, market_offers, wait_until};
use super::relay_sealed::{directory_vendor, grant_appliances, intent, logged};

#[test]
fn a_sealed_intent_goes_and_an_offer_comes_back_with_each_side_on_its_own_credentials() {
    let market = Market::start_with_consent(&[
        ("acme", &["home.appliances"]),
        ("greenhands", &["home.garden"]),
    ]);
    let data = tempfile::tempdir().unwrap();
    let carnetd = market.carnetd(data.path());
    // carnetd took its host from its credentials.
    carnetd.wait_for_log(&["market relay ready", HOST]);
    let acme = directory_vendor(&carnetd, "acme");
    grant_appliances(&carnetd, &acme);

    let (id, _) = intent(&carnetd, "sealed", "Quiet washer");
    let heard = market
        .listen("acme", 1, &["--category", "home.appliances"])
        .remove(0);
    assert_eq!(
        heard["opened"]["intent"]["title"], "Quiet washer",
        "{heard}"
    );
    let bucket = heard["opened"]["reply"]["bucket"].as_str().unwrap();
    assert!(bucket.starts_with(&format!("{HOST}.")), "{bucket}");
    wait_until("the publication logged", || {
        logged(&carnetd, &acme, "RELAY sealed", &id)
    });

    let intent_ref = heard["intent_ref"].as_str().unwrap();
    let out = market.vendor(
        "offer",
        "acme",
        &[intent_ref, "--price", "420", "--currency", "EUR", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let offer = wait_until("carnetd took acme's offer", || {
        market_offers(&carnetd, &id).into_iter().next()
    });
    let answers = market.vendor_spawn("answers", "acme", &["--count", "1", "--json"]);
    let accepted = carnetd.carnet(&["--json", "offer", "accept", offer["id"].as_str().unwrap()]);
    accepted.ok();
    assert_eq!(accepted.json()["vendor_told"], true);
    let answer = first_answer(answers);
    assert_eq!(answer["decision"], "accepted", "{answer}");
    assert_eq!(answer["offer_id"], made["offer_id"], "{answer}");
}
