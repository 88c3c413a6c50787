//! `carnetd backup` and `carnetd restore`: a backup taken while carnetd serves and writes is
//! one consistent vault; the file is private and never written through a link or over an
//! older backup; restore refuses a running server and drops the WAL of the database it
//! replaces.

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use carnet_tests::vendor::VendorApp;
use carnet_tests::writers::Writers;
use carnet_tests::{Api, Carnetd, CliOutput, run_carnetd};
use serde_json::json;

const WRITERS: usize = 4;
const KEY_FILES: [&str; 3] = ["vault.key.age", "identity.txt", "owner.token"];

fn backup(data_dir: &Path, out: &Path, extra: &[&str]) -> CliOutput {
    let mut args = vec!["backup", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    run_carnetd(data_dir, &args, None)
}

fn restore(data_dir: &Path, from: &Path, extra: &[&str]) -> CliOutput {
    let mut args = vec!["restore", "--from", from.to_str().unwrap()];
    args.extend_from_slice(extra);
    run_carnetd(data_dir, &args, None)
}

/// A fresh data directory holding only the key files kept with a backup.
fn with_key_files_of(source: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in KEY_FILES {
        std::fs::copy(source.join(f), dir.path().join(f)).unwrap();
    }
    dir
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn ids(d: &Carnetd) -> HashSet<String> {
    d.list_all("/v1/interactions?limit=1000")
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn a_backup_taken_under_concurrent_writes_restores_to_a_consistent_vault() {
    let dir = tempfile::tempdir().unwrap();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    let vendor = d.create("/v1/vendors", &json!({"name": "Acme"}));
    // A vendor reading as well, so access-log entries are appended while the copy runs.
    let shop = VendorApp::connect(&d, "Shop");
    shop.grant(&d, &["intents:read"], None);
    let vendor_token = shop.token();

    let writers = Writers::start(&d.base, &d.token(), &vendor, WRITERS);
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                assert_eq!(shop.get(&vendor_token, "/v1/vendor/intents").status, 200);
            }
        })
    };
    writers.wait_acked(200);

    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("carnet-backup.db");
    let before: HashSet<String> = writers.acked().into_iter().collect();
    let out = backup(dir.path(), &file, &[]);
    let after = writers.acked().len();
    stop.store(true, Ordering::Relaxed);
    reader.join().unwrap();
    let written = writers.stop();
    // carnetd answered every write while the backup ran.
    assert_eq!(written.refused, Vec::<u16>::new());
    assert_eq!(written.unanswered, 0);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let acked: HashSet<String> = written.acked.into_iter().collect();
    for needle in ["vault.key.age", "identity.txt", "sealed"] {
        assert!(out.stderr.contains(needle), "{needle}: {}", out.stderr);
    }
    // The server kept serving: it answers, and its own log did not stop.
    assert_eq!(d.check_access_log()["ok"], true);

    // Restore into a fresh directory from the backup and the key files kept with it.
    let restored = with_key_files_of(dir.path());
    let r = restore(restored.path(), &file, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let d2 = Carnetd::start(restored.path(), &[]).unwrap();
    let found = ids(&d2);
    let missing: Vec<_> = before.difference(&found).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup, missing: {missing:?}"
    );
    assert!(
        found.is_subset(&acked),
        "the backup holds writes that were never made"
    );
    // Each writer has at most one write in flight, committed but not yet acknowledged.
    assert!(
        found.len() <= after + WRITERS,
        "{} records; {after} acknowledged when the backup ended",
        found.len()
    );
    for id in &found {
        let r = d2.get(&format!("/v1/interactions/{id}"));
        assert_eq!(r.status, 200, "{id}: {}", r.text);
    }
    let verified = d2.check_access_log();
    assert_eq!(verified["ok"], true, "{verified}");
    assert!(verified["entries"].as_u64().unwrap() > 0, "{verified}");
}

#[test]
fn a_backup_is_private_and_needs_no_running_server() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run_carnetd(dir.path(), &["init"], None).code, 0);
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("vault.db");
    let out = backup(dir.path(), &file, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    // No temporary file is left beside it.
    assert_eq!(names_in(out_dir.path()), ["vault.db"]);
    // Each message is one line: what was written, what it holds, what to keep with it.
    assert_eq!(out.stderr.lines().count(), 3, "{}", out.stderr);
    assert!(out.stderr.contains(&file.display().to_string()));
    // It is a whole vault: restored beside its key files, it starts and serves.
    let restored = with_key_files_of(dir.path());
    assert_eq!(restore(restored.path(), &file, &[]).code, 0);
    let d = Carnetd::start(restored.path(), &[]).unwrap();
    assert_eq!(d.get("/v1/vendors").status, 200);
}

#[test]
fn a_passphrase_vault_backup_names_its_envelopes() {
    let dir = tempfile::tempdir().unwrap();
    let init = run_carnetd(
        dir.path(),
        &["init", "--passphrase-file", "-"],
        Some("correct horse battery staple\n"),
    );
    assert_eq!(init.code, 0, "{}", init.stderr);
    let out_dir = tempfile::tempdir().unwrap();
    let out = backup(dir.path(), &out_dir.path().join("b.db"), &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    for needle in ["vault.key.age", "vault.recovery.age", "passphrase"] {
        assert!(out.stderr.contains(needle), "{needle}: {}", out.stderr);
    }
    assert!(!out.stderr.contains("identity.txt"), "{}", out.stderr);
}

#[test]
fn a_symlink_destination_is_refused_and_nothing_is_written() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run_carnetd(dir.path(), &["init"], None).code, 0);
    let out_dir = tempfile::tempdir().unwrap();
    let target = out_dir.path().join("elsewhere.db");
    let link = out_dir.path().join("link.db");
    std::os::unix::fs::symlink(&target, &link).unwrap();

    let out = backup(dir.path(), &link, &[]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("symbolic link"), "{}", out.stderr);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    // --force does not make a link acceptable either.
    assert_ne!(backup(dir.path(), &link, &["--force"]).code, 0);
    assert!(!target.exists());
    assert_eq!(names_in(out_dir.path()), ["link.db"]);
}

#[test]
fn an_existing_backup_is_not_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run_carnetd(dir.path(), &["init"], None).code, 0);
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("carnet.db");
    std::fs::write(&file, b"an older backup").unwrap();

    let out = backup(dir.path(), &file, &[]);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("already exists") && out.stderr.contains("--force"),
        "{}",
        out.stderr
    );
    assert_eq!(std::fs::read(&file).unwrap(), b"an older backup");

    let out = backup(dir.path(), &file, &["--force"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        std::fs::read(&file)
            .unwrap()
            .starts_with(b"SQLite format 3\0")
    );
    assert_eq!(names_in(out_dir.path()), ["carnet.db"]);
}

#[test]
fn a_backup_of_a_directory_without_a_vault_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let out = backup(dir.path(), &out_dir.path().join("b.db"), &[]);
    assert_ne!(out.code, 0);
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("no vault") && out.stderr.contains("--data-dir"),
        "{}",
        out.stderr
    );
    assert!(names_in(out_dir.path()).is_empty());
    // Nor is a vault created by asking.
    assert!(names_in(dir.path()).is_empty());
}

#[test]
fn a_backup_inside_the_data_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run_carnetd(dir.path(), &["init"], None).code, 0);
    let before = names_in(dir.path());
    let out = backup(dir.path(), &dir.path().join("carnet.db"), &["--force"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("data directory"), "{}", out.stderr);
    assert_eq!(names_in(dir.path()), before);
}

#[test]
fn restore_refuses_while_carnetd_serves_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    d.create("/v1/vendors", &json!({"name": "Acme"}));
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("b.db");
    assert_eq!(backup(dir.path(), &file, &[]).code, 0);

    let out = restore(dir.path(), &file, &["--force"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("stop it first"), "{}", out.stderr);
    assert_eq!(d.list_all("/v1/vendors").len(), 1);
}

#[test]
fn restore_replaces_a_vault_and_drops_the_wal_of_the_old_database() {
    let dir = tempfile::tempdir().unwrap();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    d.create("/v1/vendors", &json!({"name": "Kept"}));
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("b.db");
    assert_eq!(backup(dir.path(), &file, &[]).code, 0);
    for n in 0..20 {
        d.create("/v1/vendors", &json!({"name": format!("Later {n}")}));
    }
    // SIGKILL leaves the later writes in the WAL: replayed onto the backup, they would
    // corrupt it.
    d.kill();
    assert!(dir.path().join("carnet.db-wal").exists());

    let out = restore(dir.path(), &file, &[]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("--force"), "{}", out.stderr);
    let out = restore(dir.path(), &file, &["--force"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!dir.path().join("carnet.db-wal").exists());

    let d = Carnetd::start(dir.path(), &[]).unwrap();
    let vendors = d.list_all("/v1/vendors");
    assert_eq!(vendors.len(), 1, "{vendors:?}");
    assert_eq!(vendors[0]["name"], "Kept");
}

#[test]
fn restore_refuses_a_backup_of_another_vault() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    assert_eq!(run_carnetd(a.path(), &["init"], None).code, 0);
    assert_eq!(run_carnetd(b.path(), &["init"], None).code, 0);
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("a.db");
    assert_eq!(backup(a.path(), &file, &[]).code, 0);
    let db_before = std::fs::read(b.path().join("carnet.db")).unwrap();

    let out = restore(b.path(), &file, &["--force"]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("another vault key"), "{}", out.stderr);
    assert_eq!(
        std::fs::read(b.path().join("carnet.db")).unwrap(),
        db_before
    );

    // And without the key files, it says which to bring.
    let empty = tempfile::tempdir().unwrap();
    let out = restore(empty.path(), &file, &[]);
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("vault.key.age"), "{}", out.stderr);
}

const PASSPHRASE_A: &str = "the passphrase of vault A";
const PASSPHRASE_B: &str = "the passphrase of vault B";

/// Two passphrase vaults, A and B, and a backup of A (each vault opened once, so that its
/// generation and row MACs are those of a vault in use).
fn two_passphrase_vaults() -> (tempfile::TempDir, tempfile::TempDir, tempfile::TempDir) {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for (dir, passphrase) in [(&a, PASSPHRASE_A), (&b, PASSPHRASE_B)] {
        let init = run_carnetd(
            dir.path(),
            &["init", "--passphrase-file", "-"],
            Some(&format!("{passphrase}\n")),
        );
        assert_eq!(init.code, 0, "{}", init.stderr);
    }
    let out_dir = tempfile::tempdir().unwrap();
    assert_eq!(backup(a.path(), &out_dir.path().join("a.db"), &[]).code, 0);
    (a, b, out_dir)
}

#[test]
fn restoring_a_passphrase_vault_over_another_vaults_key_files_is_refused_given_the_passphrase() {
    let (_a, b, out_dir) = two_passphrase_vaults();
    let file = out_dir.path().join("a.db");
    let db_before = std::fs::read(b.path().join("carnet.db")).unwrap();
    let mut args = vec!["restore", "--from", file.to_str().unwrap(), "--force"];
    args.extend(["--passphrase-file", "-"]);
    let out = run_carnetd(b.path(), &args, Some(&format!("{PASSPHRASE_B}\n")));
    assert_ne!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("another vault key"), "{}", out.stderr);
    assert!(out.stderr.contains("vault.key.age"), "{}", out.stderr);
    assert_eq!(
        std::fs::read(b.path().join("carnet.db")).unwrap(),
        db_before,
        "nothing was put in place"
    );
}

#[test]
fn without_the_passphrase_restore_says_the_key_is_unchecked_and_unlock_names_the_mismatch() {
    let (_a, b, out_dir) = two_passphrase_vaults();
    let file = out_dir.path().join("a.db");
    let out = restore(b.path(), &file, &["--force"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("NOT checked"), "{}", out.stderr);
    assert!(out.stderr.contains("--passphrase-file"), "{}", out.stderr);

    // B's passphrase opens B's vault.key.age, which does not open A's database: the owner is
    // told so (409, with what to do), never a bare 500.
    let d = Carnetd::start(b.path(), &[]).unwrap();
    let home = tempfile::tempdir().unwrap();
    let unlock = carnet_tests::run_carnet_env(
        home.path(),
        &[("CARNET_SERVER", &d.base)],
        &["unlock", "--passphrase-file", "-"],
        Some(&format!("{PASSPHRASE_B}\n")),
    );
    assert_eq!(unlock.code, 1, "{}", unlock.stderr);
    assert!(
        unlock.stderr.contains("another vault key"),
        "{}",
        unlock.stderr
    );
    assert!(unlock.stderr.contains("hint:"), "{}", unlock.stderr);
    assert!(unlock.stderr.contains("vault.key.age"), "{}", unlock.stderr);
    assert!(
        !unlock.stderr.contains("could not complete"),
        "{}",
        unlock.stderr
    );
    assert_eq!(d.get("/healthz").json()["status"], "sealed");
}

#[test]
fn a_backup_carries_documents_and_they_open_after_restore() {
    let dir = tempfile::tempdir().unwrap();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    let vendor = d.create("/v1/vendors", &json!({"name": "Acme"}));
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let r = carnet_tests::http()
        .post(d.url(&format!("/v1/documents?vendor={vendor}")))
        .bearer_auth(d.token())
        .body(data.clone())
        .send()
        .unwrap();
    assert_eq!(r.status(), 201);
    let id = r.json::<serde_json::Value>().unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let out_dir = tempfile::tempdir().unwrap();
    let file = out_dir.path().join("carnet-backup.db");
    let out = backup(dir.path(), &file, &[]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    let restored = with_key_files_of(dir.path());
    assert_eq!(restore(restored.path(), &file, &[]).code, 0);
    let d2 = Carnetd::start(restored.path(), &[]).unwrap();
    let got = carnet_tests::http()
        .get(d2.url(&format!("/v1/documents/{id}/content")))
        .bearer_auth(d2.token())
        .send()
        .unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().unwrap().as_ref(), &data[..]);
}
