//! An import's upload as a slow or hostile client sends it: while it stalls, the vault's single
//! writer is free (owner writes and vendor offers go through within the CLI's own 30 s
//! timeout, where the stalled upload would hold them for its 60 s idle limit); an upload cut
//! or timed out part way imports nothing and says why.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, Resp, TestServer};
use chrono::Utc;
use serde_json::{Value, json};

/// The CLI's request timeout (`client-cli/src/client.rs`).
const CLI_TIMEOUT: Duration = Duration::from_secs(30);

fn client() -> reqwest::blocking::Client {
    carnet_tests::http();
    reqwest::blocking::Client::builder()
        .timeout(CLI_TIMEOUT)
        .build()
        .unwrap()
}

/// A plaintext archive of a vault with two vendors.
fn an_archive() -> String {
    let a = TestServer::spawn();
    a.create("/v1/vendors", &json!({"name": "Archived one"}));
    a.create("/v1/vendors", &json!({"name": "Archived two"}));
    let r = a.get("/v1/export");
    assert_eq!(r.status, 200, "{}", r.text);
    r.text
}

/// Starts `POST /v1/import` on a raw connection, declaring `archive`'s whole length but
/// sending only the part before its vendors section ends, and returns once the server has
/// started reading the body (it answers `Expect: 100-continue` when it does).
fn stalled_upload(s: &TestServer, archive: &str) -> TcpStream {
    let mut raw = TcpStream::connect(s.base.trim_start_matches("http://")).unwrap();
    write!(
        raw,
        "POST /v1/import HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        s.token(),
        archive.len()
    )
    .unwrap();
    let mut reader = BufReader::new(raw.try_clone().unwrap());
    let mut status = String::new();
    reader.read_line(&mut status).unwrap();
    assert!(status.starts_with("HTTP/1.1 100"), "{status}");
    let mut blank = String::new();
    reader.read_line(&mut blank).unwrap();
    assert_eq!(blank, "\r\n");
    // Up to and including the first vendor: a record the import would write if it ran now.
    let first_vendor = archive.find("{\"id\":\"ven_").unwrap();
    let end = first_vendor + archive[first_vendor..].find('\n').unwrap() + 1;
    raw.write_all(&archive.as_bytes()[..end]).unwrap();
    raw.flush().unwrap();
    raw
}

/// The answer on a raw connection, read to its end.
fn answer_of(mut raw: TcpStream) -> String {
    let mut text = String::new();
    let _ = raw.read_to_string(&mut text);
    text
}

fn vendor_names(s: &TestServer) -> Vec<String> {
    let mut names: Vec<String> = s
        .list_all("/v1/vendors")
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_stalled_import_upload_holds_up_neither_owner_writes_nor_vendor_offers() {
    let archive = an_archive();
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["intents:read", "offers:write"], None);
    let token = v.token();
    let intent = s.create(
        "/v1/intents",
        &json!({"category": "home.appliances", "title": "Washing machine",
                "valid_through": (Utc::now() + chrono::Duration::days(5)).to_rfc3339()}),
    );
    assert_eq!(
        s.post(&format!("/v1/intents/{intent}/activate"), &json!({}))
            .status,
        200
    );

    let upload = stalled_upload(&s, &archive);
    // While it stalls: an owner write...
    let c = client();
    let written = c
        .post(s.url("/v1/vendors"))
        .bearer_auth(s.token())
        .json(&json!({"name": "Written during the stall"}))
        .send()
        .expect("an owner write goes through while the upload stalls");
    assert_eq!(written.status(), 201);
    // ...and a vendor's offer.
    let offered = c
        .post(s.url(&format!("/v1/vendor/intents/{intent}/offers")))
        .bearer_auth(&token)
        .json(&json!({"price": "650", "price_currency": "EUR", "description": "WM-9"}))
        .send()
        .expect("a vendor offer goes through while the upload stalls");
    assert_eq!(offered.status(), 201, "{:?}", offered.text());

    // The client stops sending part way: the import is refused, and nothing of it was kept.
    upload.shutdown(std::net::Shutdown::Write).unwrap();
    let answer = answer_of(upload);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("stopped before its end"), "{answer}");
    assert_eq!(vendor_names(&s), ["Acme", "Written during the stall"]);
    assert_eq!(s.get("/v1/offers").json().as_array().unwrap().len(), 1);
}

#[test]
fn an_upload_that_stalls_past_the_idle_limit_is_refused_and_imports_nothing() {
    let archive = an_archive();
    let s = TestServer::spawn_with_settings(carnet_server::Settings {
        import_idle_timeout: Duration::from_millis(300),
        ..carnet_server::Settings::default()
    });
    let upload = stalled_upload(&s, &archive);
    // The server gives up by itself: the answer comes without the client doing anything.
    let answer = answer_of(upload);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    let body: Value = serde_json::from_str(&answer[answer.find("\r\n\r\n").unwrap() + 4..])
        .unwrap_or_else(|e| panic!("{e}: {answer}"));
    assert!(
        body["detail"].as_str().unwrap().contains("stalled"),
        "{body}"
    );
    assert!(
        body["hint"]
            .as_str()
            .unwrap()
            .contains("nothing was imported"),
        "{body}"
    );
    assert!(vendor_names(&s).is_empty(), "nothing half-imported");

    // The same archive sent whole imports, through the same spool.
    let r = Resp::from(
        client()
            .post(s.url("/v1/import"))
            .bearer_auth(s.token())
            .header("content-type", "application/json")
            .body(archive)
            .send()
            .unwrap(),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(vendor_names(&s), ["Archived one", "Archived two"]);
}
