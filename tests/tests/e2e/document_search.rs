//! Search finds documents (issue 18) by their titles and file names, never their content: a
//! hit of kind `document` says its title, file name, vendor and what it is attached to. Kept
//! up to date by adding and deleting, rebuilt at unlock, and never reachable by a vendor.

use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, Resp, TestServer, http};
use serde_json::{Value, json};

use crate::vendor;

fn upload(s: &TestServer, query: &str, body: &[u8]) -> Value {
    let r = Resp::from(
        http()
            .post(s.url(&format!("/v1/documents?{query}")))
            .bearer_auth(s.token())
            .body(body.to_vec())
            .send()
            .unwrap(),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    r.json()
}

fn search(s: &TestServer, query: &str) -> Vec<Value> {
    let r = s.get(&format!("/v1/search?{query}"));
    assert_eq!(r.status, 200, "{query}: {}", r.text);
    r.json()["items"].as_array().unwrap().clone()
}

fn ids(s: &TestServer, query: &str) -> Vec<String> {
    search(s, query)
        .iter()
        .map(|h| h["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A vendor, a purchase of it, and a document on that purchase: (vendor, purchase, document).
fn boiler(s: &TestServer) -> (String, String, String) {
    let v = vendor(s, "Chauffage Martin");
    let p = s.create(
        "/v1/purchases",
        &json!({"vendor_id": v, "item": "Boiler service", "amount": "180.00", "currency": "EUR"}),
    );
    let doc = upload(
        s,
        &format!("purchase={p}&title=Facture%20chaudi%C3%A8re&file_name=devis-entretien_2026.pdf"),
        b"%PDF-1.7 confidentialword",
    );
    (v, p, doc["id"].as_str().unwrap().to_owned())
}

#[test]
fn a_document_is_found_by_a_title_word_and_a_file_name_word_never_by_its_content() {
    let s = TestServer::spawn();
    let (v, p, doc) = boiler(&s);
    let hits = search(&s, "q=chaudiere");
    assert_eq!(
        hits,
        vec![json!({
            "kind": "document",
            "id": doc,
            "vendor_id": v,
            "title": "Facture chaudière",
            "file_name": "devis-entretien_2026.pdf",
            "attached_to": {"kind": "purchase", "id": p},
            "score": hits[0]["score"],
        })]
    );
    assert_eq!(
        ids(&s, "q=entretien"),
        vec![doc.clone()],
        "a file-name word"
    );
    assert_eq!(ids(&s, "q=devis%202026"), vec![doc.clone()]);
    assert!(
        ids(&s, "q=confidentialword").is_empty(),
        "never the content"
    );
    assert_eq!(ids(&s, "q=facture&kind=document"), vec![doc.clone()]);
    assert!(ids(&s, "q=facture&kind=purchase").is_empty());
    assert_eq!(ids(&s, &format!("q=facture&vendor={v}")), vec![doc.clone()]);
    let other = vendor(&s, "Other");
    assert!(ids(&s, &format!("q=facture&vendor={other}")).is_empty());
    // Other hits have no document fields.
    let purchase = &search(&s, "q=boiler")[0];
    assert!(purchase.get("file_name").is_none() && purchase.get("attached_to").is_none());
}

#[test]
fn a_deleted_document_is_not_found_and_neither_is_one_whose_record_was_deleted() {
    let s = TestServer::spawn();
    let (v, p, doc) = boiler(&s);
    assert_eq!(s.delete(&format!("/v1/documents/{doc}")).status, 204);
    assert!(ids(&s, "q=chaudiere").is_empty());
    // Deleting the purchase deletes its documents: the index forgets them in that write.
    upload(&s, &format!("purchase={p}&title=Notice%20radiateur"), b"x");
    let other = upload(&s, &format!("vendor={v}&title=Notice%20pompe"), b"x");
    assert_eq!(ids(&s, "q=radiateur").len(), 1);
    assert_eq!(s.delete(&format!("/v1/purchases/{p}")).status, 204);
    assert!(ids(&s, "q=radiateur").is_empty());
    assert_eq!(
        ids(&s, "q=notice"),
        vec![other["id"].as_str().unwrap()],
        "the vendor's stays"
    );
}

#[test]
fn a_document_is_still_found_after_a_restart_and_its_vendors_deletion_forgets_it() {
    let s = TestServer::spawn();
    let (v, _, doc) = boiler(&s);
    let s = TestServer::restart_in(s.stop());
    assert_eq!(ids(&s, "q=chaudiere"), vec![doc.clone()], "built at unlock");
    assert_eq!(ids(&s, "q=entretien"), vec![doc]);
    assert_eq!(s.delete(&format!("/v1/vendors/{v}")).status, 204);
    assert!(ids(&s, "q=chaudiere").is_empty());
}

#[test]
fn a_vendor_cannot_search_documents_whatever_its_scopes() {
    let s = TestServer::spawn();
    let a = VendorApp::connect(&s, "A");
    a.grant(&s, &["interactions:read", "relationship:read"], None);
    let i = s.create(
        "/v1/interactions",
        &json!({"vendor_id": a.vendor_id, "channel": "email", "summary": "Quote", "shared": true}),
    );
    let doc = upload(&s, &format!("interaction={i}&title=Secret%20quote"), b"x");
    s.post(
        &format!("/v1/documents/{}/share", doc["id"].as_str().unwrap()),
        &json!({}),
    );
    let token = a.token();
    // The owner's search does not take a vendor's token…
    let r = a.get(&token, "/v1/search?q=secret");
    assert_eq!(r.status, 401, "{}", r.text);
    // …and the vendor API has no search at all.
    for path in [
        "/v1/vendor/search?q=secret",
        "/v1/vendor/documents?q=secret",
    ] {
        let r = a.get(&token, path);
        assert!(
            r.status == 404 || r.status == 405,
            "{path}: {} {}",
            r.status,
            r.text
        );
        assert!(!r.text.contains("Secret"), "{path}: {}", r.text);
    }
}

#[test]
fn carnet_search_shows_document_hits_and_json_says_what_they_are_attached_to() {
    let s = TestServer::spawn();
    let (_, p, doc) = boiler(&s);
    let out = s.carnet(&["search", "chaudiere"]);
    out.ok();
    assert!(out.stdout.contains(&doc), "{}", out.stdout);
    assert!(out.stdout.contains("document"), "{}", out.stdout);
    let json = s.carnet(&["search", "entretien", "--kind", "document", "--json"]);
    let items = json.ok().json();
    assert_eq!(items[0]["id"], doc);
    assert_eq!(items[0]["file_name"], "devis-entretien_2026.pdf");
    assert_eq!(
        items[0]["attached_to"],
        json!({"kind": "purchase", "id": p})
    );
}
