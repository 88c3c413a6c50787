//! Announcing intents on the market relay, with a real carnetd and a real `carnet-vendor
//! listen`: an intent at `relay announce` reaches every vendor subscribed to its category and no
//! other; nothing but category, region, window and the fields named public leaves the vault
//! (read on the relay itself, as its operator could); withdrawal goes out as a last event; and
//! a crash of carnetd and of the relay between the change and JetStream's PubAck loses nothing.

use carnet_tests::market::{Market, REGION};
use carnet_tests::{Carnetd, TestServer};
use serde_json::Value;

fn market() -> Market {
    Market::start(&[
        ("acme", &["home.appliances"]),
        ("greenhands", &["home.garden"]),
    ])
}

/// A market and a carnetd on it (keep the data directory while carnetd runs).
fn running() -> (Market, tempfile::TempDir, Carnetd) {
    let market = market();
    let data = tempfile::tempdir().unwrap();
    let carnetd = market.carnetd(data.path());
    (market, data, carnetd)
}

/// `carnet intent new` with `args`, activated, as JSON.
fn announce(carnetd: &Carnetd, args: &[&str]) -> Value {
    let mut all = vec!["--json", "intent", "new", "--activate"];
    all.extend_from_slice(args);
    carnetd.carnet(&all).ok().json()
}

/// An active intent at `relay announce` in `category`, its title public.
fn announce_titled(carnetd: &Carnetd, category: &str, title: &str) -> Value {
    announce(
        carnetd,
        &[
            "--category",
            category,
            "--title",
            title,
            "--relay",
            "announce",
            "--public",
            "title",
        ],
    )
}

/// The signed envelope's payload (base64url), as text.
pub(crate) fn payload(body: &str) -> String {
    let signed: Value = serde_json::from_str(body).unwrap();
    let bytes = data_encoding::BASE64URL_NOPAD
        .decode(signed["payload"].as_str().unwrap().as_bytes())
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn an_announced_intent_reaches_the_vendors_of_its_category_and_no_other() {
    let (market, _data, carnetd) = running();
    let out = carnetd.carnet(&[
        "intent",
        "new",
        "--category",
        "home.appliances.washing-machine",
        "--title",
        "Washing machine",
        "--relay",
        "announce",
        "--public",
        "title",
        "--activate",
    ]);
    out.ok();
    // Said plainly, before anything goes out.
    assert!(
        out.stderr
            .contains("every vendor on the market relay subscribed to")
            && out.stderr.contains("with no grant from you"),
        "{}",
        out.stderr
    );
    // And once active, it does not claim that no vendor sees it.
    assert!(
        out.stderr.contains("announced on the market relay")
            && !out.stderr.contains("none sees it"),
        "{}",
        out.stderr
    );
    announce_titled(&carnetd, "home.garden.mower", "Lawn mower");
    let acme = market.listen("acme", 1, &["--category", "home.appliances"]);
    assert_eq!(acme[0]["event"], "intent.activated");
    assert_eq!(acme[0]["category"], "home.appliances");
    assert_eq!(acme[0]["region"], REGION);
    assert_eq!(acme[0]["public"]["title"], "Washing machine");
    // The garden vendor hears the garden intent first: the appliances one never reached it
    // (a listener starts from every live intent of its categories, oldest first).
    let garden = market.listen("greenhands", 1, &["--category", "home.garden"]);
    assert_eq!(garden[0]["public"]["title"], "Lawn mower");
    assert_eq!(garden[0]["category"], "home.garden");
    assert_ne!(garden[0]["intent_ref"], acme[0]["intent_ref"]);
}

#[test]
fn nothing_but_the_window_the_category_the_region_and_the_public_fields_leaves_the_vault() {
    let (market, _data, carnetd) = running();
    let intent = announce(
        &carnetd,
        &[
            "--category",
            "home.appliances.washing-machine",
            "--title",
            "Washing machine",
            "--description",
            "quiet-one-for-the-flat-above",
            "--max-price",
            "713",
            "--currency",
            "EUR",
            "--quantity",
            "2",
            "--area",
            "Rue-des-Secrets-12",
            "--withhold",
            "description",
            "--purpose",
            "purpose-not-for-the-market",
            "--relay",
            "announce",
            "--public",
            "quantity",
        ],
    );
    let heard = market.listen("acme", 1, &["--category", "home.appliances"]);
    let public = heard[0]["public"].as_object().unwrap();
    assert_eq!(
        public.keys().collect::<Vec<_>>(),
        ["quantity"],
        "{public:?}"
    );
    assert_eq!(public["quantity"], 2);
    let id = intent["id"].as_str().unwrap();
    let on_relay = market.intents_on_the_relay();
    assert_eq!(on_relay.len(), 1, "{on_relay:?}");
    for (subject, headers, body) in &on_relay {
        let all = format!("{subject}\n{headers}\n{body}");
        let payload = payload(body);
        for secret in [
            "Washing machine",
            "quiet-one-for-the-flat-above",
            "713",
            "Rue-des-Secrets-12",
            "purpose-not-for-the-market",
            "washing-machine",
            id,
        ] {
            assert!(
                !all.contains(secret) && !payload.contains(secret),
                "{secret:?} left the vault: {all}\n{payload}"
            );
        }
    }
}

#[test]
fn announce_is_refused_with_a_reason_when_it_cannot_hold() {
    let (_market, _data, carnetd) = running();
    let new = |extra: &[&str]| {
        let mut args = vec![
            "intent",
            "new",
            "--category",
            "home.appliances",
            "--title",
            "Washer",
        ];
        args.extend_from_slice(extra);
        carnetd.carnet(&args)
    };
    let withheld = new(&[
        "--description",
        "d",
        "--withhold",
        "description",
        "--relay",
        "announce",
        "--public",
        "description",
    ]);
    assert_ne!(withheld.code, 0);
    assert!(
        withheld
            .stderr
            .contains("description is withheld by the intent's terms"),
        "{}",
        withheld.stderr
    );
    let far = (chrono::Utc::now() + chrono::Duration::days(150))
        .date_naive()
        .to_string();
    let too_long = new(&["--until", &far, "--relay", "announce"]);
    assert_ne!(too_long.code, 0);
    assert!(
        too_long.stderr.contains("at most 90 days"),
        "{}",
        too_long.stderr
    );
    let one_level = carnetd.carnet(&[
        "intent",
        "new",
        "--category",
        "home",
        "--title",
        "x",
        "--relay",
        "announce",
    ]);
    assert_ne!(one_level.code, 0);
    assert!(
        one_level.stderr.contains("two levels"),
        "{}",
        one_level.stderr
    );
    // A server without a relay refuses announce rather than keeping it silently.
    let plain = TestServer::spawn();
    let refused = plain.carnet(&[
        "intent",
        "new",
        "--category",
        "home.appliances",
        "--title",
        "Washer",
        "--relay",
        "announce",
    ]);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("no market relay"),
        "{}",
        refused.stderr
    );
    let none = plain.carnet(&["--json", "intent", "list"]).ok().json();
    assert_eq!(none.as_array().unwrap().len(), 0, "nothing kept: {none}");
}

#[test]
fn a_withdrawal_is_the_intents_last_announcement_and_a_replay_changes_nothing() {
    let (market, _data, carnetd) = running();
    let intent = announce(
        &carnetd,
        &[
            "--category",
            "home.appliances",
            "--title",
            "Washer",
            "--relay",
            "announce",
        ],
    );
    let id = intent["id"].as_str().unwrap();
    let first = market.listen("acme", 1, &["--category", "home.appliances"]);
    assert_eq!(first[0]["event"], "intent.activated");
    // Someone on the relay replays the activation under another message id: the vendor drops
    // it (it hears the withdrawal next, not the replay).
    let (subject, _, body) = market.intents_on_the_relay().remove(0);
    market.publish_raw(&subject, "replay-1", body.as_bytes());
    carnetd.carnet(&["intent", "withdraw", id]).ok();
    let next = market.listen("acme", 1, &["--category", "home.appliances"]);
    assert_eq!(next[0]["event"], "intent.withdrawn");
    assert_eq!(next[0]["intent_ref"], first[0]["intent_ref"]);
    assert_eq!(next[0]["revision"], 2);
    // Replayed after the withdrawal, it cannot revive the intent: the next thing the vendor
    // hears is another intent.
    market.publish_raw(&subject, "replay-2", body.as_bytes());
    announce_titled(&carnetd, "home.appliances", "Dryer");
    let last = market.listen("acme", 1, &["--category", "home.appliances"]);
    assert_eq!(last[0]["public"]["title"], "Dryer");
    assert_ne!(last[0]["intent_ref"], first[0]["intent_ref"]);
}

#[test]
fn an_intent_taken_off_the_relay_is_withdrawn_from_the_market_and_cannot_be_announced_again() {
    let (market, _data, carnetd) = running();
    let intent = announce_titled(&carnetd, "home.appliances", "Washer");
    let id = intent["id"].as_str().unwrap();
    carnetd
        .carnet(&[
            "intent",
            "edit",
            id,
            "--relay",
            "off",
            "--title",
            "Washer, quietly",
        ])
        .ok();
    // Back on announce: refused, the market's intent ended; nothing more goes out under its ref.
    let again = carnetd.carnet(&["intent", "edit", id, "--relay", "announce"]);
    assert_ne!(again.code, 0);
    assert!(
        again.stderr.contains("write a new intent"),
        "{}",
        again.stderr
    );
    let shown = carnetd
        .carnet(&["--json", "intent", "show", id])
        .ok()
        .json();
    assert!(shown.get("relay").is_none(), "still off: {shown}");
    let heard = market.listen("acme", 2, &["--category", "home.appliances"]);
    assert_eq!(heard[1]["event"], "intent.withdrawn");
    assert!(heard[1]["public"].get("title").is_none(), "{}", heard[1]);
    let on_relay = market.intents_on_the_relay();
    assert_eq!(on_relay.len(), 2, "{on_relay:?}");
    assert!(
        on_relay
            .iter()
            .all(|(_, _, body)| !payload(body).contains("quietly")),
        "{on_relay:?}"
    );
}

#[test]
fn a_crash_of_carnetd_and_of_the_relay_before_the_puback_loses_nothing() {
    let mut market = market();
    let data = tempfile::tempdir().unwrap();
    let carnetd = market.carnetd(data.path());
    // The relay goes down: the change commits, its announcement waits in the outbox.
    market.nats.stop();
    let intent = announce_titled(&carnetd, "home.appliances", "Washer");
    assert_eq!(intent["state"], "active");
    carnetd.kill();
    market.nats.restart();
    let carnetd = market.carnetd(data.path());
    let heard = market.listen("acme", 1, &["--category", "home.appliances"]);
    assert_eq!(heard[0]["public"]["title"], "Washer");
    assert_eq!(heard[0]["revision"], 1);
    // Published once, however many attempts it took.
    assert_eq!(market.intents_on_the_relay().len(), 1);
    drop(carnetd);
}
