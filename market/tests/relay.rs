//! The market relay against a real `nats-server -js`: a publisher built from `wire` stands in for
//! the vault, `carnet-vendor` runs as a process. Each test starts its own server. They fail, and
//! say to install it, when nats-server is missing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use carnet_market::directory::{self, Directory};
use carnet_market::keys::{Recipient, SigningKey, b64};
use carnet_market::relay::{self, OFFERS_STREAM};
use carnet_market::wire::announcement::{IntentKeys, publication, verify_announcement};
use carnet_market::wire::answer::Decision;
use carnet_market::wire::offer::open_offer;
use carnet_market::wire::{Event, OfferId, Signed, WireError};
use chrono::Utc;
use common::*;

const LIMIT: Duration = Duration::from_secs(60);

fn refs(out: &std::process::Output) -> Vec<(String, u64, String)> {
    lines(out)
        .iter()
        .map(|l| {
            (
                l["intent_ref"].as_str().unwrap().to_owned(),
                l["revision"].as_u64().unwrap(),
                l["event"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// `carnet-vendor listen` as `vendor`, run to its end.
fn listen(vendor: &Vendor, server: &NatsServer, args: &[&str]) -> std::process::Output {
    run(vendor.cmd("listen", server, args), LIMIT)
}

/// A new intent in home.appliances, announced: what a test waits for last.
async fn activate(js: &async_nats::jetstream::Context, title: &str) -> IntentKeys {
    let keys = IntentKeys::generate();
    publish(
        js,
        &announce(&keys, 1, Event::Activated, "home.appliances", title),
    )
    .await;
    keys
}

fn assert_stderr(out: &std::process::Output, needle: &str) {
    let err = stderr(out);
    assert!(err.contains(needle), "stderr lacks {needle:?}:\n{err}");
}

fn one(keys: &IntentKeys, revision: u64, event: &str) -> (String, u64, String) {
    (keys.intent_ref.to_string(), revision, event.to_owned())
}

#[tokio::test]
async fn a_vendor_hears_an_intent_in_its_category_and_not_one_in_another() {
    let server = NatsServer::start();
    let js = relay_with_streams(&server).await;
    let cars = IntentKeys::generate();
    let washer = IntentKeys::generate();
    publish(
        &js,
        &announce(&cars, 1, Event::Activated, "auto.parts", "brake pads"),
    )
    .await;
    publish(
        &js,
        &announce(
            &washer,
            1,
            Event::Activated,
            "home.appliances",
            "washing machine",
        ),
    )
    .await;

    let (vendor, _) = Vendor::new("acme");
    let out = listen(
        &vendor,
        &server,
        &["--category", "home", "--json", "--count", "1"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let heard = lines(&out);
    assert_eq!(heard.len(), 1);
    assert_eq!(heard[0]["intent_ref"], washer.intent_ref.to_string());
    assert_eq!(heard[0]["public"]["title"], "washing machine");
    assert_eq!(heard[0]["category"], "home.appliances");
    assert!(vendor.recorded(washer.intent_ref.as_str()));
    // The other category's intent never reached it: not printed, not dropped, not recorded.
    assert!(!stderr(&out).contains(cars.intent_ref.as_str()));
    assert!(!vendor.recorded(cars.intent_ref.as_str()));

    // A vendor of another region does not hear the FR-75 intent either.
    let (elsewhere, _) = Vendor::new("garage");
    let out = listen(
        &elsewhere,
        &server,
        &[
            "--category",
            "auto.parts",
            "home",
            "--region",
            "FR-75",
            "--json",
            "--count",
            "2",
        ],
    );
    let mut got = refs(&out);
    got.sort();
    let mut want = vec![
        one(&cars, 1, "intent.activated"),
        one(&washer, 1, "intent.activated"),
    ];
    want.sort();
    assert_eq!(got, want);
}

#[tokio::test]
async fn a_listener_started_after_publication_gets_live_intents_and_then_new_ones() {
    let server = NatsServer::start();
    let js = relay_with_streams(&server).await;
    let before = activate(&js, "fridge").await;

    let (vendor, _) = Vendor::new("acme");
    // Backfill: published before the listener existed.
    let started = start_until(
        vendor.cmd(
            "listen",
            &server,
            &["--category", "home.appliances", "--json", "--count", "2"],
        ),
        "listening as acme",
    );
    // Live: published while it listens.
    let live = activate(&js, "oven").await;
    let (out, err) = started.finish(LIMIT);
    assert!(out.status.success(), "{err}");
    assert_eq!(
        refs(&out),
        vec![
            one(&before, 1, "intent.activated"),
            one(&live, 1, "intent.activated")
        ]
    );

    // --since reads again from a time: only what was published after it.
    let cut = Utc::now();
    let after = activate(&js, "kettle").await;
    let (fresh, _) = Vendor::new("fresh");
    let out = listen(
        &fresh,
        &server,
        &[
            "--category",
            "home",
            "--json",
            "--count",
            "1",
            "--since",
            &cut.to_rfc3339(),
        ],
    );
    assert_eq!(refs(&out), vec![one(&after, 1, "intent.activated")]);
}

#[tokio::test]
async fn a_listener_waits_for_the_relay_streams() {
    let server = NatsServer::start();
    let (vendor, _) = Vendor::new("early");
    let started = start_until(
        vendor.cmd(
            "listen",
            &server,
            &["--category", "home", "--json", "--count", "1"],
        ),
        "stream INTENTS does not exist yet",
    );
    let js = relay_with_streams(&server).await;
    let keys = IntentKeys::generate();
    publish(
        &js,
        &announce(&keys, 1, Event::Activated, "home.garden", "mower"),
    )
    .await;
    let (out, err) = started.finish(LIMIT);
    assert!(out.status.success(), "{err}");
    assert_eq!(refs(&out), vec![one(&keys, 1, "intent.activated")]);
}

#[tokio::test]
async fn a_replayed_announcement_and_a_duplicate_revision_are_dropped() {
    let server = NatsServer::start();
    let js = relay_with_streams(&server).await;
    let keys = IntentKeys::generate();
    let first = announce(&keys, 1, Event::Activated, "home.appliances", "dryer");
    assert!(!publish(&js, &first).await);
    // The vault's retry with the same Nats-Msg-Id: JetStream itself drops it.
    assert!(
        publish(&js, &first).await,
        "JetStream should flag a duplicate"
    );
    // The same bytes replayed without the header: JetStream keeps them, the vendor drops them.
    replay_bare(&js, &first).await;
    let update = announce(&keys, 2, Event::Updated, "home.appliances", "dryer, 8 kg");
    publish(&js, &update).await;
    replay_bare(&js, &first).await;

    let (vendor, _) = Vendor::new("acme");
    let out = listen(
        &vendor,
        &server,
        &["--category", "home", "--json", "--count", "2"],
    );
    assert_eq!(
        refs(&out),
        vec![
            one(&keys, 1, "intent.activated"),
            one(&keys, 2, "intent.updated")
        ]
    );
    assert_stderr(&out, "duplicate of revision 1");
}

#[tokio::test]
async fn a_replay_after_withdrawal_is_refused_even_by_a_later_listener() {
    let server = NatsServer::start();
    let js = relay_with_streams(&server).await;
    let keys = IntentKeys::generate();
    let first = announce(&keys, 1, Event::Activated, "home.appliances", "dishwasher");
    publish(&js, &first).await;
    publish(
        &js,
        &announce(&keys, 2, Event::Withdrawn, "home.appliances", "dishwasher"),
    )
    .await;
    replay_bare(&js, &first).await;
    // Even a higher revision signed by the intent's own key cannot revive it.
    publish(
        &js,
        &announce(&keys, 3, Event::Activated, "home.appliances", "dishwasher"),
    )
    .await;
    let marker = activate(&js, "marker").await;

    let (vendor, _) = Vendor::new("acme");
    let out = listen(
        &vendor,
        &server,
        &["--category", "home", "--json", "--count", "3"],
    );
    assert_eq!(
        refs(&out),
        vec![
            one(&keys, 1, "intent.activated"),
            one(&keys, 2, "intent.withdrawn"),
            one(&marker, 1, "intent.activated")
        ]
    );
    assert_stderr(&out, "nothing more is accepted");

    // The state outlives the process: a replay published later is refused by the next run.
    replay_bare(
        &js,
        &announce(&keys, 4, Event::Updated, "home.appliances", "revived?"),
    )
    .await;
    let marker2 = activate(&js, "marker 2").await;
    let out = listen(
        &vendor,
        &server,
        &["--category", "home", "--json", "--count", "1"],
    );
    assert_eq!(refs(&out), vec![one(&marker2, 1, "intent.activated")]);
    assert_stderr(&out, "intent.withdrawn");
}

#[tokio::test]
async fn a_forged_announcement_is_refused() {
    let server = NatsServer::start();
    let js = relay_with_streams(&server).await;
    let keys = IntentKeys::generate();
    let real = announce(&keys, 1, Event::Activated, "home.appliances", "freezer");
    publish(&js, &real).await;

    // 1. Its payload altered, its signature kept.
    let mut tampered = real.clone();
    let mut env = Signed::from_bytes(&real.body).unwrap();
    let (payload, _) = env.decode().unwrap();
    let text = String::from_utf8(payload)
        .unwrap()
        .replace("\"revision\":1", "\"revision\":7");
    env.payload = b64(text.as_bytes());
    tampered.body = env.to_bytes();
    tampered.headers.clear();
    publish(&js, &tampered).await;
    // 2. A withdrawal of the known intent, signed by the attacker's own key.
    let mut forged = verify_announcement(&real.subject, |_| None, &real.body)
        .unwrap()
        .announcement;
    let attacker = SigningKey::generate();
    forged.revision = 2;
    forged.event = Event::Withdrawn;
    forged.intent_key = attacker.verifying_key().to_string();
    publish(&js, &publication(&forged, &attacker)).await;
    // 3. The real key's name claimed, signed by the attacker.
    forged.intent_key = keys.signing.verifying_key().to_string();
    forged.revision = 3;
    publish(&js, &publication(&forged, &attacker)).await;
    // 4. Not an envelope at all.
    js.publish(real.subject.clone(), "{\"hello\":1}".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let marker = activate(&js, "marker").await;

    let (vendor, _) = Vendor::new("acme");
    let out = listen(
        &vendor,
        &server,
        &["--category", "home", "--json", "--count", "2"],
    );
    assert_eq!(
        refs(&out),
        vec![
            one(&keys, 1, "intent.activated"),
            one(&marker, 1, "intent.activated")
        ]
    );
    let err = stderr(&out);
    assert_eq!(
        err.matches("the signature does not verify").count(),
        2,
        "{err}"
    );
    assert!(err.contains("signed by another key"), "{err}");
    assert!(err.contains("not a signed relay envelope"), "{err}");
}

/// A directory listing `vendor`, signed by an operator, as the vault will hold it.
fn directory_with(id: &str, public: &serde_json::Value) -> Directory {
    let operator = SigningKey::generate();
    let mut d = Directory::empty(Utc::now());
    d.add_vendor(carnet_market::testing::directory_vendor_with_keys(
        id,
        public["ed25519"].as_str().unwrap(),
        public["x25519"].as_str().unwrap(),
    ))
    .unwrap();
    let file = d.sign(&operator, Utc::now(), chrono::Duration::days(30));
    directory::verify(
        &file.to_bytes(),
        &operator.verifying_key(),
        Utc::now(),
        None,
    )
    .unwrap()
}

#[tokio::test]
async fn an_offer_from_carnet_vendor_is_verified_and_decrypted_by_the_vault_helper_and_answered() {
    let server = NatsServer::start();
    let js = relay_with_streams(&server).await;
    let keys = activate(&js, "washer").await;
    let (vendor, public) = Vendor::new("acme");
    let dir = directory_with("acme", &public);
    let out = listen(
        &vendor,
        &server,
        &["--category", "home", "--json", "--count", "1"],
    );
    assert!(out.status.success(), "{}", stderr(&out));

    let out = run(
        vendor.cmd(
            "offer",
            &server,
            &[
                keys.intent_ref.as_str(),
                "--price",
                "649.00",
                "--currency",
                "EUR",
                "--description",
                "delivered Tuesday",
                "--json",
            ],
        ),
        LIMIT,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(made["subject"], format!("offer.v1.{}", keys.bucket));

    let stream = js.get_stream(OFFERS_STREAM).await.unwrap();
    let msg = stream
        .get_raw_message(made["stream_sequence"].as_u64().unwrap())
        .await
        .unwrap();
    let header = |name: &str| msg.headers.get(name).map(|v| v.as_str().to_owned());
    let key_of = |id: &_| dir.vendor_key(id);
    let offer = open_offer(&msg.subject, header, &msg.payload, &keys, key_of).unwrap();
    assert_eq!(offer.terms.price.as_str(), "649.00");
    assert_eq!(offer.terms.currency.as_str(), "EUR");
    assert_eq!(
        offer.terms.description.as_deref(),
        Some("delivered Tuesday")
    );
    assert_eq!(
        offer.terms.offer_id.as_str(),
        made["offer_id"].as_str().unwrap()
    );
    // The relay saw no price: the body holds only ciphertext and ids.
    assert!(!String::from_utf8_lossy(&msg.payload).contains("649"));

    // Tampered: one byte of the ciphertext changed, signature kept.
    let mut env = Signed::from_bytes(&msg.payload).unwrap();
    let (payload, _) = env.decode().unwrap();
    let mut sealed: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let ct = sealed["ciphertext"].as_str().unwrap().to_owned();
    let flipped = if ct.ends_with('A') { "B" } else { "A" };
    sealed["ciphertext"] = format!("{}{flipped}", &ct[..ct.len() - 1]).into();
    env.payload = b64(&serde_json::to_vec(&sealed).unwrap());
    let got = open_offer(&msg.subject, |_| None, &env.to_bytes(), &keys, key_of);
    assert!(matches!(got, Err(WireError::BadSignature)), "{got:?}");
    // Forged: a vendor not in the directory, and another key claiming to be acme.
    let (impostor, impostor_public) = Vendor::new("impostor");
    let other_dir = directory_with("acme", &impostor_public);
    let got = open_offer(
        &msg.subject,
        |_| None,
        &msg.payload,
        &keys,
        |id| other_dir.vendor_key(id),
    );
    assert!(matches!(got, Err(WireError::BadSignature)), "{got:?}");
    let got = open_offer(&msg.subject, |_| None, &msg.payload, &keys, |_| None);
    assert!(matches!(got, Err(WireError::UnknownSender(_))), "{got:?}");
    drop(impostor);

    // The vault answers: only the real answer, once, to an offer the vendor made, is printed.
    let acme: carnet_market::wire::VendorId = "acme".parse().unwrap();
    let acme_x25519: Recipient = dir.vendor(&acme).unwrap().x25519.parse().unwrap();
    let first_offer = offer.terms.offer_id.clone();
    let out = run(
        vendor.cmd(
            "offer",
            &server,
            &[
                keys.intent_ref.as_str(),
                "--price",
                "640",
                "--currency",
                "EUR",
                "--json",
            ],
        ),
        LIMIT,
    );
    let second: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let second_offer: OfferId = second["offer_id"].as_str().unwrap().parse().unwrap();
    // Published first, the forgery must neither count nor make JetStream drop the real answer.
    let mut forger = IntentKeys::generate();
    forger.intent_ref = keys.intent_ref.clone();
    let now = Utc::now();
    publish(
        &js,
        &forger.answer(&acme, &acme_x25519, &first_offer, Decision::Declined, now),
    )
    .await;
    publish(
        &js,
        &keys.answer(
            &acme,
            &acme_x25519,
            &OfferId::generate(),
            Decision::Accepted,
            now,
        ),
    )
    .await;
    let real = keys.answer(&acme, &acme_x25519, &first_offer, Decision::Accepted, now);
    publish(&js, &real).await;
    replay_bare(&js, &real).await;
    publish(
        &js,
        &keys.answer(&acme, &acme_x25519, &second_offer, Decision::Declined, now),
    )
    .await;
    let out = run(
        vendor.cmd("answers", &server, &["--json", "--count", "2"]),
        LIMIT,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let got: Vec<(String, String)> = lines(&out)
        .iter()
        .map(|a| {
            (
                a["offer_id"].as_str().unwrap().into(),
                a["decision"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (first_offer.to_string(), "accepted".to_owned()),
            (second_offer.to_string(), "declined".to_owned())
        ]
    );
    let err = stderr(&out);
    assert!(err.contains("the signature does not verify"), "{err}");
    assert!(err.contains("which this vendor did not make"), "{err}");
    assert!(err.contains("was answered before"), "{err}");

    // Withdrawn: the vendor's tool refuses to offer once it heard the withdrawal.
    publish(
        &js,
        &announce(&keys, 2, Event::Withdrawn, "home.appliances", "washer"),
    )
    .await;
    let out = listen(
        &vendor,
        &server,
        &["--category", "home", "--json", "--count", "1"],
    );
    assert_eq!(refs(&out), vec![one(&keys, 2, "intent.withdrawn")]);
    let out = run(
        vendor.cmd(
            "offer",
            &server,
            &[
                keys.intent_ref.as_str(),
                "--price",
                "600",
                "--currency",
                "EUR",
            ],
        ),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(1));
    assert_stderr(&out, "has ended (intent.withdrawn)");
}

#[tokio::test]
async fn an_offer_to_an_intent_never_heard_is_refused_with_a_hint() {
    let server = NatsServer::start();
    let _js = relay_with_streams(&server).await;
    let (vendor, _) = Vendor::new("acme");
    let unknown = IntentKeys::generate();
    let out = run(
        vendor.cmd(
            "offer",
            &server,
            &[
                unknown.intent_ref.as_str(),
                "--price",
                "1",
                "--currency",
                "EUR",
            ],
        ),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("no intent") && err.contains("hint: run `carnet-vendor listen`"),
        "{err}"
    );
    let out = run(
        vendor.cmd(
            "offer",
            &server,
            &[
                unknown.intent_ref.as_str(),
                "--price",
                "1,5",
                "--currency",
                "EUR",
            ],
        ),
        LIMIT,
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[tokio::test]
async fn a_revision_published_first_by_someone_else_is_reported_as_suppressed() {
    let server = NatsServer::start();
    let js = relay_with_streams(&server).await;
    let keys = IntentKeys::generate();
    let first = announce(&keys, 1, Event::Activated, "home.appliances", "sofa");
    relay::publish_new(&js, &first, LIMIT).await.unwrap();
    // The next revision's id is predictable: an attacker publishes junk under it first.
    let withdrawal = announce(&keys, 2, Event::Withdrawn, "home.appliances", "sofa");
    let mut junk = withdrawal.clone();
    junk.body = b"{}".to_vec();
    publish(&js, &junk).await;
    // The vault's first attempt is told, instead of believing its withdrawal was stored.
    let got = relay::publish_new(&js, &withdrawal, LIMIT).await;
    assert!(
        matches!(got, Err(relay::RelayError::Suppressed(ref id)) if *id == format!("{}:2", keys.intent_ref)),
        "{got:?}"
    );
}
