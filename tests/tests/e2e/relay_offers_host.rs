//! The vault host on the relay (issue 20): every bucket carnetd makes is `<host>.<random>`, and
//! one durable consumer (`vault_<host>`, on `offer.v1.<host>.>`) reads all its offers. An offer
//! to a bucket under another host never reaches this vault, even with the same random part; the
//! host is kept in the data dir, so the same buckets answer after a restart; a configured host
//! and the credentials' tag must agree; an intent announced under an earlier host keeps taking
//! offers on its own consumer until it ends.

use carnet_market::access::vault_consumer;
use carnet_market::keys::VendorKeys;
use carnet_market::wire::offer::make_offer;
use carnet_tests::market::Market;

use crate::relay_offers::{
    announce, consumer, hand_made, market_offers, named_consumer, offer, start, taken, wait_until,
};

/// The host part of a bucket.
fn host_of(bucket: &str) -> &str {
    bucket.split_once('.').expect("a bucket under a host").0
}

#[test]
fn an_offer_to_a_bucket_under_another_host_never_reaches_this_vault() {
    let (market, _data, carnetd) = start();
    let intent = announce(&market, &carnetd, "Washer", &[]);
    let (host, random) = intent.bucket.split_once('.').unwrap();
    // acme's own key, the intent's real ref and recipient: only the bucket's host differs, as
    // another vault host (or anyone allowed to publish offers) could address it.
    let acme = VendorKeys::read(&market.key_file("acme")).unwrap();
    for other in [format!("x{host}"), "elsewhere".to_owned()] {
        let (target, terms) = hand_made(&intent, &format!("{other}.{random}"));
        let misrouted = make_offer(&target, &terms, &acme.signing);
        market.publish_raw(
            &misrouted.subject,
            &format!("misrouted-{other}"),
            &misrouted.body,
        );
    }
    offer(&market, &intent, "650.00", "EUR");
    wait_until("the real offer", || {
        (market_offers(&carnetd, &intent.id).len() == 1).then_some(())
    });
    wait_until("nothing left to take", || {
        consumer(&market, &intent.bucket).filter(|done| *done)
    });
    // Not refused: never delivered to this vault at all.
    assert_eq!(
        (
            taken(&carnetd, "stored"),
            taken(&carnetd, "refused"),
            taken(&carnetd, "duplicate")
        ),
        (1, 0, 0)
    );
    assert_eq!(market_offers(&carnetd, &intent.id)[0]["price"], "650.00");
    let log = carnetd.kill();
    assert!(
        log.contains(&format!("\"host\":\"{host}\"")),
        "carnetd logs its host at start: {log}"
    );
}

#[test]
fn an_offer_to_a_bucket_of_no_intent_under_this_host_is_refused_and_acknowledged() {
    let (market, _data, carnetd) = start();
    let intent = announce(&market, &carnetd, "Kettle", &[]);
    let host = host_of(&intent.bucket).parse().unwrap();
    let nobody = carnet_market::wire::Bucket::generate_for(&host);
    let (target, terms) = hand_made(&intent, nobody.as_str());
    let acme = VendorKeys::read(&market.key_file("acme")).unwrap();
    let stray = make_offer(&target, &terms, &acme.signing);
    market.publish_raw(&stray.subject, "stray-1", &stray.body);
    wait_until("the stray offer refused", || {
        (taken(&carnetd, "refused") == 1).then_some(())
    });
    // Acknowledged: it does not come back to be refused again.
    wait_until("nothing left to take", || {
        consumer(&market, &intent.bucket).filter(|done| *done)
    });
    assert_eq!(taken(&carnetd, "stored"), 0);
    assert!(market_offers(&carnetd, &intent.id).is_empty());
}

#[test]
fn the_host_survives_a_restart_and_the_same_buckets_answer() {
    let (market, data, carnetd) = start();
    let first = announce(&market, &carnetd, "Dryer", &[]);
    let kept = std::fs::read_to_string(data.path().join("relay-host")).unwrap();
    assert_eq!(kept.trim(), host_of(&first.bucket));
    carnetd.kill();

    let carnetd = market.carnetd(data.path());
    offer(&market, &first, "420.00", "EUR");
    wait_until("the offer to the bucket made before the restart", || {
        (market_offers(&carnetd, &first.id).len() == 1).then_some(())
    });
    let second = announce(&market, &carnetd, "Iron", &[]);
    assert_eq!(host_of(&second.bucket), host_of(&first.bucket));
    assert_ne!(second.bucket, first.bucket);
    // One consumer for both intents, none of the per-intent kind.
    let names = market.with_jetstream(|js| async move {
        use futures_util::TryStreamExt;
        let stream = js
            .get_stream(carnet_market::relay::OFFERS_STREAM)
            .await
            .unwrap();
        stream
            .consumer_names()
            .try_collect::<Vec<String>>()
            .await
            .unwrap()
    });
    let host = host_of(&first.bucket).parse().unwrap();
    assert_eq!(names, [vault_consumer(&host)]);
}

#[test]
fn a_configured_host_that_differs_from_the_credentials_tag_stops_carnetd() {
    let market = Market::start(&[("acme", &["home.appliances"])]);
    let data = tempfile::tempdir().unwrap();
    let b64 = carnet_market::keys::b64;
    let claims = serde_json::json!({"nats": {"tags": ["carnet-host:vault-b"]}});
    let jwt = format!(
        "{}.{}.{}",
        b64(b"{}"),
        b64(claims.to_string().as_bytes()),
        b64(b"s")
    );
    let creds = data.path().join("vault.creds");
    std::fs::write(
        &creds,
        format!("-----BEGIN NATS USER JWT-----\n{jwt}\n------END NATS USER JWT------\n"),
    )
    .unwrap();
    let creds = creds.display().to_string();
    let err = market
        .try_carnetd(
            data.path(),
            &[
                ("CARNET_RELAY_HOST", "vault-a"),
                ("CARNET_RELAY_CREDS_FILE", &creds),
            ],
        )
        .err()
        .expect("carnetd must not start with two hosts");
    assert!(
        err.contains("relay_host is vault-a")
            && err.contains("is for vault host vault-b")
            && err.contains("set relay_host to vault-b"),
        "{err}"
    );
    assert!(!data.path().join("relay-host").exists());
}

#[test]
fn an_intent_announced_under_an_earlier_host_takes_offers_until_it_ends() {
    let market = Market::start(&[("acme", &["home.appliances"])]);
    let data = tempfile::tempdir().unwrap();
    let carnetd = market
        .try_carnetd(data.path(), &[("CARNET_RELAY_HOST", "vault-one")])
        .unwrap();
    let old = announce(&market, &carnetd, "Fridge", &[]);
    assert_eq!(host_of(&old.bucket), "vault-one");
    carnetd.kill();

    let carnetd = market
        .try_carnetd(data.path(), &[("CARNET_RELAY_HOST", "vault-two")])
        .unwrap();
    let alone = format!("carnetd-offers_{}", old.bucket.replace('.', "_"));
    offer(&market, &old, "800.00", "EUR");
    wait_until("the offer on the earlier host's bucket", || {
        (market_offers(&carnetd, &old.id).len() == 1).then_some(())
    });
    assert_eq!(named_consumer(&market, &alone), Some(true));
    let new = announce(&market, &carnetd, "Freezer", &[]);
    assert_eq!(host_of(&new.bucket), "vault-two");

    // Ended: its own consumer goes at the next start; the host's stays.
    carnetd.carnet(&["intent", "withdraw", &old.id]).ok();
    carnetd.kill();
    let carnetd = market
        .try_carnetd(data.path(), &[("CARNET_RELAY_HOST", "vault-two")])
        .unwrap();
    wait_until("the ended intent's consumer deleted", || {
        named_consumer(&market, &alone).is_none().then_some(())
    });
    offer(&market, &new, "700.00", "EUR");
    wait_until("the offer to the new intent", || {
        (market_offers(&carnetd, &new.id).len() == 1).then_some(())
    });
}
