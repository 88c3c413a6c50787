//! The access log is tamper-evident: an entry edited, removed from the middle or cut from the
//! end behind the server's back is found by `carnet audit verify` (exit 6, naming the first
//! bad entry), and carnetd still starts, says so in its log, and keeps serving the owner.

use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, Carnetd, TestServer};
use serde_json::{Value, json};
use tempfile::TempDir;

/// A vault whose access log has `pulls` vendor reads (plus what granting logged), stopped.
/// Returns the directory and the number of entries.
fn logged_vault(pulls: usize) -> (TempDir, u64) {
    // Every read its own entry (identical reads are otherwise compacted).
    let s = TestServer::spawn_logging_every_read();
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["intents:read", "profile:read"], None);
    v.alternating_reads(pulls);
    let checked = verify(&s);
    assert_eq!(checked["ok"], true, "{checked}");
    let entries = checked["entries"].as_u64().unwrap();
    assert!(entries >= pulls as u64, "{checked}");
    (s.stop(), entries)
}

/// A fresh full check (the stored result is answered at once; this asks for a new one).
fn verify(s: &impl Api) -> Value {
    s.check_access_log()
}

fn tamper(dir: &TempDir, sql: &str) {
    let db = rusqlite::Connection::open(dir.path().join("carnet.db")).unwrap();
    let changed = db.execute(sql, []).unwrap();
    assert!(changed > 0, "{sql} changed nothing");
}

/// Restarts on the tampered vault and checks what the API and the CLI say.
#[track_caller]
fn found_at(dir: TempDir, seq: u64, reason: &str) {
    let s = TestServer::restart_in(dir);
    let checked = verify(&s);
    assert_eq!(checked["ok"], false, "{checked}");
    assert_eq!(checked["first_bad"]["seq"], seq, "{checked}");
    assert!(
        checked["first_bad"]["reason"]
            .as_str()
            .unwrap()
            .contains(reason),
        "{checked}"
    );
    let out = s.carnet(&["audit", "verify"]);
    assert_eq!(
        out.code, 6,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert!(
        out.stderr.contains(&format!("entry {seq}")),
        "names the entry: {}",
        out.stderr
    );
    // The owner's data is still there, and the listing still works.
    assert_eq!(s.get("/v1/vendors").status, 200);
    s.carnet(&["audit"]).ok();
}

#[test]
fn an_untouched_log_verifies() {
    let (dir, entries) = logged_vault(4);
    let s = TestServer::restart_in(dir);
    let out = s.carnet(&["--json", "audit", "verify"]);
    out.ok();
    assert_eq!(out.json()["ok"], true);
    assert_eq!(out.json()["entries"], entries);
}

#[test]
fn an_edited_entry_is_found() {
    let (dir, _) = logged_vault(6);
    tamper(&dir, "UPDATE access_log SET at = at + 1000 WHERE seq = 3");
    found_at(dir, 3, "MAC does not match");
}

#[test]
fn an_entry_moved_to_another_vendor_is_found() {
    let (dir, _) = logged_vault(6);
    // Entries name their vendor through a party row: the attacker adds one for another
    // vendor and points an entry at it.
    tamper(
        &dir,
        "INSERT INTO access_parties (vendor_id, client_id)
         SELECT 'ven_00000000000000000000000000', client_id FROM access_parties LIMIT 1",
    );
    tamper(
        &dir,
        "UPDATE access_log SET party = (SELECT max(pid) FROM access_parties) WHERE seq = 2",
    );
    found_at(dir, 2, "MAC does not match");
}

#[test]
fn a_party_row_edited_to_another_vendor_is_found() {
    let (dir, _) = logged_vault(6);
    // Every entry of the party now names another vendor (and the vendor filter lists them
    // under it): the first of them is found.
    tamper(
        &dir,
        "UPDATE access_parties SET vendor_id = 'ven_00000000000000000000000000'
         WHERE pid = (SELECT party FROM access_log ORDER BY seq LIMIT 1)",
    );
    let first: i64 = rusqlite::Connection::open(dir.path().join("carnet.db"))
        .unwrap()
        .query_row("SELECT min(seq) FROM access_log", [], |r| r.get(0))
        .unwrap();
    found_at(dir, first as u64, "MAC does not match");
}

#[test]
fn an_entry_given_another_entrys_id_is_found() {
    let (dir, _) = logged_vault(6);
    // A new entry stores no id (it is its position's); storing another one is an edit.
    tamper(
        &dir,
        "UPDATE access_log SET id = '00000000000000g0' WHERE seq = 3",
    );
    found_at(dir, 3, "MAC does not match");
}

#[test]
fn a_deleted_entry_is_found() {
    let (dir, _) = logged_vault(6);
    tamper(&dir, "DELETE FROM access_log WHERE seq = 4");
    found_at(dir, 4, "missing");
}

#[test]
fn a_deleted_first_entry_is_found() {
    let (dir, _) = logged_vault(3);
    tamper(&dir, "DELETE FROM access_log WHERE seq = 1");
    found_at(dir, 1, "missing");
}

#[test]
fn a_truncated_tail_is_found() {
    let (dir, entries) = logged_vault(6);
    tamper(
        &dir,
        &format!("DELETE FROM access_log WHERE seq > {}", entries - 2),
    );
    found_at(dir, entries - 1, "the last ones were removed");
}

#[test]
fn a_tampered_log_does_not_stop_carnetd() {
    let (dir, _) = logged_vault(6);
    tamper(&dir, "UPDATE access_log SET at = at + 1000 WHERE seq = 5");
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    let line = d.wait_for_log(&["access log was tampered with"]);
    let logged: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(logged["level"], "ERROR", "{line}");
    assert_eq!(logged["fields"]["entry"], 5, "{line}");
    // It serves the owner and vendors, and keeps logging vendor reads.
    let vendors = d.get("/v1/vendors").json();
    let acme = vendors["items"][0]["id"].as_str().unwrap().to_owned();
    let r = d.post(
        &format!("/v1/vendors/{acme}/client/rotate-secret"),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let before = d.get("/v1/access-log?limit=500").json()["items"]
        .as_array()
        .unwrap()
        .len();
    let v = VendorApp {
        base: d.base.clone(),
        vendor_id: acme,
        client_id: r.json()["client_id"].as_str().unwrap().to_owned(),
        secret: r.json()["client_secret"].as_str().unwrap().to_owned(),
        webhook_secret: None,
    };
    assert_eq!(v.get(&v.token(), "/v1/vendor/intents").status, 200);
    let after = d.get("/v1/access-log?limit=500").json()["items"]
        .as_array()
        .unwrap()
        .len();
    assert!(after > before, "{before} → {after}");
    assert_eq!(verify(&d)["first_bad"]["seq"], 5);
}
