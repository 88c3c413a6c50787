//! A writer of `carnet.db` (or of a backup) without the vault key cannot open doors: each test
//! plays the attacker with plain SQLite on the file, then shows the door stays shut, that
//! carnetd's log names the row it refused, and that `carnet audit verify` lists it (exit 6).
//! Also the upgrade: a vault from before the row MACs gets them at its first unlock, and from
//! then on a missing MAC is a failure.

use std::path::Path;

use carnet_core::vault::{self, SealKey, Table, VaultPaths};
use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, Carnetd, Resp, http, run_carnetd};
use chrono::{Duration, Utc};
use data_encoding::BASE64URL_NOPAD;
use serde_json::{Value, json};

fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(dir.join("carnet.db")).unwrap()
}

#[track_caller]
fn tamper(dir: &Path, sql: &str, params: impl rusqlite::Params) {
    let changed = db(dir).execute(sql, params).unwrap();
    assert!(changed > 0, "{sql} changed nothing");
}

fn sha256(text: &str) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, text.as_bytes())
        .as_ref()
        .to_vec()
}

/// A forged credential, as an attacker would make one.
const FORGED: &str = "forged-credential-chosen-by-the-attacker-0123456789";

fn start(dir: &Path) -> Carnetd {
    Carnetd::start(dir, &[]).unwrap()
}

/// Stops carnetd the way systemd does, so every write is on disk before the attacker edits.
fn stop(d: Carnetd) {
    let (status, log) = d.terminate();
    assert!(status.success(), "{log}");
}

fn get_as(d: &Carnetd, token: &str, path: &str) -> Resp {
    Resp::from(http().get(d.url(path)).bearer_auth(token).send().unwrap())
}

/// carnetd's log names the refused row, by table and id.
#[track_caller]
fn logged(d: &Carnetd, table: &str, id: &str) {
    d.wait_for_log(&[
        "failed its integrity check",
        &format!("\"table\":\"{table}\""),
        &format!("\"row\":\"{id}\""),
    ]);
}

/// `carnet audit verify` exits 6 naming the row, and `GET /v1/integrity` lists it.
#[track_caller]
fn reported(d: &Carnetd, table: &str, id: &str) {
    let out = d.carnet(&["audit", "verify"]);
    assert_eq!(
        out.code, 6,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert!(
        out.stderr.contains(&format!("{table} {id}")),
        "names the row: {}",
        out.stderr
    );
    let v = d.get("/v1/integrity").json();
    assert_eq!(v["ok"], false, "{v}");
    assert!(
        v["tampered"]
            .as_array()
            .unwrap()
            .contains(&json!({"table": table, "id": id})),
        "{v}"
    );
}

fn interaction(d: &Carnetd, vendor: &str, shared: bool) -> String {
    d.create(
        "/v1/interactions",
        &json!({"vendor_id": vendor, "channel": "email", "summary": "Asked about delivery", "shared": shared}),
    )
}

fn shared_ids(v: &VendorApp, token: &str) -> Vec<String> {
    let r = v.get(token, "/v1/vendor/interactions");
    assert_eq!(r.status, 200, "{}", r.text);
    ids(&r.json())
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The vendor app again, at the address of a restarted carnetd.
fn at(v: &VendorApp, d: &Carnetd) -> VendorApp {
    VendorApp {
        base: d.base.clone(),
        vendor_id: v.vendor_id.clone(),
        client_id: v.client_id.clone(),
        secret: v.secret.clone(),
        webhook_secret: v.webhook_secret.clone(),
    }
}

#[test]
fn an_inserted_owner_token_hash_opens_nothing_live_or_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path());
    d.create("/v1/vendors", &json!({"name": "Acme"}));
    let hash = sha256(FORGED);
    let row = BASE64URL_NOPAD.encode(&hash);
    // Live: written beside the running carnetd, as its WAL allows.
    tamper(
        dir.path(),
        "INSERT INTO owner_tokens (hash, created_at) VALUES (?1, 0)",
        [&hash],
    );
    get_as(&d, FORGED, "/v1/vendors").problem(401);
    get_as(&d, FORGED, "/v1/export").problem(401);
    logged(&d, "owner_tokens", &row);
    assert_eq!(d.get("/v1/vendors").status, 200, "the owner still gets in");
    stop(d);

    // A MAC made up by the attacker is no better.
    tamper(
        dir.path(),
        "UPDATE owner_tokens SET mac = randomblob(32) WHERE hash = ?1",
        [&hash],
    );
    let d = start(dir.path());
    get_as(&d, FORGED, "/v1/vendors").problem(401);
    get_as(&d, FORGED, "/v1/export").problem(401);
    logged(&d, "owner_tokens", &row);
    reported(&d, "owner_tokens", &row);
}

#[test]
fn a_replaced_client_secret_gets_no_token() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path());
    let v = VendorApp::connect(&d, "Acme");
    v.grant(&d, &["relationship:read"], None);
    v.token();
    stop(d);
    tamper(
        dir.path(),
        "UPDATE clients SET secret_hash = ?1 WHERE id = ?2",
        rusqlite::params![sha256(FORGED), v.client_id],
    );

    let d = start(dir.path());
    let forged = VendorApp {
        secret: FORGED.into(),
        ..at(&v, &d)
    };
    let r = forged.oauth("/oauth/token", &[("grant_type", "client_credentials")]);
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.json()["error"], "invalid_client");
    logged(&d, "clients", &v.client_id);
    reported(&d, "clients", &v.client_id);
}

#[test]
fn clearing_a_revocation_does_not_revive_the_grant_or_its_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path());
    let v = VendorApp::connect(&d, "Acme");
    let grant = v.grant(&d, &["relationship:read"], None);
    let token = v.token();
    assert_eq!(v.get(&token, "/v1/vendor/relationship").status, 200);
    let r = d.post(&format!("/v1/grants/{grant}/revoke"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    stop(d);
    tamper(
        dir.path(),
        "UPDATE grants SET revoked_at = NULL WHERE id = ?1",
        [&grant],
    );
    tamper(
        dir.path(),
        "UPDATE tokens SET revoked_at = NULL WHERE grant_id = ?1",
        [&grant],
    );

    let d = start(dir.path());
    let v = at(&v, &d);
    assert_eq!(v.get(&token, "/v1/vendor/relationship").status, 401);
    let r = v.oauth("/oauth/token", &[("grant_type", "client_credentials")]);
    assert_ne!(
        r.status, 200,
        "a new token under the dead grant: {}",
        r.text
    );
    logged(&d, "grants", &grant);
    reported(&d, "grants", &grant);
}

#[test]
fn a_withdrawn_intent_set_back_to_active_stays_invisible() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path());
    let v = VendorApp::connect(&d, "Acme");
    v.grant(&d, &["intents:read"], None);
    let until = Utc::now() + Duration::days(30);
    let id = d.create(
        "/v1/intents",
        &json!({
            "category": "home.appliances",
            "title": "Washing machine",
            "description": "8 kg, quiet, A-rated",
            "price_specification": {"max_price": "700", "price_currency": "EUR"},
            "eligible_quantity": 1,
            "area_served": "Lyon",
            "item_condition": "new",
            "valid_through": until.to_rfc3339(),
        }),
    );
    let r = d.post(&format!("/v1/intents/{id}/activate"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    let token = v.token();
    let seen = |v: &VendorApp, t: &str| ids(&v.get(t, "/v1/vendor/intents").json());
    assert_eq!(seen(&v, &token), vec![id.clone()]);
    let r = d.post(&format!("/v1/intents/{id}/withdraw"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(seen(&v, &token).is_empty());
    stop(d);
    tamper(
        dir.path(),
        "UPDATE intents SET state = 'active' WHERE id = ?1",
        [&id],
    );

    let d = start(dir.path());
    let v = at(&v, &d);
    assert!(seen(&v, &v.token()).is_empty(), "the vendor sees it again");
    logged(&d, "intents", &id);
    reported(&d, "intents", &id);
}

#[test]
fn flipping_shared_or_moving_an_interaction_to_another_vendor_discloses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path());
    let a = VendorApp::connect(&d, "A");
    let b = VendorApp::connect(&d, "B");
    a.grant(&d, &["interactions:read"], None);
    let private_a = interaction(&d, &a.vendor_id, false);
    let shared_b = interaction(&d, &b.vendor_id, true);
    assert!(shared_ids(&a, &a.token()).is_empty());
    stop(d);
    tamper(
        dir.path(),
        "UPDATE interactions SET shared = 1 WHERE id = ?1",
        [&private_a],
    );
    tamper(
        dir.path(),
        "UPDATE interactions SET vendor_id = ?1 WHERE id = ?2",
        [&a.vendor_id, &shared_b],
    );

    let d = start(dir.path());
    let a = at(&a, &d);
    let t = a.token();
    assert!(shared_ids(&a, &t).is_empty(), "disclosed");
    for id in [&private_a, &shared_b] {
        let r = a.get(&t, &format!("/v1/vendor/interactions/{id}"));
        assert_eq!(r.status, 404, "{}", r.text);
    }
    logged(&d, "interactions", &private_a);
    logged(&d, "interactions", &shared_b);
    reported(&d, "interactions", &private_a);
    reported(&d, "interactions", &shared_b);
}

#[test]
fn a_backup_with_an_inserted_owner_token_restores_without_opening_anything() {
    let dir = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let backup = out.path().join("carnet-backup.db");
    let d = start(dir.path());
    d.create("/v1/vendors", &json!({"name": "Acme"}));
    stop(d);
    let made = run_carnetd(
        dir.path(),
        &["backup", "--out", backup.to_str().unwrap()],
        None,
    );
    assert_eq!(made.code, 0, "{}", made.stderr);
    let hash = sha256(FORGED);
    let conn = rusqlite::Connection::open(&backup).unwrap();
    conn.execute(
        "INSERT INTO owner_tokens (hash, created_at, mac) VALUES (?1, 0, randomblob(32))",
        [&hash],
    )
    .unwrap();
    drop(conn);
    let restored = run_carnetd(
        dir.path(),
        &["restore", "--from", backup.to_str().unwrap(), "--force"],
        None,
    );
    assert_eq!(restored.code, 0, "{}", restored.stderr);

    let d = start(dir.path());
    get_as(&d, FORGED, "/v1/vendors").problem(401);
    get_as(&d, FORGED, "/v1/export").problem(401);
    assert_eq!(d.list_all("/v1/vendors")[0]["name"], "Acme");
    let row = BASE64URL_NOPAD.encode(&hash);
    logged(&d, "owner_tokens", &row);
    reported(&d, "owner_tokens", &row);
}

#[test]
fn a_file_holding_a_trigger_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path());
    assert_eq!(d.get("/v1/vendors").status, 200);
    stop(d);
    db(dir.path())
        .execute_batch(
            "CREATE TRIGGER share_all AFTER UPDATE ON interactions BEGIN
                 UPDATE interactions SET shared = 1; END;",
        )
        .unwrap();
    let e = Carnetd::start(dir.path(), &[]).map(|_| ()).unwrap_err();
    assert!(e.contains("share_all"), "{e}");
}

/// The tables migration 6 gave a `mac` column.
const MAC_TABLES: [&str; 14] = [
    "meta",
    "owner_tokens",
    "clients",
    "grants",
    "tokens",
    "codes",
    "invites",
    "receipts",
    "intents",
    "offers",
    "interactions",
    "purchases",
    "incidents",
    "outbox",
];

/// Turns a vault back into what carnetd wrote before the row MACs: schema 5, no `mac`
/// columns nor schema 7's token indexes, the access log's layout of then (schema 8 undone),
/// and the canary of then (sealed with the vault's key, as that carnetd did).
fn downgrade_to_schema_5(dir: &Path) {
    let key = vault::unwrap_identity(&VaultPaths::new(dir.to_owned(), None)).unwrap();
    let canary = SealKey::new(&key).seal_bytes(Table::Meta, "canary", b"carnet vault canary v1");
    let c = db(dir);
    crate::access_layout::downgrade_access_log(&c);
    // Schema 7's token indexes, undone.
    c.execute_batch(
        "DROP INDEX tokens_by_expiry; DROP INDEX tokens_dead;
         CREATE INDEX tokens_by_grant ON tokens(grant_id);",
    )
    .unwrap();
    for t in MAC_TABLES {
        c.execute_batch(&format!("ALTER TABLE {t} DROP COLUMN mac"))
            .unwrap();
    }
    c.execute("UPDATE meta SET value = ?1 WHERE key = 'canary'", [&canary])
        .unwrap();
    c.pragma_update(None, "user_version", 5).unwrap();
}

#[test]
fn a_vault_from_before_the_row_macs_gets_them_at_its_first_unlock_and_then_refuses_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path());
    let v = VendorApp::connect(&d, "Acme");
    v.grant(&d, &["interactions:read"], None);
    let shared = interaction(&d, &v.vendor_id, true);
    let token = v.token();
    stop(d);
    downgrade_to_schema_5(dir.path());

    let d = start(dir.path());
    d.wait_for_log(&["every row now carries its MAC"]);
    let v = at(&v, &d);
    assert_eq!(d.list_all("/v1/vendors")[0]["name"], "Acme");
    assert_eq!(
        shared_ids(&v, &token),
        vec![shared.clone()],
        "the old token works"
    );
    let out = d.carnet(&["--json", "audit", "verify"]);
    out.ok();
    assert_eq!(out.json()["rows"]["ok"], true, "{}", out.stdout);
    assert!(out.json()["rows"]["rows"].as_u64().unwrap() > 5);
    let unmaced: i64 = db(dir.path())
        .query_row(
            "SELECT (SELECT count(*) FROM tokens WHERE mac IS NULL)
                  + (SELECT count(*) FROM interactions WHERE mac IS NULL)
                  + (SELECT count(*) FROM owner_tokens WHERE mac IS NULL)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unmaced, 0);
    stop(d);

    // From now on a missing MAC is a failure, not "not upgraded yet".
    tamper(
        dir.path(),
        "UPDATE interactions SET mac = NULL WHERE id = ?1",
        [&shared],
    );
    let d = start(dir.path());
    let v = at(&v, &d);
    assert!(shared_ids(&v, &v.token()).is_empty());
    logged(&d, "interactions", &shared);
    reported(&d, "interactions", &shared);
}

#[test]
fn an_export_never_carries_a_row_that_failed_its_check() {
    // Exported, a flipped row would be imported (and MAC'd) by the next vault as if sound.
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path());
    let a = VendorApp::connect(&d, "A");
    let private = interaction(&d, &a.vendor_id, false);
    let sound = interaction(&d, &a.vendor_id, false);
    stop(d);
    tamper(
        dir.path(),
        "UPDATE interactions SET shared = 1 WHERE id = ?1",
        [&private],
    );

    let d = start(dir.path());
    let r = d.get("/v1/export");
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains(&sound), "the sound interaction is exported");
    assert!(
        !r.text.contains(&private),
        "the tampered interaction left in the archive"
    );
    logged(&d, "interactions", &private);
}
