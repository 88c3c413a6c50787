//! Documents in the archive (version 4): an export carries every document's description and
//! bytes as chunk records of at most 1 MiB, `age -d` reads it, and an import on a fresh server
//! gives back the same documents byte for byte, shared flags kept. A chunk record out of
//! order, missing, held twice or naming an unknown document, bytes that do not add up to the
//! size, and documents past the importing vault's limits are refused with nothing imported.
//! An archive of version 3 (no documents) still imports.

use carnet_core::documents::Limits;
use carnet_server::Settings;
use carnet_tests::{Api, Resp, TestServer, http};
use serde_json::{Value, json};

use crate::documents::{content, random, uploaded};
use crate::export::{Key, encrypt_to, export, the_schema};
use crate::{interaction, vendor};

/// A vault with a document attached to each kind of record: 2.5 MiB of random bytes on the
/// vendor (three chunk records), an empty file on a purchase, a small PDF on an incident and
/// a shared text on a shared interaction; and the documents' bytes by id.
fn with_documents() -> (TestServer, Vec<(String, Vec<u8>)>) {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let purchase = s.create(
        "/v1/purchases",
        &json!({"vendor_id": v, "item": "Washing machine", "amount": "699.90",
                "currency": "EUR", "date": "2026-11-02"}),
    );
    let incident = s.create(
        "/v1/incidents",
        &json!({"vendor_id": v, "description": "The door seal leaks"}),
    );
    let talk = interaction(&s, &v, json!({"shared": true}));
    let files: Vec<(String, Vec<u8>)> = vec![
        (
            format!("vendor={v}&title=Contract&file_name=contract.bin"),
            random(5 << 19),
        ),
        (
            format!("purchase={purchase}&file_name=empty.txt"),
            Vec::new(),
        ),
        (
            format!("incident={incident}&title=Photo"),
            b"%PDF-1.7\n% the damage\n".to_vec(),
        ),
        (
            format!("interaction={talk}&file_name=letter.txt"),
            b"Dear Acme, the seal still leaks.\n".to_vec(),
        ),
    ];
    let mut held = Vec::new();
    for (query, data) in files {
        let id = uploaded(&s, &query, data.clone())["id"]
            .as_str()
            .unwrap()
            .to_owned();
        held.push((id, data));
    }
    let shared = &held[3].0;
    assert_eq!(
        s.post(&format!("/v1/documents/{shared}/share"), &json!({}))
            .status,
        200
    );
    (s, held)
}

fn documents(s: &TestServer) -> Value {
    s.get("/v1/documents").json()["items"].clone()
}

#[test]
fn documents_round_trip_through_export_and_import_with_age() {
    let (a, held) = with_documents();
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(dir.path(), "key.txt");
    let out = dir.path().join("vault.age");
    let plain = export(&a, &out, &key);
    let doc: Value = serde_json::from_slice(&plain).unwrap();
    let errors: Vec<String> = the_schema()
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "does not match its schema: {errors:?}");
    assert_eq!(doc["version"], 5);
    assert_eq!(doc["counts"]["documents"], 4);
    assert_eq!(doc["documents"].as_array().unwrap().len(), 4);
    // The 2.5 MiB file in records of 1 MiB, 1 MiB and 0.5 MiB; none for the empty file.
    let records = doc["document_chunks"].as_array().unwrap();
    let sizes: Vec<(String, u64, usize)> = records
        .iter()
        .map(|r| {
            let data = data_encoding::BASE64
                .decode(r["data"].as_str().unwrap().as_bytes())
                .unwrap();
            (
                r["document_id"].as_str().unwrap().to_owned(),
                r["index"].as_u64().unwrap(),
                data.len(),
            )
        })
        .collect();
    assert_eq!(
        sizes,
        vec![
            (held[0].0.clone(), 0, 1 << 20),
            (held[0].0.clone(), 1, 1 << 20),
            (held[0].0.clone(), 2, 1 << 19),
            (held[2].0.clone(), 0, held[2].1.len()),
            (held[3].0.clone(), 0, held[3].1.len()),
        ]
    );

    // The standard age tool reads it, and the JSON it yields holds the documents.
    match std::process::Command::new("age")
        .args(["-d", "-i", key.path(), out.to_str().unwrap()])
        .output()
    {
        Ok(o) => {
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let by_age: Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(by_age["documents"], doc["documents"]);
            assert_eq!(by_age["document_chunks"], doc["document_chunks"]);
        }
        Err(e) if std::env::var_os("CI").is_some() => panic!("the age tool is missing: {e}"),
        Err(e) => eprintln!("skipping `age -d` (the age tool is not installed: {e})"),
    }

    let b = TestServer::spawn();
    let o = b.carnet(&["import", out.to_str().unwrap(), "--identity", key.path()]);
    o.ok();
    assert!(
        o.stderr.contains("4 documents") || o.stdout.contains("4 documents"),
        "{} {}",
        o.stdout,
        o.stderr
    );
    assert_eq!(documents(&b), documents(&a));
    assert_eq!(documents(&b)[3]["shared"], true);
    assert_eq!(documents(&b)[0]["shared"], false);
    for (id, data) in &held {
        let got = content(&b, id);
        assert_eq!(got.status(), 200);
        assert_eq!(&got.bytes().unwrap()[..], &data[..], "document {id}");
    }
    // Sealed anew under the new vault's keys: none of it is in its file in clear.
    let db = std::fs::read(b.path().join("carnet.db")).unwrap();
    assert!(!db.windows(64).any(|w| w == &held[0].1[4096..4160]));
}

/// The plaintext archive of `s` (`GET /v1/export`).
fn plain_export(s: &TestServer) -> String {
    let r = s.get("/v1/export");
    assert_eq!(r.status, 200, "{}", r.text);
    r.text
}

/// `archive` with its chunk records (one per line) passed through `f`.
fn chunks_edited(archive: &str, f: impl Fn(&mut Vec<String>)) -> String {
    let lines: Vec<&str> = archive.split('\n').collect();
    let is_chunk = |l: &&str| l.starts_with("{\"document_id\":");
    let first = lines.iter().position(is_chunk).unwrap();
    let last = lines.iter().rposition(is_chunk).unwrap();
    let mut records: Vec<String> = lines[first..=last]
        .iter()
        .map(|l| l.trim_end_matches(',').to_owned())
        .collect();
    f(&mut records);
    let mut out: Vec<String> = lines[..first].iter().map(|l| l.to_string()).collect();
    out.push(records.join(",\n"));
    out.extend(lines[last + 1..].iter().map(|l| l.to_string()));
    out.join("\n")
}

fn import_plain(s: &TestServer, archive: String) -> Resp {
    Resp::from(
        http()
            .post(s.url("/v1/import"))
            .bearer_auth(s.token())
            .header("content-type", "application/json")
            .body(archive)
            .send()
            .unwrap(),
    )
}

/// Nothing was imported: no vendor, no document row, no chunk.
#[track_caller]
fn nothing_imported(s: &TestServer) {
    assert_eq!(s.get("/v1/vendors").json()["items"], json!([]));
    let db = rusqlite::Connection::open(s.path().join("carnet.db")).unwrap();
    for table in ["documents", "document_chunks", "vendors"] {
        let n: i64 = db
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0, "{table}");
    }
}

#[test]
fn chunk_records_out_of_order_missing_twice_or_unknown_are_refused_and_nothing_is_imported() {
    let (a, held) = with_documents();
    let archive = plain_export(&a);
    let cases: Vec<(&str, String, String)> = vec![
        (
            "out of order",
            chunks_edited(&archive, |r| r.swap(0, 1)),
            "record 1 of document".into(),
        ),
        (
            "missing",
            chunks_edited(&archive, |r| {
                r.remove(1);
            }),
            "record 2 of document".into(),
        ),
        (
            "missing last",
            chunks_edited(&archive, |r| {
                r.remove(2);
            }),
            "a record is missing".into(),
        ),
        (
            "twice",
            chunks_edited(&archive, |r| {
                let again = r[4].clone();
                r.push(again);
            }),
            "comes where record 1 should".into(),
        ),
        (
            "unknown document",
            chunks_edited(&archive, |r| {
                r[4] = r[4].replace(&held[3].0, "doc_0000000000000000");
            }),
            "which `documents` does not hold".into(),
        ),
        (
            "a document with no record",
            chunks_edited(&archive, |r| {
                r.remove(4);
            }),
            "has no record".into(),
        ),
        (
            "more bytes than its size",
            archive.replace("\"size\":2621440", "\"size\":2621439"),
            "more than its size".into(),
        ),
        (
            "fewer bytes than its size",
            archive.replace("\"size\":2621440", "\"size\":2621441"),
            "not its size".into(),
        ),
        (
            "not base64",
            chunks_edited(&archive, |r| {
                r[3] = r[3].replace("\"data\":\"", "\"data\":\"*");
            }),
            "not base64".into(),
        ),
    ];
    for (what, edited, needle) in cases {
        assert_ne!(edited, archive, "{what}: the edit changed nothing");
        let b = TestServer::spawn();
        let r = import_plain(&b, edited);
        let p = r.problem(422);
        let detail = p["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(&needle), "{what}: {p}");
        nothing_imported(&b);
    }
}

#[test]
fn documents_past_the_importing_vaults_limits_are_refused_and_nothing_is_imported() {
    let (a, _) = with_documents();
    let archive = plain_export(&a);
    for (limits, needle) in [
        (
            Limits::from_mib(2, 100),
            "more than the 2 MiB one document may hold here",
        ),
        (
            Limits::from_mib(25, 2),
            "more than this vault's quota of 2 MiB",
        ),
    ] {
        let b = TestServer::spawn_with_settings(Settings {
            documents: limits,
            ..Settings::default()
        });
        let r = import_plain(&b, archive.clone());
        let p = r.problem(413);
        assert!(p["detail"].as_str().unwrap().contains(needle), "{p}");
        assert!(
            p["hint"].as_str().unwrap().contains("document_quota_mib"),
            "{p}"
        );
        nothing_imported(&b);
    }
}

#[test]
fn a_version_3_archive_without_documents_still_imports() {
    let a = TestServer::spawn();
    let v = vendor(&a, "Acme");
    interaction(&a, &v, json!({}));
    let archive = plain_export(&a);
    let from = archive.find("\n\"documents\":[").unwrap();
    let v3 = format!("{}\n}}\n", &archive[..from].trim_end_matches(','))
        .replace("\n\"version\":5,\n", "\n\"version\":3,\n")
        .replace(",\"documents\":0", "");
    assert!(
        !v3.contains("document") && v3.contains("\"version\":3,"),
        "{v3}"
    );
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(dir.path(), "key.txt");
    let file = dir.path().join("v3.age");
    std::fs::write(&file, encrypt_to(v3.as_bytes(), &key.identity.to_public())).unwrap();
    let b = TestServer::spawn();
    b.carnet(&["import", file.to_str().unwrap(), "--identity", key.path()])
        .ok();
    assert_eq!(b.get("/v1/vendors").json(), a.get("/v1/vendors").json());
    assert_eq!(documents(&b), json!([]));
}
