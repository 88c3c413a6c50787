//! Rollback detection: carnet.db put back alone (an older copy, or a backup) is behind
//! `vault.generation` and carnetd refuses it, naming both generations; a database ahead of the
//! file (a crash between the two writes) is accepted; a missing file is recreated with a
//! warning; a file edited without the key is refused; `carnetd restore` sets the file.

use std::path::Path;

use carnet_tests::{Api, Carnetd, Resp, http, run_carnetd};
use serde_json::json;

const GENERATION: &str = "vault.generation";
const PASSPHRASE: &str = "correct horse battery staple";

/// carnet.db and any WAL beside it, as they are on disk (carnetd stopped).
struct DbCopy(Vec<(&'static str, Vec<u8>)>);

impl DbCopy {
    fn take(dir: &Path) -> DbCopy {
        DbCopy(
            ["carnet.db", "carnet.db-wal"]
                .into_iter()
                .filter_map(|n| std::fs::read(dir.join(n)).ok().map(|b| (n, b)))
                .collect(),
        )
    }

    /// Puts this copy back in place of the database, alone: the key files and
    /// `vault.generation` stay as they are.
    fn put_back(&self, dir: &Path) {
        for side in ["carnet.db-wal", "carnet.db-shm"] {
            let _ = std::fs::remove_file(dir.join(side));
        }
        for (name, bytes) in &self.0 {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
    }
}

/// The generation `vault.generation` says (its MAC unchecked).
fn file_generation(dir: &Path) -> u64 {
    let text = std::fs::read_to_string(dir.join(GENERATION)).unwrap();
    let mut words = text.split(' ');
    assert_eq!(words.next(), Some("carnet-generation"), "{text}");
    assert_eq!(words.next(), Some("v1"), "{text}");
    words.next().unwrap().parse().unwrap()
}

/// Starts carnetd, stops it cleanly (SIGTERM), and returns its log.
fn start_and_stop(dir: &Path) -> String {
    let d = Carnetd::start(dir, &[]).unwrap();
    let (status, log) = d.terminate();
    assert!(status.success(), "{log}");
    log
}

#[track_caller]
fn refused(dir: &Path, expect: &[&str]) -> String {
    match Carnetd::start(dir, &[]) {
        Ok(d) => panic!("carnetd started but should have refused:\n{}", d.kill()),
        Err(log) => {
            assert!(log.contains("exit status: 1"), "{log}");
            for e in expect {
                assert!(log.contains(e), "expected {e:?} in:\n{log}");
            }
            assert!(!log.contains("panicked"), "{log}");
            log
        }
    }
}

/// Whether carnetd logged a warning containing `needle`.
fn warned(log: &str, needle: &str) -> bool {
    log.lines()
        .any(|l| l.contains("\"level\":\"WARN\"") && l.contains(needle))
}

#[test]
fn an_older_database_put_back_alone_is_refused_naming_both_generations() {
    let dir = tempfile::tempdir().unwrap();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    d.create("/v1/vendors", &json!({"name": "Acme"}));
    assert!(d.terminate().0.success());
    let old = DbCopy::take(dir.path());
    assert_eq!(file_generation(dir.path()), 2, "made at 1, started at 2");

    // Each start advances the generation; the newer database holds a vendor the old lacks.
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    d.create("/v1/vendors", &json!({"name": "Later"}));
    assert!(d.terminate().0.success());
    start_and_stop(dir.path());
    assert_eq!(file_generation(dir.path()), 4);

    old.put_back(dir.path());
    refused(
        dir.path(),
        &[
            "carnet.db is at generation 2",
            "vault.generation at generation 4",
            "carnetd restore --from",
        ],
    );
    // A refused start changes nothing, however often it is tried.
    refused(dir.path(), &["generation 2", "generation 4"]);
    assert_eq!(file_generation(dir.path()), 4);

    // The message's other way out: deleting the file serves the older database deliberately.
    std::fs::remove_file(dir.path().join(GENERATION)).unwrap();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    assert!(
        warned(&d.log(), "vault.generation is missing"),
        "{}",
        d.log()
    );
    let names: Vec<_> = d
        .list_all("/v1/vendors")
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["Acme"]);
    assert_eq!(file_generation(dir.path()), 3);
}

#[test]
fn lowering_the_file_to_match_an_older_database_is_refused_without_the_key() {
    let dir = tempfile::tempdir().unwrap();
    start_and_stop(dir.path());
    let old = DbCopy::take(dir.path());
    let old_file = std::fs::read_to_string(dir.path().join(GENERATION)).unwrap();
    start_and_stop(dir.path());
    start_and_stop(dir.path());
    let newer_file = std::fs::read_to_string(dir.path().join(GENERATION)).unwrap();

    // The attacker puts the old database back and edits the file's number down to it,
    // keeping the newer file's MAC (the only one it has besides the old file's).
    old.put_back(dir.path());
    let forged = newer_file.replacen(" 4 ", " 2 ", 1);
    assert_ne!(forged, newer_file);
    std::fs::write(dir.path().join(GENERATION), &forged).unwrap();
    refused(
        dir.path(),
        &["vault.generation is not a generation record made with this vault's key"],
    );
    // Or a number raised, to make the database look ahead: the same.
    std::fs::write(
        dir.path().join(GENERATION),
        newer_file.replacen(" 4 ", " 99 ", 1),
    )
    .unwrap();
    refused(
        dir.path(),
        &["not a generation record made with this vault's key"],
    );
    // The old file itself is a genuine record, and matches the old database: that is both
    // files put back together, which this cannot see (the README says so).
    std::fs::write(dir.path().join(GENERATION), old_file).unwrap();
    start_and_stop(dir.path());
}

#[test]
fn a_database_ahead_of_the_file_is_accepted_and_the_file_catches_up() {
    let dir = tempfile::tempdir().unwrap();
    start_and_stop(dir.path());
    let behind = std::fs::read(dir.path().join(GENERATION)).unwrap();
    start_and_stop(dir.path());
    assert_eq!(file_generation(dir.path()), 3);
    // What a crash between writing the database and writing the file leaves.
    std::fs::write(dir.path().join(GENERATION), behind).unwrap();
    assert_eq!(file_generation(dir.path()), 2);

    let log = start_and_stop(dir.path());
    assert!(log.contains("it catches up"), "{log}");
    assert_eq!(file_generation(dir.path()), 4);
}

#[test]
fn a_deleted_generation_file_is_recreated_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    start_and_stop(dir.path());
    std::fs::remove_file(dir.path().join(GENERATION)).unwrap();
    let log = start_and_stop(dir.path());
    assert!(warned(&log, "vault.generation is missing"), "{log}");
    assert_eq!(file_generation(dir.path()), 3);
    let mode = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(dir.path().join(GENERATION))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode, 0o600);
}

#[test]
fn a_vault_made_before_generations_starts_at_generation_one() {
    let dir = tempfile::tempdir().unwrap();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    d.create("/v1/vendors", &json!({"name": "Acme"}));
    assert!(d.terminate().0.success());
    // What an older carnetd left: no record in the database, no file.
    let db = rusqlite::Connection::open(dir.path().join("carnet.db")).unwrap();
    db.execute("DELETE FROM meta WHERE key LIKE 'generation%'", [])
        .unwrap();
    drop(db);
    std::fs::remove_file(dir.path().join(GENERATION)).unwrap();

    let d = Carnetd::start(dir.path(), &[]).unwrap();
    let log = d.log();
    assert!(log.contains("starting at generation 1"), "{log}");
    assert!(
        !warned(&log, "generation"),
        "silently, with an info line: {log}"
    );
    assert_eq!(d.list_all("/v1/vendors").len(), 1);
    assert_eq!(file_generation(dir.path()), 1);
}

#[test]
fn a_backup_put_back_alone_is_refused_and_carnetd_restore_puts_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    d.create("/v1/vendors", &json!({"name": "Acme"}));
    let out_dir = tempfile::tempdir().unwrap();
    let backup = out_dir.path().join("b.db");
    // Taken while carnetd serves: the backup advances the live vault past its snapshot.
    let out = run_carnetd(
        dir.path(),
        &["backup", "--out", backup.to_str().unwrap()],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("generation 3"), "{}", out.stderr);
    assert_eq!(file_generation(dir.path()), 3);
    d.create("/v1/vendors", &json!({"name": "Later"}));
    assert!(d.terminate().0.success());

    // Copied by hand over carnet.db, the backup is a rollback like any older copy.
    DbCopy(vec![("carnet.db", std::fs::read(&backup).unwrap())]).put_back(dir.path());
    refused(
        dir.path(),
        &["generation 2", "generation 3", "carnetd restore"],
    );

    let out = run_carnetd(
        dir.path(),
        &["restore", "--from", backup.to_str().unwrap(), "--force"],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(out.stderr.contains("generation 2"), "{}", out.stderr);
    assert_eq!(file_generation(dir.path()), 2);
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    assert_eq!(d.list_all("/v1/vendors").len(), 1);
    assert_eq!(file_generation(dir.path()), 3);
}

fn unlock(d: &Carnetd, body: serde_json::Value) -> Resp {
    Resp::from(http().post(d.url("/v1/unlock")).json(&body).send().unwrap())
}

#[test]
fn a_passphrase_vault_advances_at_unlock_and_refuses_to_unlock_a_rolled_back_database() {
    let dir = tempfile::tempdir().unwrap();
    let init = run_carnetd(
        dir.path(),
        &["init", "--passphrase-file", "-"],
        Some(&format!("{PASSPHRASE}\n")),
    );
    assert_eq!(init.code, 0, "{}", init.stderr);
    assert_eq!(file_generation(dir.path()), 1);
    // Started sealed, it has no key to advance with; unlocking does.
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    assert_eq!(file_generation(dir.path()), 1);
    assert_eq!(unlock(&d, json!({"passphrase": PASSPHRASE})).status, 200);
    assert_eq!(file_generation(dir.path()), 2);
    d.create("/v1/vendors", &json!({"name": "Acme"}));
    assert!(d.terminate().0.success());
    let old = DbCopy::take(dir.path());

    let d = Carnetd::start(dir.path(), &[]).unwrap();
    assert_eq!(unlock(&d, json!({"passphrase": PASSPHRASE})).status, 200);
    assert_eq!(file_generation(dir.path()), 3);
    assert!(d.terminate().0.success());

    old.put_back(dir.path());
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    let refused = unlock(&d, json!({"passphrase": PASSPHRASE}));
    let p = refused.problem(409);
    let detail = p["detail"].as_str().unwrap();
    for needle in ["generation 2", "generation 3", "carnetd restore"] {
        assert!(detail.contains(needle), "{needle}: {p}");
    }
    assert_eq!(d.get("/healthz").json()["status"], "sealed");
    d.get("/v1/vendors").problem(503);
    assert_eq!(file_generation(dir.path()), 3);
    // `carnet unlock` says why instead of "already unlocked".
    let pass = dir.path().join("pass.txt");
    std::fs::write(&pass, format!("{PASSPHRASE}\n")).unwrap();
    let cli = d.carnet(&["unlock", "--passphrase-file", pass.to_str().unwrap()]);
    assert_ne!(cli.code, 0, "{cli:?}");
    assert!(cli.stderr.contains("generation 2"), "{cli:?}");
    assert!(!cli.stderr.contains("already unlocked"), "{cli:?}");
    let log = d.kill();
    assert!(log.contains("unlock refused"), "{log}");
}

#[test]
fn a_backup_that_cannot_advance_the_generation_says_so() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run_carnetd(dir.path(), &["init"], None).code, 0);
    // A vault from before rollback detection, not opened since: no precomputed records.
    let db = rusqlite::Connection::open(dir.path().join("carnet.db")).unwrap();
    db.execute("DELETE FROM meta WHERE key LIKE 'generation%'", [])
        .unwrap();
    drop(db);
    std::fs::remove_file(dir.path().join(GENERATION)).unwrap();
    let out_dir = tempfile::tempdir().unwrap();
    let backup = out_dir.path().join("b.db");
    let out = run_carnetd(
        dir.path(),
        &["backup", "--out", backup.to_str().unwrap()],
        None,
    );
    assert_eq!(out.code, 0, "the backup itself is good: {}", out.stderr);
    assert!(
        out.stderr
            .contains("warning: the vault's generation did not advance")
            && out.stderr.contains("start or unlock carnetd"),
        "{}",
        out.stderr
    );
    assert!(backup.exists());
    assert!(!dir.path().join(GENERATION).exists());
}
