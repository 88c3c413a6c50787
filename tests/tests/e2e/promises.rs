//! Promises: what a vendor committed to, open → kept | broken (once), late on the server's
//! clock; the vendor's promise record for the owner and, with `promises:read` only, for the
//! vendor; late promises among the follow-ups; the CLI verbs; the web app's Today; and the
//! archive (version 3, older versions still import).

use carnet_tests::vendor::VendorApp;
use carnet_tests::webapp::WebApp;
use carnet_tests::{Api, TestServer};
use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};

use crate::export::{Key, encrypt_to, export};
use crate::{interaction, vendor};

fn today(s: &TestServer) -> NaiveDate {
    s.clock_now().date_naive()
}

/// Records a promise of `vendor` due `days` from the server's today; returns its id.
fn promise(s: &TestServer, vendor: &str, what: &str, days: i64) -> String {
    let due = today(s) + Duration::days(days);
    s.create(
        "/v1/promises",
        &json!({"vendor_id": vendor, "what": what, "due": due.to_string()}),
    )
}

fn record(s: &TestServer, vendor: &str) -> Value {
    s.get(&format!("/v1/vendors/{vendor}")).json()["loyalty"]["promises"].clone()
}

#[test]
fn an_open_promise_is_kept_once_and_a_kept_promise_cannot_be_broken() {
    let s = TestServer::spawn();
    let acme = vendor(&s, "Acme");
    let id = promise(&s, &acme, "Refund the delivery fee", 5);
    let shown = s.get(&format!("/v1/promises/{id}")).json();
    assert_eq!(shown["state"], "open");
    assert_eq!(shown["late"], false);

    let kept = s.post(
        &format!("/v1/promises/{id}/kept"),
        &json!({"at": "2026-01-02T10:00:00+01:00"}),
    );
    assert_eq!(kept.status, 200, "{}", kept.text);
    assert_eq!(kept.json()["state"], "kept");
    assert_eq!(kept.json()["kept_at"], "2026-01-02T10:00:00+01:00");

    let p = s
        .post(&format!("/v1/promises/{id}/broken"), &json!({}))
        .problem(409);
    assert!(
        p["detail"].as_str().unwrap().contains("already kept"),
        "{p}"
    );
    s.post(&format!("/v1/promises/{id}/kept"), &json!({}))
        .problem(409);
    assert_eq!(s.get(&format!("/v1/promises/{id}")).json()["state"], "kept");
}

#[test]
fn an_open_promise_can_be_broken_with_a_note_and_then_not_kept() {
    let s = TestServer::spawn();
    let acme = vendor(&s, "Acme");
    let id = promise(&s, &acme, "Call back tomorrow", 1);
    let broken = s.post(
        &format!("/v1/promises/{id}/broken"),
        &json!({"note": "Never called"}),
    );
    assert_eq!(broken.status, 200, "{}", broken.text);
    let b = broken.json();
    assert_eq!(b["state"], "broken");
    assert_eq!(b["note"], "Never called");
    assert!(b["broken_at"].is_string());
    s.post(&format!("/v1/promises/{id}/kept"), &json!({}))
        .problem(409);
    // Unknown fields and unknown ids get the usual problems.
    s.post(&format!("/v1/promises/{id}/broken"), &json!({"why": "x"}))
        .problem(422);
    s.get("/v1/promises/prm_0000000000000000").problem(404);
    assert_eq!(s.delete(&format!("/v1/promises/{id}")).status, 204);
    s.get(&format!("/v1/promises/{id}")).problem(404);
}

#[test]
fn a_promise_names_an_interaction_of_its_own_vendor_only() {
    let s = TestServer::spawn();
    let acme = vendor(&s, "Acme");
    let other = vendor(&s, "Other");
    let theirs = interaction(&s, &other, json!({}));
    let r = s.post(
        "/v1/promises",
        &json!({"vendor_id": acme, "what": "x", "due": "2030-01-01", "interaction_id": theirs}),
    );
    let p = r.problem(422);
    assert!(p.to_string().contains("another vendor"), "{p}");
}

#[test]
fn an_open_promise_is_late_after_its_due_day_on_the_servers_clock() {
    let s = TestServer::spawn_with_manual_clock();
    let acme = vendor(&s, "Acme");
    let step = interaction(
        &s,
        &acme,
        json!({"next_step": "Send the photos", "next_due": (today(&s) + Duration::days(1)).to_string()}),
    );
    let id = promise(&s, &acme, "Deliver the part", 2);
    let kinds = |s: &TestServer| -> Vec<(String, String)> {
        s.get("/v1/followups")
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let id = f["promise_id"].as_str().or(f["interaction_id"].as_str());
                (
                    f["kind"].as_str().unwrap().to_owned(),
                    id.unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(kinds(&s), vec![("followup".to_owned(), step.clone())]);
    assert!(
        s.get("/v1/promises?state=late").json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(record(&s, &acme)["late"], 0);

    // On its due day it is not late yet; the day after, it is.
    s.clock.advance(Duration::days(2));
    assert_eq!(s.get(&format!("/v1/promises/{id}")).json()["late"], false);
    s.clock.advance(Duration::days(1));
    let p = s.get(&format!("/v1/promises/{id}")).json();
    assert_eq!(p["late"], true);
    assert_eq!(p["state"], "open", "late is shown, never stored");
    let late = s.get("/v1/promises?state=late").json();
    assert_eq!(late["items"][0]["id"], id.as_str());
    assert_eq!(
        kinds(&s),
        vec![
            ("followup".to_owned(), step.clone()),
            ("promise".to_owned(), id.clone())
        ]
    );
    let items = s.get("/v1/followups").json();
    assert_eq!(items[0]["interaction_id"], step.as_str());
    assert_eq!(items[0]["channel"], "email", "a follow-up keeps its fields");
    assert_eq!(items[1]["next_step"], "Deliver the part");
    assert_eq!(items[1]["vendor_name"], "Acme");
    let r = record(&s, &acme);
    assert_eq!((r["late"].clone(), r["open"].clone()), (json!(1), json!(1)));

    // Kept, it is no longer late nor followed up.
    s.post(&format!("/v1/promises/{id}/kept"), &json!({}));
    assert_eq!(kinds(&s).len(), 1);
    let r = record(&s, &acme);
    assert_eq!(r["kept"], 1);
    assert_eq!(r["late"], 0);
    assert_eq!(r["median_delay_days"], 1.0, "kept one day after it was due");
}

#[test]
fn the_promise_record_gives_the_median_delay_of_kept_promises_in_days() {
    let s = TestServer::spawn();
    let acme = vendor(&s, "Acme");
    for (due, kept) in [
        ("2026-03-10", "2026-03-08T12:00:00Z"),
        ("2026-03-10", "2026-03-10T23:00:00Z"),
        ("2026-03-10", "2026-03-15T09:00:00Z"),
        ("2026-03-10", "2026-03-20T09:00:00Z"),
    ] {
        let id = s.create(
            "/v1/promises",
            &json!({"vendor_id": acme, "what": "x", "due": due}),
        );
        s.post(&format!("/v1/promises/{id}/kept"), &json!({"at": kept}));
    }
    let broken = promise(&s, &acme, "y", 3);
    s.post(&format!("/v1/promises/{broken}/broken"), &json!({}));
    let r = record(&s, &acme);
    assert_eq!(
        r,
        json!({"kept": 4, "broken": 1, "late": 0, "open": 0, "median_delay_days": 2.5})
    );
    let kept = s
        .get(&format!("/v1/promises?vendor={acme}&state=kept"))
        .json();
    assert_eq!(kept["items"].as_array().unwrap().len(), 4);
}

#[test]
fn a_vendor_reads_its_promise_record_only_with_promises_read() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    let other = vendor(&s, "Other");
    promise(&s, &other, "Other's promise", 3);
    let kept = promise(&s, &v.vendor_id, "Secret text", 3);
    s.post(&format!("/v1/promises/{kept}/kept"), &json!({}));
    promise(&s, &v.vendor_id, "Another secret", 3);

    v.grant(&s, &["relationship:read"], None);
    let token = v.token();
    let r = v.get(&token, "/v1/vendor/promises");
    r.problem(403);
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .contains(r#"scope="promises:read""#)
    );
    let rel = v.get(&token, "/v1/vendor/relationship").json();
    assert!(
        rel["loyalty"].get("promises").is_none(),
        "relationship:read keeps its meaning: {rel}"
    );

    v.grant(&s, &["relationship:read", "promises:read"], None);
    let token = v.token();
    let r = v.get(&token, "/v1/vendor/promises");
    assert_eq!(r.status, 200, "{}", r.text);
    let body = r.json();
    assert_eq!(
        body["promises"],
        json!({"kept": 1, "broken": 0, "late": 0, "open": 1, "median_delay_days": body["promises"]["median_delay_days"]})
    );
    assert_eq!(
        body["customer_ref"],
        v.get(&token, "/v1/vendor/relationship").json()["customer_ref"]
    );
    assert!(!r.text.contains("secret"), "no texts: {}", r.text);
    assert!(!r.text.contains("Secret"), "no texts: {}", r.text);
    let rel = v.get(&token, "/v1/vendor/relationship").json();
    assert!(rel["loyalty"].get("promises").is_none(), "{rel}");

    // Its receipt says what the scope shows, in the words of the consent page.
    let receipts = s.get("/v1/receipts").json();
    assert!(
        receipts
            .to_string()
            .contains("their promise record with you"),
        "{receipts}"
    );

    let log = s.list_all(&format!("/v1/access-log?vendor={}", v.vendor_id));
    let statuses: Vec<(String, u64)> = log
        .iter()
        .filter(|e| e["endpoint"] == "GET /v1/vendor/promises")
        .map(|e| {
            (
                e["scope"].as_str().unwrap_or("").to_owned(),
                e["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(statuses.iter().any(|(_, st)| *st == 403), "{log:?}");
    assert!(statuses.iter().any(|(_, st)| *st == 200), "{log:?}");
}

#[test]
fn the_cli_adds_lists_keeps_breaks_and_removes_promises() {
    let s = TestServer::spawn();
    vendor(&s, "Acme");
    let added = s
        .carnet(&[
            "--json",
            "promise",
            "add",
            "Acme",
            "--what",
            "Refund the fee",
            "--due",
            "2030-05-01",
            "--by",
            "Léa",
        ])
        .ok()
        .json();
    let id = added["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("prm_"));
    assert_eq!(added["by"], "Léa");

    let out = s
        .carnet(&["promise", "list", "--state", "open"])
        .ok()
        .stdout
        .clone();
    assert!(out.contains(&id) && out.contains("Refund the fee"), "{out}");
    let shown = s.carnet(&["promise", "show", &id]).ok().stdout.clone();
    assert!(
        shown.contains("open") && shown.contains("2030-05-01"),
        "{shown}"
    );

    let kept = s
        .carnet(&["--json", "promise", "kept", &id, "--at", "2030-05-03"])
        .ok()
        .json();
    assert_eq!(kept["state"], "kept");
    let refused = s.carnet(&["promise", "broken", &id, "--note", "late"]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    let lines: Vec<&str> = refused.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "one line and a hint: {}", refused.stderr);
    assert!(lines[0].contains("already kept"), "{}", refused.stderr);
    assert!(lines[1].starts_with("  hint: "), "{}", refused.stderr);

    let shown = s.carnet(&["vendor", "show", "Acme"]).ok().stdout.clone();
    assert!(
        shown.contains("1 kept, 0 broken, 0 late, 0 open"),
        "{shown}"
    );
    assert!(shown.contains("+2 days"), "{shown}");

    // An interaction and what they promised in it, in one go.
    let both = s
        .carnet(&[
            "--json",
            "interaction",
            "add",
            "Acme",
            "--channel",
            "phone",
            "--summary",
            "Called about the fee",
            "--they-promised",
            "Send a voucher",
            "--promise-due",
            "2020-01-01",
        ])
        .ok()
        .json();
    let int_id = both["id"].as_str().unwrap();
    assert!(int_id.starts_with("int_"));
    assert_eq!(both["promise"]["interaction_id"], int_id);
    let voucher = both["promise"]["id"].as_str().unwrap().to_owned();
    let late = s
        .carnet(&["--json", "promise", "list", "--state", "late"])
        .ok()
        .json();
    assert_eq!(late[0]["id"], voucher.as_str());

    let follow = s.carnet(&["--json", "followups"]).ok().json();
    let item = follow
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "promise")
        .expect("the late promise is followed up");
    assert_eq!(item["promise_id"], voucher.as_str());
    let table = s.carnet(&["followups"]).ok().stdout.clone();
    assert!(
        table.contains("promised: Send a voucher") && table.contains(&voucher),
        "{table}"
    );

    let broken = s
        .carnet(&[
            "--json",
            "promise",
            "broken",
            &voucher,
            "--note",
            "No voucher",
        ])
        .ok()
        .json();
    assert_eq!(broken["state"], "broken");
    s.carnet(&["promise", "rm", &voucher, "--yes"]).ok();
    let gone = s.carnet(&["promise", "show", &voucher]);
    assert_eq!(gone.code, 1);
    // --they-promised needs its due day.
    let usage = s.carnet(&[
        "interaction",
        "add",
        "Acme",
        "--channel",
        "phone",
        "--summary",
        "x",
        "--they-promised",
        "y",
    ]);
    assert_eq!(usage.code, 2, "{}", usage.stderr);
}

#[test]
fn today_lists_a_late_promise_and_its_kept_button_keeps_it() {
    let s = TestServer::spawn_with_manual_clock();
    let acme = vendor(&s, "Acme");
    let id = promise(&s, &acme, "Replace the door seal", 1);
    let later = promise(&s, &acme, "Send the manual", 30);
    s.clock.advance(Duration::days(3));
    let mut b = WebApp::signed_in(&s);
    let page = b.get("/app/").text;
    assert!(page.contains("Replace the door seal"), "{page}");
    assert!(page.contains("late, due"), "{page}");
    assert!(!page.contains("Send the manual"), "not due within 7 days");
    let r = b.submit("/app/", &format!("/app/promises/{id}/kept"), &[]);
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(r.header("location"), Some("/app/#promises"));
    assert_eq!(s.get(&format!("/v1/promises/{id}")).json()["state"], "kept");
    assert!(!b.get("/app/").text.contains("Replace the door seal"));

    // The vendor page shows the record, the open promise, and adds one.
    let vp = b.get(&format!("/app/vendors/{acme}")).text;
    assert!(
        vp.contains("promises kept") && vp.contains("Send the manual"),
        "{vp}"
    );
    let r = b.submit(
        &format!("/app/vendors/{acme}/promises/new"),
        &format!("/app/vendors/{acme}/promises/new"),
        &[
            ("what", "Call back"),
            ("due", "2031-01-01"),
            ("by", "Léa"),
            ("interaction", ""),
        ],
    );
    assert_eq!(r.status, 303, "{}", r.text);
    let open = s
        .get(&format!("/v1/promises?vendor={acme}&state=open"))
        .json();
    assert_eq!(open["items"].as_array().unwrap().len(), 2);
    // Broken from the vendor page, back to the vendor page.
    let vp = b.get(&format!("/app/vendors/{acme}")).text;
    assert!(vp.contains(&format!("/app/promises/{later}/broken?back=vendor")));
    let r = b.submit(
        &format!("/app/vendors/{acme}"),
        &format!("/app/promises/{later}/broken?back=vendor"),
        &[],
    );
    assert_eq!(r.status, 303, "{}", r.text);
    let back = format!("/app/vendors/{acme}#promises");
    assert_eq!(r.header("location"), Some(back.as_str()));
    assert_eq!(
        s.get(&format!("/v1/promises/{later}")).json()["state"],
        "broken"
    );
}

#[test]
fn promises_move_with_an_export_and_an_older_archive_still_imports() {
    let s = TestServer::spawn();
    let acme = vendor(&s, "Acme");
    let int = interaction(&s, &acme, json!({}));
    let kept = s.create(
        "/v1/promises",
        &json!({"vendor_id": acme, "what": "Refund", "due": "2026-02-01", "by": "Léa",
                "interaction_id": int}),
    );
    s.post(
        &format!("/v1/promises/{kept}/kept"),
        &json!({"at": "2026-02-03T10:00:00Z"}),
    );
    let open = promise(&s, &acme, "Call back", 10);
    let before = s.get("/v1/promises").json();
    let record_before = record(&s, &acme);

    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(dir.path(), "key.txt");
    let out = dir.path().join("vault.age");
    let plain = export(&s, &out, &key);
    let doc: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(doc["version"], 5);
    assert_eq!(doc["counts"]["promises"], 2);
    assert!(
        doc["promises"][0].get("late").is_none(),
        "late is never stored"
    );

    let b = TestServer::spawn();
    b.carnet(&["import", out.to_str().unwrap(), "--identity", key.path()])
        .ok();
    assert_eq!(b.get("/v1/promises").json(), before);
    assert_eq!(record(&b, &acme), record_before);
    b.get(&format!("/v1/promises/{open}")).json();

    // A version 2 archive (no promises member, no promises count) still imports.
    let text = String::from_utf8(plain).unwrap();
    let (from, to) = (
        text.find("\n\"promises\":[").unwrap(),
        text.find("\n\"intents\":[").unwrap(),
    );
    let v2 = format!("{}{}", &text[..from], &text[to..])
        .replace("\n\"version\":5,\n", "\n\"version\":2,\n")
        .replace(",\"promises\":2", "");
    assert!(
        !v2.contains("\"promises\"") && v2.contains("\"version\":2,"),
        "{v2}"
    );
    let v2_file = dir.path().join("v2.age");
    std::fs::write(
        &v2_file,
        encrypt_to(v2.as_bytes(), &key.identity.to_public()),
    )
    .unwrap();
    let c = TestServer::spawn();
    c.carnet(&[
        "import",
        v2_file.to_str().unwrap(),
        "--identity",
        key.path(),
    ])
    .ok();
    assert_eq!(c.get("/v1/vendors").json()["items"][0]["id"], acme.as_str());
    assert!(
        c.get("/v1/promises").json()["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_consent_page_says_what_promises_read_shows() {
    use carnet_tests::browser::{Browser, Pkce};

    let (s, v) = crate::consent::setup();
    let pkce = Pkce::new(9);
    let mut b = Browser::default();
    let url = crate::consent::authorize_url(&s, &v, &pkce, &[("scope", "promises:read")]);
    let page = b.get(&url);
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.text.contains("see their promise record with you")
            && page.text.contains("never what was promised"),
        "{}",
        page.text
    );
}
