//! The web app's documents (issue 18): the upload form a phone's camera fills (multipart,
//! streamed), the list on a vendor's page, download with the owner API's safe headers,
//! share/unshare and delete, each refused without the form's token, and a readable page for
//! a file past the limit, with nothing kept.

use carnet_server::Settings;
use carnet_tests::browser::input_value;
use carnet_tests::webapp::WebApp;
use carnet_tests::{Api, Resp, TestServer, http};
use serde_json::{Value, json};

const BOUNDARY: &str = "----carnet-test-boundary-7MA4YWxkTrZu0gW";

/// A multipart/form-data body of `fields` (name, value) then the file field `file`
/// (file name, bytes), in that order, as a browser sends the form.
fn multipart(fields: &[(&str, &str)], file: Option<(&str, &[u8])>) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    if let Some((name, bytes)) = file {
        b.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        b.extend_from_slice(bytes);
        b.extend_from_slice(b"\r\n");
    }
    b.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    b
}

fn post_multipart(app: &WebApp, s: &TestServer, path: &str, body: Vec<u8>) -> Resp {
    Resp::from(
        http()
            .post(s.url(path))
            .header("cookie", app.cookie_header())
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(body)
            .send()
            .unwrap(),
    )
}

/// The form token of vendor `v`'s page.
fn token(app: &mut WebApp, v: &str) -> String {
    let page = app.get(&format!("/app/vendors/{v}"));
    assert_eq!(page.status, 200, "{}", page.text);
    input_value(&page.text, "csrf").unwrap()
}

fn documents(s: &TestServer) -> Vec<Value> {
    s.get("/v1/documents").json()["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn vendor(s: &TestServer, name: &str) -> String {
    s.create("/v1/vendors", &json!({ "name": name }))
}

/// A server with vendor Acme and a purchase of it: (server, vendor, purchase).
fn washer() -> (TestServer, String, String) {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let p = s.create(
        "/v1/purchases",
        &json!({"vendor_id": v, "item": "Washer", "amount": "500.00", "currency": "EUR"}),
    );
    (s, v, p)
}

#[test]
fn the_vendor_page_offers_an_upload_form_a_phones_camera_can_fill() {
    let (s, v, p) = washer();
    let mut app = WebApp::signed_in(&s);
    let page = app.get(&format!("/app/vendors/{v}"));
    assert!(
        page.text.contains("enctype=\"multipart/form-data\""),
        "{}",
        page.text
    );
    assert!(page.text.contains("capture=\"environment\""));
    assert!(page.text.contains("accept=\"image/*,application/pdf"));
    assert!(page.text.contains("No document kept for this vendor yet."));
    // Its records are offered as what to attach to.
    assert!(
        page.text
            .contains(&format!("<option value=\"{p}\">purchase: Washer</option>")),
        "{}",
        page.text
    );
}

#[test]
fn an_upload_through_the_form_is_listed_downloaded_shared_and_deleted() {
    let (s, v, p) = washer();
    let mut app = WebApp::signed_in(&s);
    let csrf = token(&mut app, &v);
    let photo: Vec<u8> = [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[7u8; 200_000][..]].concat();
    let r = post_multipart(
        &app,
        &s,
        &format!("/app/vendors/{v}/documents"),
        multipart(
            &[("csrf", &csrf), ("title", "Damage photo"), ("to", &p)],
            Some(("IMG_0042.jpg", &photo)),
        ),
    );
    assert_eq!(r.status, 303, "{}", r.text);
    let docs = documents(&s);
    assert_eq!(docs.len(), 1);
    let d = &docs[0];
    let id = d["id"].as_str().unwrap();
    assert_eq!(d["title"], "Damage photo");
    assert_eq!(d["file_name"], "IMG_0042.jpg");
    assert_eq!(d["content_type"], "image/jpeg");
    assert_eq!(d["size"], photo.len());
    assert_eq!(d["attached_to"], json!({"kind": "purchase", "id": p}));
    assert_eq!(
        r.header("location"),
        Some(format!("/app/vendors/{v}#{id}").as_str())
    );

    let page = app.get(&format!("/app/vendors/{v}"));
    for shown in [
        "Damage photo",
        "IMG_0042.jpg",
        "195.3 KiB",
        "purchase: Washer",
    ] {
        assert!(page.text.contains(shown), "{shown}: {}", page.text);
    }
    assert!(
        page.text
            .contains(&format!("href=\"/app/documents/{id}/content\""))
    );

    let got = http()
        .get(s.url(&format!("/app/documents/{id}/content")))
        .header("cookie", app.cookie_header())
        .send()
        .unwrap();
    assert_eq!(got.status(), 200);
    let h = got.headers().clone();
    assert_eq!(h["content-type"], "image/jpeg");
    assert!(
        h["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"IMG_0042.jpg\"")
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["content-security-policy"], "sandbox");
    assert_eq!(got.bytes().unwrap().as_ref(), &photo[..]);
    // Without the session: no bytes.
    let anon = Resp::from(
        http()
            .get(s.url(&format!("/app/documents/{id}/content")))
            .send()
            .unwrap(),
    );
    assert_eq!(anon.status, 303);
    assert!(anon.text.is_empty());

    let page = format!("/app/vendors/{v}");
    let r = app.submit(&page, &format!("/app/documents/{id}/share"), &[]);
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(s.get(&format!("/v1/documents/{id}")).json()["shared"], true);
    assert!(app.get(&page).text.contains("Stop sharing"));
    let r = app.submit(&page, &format!("/app/documents/{id}/unshare"), &[]);
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        s.get(&format!("/v1/documents/{id}")).json()["shared"],
        false
    );

    let r = app.submit(&page, &format!("/app/documents/{id}/delete"), &[]);
    assert_eq!(r.status, 303, "{}", r.text);
    assert_eq!(
        r.header("location"),
        Some(format!("/app/vendors/{v}#documents").as_str())
    );
    assert!(documents(&s).is_empty());
    assert_eq!(app.get(&format!("/app/documents/{id}/content")).status, 404);
}

#[test]
fn without_the_form_token_nothing_is_uploaded_shared_or_deleted() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let mut app = WebApp::signed_in(&s);
    let csrf = token(&mut app, &v);
    let path = format!("/app/vendors/{v}/documents");
    for fields in [
        vec![("title", "No token")],
        vec![("csrf", "forged"), ("title", "Forged token")],
    ] {
        let r = post_multipart(
            &app,
            &s,
            &path,
            multipart(&fields, Some(("a.pdf", b"%PDF-1.7"))),
        );
        assert_eq!(r.status, 403, "{}", r.text);
    }
    // The token after the file is too late: the file is never read.
    let mut late = multipart(&[], Some(("a.pdf", b"%PDF-1.7")));
    late.truncate(late.len() - format!("--{BOUNDARY}--\r\n").len());
    late.extend(multipart(&[("csrf", &csrf)], None));
    assert_eq!(post_multipart(&app, &s, &path, late).status, 403);
    // From another site, even with the token.
    let r = Resp::from(
        http()
            .post(s.url(&path))
            .header("cookie", app.cookie_header())
            .header("sec-fetch-site", "cross-site")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(multipart(&[("csrf", &csrf)], Some(("a.pdf", b"%PDF-1.7"))))
            .send()
            .unwrap(),
    );
    assert_eq!(r.status, 403);
    assert!(documents(&s).is_empty());

    let doc = Resp::from(
        http()
            .post(s.url(&format!("/v1/documents?vendor={v}&title=Kept")))
            .bearer_auth(s.token())
            .body(b"x".to_vec())
            .send()
            .unwrap(),
    )
    .json();
    let id = doc["id"].as_str().unwrap();
    for action in ["share", "delete"] {
        let r = app.post_raw(&format!("/app/documents/{id}/{action}"), &[]);
        assert_eq!(r.status, 403, "{action}: {}", r.text);
    }
    assert_eq!(documents(&s), vec![doc]);
}

#[test]
fn a_file_over_the_limit_gets_a_page_that_says_so_and_nothing_is_kept() {
    let s = TestServer::spawn_with_settings(Settings {
        documents: carnet_core::documents::Limits::from_mib(1, 3),
        ..Settings::default()
    });
    let v = vendor(&s, "Acme");
    let mut app = WebApp::signed_in(&s);
    let csrf = token(&mut app, &v);
    // Somewhat past the limit: read as it streams, then the page.
    let big = vec![1u8; (1 << 20) + 10];
    let r = post_multipart(
        &app,
        &s,
        &format!("/app/vendors/{v}/documents"),
        multipart(&[("csrf", &csrf)], Some(("big.bin", &big))),
    );
    assert_eq!(r.status, 413, "{}", r.text);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(r.text.contains("larger than 1 MiB"), "{}", r.text);
    assert!(documents(&s).is_empty());
    // Declared past twice the limit: refused before the file is read.
    let huge = vec![1u8; (2 << 20) + 10];
    let r = post_multipart(
        &app,
        &s,
        &format!("/app/vendors/{v}/documents"),
        multipart(&[("csrf", &csrf)], Some(("huge.bin", &huge))),
    );
    assert_eq!(r.status, 413, "{}", r.text);
    assert!(r.text.contains("larger than 1 MiB"), "{}", r.text);
    assert!(documents(&s).is_empty());
    // Somewhat past the limit without a declared length (chunked): refused as it streams. the limit without a declared length (chunked): refused as it streams.
    let body = multipart(&[("csrf", &csrf)], Some(("big.bin", &big)));
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        body.chunks(64 << 10).map(|c| Ok(c.to_vec())).collect();
    let r = Resp::from(
        http()
            .post(s.url(&format!("/app/vendors/{v}/documents")))
            .header("cookie", app.cookie_header())
            .header(
                "content-type",
                format!("multipart/form-data; boundary={BOUNDARY}"),
            )
            .body(reqwest::blocking::Body::new(ChunkedReader::new(chunks)))
            .send()
            .unwrap(),
    );
    assert_eq!(r.status, 413, "{}", r.text);
    assert!(r.text.contains("larger than 1 MiB"), "{}", r.text);
    assert!(documents(&s).is_empty());
}

/// A body of unknown length (sent chunked), read from these pieces.
struct ChunkedReader {
    pieces: std::vec::IntoIter<Result<Vec<u8>, std::io::Error>>,
    cur: std::io::Cursor<Vec<u8>>,
}

impl ChunkedReader {
    fn new(pieces: Vec<Result<Vec<u8>, std::io::Error>>) -> Self {
        ChunkedReader {
            pieces: pieces.into_iter(),
            cur: std::io::Cursor::new(Vec::new()),
        }
    }
}

impl std::io::Read for ChunkedReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.cur.read(buf)?;
            if n > 0 {
                return Ok(n);
            }
            match self.pieces.next() {
                None => return Ok(0),
                Some(p) => self.cur = std::io::Cursor::new(p?),
            }
        }
    }
}

#[test]
fn the_search_page_finds_a_document_and_links_to_it() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let doc = Resp::from(
        http()
            .post(s.url(&format!(
                "/v1/documents?vendor={v}&title=Warranty%20card&file_name=card.pdf"
            )))
            .bearer_auth(s.token())
            .body(b"%PDF-1.7".to_vec())
            .send()
            .unwrap(),
    )
    .json();
    let mut app = WebApp::signed_in(&s);
    let r = app.get("/app/search?q=warranty&kind=document");
    assert_eq!(r.status, 200, "{}", r.text);
    let id = doc["id"].as_str().unwrap();
    assert!(
        r.text.contains(&format!("href=\"/app/vendors/{v}#{id}\"")),
        "{}",
        r.text
    );
    assert!(r.text.contains("card.pdf"));
}
