//! Sealed start: a passphrase vault starts with no key in memory and answers only what §4
//! lists until it is unlocked; every other call is 503 before any authentication.

use carnet_tests::{Api, Carnetd, Resp, TestServer, http, run_carnetd};
use serde_json::json;

const PASSPHRASE: &str = "correct horse battery staple";

/// A passphrase vault with one vendor in it, not running; returns its dir and recovery key.
fn passphrase_vault() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let out = run_carnetd(
        dir.path(),
        &["init", "--passphrase-file", "-"],
        Some(&format!("{PASSPHRASE}\n")),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let recovery = out.stdout.trim().to_owned();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    assert_eq!(unlock(&d, json!({"passphrase": PASSPHRASE})).status, 200);
    d.create("/v1/vendors", &json!({"name": "Acme"}));
    d.kill();
    (dir, recovery)
}

fn unlock(d: &Carnetd, body: serde_json::Value) -> Resp {
    Resp::from(http().post(d.url("/v1/unlock")).json(&body).send().unwrap())
}

#[test]
fn a_sealed_server_refuses_owner_and_vendor_calls_with_503_before_auth() {
    let (dir, _) = passphrase_vault();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    assert_eq!(d.get("/healthz").json()["status"], "sealed");
    let anonymous = Resp::from(http().get(d.url("/v1/vendors")).send().unwrap());
    let p = anonymous.problem(503);
    assert_eq!(p["title"], "vault sealed");
    assert!(p["hint"].as_str().unwrap().contains("carnet unlock"));
    assert!(anonymous.header("retry-after").is_some());
    assert!(
        anonymous.header("www-authenticate").is_none(),
        "refused before any auth check"
    );
    d.get("/v1/vendors").problem(503);
    d.get("/v1/search?q=acme").problem(503);
    Resp::from(
        http()
            .get(d.url("/v1/vendor/intents"))
            .bearer_auth("x")
            .send()
            .unwrap(),
    )
    .problem(503);
    Resp::from(
        http()
            .post(d.url("/oauth/token"))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .unwrap(),
    )
    .problem(503);
    Resp::from(http().get(d.url("/oauth/authorize")).send().unwrap()).problem(503);
    for open in [
        "/openapi.json",
        "/metrics",
        "/.well-known/oauth-authorization-server",
        "/.well-known/carnet-receipt-keys",
    ] {
        assert_eq!(
            Resp::from(http().get(d.url(open)).send().unwrap()).status,
            200,
            "{open}"
        );
    }
    let metrics = Resp::from(http().get(d.url("/metrics")).send().unwrap()).text;
    assert!(metrics.contains("carnet_sealed 1"), "{metrics}");
}

/// The back-off is judged on the server's clock, which here moves only when the test moves it.
#[test]
fn a_wrong_passphrase_leaves_it_sealed_and_is_slowed_down() {
    let (dir, _) = passphrase_vault();
    let s = TestServer::restart_in_with_manual_clock(dir);
    let unlock = |passphrase: &str| {
        Resp::from(
            http()
                .post(s.url("/v1/unlock"))
                .json(&json!({ "passphrase": passphrase }))
                .send()
                .unwrap(),
        )
    };
    unlock("not the passphrase").problem(401);
    let again = unlock(PASSPHRASE);
    again.problem(429);
    assert_eq!(
        again.header("retry-after"),
        Some("1"),
        "one failure, one second"
    );
    assert_eq!(s.get("/healthz").json()["status"], "sealed");
    s.get("/v1/vendors").problem(503);
    s.clock.advance(chrono::Duration::milliseconds(999));
    unlock(PASSPHRASE).problem(429);
    s.clock.advance(chrono::Duration::milliseconds(1));
    assert_eq!(unlock(PASSPHRASE).status, 200, "the second is up");
    assert_eq!(s.list_all("/v1/vendors")[0]["name"], "Acme");
}

#[test]
fn the_passphrase_unlocks_lock_seals_again_and_records_are_there() {
    let (dir, _) = passphrase_vault();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    assert_eq!(unlock(&d, json!({"passphrase": PASSPHRASE})).status, 200);
    assert_eq!(d.get("/healthz").json()["status"], "ok");
    assert_eq!(d.list_all("/v1/vendors")[0]["name"], "Acme");
    unlock(&d, json!({"passphrase": PASSPHRASE})).problem(409);
    assert_eq!(d.post("/v1/lock", &json!({})).status, 200);
    assert_eq!(d.get("/healthz").json()["status"], "sealed");
    d.get("/v1/vendors").problem(503);
    assert_eq!(unlock(&d, json!({"passphrase": PASSPHRASE})).status, 200);
    assert_eq!(d.list_all("/v1/vendors").len(), 1);
}

#[test]
fn the_recovery_key_opens_it() {
    let (dir, recovery) = passphrase_vault();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    assert_eq!(unlock(&d, json!({"recovery_key": recovery})).status, 200);
    assert_eq!(d.list_all("/v1/vendors")[0]["name"], "Acme");
}

/// `POST /v1/unlock {}` with the owner token, as `carnet unlock --identity` sends it.
fn unlock_as_owner(d: &Carnetd) -> Resp {
    Resp::from(
        http()
            .post(d.url("/v1/unlock"))
            .bearer_auth(d.token())
            .json(&json!({}))
            .send()
            .unwrap(),
    )
}

#[test]
fn an_identity_vault_can_be_locked_and_reopened_from_its_identity_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    d.create("/v1/vendors", &json!({"name": "Acme"}));
    assert_eq!(d.post("/v1/lock", &json!({})).status, 200);
    d.get("/v1/vendors").problem(503);
    assert_eq!(unlock_as_owner(&d).status, 200);
    assert_eq!(d.list_all("/v1/vendors")[0]["name"], "Acme");
    let locked = d.post("/v1/lock", &json!({}));
    assert_eq!(locked.json()["status"], "sealed");
    // The wrong kind of secret is said so, and costs no back-off.
    unlock(&d, json!({"passphrase": "an identity vault has none"})).problem(400);
    unlock(&d, json!({"recovery_key": "AGE-SECRET-KEY-1XYZ"})).problem(400);
    let out = d.carnet(&["unlock", "--identity"]);
    out.ok();
    assert_eq!(d.list_all("/v1/vendors")[0]["name"], "Acme");
}

/// The identity file that opens an identity vault is on the server: it proves nothing about
/// who asks. Without the owner token (or with a forged one, or one whose hash was slipped into
/// the database) the answer is 401, failures slow the address down, and the vault stays sealed.
#[test]
fn unlocking_a_locked_identity_vault_takes_the_owner_token() {
    let s = TestServer::spawn_with_manual_clock();
    s.create("/v1/vendors", &json!({"name": "Acme"}));
    assert_eq!(s.post("/v1/lock", &json!({})).status, 200);
    let attempt = |token: Option<&str>| {
        let mut req = http().post(s.url("/v1/unlock")).json(&json!({}));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        Resp::from(req.send().unwrap())
    };
    let sealed = |s: &TestServer| {
        s.get("/v1/vendors").problem(503);
        let h = Resp::from(http().get(s.url("/healthz")).send().unwrap());
        assert_eq!(h.json()["status"], "sealed");
    };

    let p = attempt(None).problem(401);
    assert!(p["detail"].as_str().unwrap().contains("owner token"), "{p}");
    sealed(&s);
    // Too soon after a failure: slowed down, not let in.
    attempt(Some(&s.token())).problem(429);
    sealed(&s);
    s.clock.advance(chrono::Duration::seconds(2));
    attempt(Some("not-the-owner-token")).problem(401);
    sealed(&s);
    // A hash slipped into the database has no MAC made with the vault key.
    let forged = "a-token-whose-hash-the-attacker-inserted";
    let hash = ring::digest::digest(&ring::digest::SHA256, forged.as_bytes());
    rusqlite::Connection::open(s.path().join("carnet.db"))
        .unwrap()
        .execute(
            "INSERT INTO owner_tokens (hash, created_at) VALUES (?1, 0)",
            [hash.as_ref()],
        )
        .unwrap();
    s.clock.advance(chrono::Duration::seconds(60));
    attempt(Some(forged)).problem(401);
    sealed(&s);

    s.clock.advance(chrono::Duration::seconds(60));
    assert_eq!(attempt(Some(&s.token())).status, 200);
    assert_eq!(s.list_all("/v1/vendors")[0]["name"], "Acme");
}

/// The owner token's row is MAC'd with the vault key: rotating it while carnetd is stopped
/// opens the key, so a passphrase vault needs its passphrase (or recovery key).
#[test]
fn rotating_the_owner_token_of_a_passphrase_vault_takes_its_passphrase() {
    let (dir, recovery) = passphrase_vault();
    let old = carnet_tests::read_token(dir.path());
    let refused = run_carnetd(dir.path(), &["owner-token", "rotate"], None);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("--passphrase-file"),
        "{}",
        refused.stderr
    );
    assert_eq!(carnet_tests::read_token(dir.path()), old);
    let wrong = run_carnetd(
        dir.path(),
        &["owner-token", "rotate", "--passphrase-file", "-"],
        Some("not the passphrase at all\n"),
    );
    assert_ne!(wrong.code, 0, "{}", wrong.stderr);
    let rotated = run_carnetd(
        dir.path(),
        &["owner-token", "rotate", "--passphrase-file", "-"],
        Some(&format!("{PASSPHRASE}\n")),
    );
    assert_eq!(rotated.code, 0, "{}", rotated.stderr);
    let new = carnet_tests::read_token(dir.path());
    assert_ne!(new, old);
    let key_file = dir.path().join("recovery.txt");
    std::fs::write(&key_file, format!("{recovery}\n")).unwrap();
    let by_recovery = run_carnetd(
        dir.path(),
        &[
            "owner-token",
            "rotate",
            "--recovery-key-file",
            key_file.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(by_recovery.code, 0, "{}", by_recovery.stderr);

    let d = Carnetd::start(dir.path(), &[]).unwrap();
    assert_eq!(unlock(&d, json!({"passphrase": PASSPHRASE})).status, 200);
    assert_eq!(d.list_all("/v1/vendors")[0]["name"], "Acme");
    let r = Resp::from(
        http()
            .get(d.url("/v1/vendors"))
            .bearer_auth(&old)
            .send()
            .unwrap(),
    );
    r.problem(401);
}

fn rekey(dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> carnet_tests::CliOutput {
    let mut all = vec!["rekey"];
    all.extend_from_slice(args);
    run_carnetd(dir, &all, stdin)
}

#[test]
fn rekey_changes_the_passphrase_and_the_mode_and_keeps_every_record_readable() {
    let (dir, recovery) = passphrase_vault();
    let old = dir.path().join("old.txt");
    let new = dir.path().join("new.txt");
    std::fs::write(&old, format!("{PASSPHRASE}\n")).unwrap();
    std::fs::write(&new, "an entirely new passphrase\n").unwrap();
    let db_before = std::fs::read(dir.path().join("carnet.db")).unwrap();
    let out = rekey(
        dir.path(),
        &[
            "--current-passphrase-file",
            old.to_str().unwrap(),
            "--passphrase-file",
            new.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        std::fs::read(dir.path().join("carnet.db")).unwrap(),
        db_before,
        "no record re-encrypted"
    );
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    unlock(&d, json!({"passphrase": PASSPHRASE})).problem(401);
    d.kill();
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    assert_eq!(
        unlock(&d, json!({"passphrase": "an entirely new passphrase"})).status,
        200
    );
    assert_eq!(d.list_all("/v1/vendors")[0]["name"], "Acme");
    d.kill();

    // The recovery key made at init still works, and can switch the vault to identity mode.
    let key_file = dir.path().join("recovery.txt");
    std::fs::write(&key_file, format!("# my recovery key\n{recovery}\n")).unwrap();
    let out = rekey(
        dir.path(),
        &[
            "--recovery-key-file",
            key_file.to_str().unwrap(),
            "--to-identity",
        ],
        None,
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    assert_eq!(
        d.get("/healthz").json()["status"],
        "ok",
        "starts unattended now"
    );
    assert_eq!(d.list_all("/v1/vendors")[0]["name"], "Acme");
    d.kill();

    // And back to a passphrase, which gives a new recovery key to a vault that has one already
    // only when asked.
    let out = rekey(
        dir.path(),
        &["--passphrase-file", "-", "--add-recovery"],
        Some("yet another passphrase\n"),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    let fresh = out.stdout.trim().to_owned();
    assert!(fresh.starts_with("AGE-SECRET-KEY-1") && fresh != recovery);
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    assert_eq!(d.get("/healthz").json()["status"], "sealed");
    unlock(&d, json!({"recovery_key": recovery})).problem(401);
}

#[test]
fn rekey_refuses_without_the_current_secret() {
    let (dir, _) = passphrase_vault();
    let out = rekey(dir.path(), &["--add-recovery"], None);
    assert_ne!(out.code, 0);
    assert!(
        out.stderr.contains("--current-passphrase-file"),
        "{}",
        out.stderr
    );
    let out = rekey(
        dir.path(),
        &["--current-passphrase-file", "-", "--add-recovery"],
        Some("wrong wrong wrong\n"),
    );
    assert_ne!(out.code, 0);
    assert!(out.stderr.contains("could not be opened"), "{}", out.stderr);
}

#[test]
fn rekey_refuses_while_carnetd_holds_the_vault_which_still_unlocks_as_before() {
    let (dir, _) = passphrase_vault();
    let key_file = dir.path().join("vault.key.age");
    let recovery_file = dir.path().join("vault.recovery.age");
    let (key_before, recovery_before) = (
        std::fs::read(&key_file).unwrap(),
        std::fs::read(&recovery_file).unwrap(),
    );
    let new = dir.path().join("new.txt");
    std::fs::write(&new, "an entirely new passphrase\n").unwrap();
    let change = [
        "--current-passphrase-file",
        "-",
        "--passphrase-file",
        new.to_str().unwrap(),
    ];
    let current = format!("{PASSPHRASE}\n");

    // Sealed (waiting for its passphrase), then unlocked: either way it holds the vault.
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    for step in ["sealed", "unlocked"] {
        for args in [
            &change[..],
            &["--current-passphrase-file", "-", "--to-identity"],
        ] {
            let out = rekey(dir.path(), args, Some(&current));
            assert_ne!(out.code, 0, "{step}: {}", out.stderr);
            assert!(out.stderr.contains("stop it first"), "{}", out.stderr);
            assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        }
        assert_eq!(std::fs::read(&key_file).unwrap(), key_before);
        assert_eq!(std::fs::read(&recovery_file).unwrap(), recovery_before);
        assert!(!dir.path().join("identity.txt").exists());
        if step == "sealed" {
            assert_eq!(unlock(&d, json!({"passphrase": PASSPHRASE})).status, 200);
        }
    }
    // Still the passphrase it started with, after a lock too.
    assert_eq!(d.post("/v1/lock", &json!({})).status, 200);
    assert_eq!(unlock(&d, json!({"passphrase": PASSPHRASE})).status, 200);
    assert!(d.terminate().0.success());
    // Stopped, the same rekey goes through.
    let out = rekey(dir.path(), &change, Some(&current));
    assert_eq!(out.code, 0, "{}", out.stderr);
}

#[test]
fn after_switching_to_identity_mode_the_old_recovery_key_no_longer_opens_the_vault() {
    let (dir, recovery) = passphrase_vault();
    let out = rekey(
        dir.path(),
        &["--current-passphrase-file", "-", "--to-identity"],
        Some(&format!("{PASSPHRASE}\n")),
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stderr
            .contains("old recovery key no longer opens the vault"),
        "{}",
        out.stderr
    );
    assert!(!dir.path().join("vault.recovery.age").exists());

    // Whoever kept the recovery key written down at init cannot take the vault back with it.
    let key_file = dir.path().join("recovery.txt");
    std::fs::write(&key_file, format!("{recovery}\n")).unwrap();
    let out = rekey(
        dir.path(),
        &[
            "--recovery-key-file",
            key_file.to_str().unwrap(),
            "--passphrase-file",
            "-",
        ],
        Some("the attacker's passphrase\n"),
    );
    assert_ne!(out.code, 0, "{}", out.stderr);
    // Nor unlock the running vault with it once the owner locks it.
    let d = Carnetd::start(dir.path(), &[]).unwrap();
    assert_eq!(d.list_all("/v1/vendors")[0]["name"], "Acme");
    assert_eq!(d.post("/v1/lock", &json!({})).status, 200);
    let refused = unlock(&d, json!({"recovery_key": recovery}));
    assert_ne!(refused.status, 200, "{}", refused.text);
    assert_eq!(d.get("/healthz").json()["status"], "sealed");
}
