//! The access log's check runs in the background and is kept; retention prunes old entries
//! behind a sealed checkpoint. Tried as the owner and as someone editing carnet.db: the stored
//! result answers at once, a fresh check finds tampering done while carnetd runs, pruning
//! removes only what is older than the retention, and what remains still proves itself.

use carnet_tests::vendor::VendorApp;
use carnet_tests::{Api, TestServer};
use chrono::Duration;
use serde_json::Value;
use tempfile::TempDir;

fn prune(s: &TestServer) -> u64 {
    let state = s.state();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(carnet_core::tasks::prune_access_log(&state))
}

fn entries(s: &TestServer) -> Vec<Value> {
    s.get("/v1/access-log?limit=1000").json()["items"]
        .as_array()
        .unwrap()
        .clone()
}

fn tamper(dir: &std::path::Path, sql: &str) {
    let db = rusqlite::Connection::open(dir.join("carnet.db")).unwrap();
    let changed = db.execute(sql, []).unwrap();
    assert!(changed > 0, "{sql} changed nothing");
}

#[test]
fn the_stored_result_answers_at_once_and_a_fresh_check_finds_tampering_done_while_running() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["intents:read"], None);
    let t = v.token();
    for _ in 0..4 {
        assert_eq!(v.get(&t, "/v1/vendor/intents").status, 200);
    }
    let first = s.check_access_log();
    assert_eq!(first["ok"], true, "{first}");
    assert!(first["checked_at"].is_string(), "{first}");
    assert!(first["duration_ms"].is_u64(), "{first}");
    assert_eq!(first["in_progress"], false, "{first}");

    // Edited behind carnetd's back while it runs.
    tamper(
        s.path(),
        "UPDATE access_log SET at = at + 1000 WHERE seq = 2",
    );
    // A plain GET answers from the last check: nothing was checked since.
    let stored = s.get("/v1/access-log/verify").json();
    assert_eq!(stored, first, "the GET answers from the stored result");

    // `carnet audit verify` asks for a fresh check and waits for it.
    let out = s.carnet(&["audit", "verify"]);
    assert_eq!(
        out.code, 6,
        "stdout: {}\nstderr: {}",
        out.stdout, out.stderr
    );
    assert!(out.stderr.contains("entry 2"), "{}", out.stderr);
    let now = s.get("/v1/access-log/verify").json();
    assert_eq!(now["ok"], false, "{now}");
    assert_eq!(now["first_bad"]["seq"], 2, "{now}");
}

/// A vault with entries made 380 days ago and some made 350 days ago, pruned at the default
/// retention (365 days). Returns the server, the number pruned and the number kept.
fn pruned_vault() -> (TestServer, u64, u64) {
    let s = TestServer::spawn_with_manual_clock();
    let v = VendorApp::connect(&s, "Acme");
    s.create(
        "/v1/grants",
        &serde_json::json!({"vendor_id": v.vendor_id, "scopes": ["intents:read"],
            "all_categories": true, "days": 365}),
    );
    let t = v.token();
    for _ in 0..3 {
        assert_eq!(v.get(&t, "/v1/vendor/intents").status, 200);
    }
    // A month later (the owner's read closes the compaction run of the repeated reads).
    s.clock.advance(Duration::days(30));
    let old = entries(&s);
    let cut = old[0]["at"].as_str().unwrap().to_owned();
    let t = v.token();
    for _ in 0..2 {
        assert_eq!(v.get(&t, "/v1/vendor/intents").status, 200);
    }
    let all = entries(&s).len() as u64;
    assert_eq!(prune(&s), 0, "nothing is older than 365 days yet");
    assert_eq!(entries(&s).len() as u64, all);

    s.clock.advance(Duration::days(350));
    let all = entries(&s).len() as u64;
    let pruned = prune(&s);
    assert_eq!(
        pruned,
        old.len() as u64,
        "exactly the entries older than 365 days"
    );
    let left = entries(&s);
    assert_eq!(left.len() as u64, all - pruned);
    assert!(
        left.iter()
            .all(|e| e["at"].as_str().unwrap() > cut.as_str()),
        "only newer entries are left: {left:?}"
    );
    assert_eq!(prune(&s), 0, "pruning again removes nothing");
    (s, pruned, all - pruned)
}

#[test]
fn retention_prunes_only_older_entries_and_the_rest_still_verifies() {
    let (s, pruned, kept) = pruned_vault();
    let v = s.check_access_log();
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["entries"], kept, "{v}");
    assert_eq!(v["pruned"]["entries"], pruned, "{v}");
    assert_eq!(v["pruned"]["last_seq"], pruned, "{v}");
    let out = s.carnet(&["audit", "verify"]);
    out.ok();
    assert!(
        out.stderr
            .contains(&format!("{pruned} older entries were pruned")),
        "{}",
        out.stderr
    );
    // New entries chain on after pruning.
    let v2 = VendorApp::connect(&s, "Other");
    v2.grant(&s, &["intents:read"], None);
    assert_eq!(v2.get(&v2.token(), "/v1/vendor/intents").status, 200);
    assert_eq!(s.check_access_log()["ok"], true);
}

fn restarted_after(s: TestServer, sql: &str) -> TestServer {
    let dir: TempDir = s.stop();
    tamper(dir.path(), sql);
    TestServer::restart_in(dir)
}

#[test]
fn an_entry_deleted_after_pruning_is_found() {
    let (s, pruned, _) = pruned_vault();
    let first = pruned + 1;
    let s = restarted_after(s, &format!("DELETE FROM access_log WHERE seq = {first}"));
    let v = s.check_access_log();
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["first_bad"]["seq"], first, "{v}");
    assert_eq!(s.carnet(&["audit", "verify"]).code, 6);
}

#[test]
fn an_entry_edited_after_pruning_is_found() {
    let (s, pruned, _) = pruned_vault();
    let second = pruned + 2;
    let s = restarted_after(
        s,
        &format!("UPDATE access_log SET at = at + 1 WHERE seq = {second}"),
    );
    let v = s.check_access_log();
    assert_eq!(v["first_bad"]["seq"], second, "{v}");
}

#[test]
fn a_cut_tail_after_pruning_is_found() {
    let (s, pruned, kept) = pruned_vault();
    let last = pruned + kept;
    let s = restarted_after(s, &format!("DELETE FROM access_log WHERE seq = {last}"));
    let v = s.check_access_log();
    assert_eq!(v["ok"], false, "{v}");
    assert!(
        v["first_bad"]["reason"]
            .as_str()
            .unwrap()
            .contains("the last ones were removed"),
        "{v}"
    );
}

#[test]
fn a_removed_checkpoint_is_found() {
    let (s, pruned, _) = pruned_vault();
    let s = restarted_after(s, "DELETE FROM meta WHERE key = 'access_log_checkpoint'");
    let v = s.check_access_log();
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["first_bad"]["seq"], 1, "{v}");
    assert!(
        v["first_bad"]["reason"]
            .as_str()
            .unwrap()
            .contains(&format!("the next one is {}", pruned + 1)),
        "{v}"
    );
}

#[test]
fn an_altered_checkpoint_is_found() {
    let (s, _, _) = pruned_vault();
    let s = restarted_after(
        s,
        "UPDATE meta SET value = CAST(substr(value, 1, length(value) - 1) || x'00' AS BLOB) WHERE key = 'access_log_checkpoint'",
    );
    let v = s.check_access_log();
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(s.carnet(&["audit", "verify"]).code, 6);
}

#[test]
fn a_deleted_pruned_stretch_is_not_hidden_by_an_older_checkpoint() {
    // Someone deletes more entries than were pruned: the checkpoint does not cover them.
    let (s, pruned, _) = pruned_vault();
    let s = restarted_after(
        s,
        &format!("DELETE FROM access_log WHERE seq <= {}", pruned + 1),
    );
    let v = s.check_access_log();
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(v["first_bad"]["seq"], pruned + 1, "{v}");
}

#[test]
fn zero_retention_keeps_everything() {
    let s = TestServer::spawn_with_settings_and_manual_clock(carnet_server::Settings {
        access_log_retention_days: 0,
        ..Default::default()
    });
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["intents:read"], None);
    assert_eq!(v.get(&v.token(), "/v1/vendor/intents").status, 200);
    let all = entries(&s).len();
    s.clock.advance(Duration::days(3650));
    assert_eq!(prune(&s), 0);
    assert_eq!(entries(&s).len(), all);
}

/// Exports `s` to an age file under `dir` and returns the file and its key file.
fn export_to(s: &TestServer, dir: &std::path::Path) -> (String, String, Vec<u8>) {
    use age::secrecy::ExposeSecret;
    let identity = age::x25519::Identity::generate();
    let key = dir.join("key.txt");
    std::fs::write(&key, format!("{}\n", identity.to_string().expose_secret())).unwrap();
    let out = dir.join("vault.age");
    s.carnet(&[
        "export",
        "--out",
        out.to_str().unwrap(),
        "--recipient",
        &identity.to_public().to_string(),
    ])
    .ok();
    let mut plain = Vec::new();
    std::io::Read::read_to_end(
        &mut age::Decryptor::new(std::fs::read(&out).unwrap().as_slice())
            .unwrap()
            .decrypt(std::iter::once(&identity as &dyn age::Identity))
            .unwrap(),
        &mut plain,
    )
    .unwrap();
    (
        out.to_str().unwrap().to_owned(),
        key.to_str().unwrap().to_owned(),
        plain,
    )
}

#[test]
fn an_export_and_import_keep_the_checkpoint_and_the_log_verifies() {
    let (a, pruned, kept) = pruned_vault();
    let before = a.check_access_log();
    let dir = tempfile::tempdir().unwrap();
    let (file, key, plain) = export_to(&a, dir.path());
    let doc: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(doc["version"], 5);
    assert_eq!(
        doc["access_log_checkpoint"]["entries"], pruned,
        "{}",
        doc["access_log_checkpoint"]
    );
    assert_eq!(doc["access_log_checkpoint"], before["pruned"]);

    let b = TestServer::spawn();
    b.carnet(&["import", &file, "--identity", &key]).ok();
    let after = b.check_access_log();
    assert_eq!(after["ok"], true, "{after}");
    assert_eq!(after["entries"], kept, "{after}");
    assert_eq!(after["pruned"], before["pruned"], "{after}");
    // The moved log goes on: a new access chains after it, and it still verifies.
    let out = b.carnet(&["audit", "verify"]);
    out.ok();
    assert!(out.stderr.contains("pruned"), "{}", out.stderr);
    // And the imported checkpoint is as tamper-evident as one made here.
    let b = restarted_after(b, "DELETE FROM meta WHERE key = 'access_log_checkpoint'");
    assert_eq!(b.check_access_log()["ok"], false);
}

/// Appends an entry sealed as JSON, the way entries were written before the compact form.
fn append_old_format_entry(s: &TestServer) {
    use carnet_core::access::chain;
    use carnet_core::access::log::{AccessRecord, Withheld};
    use carnet_core::store::access::{AccessRow, append_access};
    let state = s.state();
    let keys = state.keys.clone();
    let vendor = s.get("/v1/vendors").json()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let client = s.get("/v1/clients").json()[0]["client_id"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| "cli_0000000000000000".into());
    let at = s.clock_now();
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(state.store.write(move |c| {
            let mut head = chain::head_for_append(c, &keys)?;
            let id = format!("{:016}", head.last_seq + 1);
            let record = AccessRecord {
                grant_id: None,
                endpoint: "GET /v1/vendor/profile".into(),
                scope: "profile:read".into(),
                ids: vec!["old-format".into()],
                status: 200,
                withheld: Withheld::new(),
                repeats: None,
            };
            let mut row = AccessRow {
                seq: 0,
                sealed: keys.seal().seal(&id, &record),
                id,
                at,
                vendor_id: vendor,
                client_id: client,
                mac: Vec::new(),
            };
            chain::link(&keys, &mut head, &mut row);
            append_access(c, &row)?;
            chain::save_head(c, &keys, &head)
        }))
        .unwrap();
}

#[test]
fn an_old_format_entry_still_reads_verifies_and_moves() {
    let s = TestServer::spawn();
    let v = VendorApp::connect(&s, "Acme");
    v.grant(&s, &["intents:read", "profile:read"], None);
    assert_eq!(v.get(&v.token(), "/v1/vendor/intents").status, 200);
    append_old_format_entry(&s);
    assert_eq!(v.get(&v.token(), "/v1/vendor/profile").status, 200);
    let listed = entries(&s);
    assert!(
        listed.iter().any(|e| e["ids"][0] == "old-format"),
        "the JSON entry is listed: {listed:?}"
    );
    assert!(
        listed
            .iter()
            .any(|e| e["endpoint"] == "GET /v1/vendor/intents")
    );
    let checked = s.check_access_log();
    assert_eq!(checked["ok"], true, "{checked}");
    assert_eq!(checked["entries"], listed.len(), "{checked}");

    let dir = tempfile::tempdir().unwrap();
    let (file, key, _) = export_to(&s, dir.path());
    let b = TestServer::spawn();
    b.carnet(&["import", &file, "--identity", &key]).ok();
    let strip = |items: Vec<Value>| -> Vec<Value> {
        items
            .into_iter()
            .map(|mut e| {
                e.as_object_mut().unwrap().remove("seq");
                e
            })
            .collect()
    };
    assert_eq!(strip(entries(&b)), strip(listed));
    assert_eq!(b.check_access_log()["ok"], true);
}

/// A manual-clock server with a vendor granted intents and profile for a year.
fn polled() -> (TestServer, VendorApp) {
    let s = TestServer::spawn_with_manual_clock();
    let v = VendorApp::connect(&s, "Acme");
    s.create(
        "/v1/grants",
        &serde_json::json!({"vendor_id": v.vendor_id, "scopes": ["intents:read", "profile:read"],
            "all_categories": true, "days": 365}),
    );
    (s, v)
}

/// The entries of vendor reads (not token issuance), oldest first.
fn reads(s: &TestServer) -> Vec<Value> {
    let mut r: Vec<Value> = entries(s)
        .into_iter()
        .filter(|e| e["endpoint"].as_str().unwrap().starts_with("GET "))
        .collect();
    r.reverse();
    r
}

#[test]
fn compaction_counts_exactly_n_identical_reads_then_starts_a_new_entry_after_the_window() {
    let (s, v) = polled();
    let t = v.token();
    let start = s.clock_now();
    for _ in 0..7 {
        assert_eq!(v.get(&t, "/v1/vendor/intents").status, 200);
        s.clock.advance(Duration::seconds(60));
    }
    // Within the window: the first read only (the run is open).
    let open = reads(&s);
    assert_eq!(open.len(), 1, "{open:?}");
    assert!(open[0]["repeats"].is_null());
    // The window passes: the owner's read closes the run.
    s.clock
        .set(start + Duration::hours(1) + Duration::seconds(1));
    let closed = reads(&s);
    assert_eq!(closed.len(), 2, "{closed:?}");
    let rep = &closed[1]["repeats"];
    assert_eq!(rep["count"], 6, "{rep}");
    assert_eq!(rep["first_seq"], closed[0]["seq"], "{rep}");
    assert_eq!(
        rep["from"].as_str().unwrap(),
        (start + Duration::seconds(60)).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );
    assert_eq!(
        closed[1]["at"].as_str().unwrap(),
        (start + Duration::seconds(360)).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );
    assert_eq!(closed[1]["ids"], closed[0]["ids"]);
    assert_eq!(closed[1]["endpoint"], "GET /v1/vendor/intents");
    // After the window, the same read is a new entry.
    let t = v.token();
    assert_eq!(v.get(&t, "/v1/vendor/intents").status, 200);
    let after = reads(&s);
    assert_eq!(after.len(), 3, "{after:?}");
    assert!(after[2]["repeats"].is_null());
    // The listing says it, and the log still verifies.
    let out = s.carnet(&["audit"]);
    out.ok();
    assert!(out.stdout.contains("×6 more"), "{}", out.stdout);
    assert_eq!(s.check_access_log()["ok"], true);
}

#[test]
fn any_difference_starts_a_new_entry() {
    let (s, v) = polled();
    let t = v.token();
    for path in [
        "/v1/vendor/intents",
        "/v1/vendor/profile",
        "/v1/vendor/intents",
        "/v1/vendor/intents?limit=1",
        "/v1/vendor/profile",
    ] {
        assert_eq!(v.get(&t, path).status, 200);
    }
    // A refused read (another status) is not the same either.
    assert_eq!(v.get(&t, "/v1/vendor/interactions").status, 403);
    s.clock.advance(Duration::hours(2));
    let r = reads(&s);
    let shape: Vec<(String, Option<u64>)> = r
        .iter()
        .map(|e| {
            (
                e["endpoint"].as_str().unwrap().to_owned(),
                e["repeats"]["count"].as_u64(),
            )
        })
        .collect();
    // intents (first), profile (first), the interactions refusal, then the two runs closed.
    assert_eq!(
        shape.iter().filter(|(_, c)| c.is_none()).count(),
        3,
        "{shape:?}"
    );
    let counts: Vec<u64> = shape.iter().filter_map(|(_, c)| *c).collect();
    assert_eq!(counts.iter().sum::<u64>(), 3, "{shape:?}");
}

#[test]
fn a_run_survives_a_restart_with_its_count() {
    let (s, v) = polled();
    let t = v.token();
    for _ in 0..4 {
        assert_eq!(v.get(&t, "/v1/vendor/profile").status, 200);
    }
    // Stopped with the run open: its count is in the sealed head.
    let dir = s.stop();
    let s = TestServer::restart_in_with_manual_clock(dir);
    s.clock.advance(Duration::hours(2));
    let r = reads(&s);
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(r[1]["repeats"]["count"], 3);
    assert_eq!(s.check_access_log()["ok"], true);
}

/// A stopped vault whose log closes a run of 5 identical reads; the closing entry's position.
fn compacted() -> (TempDir, u64) {
    let (s, v) = polled();
    let t = v.token();
    for _ in 0..5 {
        assert_eq!(v.get(&t, "/v1/vendor/profile").status, 200);
    }
    s.clock.advance(Duration::hours(2));
    let r = reads(&s);
    assert_eq!(r[1]["repeats"]["count"], 4);
    assert_eq!(s.check_access_log()["ok"], true);
    (s.stop(), r[1]["seq"].as_u64().unwrap())
}

#[test]
fn a_compacted_entry_edited_is_found() {
    let (dir, closing) = compacted();
    tamper(
        dir.path(),
        &format!("UPDATE access_log SET blob = CAST(blob || x'00' AS BLOB) WHERE seq = {closing}"),
    );
    let s = TestServer::restart_in(dir);
    let v = s.check_access_log();
    assert_eq!(v["first_bad"]["seq"], closing, "{v}");
}

#[test]
fn a_compacted_entry_deleted_is_found() {
    let (dir, closing) = compacted();
    tamper(
        dir.path(),
        &format!("DELETE FROM access_log WHERE seq = {closing}"),
    );
    let s = TestServer::restart_in(dir);
    let v = s.check_access_log();
    assert_eq!(v["ok"], false, "{v}");
    assert_eq!(s.carnet(&["audit", "verify"]).code, 6);
}
