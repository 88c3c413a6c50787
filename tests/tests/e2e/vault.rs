//! The vault at rest: what is created on first start, what is readable in the files, and the
//! clear refusals when key material is missing, wrong or mismatched.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use carnet_tests::{Api, Carnetd, TestServer, run_carnetd};
use serde_json::json;

use crate::vendor;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A data dir holding a stopped identity-mode vault with one vendor.
fn stopped_vault() -> tempfile::TempDir {
    let s = TestServer::spawn();
    vendor(&s, "Acme");
    s.stop()
}

#[track_caller]
fn refuses_to_start(dir: &Path, expect: &[&str]) {
    match Carnetd::start(dir, &[]) {
        Ok(_) => panic!("carnetd started but should have refused"),
        Err(log) => {
            for e in expect {
                assert!(log.contains(e), "expected {e:?} in:\n{log}");
            }
            assert!(!log.contains("panicked"), "{log}");
        }
    }
}

#[test]
fn first_start_creates_a_private_identity_and_owner_token_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let d = Carnetd::start(&data, &[]).unwrap();
    let log = d.log();
    for file in ["identity.txt", "owner.token", "vault.key.age", "carnet.db"] {
        assert!(data.join(file).exists(), "{file}");
    }
    assert_eq!(mode(&data.join("identity.txt")), 0o600);
    assert_eq!(mode(&data.join("owner.token")), 0o600);
    assert_eq!(mode(&data), 0o700);
    assert!(
        log.contains(&data.join("identity.txt").display().to_string()),
        "{log}"
    );
    assert!(
        log.contains(&data.join("owner.token").display().to_string()),
        "{log}"
    );
    let identity = std::fs::read_to_string(data.join("identity.txt")).unwrap();
    assert!(identity.contains("AGE-SECRET-KEY-1"));
    assert_eq!(d.get("/v1/vendors").status, 200);
}

#[test]
fn a_second_start_reuses_the_vault_identity_and_token() {
    let dir = tempfile::tempdir().unwrap();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    let id = d.create("/v1/vendors", &json!({"name": "Acme"}));
    let token = d.token();
    let identity = std::fs::read(dir.path().join("identity.txt")).unwrap();
    d.kill();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    assert!(!d.log().contains("Created a new Carnet vault"));
    assert_eq!(d.token(), token);
    assert_eq!(
        std::fs::read(dir.path().join("identity.txt")).unwrap(),
        identity
    );
    assert_eq!(d.get(&format!("/v1/vendors/{id}")).json()["name"], "Acme");
}

#[test]
fn a_blob_copied_to_another_row_fails_to_open_with_a_clear_error() {
    let s = TestServer::spawn();
    let a = vendor(&s, "Alpha secret");
    let b = vendor(&s, "Beta");
    let dir = s.stop();
    let db = rusqlite::Connection::open(dir.path().join("carnet.db")).unwrap();
    db.execute(
        "UPDATE vendors SET blob = (SELECT blob FROM vendors WHERE id = ?1) WHERE id = ?2",
        [&a, &b],
    )
    .unwrap();
    drop(db);
    let s = TestServer::restart_in(dir);
    let p = s.get(&format!("/v1/vendors/{b}")).problem(500);
    assert_eq!(p["title"], "vault record unreadable");
    assert!(p["detail"].as_str().unwrap().contains(&b), "{p}");
    assert!(!s.get(&format!("/v1/vendors/{b}")).text.contains("Alpha"));
    let original = s.get(&format!("/v1/vendors/{a}"));
    assert_eq!(original.status, 200, "the original still opens");
    // Its scorecard reads the ledger index, which a record that does not open stops: the
    // vendor and its facts answer without it.
    assert!(original.json()["scorecard"].is_null(), "{}", original.text);
    assert_eq!(original.json()["loyalty"]["interactions"], 0);
}

#[test]
fn a_corrupted_blob_is_reported_not_served() {
    let s = TestServer::spawn();
    let v = vendor(&s, "Acme");
    let dir = s.stop();
    let db = rusqlite::Connection::open(dir.path().join("carnet.db")).unwrap();
    let mut blob: Vec<u8> = db
        .query_row("SELECT blob FROM vendors WHERE id = ?1", [&v], |r| r.get(0))
        .unwrap();
    let last = blob.len() - 1;
    blob[last] ^= 0x01;
    db.execute(
        "UPDATE vendors SET blob = ?1 WHERE id = ?2",
        rusqlite::params![blob, v],
    )
    .unwrap();
    drop(db);
    let s = TestServer::restart_in(dir);
    let p = s.get("/v1/vendors").problem(500);
    assert!(p["detail"].as_str().unwrap().contains(&v), "{p}");
    assert!(p["hint"].as_str().unwrap().contains("backup"), "{p}");
}

#[test]
fn a_missing_identity_file_is_named_with_what_to_do() {
    let dir = stopped_vault();
    let identity = dir.path().join("identity.txt");
    std::fs::remove_file(&identity).unwrap();
    refuses_to_start(
        dir.path(),
        &[
            &identity.display().to_string(),
            "not found",
            "--identity-file",
        ],
    );
}

#[test]
fn an_identity_from_another_vault_is_refused() {
    let dir = stopped_vault();
    let other = stopped_vault();
    std::fs::copy(
        other.path().join("identity.txt"),
        dir.path().join("identity.txt"),
    )
    .unwrap();
    refuses_to_start(
        dir.path(),
        &["vault.key.age", "cannot be opened with identity file"],
    );
}

#[test]
fn a_key_file_from_another_vault_is_refused() {
    let dir = stopped_vault();
    let other = stopped_vault();
    for f in ["identity.txt", "vault.key.age"] {
        std::fs::copy(other.path().join(f), dir.path().join(f)).unwrap();
    }
    refuses_to_start(dir.path(), &["sealed under another vault key", "carnet.db"]);
}

#[test]
fn a_database_without_its_key_file_is_refused() {
    let dir = stopped_vault();
    std::fs::remove_file(dir.path().join("vault.key.age")).unwrap();
    refuses_to_start(dir.path(), &["vault.key.age", "is missing", "backup"]);
    assert!(
        !dir.path().join("vault.key.age").exists(),
        "no new key is made over existing data"
    );
}

#[test]
fn a_database_newer_than_the_binary_is_refused() {
    let dir = stopped_vault();
    let db = rusqlite::Connection::open(dir.path().join("carnet.db")).unwrap();
    db.pragma_update(None, "user_version", 99).unwrap();
    drop(db);
    refuses_to_start(
        dir.path(),
        &["newer carnetd", "schema 99", "upgrade carnetd"],
    );
}

#[test]
fn a_foreign_file_in_place_of_the_database_is_refused() {
    let dir = stopped_vault();
    std::fs::write(dir.path().join("carnet.db"), vec![0x42u8; 8192]).unwrap();
    let _ = std::fs::remove_file(dir.path().join("carnet.db-wal"));
    let _ = std::fs::remove_file(dir.path().join("carnet.db-shm"));
    refuses_to_start(dir.path(), &["carnet.db", "not a Carnet database"]);
}

#[test]
fn a_damaged_key_file_is_named() {
    let dir = stopped_vault();
    std::fs::write(dir.path().join("vault.key.age"), b"not age at all").unwrap();
    refuses_to_start(
        dir.path(),
        &["vault.key.age", "not an age-encrypted key file"],
    );
}

#[test]
fn a_passphrase_vault_is_created_with_a_recovery_key_and_starts_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_carnetd(
        dir.path(),
        &["init", "--passphrase-file", "-"],
        Some("correct horse battery staple\n"),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.trim().starts_with("AGE-SECRET-KEY-1"),
        "recovery key on stdout"
    );
    assert!(out.stderr.contains("Recovery key"));
    assert_eq!(mode(&dir.path().join("owner.token")), 0o600);
    assert!(dir.path().join("vault.recovery.age").exists());
    assert!(!dir.path().join("identity.txt").exists());
    let key = std::fs::read(dir.path().join("vault.key.age")).unwrap();
    assert!(
        key.windows(6).any(|w| w == b"scrypt"),
        "wrapped to the passphrase"
    );
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    assert_eq!(d.get("/healthz").json()["status"], "sealed");
}

#[test]
fn init_never_overwrites_a_vault() {
    let dir = stopped_vault();
    let before = std::fs::read(dir.path().join("vault.key.age")).unwrap();
    let out = run_carnetd(dir.path(), &["init"], None);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("refusing to overwrite"),
        "{}",
        out.stderr
    );
    assert_eq!(
        std::fs::read(dir.path().join("vault.key.age")).unwrap(),
        before
    );
    let out = run_carnetd(
        dir.path(),
        &["init", "--passphrase-file", "-"],
        Some("long enough pass\n"),
    );
    assert_ne!(out.code, 0);
    assert_eq!(
        std::fs::read(dir.path().join("vault.key.age")).unwrap(),
        before
    );
}

#[test]
fn a_short_passphrase_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_carnetd(
        dir.path(),
        &["init", "--passphrase-file", "-"],
        Some("short\n"),
    );
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("shorter than 8"), "{}", out.stderr);
    assert!(!dir.path().join("vault.key.age").exists());
}

/// Every file carnetd writes in the data dir (database, WAL, keys, token), as bytes.
fn data_dir_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .filter(|e| e.path().is_file())
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

#[test]
fn nothing_the_user_wrote_is_readable_in_the_database_wal_or_logs() {
    let dir = tempfile::tempdir().unwrap();
    let d = Carnetd::start(dir.path(), &[("CARNET_LOG", "trace")]).unwrap();
    let m = |n: u32| format!("MARKER{n}zqx");
    let ok = |args: &[&str]| {
        let out = d.carnet(args);
        assert_eq!(out.code, 0, "{args:?}: {}", out.stderr);
        out
    };
    ok(&[
        "vendor",
        "add",
        &m(1),
        "--note",
        &m(2),
        "--account",
        &m(3),
        "--contact-policy",
        &m(4),
        "--website",
        "https://marker5zqx.example",
    ]);
    ok(&[
        "interaction",
        "add",
        &m(1),
        "--channel",
        "phone",
        "--summary",
        &m(6),
        "--with",
        &m(7),
        "--expected",
        &m(8),
        "--i-said",
        &m(9),
        "--they-said",
        &m(10),
        "--outcome",
        &m(11),
        "--next",
        &m(12),
        "--due",
        "2026-12-01",
    ]);
    ok(&[
        "purchase",
        "add",
        &m(1),
        "--item",
        &m(13),
        "--amount",
        "12.50",
        "--currency",
        "EUR",
        "--receipt",
        &m(14),
    ]);
    ok(&["incident", "open", &m(1), "--description", &m(15)]);
    ok(&["profile", "set", "--display-name", &m(16), "--city", &m(17)]);
    ok(&["interaction", "list", "--grep", &m(18)]);
    ok(&["vendor", "show", &m(1)]);
    let stored = d.list_all("/v1/vendors");
    assert_eq!(
        stored[0]["name"],
        m(1),
        "the CLI really wrote through the API"
    );
    assert_eq!(d.list_all("/v1/interactions").len(), 1);
    // The database and its WAL as they are while serving, then after a kill.
    let mut files = data_dir_bytes(dir.path());
    let log = d.kill();
    files.extend(data_dir_bytes(dir.path()));
    let sizes: Vec<_> = files.iter().map(|(n, b)| (n.clone(), b.len())).collect();
    assert!(
        files
            .iter()
            .any(|(n, b)| n == "carnet.db-wal" && !b.is_empty()),
        "the WAL was checked too: {sizes:?}"
    );
    for n in 1..=18 {
        let marker = m(n);
        for (name, bytes) in &files {
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
                "{marker} readable in {name}"
            );
        }
        assert!(!log.contains(&marker), "{marker} in the log:\n{log}");
    }
    assert!(!log.to_lowercase().contains("marker5zqx"));
    assert!(log.contains("carnetd listening"), "the log was captured");
}
