//! Consent at the transport, tried as an attacker would: a real nats-server 2.9 started with
//! `carnet-market nats-config`'s configuration, and clients holding the credentials `vendor-user`,
//! `vault-user` and `admin-user` issued. A vendor tries every subject and JetStream request
//! outside its own; a vault host tries another host's offers. Each refusal is asserted as NATS
//! reports it: a permissions violation naming the subject, or a JetStream error, within an
//! explicit bound (never a sleep). The positive paths run through the SDK and `relay::connect`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_nats::{Event, ServerError, jetstream};
use carnet_market::creds;
use carnet_market::relay::{self, RelayOptions};
use carnet_market::sdk::{self, Heard, ListenOptions, Listener, State};
use carnet_market::wire::Event as IntentEvent;
use carnet_market::wire::announcement::IntentKeys;
use common::{NatsServer, Vendor, announce, market_cmd, publish};
use tokio::sync::mpsc;

/// How long a refused request or a violation report may take: far more than a loopback needs.
const BOUND: Duration = Duration::from_secs(5);
/// The explicit timeout of a request expected to go unanswered.
const REFUSED_REQUEST: Duration = Duration::from_millis(500);

/// nats-server's "consumer create request did not match filtered subject from create subject".
const FILTER_MISMATCH: u64 = 10131;
/// nats-server's "consumer name in subject does not match durable name in request".
const NAME_MISMATCH: u64 = 10017;

/// The operator's directory: market.json with acme (home.appliances) and bob (garden.tools),
/// operator.key, and the credentials issued in it.
struct Market {
    dir: tempfile::TempDir,
    server: NatsServer,
    /// acme's and bob's keys and state, for `carnet-vendor`.
    vendors: Vec<Vendor>,
}

fn carnet_market(dir: &Path, args: &[&str]) -> std::process::Output {
    let out = market_cmd().current_dir(dir).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "carnet-market {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

impl Market {
    async fn start() -> Market {
        let dir = tempfile::tempdir().unwrap();
        carnet_market(dir.path(), &["keygen", "--out", "operator.key"]);
        let mut vendors = Vec::new();
        for (id, category) in [("acme", "home.appliances"), ("bob", "garden.tools")] {
            let (vendor, public) = Vendor::new(id);
            vendors.push(vendor);
            let ed = public["ed25519"].as_str().unwrap();
            let x = public["x25519"].as_str().unwrap();
            carnet_market(
                dir.path(),
                &[
                    "directory",
                    "add",
                    "--directory",
                    "market.json",
                    "--id",
                    id,
                    "--name",
                    id,
                    "--ed25519",
                    ed,
                    "--x25519",
                    x,
                    "--category",
                    category,
                ],
            );
        }
        carnet_market(
            dir.path(),
            &[
                "directory",
                "sign",
                "--directory",
                "market.json",
                "--key",
                "operator.key",
            ],
        );
        let operator_dir = dir.path().to_owned();
        let server = NatsServer::with_config(|port, store| {
            let out = carnet_market(
                &operator_dir,
                &[
                    "nats-config",
                    "--directory",
                    "market.json",
                    "--listen",
                    &format!("127.0.0.1:{port}"),
                    "--store-dir",
                    store.to_str().unwrap(),
                ],
            );
            String::from_utf8(out.stdout).unwrap()
        });
        carnet_market(dir.path(), &["admin-user", "--out", "admin.creds"]);
        carnet_market(
            dir.path(),
            &["vendor-user", "--id", "acme", "--out", "acme.creds"],
        );
        carnet_market(
            dir.path(),
            &["vendor-user", "--id", "bob", "--out", "bob.creds"],
        );
        carnet_market(
            dir.path(),
            &["vault-user", "--id", "v1", "--out", "v1.creds"],
        );
        carnet_market(
            dir.path(),
            &["vault-user", "--id", "v2", "--out", "v2.creds"],
        );
        carnet_market(
            dir.path(),
            &[
                "streams",
                "--relay",
                &server.url(),
                "--creds",
                "admin.creds",
            ],
        );
        Market {
            dir,
            server,
            vendors,
        }
    }

    fn creds(&self, name: &str) -> PathBuf {
        self.dir.path().join(format!("{name}.creds"))
    }

    /// A connection as the SDK makes it (`relay::connect`, inbox from the credentials).
    async fn sdk(&self, name: &str) -> async_nats::Client {
        relay::connect(&RelayOptions {
            url: self.server.url(),
            creds: Some(self.creds(name)),
            name: format!("test {name}"),
            wait_for_relay: false,
            inbox_prefix: None,
        })
        .await
        .unwrap()
    }

    /// A connection whose server errors the test reads: the attacker's.
    async fn probe(&self, name: &str) -> Probe {
        let (tx, errors) = mpsc::unbounded_channel();
        let path = self.creds(name);
        let prefix = creds::identity_of(&path)
            .unwrap()
            .and_then(|i| i.inbox_prefix())
            .unwrap();
        let client = async_nats::ConnectOptions::with_credentials_file(path)
            .await
            .unwrap()
            .custom_inbox_prefix(prefix)
            .event_callback(move |event| {
                let tx = tx.clone();
                async move {
                    if let Event::ServerError(ServerError::Other(e)) = event {
                        let _ = tx.send(e.to_lowercase());
                    }
                }
            })
            .connect(self.server.url())
            .await
            .unwrap();
        Probe { client, errors }
    }
}

struct Probe {
    client: async_nats::Client,
    errors: mpsc::UnboundedReceiver<String>,
}

impl Probe {
    /// Waits for the server's permissions violation for `what` ("publish"/"subscription") on
    /// `subject`; fails on any other error or after `BOUND`.
    async fn violation(&mut self, what: &str, subject: &str) {
        let want = format!(
            "permissions violation for {what} to \"{}\"",
            subject.to_lowercase()
        );
        let got = tokio::time::timeout(BOUND, self.errors.recv())
            .await
            .unwrap_or_else(|_| panic!("no violation reported for {what} to {subject}"))
            .unwrap();
        assert!(got.contains(&want), "expected {want:?}, got {got:?}");
    }

    async fn refused_subscribe(&mut self, subject: &str) {
        let _sub = self.client.subscribe(subject.to_owned()).await.unwrap();
        self.client.flush().await.unwrap();
        self.violation("subscription", subject).await;
    }

    async fn refused_publish(&mut self, subject: &str) {
        self.client
            .publish(subject.to_owned(), "x".into())
            .await
            .unwrap();
        self.client.flush().await.unwrap();
        self.violation("publish", subject).await;
    }

    /// A request the server must drop: never answered within the explicit timeout, and
    /// reported as a publish violation.
    async fn refused_request(&mut self, subject: &str, body: serde_json::Value) {
        let request = self
            .client
            .request(subject.to_owned(), body.to_string().into());
        let answer = tokio::time::timeout(REFUSED_REQUEST, request).await;
        assert!(
            !matches!(answer, Ok(Ok(_))),
            "{subject} was answered: {answer:?}"
        );
        self.violation("publish", subject).await;
    }

    /// A request the permissions let through but JetStream must refuse: its answer is an error,
    /// whose `err_code` is returned.
    async fn jetstream_error(&mut self, subject: &str, body: serde_json::Value) -> u64 {
        let answer = tokio::time::timeout(
            BOUND,
            self.client
                .request(subject.to_owned(), body.to_string().into()),
        )
        .await
        .unwrap()
        .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&answer.payload).unwrap();
        assert!(json["error"].is_object(), "{subject} was accepted: {json}");
        json["error"]["err_code"].as_u64().unwrap()
    }
}

fn pull_config(name: &str, filter: &str) -> serde_json::Value {
    serde_json::json!({
        "stream_name": "INTENTS",
        "config": {
            "durable_name": name, "filter_subject": filter,
            "deliver_policy": "all", "ack_policy": "explicit",
        },
    })
}

/// Announces an intent in `category` as a vault host does, with the admin's connection.
async fn announce_in(js: &jetstream::Context, category: &str) -> IntentKeys {
    let keys = IntentKeys::generate();
    publish(
        js,
        &announce(&keys, 1, IntentEvent::Activated, category, "t"),
    )
    .await;
    keys
}

#[tokio::test]
async fn a_vendor_reads_its_own_category_and_publishes_offers_and_nothing_else() {
    let market = Market::start().await;
    let admin = jetstream::new(market.sdk("admin").await);
    let garden = announce_in(&admin, "garden.tools").await;
    let home = announce_in(&admin, "home.appliances").await;

    // Through the SDK with its credentials: its category's announcement arrives, the other's
    // never does (it is the first and only one heard).
    let js = jetstream::new(market.sdk("acme").await);
    let state_dir = tempfile::tempdir().unwrap();
    let options = ListenOptions {
        vendor: "acme".parse().unwrap(),
        categories: vec!["home.appliances".into()],
        region: None,
        since: None,
        ack_wait: Duration::from_secs(30),
    };
    let state = State::open(state_dir.path()).unwrap();
    let mut listener = Listener::start(&js, &options, state, |_| {}).await.unwrap();
    let heard = tokio::time::timeout(BOUND, listener.next()).await.unwrap();
    match heard.unwrap().unwrap() {
        Heard::Intent(a) => assert_eq!(a.announcement.intent_ref, home.intent_ref),
        other => panic!("{other:?}"),
    }
    assert_ne!(home.intent_ref, garden.intent_ref);
    let answers = sdk::answers::AnswerListener::start(
        &js,
        &"acme".parse().unwrap(),
        carnet_market::keys::Identity::generate(),
        State::open(state_dir.path()).unwrap(),
        |_| {},
    )
    .await;
    assert!(answers.is_ok(), "its answers consumer was refused");

    // An offer is published and acknowledged by JetStream (through its own inbox).
    let ack = js
        .publish("offer.v1.v1.bucket", "offer".into())
        .await
        .unwrap();
    let ack = tokio::time::timeout(BOUND, ack).await.unwrap().unwrap();
    assert_eq!(ack.stream, "OFFERS");

    let mut acme = market.probe("acme").await;
    for subject in [
        "icast.v1.garden.tools.>",
        "icast.v1.>",
        "icast.v1.home.*.*",
        "offer.v1.>",
        "answer.v1.>",
        "answer.v1.bob",
        "_INBOX_bob.>",
        "_INBOX_vault_v1.>",
        "_INBOX.>",
        "$JS.>",
        ">",
    ] {
        acme.refused_subscribe(subject).await;
    }
    for subject in [
        "icast.v1.home.appliances.FR-75",
        "answer.v1.bob",
        "answer.v1.acme",
    ] {
        acme.refused_publish(subject).await;
    }
    for stream in ["INTENTS", "OFFERS", "ANSWERS"] {
        let last = serde_json::json!({"last_by_subj": "icast.v1.garden.tools.FR-75"});
        acme.refused_request(&format!("$JS.API.DIRECT.GET.{stream}"), last.clone())
            .await;
        acme.refused_request(
            &format!("$JS.API.DIRECT.GET.{stream}.icast.v1.garden.tools.FR-75"),
            serde_json::json!({}),
        )
        .await;
        acme.refused_request(&format!("$JS.API.STREAM.MSG.GET.{stream}"), last)
            .await;
        acme.refused_request(
            &format!("$JS.API.STREAM.INFO.{stream}"),
            serde_json::json!({}),
        )
        .await;
    }
    // Nor may it change the streams.
    for subject in [
        "$JS.API.STREAM.CREATE.MINE",
        "$JS.API.STREAM.DELETE.INTENTS",
        "$JS.API.STREAM.PURGE.ANSWERS",
        "$JS.API.STREAM.UPDATE.OFFERS",
        "$JS.API.STREAM.LIST",
        "$JS.API.CONSUMER.LIST.INTENTS",
        "$JS.API.CONSUMER.NAMES.INTENTS",
    ] {
        acme.refused_request(subject, serde_json::json!({})).await;
    }
    let other = "icast.v1.garden.tools.*";
    // A consumer on another category: by bob's name with bob's filter, by its own name with
    // another filter in the subject, the legacy ephemeral and durable forms.
    for subject in [
        format!("$JS.API.CONSUMER.CREATE.INTENTS.bob_garden_tools.{other}"),
        format!("$JS.API.CONSUMER.CREATE.INTENTS.acme_home_appliances.{other}"),
        format!("$JS.API.CONSUMER.CREATE.INTENTS.acme_garden_tools.{other}"),
        "$JS.API.CONSUMER.CREATE.INTENTS.acme_home_appliances".to_owned(),
        "$JS.API.CONSUMER.CREATE.INTENTS".to_owned(),
        "$JS.API.CONSUMER.DURABLE.CREATE.INTENTS.acme_home_appliances".to_owned(),
        "$JS.API.CONSUMER.CREATE.OFFERS.acme_home_appliances.offer.v1.>".to_owned(),
    ] {
        let name = subject.split('.').nth(5).unwrap_or("x").to_owned();
        acme.refused_request(&subject, pull_config(&name, other))
            .await;
    }
    // The allowed subject, with another category in the body: JetStream itself refuses it.
    let allowed = "$JS.API.CONSUMER.CREATE.INTENTS.acme_home_appliances.icast.v1.home.appliances.*";
    assert_eq!(
        acme.jetstream_error(allowed, pull_config("acme_home_appliances", other))
            .await,
        FILTER_MISMATCH
    );
    // The allowed subject naming another vendor's consumer in the body: refused too.
    let named = pull_config("bob_garden_tools", "icast.v1.home.appliances.*");
    assert_eq!(acme.jetstream_error(allowed, named).await, NAME_MISMATCH);
    // Bob's consumer exists; acme may not pull from it, read it, delete it, nor ack on it.
    let bob = jetstream::new(market.sdk("bob").await);
    let bob_options = ListenOptions {
        vendor: "bob".parse().unwrap(),
        categories: vec!["garden.tools".into()],
        ..options
    };
    let bob_state = tempfile::tempdir().unwrap();
    let mut bob_listener = Listener::start(
        &bob,
        &bob_options,
        State::open(bob_state.path()).unwrap(),
        |_| {},
    )
    .await
    .unwrap();
    let heard = tokio::time::timeout(BOUND, bob_listener.next())
        .await
        .unwrap();
    assert!(
        matches!(heard.unwrap().unwrap(), Heard::Intent(a) if a.announcement.intent_ref == garden.intent_ref)
    );
    for verb in ["MSG.NEXT", "INFO", "DELETE"] {
        acme.refused_request(
            &format!("$JS.API.CONSUMER.{verb}.INTENTS.bob_garden_tools"),
            serde_json::json!({"batch": 1}),
        )
        .await;
    }
    acme.refused_publish("$JS.ACK.INTENTS.bob_garden_tools.1.1.1.1.1.0")
        .await;
    acme.refused_request(
        "$JS.API.CONSUMER.MSG.NEXT.ANSWERS.bob_answers",
        serde_json::json!({"batch": 1}),
    )
    .await;
    acme.refused_request(
        "$JS.API.CONSUMER.CREATE.ANSWERS.acme_answers.answer.v1.bob",
        serde_json::json!({"stream_name": "ANSWERS", "config": {
            "durable_name": "acme_answers", "filter_subject": "answer.v1.bob",
            "ack_policy": "explicit"}}),
    )
    .await;
    // Nothing it tried left a violation unreported or reported one it was allowed.
    assert!(acme.errors.try_recv().is_err());
}

#[tokio::test]
async fn a_vault_host_reads_only_its_own_offers_and_publishes_only_announcements_and_answers() {
    let market = Market::start().await;
    let vendor = jetstream::new(market.sdk("acme").await);
    for subject in ["offer.v1.v2.theirs", "offer.v1.v1.mine"] {
        let ack = vendor.publish(subject, subject.into()).await.unwrap();
        tokio::time::timeout(BOUND, ack).await.unwrap().unwrap();
    }

    // Its own consumer, as carnetd makes it: only the offer to its own bucket arrives.
    let v1 = jetstream::new(market.sdk("v1").await);
    let stream = sdk::stream_handle(&v1, "OFFERS").await.unwrap();
    let mut offers = sdk::consume(
        &stream,
        &carnet_market::access::vault_consumer(&"v1".parse().unwrap()),
        "offer.v1.v1.>",
        async_nats::jetstream::consumer::DeliverPolicy::All,
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    use futures_util::StreamExt;
    let first = tokio::time::timeout(BOUND, offers.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.subject.as_str(), "offer.v1.v1.mine");
    first.ack().await.unwrap();
    // It may announce and answer (PubAck'ed through its inbox), and check the streams.
    let ack = v1.publish("answer.v1.acme", "answer".into()).await.unwrap();
    tokio::time::timeout(BOUND, ack).await.unwrap().unwrap();
    assert!(v1.get_stream("INTENTS").await.is_ok());
    // carnetd's check of the streams at its start passes with a vault host's credentials (the
    // operator made them with the same age).
    let ninety_days = Duration::from_secs(90 * 86_400);
    relay::ensure_streams(&v1, relay::StreamSettings::for_longest_window(ninety_days))
        .await
        .unwrap();

    let mut host = market.probe("v1").await;
    for subject in [
        "icast.v1.>",
        "icast.v1.home.appliances.*",
        "offer.v1.>",
        "offer.v1.v2.>",
        "answer.v1.>",
        "_INBOX_vault_v2.>",
        "_INBOX_acme.>",
        "$JS.>",
    ] {
        host.refused_subscribe(subject).await;
    }
    host.refused_publish("offer.v1.v1.forged").await;
    host.refused_publish("$JS.ACK.OFFERS.vault_v2.1.1.1.1.1.0")
        .await;
    let offers_config = |name: &str, filter: &str| {
        serde_json::json!({"stream_name": "OFFERS", "config": {
            "durable_name": name, "filter_subject": filter, "ack_policy": "explicit"}})
    };
    for (subject, name, filter) in [
        (
            "$JS.API.CONSUMER.CREATE.OFFERS.vault_v2.offer.v1.v2.>",
            "vault_v2",
            "offer.v1.v2.>",
        ),
        (
            "$JS.API.CONSUMER.CREATE.OFFERS.vault_v1.offer.v1.v2.>",
            "vault_v1",
            "offer.v1.v2.>",
        ),
        (
            "$JS.API.CONSUMER.CREATE.OFFERS.vault_v1.offer.v1.>",
            "vault_v1",
            "offer.v1.>",
        ),
        ("$JS.API.CONSUMER.CREATE.OFFERS", "", "offer.v1.>"),
        ("$JS.API.CONSUMER.MSG.NEXT.OFFERS.vault_v2", "", ""),
        (
            "$JS.API.CONSUMER.CREATE.INTENTS.vault_v1.icast.v1.>",
            "vault_v1",
            "icast.v1.>",
        ),
        ("$JS.API.DIRECT.GET.OFFERS", "", ""),
        ("$JS.API.STREAM.MSG.GET.OFFERS", "", ""),
        ("$JS.API.STREAM.DELETE.OFFERS", "", ""),
        ("$JS.API.STREAM.UPDATE.INTENTS", "", ""),
        ("$JS.API.STREAM.CREATE.MINE", "", ""),
        ("$JS.API.CONSUMER.LIST.OFFERS", "", ""),
    ] {
        host.refused_request(subject, offers_config(name, filter))
            .await;
    }
    let other_bucket = offers_config("vault_v1", "offer.v1.v2.>");
    let own_subject = "$JS.API.CONSUMER.CREATE.OFFERS.vault_v1.offer.v1.v1.>";
    assert_eq!(
        host.jetstream_error(own_subject, other_bucket).await,
        FILTER_MISMATCH
    );
    assert!(host.errors.try_recv().is_err());
}

#[tokio::test]
async fn carnet_vendor_listens_and_offers_with_its_credentials() {
    let market = Market::start().await;
    let admin = jetstream::new(market.sdk("admin").await);
    announce_in(&admin, "garden.tools").await;
    let home = announce_in(&admin, "home.appliances").await;
    let acme = &market.vendors[0];
    let creds = market.creds("acme");
    let creds = creds.to_str().unwrap();
    // `home` stands for its directory categories under home: the only consumer it may make.
    let args = [
        "--creds",
        creds,
        "--category",
        "home",
        "--json",
        "--count",
        "1",
    ];
    let out = common::run(acme.cmd("listen", &market.server, &args), BOUND * 4);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let heard: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(heard["intent_ref"], home.intent_ref.to_string());
    let intent_ref = home.intent_ref.to_string();
    let args = [
        "--creds",
        creds,
        &intent_ref,
        "--price",
        "649.00",
        "--currency",
        "EUR",
    ];
    let out = common::run(acme.cmd("offer", &market.server, &args), BOUND * 4);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A first-level category it has nothing under is refused before the relay is asked.
    let args = ["--creds", creds, "--category", "garden", "--count", "1"];
    let out = common::run(acme.cmd("listen", &market.server, &args), BOUND * 4);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("category garden has none of your directory categories"),
        "{err}"
    );
}

#[test]
fn the_operator_commands_refuse_mistakes_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let out = market_cmd()
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run(&["vault-user", "--id", "v1", "--out", "v1.creds"]);
    assert!(err.contains("no operator key at operator.key"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    carnet_market(dir.path(), &["keygen", "--out", "operator.key"]);
    let err = run(&["vault-user", "--id", "Dupont.Family", "--out", "v1.creds"]);
    assert!(
        err.contains("vault host 'Dupont.Family' is not valid"),
        "{err}"
    );
    let err = run(&["vendor-user", "--id", "acme", "--out", "acme.creds"]);
    assert!(
        err.contains("cannot read the directory market.json"),
        "{err}"
    );
    let err = run(&["nats-config"]);
    assert!(err.contains("market.json"), "{err}");
    carnet_market(
        dir.path(),
        &["vault-user", "--id", "v1", "--out", "v1.creds"],
    );
    let err = run(&["vault-user", "--id", "v1", "--out", "v1.creds"]);
    assert!(err.contains("v1.creds exists already"), "{err}");
    assert_eq!(
        creds::host_of(&dir.path().join("v1.creds"))
            .unwrap()
            .map(|h| h.to_string()),
        Some("v1".to_owned())
    );
}
