//! Documents (issue 18): streamed both ways, sealed in chunks, served so that nothing runs
//! on the vault's origin, bounded by a size limit and a quota, deleted with their vendor,
//! and readable by a vendor only when shared on an interaction shared with it.

use carnet_server::Settings;
use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, Resp, TestServer, http};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Value, json};

use crate::{interaction, vendor};

/// Uploads `body` with the owner token to `/v1/documents?{query}`.
fn upload(s: &TestServer, query: &str, body: Vec<u8>) -> Resp {
    Resp::from(
        http()
            .post(s.url(&format!("/v1/documents?{query}")))
            .bearer_auth(s.token())
            .body(body)
            .send()
            .unwrap(),
    )
}

#[track_caller]
pub(crate) fn uploaded(s: &TestServer, query: &str, body: Vec<u8>) -> Value {
    let r = upload(s, query, body);
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

pub(crate) fn content(s: &TestServer, id: &str) -> reqwest::blocking::Response {
    http()
        .get(s.url(&format!("/v1/documents/{id}/content")))
        .bearer_auth(s.token())
        .send()
        .unwrap()
}

pub(crate) fn random(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    SystemRandom::new().fill(&mut b).unwrap();
    b
}

/// Rows of `table` in the vault's file (what is left behind, whatever the API says).
fn rows(s: &TestServer, table: &str) -> i64 {
    rusqlite::Connection::open(s.path().join("carnet.db"))
        .unwrap()
        .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

#[test]
fn a_3_mib_random_file_round_trips_byte_for_byte() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let data = random(3 << 20);
    let doc = uploaded(
        &s,
        &format!("vendor={v}&title=Contract&file_name=contract.bin"),
        data.clone(),
    );
    let id = doc["id"].as_str().unwrap();
    assert!(id.starts_with("doc_"));
    assert_eq!(doc["size"], 3 << 20);
    assert_eq!(doc["title"], "Contract");
    assert_eq!(doc["file_name"], "contract.bin");
    assert_eq!(doc["content_type"], "application/octet-stream");
    assert_eq!(doc["shared"], false);
    assert_eq!(doc["attached_to"], json!({"kind": "vendor", "id": v}));
    let got = content(&s, id);
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().unwrap().as_ref(), &data[..]);
    assert_eq!(s.get(&format!("/v1/documents/{id}")).json(), doc);
    let listed = s.get(&format!("/v1/documents?vendor={v}")).json();
    assert_eq!(listed["items"], json!([doc]));
    // Sealed: not a 64-byte run of the file is in the database in clear.
    let db = std::fs::read(s.path().join("carnet.db")).unwrap();
    assert!(!db.windows(64).any(|w| w == &data[1000..1064]));
}

#[test]
fn html_and_svg_are_served_as_attachments_that_cannot_run() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    for (name, bytes, sniffed) in [
        (
            "page.txt",
            &b"<!DOCTYPE html><script>fetch('/v1/vendors')</script>"[..],
            "text/html",
        ),
        (
            "logo.png",
            &b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>"[..],
            "image/svg+xml",
        ),
    ] {
        let doc = uploaded(&s, &format!("vendor={v}&file_name={name}"), bytes.to_vec());
        assert_eq!(doc["content_type"], sniffed, "from the bytes, not the name");
        let r = content(&s, doc["id"].as_str().unwrap());
        let h = |n: &str| r.headers().get(n).unwrap().to_str().unwrap().to_owned();
        assert_eq!(h("content-type"), "application/octet-stream");
        assert!(
            h("content-disposition").starts_with("attachment;"),
            "{}",
            h("content-disposition")
        );
        assert!(h("content-disposition").contains(&format!("filename*=UTF-8''{name}")));
        assert_eq!(h("x-content-type-options"), "nosniff");
        assert_eq!(h("content-security-policy"), "sandbox");
    }
    let pdf = uploaded(
        &s,
        &format!("vendor={v}&file_name=a%20%C3%A9t%C3%A9.pdf"),
        b"%PDF-1.7".to_vec(),
    );
    let r = content(&s, pdf["id"].as_str().unwrap());
    assert_eq!(r.headers()["content-type"], "application/pdf");
    assert_eq!(
        r.headers()["content-disposition"],
        "attachment; filename=\"a _t_.pdf\"; filename*=UTF-8''a%20%C3%A9t%C3%A9.pdf"
    );
}

fn small_limits() -> TestServer {
    TestServer::spawn_with_settings(Settings {
        documents: carnet_core::documents::Limits::from_mib(1, 3),
        ..Settings::default()
    })
}

#[test]
fn a_document_over_the_size_limit_is_413_and_nothing_is_kept() {
    let s = small_limits();
    let v = vendor(&s, "Acme");
    let p = upload(&s, &format!("vendor={v}"), random((1 << 20) + 1)).problem(413);
    assert!(p["detail"].as_str().unwrap().contains("1 MiB"), "{p}");
    assert!(
        p["hint"].as_str().unwrap().contains("document_max_mib"),
        "{p}"
    );
    // Streamed without a length (chunked): refused on the way.
    let unsized_body = reqwest::blocking::Body::new(std::io::Cursor::new(random(3 << 20)));
    let r = Resp::from(
        http()
            .post(s.url(&format!("/v1/documents?vendor={v}")))
            .bearer_auth(s.token())
            .body(unsized_body)
            .send()
            .unwrap(),
    );
    r.problem(413);
    assert_eq!(s.get("/v1/documents").json()["items"], json!([]));
    assert_eq!((rows(&s, "documents"), rows(&s, "document_chunks")), (0, 0));
    // Exactly the limit is fine.
    uploaded(&s, &format!("vendor={v}"), random(1 << 20));
}

#[test]
fn the_quota_counts_every_document_and_a_refused_one_leaves_nothing() {
    let s = small_limits();
    let v = vendor(&s, "Acme");
    for _ in 0..3 {
        uploaded(&s, &format!("vendor={v}"), random(900 << 10));
    }
    let p = upload(&s, &format!("vendor={v}"), random(900 << 10)).problem(413);
    assert!(
        p["detail"].as_str().unwrap().contains("quota of 3 MiB"),
        "{p}"
    );
    assert_eq!(
        s.get("/v1/documents").json()["items"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(rows(&s, "documents"), 3);
    let chunks = rows(&s, "document_chunks");
    // A deletion makes room again.
    let first = s.get("/v1/documents").json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(s.delete(&format!("/v1/documents/{first}")).status, 204);
    assert!(rows(&s, "document_chunks") < chunks);
    uploaded(&s, &format!("vendor={v}"), random(900 << 10));
}

#[test]
fn an_upload_names_exactly_one_record_that_exists() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let p = s.create(
        "/v1/purchases",
        &json!({"vendor_id": v, "item": "Washer", "amount": "499", "currency": "EUR"}),
    );
    upload(&s, "title=x", b"x".to_vec()).problem(422);
    upload(&s, &format!("vendor={v}&purchase={p}"), b"x".to_vec()).problem(422);
    upload(&s, &format!("purchase={v}"), b"x".to_vec()).problem(422);
    upload(&s, "purchase=pur_aaaaaaaaaaaaaaaa", b"x".to_vec()).problem(404);
    upload(&s, "vendor=ven_aaaaaaaaaaaaaaaa", b"x".to_vec()).problem(404);
    let doc = uploaded(&s, &format!("purchase={p}"), b"receipt".to_vec());
    assert_eq!(doc["attached_to"], json!({"kind": "purchase", "id": p}));
    assert_eq!(doc["vendor_id"], v);
    assert_eq!(rows(&s, "documents"), 1);
    // Deleting the purchase deletes its document.
    assert_eq!(s.delete(&format!("/v1/purchases/{p}")).status, 204);
    s.get(&format!("/v1/documents/{}", doc["id"].as_str().unwrap()))
        .problem(404);
}

#[test]
fn deleting_a_document_or_its_vendor_deletes_its_chunks() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let keep = vendor(&s, "Other");
    let a = uploaded(&s, &format!("vendor={v}"), random(200 << 10));
    let i = interaction(&s, &v, json!({}));
    uploaded(&s, &format!("interaction={i}"), random(100 << 10));
    let kept = uploaded(&s, &format!("vendor={keep}"), random(70 << 10));
    let a = a["id"].as_str().unwrap();
    assert_eq!(s.delete(&format!("/v1/documents/{a}")).status, 204);
    s.get(&format!("/v1/documents/{a}")).problem(404);
    s.delete(&format!("/v1/documents/{a}")).problem(404);
    assert_eq!(s.delete(&format!("/v1/vendors/{v}")).status, 204);
    assert_eq!(s.get("/v1/documents").json()["items"], json!([kept]));
    assert_eq!((rows(&s, "documents"), rows(&s, "document_chunks")), (1, 2));
}

#[test]
fn sharing_is_off_by_default_and_turned_on_and_off() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let doc = uploaded(&s, &format!("vendor={v}"), b"x".to_vec());
    let id = doc["id"].as_str().unwrap();
    assert_eq!(
        s.post(&format!("/v1/documents/{id}/share"), &json!({}))
            .json()["shared"],
        true
    );
    assert_eq!(s.get(&format!("/v1/documents/{id}")).json()["shared"], true);
    let r = s.send(
        "PATCH",
        &format!("/v1/documents/{id}"),
        Some(&json!({"shared": false})),
    );
    assert_eq!(r.json()["shared"], false, "{}", r.text);
    assert_eq!(
        s.post(&format!("/v1/documents/{id}/unshare"), &json!({}))
            .json()["shared"],
        false
    );
    s.post("/v1/documents/doc_aaaaaaaaaaaaaaaa/share", &json!({}))
        .problem(404);
}

/// A vendor connected with `interactions:read`, an interaction shared with it, and a shared
/// document on that interaction.
struct Shared {
    s: TestServer,
    a: VendorApp,
    doc: String,
}

fn shared_setup() -> Shared {
    let s = TestServer::spawn_logging_every_read();
    let a = VendorApp::connect(&s, "A");
    a.grant(&s, &["interactions:read"], None);
    let i = interaction(&s, &a.vendor_id, json!({"shared": true}));
    let doc = uploaded(
        &s,
        &format!("interaction={i}&file_name=invoice.pdf"),
        b"%PDF-1.7 the invoice".to_vec(),
    );
    let doc = doc["id"].as_str().unwrap().to_owned();
    s.post(&format!("/v1/documents/{doc}/share"), &json!({}));
    Shared { s, a, doc }
}

#[test]
fn a_vendor_reads_a_shared_document_on_an_interaction_shared_with_it_and_it_is_logged() {
    let Shared { s, a, doc } = shared_setup();
    let r = a.get(&a.token(), &format!("/v1/vendor/documents/{doc}"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.text, "%PDF-1.7 the invoice");
    assert!(
        r.header("content-disposition")
            .unwrap()
            .starts_with("attachment;")
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(r.header("content-security-policy"), Some("sandbox"));
    let log = s.list_all(&format!("/v1/access-log?vendor={}", a.vendor_id));
    let entry = log
        .iter()
        .find(|e| e["endpoint"] == "GET /v1/vendor/documents/{id}")
        .unwrap_or_else(|| panic!("no log entry: {log:?}"));
    assert_eq!(entry["status"], 200);
    assert_eq!(entry["ids"], json!([doc]));
}

#[test]
fn another_vendors_token_gets_404() {
    let Shared { s, doc, .. } = shared_setup();
    let b = VendorApp::connect(&s, "B");
    b.grant(&s, &["interactions:read"], None);
    let p = b
        .get(&b.token(), &format!("/v1/vendor/documents/{doc}"))
        .problem(404);
    assert!(!p.to_string().contains("invoice"), "{p}");
}

#[test]
fn an_unshared_document_on_a_shared_interaction_is_404() {
    let Shared { s, a, doc } = shared_setup();
    s.post(&format!("/v1/documents/{doc}/unshare"), &json!({}));
    a.get(&a.token(), &format!("/v1/vendor/documents/{doc}"))
        .problem(404);
}

#[test]
fn a_shared_document_on_an_unshared_interaction_is_404() {
    let s = TestServer::spawn();
    let a = VendorApp::connect(&s, "A");
    a.grant(&s, &["interactions:read"], None);
    let i = interaction(&s, &a.vendor_id, json!({"shared": false}));
    let doc = uploaded(&s, &format!("interaction={i}"), b"private".to_vec());
    let doc = doc["id"].as_str().unwrap();
    s.post(&format!("/v1/documents/{doc}/share"), &json!({}));
    a.get(&a.token(), &format!("/v1/vendor/documents/{doc}"))
        .problem(404);
}

#[test]
fn a_shared_document_on_a_purchase_or_the_vendor_is_404() {
    let s = TestServer::spawn();
    let a = VendorApp::connect(&s, "A");
    a.grant(&s, &["interactions:read"], None);
    let p = s.create(
        "/v1/purchases",
        &json!({"vendor_id": a.vendor_id, "item": "Washer", "amount": "499", "currency": "EUR"}),
    );
    let token = a.token();
    for query in [format!("purchase={p}"), format!("vendor={}", a.vendor_id)] {
        let doc = uploaded(&s, &query, b"mine".to_vec());
        let doc = doc["id"].as_str().unwrap();
        s.post(&format!("/v1/documents/{doc}/share"), &json!({}));
        a.get(&token, &format!("/v1/vendor/documents/{doc}"))
            .problem(404);
    }
    a.get(&token, "/v1/vendor/documents/doc_aaaaaaaaaaaaaaaa")
        .problem(404);
}

#[test]
fn a_token_without_interactions_read_is_refused() {
    let Shared { s, a: _, doc } = shared_setup();
    let c = VendorApp::connect(&s, "C");
    c.grant(&s, &["relationship:read"], None);
    let r = c.get(&c.token(), &format!("/v1/vendor/documents/{doc}"));
    r.problem(403);
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .contains("interactions:read")
    );
}

#[test]
fn a_revoked_grant_reads_nothing() {
    let s = TestServer::spawn();
    let a = VendorApp::connect(&s, "A");
    let grant = a.grant(&s, &["interactions:read"], None);
    let i = interaction(&s, &a.vendor_id, json!({"shared": true}));
    let doc = uploaded(&s, &format!("interaction={i}"), b"x".to_vec());
    let doc = doc["id"].as_str().unwrap();
    s.post(&format!("/v1/documents/{doc}/share"), &json!({}));
    let token = a.token();
    assert_eq!(
        a.get(&token, &format!("/v1/vendor/documents/{doc}")).status,
        200
    );
    let r = s.post(&format!("/v1/grants/{grant}/revoke"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    a.get(&token, &format!("/v1/vendor/documents/{doc}"))
        .problem(401);
}

#[test]
fn the_cli_adds_lists_gets_shares_and_removes_documents() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme Appliances");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("facture.pdf");
    let data = [b"%PDF-1.7\n".to_vec(), random(200 << 10)].concat();
    std::fs::write(&file, &data).unwrap();
    let file_arg = file.to_str().unwrap();

    let out = s.carnet(&[
        "--json",
        "doc",
        "add",
        file_arg,
        "--vendor",
        "Acme Appliances",
        "--title",
        "Invoice",
    ]);
    let added = out.ok().json();
    let id = added["id"].as_str().unwrap().to_owned();
    assert_eq!(added["file_name"], "facture.pdf");
    assert_eq!(added["content_type"], "application/pdf");
    assert_eq!(added["vendor_id"], v);
    let human = s.carnet(&["doc", "add", file_arg, "--vendor", &v]);
    assert!(
        human.ok().stdout.starts_with("added document doc_"),
        "{}",
        human.stdout
    );

    let listed = s.carnet(&["--json", "doc", "list", "--vendor", "Acme Appliances"]);
    assert_eq!(listed.ok().json().as_array().unwrap().len(), 2);
    let table = s.carnet(&["doc", "list"]);
    assert!(
        table.ok().stdout.contains("Acme Appliances"),
        "{}",
        table.stdout
    );
    let csv = s.carnet(&["--csv", "doc", "list"]);
    let csv = &csv.ok().stdout;
    assert!(
        csv.starts_with("id,vendor,attached to,title,file,type,size,shared"),
        "{csv}"
    );
    assert!(csv.contains(&id) && csv.contains("Invoice"), "{csv}");

    let out_file = dir.path().join("copy.pdf");
    s.carnet(&["doc", "get", &id, "--out", out_file.to_str().unwrap()])
        .ok();
    assert_eq!(std::fs::read(&out_file).unwrap(), data);
    let note = dir.path().join("note.txt");
    std::fs::write(&note, "Dear Sir,\nplease refund.\n").unwrap();
    let text = s.carnet(&[
        "--json",
        "doc",
        "add",
        note.to_str().unwrap(),
        "--vendor",
        &v,
    ]);
    let text_id = text.ok().json()["id"].as_str().unwrap().to_owned();
    let piped = s.carnet(&["doc", "get", &text_id, "--out", "-"]);
    assert_eq!(
        piped.ok().stdout,
        "Dear Sir,\nplease refund.\n",
        "bytes on stdout"
    );
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".carnet-doc-"))
        .collect();
    assert!(left.is_empty(), "no temporary file left: {left:?}");

    let shared = s.carnet(&["--json", "doc", "share", &id]);
    assert_eq!(shared.ok().json()["shared"], true);
    let unshared = s.carnet(&["doc", "unshare", &id]);
    assert!(
        unshared.ok().stdout.contains("no longer shared"),
        "{}",
        unshared.stdout
    );

    let refused = s.carnet(&[
        "doc",
        "add",
        file_arg,
        "--vendor",
        &v,
        "--purchase",
        "pur_aaaaaaaaaaaaaaaa",
    ]);
    assert_ne!(refused.code, 0);
    let missing = s.carnet(&["doc", "add", file_arg, "--purchase", "pur_aaaaaaaaaaaaaaaa"]);
    assert_ne!(missing.code, 0);
    assert!(
        missing.stderr.contains("no purchase pur_aaaaaaaaaaaaaaaa"),
        "{}",
        missing.stderr
    );

    s.carnet(&["doc", "rm", &id, "--yes"]).ok();
    let gone = s.carnet(&["doc", "get", &id, "--out", out_file.to_str().unwrap()]);
    assert_ne!(gone.code, 0);
    assert!(gone.stderr.contains("no document"), "{}", gone.stderr);
    assert_eq!(std::fs::read(&out_file).unwrap(), data, "left as it was");
}

#[test]
fn an_upload_that_stalls_is_refused_and_leaves_nothing() {
    use std::io::{Read, Write};
    let s = TestServer::spawn_with_settings(Settings {
        import_idle_timeout: std::time::Duration::from_millis(300),
        ..Settings::default()
    });
    let v = vendor(&s, "Acme");
    let mut raw = std::net::TcpStream::connect(s.base.trim_start_matches("http://")).unwrap();
    write!(
        raw,
        "POST /v1/documents?vendor={v} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: {}\r\n\r\n",
        s.token(),
        1 << 20
    )
    .unwrap();
    // More than one batch, then silence: the server gives up by itself.
    raw.write_all(&random(300 << 10)).unwrap();
    raw.flush().unwrap();
    let mut answer = String::new();
    let _ = raw.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(answer.contains("stalled"), "{answer}");
    assert!(
        answer.contains("nothing of this upload was kept"),
        "{answer}"
    );
    assert_eq!((rows(&s, "documents"), rows(&s, "document_chunks")), (0, 0));
}
