//! Offers through the market relay, end to end, with a real carnetd, a real nats-server and the
//! real `carnet-vendor`: an offer shows in `carnet offers` with the directory vendor's name,
//! accepting it records the purchase, adds the vendor and answers "accepted" through the relay;
//! replayed, forged and altered offers change nothing; withdrawing stops offers; max_offers and
//! the currency are enforced; a restart of carnetd between an offer's publication and its intake
//! loses nothing and doubles nothing; `carnet vendor add --from-directory`. The vault host
//! (`relay_offers_host.rs`): one consumer, other hosts' buckets, restarts, earlier hosts.
//!
//! Nothing sleeps: each test waits on a condition (the CLI's listing, carnetd's
//! `carnet_relay_offers_total`, the vault host's consumer on the relay) with a deadline.

use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use carnet_market::access::vault_consumer;
use carnet_market::keys::{VendorKeys, b64, unb64};
use carnet_market::relay::OFFERS_STREAM;
use carnet_market::wire::offer::{OfferTarget, OfferTerms, make_offer};
use carnet_market::wire::{OfferId, Signed};
use carnet_tests::market::Market;
use carnet_tests::{Api, Carnetd};
use chrono::Utc;
use serde_json::Value;

const DEADLINE: Duration = Duration::from_secs(60);

/// Polls `f` until it answers `Some`, failing the test after `DEADLINE`.
#[track_caller]
pub(crate) fn wait_until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::yield_now();
        std::thread::park_timeout(Duration::from_millis(50));
    }
}

/// An intent announced on the relay, as `carnet-vendor listen` heard it.
pub(crate) struct Announced {
    pub(crate) id: String,
    pub(crate) intent_ref: String,
    pub(crate) bucket: String,
    pub(crate) recipient: String,
}

/// Creates and activates an announced intent (`extra`: more `intent new` flags), and has
/// vendor `acme` hear it.
pub(crate) fn announce(
    market: &Market,
    carnetd: &Carnetd,
    title: &str,
    extra: &[&str],
) -> Announced {
    let mut args = vec![
        "--json",
        "intent",
        "new",
        "--category",
        "home.appliances.washer",
        "--title",
        title,
        "--relay",
        "announce",
        "--public",
        "title",
        "--activate",
    ];
    args.extend_from_slice(extra);
    let made = carnetd.carnet(&args);
    made.ok();
    let id = made.json()["id"].as_str().unwrap().to_owned();
    let a = market
        .listen("acme", 1, &["--category", "home.appliances"])
        .remove(0);
    assert_eq!(
        a["public"]["title"], title,
        "acme heard another intent: {a}"
    );
    Announced {
        id,
        intent_ref: a["intent_ref"].as_str().unwrap().to_owned(),
        bucket: a["reply"]["bucket"].as_str().unwrap().to_owned(),
        recipient: a["reply"]["recipient"].as_str().unwrap().to_owned(),
    }
}

/// `carnet-vendor offer` from `acme`; returns its JSON line.
pub(crate) fn offer(market: &Market, intent: &Announced, price: &str, currency: &str) -> Value {
    let out = market.vendor(
        "offer",
        "acme",
        &[
            &intent.intent_ref,
            "--price",
            price,
            "--currency",
            currency,
            "--description",
            "Delivered on Tuesday",
            "--json",
        ],
    );
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// An offer to `intent` made by hand, as acme's (1.00 EUR for a day), to `bucket`: its target
/// and terms, for a test to sign with whatever key it likes.
pub(crate) fn hand_made(intent: &Announced, bucket: &str) -> (OfferTarget, OfferTerms) {
    let target = OfferTarget {
        intent_ref: intent.intent_ref.parse().unwrap(),
        revision: 1,
        bucket: bucket.parse().unwrap(),
        recipient: intent.recipient.parse().unwrap(),
    };
    let terms = OfferTerms {
        intent_ref: intent.intent_ref.parse().unwrap(),
        revision: 1,
        vendor_id: "acme".parse().unwrap(),
        offer_id: OfferId::generate(),
        price: "1.00".parse().unwrap(),
        currency: "EUR".parse().unwrap(),
        valid_through: Utc::now() + chrono::Duration::days(1),
        description: None,
        made_at: Utc::now(),
    };
    (target, terms)
}

/// The market offers `carnet --json offers` lists on `intent`.
pub(crate) fn market_offers(carnetd: &Carnetd, intent: &str) -> Vec<Value> {
    let out = carnetd.carnet(&["--json", "offers", "--intent", intent]);
    out.ok();
    out.json()
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o.get("directory_vendor").is_some())
        .cloned()
        .collect()
}

/// The first answer `carnet-vendor answers` (spawned with `--json`) prints, as its JSON line;
/// the process is ended then.
pub(crate) fn first_answer(mut answers: std::process::Child) -> Value {
    let stdout = answers.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(DEADLINE)
        .expect("carnet-vendor answers heard nothing");
    let _ = answers.kill();
    let _ = answers.wait();
    serde_json::from_str(&line).unwrap()
}

/// `carnet_relay_offers_total{outcome=…}` now.
pub(crate) fn taken(carnetd: &Carnetd, outcome: &str) -> u64 {
    let text = carnetd.get("/metrics").text;
    let prefix = format!("carnet_relay_offers_total{{outcome=\"{outcome}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |n| n.trim().parse().unwrap())
}

/// The body of the message at `sequence` in `OFFERS`.
fn stored_offer(market: &Market, sequence: u64) -> Vec<u8> {
    market.with_jetstream(|js| async move {
        let stream = js.get_stream(OFFERS_STREAM).await.unwrap();
        stream
            .get_raw_message(sequence)
            .await
            .unwrap()
            .payload
            .to_vec()
    })
}

/// Whether the consumer that reads `bucket`'s offers (its vault host's, `vault_<host>`) exists,
/// and has nothing left to take.
pub(crate) fn consumer(market: &Market, bucket: &str) -> Option<bool> {
    let host = bucket.split_once('.').expect("a bucket under a host").0;
    named_consumer(market, &vault_consumer(&host.parse().unwrap()))
}

/// Whether consumer `name` of `OFFERS` exists, and has nothing left to take.
pub(crate) fn named_consumer(market: &Market, name: &str) -> Option<bool> {
    let name = name.to_owned();
    market.with_jetstream(|js| async move {
        let stream = js.get_stream(OFFERS_STREAM).await.unwrap();
        let mut c: jetstream::consumer::PullConsumer = stream.get_consumer(&name).await.ok()?;
        let info = c.info().await.ok()?;
        Some(info.num_pending == 0 && info.num_ack_pending == 0)
    })
}

pub(crate) fn start() -> (Market, tempfile::TempDir, Carnetd) {
    let market = Market::start(&[("acme", &["home.appliances"])]);
    let data = tempfile::tempdir().unwrap();
    let carnetd = market.carnetd(data.path());
    (market, data, carnetd)
}

#[test]
fn a_market_offer_is_listed_with_the_vendors_name_and_accepting_it_buys_and_answers() {
    let (market, _data, carnetd) = start();
    let intent = announce(&market, &carnetd, "Washing machine", &[]);
    let made = offer(&market, &intent, "649.00", "EUR");
    let listed = wait_until("the offer in `carnet offers`", || {
        market_offers(&carnetd, &intent.id).into_iter().next()
    });
    assert_eq!(listed["directory_vendor"], "acme");
    assert_eq!(listed["vendor_name"], "acme shop");
    assert_eq!(listed["price"], "649.00");
    assert_eq!(listed["state"], "pending");
    let human = carnetd.carnet(&["offers"]);
    human.ok();
    assert!(
        human.stdout.contains("acme shop (relay)"),
        "{}",
        human.stdout
    );
    let id = listed["id"].as_str().unwrap();
    assert!(id.starts_with("mof_"), "{id}");

    let answers = market.vendor_spawn("answers", "acme", &["--count", "1", "--json"]);
    let accepted = carnetd.carnet(&["--json", "offer", "accept", id]);
    accepted.ok();
    assert!(
        accepted
            .stderr
            .contains("the vendor is told through the relay"),
        "{}",
        accepted.stderr
    );
    let accepted = accepted.json();
    assert_eq!(accepted["state"], "accepted");
    assert_eq!(accepted["vendor_told"], true);
    let purchase = accepted["purchase_id"].as_str().unwrap();
    let vendor = accepted["vendor_id"].as_str().unwrap();
    let p = carnetd.get(&format!("/v1/purchases/{purchase}")).json();
    assert_eq!(
        (p["vendor_id"].as_str(), p["amount"].as_str()),
        (Some(vendor), Some("649.00"))
    );
    let v = carnetd.get(&format!("/v1/vendors/{vendor}")).json();
    assert_eq!(v["name"], "acme shop");
    assert_eq!(v["directory_id"], "acme");
    let i = carnetd.get(&format!("/v1/intents/{}", intent.id)).json();
    assert_eq!(i["state"], "fulfilled");

    // The vendor hears "accepted" through the relay.
    let answer = first_answer(answers);
    assert_eq!(answer["decision"], "accepted");
    assert_eq!(answer["offer_id"], made["offer_id"]);

    // Adding the same directory vendor by hand gives the one accepting added.
    let again = carnetd.carnet(&["--json", "vendor", "add", "--from-directory", "acme"]);
    again.ok();
    assert_eq!(again.json()["id"], vendor);
}

#[test]
fn replayed_forged_and_altered_offers_change_nothing() {
    let market = Market::start(&[
        ("acme", &["home.appliances"]),
        ("bolt", &["home.appliances"]),
    ]);
    let data = tempfile::tempdir().unwrap();
    let carnetd = market.carnetd(data.path());
    let intent = announce(&market, &carnetd, "Dryer", &[]);
    let made = offer(&market, &intent, "399.00", "EUR");
    wait_until("the offer", || {
        (market_offers(&carnetd, &intent.id).len() == 1).then_some(())
    });
    let subject = made["subject"].as_str().unwrap().to_owned();
    let real = stored_offer(&market, made["stream_sequence"].as_u64().unwrap());

    // The same message again without a message id (JetStream keeps it): a duplicate of the
    // offer id, dropped; under another message id, its headers no longer match its payload.
    market.publish_raw(&subject, "", &real);
    wait_until("the replay dropped", || {
        (taken(&carnetd, "duplicate") >= 1).then_some(())
    });
    market.publish_raw(&subject, "replayed-1", &real);

    // Terms signed by a key that is not acme's in the directory.
    let forger = VendorKeys::generate();
    let (target, terms) = hand_made(&intent, &intent.bucket);
    let forged = make_offer(&target, &terms, &forger.signing);
    market.publish_raw(&forged.subject, "forged-1", &forged.body);

    // acme's real offer, its sealed payload altered (the ciphertext changed).
    let mut outer: Signed = serde_json::from_slice(&real).unwrap();
    let mut payload: Value = serde_json::from_slice(&unb64(&outer.payload).unwrap()).unwrap();
    let c = payload["ciphertext"].as_str().unwrap().to_owned();
    let flipped = if c.ends_with('A') { "B" } else { "A" };
    payload["ciphertext"] = Value::from(format!("{}{flipped}", &c[..c.len() - 1]));
    payload["offer_id"] = Value::from(OfferId::generate().to_string());
    outer.payload = b64(&serde_json::to_vec(&payload).unwrap());
    market.publish_raw(&subject, "altered-1", &serde_json::to_vec(&outer).unwrap());

    // bolt is in the directory, but offers under acme's name with its own key.
    let bolt = VendorKeys::read(&market.key_file("bolt")).unwrap();
    let impostor = make_offer(&target, &terms, &bolt.signing);
    market.publish_raw(&impostor.subject, "impostor-1", &impostor.body);

    wait_until("four refusals", || {
        (taken(&carnetd, "refused") >= 4).then_some(())
    });
    wait_until("nothing left to take", || {
        consumer(&market, &intent.bucket).filter(|done| *done)
    });
    assert_eq!(taken(&carnetd, "stored"), 1);
    let listed = market_offers(&carnetd, &intent.id);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["price"], "399.00");
}

#[test]
fn max_offers_and_the_currency_are_enforced_and_withdrawing_stops_offers() {
    let (market, _data, carnetd) = start();
    let capped = announce(
        &market,
        &carnetd,
        "Fridge",
        &[
            "--max-offers",
            "1",
            "--max-price",
            "900",
            "--currency",
            "EUR",
        ],
    );
    offer(&market, &capped, "500.00", "USD");
    wait_until("the USD offer refused", || {
        (taken(&carnetd, "refused") >= 1).then_some(())
    });
    offer(&market, &capped, "500.00", "EUR");
    wait_until("the EUR offer", || {
        (market_offers(&carnetd, &capped.id).len() == 1).then_some(())
    });
    offer(&market, &capped, "480.00", "EUR");
    wait_until("the offer over max_offers refused", || {
        (taken(&carnetd, "refused") >= 2).then_some(())
    });
    let kept = market_offers(&carnetd, &capped.id);
    assert_eq!(kept.len(), 1);
    assert_eq!(taken(&carnetd, "stored"), 1);
    // Declined: the reason stays in the vault; declined twice is a conflict.
    let id = kept[0]["id"].as_str().unwrap();
    let declined = carnetd.carnet(&["--json", "offer", "decline", id, "--reason", "Too far"]);
    declined.ok();
    assert_eq!(declined.json()["state"], "declined");
    assert_eq!(declined.json()["decline_reason"], "Too far");
    let again = carnetd.carnet(&["offer", "decline", id]);
    assert_ne!(again.code, 0);
    assert!(again.stderr.contains("not pending"), "{}", again.stderr);

    // Withdrawn: an offer made after is refused (and acknowledged), never taken.
    let gone = announce(&market, &carnetd, "Oven", &[]);
    carnetd.carnet(&["intent", "withdraw", &gone.id]).ok();
    offer(&market, &gone, "300.00", "EUR");
    wait_until("the offer to the withdrawn intent refused", || {
        (taken(&carnetd, "refused") >= 3).then_some(())
    });
    wait_until("nothing left to take", || {
        consumer(&market, &gone.bucket).filter(|done| *done)
    });
    assert!(market_offers(&carnetd, &gone.id).is_empty());
    assert_eq!(taken(&carnetd, "stored"), 1);
}

#[test]
fn an_offer_made_while_carnetd_is_down_is_taken_once_when_it_is_back() {
    let market = Market::start(&[("acme", &["home.appliances"])]);
    let data = tempfile::tempdir().unwrap();
    let carnetd = market.carnetd(data.path());
    let intent = announce(&market, &carnetd, "Dishwasher", &[]);
    carnetd.kill();
    offer(&market, &intent, "550.00", "EUR");
    let carnetd = market.carnetd(data.path());
    wait_until("the offer after the restart", || {
        (market_offers(&carnetd, &intent.id).len() == 1).then_some(())
    });
    wait_until("nothing left to take", || {
        consumer(&market, &intent.bucket).filter(|done| *done)
    });
    carnetd.kill();
    let carnetd = market.carnetd(data.path());
    wait_until("the consumer read again", || {
        consumer(&market, &intent.bucket).filter(|done| *done)
    });
    let listed = market_offers(&carnetd, &intent.id);
    assert_eq!(listed.len(), 1, "{listed:?}");
}

#[test]
fn vendor_add_from_directory_needs_a_relay_and_a_known_id() {
    let (market, _data, carnetd) = start();
    let added = carnetd.carnet(&["--json", "vendor", "add", "--from-directory", "acme"]);
    added.ok();
    let v = added.json();
    assert_eq!(
        (v["name"].as_str(), v["directory_id"].as_str()),
        (Some("acme shop"), Some("acme"))
    );
    let again = carnetd.carnet(&["--json", "vendor", "add", "--from-directory", "acme"]);
    again.ok();
    assert_eq!(again.json()["id"], v["id"]);
    let vendors = carnetd.get("/v1/vendors").json();
    assert_eq!(vendors["items"].as_array().unwrap().len(), 1, "{vendors}");

    let unknown = carnetd.carnet(&["vendor", "add", "--from-directory", "nosuch"]);
    assert_ne!(unknown.code, 0);
    assert!(unknown.stderr.contains("nosuch"), "{}", unknown.stderr);
    let p = carnetd
        .post(
            "/v1/market/vendors",
            &serde_json::json!({"directory_id": "nosuch"}),
        )
        .problem(404);
    assert!(p["detail"].as_str().unwrap().contains("nosuch"), "{p}");
    drop(market);

    let plain_data = tempfile::tempdir().unwrap();
    let plain = Carnetd::start(plain_data.path(), &[]).unwrap();
    let refused = plain.carnet(&["vendor", "add", "--from-directory", "acme"]);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("this server has no market relay"),
        "{}",
        refused.stderr
    );
    plain
        .post(
            "/v1/market/vendors",
            &serde_json::json!({"directory_id": "acme"}),
        )
        .problem(409);
}
