//! Reminders that reach the owner: each channel against a real local server started here (a
//! webhook receiver that checks the signature, an ntfy-compatible receiver, an SMTP sink), the
//! secret shown once and never again, what leaves the vault with and without `details`,
//! retries on the injected clock, giving up, a restart between queueing and delivery, the
//! export, and bad input.

use std::time::{Duration, Instant};

use carnet_core::notify::{self, Item, Message};
use carnet_schemas::NotifyEvent;
use carnet_tests::ntfy::Ntfy;
use carnet_tests::smtp::Smtp;
use carnet_tests::webhook::{Mode, Receiver};
use carnet_tests::{Api, TestServer};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, 7).unwrap()
}

/// Three late promises, with the details a `--details` channel may see.
fn late_promises() -> Message {
    Message {
        digest: false,
        items: vec![Item {
            event: NotifyEvent::PromiseLate,
            count: 3,
            date: day(),
            details: vec!["Acme Appliances: refund the delivery fee".into()],
        }],
    }
}

fn add(s: &TestServer, body: Value) -> Value {
    let r = s.post("/v1/notify/channels", &body);
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

/// Adds a channel; its id.
fn add_id(s: &TestServer, body: Value) -> String {
    add(s, body)["id"].as_str().unwrap().to_owned()
}

/// Adds a webhook channel to `hook`; its id and secret.
fn webhook(s: &TestServer, hook: &Receiver) -> (String, String) {
    let created = add(s, json!({"kind": "webhook", "url": hook.url}));
    let text = |k: &str| created[k].as_str().unwrap().to_owned();
    (text("id"), text("secret"))
}

/// Queues `message` for `channel` at `at` as the scheduler does (its own write transaction,
/// then the poke).
fn queue(s: &TestServer, channel: &str, message: Message, at: DateTime<Utc>) {
    let state = s.state();
    let (keys, channel) = (state.keys.clone(), channel.to_owned());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(
        state
            .store
            .write(move |c| notify::queue(c, &keys, &channel, &message, at)),
    )
    .unwrap();
    state.notify_wake.notify_one();
}

fn channel(s: &TestServer, id: &str) -> Value {
    let r = s.get(&format!("/v1/notify/channels/{id}"));
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()
}

/// Polls the channel until `done` holds for it (the server's view of its deliveries).
#[track_caller]
fn wait_channel(s: &TestServer, id: &str, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let c = channel(s, id);
        if done(&c) {
            return c;
        }
        assert!(
            Instant::now() < deadline,
            "waited a minute for {what}: {c:#}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Returns once the worker has made a full pass at the clock's current time: each pass takes
/// every due row in one read and settles them all before the next read, so when a second
/// message queued now to another channel has arrived, every row due at the first one's read
/// has been tried. What was not delivered by then was not due (an ordering barrier, not a
/// sleep).
fn worker_pass(s: &TestServer) {
    let witness = Receiver::start();
    let id = add_id(s, json!({"kind": "webhook", "url": witness.url}));
    for n in 1..=2 {
        queue(s, &id, late_promises(), s.clock_now());
        witness.wait_accepted(n);
    }
}

fn patch(s: &TestServer, path: &str, body: &Value) -> carnet_tests::Resp {
    s.send("PATCH", path, Some(body))
}

fn last(c: &Value) -> &Value {
    &c["last_delivery"]
}

#[test]
fn a_webhook_channel_shows_its_secret_once_and_signs_every_delivery_with_it() {
    let s = TestServer::spawn();
    let hook = Receiver::start();
    let created = add(&s, json!({"kind": "webhook", "url": hook.url}));
    let id = created["id"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"), "{created:#}");
    assert!(id.starts_with("nch_"));
    assert_eq!(created["has_secret"], true);
    assert_eq!(created["timing"], "at_once");
    assert_eq!(
        created["events"].as_array().unwrap().len(),
        NotifyEvent::ALL.len()
    );

    // Never again: not in the listing, not in the channel, not in the test's answer.
    for path in [
        "/v1/notify/channels".to_owned(),
        format!("/v1/notify/channels/{id}"),
    ] {
        let r = s.get(&path);
        assert_eq!(r.status, 200);
        assert!(
            !r.text.contains(&secret[6..]),
            "{path} shows the secret: {}",
            r.text
        );
    }
    let t = s.post(&format!("/v1/notify/channels/{id}/test"), &json!({}));
    assert_eq!(t.status, 200, "{}", t.text);
    assert_eq!(t.json()["delivered"], true, "{}", t.text);
    assert_eq!(t.json()["status"], 204);
    assert!(!t.text.contains(&secret[6..]));

    let got = hook.wait_accepted(1);
    assert!(
        got[0].signed_with(&secret),
        "the test is signed with the secret shown"
    );
    assert_eq!(got[0].event(), "reminder.test");
    assert_eq!(got[0].json()["data"]["items"], json!([]));

    // A queued reminder: signed too, its webhook-id the outbox row's, kind/count/date only.
    queue(&s, &id, late_promises(), s.clock_now());
    let got = hook.wait_accepted(2);
    let d = &got[1];
    assert!(d.signed_with(&secret));
    assert!(d.id.starts_with("msg_") && d.id != got[0].id);
    assert_eq!(d.event(), "reminder");
    assert_eq!(
        d.json()["data"],
        json!({"items": [{"event": "promise_late", "count": 3, "date": "2026-12-07"}]})
    );
    assert!(!d.body.contains("Acme"));
    let c = wait_channel(&s, &id, "the delivery recorded", |c| {
        c["pending"] == 0 && last(c)["ok"] == true && last(c)["attempts"] == 1
    });
    assert_eq!(last(&c)["state"], "delivered");
}

#[test]
fn an_ntfy_channel_publishes_title_and_lines_to_its_topic_with_its_token() {
    let s = TestServer::spawn();
    let ntfy = Ntfy::start();
    let token = "tk_7Yq2mR9xLp0e";
    let created = add(
        &s,
        json!({"kind": "ntfy", "url": format!("{}/carnet-home", ntfy.base), "token": token,
               "events": ["promise_late", "followup_due"]}),
    );
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(
        created["warnings"],
        json!([]),
        "a loopback ntfy is not public"
    );
    assert!(
        created.get("secret").is_none(),
        "an ntfy channel has no secret to show"
    );
    assert_eq!(created["events"], json!(["followup_due", "promise_late"]));
    let listed = s.get("/v1/notify/channels");
    assert!(!listed.text.contains(token), "{}", listed.text);

    queue(&s, &id, late_promises(), s.clock_now());
    let got = ntfy.wait_for(1);
    let p = &got[0];
    assert_eq!(
        (p.method.as_str(), p.path.as_str()),
        ("POST", "/carnet-home")
    );
    assert_eq!(p.headers["authorization"], format!("Bearer {token}"));
    assert_eq!(p.headers["title"], "Carnet: 3 promises late");
    assert_eq!(p.headers["tags"], "bell");
    assert_eq!(p.body, "3 promises late · 2026-12-07");

    let t = s.post(&format!("/v1/notify/channels/{id}/test"), &json!({}));
    assert_eq!(t.json()["delivered"], true, "{}", t.text);
    let got = ntfy.wait_for(2);
    assert_eq!(got[1].headers["title"], "Carnet: test reminder");

    // A public server is accepted, with a warning (nothing is sent when adding it).
    let public = add(
        &s,
        json!({"kind": "ntfy", "url": "https://ntfy.sh/carnet-x"}),
    );
    let warnings = public["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{public:#}");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("anyone who guesses the topic")
    );
}

#[test]
fn an_email_channel_sends_through_a_local_smtp_server_with_its_login() {
    let s = TestServer::spawn();
    let smtp = Smtp::start();
    let password = "correct horse battery";
    let created = add(
        &s,
        json!({"kind": "email", "address": "owner@example.org", "smtp_url": smtp.url(),
               "smtp_user": "owner", "smtp_password": password, "digest_hour": 7}),
    );
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["smtp_url"], smtp.url());
    assert_eq!(
        (created["timing"].clone(), created["digest_hour"].clone()),
        (json!("digest"), json!(7))
    );
    assert!(!s.get("/v1/notify/channels").text.contains(password));

    let t = s.post(&format!("/v1/notify/channels/{id}/test"), &json!({}));
    assert_eq!(t.json()["delivered"], true, "{}", t.text);
    assert_eq!(t.json()["status"], 250);
    let mail = &smtp.wait_for(1)[0];
    assert_eq!(mail.login, Some(("owner".to_owned(), password.to_owned())));
    assert_eq!(mail.to, vec!["<owner@example.org>"]);
    assert_eq!(
        mail.header("subject").as_deref(),
        Some("Carnet: test reminder")
    );

    let mut digest = late_promises();
    digest.digest = true;
    queue(&s, &id, digest, s.clock_now());
    let mail = &smtp.wait_for(2)[1];
    assert_eq!(
        mail.header("subject").as_deref(),
        Some("Carnet: the day's reminders (1)")
    );
    assert!(mail.body().contains("3 promises late"), "{}", mail.data);
    assert!(
        !mail.data.contains("Acme"),
        "no details on this channel: {}",
        mail.data
    );
}

#[test]
fn reminders_carry_details_only_on_channels_that_opted_in() {
    let s = TestServer::spawn();
    let ntfy = Ntfy::start();
    let plain = add(
        &s,
        json!({"kind": "ntfy", "url": format!("{}/plain", ntfy.base)}),
    );
    let detailed = add(
        &s,
        json!({"kind": "ntfy", "url": format!("{}/detailed", ntfy.base), "details": true}),
    );
    // The scheduler fills details for `details` channels only; the renderer drops them for
    // the others anyway: queue the same message, details included, to both.
    queue(
        &s,
        plain["id"].as_str().unwrap(),
        late_promises(),
        s.clock_now(),
    );
    queue(
        &s,
        detailed["id"].as_str().unwrap(),
        late_promises(),
        s.clock_now(),
    );
    let got = ntfy.wait_for(2);
    let body = |path: &str| got.iter().find(|p| p.path == path).unwrap().body.clone();
    assert_eq!(body("/plain"), "3 promises late · 2026-12-07");
    assert_eq!(
        body("/detailed"),
        "3 promises late · 2026-12-07\n  - Acme Appliances: refund the delivery fee"
    );
}

#[test]
fn a_receiver_that_is_down_is_retried_with_back_off_on_the_clock() {
    let s = TestServer::spawn_with_manual_clock();
    let hook = Receiver::start();
    let id = add_id(&s, json!({"kind": "webhook", "url": hook.url}));
    hook.down();
    queue(&s, &id, late_promises(), s.clock_now());
    let c = wait_channel(&s, &id, "a failed attempt", |c| last(c)["attempts"] == 1);
    assert_eq!(
        (last(&c)["ok"].clone(), last(&c)["state"].clone()),
        (json!(false), json!("pending"))
    );
    assert_eq!(last(&c)["error"], "connect");
    assert_eq!(c["pending"], 1);

    // Not before its back-off: the clock has not moved, so no second attempt.
    hook.up();
    worker_pass(&s);
    assert!(hook.deliveries().is_empty(), "retried before its back-off");
    s.clock.advance(chrono::Duration::seconds(2));
    hook.wait_accepted(1);
    let c = wait_channel(&s, &id, "the retry delivered", |c| last(c)["ok"] == true);
    assert_eq!(
        (last(&c)["attempts"].clone(), c["pending"].clone()),
        (json!(2), json!(0))
    );
}

#[test]
fn a_receiver_that_keeps_failing_is_given_up_after_three_days() {
    let s = TestServer::spawn_with_manual_clock();
    let hook = Receiver::with_mode(Mode::Fail(500));
    let id = add_id(&s, json!({"kind": "webhook", "url": hook.url}));
    queue(&s, &id, late_promises(), s.clock_now());
    let c = wait_channel(&s, &id, "a 500", |c| last(c)["status"] == 500);
    assert_eq!(
        (last(&c)["error"].clone(), last(&c)["state"].clone()),
        (json!("status"), json!("pending"))
    );
    s.clock.advance(chrono::Duration::hours(1));
    wait_channel(&s, &id, "a second 500", |c| last(c)["attempts"] == 2);
    s.clock.advance(chrono::Duration::days(3));
    let c = wait_channel(&s, &id, "given up", |c| last(c)["state"] == "failed");
    assert_eq!(
        (c["pending"].clone(), last(&c)["attempts"].clone()),
        (json!(0), json!(3))
    );
    s.clock.advance(chrono::Duration::days(1));
    worker_pass(&s);
    assert_eq!(hook.deliveries().len(), 3, "nothing after giving up");
}

#[test]
fn a_reminder_queued_before_a_restart_is_delivered_once_after_it() {
    let s = TestServer::spawn_with_manual_clock();
    let hook = Receiver::start();
    let (id, secret) = webhook(&s, &hook);
    // Queued for an hour from now: committed, not yet due when carnetd stops.
    let at = s.clock_now() + chrono::Duration::hours(1);
    queue(&s, &id, late_promises(), at);
    assert_eq!(channel(&s, &id)["pending"], 1);
    let dir = s.stop();
    assert!(hook.deliveries().is_empty());

    let s = TestServer::restart_in_with_manual_clock(dir);
    s.clock.set(at + chrono::Duration::minutes(1));
    let got = hook.wait_accepted(1);
    assert!(got[0].signed_with(&secret));
    wait_channel(&s, &id, "delivered", |c| {
        last(c)["ok"] == true && c["pending"] == 0
    });
    s.clock.advance(chrono::Duration::hours(1));
    worker_pass(&s);
    assert_eq!(hook.deliveries().len(), 1, "delivered once");
}

#[test]
fn a_removed_channel_is_sent_nothing_more_and_is_gone() {
    let s = TestServer::spawn_with_manual_clock();
    let hook = Receiver::start();
    let id = add_id(&s, json!({"kind": "webhook", "url": hook.url}));
    queue(
        &s,
        &id,
        late_promises(),
        s.clock_now() + chrono::Duration::hours(1),
    );
    assert_eq!(s.delete(&format!("/v1/notify/channels/{id}")).status, 204);
    s.clock.advance(chrono::Duration::hours(2));
    worker_pass(&s);
    assert!(hook.deliveries().is_empty());
    for (status, r) in [
        (404, s.get(&format!("/v1/notify/channels/{id}"))),
        (404, s.delete(&format!("/v1/notify/channels/{id}"))),
        (
            404,
            s.post(&format!("/v1/notify/channels/{id}/test"), &json!({})),
        ),
    ] {
        assert!(r.problem(status)["title"].as_str().is_some(), "{}", r.text);
    }
    let left: Vec<Value> = s
        .get("/v1/notify/channels")
        .json()
        .as_array()
        .unwrap()
        .clone();
    assert!(left.iter().all(|c| c["id"] != id.as_str()), "{left:#?}");
}

#[test]
fn the_scheduler_gets_each_channels_routing_and_no_secret() {
    let s = TestServer::spawn();
    let hook = Receiver::start();
    let a = add(
        &s,
        json!({"kind": "webhook", "url": hook.url, "events": ["offer_new"], "details": true}),
    );
    let b = add(
        &s,
        json!({"kind": "ntfy", "url": "http://127.0.0.1:9/t", "token": "tk_secret_token", "digest_hour": 18}),
    );
    let state = s.state();
    let routes = state
        .store
        .read(|c| notify::routes(c, &state.keys))
        .unwrap();
    let mut want = vec![
        notify::Route {
            channel_id: a["id"].as_str().unwrap().into(),
            events: vec![NotifyEvent::OfferNew],
            timing: carnet_schemas::NotifyTiming::AtOnce,
            digest_hour: 0,
            details: true,
        },
        notify::Route {
            channel_id: b["id"].as_str().unwrap().into(),
            events: NotifyEvent::ALL.to_vec(),
            timing: carnet_schemas::NotifyTiming::Digest,
            digest_hour: 18,
            details: false,
        },
    ];
    want.sort_by(|x, y| x.channel_id.cmp(&y.channel_id));
    assert_eq!(routes, want);
}

#[test]
fn channels_and_their_secrets_stay_out_of_the_export() {
    let s = TestServer::spawn();
    let hook = Receiver::start();
    let secret = add(&s, json!({"kind": "webhook", "url": hook.url}))["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let ntfy = add(
        &s,
        json!({"kind": "ntfy", "url": "http://127.0.0.1:9/topic-xyz", "token": "tk_never_exported"}),
    );
    add(
        &s,
        json!({"kind": "email", "address": "owner@example.org", "smtp_url": "smtp://127.0.0.1:2525",
               "smtp_user": "owner", "smtp_password": "pw-never-exported"}),
    );
    let export = s.get("/v1/export");
    assert_eq!(export.status, 200, "{}", export.text);
    for needle in [
        &secret[6..],
        "tk_never_exported",
        "pw-never-exported",
        ntfy["id"].as_str().unwrap(),
        "topic-xyz",
        "owner@example.org",
        "nch_",
    ] {
        assert!(!export.text.contains(needle), "the export holds {needle:?}");
    }
}

#[test]
fn bad_channels_are_refused_naming_the_field() {
    let s = TestServer::spawn();
    for (body, field) in [
        (json!({"kind": "webhook"}), "url"),
        (
            json!({"kind": "webhook", "url": "ftp://example.org/x"}),
            "url",
        ),
        (json!({"kind": "webhook", "url": "not a url"}), "url"),
        (
            json!({"kind": "webhook", "url": "https://u:p@example.org/x"}),
            "url",
        ),
        (
            json!({"kind": "webhook", "url": "https://example.org/x", "digest_hour": 24}),
            "digest_hour",
        ),
        (
            json!({"kind": "webhook", "url": "https://example.org/x", "events": []}),
            "events",
        ),
        (
            json!({"kind": "webhook", "url": "https://example.org/x", "token": "t"}),
            "token",
        ),
        (
            json!({"kind": "ntfy", "url": "https://ntfy.example.org/"}),
            "url",
        ),
        (
            json!({"kind": "email", "address": "me@example.org"}),
            "smtp_url",
        ),
        (
            json!({"kind": "email", "address": "me@example.org", "smtp_url": "https://mail.example.org"}),
            "smtp_url",
        ),
        (
            json!({"kind": "email", "address": "me@example.org", "smtp_url": "smtp://"}),
            "smtp_url",
        ),
        (
            json!({"kind": "email", "address": "nobody", "smtp_url": "smtps://mail.example.org"}),
            "address",
        ),
        (
            json!({"kind": "email", "address": "me@example.org", "smtp_url": "smtps://mail.example.org", "smtp_user": "me"}),
            "smtp_password",
        ),
    ] {
        let r = s.post("/v1/notify/channels", &body);
        let p = r.problem(422);
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p:#}");
    }
    // Unknown events and kinds are refused by the body's types, naming the field too.
    let r = s.post(
        "/v1/notify/channels",
        &json!({"kind": "webhook", "url": "https://example.org/x", "events": ["promise_lat"]}),
    );
    let p = r.problem(422);
    assert!(
        p["errors"][0]["field"]
            .as_str()
            .unwrap()
            .starts_with("events"),
        "{p:#}"
    );
    assert_eq!(
        s.post("/v1/notify/channels", &json!({"kind": "pager"}))
            .status,
        422
    );
    assert_eq!(s.get("/v1/notify/channels/nch_nope").status, 400);
    assert_eq!(
        s.get("/v1/notify/channels").json(),
        json!([]),
        "nothing was added"
    );
}

#[test]
fn the_cli_adds_lists_tests_and_removes_channels() {
    let s = TestServer::spawn();
    let hook = Receiver::start();
    let out = s.carnet(&[
        "--json",
        "notify",
        "add",
        "webhook",
        &hook.url,
        "--events",
        "promise_late,followup_late",
        "--digest",
        "8",
    ]);
    out.ok();
    let created = out.json();
    let id = created["id"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(created["events"], json!(["followup_late", "promise_late"]));
    assert_eq!(created["digest_hour"], 8);
    assert!(out.stderr.contains("not shown again"), "{}", out.stderr);

    // Human output: the id and the secret on stdout, once.
    let out = s.carnet(&["notify", "add", "webhook", &hook.url, "--details"]);
    out.ok();
    assert!(
        out.stdout.contains("secret") && out.stdout.contains("whsec_"),
        "{}",
        out.stdout
    );

    let dir = tempfile::tempdir().unwrap();
    let token_file = dir.path().join("ntfy.token");
    std::fs::write(&token_file, "tk_from_a_file\n").unwrap();
    let out = s.carnet(&[
        "notify",
        "add",
        "ntfy",
        "https://ntfy.sh/carnet-x",
        "--token-file",
        token_file.to_str().unwrap(),
    ]);
    out.ok();
    assert!(
        out.stderr
            .contains("warning: ntfy.sh is a public ntfy server"),
        "{}",
        out.stderr
    );

    let out = s.carnet(&["notify", "list"]);
    out.ok();
    for needle in [id.as_str(), "digest 08:00", "ntfy"] {
        assert!(
            out.stdout.contains(needle),
            "{needle:?} not in {}",
            out.stdout
        );
    }
    assert!(!out.stdout.contains(&secret[6..]) && !out.stdout.contains("tk_from_a_file"));
    let listed = s.carnet(&["--json", "notify", "list"]);
    listed.ok();
    let listed_json = listed.json();
    let channels = listed_json.as_array().unwrap();
    assert_eq!(channels.len(), 3);
    assert_eq!(channels[2]["url"], "https://ntfy.sh/carnet-x");
    assert_eq!(channels[2]["has_secret"], true);
    assert!(!listed.stdout.contains("tk_from_a_file") && !listed.stdout.contains(&secret[6..]));

    let out = s.carnet(&["notify", "test", &id]);
    out.ok();
    assert!(
        out.stdout
            .contains(&format!("test message delivered to {id}")),
        "{}",
        out.stdout
    );
    assert!(hook.wait_accepted(1)[0].signed_with(&secret));
    let out = s.carnet(&["notify", "list"]);
    assert!(
        out.stdout.contains(" ok"),
        "the last delivery is shown: {}",
        out.stdout
    );

    // A channel whose server is down: the test fails with one line and a hint.
    let down = s.carnet(&[
        "--json",
        "notify",
        "add",
        "ntfy",
        "http://127.0.0.1:9/topic",
    ]);
    down.ok();
    let down_id = down.json()["id"].as_str().unwrap().to_owned();
    let out = s.carnet(&["notify", "test", &down_id]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("was not delivered: connect"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("hint:"), "{}", out.stderr);

    // Bad input: clap refuses an hour out of range; the server names the field.
    let out = s.carnet(&["notify", "add", "webhook", &hook.url, "--digest", "24"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    let out = s.carnet(&[
        "notify",
        "add",
        "email",
        "me@example.org",
        "--smtp-url",
        "http://mail.example.org",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("smtp_url") && out.stderr.contains("hint:"),
        "{}",
        out.stderr
    );
    let out = s.carnet(&[
        "notify",
        "add",
        "webhook",
        &hook.url,
        "--events",
        "promise_lat",
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);

    let out = s.carnet(&["notify", "rm", &down_id, "--yes"]);
    out.ok();
    assert!(
        out.stdout
            .contains(&format!("removed reminder channel {down_id}"))
    );
    assert_eq!(s.carnet(&["notify", "rm", &down_id, "--yes"]).code, 1);
}

#[test]
fn a_channel_is_edited_in_what_it_takes_and_keeps_its_address_and_secret() {
    let s = TestServer::spawn();
    let hook = Receiver::start();
    let (id, secret) = webhook(&s, &hook);
    let path = format!("/v1/notify/channels/{id}");
    let r = patch(
        &s,
        &path,
        &json!({"events": ["offer_new", "consent_waiting"], "digest_hour": 9, "details": true}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let c = r.json();
    assert_eq!(c["events"], json!(["offer_new", "consent_waiting"]));
    assert_eq!(
        (
            c["timing"].clone(),
            c["digest_hour"].clone(),
            c["details"].clone()
        ),
        (json!("digest"), json!(9), json!(true))
    );
    assert_eq!(c["url"], hook.url.as_str());
    assert!(!r.text.contains(&secret[6..]));
    let r = patch(&s, &path, &json!({"timing": "at_once"}));
    assert_eq!(r.json()["digest_hour"], Value::Null, "{}", r.text);
    for (body, field) in [
        (json!({"digest_hour": 24}), "digest_hour"),
        (json!({"events": []}), "events"),
        (json!({"timing": "digest"}), "digest_hour"),
    ] {
        assert_eq!(
            patch(&s, &path, &body).problem(422)["errors"][0]["field"],
            field,
            "{body}"
        );
    }
    assert_eq!(
        patch(&s, &path, &json!({"url": "http://elsewhere.example/"})).status,
        422
    );
    assert_eq!(
        patch(
            &s,
            "/v1/notify/channels/nch_0123456789abcdef",
            &json!({"details": false})
        )
        .status,
        404
    );
    // Still signed with the secret shown at creation.
    let t = s.post(&format!("{path}/test"), &json!({}));
    assert_eq!(t.json()["delivered"], true, "{}", t.text);
    assert!(hook.wait_accepted(1)[0].signed_with(&secret));

    let out = s.carnet(&["notify", "edit", &id, "--digest", "18", "--no-details"]);
    out.ok();
    assert!(out.stdout.contains("digest 18:00"), "{}", out.stdout);
    let c = channel(&s, &id);
    assert_eq!(
        (c["digest_hour"].clone(), c["details"].clone()),
        (json!(18), json!(false))
    );
    assert_eq!(
        s.carnet(&["notify", "edit", &id]).code,
        2,
        "an edit changes something"
    );
}

#[test]
fn smtp_refuses_plain_smtp_to_a_host_that_is_not_loopback_without_starttls() {
    // 0.0.0.0 is not a loopback address, yet reaches this machine: the sink, which offers
    // no STARTTLS. Nothing is sent; to 127.0.0.1 the same sink takes the message.
    let s = TestServer::spawn();
    let smtp = Smtp::start();
    let far = add(
        &s,
        json!({"kind": "email", "address": "owner@example.org",
               "smtp_url": format!("smtp://0.0.0.0:{}", smtp.port)}),
    );
    let t = s.post(
        &format!("/v1/notify/channels/{}/test", far["id"].as_str().unwrap()),
        &json!({}),
    );
    assert_eq!(t.json()["delivered"], false, "{}", t.text);
    assert_eq!(t.json()["error"], "starttls", "{}", t.text);
    assert!(smtp.mails().is_empty(), "nothing went over plain SMTP");
    let near = add(
        &s,
        json!({"kind": "email", "address": "owner@example.org", "smtp_url": smtp.url()}),
    );
    let t = s.post(
        &format!("/v1/notify/channels/{}/test", near["id"].as_str().unwrap()),
        &json!({}),
    );
    assert_eq!(t.json()["delivered"], true, "{}", t.text);
    assert_eq!(smtp.wait_for(1).len(), 1);
}

#[test]
fn a_reminder_moved_to_another_channel_in_the_file_is_never_delivered() {
    let s = TestServer::spawn_with_manual_clock();
    let (mine, other) = (Receiver::start(), Receiver::start());
    let a = add_id(&s, json!({"kind": "webhook", "url": mine.url}));
    let b = add_id(&s, json!({"kind": "webhook", "url": other.url}));
    queue(
        &s,
        &a,
        late_promises(),
        s.clock_now() + chrono::Duration::hours(1),
    );
    // Someone who can write the file but lacks the key readdresses it: its row MAC fails.
    let raw = rusqlite::Connection::open(s.path().join("carnet.db")).unwrap();
    let moved = raw
        .execute(
            "UPDATE notify_outbox SET channel_id = ?1 WHERE channel_id = ?2",
            [&b, &a],
        )
        .unwrap();
    assert_eq!(moved, 1);
    s.clock.advance(chrono::Duration::hours(2));
    worker_pass(&s);
    assert!(mine.deliveries().is_empty() && other.deliveries().is_empty());
    assert_eq!(
        channel(&s, &b)["pending"],
        0,
        "the moved row is not counted either"
    );
}

#[test]
fn a_channels_secrets_never_reach_carnetds_log() {
    // A real carnetd at debug level: the failed attempts are logged, their secrets never.
    let dir = tempfile::tempdir().unwrap();
    let d = carnet_tests::Carnetd::start(dir.path(), &[("CARNET_LOG_LEVEL", "debug")]).unwrap();
    let hook = Receiver::with_mode(Mode::Fail(500));
    let created = d.post(
        "/v1/notify/channels",
        &json!({"kind": "webhook", "url": hook.url}),
    );
    assert_eq!(created.status, 201, "{}", created.text);
    let secret = created.json()["secret"].as_str().unwrap().to_owned();
    let ntfy = d.post(
        "/v1/notify/channels",
        &json!({"kind": "ntfy", "url": "http://127.0.0.1:9/topic", "token": "tk_not_in_logs"}),
    );
    let smtp = d.post(
        "/v1/notify/channels",
        &json!({"kind": "email", "address": "owner@example.org", "smtp_url": "smtp://127.0.0.1:9",
                "smtp_user": "owner", "smtp_password": "pw-not-in-logs"}),
    );
    for c in [created.json(), ntfy.json(), smtp.json()] {
        let id = c["id"].as_str().unwrap();
        let t = d.post(&format!("/v1/notify/channels/{id}/test"), &json!({}));
        assert_eq!(t.json()["delivered"], false, "{}", t.text);
    }
    let log = d.kill();
    assert!(
        log.contains("/v1/notify/channels"),
        "requests are logged: {log}"
    );
    for needle in [&secret[6..], "tk_not_in_logs", "pw-not-in-logs"] {
        assert!(!log.contains(needle), "the log holds {needle:?}");
    }
}

#[test]
fn the_cli_reads_the_smtp_password_from_a_file_and_sends_with_it() {
    let s = TestServer::spawn();
    let smtp = Smtp::start();
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("smtp.pw");
    std::fs::write(&pw, " spaced pass \r\nsecond line\n").unwrap();
    let out = s.carnet(&[
        "--json",
        "notify",
        "add",
        "email",
        "owner@example.org",
        "--smtp-url",
        &smtp.url(),
        "--smtp-user",
        "owner",
        "--smtp-password-file",
        pw.to_str().unwrap(),
    ]);
    out.ok();
    let id = out.json()["id"].as_str().unwrap().to_owned();
    assert!(out.json().get("secret").is_none(), "{}", out.stdout);
    assert!(!out.stdout.contains("spaced pass"));
    s.carnet(&["notify", "test", &id]).ok();
    let mail = &smtp.wait_for(1)[0];
    assert_eq!(
        mail.login,
        Some(("owner".to_owned(), " spaced pass ".to_owned()))
    );
    // A user without a password file is a usage error, before anything is sent.
    let out = s.carnet(&[
        "notify",
        "add",
        "email",
        "owner@example.org",
        "--smtp-url",
        &smtp.url(),
        "--smtp-user",
        "owner",
    ]);
    assert_eq!(out.code, 2, "{}", out.stderr);
}
