//! Export and import: the archive decrypts with any age tool and matches its JSON Schema; an
//! import on a fresh server gives back the same vault (every id, `customer_ref`, and receipts
//! that still verify); hostile archives and non-empty vaults are refused with nothing changed;
//! the file is private and never written through a symbolic link.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use age::secrecy::{ExposeSecret, SecretString};
use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, CliOutput, TestServer, http};
use chrono::{Duration, Utc};
use data_encoding::BASE64URL_NOPAD;
use ring::signature::{ED25519, UnparsedPublicKey};
use serde_json::{Value, json};

/// A vault with something in every section, and the vendor that acted in it.
struct Filled {
    s: TestServer,
    acme: VendorApp,
}

fn filled() -> Filled {
    let s = TestServer::spawn();
    assert_eq!(
        s.put(
            "/v1/profile",
            &json!({"display_name": "Camille", "city": "Lyon"})
        )
        .status,
        200
    );
    assert_eq!(
        s.put(
            "/v1/password",
            &json!({"password": "correct horse battery"})
        )
        .status,
        204
    );
    let acme = VendorApp::connect(&s, "Acme Appliances");
    let baker = s.create(
        "/v1/vendors",
        &json!({"name": "Boulangerie", "categories": ["food"], "accounts": ["C-42"]}),
    );
    let incident = s.create(
        "/v1/incidents",
        &json!({"vendor_id": acme.vendor_id, "description": "The door seal leaks"}),
    );
    s.create(
        "/v1/interactions",
        &json!({"vendor_id": acme.vendor_id, "channel": "phone", "summary": "Reported the leak",
                "sentiment": -1, "next_step": "Call back", "next_due": "2030-01-10",
                "incident_id": incident, "shared": true}),
    );
    s.create(
        "/v1/interactions",
        &json!({"vendor_id": baker, "channel": "store", "summary": "Ordered a cake"}),
    );
    s.create(
        "/v1/purchases",
        &json!({"vendor_id": acme.vendor_id, "item": "Washing machine", "amount": "699.90",
                "currency": "EUR", "date": "2026-11-02", "warranty_until": "2028-11-02"}),
    );
    let until = Utc::now() + Duration::days(10);
    let intent = s.create(
        "/v1/intents",
        &json!({"category": "home.appliances.dryer", "title": "Tumble dryer",
                "price_specification": {"max_price": "500", "price_currency": "EUR"},
                "valid_through": until.to_rfc3339(), "terms": {"withhold": ["price_specification"]}}),
    );
    assert_eq!(
        s.post(&format!("/v1/intents/{intent}/activate"), &json!({}))
            .status,
        200
    );
    s.create(
        "/v1/intents",
        &json!({"category": "home.garden", "title": "Lawn mower"}),
    );
    acme.grant(
        &s,
        &[
            "intents:read",
            "offers:write",
            "relationship:read",
            "interactions:read",
            "profile:read",
        ],
        Some(&["home.appliances"]),
    );
    let token = acme.token();
    assert_eq!(acme.get(&token, "/v1/vendor/intents").status, 200);
    assert_eq!(acme.get(&token, "/v1/vendor/profile").status, 200);
    let offer = http()
        .post(format!("{}/v1/vendor/intents/{intent}/offers", s.base))
        .bearer_auth(&token)
        .json(&json!({"price": "449.00", "price_currency": "EUR", "description": "DR-7, delivered Friday"}))
        .send()
        .unwrap();
    assert_eq!(offer.status(), 201);
    Filled { s, acme }
}

/// Everything the owner API shows, listing by listing.
fn owner_view(s: &TestServer) -> Vec<(String, Value)> {
    let mut paths: Vec<String> = [
        "/v1/vendors?limit=1000",
        "/v1/interactions?limit=1000",
        "/v1/purchases?limit=1000",
        "/v1/incidents?limit=1000",
        "/v1/followups",
        "/v1/profile",
        "/v1/intents",
        "/v1/offers",
        "/v1/grants",
        "/v1/receipts",
        "/v1/clients",
        "/v1/access-log?limit=1000",
        "/v1/access-log/verify",
    ]
    .map(str::to_owned)
    .to_vec();
    for v in s.get("/v1/vendors?limit=1000").json()["items"]
        .as_array()
        .unwrap()
    {
        paths.push(format!("/v1/vendors/{}", v["id"].as_str().unwrap()));
    }
    paths
        .into_iter()
        .map(|p| {
            if p == "/v1/access-log/verify" {
                // A fresh check; when and how long it ran differ from server to server.
                let mut v = s.check_access_log();
                let o = v.as_object_mut().unwrap();
                o.remove("checked_at");
                o.remove("duration_ms");
                return (p, v);
            }
            let r = s.get(&p);
            assert_eq!(r.status, 200, "{p}: {}", r.text);
            (p, r.json())
        })
        .collect()
}

pub(crate) struct Key {
    pub(crate) identity: age::x25519::Identity,
    file: PathBuf,
}

impl Key {
    pub(crate) fn new(dir: &Path, name: &str) -> Key {
        let identity = age::x25519::Identity::generate();
        let file = dir.join(name);
        std::fs::write(
            &file,
            format!("# test key\n{}\n", identity.to_string().expose_secret()),
        )
        .unwrap();
        Key { identity, file }
    }

    pub(crate) fn public(&self) -> String {
        self.identity.to_public().to_string()
    }

    pub(crate) fn path(&self) -> &str {
        self.file.to_str().unwrap()
    }
}

pub(crate) fn decrypt_with(bytes: &[u8], identity: &dyn age::Identity) -> Vec<u8> {
    let mut plain = Vec::new();
    age::Decryptor::new(bytes)
        .unwrap()
        .decrypt(std::iter::once(identity))
        .unwrap()
        .read_to_end(&mut plain)
        .unwrap();
    plain
}

pub(crate) fn encrypt_to(plain: &[u8], recipient: &dyn age::Recipient) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = age::Encryptor::with_recipients(std::iter::once(recipient))
        .unwrap()
        .wrap_output(&mut out)
        .unwrap();
    w.write_all(plain).unwrap();
    w.finish().unwrap();
    out
}

/// Exports `s` to `out` for `key` and returns the plaintext.
pub(crate) fn export(s: &TestServer, out: &Path, key: &Key) -> Vec<u8> {
    s.carnet(&[
        "export",
        "--out",
        out.to_str().unwrap(),
        "--recipient",
        &key.public(),
    ])
    .ok();
    decrypt_with(&std::fs::read(out).unwrap(), &key.identity)
}

/// A refused CLI run: exit 1, one error line and one hint.
#[track_caller]
pub(crate) fn refused(o: &CliOutput, needle: &str) {
    assert_eq!(o.code, 1, "stdout: {}\nstderr: {}", o.stdout, o.stderr);
    let lines: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "one line and a hint: {}", o.stderr);
    assert!(lines[0].starts_with("carnet: error: "), "{}", o.stderr);
    assert!(lines[1].starts_with("  hint: "), "{}", o.stderr);
    assert!(o.stderr.contains(needle), "{needle:?} not in: {}", o.stderr);
}

/// Nothing in the vault: what an import that changed nothing leaves.
#[track_caller]
fn assert_empty(s: &TestServer) {
    for p in [
        "/v1/vendors",
        "/v1/interactions",
        "/v1/incidents",
        "/v1/access-log",
    ] {
        let items = s.get(p).json()["items"].clone();
        assert_eq!(items, json!([]), "{p} is not empty");
    }
    for p in ["/v1/intents", "/v1/receipts", "/v1/clients", "/v1/grants"] {
        assert_eq!(s.get(p).json(), json!([]), "{p} is not empty");
    }
    assert!(s.get("/v1/profile").json()["updated_at"].is_null());
}

pub(crate) fn the_schema() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/json/archive.schema.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn an_export_decrypts_with_age_and_matches_its_schema() {
    let f = filled();
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(dir.path(), "key.txt");
    let out = dir.path().join("vault.age");
    let plain = export(&f.s, &out, &key);
    let mode = std::fs::metadata(&out).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the archive is readable by its owner only");

    let doc: Value = serde_json::from_slice(&plain).unwrap();
    let errors: Vec<String> = the_schema()
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "archive does not match its schema: {errors:?}"
    );
    assert_eq!(doc["format"], "carnet-archive");
    assert_eq!(doc["version"], 5);
    let counts = &doc["counts"];
    assert_eq!(counts["vendors"], 2);
    assert_eq!(counts["interactions"], 2);
    assert_eq!(counts["intents"], 2);
    assert_eq!(counts["offers"], 1);
    assert_eq!(counts["receipts"], 1);
    assert!(counts["access_log"].as_u64().unwrap() >= 3, "{counts}");
    assert_eq!(doc["access_log_verification"]["ok"], true);
    assert_eq!(doc["keys"]["receipt_keys"].as_array().unwrap().len(), 2);
    assert!(
        doc["web_password"]
            .as_str()
            .unwrap()
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
    let text = String::from_utf8(plain.clone()).unwrap();
    assert!(
        !text.contains(&f.s.token()),
        "the owner token is never exported"
    );
    assert!(
        !text.contains(&f.acme.secret),
        "client secrets are exported as hashes only"
    );
    assert!(
        !std::fs::read(&out)
            .unwrap()
            .windows(8)
            .any(|w| w == b"Camille\""),
        "the file is encrypted"
    );

    // The standard age tool reads it too (installed by .ci/run; skipped where it is missing).
    match std::process::Command::new("age")
        .args(["-d", "-i", key.path(), out.to_str().unwrap()])
        .output()
    {
        Ok(o) => {
            assert!(
                o.status.success(),
                "age -d: {}",
                String::from_utf8_lossy(&o.stderr)
            );
            assert_eq!(o.stdout, plain, "age -d gives the same plaintext");
        }
        Err(e) if std::env::var_os("CI").is_some() => panic!("the age tool is missing: {e}"),
        Err(e) => eprintln!("skipping `age -d` (the age tool is not installed: {e})"),
    }

    // To a passphrase, given on stdin.
    let by_passphrase = dir.path().join("by-passphrase.age");
    f.s.carnet_stdin(
        &[
            "export",
            "--out",
            by_passphrase.to_str().unwrap(),
            "--passphrase-file",
            "-",
        ],
        "a long passphrase for the archive\n",
    )
    .ok();
    let mut scrypt =
        age::scrypt::Identity::new(SecretString::from("a long passphrase for the archive"));
    scrypt.set_max_work_factor(20);
    let again: Value = serde_json::from_slice(&decrypt_with(
        &std::fs::read(&by_passphrase).unwrap(),
        &scrypt,
    ))
    .unwrap();
    assert_eq!(again["counts"]["vendors"], 2);
    assert_eq!(again["vendors"], doc["vendors"]);
}

#[test]
fn an_import_on_a_fresh_server_keeps_every_id_customer_ref_and_receipt() {
    let f = filled();
    let a = &f.s;
    let token_a = f.acme.token();
    let ref_a = f.acme.get(&token_a, "/v1/vendor/relationship").json()["customer_ref"].clone();
    let intents_a = f.acme.get(&token_a, "/v1/vendor/intents").json()["items"].clone();
    let keys_a = a.get("/.well-known/carnet-receipt-keys").json();
    let before = owner_view(a);

    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(dir.path(), "key.txt");
    let out = dir.path().join("vault.age");
    export(a, &out, &key);
    let b = TestServer::spawn();
    let o = b.carnet(&["import", out.to_str().unwrap(), "--identity", key.path()]);
    o.ok();
    assert!(
        o.stdout.starts_with("imported 2 vendors, 2 interactions"),
        "{}",
        o.stdout
    );

    let after = owner_view(&b);
    assert_eq!(before.len(), after.len());
    for ((path, was), (_, is)) in before.iter().zip(&after) {
        assert_eq!(was, is, "{path} differs after the move");
    }

    // The vendor keeps its client credentials and sees the same customer_ref.
    let moved = VendorApp {
        base: b.base.clone(),
        ..f.acme.clone()
    };
    let token_b = moved.token();
    assert_eq!(
        moved.get(&token_b, "/v1/vendor/relationship").json()["customer_ref"],
        ref_a
    );
    assert_eq!(
        moved.get(&token_b, "/v1/vendor/intents").json()["items"],
        intents_a,
        "same intent ids, same customer_ref"
    );

    // Receipts verify with the keys the new server publishes, which are the same keys.
    let keys_b = b.get("/.well-known/carnet-receipt-keys").json();
    assert_eq!(keys_a, keys_b);
    let new_grant = moved.grant(&b, &["relationship:read"], None);
    let receipts = b.get("/v1/receipts").json();
    let receipts = receipts.as_array().unwrap();
    assert_eq!(receipts.len(), 2);
    let published = b.get("/.well-known/carnet-receipt-keys").json();
    for r in receipts {
        let jws = r["jws"].as_str().unwrap();
        let parts: Vec<&str> = jws.split('.').collect();
        let header: Value =
            serde_json::from_slice(&BASE64URL_NOPAD.decode(parts[0].as_bytes()).unwrap()).unwrap();
        let key = published["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["kid"] == header["kid"])
            .expect("the receipt's key is published");
        let public = BASE64URL_NOPAD
            .decode(key["x"].as_str().unwrap().as_bytes())
            .unwrap();
        let signature = BASE64URL_NOPAD.decode(parts[2].as_bytes()).unwrap();
        UnparsedPublicKey::new(&ED25519, &public)
            .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &signature)
            .expect("the receipt verifies with the published key");
        assert_eq!(r["receipt"]["piiPrincipalId"], ref_a);
    }
    assert!(receipts.iter().any(|r| r["grant_id"] == new_grant.as_str()));
    assert_eq!(
        published, keys_a,
        "a new grant after the move is signed with the vendor's same key"
    );
    assert_eq!(b.check_access_log()["ok"], true);
}

/// The plaintext with `extra` more interactions (copies of the first, fresh ids) before the
/// exported ones, and its counts to match.
fn grown(plain: &[u8], extra: usize) -> Vec<u8> {
    let text = std::str::from_utf8(plain).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| *l == "\"interactions\":[")
        .unwrap();
    let first: Value = serde_json::from_str(lines[start + 1].trim_end_matches(',')).unwrap();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if let Some(counts) = line.strip_prefix("\"counts\":") {
            let mut counts: Value = serde_json::from_str(counts.trim_end_matches(',')).unwrap();
            let n = counts["interactions"].as_u64().unwrap();
            counts["interactions"] = json!(n + extra as u64);
            out.push_str(&format!("\"counts\":{counts},\n"));
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if i == start {
            for k in 0..extra {
                let mut copy = first.clone();
                copy["id"] = json!(format!("int_{k:016}"));
                copy["summary"] = json!(format!("Call {k}: {}", "words ".repeat(100)));
                out.push_str(&format!("{copy},\n"));
            }
        }
    }
    out.into_bytes()
}

/// The plaintext with the line for which `pick` is true replaced by `edit` of it.
fn edited(plain: &[u8], pick: impl Fn(&str) -> bool, edit: impl Fn(&str) -> String) -> Vec<u8> {
    let text = std::str::from_utf8(plain).unwrap();
    let mut done = false;
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if !done && pick(l) {
                done = true;
                edit(l)
            } else {
                l.to_owned()
            }
        })
        .collect();
    assert!(done, "no line to edit");
    (out.join("\n") + "\n").into_bytes()
}

/// A record line edited as JSON (keeping its trailing comma).
fn edit_record(line: &str, f: impl Fn(&mut Value)) -> String {
    let comma = line.ends_with(',');
    let mut v: Value = serde_json::from_str(line.trim_end_matches(',')).unwrap();
    f(&mut v);
    format!("{v}{}", if comma { "," } else { "" })
}

#[test]
fn hostile_archives_are_refused_with_a_clear_message_and_change_nothing() {
    let f = filled();
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(dir.path(), "key.txt");
    let plain = grown(&export(&f.s, &dir.path().join("a.age"), &key), 400);
    assert!(plain.len() > 300_000, "several age chunks: {}", plain.len());
    let b = TestServer::spawn();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_owned();
    let import_file = |name: &str, bytes: &[u8]| {
        std::fs::write(dir.path().join(name), bytes).unwrap();
        b.carnet(&["import", &path(name), "--identity", key.path()])
    };
    let to_key = |p: &[u8]| encrypt_to(p, &key.identity.to_public());

    // A huge scrypt work factor is refused before any work is done.
    let mut weak = age::scrypt::Recipient::new(SecretString::from("pass phrase"));
    weak.set_work_factor(10);
    let mut costly = encrypt_to(b"{}", &weak);
    let header_end = costly.windows(4).position(|w| w == b"\n---").unwrap();
    let header = String::from_utf8(costly[..header_end].to_vec()).unwrap();
    let patched = header.replacen(" 10\n", " 30\n", 1);
    assert_ne!(header, patched);
    costly.splice(..header_end, patched.into_bytes());
    std::fs::write(dir.path().join("costly.age"), &costly).unwrap();
    let started = std::time::Instant::now();
    let o = b.carnet_stdin(
        &["import", &path("costly.age"), "--passphrase-file", "-"],
        "pass phrase\n",
    );
    refused(&o, "2^30");
    assert!(started.elapsed() < std::time::Duration::from_secs(20));

    // Truncated and tampered: the server has received part of the archive by then.
    let whole = to_key(&plain);
    refused(
        &import_file("cut.age", &whole[..whole.len() * 3 / 5]),
        "cut short or altered",
    );
    let mut tampered = whole.clone();
    let at = tampered.len() * 4 / 5;
    tampered[at] ^= 0x20;
    refused(&import_file("tampered.age", &tampered), "does not decrypt");
    assert_empty(&b);

    // Oversized: the whole archive, and one record.
    let sparse = std::fs::File::create(dir.path().join("huge.age")).unwrap();
    // Past 1 GiB plus the largest quota any carnetd takes, as base64.
    let largest =
        carnet_schemas::max_archive_bytes(u64::from(carnet_schemas::MAX_DOCUMENT_QUOTA_MIB) << 20);
    sparse.set_len(largest + largest / 1000).unwrap();
    refused(
        &b.carnet(&["import", &path("huge.age"), "--identity", key.path()]),
        "larger than",
    );
    let fat = edited(
        &plain,
        |l| l.starts_with("{\"id\":\"int_"),
        |l| edit_record(l, |v| v["summary"] = json!("x".repeat(2 << 20))),
    );
    refused(
        &import_file("fat.age", &to_key(&fat)),
        "larger than 1024 KiB",
    );
    let mut raw = std::net::TcpStream::connect(b.base.trim_start_matches("http://")).unwrap();
    write!(
        raw,
        "POST /v1/import HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        b.token(),
        carnet_schemas::max_archive_bytes(1 << 30) + 1
    )
    .unwrap();
    let mut answer = [0u8; 12];
    raw.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 413");

    // The wrong key or passphrase.
    let other = Key::new(dir.path(), "other.txt");
    std::fs::write(
        dir.path().join("other.age"),
        encrypt_to(&plain, &other.identity.to_public()),
    )
    .unwrap();
    refused(
        &b.carnet(&["import", &path("other.age"), "--identity", key.path()]),
        "is not encrypted to the key in",
    );
    let mut strong = age::scrypt::Recipient::new(SecretString::from("right phrase"));
    strong.set_work_factor(10);
    std::fs::write(dir.path().join("phrase.age"), encrypt_to(&plain, &strong)).unwrap();
    refused(
        &b.carnet_stdin(
            &["import", &path("phrase.age"), "--passphrase-file", "-"],
            "wrong phrase\n",
        ),
        "wrong passphrase",
    );
    refused(
        &import_file("not-age.age", b"{\"format\":\"carnet-archive\"}"),
        "not an age-encrypted archive",
    );

    // A format version this carnetd does not know.
    let v6 = edited(
        &plain,
        |l| l == "\"version\":5,",
        |_| "\"version\":6,".into(),
    );
    refused(&import_file("v6.age", &to_key(&v6)), "format version 6");

    // Valid JSON (or not) that is not a valid archive.
    refused(
        &import_file("json.age", &to_key(b"{\"hello\": \"world\"}")),
        "not a Carnet archive",
    );
    refused(
        &import_file("text.age", &to_key(b"hello world")),
        "not valid JSON",
    );
    let orphan = edited(
        &plain,
        |l| l.starts_with("{\"id\":\"int_") && l.contains("Ordered a cake"),
        |l| edit_record(l, |v| v["vendor_id"] = json!("ven_0000000000000000")),
    );
    refused(
        &import_file("orphan.age", &to_key(&orphan)),
        "names vendor ven_0000000000000000, which the archive does not hold",
    );
    let baker = std::str::from_utf8(&plain)
        .unwrap()
        .lines()
        .find(|l| l.starts_with("{\"id\":\"ven_") && l.contains("Boulangerie"))
        .map(|l| serde_json::from_str::<Value>(l.trim_end_matches(',')).unwrap()["id"].clone())
        .unwrap();
    let crossed = edited(
        &plain,
        |l| l.contains("Reported the leak"),
        |l| edit_record(l, |v| v["vendor_id"] = baker.clone()),
    );
    refused(
        &import_file("crossed.age", &to_key(&crossed)),
        "is with another vendor",
    );
    let forged = edited(
        &plain,
        |l| l.starts_with("{\"id\":\"rcp_"),
        |l| {
            edit_record(l, |v| {
                let jws = v["jws"].as_str().unwrap().to_owned();
                let (head, rest) = jws.split_once('.').unwrap();
                let (payload, sig) = rest.split_once('.').unwrap();
                let mut receipt: Value =
                    serde_json::from_slice(&BASE64URL_NOPAD.decode(payload.as_bytes()).unwrap())
                        .unwrap();
                receipt["jurisdiction"] = json!("elsewhere");
                let payload = BASE64URL_NOPAD.encode(receipt.to_string().as_bytes());
                v["jws"] = json!(format!("{head}.{payload}.{sig}"));
            })
        },
    );
    refused(
        &import_file("forged.age", &to_key(&forged)),
        "does not verify",
    );
    let miscounted = edited(
        &plain,
        |l| l.starts_with("\"counts\":"),
        |l| l.replacen("\"vendors\":2", "\"vendors\":3", 1),
    );
    refused(
        &import_file("counts.age", &to_key(&miscounted)),
        "counts: they say 3 vendors, the archive holds 2",
    );
    let twice = edited(
        &plain,
        |l| l.contains("Ordered a cake"),
        |l| format!("{},\n{l}", l.trim_end_matches(',')),
    );
    refused(&import_file("twice.age", &to_key(&twice)), "more than once");
    let namesake = edited(
        &plain,
        |l| l.starts_with("{\"id\":\"ven_"),
        |l| {
            format!(
                "{l}\n{}",
                edit_record(l, |v| v["id"] = json!("ven_0000000000000001"))
            )
        },
    );
    refused(
        &import_file("namesake.age", &to_key(&namesake)),
        "names are unique",
    );

    // Nothing of any of them stayed; the intact archive still goes in.
    assert_empty(&b);
    b.carnet(&["import", &path("a.age"), "--identity", key.path()])
        .ok();
    assert_eq!(
        b.get("/v1/vendors").json()["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn an_import_into_a_vault_that_holds_anything_names_the_conflicts_and_changes_nothing() {
    let f = filled();
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(dir.path(), "key.txt");
    let out = dir.path().join("vault.age");
    export(&f.s, &out, &key);
    let args = ["import", out.to_str().unwrap(), "--identity", key.path()];

    // Into the vault it came from: every id is already there.
    let before = owner_view(&f.s);
    let o = f.s.carnet(&args);
    refused(&o, "not empty");
    assert!(
        o.stderr.contains(&format!("vendor {}", f.acme.vendor_id)),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains("nothing was imported"), "{}", o.stderr);
    assert_eq!(before, owner_view(&f.s));

    // Into another vault with one vendor of its own: no shared id, still refused.
    let b = TestServer::spawn();
    let mine = b.create("/v1/vendors", &json!({"name": "Mine"}));
    let o = b.carnet(&args);
    refused(&o, "this vault is not empty (1 vendor)");
    let vendors = b.get("/v1/vendors").json()["items"].clone();
    assert_eq!(vendors.as_array().unwrap().len(), 1);
    assert_eq!(vendors[0]["id"], mine.as_str());
}

#[test]
fn the_archive_is_private_and_never_written_through_a_symlink() {
    let s = TestServer::spawn();
    s.create("/v1/vendors", &json!({"name": "Acme"}));
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(dir.path(), "key.txt");

    let existing = dir.path().join("old.age");
    std::fs::write(&existing, b"an older archive").unwrap();
    std::fs::set_permissions(&existing, std::fs::Permissions::from_mode(0o644)).unwrap();
    export(&s, &existing, &key);
    let mode = std::fs::metadata(&existing).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "a replaced file is private too");

    let target = dir.path().join("target.txt");
    std::fs::write(&target, b"not yours").unwrap();
    let link = dir.path().join("link.age");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = s.carnet(&[
        "export",
        "--out",
        link.to_str().unwrap(),
        "--recipient",
        &key.public(),
    ]);
    refused(&o, "symbolic link");
    assert_eq!(std::fs::read(&target).unwrap(), b"not yours");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file is left behind");
}

/// The archive holds every record plus the pseudonym key and the receipt seeds: a passphrase
/// the vault itself would refuse (`carnetd init` wants 8 characters) cannot protect it either.
#[test]
fn an_export_passphrase_shorter_than_the_vaults_rule_is_refused_and_nothing_is_written() {
    let s = TestServer::spawn();
    s.create("/v1/vendors", &json!({"name": "Acme"}));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("weak.age");
    let existing = dir.path().join("old.age");
    std::fs::write(&existing, b"an older archive").unwrap();
    for weak in ["x", "1234567", "ééééééé"] {
        let file = dir.path().join("phrase.txt");
        std::fs::write(&file, format!("{weak}\n")).unwrap();
        for target in [&out, &existing] {
            let o = s.carnet(&[
                "export",
                "--out",
                target.to_str().unwrap(),
                "--passphrase-file",
                file.to_str().unwrap(),
            ]);
            refused(&o, "shorter than 8 characters");
            assert!(o.stderr.contains("--recipient"), "{}", o.stderr);
            let o = s.carnet_stdin(
                &[
                    "export",
                    "--out",
                    target.to_str().unwrap(),
                    "--passphrase-file",
                    "-",
                ],
                &format!("{weak}\n"),
            );
            refused(&o, "shorter than 8 characters");
        }
    }
    assert!(!out.exists(), "nothing was written");
    assert_eq!(std::fs::read(&existing).unwrap(), b"an older archive");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "no temporary file is left behind");

    // Eight characters, the vault's own minimum, are enough.
    s.carnet_stdin(
        &[
            "export",
            "--out",
            out.to_str().unwrap(),
            "--passphrase-file",
            "-",
        ],
        "12345678\n",
    )
    .ok();
    let mut scrypt = age::scrypt::Identity::new(SecretString::from("12345678"));
    scrypt.set_max_work_factor(20);
    let doc: Value =
        serde_json::from_slice(&decrypt_with(&std::fs::read(&out).unwrap(), &scrypt)).unwrap();
    assert_eq!(doc["counts"]["vendors"], 1);
}

#[test]
fn a_version_1_archive_without_a_checkpoint_still_imports() {
    let f = filled();
    let dir = tempfile::tempdir().unwrap();
    let key = Key::new(dir.path(), "key.txt");
    let out = dir.path().join("vault.age");
    let plain = export(&f.s, &out, &key);
    assert!(!String::from_utf8_lossy(&plain).contains("access_log_checkpoint"));
    let v1 = edited(
        &plain,
        |l| l == "\"version\":5,",
        |_| "\"version\":1,".into(),
    );
    let v1_file = dir.path().join("v1.age");
    std::fs::write(&v1_file, encrypt_to(&v1, &key.identity.to_public())).unwrap();
    let b = TestServer::spawn();
    b.carnet(&[
        "import",
        v1_file.to_str().unwrap(),
        "--identity",
        key.path(),
    ])
    .ok();
    let checked = b.check_access_log();
    assert_eq!(checked["ok"], true, "{checked}");
    assert!(checked["pruned"].is_null(), "{checked}");
    assert_eq!(
        checked["entries"],
        f.s.check_access_log()["entries"],
        "{checked}"
    );
}
